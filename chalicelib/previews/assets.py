"""The static files preview pages load: Vellum's own scripts (static/vellum) and the libraries
web/build.sh copies from npm (static/vendor, each in a folder named with its version)."""

from __future__ import annotations

import functools
from pathlib import Path

STATIC = Path(__file__).resolve().parent / "static"
MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".ttf": "font/ttf",
    ".txt": "text/plain; charset=utf-8",
    ".wasm": "application/wasm",
}
BINARY = "application/octet-stream"  # pdf.js's compressed CMaps and Type 1 fonts


@functools.cache
def catalogue() -> dict[str, Path]:
    """Every file that may be served, by its path under /static: nothing else can be named."""
    return {
        path.relative_to(STATIC).as_posix(): path
        for path in STATIC.rglob("*")
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(STATIC).parts)
    }


def read(relative: str) -> tuple[bytes, str] | None:
    path = catalogue().get(relative)
    if path is None:
        return None
    return path.read_bytes(), MEDIA_TYPES.get(path.suffix, BINARY)


def library(name: str) -> str:
    """The folder under /static of a vendored library ("pdfjs" -> "vendor/pdfjs-6.5.438")."""
    folders = {relative.split("/")[1] for relative in catalogue() if relative.startswith("vendor/")}
    [folder] = [f for f in folders if f.rsplit("-", 1)[0] == name]
    return f"vendor/{folder}"


def immutable(relative: str) -> bool:
    return relative.startswith("vendor/")  # versioned folders: a path never changes its bytes
