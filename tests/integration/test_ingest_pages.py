"""Multi-page files become one IIIF image per page: PDFs (rendered by PDFium in a child process)
and multi-page TIFFs, made in batches that fan out over the ingest queue."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
import requests
from chalice.test import Client
from PIL import Image

from chalicelib.files import storage
from chalicelib.files.keys import encode_key
from chalicelib.settings import get_settings
from tests import samples
from tests.helpers import (
    ALICE,
    call,
    complete,
    create,
    drain,
    ingested,
    initiate,
    new_bucket,
    object_path,
    png,
    put,
    stored_key,
    upload,
    valid_manifest,
)


def image(api: Client, path: str) -> Image.Image:
    response = api.http.get(path)
    assert response.status_code == 200, response.body
    return Image.open(io.BytesIO(response.body)).convert("RGB")


def info(api: Client, identifier: str) -> dict[str, Any]:
    response = api.http.get(f"/iiif/3/{identifier}/info.json")
    assert response.status_code == 200, response.body
    return json.loads(response.body)  # type: ignore[no-any-return]


SMALL_PAGES = 1000  # pixels on a page's longest side in these tests (the default's tiles cost seconds)


def settings_with(monkeypatch: pytest.MonkeyPatch, **changes: Any) -> None:
    from chalicelib.ingest import describe, pages

    changed = get_settings().model_copy(update={"pdf_page_pixels": SMALL_PAGES, **changes})
    for module in (pages, describe):
        monkeypatch.setattr(module, "get_settings", lambda: changed)


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    settings_with(monkeypatch)


def test_each_page_of_a_pdf_is_an_image_of_its_own(
    api: Client, pump: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings_with(monkeypatch, pdf_page_pixels=get_settings().pdf_page_pixels)  # the default
    pages = ["First page", "Second page", samples.PdfPage("Landscape", size=(792, 612))]
    version, meta = ingested(api, pump, samples.pdf(pages), "book.pdf")

    assert meta["ingest"] == {
        "state": "done",
        "type": "application/pdf",
        "image": {"width": 2319, "height": 3000},  # its first page's: 3,000 px on the long side
        "thumbnail": [198, 256],
        "pages": {"done": 3, "total": 3},
    }
    assert (info(api, f"{version}~p2")["width"], info(api, f"{version}~p2")["height"]) == (2319, 3000)
    assert (info(api, f"{version}~p3")["width"], info(api, f"{version}~p3")["height"]) == (3000, 2319)
    # The version's own identifier is its first page.
    assert info(api, version)["width"] == info(api, f"{version}~p1")["width"] == 2319
    assert info(api, f"{version}~p2")["id"].endswith(f"/iiif/3/{version}~p2")
    for missing in ("~p4", "~p0", "~p01", "~pages"):
        assert api.http.get(f"/iiif/3/{version}{missing}/info.json").status_code == 404, missing

    # Page 2's words stand where they are drawn: its first word's box holds black pixels.
    words = json.loads(storage.get_derivative(meta["file_id"], "page/2/words.json") or b"{}")
    word, x, y, w, h = words["words"][0]
    assert (word, words["page"]) == ("Second", 2)
    cut = image(api, f"/iiif/3/{version}~p2/{x},{y},{w},{h}/max/0/default.png")
    assert cut.convert("L").getextrema()[0] < 60
    blank = image(api, f"/iiif/3/{version}~p2/{x},{y + 3 * h},{w},{h}/max/0/default.png")
    assert blank.convert("L").getextrema()[0] > 240


def test_a_page_is_served_from_its_own_pixels_at_every_size(api: Client, pump: Any) -> None:
    version, _ = ingested(api, pump, samples.pdf(["Alpha", "Beta"]), "two.pdf")

    # Stored tiles, a thumbnail, a level and a size rendered on demand all answer.
    for path in ("0,0,512,512/512,/0/default.jpg", "full/256,/0/default.jpg", "full/500,/0/default.jpg"):
        assert api.http.get(f"/iiif/3/{version}~p2/{path}").status_code == 200, path
    full = image(api, f"/iiif/3/{version}~p2/full/max/0/default.png")
    assert full.size == (773, 1000)
    assert full.getpixel((5, 5)) == (255, 255, 255)  # rendered on white


def test_a_long_pdf_fans_out_in_batches_and_shows_its_progress(
    api: Client, pump: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings_with(monkeypatch, pages_per_batch=2, pdf_page_pixels=400)
    bucket = new_bucket(api)
    drain(pump)
    content = samples.pdf([f"Page {number}" for number in range(1, 6)])
    upload = initiate(api, bucket, len(content), key="long.pdf")
    put(upload["parts"][0], content)
    complete(api, bucket, upload["id"], key="long.pdf")

    pump.poll_once(wait_seconds=0)  # the file: its first batch, and notices for the two others

    meta = call(api, "get", f"{object_path(bucket, 'long.pdf')}?meta")[1]
    assert meta["ingest"]["state"] == "pending"
    assert meta["ingest"]["pages"] == {"done": 2, "total": 5}
    drain(pump)
    meta = call(api, "get", f"{object_path(bucket, 'long.pdf')}?meta")[1]
    assert meta["ingest"]["state"] == "done"
    assert meta["ingest"]["pages"] == {"done": 5, "total": 5}
    file_id = stored_key(api, bucket, "long.pdf").removeprefix("data/")
    for page in range(1, 6):
        assert storage.get_derivative(file_id, f"page/{page}/level/0") is not None


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (samples.encrypted_pdf(), "the PDF is encrypted: Vellum cannot open it to show its pages"),
        (b"%PDF-1.7\n" + b"\x00garbage" * 64, "the PDF cannot be read: its data is damaged or not a PDF"),
        (samples.pdf_declaring_pages(3), "the PDF has 3 pages, more than the 2 allowed"),
    ],
    ids=["encrypted", "damaged", "too-many-pages"],
)
def test_a_pdf_that_cannot_be_paged_fails_once_with_its_reason(
    api: Client, pump: Any, monkeypatch: pytest.MonkeyPatch, content: bytes, reason: str
) -> None:
    settings_with(monkeypatch, max_pages=2)

    version, meta = ingested(api, pump, content, "doc.pdf")

    assert meta["ingest"] == {"state": "failed", "type": "application/pdf", "reason": reason}
    assert api.http.get(f"/iiif/3/{version}/info.json").status_code == 404
    assert pump.poll_once(wait_seconds=0) == 0  # nothing retried


def test_a_pdf_over_the_pixel_budget_is_refused(
    api: Client, pump: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings_with(monkeypatch, max_document_pixels=1_000_000)  # under two pages of 773 x 1000

    _, meta = ingested(api, pump, samples.pdf(["One", "Two"]), "big.pdf")

    assert meta["ingest"]["state"] == "failed"
    assert meta["ingest"]["reason"] == "the PDF's pages have more than the 1000000 pixels allowed in all"


def test_a_pdf_pdfium_never_finishes_with_is_refused_in_bounded_time(
    api: Client, pump: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.ingest import pdf

    settings_with(monkeypatch, page_render_seconds=1)
    monkeypatch.setattr(pdf, "_MODULE", "tests.children.hang")  # as PDFium looping on a hostile file

    _, meta = ingested(api, pump, samples.pdf(["Never"]), "loop.pdf")

    assert meta["ingest"]["state"] == "failed"
    assert meta["ingest"]["reason"] == pdf._GAVE_UP
    assert pump.poll_once(wait_seconds=0) == 0


def test_each_page_of_a_multi_page_tiff_is_an_image_of_its_own(api: Client, pump: Any) -> None:
    version, meta = ingested(api, pump, samples.tiff([(300, 200), (250, 400), (120, 90)]), "scan.tif")

    assert meta["ingest"]["pages"] == {"done": 3, "total": 3}
    assert meta["ingest"]["image"] == {"width": 300, "height": 200}
    for page, size in ((1, (300, 200)), (2, (250, 400)), (3, (120, 90))):
        picture = image(api, f"/iiif/3/{version}~p{page}/full/max/0/default.png")
        assert picture.size == size
        assert picture.getpixel((2, 2)) == samples.page_colour(page)


def test_a_single_page_tiff_stays_a_still_image(api: Client, pump: Any) -> None:
    version, meta = ingested(api, pump, samples.tiff([(300, 200)]), "one.tif")

    assert "pages" not in meta["ingest"]
    assert api.http.get(f"/iiif/3/{version}~p1/info.json").status_code == 404
    assert image(api, f"/iiif/3/{version}/full/max/0/default.png").size == (300, 200)


def test_a_record_s_manifest_has_a_canvas_per_page_and_a_range_per_multi_page_file(
    api: Client, pump: Any
) -> None:
    drain(pump)
    record = create(api, {"title": "Scans"})
    upload(api, record, "cover.png", png(400, 300))
    book = samples.pdf(["Chapter one", "Chapter two"])
    upload(api, record, "book.pdf", book)
    upload(api, record, "plates.tif", samples.tiff([(300, 200), (200, 300)]))
    described = call(
        api,
        "put",
        f"/records/{record['id']}/files/{encode_key('book.pdf')}/metadata",
        {"description": "The book"},
    )
    assert described[0] == 200, described
    call(api, "post", f"/records/{record['id']}/publish")
    drain(pump)

    response = api.http.get(f"/iiif/presentation/{record['id']}/manifest")

    manifest = json.loads(response.body)
    valid_manifest(manifest)
    canvases = manifest["items"]
    assert [canvas["label"]["none"][0] for canvas in canvases] == [
        "cover.png",
        "The book, page 1",
        "The book, page 2",
        "plates.tif, page 1",
        "plates.tif, page 2",
    ]
    assert [(canvas["width"], canvas["height"]) for canvas in canvases] == [
        (400, 300),
        (773, 1000),
        (773, 1000),
        (300, 200),
        (200, 300),
    ]
    services = [canvas["items"][0]["items"][0]["body"]["service"][0]["id"] for canvas in canvases]
    assert [service.rsplit("/", 1)[1].split("~")[1:] for service in services] == [
        [],
        ["p1"],
        ["p2"],
        ["p1"],
        ["p2"],
    ]
    for service in services[1:]:  # each page's service answers, with its canvas's size
        assert api.http.get(f"{service.split('localhost', 1)[1]}/info.json").status_code == 200
    assert [structure["label"]["none"][0] for structure in manifest["structures"]] == [
        "The book",
        "plates.tif",
    ]
    assert [[item["id"] for item in structure["items"]] for structure in manifest["structures"]] == [
        [canvases[1]["id"], canvases[2]["id"]],
        [canvases[3]["id"], canvases[4]["id"]],
    ]
    assert "rendering" not in canvases[0]
    [rendering] = canvases[2]["rendering"]
    assert (rendering["type"], rendering["format"]) == ("Text", "application/pdf")
    assert rendering["id"].endswith(f"/records/{record['id']}/files/{encode_key('book.pdf')}/content")
    status, _, headers = call(api, "get", rendering["id"].split("localhost", 1)[1], headers={})
    assert status == 302
    assert requests.get(headers["Location"], timeout=30).content == book
    assert canvases[4]["rendering"][0]["type"] == "Image"
    # A page's thumbnail is one ingest stored.
    thumbnail = canvases[2]["thumbnail"][0]["id"].split("localhost", 1)[1]
    assert (thumbnail.split("/")[-3], api.http.get(thumbnail).status_code) == ("198,256", 200)


def test_a_restricted_pdf_s_pages_are_behind_the_authorization_flow_like_any_image(
    api: Client, pump: Any
) -> None:
    drain(pump)
    record = create(api, {"title": "Minutes"}, access={"record": "public", "files": "restricted"})
    upload(api, record, "minutes.pdf", samples.pdf(["Closed session", "Votes"]))
    call(api, "post", f"/records/{record['id']}/publish")
    drain(pump)

    manifest = json.loads(api.http.get(f"/iiif/presentation/{record['id']}/manifest").body)

    valid_manifest(manifest)
    [_, page_two] = manifest["items"]
    assert page_two["label"] == {"none": ["File 1, page 2"]}  # its name is not for anyone
    service = page_two["items"][0]["items"][0]["body"]["service"][0]
    probe = next(s for s in service["service"] if s["type"] == "AuthProbeService2")
    identifier = service["id"].rsplit("/", 1)[1]
    assert identifier.endswith("~p2") and probe["id"].endswith(f"/auth/probe/{identifier}")
    probe_path = probe["id"].split("localhost", 1)[1]
    assert json.loads(api.http.get(probe_path).body)["status"] == 401
    assert json.loads(api.http.get(probe_path, headers=ALICE).body)["status"] == 200
    tile = f"/iiif/3/{identifier}/full/256,/0/default.jpg"
    assert api.http.get(tile).status_code == 401
    assert api.http.get(tile, headers=ALICE).status_code == 200


def test_content_search_finds_words_on_their_pages_whatever_their_case_and_accents(
    api: Client, pump: Any
) -> None:
    drain(pump)
    record = create(api, {"title": "Minutes"}, access={"record": "public", "files": "public"})
    upload(api, record, "cover.png", png(400, 300))
    upload(api, record, "minutes.pdf", samples.pdf(["Opening of the session", "Le café était fermé"]))
    call(api, "post", f"/records/{record['id']}/publish")
    drain(pump)
    manifest = json.loads(api.http.get(f"/iiif/presentation/{record['id']}/manifest").body)
    valid_manifest(manifest)
    services = {service.get("type") or service.get("@type"): service for service in manifest["service"]}
    search2 = services["SearchService2"]["id"].split("localhost", 1)[1]
    assert services["SearchService1"]["profile"] == "http://iiif.io/api/search/1/search"

    found = json.loads(api.http.get(f"{search2}?q=CAFE%20etait").body)

    assert found["partOf"]["total"] == 1
    [cafe, etait] = found["items"]
    page_two = manifest["items"][2]["id"]  # the cover, then the PDF's pages
    assert cafe["target"].startswith(f"{page_two}#xywh=") and etait["target"].startswith(f"{page_two}#xywh=")
    assert (cafe["body"]["value"], etait["body"]["value"]) == ("café", "était")
    [context] = found["annotations"][0]["items"]
    assert context["target"]["selector"][0] == {
        "type": "TextQuoteSelector",
        "prefix": "Le ",
        "exact": "café était",
        "suffix": " fermé",
    }
    # The box holds the word: ink there, and white beside it.
    x, y, w, h = map(int, cafe["target"].split("#xywh=")[1].split(","))
    identifier = manifest["items"][2]["items"][0]["items"][0]["body"]["service"][0]["id"].rsplit("/", 1)[1]
    ink = image(api, f"/iiif/3/{identifier}/{x},{y},{w},{h}/max/0/default.png").convert("L")
    assert ink.getextrema()[0] < 60

    search1 = services["SearchService1"]["@id"].split("localhost", 1)[1]
    old = json.loads(api.http.get(f"{search1}?q=fermé").body)
    assert old["within"]["total"] == 1
    [hit] = old["hits"]
    assert (hit["match"], hit["before"], hit["after"]) == ("fermé", "Le café était", "")
    assert [resource["on"].split("#")[0] for resource in old["resources"]] == [page_two]
    assert old["resources"][0]["@id"] == hit["annotations"][0]

    assert json.loads(api.http.get(f"{search2}?q=ession").body)["items"] == []  # words start there
    assert api.http.get(f"{search2}").status_code == 400
    assert api.http.get(f"{search2}?q=x&page=0").status_code == 400


def test_content_search_pages_its_hits(api: Client, pump: Any) -> None:
    drain(pump)
    record = create(api, {"title": "Echo"})
    upload(api, record, "echo.pdf", samples.pdf([" ".join(["echo"] * 30)] * 4))  # 120 hits
    drain(pump)
    search = f"/iiif/search/2/{record['id']}"

    first = json.loads(api.http.get(f"{search}?q=echo", headers=ALICE).body)
    last = json.loads(
        api.http.get(first["partOf"]["last"]["id"].split("localhost", 1)[1], headers=ALICE).body
    )

    assert (first["partOf"]["total"], len(first["items"]), first["startIndex"]) == (120, 50, 0)
    assert first["next"]["id"].endswith("q=echo&page=2")
    assert (len(last["items"]), last["startIndex"], "next" in last) == (20, 100, False)
    # A draft's text is its owner's: others find nothing, and learn nothing of it.
    assert api.http.get(f"{search}?q=echo").status_code == 404


def test_a_300_page_pdf_is_made_in_fifteen_batches_and_searched_on_its_last_page(
    api: Client, pump: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings_with(monkeypatch, pdf_page_pixels=300)  # small pages: the fan-out is what is tried here
    drain(pump)
    record = create(api, {"title": "Long"})
    upload(api, record, "long.pdf", samples.pdf([f"Leaf {number} of the book" for number in range(1, 301)]))
    sent = []
    from chalicelib.files import notices

    announce = notices.announce_pages
    monkeypatch.setattr(
        "chalicelib.ingest.pages.announce_pages",
        lambda file_id, batches: (sent.extend(batches), announce(file_id, batches)),
    )
    drain(pump)

    assert len(sent) == 14 and sent[-1] == (281, 300)  # the first batch was made by the file's ingest
    meta = call(api, "get", f"/records/{record['id']}/files/{encode_key('long.pdf')}?meta")
    assert meta[0] == 200 and meta[1]["ingest"]["pages"] == {"done": 300, "total": 300}
    found = json.loads(api.http.get(f"/iiif/search/2/{record['id']}?q=leaf%20300", headers=ALICE).body)
    [word, _] = found["items"]
    assert word["target"].split("#")[0].endswith("/canvas/300")


@pytest.mark.parametrize("format", ["HEIF", "AVIF"])
def test_a_phone_photo_is_an_image_served_upright(api: Client, pump: Any, format: str) -> None:
    version, meta = ingested(api, pump, samples.phone_photo(format, orientation=6), "IMG_0001.bin")

    assert meta["ingest"]["image"] == {"width": 200, "height": 300}
    upright = image(api, f"/iiif/3/{version}/full/max/0/default.png")
    assert upright.size == (200, 300)
    # Stored sideways with the blue corner top left; turned a quarter clockwise, it is top right.
    red, _, blue = upright.getpixel((190, 10))  # type: ignore[misc]
    assert blue > 200 and red < 60
    assert image(api, f"/iiif/3/{version}/full/100,/0/default.jpg").size == (100, 150)
