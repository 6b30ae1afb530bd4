"""Beam's portable path on one machine: a job service plus an SDK worker pool.

Flink, Spark and Dataflow Runner v2 run Python pipelines the same way: the pipeline
becomes a portable pipeline proto, a job service takes it, and SDK harness workers in
other processes run the code. Beam ships both pieces in Python, so this path runs here
without Java:

    python -m apache_beam.runners.portability.local_job_service_main --port P
    python -m apache_beam.runners.worker.worker_pool_main --service_port W

and a pipeline submitted with ``PortableServices.beam_args()``
(``--runner=PortableRunner --job_endpoint=localhost:P --environment_type=EXTERNAL
--environment_config=localhost:W``) runs every bundle in a worker the pool started.

    python -m runners.portable_beam --data_dir data/digits --output_dir outputs/portable

runs the whole pipeline (``local_runner.py --runner beam``) that way and prints how many
Beam jobs the job service completed. ``make portable-demo`` calls it.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from typing import Iterator, List, Optional

# The job service logs one line per finished job (apache_beam local_job_service).
# Longer than any one Beam job of the pipeline is expected to run.
JOB_SERVER_TIMEOUT_S = 6 * 3600
_COMPLETED_JOB = re.compile(r"Completed job in [0-9.]+ seconds with state (\w+)")


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class PortableServices:
    """A running job service and worker pool; use :func:`portable_services` to start one.

    Attributes:
      job_port / worker_port: their loopback ports.
      log_dir: where ``job_service.log`` and ``worker_pool.log`` are written.
    """

    def __init__(self, job_port: int, worker_port: int, log_dir: str,
                 processes: List[subprocess.Popen]) -> None:
        self.job_port = job_port
        self.worker_port = worker_port
        self.log_dir = log_dir
        self.processes = processes

    @property
    def job_service_log(self) -> str:
        return os.path.join(self.log_dir, "job_service.log")

    def beam_args(self) -> List[str]:
        """Pipeline args that send a pipeline to this job service and its SDK workers."""
        # --job_server_timeout: the PortableRunner also puts it on the job's state stream
        # (Beam 2.59), so at the default 60 s any job running longer fails with
        # DEADLINE_EXCEEDED while it is still running fine.
        return ["--runner=PortableRunner", f"--job_endpoint=localhost:{self.job_port}",
                "--environment_type=EXTERNAL", f"--environment_config=localhost:{self.worker_port}",
                f"--job_server_timeout={JOB_SERVER_TIMEOUT_S}"]

    def completed_jobs(self) -> List[str]:
        """The final state of every job the job service finished, in order (e.g. ['DONE', ...])."""
        with open(self.job_service_log, errors="replace") as f:
            return _COMPLETED_JOB.findall(f.read())


def _stop(process: subprocess.Popen, grace: float = 10.0) -> None:
    """Stops ``process`` and the SDK workers it started (its own process group, led by its PID)."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            pass
    # The group outlives its leader when SDK workers are still running.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@contextlib.contextmanager
def portable_services(log_dir: Optional[str] = None, python: str = sys.executable,
                      startup_timeout: float = 180.0) -> Iterator[PortableServices]:
    """Starts a job service and an SDK worker pool on free ports; stops both on exit.

    The worker pool starts each SDK worker with the ``python`` first on its PATH, so
    ``python``'s directory (this project's venv) is put first. Both run in their own
    process groups and are stopped by PID, also when the body raises.
    """
    log_dir = log_dir or tempfile.mkdtemp(prefix="beam-portable-")
    os.makedirs(log_dir, exist_ok=True)
    env = dict(os.environ, PATH=os.pathsep.join([os.path.dirname(python), os.environ.get("PATH", "")]))
    job_port, worker_port = free_port(), free_port()
    while worker_port == job_port:
        worker_port = free_port()
    commands = {
        "job_service": [python, "-m", "apache_beam.runners.portability.local_job_service_main",
                        "--port", str(job_port)],
        "worker_pool": [python, "-m", "apache_beam.runners.worker.worker_pool_main",
                        f"--service_port={worker_port}"],
    }
    processes: List[subprocess.Popen] = []
    try:
        for name, command in commands.items():
            with open(os.path.join(log_dir, f"{name}.log"), "ab") as log:
                processes.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                                  env=env, start_new_session=True))
        deadline = time.monotonic() + startup_timeout
        for process, port, name in zip(processes, (job_port, worker_port), commands):
            while not _listening(port):
                if process.poll() is not None:
                    raise RuntimeError(f"Beam {name} exited {process.returncode} before listening on "
                                       f"port {port}; see {os.path.join(log_dir, name + '.log')}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Beam {name} did not listen on port {port} within "
                                       f"{startup_timeout:.0f}s; see {os.path.join(log_dir, name + '.log')}")
                time.sleep(0.5)
        yield PortableServices(job_port, worker_port, log_dir, processes)
    finally:
        for process in reversed(processes):
            _stop(process)


def main(argv: Optional[List[str]] = None) -> int:
    """Runs the pipeline (BeamDagRunner) with every Beam component on the portable runner."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data_dir", default="data/digits", help="Class-folder tree of images.")
    parser.add_argument("--output_dir", default="outputs/portable",
                        help="Pipeline root, serving dir and service logs go under it.")
    parser.add_argument("--config", default="demo", help="Run config: a file or a name under configs/.")
    parser.add_argument("--train_steps", type=int, default=None)
    args = parser.parse_args(argv)
    output_dir = os.path.abspath(args.output_dir)
    # A SIGTERM (e.g. from a timeout) unwinds like Ctrl-C, so the services are stopped.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    if not os.path.isdir(args.data_dir):
        from runners import digits  # pylint: disable=import-outside-toplevel
        try:
            print(f"dataset: {digits.write_digits(args.data_dir)} digit PNGs under {args.data_dir}")
        except digits.DemoExtraMissing as error:
            sys.exit(f"error: {error}")
    with portable_services(os.path.join(output_dir, "beam_services")) as services:
        command = [sys.executable, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                                "local_runner.py"),
                   "--runner=beam", f"--config={args.config}", f"--data_dir={args.data_dir}",
                   f"--pipeline_root={os.path.join(output_dir, 'pipeline_root')}",
                   f"--serving_dir={os.path.join(output_dir, 'serving')}"]
        command += [f"--train_steps={args.train_steps}"] if args.train_steps else []
        command += [f"--beam_pipeline_arg={arg}" for arg in services.beam_args()]
        start = time.monotonic()
        with subprocess.Popen(command) as process:
            try:
                returncode = process.wait()
            except KeyboardInterrupt:
                process.terminate()
                raise
        jobs = services.completed_jobs()
    print(f"portable runner: {len(jobs)} Beam jobs through the job service ({jobs.count('DONE')} DONE), "
          f"pipeline exit {returncode}, {time.monotonic() - start:.1f}s; logs in {services.log_dir}")
    return returncode


if __name__ == "__main__":
    sys.exit(main())
