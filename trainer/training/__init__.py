"""Training: the Keras classifier around a zoo net, slim's optimizers and schedules, tf.distribute,
fine-tuning, evaluation.
"""
