"""Jupyter notebooks (nbformat 4): cells and their outputs, rendered, with nothing of theirs running.

Markdown cells go through the Markdown previewer's renderer and sanitiser; code is highlighted;
outputs show their richest safe form: PNG, JPEG or GIF images inline (data URLs of checked base64),
HTML sanitised like Markdown, else plain text. JavaScript and widget outputs are never shown. (The
field's renderer, nbconvert, writes pages with script and needs a dozen packages; what a preview
needs of it is this page.)
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from chalicelib.previews.markdown import ATTRIBUTES, SCHEMES, TAGS, render_markdown
from chalicelib.previews.page import message, preformatted
from chalicelib.previews.registry import Page, PreviewFile, Reader, previewer
from chalicelib.previews.structured import highlighted
from chalicelib.settings import get_settings

IMAGES = ("image/png", "image/jpeg", "image/gif")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")  # tracebacks are coloured for terminals
STYLES = (
    ".cell{margin:0 0 1rem}.prompt{color:#777;font:12px ui-monospace,monospace}"
    ".output{border-left:3px solid #ddd;padding-left:.75rem;margin-top:.25rem}"
    ".output img{max-width:100%}.error pre{color:#a00}"
)


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value or "")


def _sanitised_html(html: str) -> str:
    import nh3

    extra = {"div", "span", "caption", "colgroup", "col", "tfoot", "dl", "dt", "dd"}
    return nh3.clean(html, tags=TAGS | extra, attributes=ATTRIBUTES, url_schemes=SCHEMES, strip_comments=True)


def _image(kind: str, data: Any) -> str | None:
    try:
        raw = base64.b64decode(_text(data).replace("\n", ""), validate=True)
    except (binascii.Error, ValueError):
        return None
    return f'<img src="data:{kind};base64,{base64.b64encode(raw).decode()}" alt="output">'


def _output(output: dict[str, Any]) -> str:
    kind = output.get("output_type")
    if kind == "stream":
        return preformatted(_text(output.get("text")))
    if kind == "error":
        traceback = ANSI.sub("", "\n".join(_text(line) for line in output.get("traceback", [])))
        return f'<div class="error">{preformatted(traceback)}</div>'
    data = output.get("data") or {}
    for image in IMAGES:
        if image in data and (shown := _image(image, data[image])):
            return shown
    if "text/html" in data:
        return _sanitised_html(_text(data["text/html"]))
    if "text/markdown" in data:
        return render_markdown(_text(data["text/markdown"]))
    if "text/plain" in data:
        return preformatted(_text(data["text/plain"]))
    return ""  # JavaScript, widgets and the like: never run, not shown


def _language(notebook: dict[str, Any]) -> str:
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    metadata = notebook.get("metadata") or {}
    name = (metadata.get("language_info") or {}).get("name") or (metadata.get("kernelspec") or {}).get(
        "language"
    )
    try:
        get_lexer_by_name(str(name or "python"))
    except ClassNotFound:
        return "text"
    return str(name or "python")


@previewer("notebook", extensions=("ipynb",), mimetypes=("application/x-ipynb+json",))
def preview_notebook(file: PreviewFile, reader: Reader) -> Page:
    limit = get_settings().preview_notebook_max_bytes
    if reader.size > limit:
        return message(f"No preview: the notebook is larger than {limit:,} bytes. Download it to open it.")
    try:
        notebook = json.loads(reader.read(0, reader.size))
        cells = notebook["cells"] if isinstance(notebook, dict) else None
    except (ValueError, KeyError, RecursionError):
        cells = None
    if not isinstance(cells, list):
        return message("No preview: this is not a Jupyter notebook (nbformat 4).")
    language = _language(notebook)
    parts: list[str] = []
    styles: tuple[str, ...] = (STYLES,)
    for cell in cells:
        if not isinstance(cell, dict):
            continue
        source = _text(cell.get("source"))
        if cell.get("cell_type") == "markdown":
            parts.append(f'<section class="cell markdown">{render_markdown(source)}</section>')
        elif cell.get("cell_type") == "code":
            code = highlighted(source, language)
            styles = styles[:1] + code.styles
            count = cell.get("execution_count")
            prompt = f"In [{count}]:" if isinstance(count, int) else "In [ ]:"
            outputs = "".join(
                f'<div class="output">{_output(output)}</div>'
                for output in cell.get("outputs") or []
                if isinstance(output, dict)
            )
            parts.append(
                f'<section class="cell code"><div class="prompt">{prompt}</div>{code.body}{outputs}</section>'
            )
        else:  # raw cells
            parts.append(f'<section class="cell">{preformatted(source)}</section>')
    return Page(body="".join(parts) or '<p class="empty">The notebook has no cells.</p>', styles=styles)
