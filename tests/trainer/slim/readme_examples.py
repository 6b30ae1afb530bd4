"""The TF-Slim library README's examples (../shared/seeds/tf-slim-library-README.md), copied
with only the import changed: ``import tensorflow.contrib.slim as slim`` became the line
below. tests/trainer/slim/test_readme_parity.py also runs this very file with tf_slim 1.1 as ``slim``
(that one line swapped) in graph mode, as the oracle. ``tf`` is TF1's namespace, which the
README's ``tf.truncated_normal_initializer`` needs.
"""
import tensorflow.compat.v1 as tf

from trainer import slim


def vgg16(inputs):
  with slim.arg_scope([slim.conv2d, slim.fully_connected],
                      activation_fn=tf.nn.relu,
                      weights_initializer=tf.truncated_normal_initializer(0.0, 0.01),
                      weights_regularizer=slim.l2_regularizer(0.0005)):
    net = slim.repeat(inputs, 2, slim.conv2d, 64, [3, 3], scope='conv1')
    net = slim.max_pool2d(net, [2, 2], scope='pool1')
    net = slim.repeat(net, 2, slim.conv2d, 128, [3, 3], scope='conv2')
    net = slim.max_pool2d(net, [2, 2], scope='pool2')
    net = slim.repeat(net, 3, slim.conv2d, 256, [3, 3], scope='conv3')
    net = slim.max_pool2d(net, [2, 2], scope='pool3')
    net = slim.repeat(net, 3, slim.conv2d, 512, [3, 3], scope='conv4')
    net = slim.max_pool2d(net, [2, 2], scope='pool4')
    net = slim.repeat(net, 3, slim.conv2d, 512, [3, 3], scope='conv5')
    net = slim.max_pool2d(net, [2, 2], scope='pool5')
    net = slim.fully_connected(net, 4096, scope='fc6')
    net = slim.dropout(net, 0.5, scope='dropout6')
    net = slim.fully_connected(net, 4096, scope='fc7')
    net = slim.dropout(net, 0.5, scope='dropout7')
    net = slim.fully_connected(net, 1000, activation_fn=None, scope='fc8')
  return net


def layer_and_scope_examples(inputs):
  """The README's layer, repeat, stack and nested arg_scope snippets, chained on one input."""
  net = slim.conv2d(inputs, 128, [3, 3], scope='conv1_1')
  net = slim.repeat(net, 3, slim.conv2d, 256, [3, 3], scope='conv3')
  net = slim.max_pool2d(net, [2, 2], scope='pool2')
  x = slim.stack(net, slim.conv2d, [(32, [3, 3]), (32, [1, 1]), (64, [3, 3]), (64, [1, 1])], scope='core')
  with slim.arg_scope([slim.conv2d], padding='SAME',
                      weights_initializer=tf.truncated_normal_initializer(stddev=0.01),
                      weights_regularizer=slim.l2_regularizer(0.0005)):
    net = slim.conv2d(x, 64, [11, 11], scope='conv1')
    net = slim.conv2d(net, 128, [11, 11], padding='VALID', scope='conv2')
    net = slim.conv2d(net, 256, [11, 11], scope='conv3')
  # The README's nested arg_scope, with its stride passed by keyword (see nested_arg_scope).
  with slim.arg_scope([slim.conv2d, slim.fully_connected],
                        activation_fn=tf.nn.relu,
                        weights_initializer=tf.truncated_normal_initializer(stddev=0.01),
                        weights_regularizer=slim.l2_regularizer(0.0005)):
    with slim.arg_scope([slim.conv2d], stride=1, padding='SAME'):
      net = slim.conv2d(net, 64, [11, 11], stride=4, padding='VALID', scope='conv4')
      net = slim.conv2d(net, 256, [5, 5],
                        weights_initializer=tf.truncated_normal_initializer(stddev=0.03),
                        scope='conv5')
      net = slim.fully_connected(net, 1000, activation_fn=None, scope='fc')
  x = slim.flatten(net)
  x = slim.stack(x, slim.fully_connected, [32, 64, 128], scope='fc')
  return x


def nested_arg_scope(inputs):
  """The README's nested arg_scope as printed: its positional stride 4 collides with the
  scope's stride=1, a TypeError in tf_slim 1.1 as here."""
  with slim.arg_scope([slim.conv2d, slim.fully_connected],
                        activation_fn=tf.nn.relu,
                        weights_initializer=tf.truncated_normal_initializer(stddev=0.01),
                        weights_regularizer=slim.l2_regularizer(0.0005)):
    with slim.arg_scope([slim.conv2d], stride=1, padding='SAME'):
      net = slim.conv2d(inputs, 64, [11, 11], 4, padding='VALID', scope='conv1')
      net = slim.conv2d(net, 256, [5, 5],
                        weights_initializer=tf.truncated_normal_initializer(stddev=0.03),
                        scope='conv2')
      net = slim.fully_connected(net, 1000, activation_fn=None, scope='fc')
  return net


def normalized_separable(inputs):
  """slim's normalizer, separable and default-scope behaviour (not a README snippet)."""
  with slim.arg_scope([slim.conv2d, slim.separable_conv2d], normalizer_fn=slim.batch_norm,
                      normalizer_params={'scale': True, 'decay': 0.9}):
    with slim.arg_scope([slim.batch_norm], is_training=False):
      net = slim.conv2d(inputs, 8, [3, 3])
      net = slim.conv2d(net, 8, [3, 3], stride=2)
      net = slim.separable_conv2d(net, 16, [3, 3], depth_multiplier=2, scope='sep')
      net = slim.separable_conv2d(net, None, [3, 3], rate=2)
      net = slim.batch_norm(net, center=False, scale=True, is_training=False, scope='postnorm')
  net = slim.avg_pool2d(net, [2, 2], stride=1, padding='SAME')
  net = slim.fully_connected(slim.flatten(net), 10, activation_fn=None,
                             weights_regularizer=slim.l2_regularizer(0.01),
                             biases_regularizer=slim.l2_regularizer(0.02))
  return net
