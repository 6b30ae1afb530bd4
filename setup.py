"""TF-Slim image classification as a TFX 1.16 pipeline (Python 3.10)."""
from setuptools import find_packages, setup

setup(
    name="tfslim-tfx",
    version="0.1.0",
    description="TF-Slim's image classification model library rebuilt for TF2 as a TFX pipeline",
    python_requires=">=3.9,<3.11",  # TFX 1.16.0 wheels require <3.11
    packages=find_packages(include=["pipeline", "pipeline.*", "components", "components.*",
                                    "trainer", "trainer.*", "schemas", "schemas.*",
                                    "serving", "serving.*", "cli", "cli.*", "report", "report.*"]),
    py_modules=["local_runner"],
    package_data={"schemas": ["*.pbtxt"], "trainer": ["model_catalog.json"], "trainer.nets": ["*.json"]},
    install_requires=[
        "tfx[kfp]==1.16.0",
        "tensorflow==2.16.2",
        "tf-keras==2.16.0",
        "Pillow",
        "scikit-learn",
        "tqdm",
        "absl-py",
        "matplotlib",  # the run report's figures
        "PyYAML",  # run configs (configs/*.yaml)
    ],
    extras_require={"test": ["pytest", "tf-slim==1.1.0"]},
    entry_points={"console_scripts": ["tfslim=cli:main"]},
)
