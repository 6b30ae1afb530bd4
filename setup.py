"""TF-Slim image classification as a TFX 1.16 pipeline (Python 3.10)."""
from setuptools import find_packages, setup

setup(
    name="tfslim-tfx",
    version="0.1.0",
    description="TF-Slim's image classification model library rebuilt for TF2 as a TFX pipeline",
    license="Apache-2.0",
    python_requires=">=3.9,<3.11",  # TFX 1.16.0 wheels require <3.11
    # The source packages, in import order (each imports only those after it): docs/architecture.md.
    packages=find_packages(include=["cli", "cli.*", "runners", "runners.*", "pipeline", "pipeline.*",
                                    "components", "components.*", "prediction", "prediction.*",
                                    "ingestion", "ingestion.*", "trainer", "trainer.*", "report", "report.*",
                                    "serving", "serving.*", "schemas", "schemas.*"]),
    py_modules=["local_runner"],
    package_data={"schemas": ["*.pbtxt"], "trainer.zoo": ["*.json"]},
    # Every third-party package the code imports by name, even where TFX brings it anyway:
    # requirements/constraints.txt and lock.txt pin the versions.
    install_requires=[
        "tfx[kfp]==1.16.0",
        "tensorflow==2.16.2",
        "tf-keras==2.16.0",
        "absl-py",
        "apache-beam",  # ImageExampleGen, tfslim convert's Beam path
        "google-crc32c",  # TFRecord framing without TensorFlow (tfslim convert)
        "grpcio",  # tfslim predict --server --protocol grpc
        "kfp",  # the Kubeflow compile, submit and step runners
        "matplotlib",  # the run report's figures
        "ml-metadata",  # the local runners' run summary
        "numpy",
        "Pillow",
        "protobuf",
        "pydantic>=2,<3",  # the run config and TrainConfig models
        "PyYAML",  # run configs (configs/*.yaml)
        "requests",  # tfslim predict --server over REST
        "tensorflow-metadata",
        "tensorflow-model-analysis",
        "tensorflow-serving-api",
        "tensorflow-transform",
        "tqdm",
    ],
    extras_require={
        # scikit-learn's 1,797 digits are the demo's data set; the pipeline image has no use for it.
        "demo": ["scikit-learn"],
        "test": ["pytest", "pytest-timeout", "pytest-xdist", "tf-slim==1.1.0", "psutil", "ruff"],
    },
    entry_points={"console_scripts": ["tfslim=cli:main"]},
)
