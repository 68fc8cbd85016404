"""Markdown: rendered (markdown-it-py, CommonMark and tables), then sanitised (nh3).

The markup a file brings is never trusted: raw HTML in it is escaped by the renderer, and what
the renderer makes goes through an allow-list of tags and attributes. Links keep only http(s) and
mailto targets and open without a referrer. Relative links and images are resolved inside the
file's own bucket (or record), as a README's `docs/guide.md` or `figures/plot.png` mean: a link
to the other file's preview page, an image from its bytes. Images from anywhere else are dropped.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from urllib.parse import unquote, urlsplit

from chalicelib.links import origin
from chalicelib.previews.page import message
from chalicelib.previews.registry import Page, PreviewFile, Reader, previewer
from chalicelib.previews.text import NotText, read_text, truncation_note

TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "i", "img", "li", "ol", "p", "pre", "s", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead",
    "tr", "ul",
}  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}, "img": {"alt", "title"}, "th": {"align"}, "td": {"align"}}
SCHEMES = {"http", "https", "mailto"}


def _sibling(file: PreviewFile | None, reference: str) -> str | None:
    """The key a relative reference names beside ``file``, or None (absolute, or above the root)."""
    if file is None or urlsplit(reference).scheme or reference.startswith(("/", "#", "\\")):
        return None
    path = unquote(urlsplit(reference).path)
    if not path:
        return None
    key = posixpath.normpath(posixpath.join(posixpath.dirname(file.key), path))
    return None if key.startswith("../") or key in ("..", ".") else key


def _filter(file: PreviewFile | None) -> Callable[[str, str, str], str | None]:
    def keep(tag: str, attribute: str, value: str) -> str | None:
        absolute = value.lower().startswith(("http://", "https://", "mailto:"))
        if tag == "a" and attribute == "href" and not absolute:
            key = _sibling(file, value)
            return file.sibling_page(key) if file and file.sibling_page and key else None
        if tag == "img" and attribute == "src":
            key = _sibling(file, value)
            return file.sibling_bytes(key) if file and file.sibling_bytes and key else None
        return value

    return keep


def render_markdown(source: str, file: PreviewFile | None = None) -> str:
    """Markdown to sanitised HTML (shared with the notebook previewer's markdown cells); relative
    links and images resolved beside ``file`` when it is given."""
    import nh3
    from markdown_it import MarkdownIt

    html = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table").render(source)
    return nh3.clean(
        html,
        tags=TAGS,
        attributes={**ATTRIBUTES, "img": ATTRIBUTES["img"] | {"src"}},
        url_schemes=SCHEMES,
        attribute_filter=_filter(file),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


@previewer("markdown", extensions=("md", "markdown"), mimetypes=("text/markdown",))
def preview_markdown(file: PreviewFile, reader: Reader) -> Page:
    try:
        text = read_text(reader)
    except NotText as refusal:
        return message(f"No preview: {refusal}.")
    # Images beside the file are read from the bucket: the API's download answers with a
    # redirect to S3, whose origin the page must then allow.
    images = (origin(file.download_url), origin(file.static)) if file.sibling_bytes else ()
    return Page(
        body=f'<article class="markdown">{render_markdown(text.content, file)}</article>',
        notes=truncation_note(text),
        images=images,
    )
