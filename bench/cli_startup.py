"""Cold start of `tfslim` commands, this checkout vs another commit, whole processes.

Each command runs as its own process, as a user runs it, in interleaved rounds (best
round kept): `tfslim --help`, `tfslim models`, `tfslim convert` on 20 JPEGs,
`tfslim predict IMAGE --server host:port` against a loopback REST server answering like
TF Serving's :predict (canned top-k outputs: the client's start-up is what is timed), a
refused slim flag (`tfslim train --master=…`) and `tfslim run --help`.
Prints wall and CPU seconds per command and whether TensorFlow was imported.

    git worktree add /tmp/before <commit>
    python bench/cli_startup.py --before_repo /tmp/before [--repeats 3]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, List

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Runs the console script of the checkout in the working directory and reports, at exit,
# whether TensorFlow was imported. Works with both CLI homes (cli/ and pipeline/cli/).
PROBE = ("import atexit, sys\n"
         "atexit.register(lambda: sys.stderr.write('\\nTF_LOADED %s\\n' % ('tensorflow' in sys.modules)))\n"
         "try:\n    from cli import main\n"
         "except ImportError:\n    from pipeline.cli import main\n"
         "main(['tfslim'] + sys.argv[1:])\n")


class _FakePredict(BaseHTTPRequestHandler):
    """Answers every :predict with one row of top-k outputs per instance."""

    def log_message(self, *args):
        del args

    def do_POST(self):  # noqa: N802  (http.server's naming)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        row = {"top_k_labels": ["daisy", "tulips"], "top_k_scores": [0.9, 0.1],
               "classes": 0, "scores": [0.9, 0.1]}
        data = json.dumps({"predictions": [row for _ in body["instances"]]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def timed(args: List[str], repo: str) -> Dict[str, float]:
    """Wall and CPU seconds (user + system) of one `tfslim` process run in ``repo``."""
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="3")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", PROBE] + args, cwd=repo, env=env,
                         capture_output=True, text=True, timeout=900, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if "TF_LOADED" not in out.stderr:
        raise RuntimeError(f"{args[:2]} in {repo} failed:\n{out.stderr[-2000:]}")
    return {"wall_s": wall, "cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
            "tf": "TF_LOADED True" in out.stderr}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before_repo", default="", help="a checkout of the commit to compare against")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--work_dir", default=os.path.join(tempfile.gettempdir(), "tfslim-cli-bench"))
    args = parser.parse_args()
    sys.path.insert(0, REPO)
    from bench.convert_throughput import make_dataset  # pylint: disable=import-outside-toplevel

    images = make_dataset(args.work_dir, 20)
    image = os.path.join(images, "class_a", sorted(os.listdir(os.path.join(images, "class_a")))[0])
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakePredict)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    address = f"127.0.0.1:{server.server_address[1]}"
    out = os.path.join(args.work_dir, "out")
    commands = {
        "tfslim --help": ["--help"],
        "tfslim models": ["models"],
        "tfslim convert (20 JPEGs)": ["convert", "--dataset_name=folder", f"--source={images}",
                                      f"--dataset_dir={out}", "--noprogress"],
        "tfslim predict --server (REST)": ["predict", image, f"--server={address}", "--model_name=m"],
        # A slim flag with no TF2 meaning, answered with the reason (exit 1).
        "tfslim train --master=… (refused)": ["train", "--master=grpc://10.0.0.1:2222"],
        "tfslim run --help": ["run", "--help"],
    }
    repos = {"after": REPO}
    if args.before_repo:
        repos["before"] = os.path.abspath(args.before_repo)
    best: Dict[str, Dict[str, Dict[str, float]]] = {}
    for _ in range(args.repeats):
        for name, command in commands.items():
            for which, repo in repos.items():
                run = timed(command, repo)
                entry = best.setdefault(name, {})
                if run["wall_s"] < entry.get(which, {}).get("wall_s", float("inf")):
                    entry[which] = run
    server.shutdown()
    print(f"\n{os.cpu_count()} CPUs; wall s (CPU s), best of {args.repeats} interleaved rounds\n")
    print("| command | before | after | after vs before | TF imported (before → after) |")
    print("|---|---:|---:|---:|---|")
    for name, entry in best.items():
        after = entry["after"]
        before = entry.get("before")
        cell = lambda r: f"{r['wall_s']:.1f} ({r['cpu_s']:.1f})" if r else "-"  # noqa: E731
        ratio = f"{before['wall_s'] / after['wall_s']:.2f}×" if before else "-"
        tf_cell = (f"{'yes' if before['tf'] else 'no'} → " if before else "") + ("yes" if after["tf"] else "no")
        print(f"| {name} | {cell(before)} | {cell(after)} | {ratio} | {tf_cell} |")
    with open(os.path.join(args.work_dir, "results.json"), "w") as f:
        json.dump(best, f, indent=1)


if __name__ == "__main__":
    main()
