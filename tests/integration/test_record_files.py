"""A record's files through the record's routes, on moto: upload, describe, order, publish, access."""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests
from chalice.test import Client

from chalicelib.files.keys import encode_key
from local.pump import EventPump
from tests.helpers import ADMIN, BOB, call, create, drain, upload, valid_manifest


def test_a_record_gets_three_described_files_in_its_order_and_publishes_them_frozen(api: Client) -> None:
    record = create(api, {"title": "Survey"})
    contents = {"data.csv": b"a,b\n1,2\n", "readme.md": b"# Survey\n", "photo.jpg": b"\xff\xd8\xff fake"}
    for key, content in contents.items():
        assert upload(api, record, key, content) == 200
    for key in contents:
        status, _, _ = call(
            api, "put", f"/records/{record['id']}/files/{encode_key(key)}/metadata", {"description": key}
        )
        assert status == 200
    assert (
        call(api, "put", f"/records/{record['id']}/files", {"order": ["readme.md", "photo.jpg", "data.csv"]})[
            0
        ]
        == 200
    )

    read = call(api, "get", f"/records/{record['id']}")[1]
    assert read["files"]["order"] == ["readme.md", "photo.jpg", "data.csv"]
    assert read["files"]["entries"]["data.csv"]["metadata"] == {"description": "data.csv"}
    assert read["files"]["entries"]["data.csv"]["size"] == 8

    assert call(api, "post", f"/records/{record['id']}/publish")[0] == 200
    assert upload(api, record, "late.txt", b"too late") == 403
    assert (
        call(api, "put", f"/records/{record['id']}/files/{encode_key('data.csv')}/metadata", {"x": 1})[0]
        == 403
    )
    assert call(api, "delete", f"/records/{record['id']}/files/{encode_key('data.csv')}")[0] == 403
    assert call(api, "put", f"/records/{record['id']}/files", {"order": ["data.csv"]})[0] == 403

    # Published, public: anyone reads the record and downloads its files.
    status, _, headers = call(
        api, "get", f"/records/{record['id']}/files/{encode_key('data.csv')}/content", headers={}
    )
    assert status == 302
    assert requests.get(headers["Location"], timeout=30).content == contents["data.csv"]


def test_restricted_files_of_a_public_record_are_for_its_owners_only(api: Client) -> None:
    record = create(api, {"title": "Embargoed"}, access={"record": "public", "files": "restricted"})
    upload(api, record, "secret.csv", b"x")
    call(api, "post", f"/records/{record['id']}/publish")

    seen = call(api, "get", f"/records/{record['id']}", headers=BOB)[1]

    assert seen["metadata"] == {"title": "Embargoed"}
    assert "entries" not in seen["files"]
    assert (
        call(api, "get", f"/records/{record['id']}/files/{encode_key('secret.csv')}/content", headers=BOB)[0]
        == 404
    )
    assert call(api, "get", f"/records/{record['id']}/files/{encode_key('secret.csv')}/content")[0] == 302


def test_only_a_drafts_owner_uploads_to_it(api: Client) -> None:
    record = create(api)

    assert upload(api, record, "mine.txt", b"x", headers=BOB) == 404


def test_file_metadata_is_a_bounded_object_for_an_existing_file(api: Client) -> None:
    record = create(api)
    upload(api, record, "data.csv", b"x")
    path = f"/records/{record['id']}/files/{encode_key('data.csv')}/metadata"

    assert call(api, "put", path, {"blob": "x" * 20_000})[0] == 400
    assert (
        call(api, "put", f"/records/{record['id']}/files/{encode_key('none.csv')}/metadata", {"a": 1})[0]
        == 404
    )
    assert call(api, "get", path)[1] == {}


def test_an_order_naming_unknown_or_repeated_keys_is_refused(api: Client) -> None:
    record = create(api)
    upload(api, record, "a.txt", b"x")

    assert call(api, "put", f"/records/{record['id']}/files", {"order": ["a.txt", "a.txt"]})[0] == 400
    assert call(api, "put", f"/records/{record['id']}/files", {"order": ["b.txt"]})[0] == 404


