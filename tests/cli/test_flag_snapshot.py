"""Every `tfslim` subcommand keeps its flags: names, types, defaults and enum choices.

tests/cli/flags.json was written from the hand-written flag blocks before the slim flags were
generated from the config models (cli/model_flags.py); a flag that is renamed, dropped, or
changes its default or type fails here. Each subcommand is imported in its own interpreter:
their flags live in absl's global FLAGS and would collide (tfslim imports only the chosen one).

Regenerate (only for a deliberate change of the command line): python -m tests.cli.test_flag_snapshot
"""
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict

import pytest

from cli import SUBCOMMANDS

SNAPSHOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "flags.json")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

_DUMP = """
import importlib, json, sys
from absl import flags
import cli
module = importlib.import_module(cli.module_name(sys.argv[1]))
defining = getattr(module, "FLAGS_MODULE", module).__name__
out = {}
for flag in flags.FLAGS.get_key_flags_for_module(defining):
    entry = {"type": flag.flag_type(), "default": flag.default}
    if getattr(flag.parser, "enum_values", None):
        entry["choices"] = list(flag.parser.enum_values)
    if not flag.help or flag.help == "(no help available)":
        entry["help"] = "missing"
    out[flag.name] = entry
print(json.dumps(out, sort_keys=True))
"""


def _flags(command: str) -> Dict[str, Any]:
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1")
    out = subprocess.run([sys.executable, "-c", _DUMP, command], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout)


def current() -> Dict[str, Dict[str, Any]]:
    """{subcommand: {flag: {type, default[, choices]}}} of the code as it is."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip(SUBCOMMANDS, pool.map(_flags, SUBCOMMANDS)))


@pytest.fixture(scope="module")
def flags_now():
    return current()


def test_snapshot_covers_every_subcommand():
    with open(SNAPSHOT, encoding="utf-8") as f:
        assert sorted(json.load(f)) == sorted(SUBCOMMANDS)


@pytest.mark.parametrize("command", sorted(SUBCOMMANDS))
def test_subcommand_flags_are_unchanged(flags_now, command):
    with open(SNAPSHOT, encoding="utf-8") as f:
        expected = json.load(f)[command]
    now = flags_now[command]
    assert sorted(now) == sorted(expected), "flags added or removed"
    for name, entry in expected.items():
        assert now[name] == entry, f"tfslim {command} --{name}"


if __name__ == "__main__":
    with open(SNAPSHOT, "w", encoding="utf-8") as f:
        json.dump(current(), f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"wrote {SNAPSHOT}")
