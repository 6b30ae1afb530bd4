"""arg_scope semantics as tensorflow.contrib.framework's (pure Python, no TensorFlow ops)."""
import pytest

from trainer import slim


@slim.add_arg_scope
def op_a(x, a=0, b=0, c=0):
    return {"x": x, "a": a, "b": b, "c": c}


@slim.add_arg_scope
def op_b(x, a=0, b=0):
    return {"x": x, "a": a, "b": b}


def plain(x, a=0):
    return x + a


def test_innermost_wins_list_of_ops_and_explicit_beats_scope():
    with slim.arg_scope([op_a, op_b], a=1, b=1):
        with slim.arg_scope([op_a], a=2, c=3):
            assert op_a(0) == {"x": 0, "a": 2, "b": 1, "c": 3}
            assert op_b(0) == {"x": 0, "a": 1, "b": 1}
            assert op_a(0, a=9) == {"x": 0, "a": 9, "b": 1, "c": 3}
        assert op_a(0) == {"x": 0, "a": 1, "b": 1, "c": 0}
    assert op_a(0) == {"x": 0, "a": 0, "b": 0, "c": 0}
    assert slim.current_arg_scope() == {}


def test_reentering_a_captured_scope():
    with slim.arg_scope([op_a], a=5) as outer:
        with slim.arg_scope([op_b], b=6) as captured:
            pass
    assert op_a(0)["a"] == 0
    with slim.arg_scope(captured):
        assert op_a(0)["a"] == 5 and op_b(0)["b"] == 6
    with slim.arg_scope(outer):
        assert op_b(0)["b"] == 0


def test_errors_as_slim():
    with pytest.raises(ValueError, match="not decorated with @add_arg_scope"):
        with slim.arg_scope([plain], a=1):
            pass
    with pytest.raises(ValueError, match="kwargs must be empty"):
        with slim.arg_scope({}, a=1):
            pass
    with pytest.raises(TypeError, match="list/tuple or reused scope"):
        with slim.arg_scope(op_a, a=1):
            pass
    with slim.arg_scope([op_a], b=2), pytest.raises(TypeError, match="multiple values"):
        op_a(0, 1, 2)  # b positionally and from the scope, as slim


def test_layers_take_part():
    assert slim.has_arg_scope(slim.conv2d) and slim.has_arg_scope(slim.batch_norm)
    assert "weights_regularizer" in slim.arg_scoped_arguments(slim.fully_connected)
