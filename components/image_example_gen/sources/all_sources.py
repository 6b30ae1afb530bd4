"""Imports every source module and registers it in ``sources.SOURCES``."""
from components.image_example_gen.sources import register
from components.image_example_gen.sources.cifar10 import Cifar10Source
from components.image_example_gen.sources.flowers import FlowersSource
from components.image_example_gen.sources.folder import FolderSource
from components.image_example_gen.sources.imagenet import ImagenetSource
from components.image_example_gen.sources.mnist import MnistSource
from components.image_example_gen.sources.tfrecord import TFRecordSource

for _cls in (FolderSource, FlowersSource, Cifar10Source, MnistSource, ImagenetSource, TFRecordSource):
    register(_cls)
