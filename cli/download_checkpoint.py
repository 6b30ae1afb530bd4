"""`tfslim download_checkpoint NAME --dir D`: fetch and unpack a slim pretrained checkpoint.

    tfslim download_checkpoint inception_v3 --dir /tmp/checkpoints
    tfslim download_checkpoint --list

NAME is a row of the checkpoint table (trainer/zoo/pretrained.json: every checkpoint
slim published for a zoo net, docs/downloads.md). Prints the checkpoint prefix to pass as
--checkpoint_path, and the scopes to exclude when fine-tuning to a new class count. The
download retries, resumes and is verified (schemas/download.py); a failure is one line
on stderr and exit status 1.
"""
import sys

from absl import flags

FLAGS = flags.FLAGS
flags.DEFINE_string("dir", None, "Where to unpack (<dir>/<NAME>/); default $TFSLIM_CHECKPOINT_DIR "
                    "or ~/.cache/tfslim/checkpoints.")
flags.DEFINE_boolean("list", False, "Print the checkpoint table and exit.")
flags.DEFINE_boolean("progress", True, "Show a download progress bar.")


def main(argv) -> None:
    from trainer.zoo import pretrained  # pylint: disable=import-outside-toplevel

    if FLAGS.list:
        print("\n".join(pretrained.rows_for_readme()))
        return
    names = argv[1:]
    if not names:
        sys.exit("error: name a checkpoint, e.g. `tfslim download_checkpoint inception_v3 --dir D` "
                 "(--list shows the table)")
    for name in names:
        try:
            prefix = pretrained.download(name, FLAGS.dir, progress=FLAGS.progress)
        except ValueError as error:
            sys.exit(f"error: {error}")
        entry = pretrained.lookup(name)
        print(f"{name}: {prefix}")
        print(f"  fine-tune with --model_name {entry.model_name} --checkpoint_path {prefix} "
              f"--checkpoint_exclude_scopes {','.join(entry.exclude_scopes)}")
