"""Files served from a loopback HTTP server (offline download tests), with injectable faults.

The server answers Range requests (206 + Content-Range) as download hosts do,
and a :class:`Faults` can make it answer 500, cut a body short or ignore Range.
"""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import http.server
import os
import tarfile
import threading
from typing import Iterator, List, Optional, Tuple


def make_tarball(prefix: str, tarball_path: str, arcname_prefix: str) -> str:
    """Packs ``prefix.*`` (a checkpoint) as ``arcname_prefix.*`` into a .tar.gz, as slim released them."""
    directory, base = os.path.split(prefix)
    with tarfile.open(tarball_path, "w:gz") as archive:
        for name in sorted(os.listdir(directory)):
            if name.startswith(base + "."):
                archive.add(os.path.join(directory, name), arcname=arcname_prefix + name[len(base):])
    return tarball_path


@dataclasses.dataclass
class Faults:
    """What the server does wrong, and what it was asked.

    fail_next: answer this many GETs with 500 before serving again.
    cut_after: close the connection after this many body bytes (once), having
      announced the full Content-Length.
    ignore_range: answer a Range request with the whole file (200).
    requests: (path, Range header or None) of every GET.
    """

    fail_next: int = 0
    cut_after: Optional[int] = None
    ignore_range: bool = False
    requests: List[Tuple[str, Optional[str]]] = dataclasses.field(default_factory=list)


class _Handler(http.server.SimpleHTTPRequestHandler):
    faults: Faults

    def log_message(self, *args):  # keep test output clean
        pass

    def do_GET(self):  # noqa: N802 (http.server's naming)
        faults = self.faults
        ask = self.headers.get("Range")
        faults.requests.append((self.path, ask))
        if faults.fail_next:
            faults.fail_next -= 1
            self.send_error(500, "transient failure (injected)")
            return
        path = self.translate_path(self.path)
        if not os.path.isfile(path):
            self.send_error(404)
            return
        with open(path, "rb") as f:
            data = f.read()
        start = int(ask.split("=")[1].split("-")[0]) if ask and not faults.ignore_range else 0
        if start >= len(data) > 0:
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{len(data)}")
            self.end_headers()
            return
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        if faults.cut_after is not None:
            body, faults.cut_after = body[:faults.cut_after], None
            self.close_connection = True
        self.wfile.write(body)


@contextlib.contextmanager
def serve(directory: str, faults: Optional[Faults] = None) -> Iterator[str]:
    """Serves ``directory`` on 127.0.0.1; yields the base URL."""
    handler = type("Handler", (_Handler,), {"faults": faults or Faults()})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(handler, directory=directory))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
