"""Cost of ingestion's image checks per image, next to the header walk they extend.

On N photo-like images (~500x375, bench/convert_throughput.py's generator) as JPEG and as
PNG, in one process, best of --repeats rounds, microseconds per image of:
  read          reading the file (the I/O floor every converter pays)
  header walk   the marker/chunk walk the codec did before these checks (parse_jpeg /
                parse_png: JPEG markers to SOS + EOI search, PNG chunk CRCs)
  checks        image_codec.normalize: the header walk + size caps + (PNG) inflating the
                pixel stream to check its length and row filters
  verify        normalize with --verify_decode (a full tf.io.decode_image)
and each one's ratio to the header walk.

    python bench/image_checks.py --images 200
"""
from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from typing import Callable, Dict, List

from PIL import Image

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from bench.convert_throughput import photo_like  # noqa: E402  pylint: disable=wrong-import-position
from ingestion.formats import image_codec, integrity  # noqa: E402  pylint: disable=wrong-import-position


def encoded(count: int, fmt: str) -> List[bytes]:
    out = []
    for seed in range(count):
        buffer = io.BytesIO()
        Image.fromarray(photo_like(seed)).save(buffer, format=fmt, **({"quality": 90} if fmt == "JPEG" else {}))
        out.append(buffer.getvalue())
    return out


def best_us(step: Callable[[], object], count: int, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        best = min(best, time.perf_counter() - start)
    return best / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    verify = integrity.Limits(verify_decode=True)
    integrity.verify_decode(encoded(1, "PNG")[0])  # import TF and warm the decoder up
    print(f"{args.images} photo-like images ~500x375, {os.cpu_count()} CPUs, best of {args.repeats}\n")
    print("| format | step | µs per image | vs header walk |\n|---|---|---:|---:|")
    for fmt, walk in (("JPEG", image_codec.parse_jpeg), ("PNG", image_codec.parse_png)):
        datas = encoded(args.images, fmt)
        with tempfile.TemporaryDirectory(prefix="tfslim-bench-") as scratch:
            paths = []
            for i, data in enumerate(datas):
                paths.append(os.path.join(scratch, f"{i}.img"))
                with open(paths[-1], "wb") as f:
                    f.write(data)
            steps: Dict[str, Callable[[], object]] = {
                "read": lambda: [open(p, "rb").read() for p in paths],
                "header walk (before)": lambda: [walk(d) for d in datas],
                "checks (now)": lambda: [image_codec.normalize(d) for d in datas],
                "checks + verify_decode": lambda: [image_codec.normalize(d, verify) for d in datas],
            }
            costs = {name: best_us(step, len(datas), args.repeats) for name, step in steps.items()}
        base = costs["header walk (before)"]
        for name, cost in costs.items():
            print(f"| {fmt} ({sum(map(len, datas)) // len(datas) // 1024} KB) | {name} | "
                  f"{cost:.1f} | {cost / base:.2f} |")


if __name__ == "__main__":
    main()
