"""Previewers, pure: each is handed a file's facts and a reader of its bytes, and returns a page."""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import pytest

from chalicelib.previews import service
from chalicelib.previews.page import content_security_policy, document
from chalicelib.previews.registry import Page, PreviewFile, Registry, previewer
from chalicelib.settings import Settings
from tests.helpers import hostile_notebook


@dataclass
class Bytes:
    """A reader over bytes in memory, counting what was read."""

    data: bytes
    reads: list[tuple[int, int]] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.data)

    def read(self, start: int, length: int) -> bytes:
        self.reads.append((start, length))
        return self.data[start : start + length]

    @property
    def bytes_read(self) -> int:
        return sum(length for _, length in self.reads)


def a_file(key: str, size: int = 0, mimetype: str | None = None, **metadata: Any) -> PreviewFile:
    return PreviewFile(
        key=key,
        size=size,
        mimetype=mimetype,
        sniffed_type=None,
        metadata=metadata,
        download_url="https://s3/x",
    )


def shown(key: str, data: bytes, **metadata: Any) -> Page:
    return service.render(a_file(key, len(data), **metadata), Bytes(data))


@pytest.fixture(autouse=True)
def settings(local_env: Settings) -> Settings:
    return local_env


def test_a_semicolon_csv_in_latin_1_becomes_a_table_with_its_ragged_rows() -> None:
    data = "Name;Ville;Note\nZoë;Besançon;12\nJürgen;Köln\n".encode("latin-1")

    page = shown("data/table.csv", data)

    assert "<th>Ville</th>" in page.body
    assert "<td>Besançon</td>" in page.body and "<td>Jürgen</td>" in page.body
    assert page.body.count("<tr>") == 3
    assert page.body.count("<td></td>") == 1  # the short row keeps three columns