def stored_objects() -> set[str]:
    from chalicelib import aws

    listed = aws.s3().list_objects_v2(Bucket="vellum-local-data", Prefix="data/").get("Contents", [])
    return {item["Key"] for item in listed}


def test_a_new_version_shares_unchanged_files_and_leaves_the_old_one_intact(api: Client) -> None:
    first = create(api, {"title": "Survey v1"})
    for key in ("a.csv", "b.csv", "c.csv"):
        upload(api, first, key, key.encode() * 10)
    call(api, "post", f"/records/{first['id']}/publish")
    before = stored_objects()

    status, second, _ = call(api, "post", f"/records/{first['id']}/versions")
    assert status == 201
    assert (second["state"], second["versions"]) == ("draft", {"parent": first["id"], "index": 2})
    assert set(second["files"]["entries"]) == {"a.csv", "b.csv", "c.csv"}
    assert stored_objects() == before  # a snapshot copies no byte

    # Replace one file and drop another in the new draft; then publish it.
    assert upload(api, second, "b.csv", b"new b") == 200
    assert call(api, "delete", f"/records/{second['id']}/files/{encode_key('c.csv')}")[0] == 204
    call(api, "put", f"/records/{second['id']}", {"metadata": {"title": "Survey v2"}})
    assert call(api, "post", f"/records/{second['id']}/publish")[0] == 200

    old = call(api, "get", f"/records/{first['id']}")[1]
    new = call(api, "get", f"/records/{second['id']}")[1]
    assert set(old["files"]["entries"]) == {"a.csv", "b.csv", "c.csv"}
    assert old["files"]["entries"]["b.csv"]["size"] == 50
    assert set(new["files"]["entries"]) == {"a.csv", "b.csv"}
    assert new["files"]["entries"]["a.csv"]["checksum"] == old["files"]["entries"]["a.csv"]["checksum"]
    assert len(stored_objects() - before) == 1  # only the replaced b.csv was stored anew
    old_c = call(api, "get", f"/records/{first['id']}/files/{encode_key('c.csv')}/content")[2]["Location"]
    assert requests.get(old_c, timeout=30).content == b"c.csv" * 10

    versions = call(api, "get", f"/records/{second['id']}/versions")[1]["versions"]
    assert [(v["versions"]["index"], v["versions"]["is_latest"]) for v in versions] == [(1, False), (2, True)]
    status, _, headers = call(api, "get", f"/records/{first['id']}/latest")
    assert (status, headers["Location"].endswith(f"/records/{second['id']}")) == (302, True)


def test_a_new_version_keeps_the_limits_an_admin_granted_its_record(api: Client) -> None:
    first = create(api, {"title": "Large survey"})
    granted = {"quota_size": 200 * 1024**3, "max_file_size": 100 * 1024**3}
    assert call(api, "patch", f"/files/{first['bucket_id']}", granted, ADMIN)[0] == 200
    upload(api, first, "a.csv", b"a,b\n")
    call(api, "post", f"/records/{first['id']}/publish")

    _, second, _ = call(api, "post", f"/records/{first['id']}/versions")

    _, bucket, _ = call(api, "get", f"/files/{second['bucket_id']}")
    assert {name: bucket[name] for name in granted} == granted


def test_only_a_published_record_gets_a_new_version(api: Client) -> None:
    draft = create(api)

    assert call(api, "post", f"/records/{draft['id']}/versions")[0] == 409


