"""`tfslim models`: the zoo's nets_factory table (from trainer.zoo.model_catalog: no TF import)."""
from absl import flags

FLAGS = flags.FLAGS
flags.DEFINE_string("model_name", None, "Show only this network.")


def main(argv) -> None:
    del argv
    from trainer.zoo import model_catalog  # pylint: disable=import-outside-toplevel

    rows = model_catalog.load()
    if FLAGS.model_name:
        rows = [row for row in rows if row["name"] == FLAGS.model_name]
        if not rows:
            raise SystemExit(f"tfslim models: unknown --model_name={FLAGS.model_name}; "
                             "`tfslim models` lists them")
    print(f"{'name':<22}{'image':>6}{'classes':>9}{'ckpt cls':>9}  {'preprocessing':<14}logits scopes")
    for row in rows:
        print(f"{row['name']:<22}{row['default_image_size']:>6}{row['num_classes']:>9}"
              f"{row['checkpoint_num_classes']:>9}  {row['preprocessing']:<14}{','.join(row['logits_scopes'])}")
