"""--batch_norm_decay reaches every batch-norm layer; the hints know the net's own decay."""
from trainer.training import hints, train_lib
from trainer.config import TrainConfig


def _net(**changes):
    config = TrainConfig(model_name="mobilenet_v1_025", train_image_size=32, **changes)
    return config, train_lib.build_net(config, 4, train_lib.image_spec_for(config))


def test_batch_norm_decay_is_set_on_every_layer_and_defaults_to_the_nets():
    _, default = _net()
    assert train_lib.net_batch_norm_decay(default) == 0.9997  # slim's mobilenet arg_scope
    _, fast = _net(batch_norm_decay=0.9)
    momenta = {layer.momentum for layer in train_lib.batch_norm_layers(fast)}
    assert momenta == {0.9} and len(train_lib.batch_norm_layers(fast)) == 27


def test_hints_use_the_nets_decay_and_stay_quiet_when_fine_tuning():
    config, net = _net(max_number_of_steps=300, optimizer="adam", opt_epsilon=1e-8)
    lines = hints.hints(config, net_batch_norm_decay=train_lib.net_batch_norm_decay(net))
    assert len(lines) == 1 and "batch_norm_decay=0.9997 needs ~998" in lines[0]
    assert hints.hints(config.replace(batch_norm_decay=0.9)) == []
    assert hints.hints(config.replace(checkpoint_path="x", opt_epsilon=1.0),
                       net_batch_norm_decay=0.9997) == []
