"""JSON and XML: pretty-printed and highlighted (Pygments) up to a size, else their first part.

XML is parsed with defusedxml: a document that declares entities (the billion laughs, external
entities) is never expanded, only shown as the text it is.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from chalicelib.previews.page import message, preformatted
from chalicelib.previews.registry import Page, PreviewFile, Reader, previewer
from chalicelib.previews.text import NotText, read_text, truncation_note
from chalicelib.settings import get_settings

HIGHLIGHT_MAX_CHARS = 128 * 1024


def highlighted(source: str, language: str) -> Page:
    """``source`` as highlighted HTML: Pygments' classes, and its style sheet for them.

    Only the first HIGHLIGHT_MAX_CHARS are coloured: a span per token makes HTML seven times the
    size of the source, and the rest follows as plain text.
    """
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import get_lexer_by_name

    formatter = HtmlFormatter(cssclass="highlight", wrapcode=True)
    coloured, rest = source[:HIGHLIGHT_MAX_CHARS], source[HIGHLIGHT_MAX_CHARS:]
    body = highlight(coloured, get_lexer_by_name(language), formatter) + (preformatted(rest) if rest else "")
    styles = formatter.get_style_defs(".highlight")  # type: ignore[no-untyped-call]
    return Page(body=body, styles=(styles + ".highlight pre{margin:0}",))


class Unreadable(ValueError):
    """The document does not parse: the message says why, for the page's note."""


def _structured(reader: Reader, language: str, prettify: Callable[[str], str]) -> Page:
    """The whole document pretty-printed when it is small enough, else its first part as it is."""
    settings = get_settings()
    whole = reader.size <= settings.preview_structured_max_bytes
    try:
        text = read_text(reader, settings.preview_structured_max_bytes if whole else None)
    except NotText as refusal:
        return message(f"No preview: {refusal}.")
    if text.truncated:
        return _shown(highlighted(text.content, language), truncation_note(text))
    try:
        pretty = prettify(text.content)
    except Unreadable as problem:
        return Page(body=preformatted(_first(text.content)), notes=(str(problem),))
    return _shown(highlighted(_first(pretty), language), _cut_note(pretty))


def _shown(page: Page, notes: tuple[str, ...]) -> Page:
    return Page(body=page.body, styles=page.styles, notes=notes)


def _pretty_json(source: str) -> str:
    try:
        return json.dumps(json.loads(source), indent=2, ensure_ascii=False)
    except (ValueError, RecursionError) as exc:
        raise Unreadable(f"This is not valid JSON ({exc}): shown as it is.") from None


def _pretty_xml(source: str) -> str:
    from defusedxml import DefusedXmlException
    from defusedxml.minidom import parseString

    try:
        pretty = parseString(source).toprettyxml(indent="  ")
    except DefusedXmlException as refusal:
        raise Unreadable(
            f"The XML declares what a parser would expand or fetch ({type(refusal).__name__}): "
            "shown as text, unexpanded."
        ) from None
    except Exception as exc:  # expat raises several types for malformed XML
        raise Unreadable(f"This is not well-formed XML ({exc}): shown as it is.") from None
    return "\n".join(line for line in pretty.splitlines() if line.strip())  # minidom keeps blank text


@previewer(
    "json", extensions=("json", "geojson", "jsonld"), mimetypes=("application/json", "application/ld+json")
)
def preview_json(file: PreviewFile, reader: Reader) -> Page:
    return _structured(reader, "json", _pretty_json)


@previewer(
    "xml",
    extensions=("xml", "xsd", "xsl", "rdf", "tei", "mets", "mods", "gpx", "kml"),
    mimetypes=("application/xml", "text/xml"),
)
def preview_xml(file: PreviewFile, reader: Reader) -> Page:
    return _structured(reader, "xml", _pretty_xml)


def _first(text: str) -> str:
    """What is shown of a pretty-printed document: highlighting a megabyte takes a second already."""
    return text[: get_settings().preview_max_bytes]


def _cut_note(text: str) -> tuple[str, ...]:
    if len(text) <= get_settings().preview_max_bytes:
        return ()
    return (
        f"Showing the first {get_settings().preview_max_bytes:,} characters only: download the file for all.",
    )
