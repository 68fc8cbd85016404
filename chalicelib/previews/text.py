"""Plain text and source code: the first part of the file, its encoding detected, lines wrapped."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.previews.page import message, preformatted
from chalicelib.previews.registry import Page, PreviewFile, Reader, previewer
from chalicelib.settings import get_settings

TEXT_EXTENSIONS = [
    "txt",
    "text",
    "log",
    "md",
    "rst",
    "ini",
    "cfg",
    "conf",
    "toml",
    "yaml",
    "yml",
    "py",
    "js",
    "ts",
    "java",
    "c",
    "h",
    "cpp",
    "hpp",
    "rs",
    "go",
    "rb",
    "php",
    "pl",
    "sh",
    "r",
    "m",
    "sql",
    "tex",
    "bib",
    "css",
    "scss",
    "less",
    "html",
    "htm",
    "svg",
    "xml",
    "json",
    "geojson",
    "jsonld",
    "csv",
    "tsv",
    "ipynb",
]


@dataclass(frozen=True)
class Text:
    content: str
    encoding: str
    truncated: bool  # the file goes on past what was read


class NotText(ValueError):
    """The bytes are no text in any encoding (binary garbage, or a format of its own)."""


def read_text(reader: Reader, limit: int | None = None) -> Text:
    """At most ``limit`` bytes (the preview limit) from the start, decoded as their encoding is
    detected; a character cut at the end is dropped."""
    limit = limit or get_settings().preview_max_bytes
    data = reader.read(0, min(limit, reader.size))
    truncated = reader.size > len(data)
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise NotText("the file holds binary data, not text")
    from charset_normalizer import from_bytes  # imported when used: not every request previews

    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        raise NotText("the file's text encoding could not be recognised")
    content = data.decode(best.encoding, errors="ignore" if truncated else "replace")
    return Text(content=content.lstrip("\ufeff"), encoding=best.encoding, truncated=truncated)


def truncation_note(text: Text, what: str = "the first part") -> tuple[str, ...]:
    if not text.truncated:
        return ()
    return (
        f"Showing {what} of the file only ({get_settings().preview_max_bytes:,} bytes): download it for all.",
    )


@previewer("text", extensions=TEXT_EXTENSIONS, mimetypes=("text/plain",))
def preview_text(file: PreviewFile, reader: Reader) -> Page:
    try:
        text = read_text(reader)
    except NotText as refusal:
        return message(f"No preview: {refusal}.")
    return Page(body=preformatted(text.content), notes=truncation_note(text))
