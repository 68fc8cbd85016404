"""Preview pages through the API, on moto: who may see them, what they show, and their headers."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from chalice.test import Client

from chalicelib.files.keys import encode_key
from tests.helpers import ALICE, BOB, call, create, drain, new_bucket, png, store, upload


def preview(api: Client, path: str, headers: dict[str, str] | None = None) -> Any:
    return api.http.get(path, headers=headers or {})


def test_a_public_objects_preview_is_an_inert_html_page(api: Client) -> None:
    bucket = new_bucket(api, public_read=True)
    version = store(
        api, bucket, "tables/prices.csv", b"item,price\nbread,2\n<img src=x onerror=alert(1)>,3\n"
    )

    answer = preview(api, version["links"]["preview"].split("localhost", 1)[1])

    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "default-src 'none'" in answer.headers["Content-Security-Policy"]
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    page = answer.body.decode()
    assert "<th>price</th>" in page and "<td>bread</td>" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert f"/files/{bucket}/{encode_key('tables/prices.csv')}?download=" in page


def test_a_private_objects_preview_is_its_owners_alone(api: Client) -> None:
    bucket = new_bucket(api)
    store(api, bucket, "notes.txt", b"private words")
    path = f"/files/{bucket}/{encode_key('notes.txt')}?preview"

    assert preview(api, path).status_code == 404  # hidden, as downloading it is
    assert preview(api, path, BOB).status_code == 404
    owners = preview(api, path, ALICE)
    assert owners.status_code == 200 and "private words" in owners.body.decode()


def test_an_older_version_and_a_deleted_head_answer_as_downloads_do(api: Client) -> None:
    bucket = new_bucket(api)
    first = store(api, bucket, "notes.txt", b"first words")
    store(api, bucket, "notes.txt", b"second words")
    path = f"/files/{bucket}/{encode_key('notes.txt')}"

    older = preview(api, f"{path}?preview&versionId={first['version_id']}", ALICE)
    assert "first words" in older.body.decode()
    assert call(api, "delete", path)[0] == 204
    gone = preview(api, f"{path}?preview", ALICE)
    assert gone.status_code == 404 and gone.headers["Content-Type"] == "application/json"


def test_a_records_file_preview_shows_what_the_record_says_about_it(api: Client) -> None:
    record = create(api, {"title": "Survey"})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("answers/2024.csv", b"a,b\n")
    upload(api, record, "answers.zip", buffer.getvalue())
    call(
        api,
        "put",
        f"/records/{record['id']}/files/{encode_key('answers.zip')}/metadata",
        {"description": "Raw answers"},
    )

    entry = call(api, "get", f"/records/{record['id']}")[1]["files"]["entries"]["answers.zip"]
    answer = preview(api, entry["links"]["preview"].split("localhost", 1)[1], ALICE)

    page = answer.body.decode()
    assert answer.status_code == 200
    assert "<dt>description</dt><dd>Raw answers</dd>" in page
    assert "answers/" in page and "2024.csv" in page
    assert preview(api, f"/records/{record['id']}/preview/{encode_key('answers.zip')}").status_code == 404


def test_static_files_are_served_with_their_type_and_only_those_that_exist(api: Client) -> None:
    from chalicelib.previews import assets

    own = api.http.get("/static/vellum/pdf-viewer.mjs")
    library = api.http.get(f"/static/{assets.library('pdfjs')}/pdf.min.mjs")

    assert own.status_code == 200 and own.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert own.headers["Cache-Control"] == "public, max-age=300"
    assert library.status_code == 200 and "immutable" in library.headers["Cache-Control"]
    assert api.http.get("/static/vellum/nothing.js").status_code == 404
    assert api.http.get("/static/vendor/.lock").status_code == 404


def test_a_records_readme_links_stay_in_the_records_pages(api: Client) -> None:
    record = create(api, {"title": "Survey"})
    upload(api, record, "README.md", b"See [the answers](data/answers.csv) and ![map](img/map.png).")

    page = preview(api, f"/records/{record['id']}/preview/{encode_key('README.md')}", ALICE).body.decode()

    assert f'href="http://localhost/records/{record["id"]}/preview/{encode_key("data/answers.csv")}"' in page
    assert f'src="http://localhost/records/{record["id"]}/files/{encode_key("img/map.png")}/content"' in page


def test_a_records_preview_shows_the_files_own_type_and_links_its_record_and_manifest(
    api: Client, pump: Any
) -> None:
    record = create(api, {"title": "Field notes"})
    upload(api, record, "notes.md", b"# Notes\n\nplain words\n")
    upload(api, record, "table.csv", b"a,b\n1,2\n")
    upload(api, record, "photo.png", png(300, 200))
    drain(pump)  # ingest sniffs each file (libmagic: plain text) and describes the image
    pages = {
        key: preview(api, f"/records/{record['id']}/preview/{encode_key(key)}", ALICE).body.decode()
        for key in ("notes.md", "table.csv", "photo.png")
    }

    assert "· text/markdown</p>" in pages["notes.md"]
    assert "· text/csv</p>" in pages["table.csv"]
    own = f"http://localhost/records/{record['id']}"
    for page in pages.values():
        assert f'href="{own}"' in page
    manifest = f"http://localhost/iiif/presentation/{record['id']}/manifest"
    assert f'href="{manifest}"' in pages["photo.png"]
    assert "manifest" not in pages["notes.md"]
