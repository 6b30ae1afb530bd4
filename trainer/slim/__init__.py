"""TF-Slim's library API in TensorFlow 2: ``from trainer import slim``.

    with slim.arg_scope([slim.conv2d, slim.fully_connected], weights_regularizer=slim.l2_regularizer(5e-4)):
        net = slim.repeat(inputs, 2, slim.conv2d, 64, [3, 3], scope='conv1')   # conv1/conv1_1/weights

Layers take tf_keras symbolic tensors (``tf_keras.Input``) and build a functional model
whose variables carry slim's names; see docs/slim-api.md.
"""
from trainer.slim import losses
from trainer.slim.arg_scope import (add_arg_scope, arg_scope, arg_scope_func_key,
                                    arg_scoped_arguments, current_arg_scope, has_arg_scope)
from trainer.slim.layers import (avg_pool2d, batch_norm, conv2d, convolution2d, dropout, flatten,
                                 fully_connected, l2_regularizer, max_pool2d, one_hot_encoding,
                                 repeat, separable_conv2d, softmax, stack,
                                 xavier_initializer)
from trainer.slim.net import SlimFunctionNet, register_net
from trainer.slim.restore import (assign_from_checkpoint_fn, get_model_variables,
                                  get_variables_to_restore)
from trainer.slim.variables import (add_model_variable, get_variables, model_variable,
                                    name_store, variable)

__all__ = [
    "add_arg_scope", "add_model_variable", "arg_scope", "arg_scope_func_key",
    "arg_scoped_arguments", "assign_from_checkpoint_fn", "avg_pool2d", "batch_norm", "conv2d",
    "convolution2d", "current_arg_scope", "dropout", "flatten", "fully_connected",
    "get_model_variables", "get_variables", "get_variables_to_restore", "has_arg_scope",
    "l2_regularizer", "losses", "max_pool2d", "model_variable", "name_store",
    "one_hot_encoding", "register_net", "repeat", "separable_conv2d", "SlimFunctionNet", "softmax",
    "stack", "variable", "xavier_initializer",
]
