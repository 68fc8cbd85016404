"""Previewers that hand the file to the browser: images (through the IIIF service), PDF (pdf.js),
audio and video (HTML5 players). The file's bytes come from short-lived URLs, never through the
page; the scripts are Vellum's own static ones, configured through data attributes."""

from __future__ import annotations

import json
from html import escape

from chalicelib.links import origin
from chalicelib.previews import assets
from chalicelib.previews.registry import Page, PreviewFile, Reader, previewer

# Above this on either side an image gets a zoomable viewer; below, one IIIF image.
ZOOM_ABOVE_PIXELS = 1200
AUDIO = frozenset({"mp3", "wav", "ogg", "oga", "flac", "m4a", "aac", "opus"})
VIDEO = frozenset({"mp4", "webm", "ogv", "mov", "m4v"})


def _static(file: PreviewFile, relative: str) -> str:
    return f"{file.static}/{relative}"


def _animated(file: PreviewFile) -> bool:
    return "image/gif" in file.types and int((file.image or {}).get("frames", 1)) > 1


def _picture(url: str, width: int, height: int, name: str) -> Page:
    return Page(
        body=f'<img class="picture" src="{escape(url)}" width="{width}" height="{height}" alt="{name}">',
        images=(origin(url),),
        styles=(".picture{max-width:100%;height:auto}",),
    )


@previewer("image", accepts=lambda file: file.iiif_base is not None)
def preview_image(file: PreviewFile, reader: Reader) -> Page:
    assert file.iiif_base is not None and file.image is not None
    width, height = int(file.image["width"]), int(file.image["height"])
    name = escape(file.key.rsplit("/", 1)[-1])
    if _animated(file):  # IIIF serves a GIF's first frame: show the file itself, moving
        return _picture(file.download_url, width, height, name)
    if max(width, height) <= ZOOM_ABOVE_PIXELS and file.pages == 1:
        return _picture(f"{file.iiif_base}/full/max/0/default.jpg", width, height, name)
    osd = assets.library("openseadragon")
    # A multi-page image: its pages in sequence, with a strip of their thumbnails to go to one.
    if file.pages > 1:
        infos = [f"{file.iiif_base}~p{page}/info.json" for page in range(1, file.pages + 1)]
        shown = f'data-infos="{escape(json.dumps(infos))}"'
    else:
        shown = f'data-info="{escape(file.iiif_base)}/info.json"'
    return Page(
        body=f'<div id="zoom" {shown} '
        f'data-icons="{escape(_static(file, osd))}/images/" aria-label="{name}"></div>',
        scripts=(_static(file, f"{osd}/openseadragon.min.js"), _static(file, "vellum/image-viewer.js")),
        connect=(origin(file.iiif_base),),
        images=(origin(file.iiif_base),),
        styles=("#zoom{width:100%;height:75vh;background:#111}",),
    )


@previewer("pdf", extensions=("pdf",), mimetypes=("application/pdf",))
def preview_pdf(file: PreviewFile, reader: Reader) -> Page:
    pdfjs = assets.library("pdfjs")
    return Page(
        body=f'<div id="pdf" data-src="{escape(file.download_url)}" '
        f'data-library="{escape(_static(file, pdfjs))}/pdf.min.mjs" '
        f'data-worker="{escape(_static(file, pdfjs))}/pdf.worker.min.mjs" '
        f'data-fonts="{escape(_static(file, pdfjs))}/standard_fonts/" '
        f'data-cmaps="{escape(_static(file, pdfjs))}/cmaps/" '
        f'data-wasm="{escape(_static(file, pdfjs))}/wasm/"><p class="empty">Loading the PDF...</p></div>',
        scripts=(_static(file, "vellum/pdf-viewer.mjs"),),
        # pdf.js reads the file in ranges from S3, and its fonts and maps from /static.
        connect=(origin(file.download_url), origin(file.static)),
        workers=(origin(file.static),),
        styles=("#pdf canvas{display:block;margin:0 auto 1rem;max-width:100%;box-shadow:0 0 4px #999}",),
    )


def _player(kind: str, extensions: frozenset[str]) -> None:
    """An HTML5 player for ``kind`` ("audio", "video") on the short-lived URL (S3 serves ranges)."""

    def play(file: PreviewFile, reader: Reader) -> Page:
        player = f'<{kind} controls preload="metadata" src="{escape(file.download_url)}"'
        shown: tuple[str, ...] = ()
        if file.poster and kind == "video":
            player += f' poster="{escape(file.poster)}"'
        elif file.poster:  # a sound's waveform, above its player
            player = (
                f'<img class="waveform" alt="The sound\'s waveform" src="{escape(file.poster)}">' + player
            )
        if file.poster:
            shown = (origin(file.poster),)
        return Page(
            body=f"{player}></{kind}>",
            media=(origin(file.download_url),),
            images=shown,
            styles=(f"{kind}{{max-width:100%;max-height:75vh}}", ".waveform{display:block;max-width:100%}"),
        )

    previewer(
        kind,
        extensions=extensions,
        accepts=lambda f: f.extension in extensions or any(t.startswith(f"{kind}/") for t in f.types),
    )(play)


_player("audio", AUDIO)
_player("video", VIDEO)
