"""A site of its own for the stock IIIF viewers: another origin than the API's, as a reader's
viewer on another site is. It serves the test pages, Mirador, the Universal Viewer and OpenSeadragon."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from local.environment import ROOT

HERE = Path(__file__).resolve().parent
SITE = {
    "pages": HERE / "pages",
    "mirador": ROOT / "chalicelib/previews/static/vendor/mirador-4.0.0/dist",
    "uv": HERE / "viewers/universalviewer/dist",
    "openseadragon": ROOT / "chalicelib/previews/static/vendor/openseadragon-6.1.1",
}


class _SiteHandler(SimpleHTTPRequestHandler):
    def translate_path(self, path: str) -> str:
        top, _, rest = unquote(urlsplit(path).path).lstrip("/").partition("/")
        root = SITE.get(top)
        if root is None or ".." in rest.split("/"):
            return str(HERE / "missing")
        return str(root / rest)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def viewer_site() -> Iterator[int]:
    """The site's port on 127.0.0.1, while it runs."""
    for name in ("mirador", "uv"):
        if not SITE[name].is_dir() or not any(SITE[name].iterdir()):
            pytest.fail(f"{SITE[name]} is empty: run `make pytest` (web/build.sh, tests/setup.sh) first")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_SiteHandler))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="viewer-site", daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
