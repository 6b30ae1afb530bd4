"""Training library: TF-Slim's model zoo, preprocessing and training in TF2 (tf_keras)."""
import os

# TFT and TFMA use Keras 2 (tf_keras); a process that resolves tf.keras to Keras 3
# first breaks them. Every entry point imports this package, so pin it here too.
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