def test_a_records_images_make_a_iiif_presentation_manifest_in_its_file_order(api: Client, pump: Any) -> None:
    import io

    from PIL import Image

    drain(pump)
    record = create(
        api,
        {
            "title": "Album",
            "license": "https://creativecommons.org/licenses/by/4.0/",
            "creator": "A. Photographer",
        },
    )
    for key, colour in (("one.png", "red"), ("two.png", "blue")):
        buffer = io.BytesIO()
        Image.new("RGB", (640, 480), colour).save(buffer, format="PNG")
        upload(api, record, key, buffer.getvalue())
    upload(api, record, "notes.txt", b"not an image")
    call(
        api, "put", f"/records/{record['id']}/files/{encode_key('two.png')}/metadata", {"description": "Blue"}
    )
    call(api, "put", f"/records/{record['id']}/files", {"order": ["two.png", "notes.txt", "one.png"]})
    call(api, "post", f"/records/{record['id']}/publish")
    drain(pump)  # ingest describes the images

    response = api.http.get(f"/iiif/presentation/{record['id']}/manifest")

    manifest = json.loads(response.body)
    assert response.status_code == 200
    valid_manifest(manifest)
    assert (manifest["type"], manifest["label"]) == ("Manifest", {"none": ["Album"]})
    assert "structures" not in manifest  # no file has pages
    assert manifest["rights"] == "https://creativecommons.org/licenses/by/4.0/"
    assert manifest["requiredStatement"]["value"] == {"none": ["A. Photographer"]}
    assert [canvas["label"]["none"][0] for canvas in manifest["items"]] == ["Blue", "one.png"]
    body = manifest["items"][0]["items"][0]["items"][0]["body"]
    assert (body["width"], body["height"], body["service"][0]["type"]) == (640, 480, "ImageService3")
    service_id = body["service"][0]["id"].split("localhost", 1)[1]
    info = api.http.get(f"{service_id}/info.json")
    assert info.status_code == 200
    assert json.loads(info.body)["rights"] == "https://creativecommons.org/licenses/by/4.0/"  # the record's
    info_2 = json.loads(api.http.get(f"{service_id.replace('/iiif/3/', '/iiif/2/')}/info.json").body)
    assert info_2["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert call(api, "get", f"/records/{record['id']}")[1]["links"]["iiif_manifest"].endswith("/manifest")


def test_renaming_a_file_makes_a_version_sharing_its_bytes(api: Client) -> None:
    record = create(api)
    upload(api, record, "draft name.csv", b"a,b\n")
    before = stored_objects()

    status, moved, _ = call(
        api,
        "post",
        f"/records/{record['id']}/files/{encode_key('draft name.csv')}?rename",
        {"to": "final.csv"},
    )

    assert (status, moved["key"], moved["is_head"]) == (200, "final.csv", True)
    entries = call(api, "get", f"/records/{record['id']}")[1]["files"]["entries"]
    assert set(entries) == {"final.csv"}
    assert stored_objects() == before  # no byte copied
    content = call(api, "get", f"/records/{record['id']}/files/{encode_key('final.csv')}/content")[2][
        "Location"
    ]
    assert requests.get(content, timeout=30).content == b"a,b\n"
    versions = call(api, "get", f"/files/{record['bucket_id']}?versions")[1]["contents"]
    assert [(v["key"], v["delete_marker"]) for v in versions] == [
        ("draft name.csv", False),
        ("draft name.csv", True),
        ("final.csv", False),
    ]


def test_a_renamed_file_keeps_its_description_and_place(api: Client) -> None:
    record = create(api)
    for key in ("a.csv", "b.csv", "c.csv"):
        upload(api, record, key, b"x")
    base = f"/records/{record['id']}/files"
    call(api, "put", f"{base}/{encode_key('b.csv')}/metadata", {"description": "The middle one"})
    call(api, "put", base, {"order": ["c.csv", "b.csv", "a.csv"]})

    links = call(api, "get", f"/records/{record['id']}")[1]["files"]["entries"]["b.csv"]["links"]
    assert links["metadata"] == f"http://localhost{base}/{encode_key('b.csv')}/metadata"
    assert call(api, "post", f"{links['self']}?rename", {"to": "middle.csv"})[0] == 200

    files = call(api, "get", f"/records/{record['id']}")[1]["files"]
    assert files["order"] == ["c.csv", "middle.csv", "a.csv"]
    assert files["entries"]["middle.csv"]["metadata"] == {"description": "The middle one"}
    described = call(api, "get", f"{base}/{encode_key('middle.csv')}/metadata")[1]
    assert described == {"description": "The middle one"}


def test_a_drafts_file_is_restored_to_an_older_version_and_a_published_one_is_not(api: Client) -> None:
    record = create(api)
    upload(api, record, "data.csv", b"first")
    upload(api, record, "data.csv", b"second")
    versions = call(api, "get", f"/files/{record['bucket_id']}?versions")[1]["contents"]
    path = f"/records/{record['id']}/files/{encode_key('data.csv')}"
    first = f"{path}?restore&versionId={versions[0]['version_id']}"

    assert call(api, "post", first)[0] == 200
    content = call(api, "get", f"{path}/content")[2]["Location"]
    assert requests.get(content, timeout=30).content == b"first"

    call(api, "post", f"/records/{record['id']}/publish")
    assert call(api, "post", first)[0] == 403


def test_descriptions_saved_at_once_are_all_kept(api: Client) -> None:
    from chalicelib.auth.principal import Principal
    from chalicelib.records import files

    record = create(api)
    keys = [f"{n}.csv" for n in range(8)]
    for key in keys:
        upload(api, record, key, b"x")
    alice = Principal(sub="alice", roles=frozenset())

    # The service itself, from threads, as concurrent Lambda invocations would call it.
    with ThreadPoolExecutor(max_workers=len(keys)) as pool:
        describe = files.set_file_metadata
        saving = [pool.submit(describe, alice, record["id"], k, {"description": k}) for k in keys]
        for saved in saving:
            saved.result()  # none refused

    entries = call(api, "get", f"/records/{record['id']}")[1]["files"]["entries"]
    assert {key: entries[key]["metadata"].get("description") for key in keys} == {key: key for key in keys}


def test_renaming_onto_itself_or_a_missing_file_is_refused(api: Client) -> None:
    record = create(api)
    upload(api, record, "a.csv", b"x")
    path = f"/records/{record['id']}/files/{encode_key('a.csv')}?rename"

    assert call(api, "post", path, {"to": "a.csv"})[0] == 400
    assert call(api, "post", path, {"to": "../escape"})[0] == 400
    assert (
        call(api, "post", f"/records/{record['id']}/files/{encode_key('none')}?rename", {"to": "b"})[0] == 404
    )


def test_a_version_made_before_ingest_hashed_its_files_shows_their_checksums_once_it_has(
    api: Client, pump: EventPump
) -> None:
    first = create(api, {"title": "Hashed later"})
    upload(api, first, "data.csv", b"a,b\n1,2\n")
    call(api, "post", f"/records/{first['id']}/publish")
    second = call(api, "post", f"/records/{first['id']}/versions")[1]  # before ingest ran
    assert second["files"]["entries"]["data.csv"]["checksum"] is None

    drain(pump)  # ingest hashes the file, and fills in the checksum of the version that made it

    digest = "sha256:" + hashlib.sha256(b"a,b\n1,2\n").hexdigest()
    for record in (first, second):
        entry = call(api, "get", f"/records/{record['id']}")[1]["files"]["entries"]["data.csv"]
        assert entry["checksum"] == digest, record["id"]
        path = f"/files/{record['bucket_id']}/{encode_key('data.csv')}"
        assert call(api, "get", f"{path}?meta")[1]["checksum"] == digest
        listed = call(api, "get", f"/files/{record['bucket_id']}?versions")[1]["contents"]
        assert [version["checksum"] for version in listed] == [digest]


def test_files_the_order_does_not_name_follow_in_upload_order(api: Client) -> None:
    record = create(api)
    for key in ("b.txt", "c.txt", "a.txt"):
        assert upload(api, record, key, key.encode()) == 200

    assert call(api, "get", f"/records/{record['id']}")[1]["files"]["order"] == ["b.txt", "c.txt", "a.txt"]
    assert call(api, "put", f"/records/{record['id']}/files", {"order": ["a.txt"]})[0] == 200
    assert call(api, "get", f"/records/{record['id']}")[1]["files"]["order"] == ["a.txt", "b.txt", "c.txt"]
