"""The net-aware checks shared by the run config and `tfslim train` name the key as each spells it."""
import pytest

from pipeline import train_checks
from pipeline.config_errors import ConfigError
from trainer.config import TrainConfig


@pytest.mark.parametrize("spelling, key", [(train_checks.RUN_CONFIG, "train.labels_offset"),
                                           (train_checks.FLAGS, "--labels_offset")])
def test_labels_offset_against_the_class_count(spelling, key):
    train_checks.check_labels_offset(TrainConfig(labels_offset=1), 1001, spelling)
    with pytest.raises(ConfigError, match=f"^{key}: 2 leaves 1 class\\(es\\) of 3; the model needs at least 2"):
        train_checks.check_labels_offset(TrainConfig(labels_offset=2), 3, spelling)


def test_input_size_below_the_nets_smallest():
    pytest.importorskip("tensorflow")
    config = TrainConfig(model_name="inception_v3", train_image_size=32)
    with pytest.raises(ConfigError, match=r"^--train_image_size: 32 is below inception_v3's smallest input "
                                          r"\d+; set --train_image_size >= \d+$"):
        train_checks.check_input_size(config, train_checks.FLAGS)
    with pytest.raises(ConfigError, match=r"^train.train_image_size: 32 is below"):
        train_checks.check_input_size(config)


def test_the_catalog_check_knows_every_preprocessing_of_the_registry():
    """check_net reads trainer/zoo/model_catalog.json (no TensorFlow); its preprocessing families are
    the preprocessing package's modules."""
    preprocessing = pytest.importorskip("trainer.preprocessing")
    for family in preprocessing.PREPROCESSING_MODULES:
        train_checks.check_net(TrainConfig(model_name="lenet", preprocessing_name=family))
