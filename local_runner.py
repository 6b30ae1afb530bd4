"""Run the pipeline locally: ``python local_runner.py [flags]`` is ``tfslim run [flags]``
(runners/local_cli.py has the flags).

    python local_runner.py --config configs/demo.yaml
    python local_runner.py --config photos --data_dir my_photos --set train.learning_rate=0.01
    python local_runner.py --runner beam --direct_num_workers 2 --direct_running_mode multi_processing
"""
from absl import app, flags

from runners import local_cli, quiet

flags.adopt_module_key_flags(local_cli)  # --help lists the run flags

if __name__ == "__main__":
    quiet.setup()  # progress and results only; main imports TensorFlow once the flags are checked
    quiet.define_verbose_flag()
    app.run(local_cli.main)