def test_a_large_csv_shows_its_first_rows_only_and_says_so(settings: Settings) -> None:
    row = b"1,2,3,some words to fill the line\n"
    data = b"a,b,c,d\n" + row * (2 * settings.preview_max_bytes // len(row))
    reader = Bytes(data)

    page = service.render(a_file("big.csv", len(data)), reader)

    assert reader.bytes_read <= settings.preview_max_bytes
    assert "first" in page.notes[0] and "rows" in page.notes[0]
    assert page.body.endswith("</tbody></table>")


def test_plain_text_is_escaped_and_binary_garbage_is_refused() -> None:
    text = shown("notes.txt", b"<script>alert(1)</script> & more")
    garbage = shown("notes.txt", bytes(range(256)) * 8)

    assert "&lt;script&gt;" in text.body and "<script>" not in text.body
    assert "binary data" in garbage.body


def test_text_in_utf_16_is_read_as_such() -> None:
    page = shown("readme.txt", "Grüße aus Zürich".encode("utf-16"))

    assert "Grüße aus Zürich" in page.body


HOSTILE_MARKDOWN = """# Title

<script>alert("md")</script>
<img src=x onerror="alert('img')">
[click](javascript:alert('link')) [relative](../../files/secret) [fine](https://example.org/a)
![tracker](https://evil.example/pixel.png)
<a href="https://example.org" onclick="alert(1)">raw</a>

| a | b |
|---|---|
| 1 | 2 |
"""


class Elements(HTMLParser):
    """Every element of a page, with its attributes: what a browser would build."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


def active_content(html: str) -> list[str]:
    """Elements or attributes that could run script or load from elsewhere."""
    problems = []
    for tag, attributes in Elements(html).found:
        if tag in ("script", "iframe", "object", "embed", "link", "meta", "base", "form", "style"):
            problems.append(tag)
        for name, value in attributes.items():
            if name.startswith("on") or name in ("srcset", "style"):
                problems.append(f"{tag} {name}")
            if name == "src" and not (value or "").startswith("data:image/"):
                problems.append(f"{tag} {name}")
            if name == "href" and not (value or "").startswith(("https://", "http://", "mailto:")):
                problems.append(f"{tag} href={value}")
    return problems


def test_markdown_is_rendered_without_anything_that_could_run_or_load() -> None:
    page = shown("README.md", HOSTILE_MARKDOWN.encode())

    assert "<h1>Title</h1>" in page.body and "<table>" in page.body
    assert active_content(page.body) == []
    assert "evil.example" not in page.body
    assert '<a href="https://example.org/a" rel="noopener noreferrer nofollow">fine</a>' in page.body


def test_json_is_pretty_printed_and_highlighted_and_invalid_json_shown_as_it_is() -> None:
    page = shown("data.json", b'{"name":"Vellum","tags":["a","<b>"]}')
    broken = shown("data.json", b'{"name": ')

    assert 'class="highlight"' in page.body and page.styles
    assert "&lt;b&gt;" in page.body
    assert "not valid JSON" in broken.notes[0]


def test_xml_is_pretty_printed_whatever_its_declared_encoding() -> None:
    data = '<?xml version="1.0" encoding="ISO-8859-1"?><r><name>Besançon</name></r>'.encode("latin-1")

    page = shown("doc.xml", data)

    assert "Besan" in page.body and "ç" in page.body
    assert not page.notes


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><lolz>&lol3;</lolz>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>"""


@pytest.mark.parametrize("data", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["bomb", "external"])
def test_xml_entities_are_never_expanded(data: bytes) -> None:
    page = shown("doc.xml", data)

    assert "lollollol" not in page.body and "root:" not in page.body
    assert "unexpanded" in page.notes[0]


def zip_with(names: list[tuple[str, bytes]], *, force_zip64: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in names:
            info = zipfile.ZipInfo(name, date_time=(2024, 5, 17, 9, 30, 0))
            with archive.open(info, "w", force_zip64=force_zip64) as entry:
                entry.write(content)
    return buffer.getvalue()


def test_a_zip64_archive_is_listed_as_a_tree_from_its_central_directory_alone() -> None:
    content = b"x" * 100_000
    data = zip_with(
        [
            ("docs/readme.txt", b"hello"),
            ("docs/img/a.png", content),
            ("nested.zip", b"PK"),
            ("top.txt", b"t"),
        ],
        force_zip64=True,
    )
    reader = Bytes(data)

    page = service.render(a_file("bundle.zip", len(data)), reader)

    assert "docs/" in page.body and "img/" in page.body and "readme.txt" in page.body
    assert "97.7 KiB" in page.body and "2024-05-17 09:30" in page.body
    assert "nested.zip" in page.body and "archive, not opened" in page.body
    assert reader.bytes_read < len(data) / 2  # the compressed entries were never read


WESTERN = ["Über die Stadt und mehr.txt", "Café crème au lait.txt", "Zürich und Genève.txt"]
JAPANESE = ["報告書/第一四半期の売上.xlsx", "会議の議事録.docx", "写真/東京タワー.jpg"]


@pytest.mark.parametrize(
    ("encoding", "names"), [("cp437", WESTERN), ("cp1252", WESTERN), ("shift_jis", JAPANESE)]
)
def test_zip_names_without_the_utf8_flag_are_decoded_as_their_encoding(
    encoding: str, names: list[str]
) -> None:
    # zipfile writes any non-ASCII name in UTF-8 with the flag: write ASCII stand-ins of the same
    # length, then put the code page's bytes in their place (local headers and central directory).
    encoded = [name.encode(encoding) for name in names]
    stand_ins = [f"{index}".ljust(len(raw), "_") for index, raw in enumerate(encoded)]
    data = zip_with([(stand_in, b"x") for stand_in in stand_ins], force_zip64=True)
    for stand_in, raw in zip(stand_ins, encoded, strict=True):
        data = data.replace(stand_in.encode(), raw)

    page = shown("old.zip", data)

    for name in names:
        assert name.rsplit("/", 1)[-1] in page.body


def test_a_zip_bomb_is_listed_never_inflated() -> None:
    bomb = zip_with([(f"layer{i}.bin", b"\0" * 5_000_000) for i in range(4)])  # 20 MB in a few KB
    reader = Bytes(bomb)

    page = service.render(a_file("bomb.zip", len(bomb)), reader)

    assert "layer3.bin" in page.body and "4.8 MiB" in page.body
    assert reader.bytes_read <= len(bomb)


def test_an_archive_with_too_many_entries_lists_the_first_and_says_how_many(settings: Settings) -> None:
    data = zip_with([(f"f{i:05}.txt", b"") for i in range(settings.preview_zip_max_entries + 5)])

    page = shown("many.zip", data)

    assert "f00000.txt" in page.body and f"f{settings.preview_zip_max_entries:05}.txt" not in page.body
    assert f"of the archive's {settings.preview_zip_max_entries + 5:,} entries" in page.notes[0]


def test_not_a_zip_is_said_so() -> None:
    page = shown("fake.zip", b"this is not an archive at all" * 10)

    assert "not a readable ZIP archive" in page.body


def test_a_previewer_is_added_by_registering_it_and_a_failing_one_gives_way() -> None:
    registry = Registry()

    @previewer("broken", extensions=["fits"], registry=registry)
    def broken(file: PreviewFile, reader: Any) -> Page:
        raise RuntimeError("bug")

    @previewer("fits-header", extensions=["fits"], registry=registry)
    def header(file: PreviewFile, reader: Any) -> Page:
        return Page(body="<p>FITS " + reader.read(0, 6).decode() + "</p>")

    page = service.render(a_file("sky.fits", 6), Bytes(b"SIMPLE"), registry)

    assert page.body == "<p>FITS SIMPLE</p>"


def test_the_files_metadata_can_force_a_previewer() -> None:
    page = shown("notes.txt", b'{"a": 1}', previewer="json")

    assert 'class="highlight"' in page.body


def test_a_file_no_previewer_takes_gets_the_last_resort_page() -> None:
    page = shown("image.raw", b"\x01\x02")

    assert "No preview is available" in page.body


def test_the_page_allows_no_script_and_only_its_own_styles(settings: Settings) -> None:
    file = a_file("<b>evil</b>.txt", 10, description="<script>x</script>")
    html, headers = document(
        file, Page(body="<pre>x</pre>", styles=("p{}",)), download="/d", frame_ancestors="'self'"
    )
    policy = headers["Content-Security-Policy"]

    assert "default-src 'none'" in policy and "script-src" not in policy
    assert "frame-ancestors 'self'" in policy and "base-uri 'none'" in policy
    assert len(re.findall(r"'sha256-[^']+'", policy)) == 2
    assert "<b>evil</b>" not in html and "<script>x</script>" not in html
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert (
        content_security_policy(Page(body="", scripts=("/static/a.js",)), "'none'").count("script-src 'self'")
        == 1
    )


def test_registry_refuses_two_previewers_of_one_name() -> None:
    registry = Registry()
    previewer("same", registry=registry)(lambda file, reader: Page(body=""))

    with pytest.raises(ValueError, match="registered already"):
        previewer("same", registry=registry)(lambda file, reader: Page(body=""))


def a_picture(width: int, height: int, **facts: Any) -> PreviewFile:
    return PreviewFile(
        key="photos/p.png",
        size=1,
        mimetype=None,
        sniffed_type=facts.pop("sniffed", "image/png"),
        metadata={},
        download_url="https://data.s3.example/data/f?X-Amz-Signature=1",
        static="https://vellum.example/static",
        iiif_base="https://vellum.example/iiif/3/v1",
        image={"width": width, "height": height, **facts},
    )


def test_a_small_image_is_one_iiif_image_and_a_large_one_a_zoomable_viewer() -> None:
    small = service.render(a_picture(800, 600), Bytes(b""))
    large = service.render(a_picture(6000, 4000), Bytes(b""))

    assert '<img class="picture" src="https://vellum.example/iiif/3/v1/full/max/0/default.jpg"' in small.body
    assert small.scripts == () and small.images == ("https://vellum.example",)
    assert 'data-info="https://vellum.example/iiif/3/v1/info.json"' in large.body
    assert [url.rsplit("/", 1)[-1] for url in large.scripts] == ["openseadragon.min.js", "image-viewer.js"]


def test_an_animated_gif_is_shown_as_it_is_from_its_short_lived_url() -> None:
    page = service.render(a_picture(300, 200, sniffed="image/gif", frames=12), Bytes(b""))

    assert 'src="https://data.s3.example/data/f?X-Amz-Signature=1"' in page.body
    assert page.images == ("https://data.s3.example",)


def test_a_pdf_page_loads_pdfjs_which_reads_the_file_in_ranges_from_s3() -> None:
    file = PreviewFile(
        key="report.pdf",
        size=10,
        mimetype="application/pdf",
        sniffed_type="application/pdf",
        metadata={},
        download_url="https://data.s3.example/data/f?sig=1",
        static="https://vellum.example/static",
    )

    page = service.render(file, Bytes(b"%PDF-1.7"))
    policy = content_security_policy(page, "'self'")

    assert page.scripts == ("https://vellum.example/static/vellum/pdf-viewer.mjs",)
    assert 'data-src="https://data.s3.example/data/f?sig=1"' in page.body
    assert "connect-src https://data.s3.example https://vellum.example" in policy
    assert "worker-src https://vellum.example" in policy and "script-src 'self'" in policy


@pytest.mark.parametrize(("key", "tag"), [("talk.mp3", "audio"), ("clip.webm", "video")])
def test_audio_and_video_get_players_on_the_short_lived_url(key: str, tag: str) -> None:
    page = shown(key, b"\0" * 10)

    assert page.body.startswith(f'<{tag} controls preload="metadata" src="https://s3/x"')
    assert page.media == ("https://s3",)


def test_a_notebook_shows_its_cells_and_outputs_and_nothing_of_it_runs() -> None:
    page = shown("analysis.ipynb", hostile_notebook())

    assert "<h1>Analysis</h1>" in page.body and "In [3]:" in page.body
    assert 'class="highlight"' in page.body
    assert "hi &lt;b&gt;there&lt;/b&gt;" in page.body
    assert '<img src="data:image/png;base64,' in page.body
    assert "<td>42</td>" in page.body
    assert "alert(3)" not in page.body  # a JavaScript output is not shown at all
    assert "ValueError: bad" in page.body and "\x1b" not in page.body
    assert active_content(page.body) == []


def test_something_that_is_not_a_notebook_is_said_so() -> None:
    assert "not a Jupyter notebook" in shown("broken.ipynb", b'{"cells": 3}').body


def test_large_documents_make_pages_lambda_can_still_send(settings: Settings) -> None:
    from chalicelib.previews.page import MAX_PAGE_BYTES

    row = {"id": 1, "name": "item", "tags": ["a", "b"], "nested": {"x": None}}
    copies = settings.preview_structured_max_bytes // (len(json.dumps(row)) + 2)
    big_json = json.dumps([row] * copies).encode()
    assert len(big_json) <= settings.preview_structured_max_bytes  # valid, whole: pretty-printed
    digits = b"1,2,3,4,5,6,7,8\n" * (settings.preview_max_bytes // 16)

    for key, data in (("rows.json", big_json), ("digits.csv", digits), ("plain.txt", b'"&' * 500_000)):
        page = shown(key, data)
        html, _ = document(a_file(key, len(data)), page, download="/d", frame_ancestors="'self'")
        assert len(html.encode()) < MAX_PAGE_BYTES, key
        assert "too large to send" not in html, key


def test_a_page_too_large_to_send_is_replaced_by_a_short_one() -> None:
    from chalicelib.previews.page import MAX_PAGE_BYTES

    html, _ = document(
        a_file("x.txt", 1), Page(body="x" * (MAX_PAGE_BYTES + 1)), download="/d", frame_ancestors="'self'"
    )

    assert len(html) < 10_000 and "too large to send" in html


def test_relative_links_and_images_in_markdown_stay_inside_the_files_bucket() -> None:
    source = (
        b"[guide](guide.md) [table](../data/table%20v2.csv#top) [out](../../etc/passwd) "
        b"![plot](figures/plot.png) ![remote](https://evil.example/x.png) "
        b"![inline](data:image/png;base64,AA==)"
    )
    file = PreviewFile(
        key="docs/README.md",
        size=len(source),
        mimetype=None,
        sniffed_type=None,
        metadata={},
        download_url="https://data.s3.example/data/f?sig=1",
        static="https://vellum.example/static",
        sibling_page=lambda key: f"https://vellum.example/page/{key}",
        sibling_bytes=lambda key: f"https://vellum.example/bytes/{key}",
    )

    page = service.render(file, Bytes(source))
    elements = Elements(page.body).found

    assert [a.get("href") for tag, a in elements if tag == "a"] == [
        "https://vellum.example/page/docs/guide.md",
        "https://vellum.example/page/data/table v2.csv",
        None,  # above the bucket's root: no link
    ]
    assert [img.get("src") for tag, img in elements if tag == "img"] == [
        "https://vellum.example/bytes/docs/figures/plot.png",
        None,
        None,
    ]
    assert "https://data.s3.example" in page.images  # where the API's download redirects


def test_a_previewer_another_package_declares_as_an_entry_point_is_loaded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chalicelib.previews import registry as registry_module
    from chalicelib.previews.registry import FunctionPreviewer

    fits = FunctionPreviewer(
        name="fits",
        extensions=frozenset({"fits"}),
        mimetypes=frozenset(),
        render=lambda file, reader: Page(body="<p>a FITS header</p>"),
    )

    @dataclass
    class Declared:  # what importlib.metadata gives for `[project.entry-points."vellum.previewers"]`
        name: str

        def load(self) -> Any:
            return fits

    monkeypatch.setattr(
        registry_module,
        "entry_points",
        lambda group: [Declared("fits")] if group == "vellum.previewers" else [],
    )
    registry = Registry()
    registry.load_entry_points()

    assert service.render(a_file("sky.fits", 6), Bytes(b"SIMPLE"), registry).body == "<p>a FITS header</p>"
