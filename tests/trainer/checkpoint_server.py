"""A slim pretrained-checkpoint tarball served from a loopback HTTP server (offline tests)."""
from __future__ import annotations

import contextlib
import functools
import http.server
import os
import tarfile
import threading
from typing import Iterator


def make_tarball(prefix: str, tarball_path: str, arcname_prefix: str) -> str:
    """Packs ``prefix.*`` (a checkpoint) as ``arcname_prefix.*`` into a .tar.gz, as slim released them."""
    directory, base = os.path.split(prefix)
    with tarfile.open(tarball_path, "w:gz") as archive:
        for name in sorted(os.listdir(directory)):
            if name.startswith(base + "."):
                archive.add(os.path.join(directory, name), arcname=arcname_prefix + name[len(base):])
    return tarball_path


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass


@contextlib.contextmanager
def serve(directory: str) -> Iterator[str]:
    """Serves ``directory`` on 127.0.0.1; yields the base URL."""
    handler = functools.partial(_Quiet, directory=directory)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
