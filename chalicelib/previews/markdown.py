"""Markdown: rendered (markdown-it-py, CommonMark and tables), then sanitised (nh3).

The markup a file brings is never trusted: raw HTML in it is escaped by the renderer, and what
the renderer makes goes through an allow-list of tags and attributes. Links keep only http(s) and
mailto targets and open without a referrer; relative links (which would point into the API) and
images (which would load from anywhere) are dropped, their text kept.
"""

from __future__ import annotations

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


def _keep(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "href" and not value.lower().startswith(("http://", "https://", "mailto:")):
        return None
    return value


def render_markdown(source: str) -> str:
    """Markdown to sanitised HTML (shared with the notebook previewer's markdown cells)."""
    import nh3
    from markdown_it import MarkdownIt

    html = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table").render(source)
    return nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=SCHEMES,
        attribute_filter=_keep,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


@previewer("markdown", extensions=("md", "markdown"), mimetypes=("text/markdown",))
def preview_markdown(file: PreviewFile, reader: Reader) -> Page:
    try:
        text = read_text(reader)
    except NotText as refusal:
        return message(f"No preview: {refusal}.")
    return Page(
        body=f'<article class="markdown">{render_markdown(text.content)}</article>',
        notes=truncation_note(text),
    )
