"""Image ingestion: dataset sources → slim-format tf.Examples in TFRecord shards, for
ImageExampleGen and `tfslim convert`.
"""
