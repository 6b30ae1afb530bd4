"""`tfslim models`: the zoo's nets_factory table."""
from absl import flags

FLAGS = flags.FLAGS
flags.DEFINE_string("model_name", None, "Show only this network.")


def main(argv) -> None:
    del argv
    from trainer import nets  # pylint: disable=import-outside-toplevel

    names = [FLAGS.model_name] if FLAGS.model_name else nets.list_models()
    print(f"{'name':<22}{'image':>6}{'classes':>9}{'ckpt cls':>9}  {'preprocessing':<14}logits scopes")
    for name in names:
        spec = nets.get_spec(name)
        print(f"{spec.name:<22}{spec.default_image_size:>6}{spec.num_classes:>9}"
              f"{spec.checkpoint_num_classes:>9}  {spec.preprocessing:<14}{','.join(spec.logits_scopes)}")
