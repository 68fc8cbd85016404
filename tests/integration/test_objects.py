"""Objects through the HTTP routes: listings, versions, delete markers, metadata and tags (moto)."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import pytest
from chalice.test import Client
from PIL import Image

from chalicelib import aws
from tests.helpers import (
    ALICE,
    BOB,
    bearer,
    bucket_counters,
    call,
    download,
    land,
    new_bucket,
    object_path,
    png,
    store,
)


def stored_object_count() -> int:
    return int(aws.s3().list_objects_v2(Bucket="vellum-local-data").get("KeyCount", 0))


def test_a_bucket_lists_its_head_objects_by_key_with_links(api: Client) -> None:
    bucket = new_bucket(api)
    for key in ("b.txt", "a/one.txt", "a/two.txt"):
        store(api, bucket, key, key.encode())

    status, body, _ = call(api, "get", f"/files/{bucket}")

    assert status == 200
    assert [item["key"] for item in body["contents"]] == ["a/one.txt", "a/two.txt", "b.txt"]
    assert body["contents"][0]["links"]["self"].endswith(object_path(bucket, "a/one.txt"))
    assert "next" not in body["links"]


def test_a_listing_entry_is_the_objects_own_json_with_ingest_and_iiif_links(api: Client, pump: Any) -> None:
    bucket = new_bucket(api)
    land(api, pump, bucket, "photo.png", png(600, 400))
    land(api, pump, bucket, "notes.txt", b"plain words")
    call(api, "delete", object_path(bucket, "notes.txt"))

    for query in ("", "?versions"):
        listed = call(api, "get", f"/files/{bucket}{query}")[1]["contents"]
        for entry in listed:  # a gallery needs no request per file
            version = f"&versionId={entry['version_id']}"
            assert entry == call(api, "get", f"{object_path(bucket, entry['key'])}?meta{version}")[1]
    photo = next(entry for entry in listed if entry["key"] == "photo.png")
    assert photo["ingest"]["state"] == "done"
    assert {"iiif_info", "iiif_base", "thumbnail"} <= set(photo["links"])
    assert [entry["delete_marker"] for entry in listed if entry["key"] == "notes.txt"] == [False, True]


@pytest.mark.parametrize("size", [(600, 400), (256, 100), (120, 80), (1, 1)], ids=str)
def test_every_images_thumbnail_link_answers_a_small_image(
    api: Client, pump: Any, size: tuple[int, int]
) -> None:
    bucket = new_bucket(api, public_read=True)
    links = land(api, pump, bucket, "photo.png", png(*size))["links"]

    answer = api.http.get(links["thumbnail"].split("localhost", 1)[1])

    assert answer.status_code == 200, answer.body
    thumbnail = Image.open(io.BytesIO(answer.body))
    assert max(thumbnail.size) <= 256 and thumbnail.width <= size[0]  # small, and never upscaled


def test_a_prefix_narrows_the_listing(api: Client) -> None:
    bucket = new_bucket(api)
    for key in ("a/one.txt", "ab.txt", "b.txt"):
        store(api, bucket, key, b"x")

    _, body, _ = call(api, "get", f"/files/{bucket}?prefix=a/")

    assert [item["key"] for item in body["contents"]] == ["a/one.txt"]


def test_listings_page_with_a_cursor(api: Client) -> None:
    bucket = new_bucket(api)
    for number in range(5):
        store(api, bucket, f"file-{number}", b"x")

    seen: list[str] = []
    path = f"/files/{bucket}?limit=2"
    while True:
        _, body, _ = call(api, "get", path)
        seen += [item["key"] for item in body["contents"]]
        if "next" not in body["links"]:
            break
        path = body["links"]["next"].split("localhost", 1)[1]

    assert seen == [f"file-{n}" for n in range(5)]


@pytest.mark.parametrize(
    "last_key",
    [
        lambda bucket: {"pk": {"S": f"B#{bucket}"}},  # the partition alone
        lambda bucket: {"pk": {"S": f"B#{bucket}"}, "sk": {"N": "1"}},
        lambda bucket: {"pk": {"S": f"B#{bucket}"}, "sk": {"S": "H#a"}, "extra": {"S": "x"}},
        lambda bucket: {"pk": {"S": f"B#{bucket}"}, "sk": "H#a"},
        lambda bucket: [f"B#{bucket}"],
    ],
)
def test_a_forged_cursor_is_a_400_not_a_500(api: Client, last_key: Any) -> None:
    bucket = new_bucket(api)
    cursor = base64.urlsafe_b64encode(json.dumps(last_key(bucket)).encode()).decode()

    status, refusal, _ = call(api, "get", f"/files/{bucket}?cursor={cursor}")

    assert (status, refusal["errors"][0]["field"]) == (400, "cursor")


def test_a_cursor_from_another_bucket_is_refused(api: Client) -> None:
    first, second = new_bucket(api), new_bucket(api)
    for number in range(3):
        store(api, first, f"file-{number}", b"x")
    _, body, _ = call(api, "get", f"/files/{first}?limit=1")
    cursor = body["links"]["next"].split("cursor=", 1)[1]

    status, refusal, _ = call(api, "get", f"/files/{second}?cursor={cursor}")

    assert status == 400
    assert refusal["errors"][0]["field"] == "cursor"


def test_deleting_an_object_leaves_a_delete_marker_and_keeps_its_versions(api: Client) -> None:
    bucket = new_bucket(api)
    first = store(api, bucket, "doc.txt", b"first")

    assert call(api, "delete", object_path(bucket, "doc.txt"))[0] == 204

    assert call(api, "get", object_path(bucket, "doc.txt"))[0] == 404
    assert call(api, "get", f"/files/{bucket}")[1]["contents"] == []
    _, body, _ = call(api, "get", f"/files/{bucket}?versions")
    listed = [
        (v["version_id"] == first["version_id"], v["delete_marker"], v["is_head"]) for v in body["contents"]
    ]
    assert listed == [(True, False, False), (False, True, False)]
    assert download(api, bucket, "doc.txt", f"?versionId={first['version_id']}").content == b"first"
    assert bucket_counters(bucket) == (5, 5)


def test_removing_a_version_for_good_frees_its_bytes_and_quota(api: Client) -> None:
    bucket = new_bucket(api)
    old = store(api, bucket, "doc.txt", b"old!")
    store(api, bucket, "doc.txt", b"newer")
    assert stored_object_count() == 2

    status = call(api, "delete", f"{object_path(bucket, 'doc.txt')}?versionId={old['version_id']}")[0]

    assert status == 204
    assert stored_object_count() == 1
    assert bucket_counters(bucket) == (5, 5)
    assert download(api, bucket, "doc.txt").content == b"newer"


def test_removing_the_head_version_makes_the_previous_one_head(api: Client) -> None:
    bucket = new_bucket(api)
    old = store(api, bucket, "doc.txt", b"old!")
    new = store(api, bucket, "doc.txt", b"newer")

    call(api, "delete", f"{object_path(bucket, 'doc.txt')}?versionId={new['version_id']}")

    _, meta, _ = call(api, "get", f"{object_path(bucket, 'doc.txt')}?meta")
    assert (meta["version_id"], meta["is_head"]) == (old["version_id"], True)
    assert download(api, bucket, "doc.txt").content == b"old!"


def test_restoring_an_older_version_makes_it_current_again_sharing_its_bytes(api: Client) -> None:
    bucket = new_bucket(api)
    old = store(api, bucket, "doc.txt", b"old!", content_type="text/plain")
    store(api, bucket, "doc.txt", b"newer")
    path = object_path(bucket, "doc.txt")

    status, restored, _ = call(api, "post", f"{path}?restore&versionId={old['version_id']}")

    assert status == 200
    assert (restored["is_head"], restored["size"], restored["mimetype"]) == (True, 4, "text/plain")
    assert restored["version_id"] not in (old["version_id"],)
    assert restored["checksum"] == old["checksum"]
    assert download(api, bucket, "doc.txt").content == b"old!"
    assert stored_object_count() == 2  # no byte copied
    assert bucket_counters(bucket) == (13, 13)  # a version counts, shared bytes or not
    versions = call(api, "get", f"/files/{bucket}?versions")[1]["contents"]
    assert [(v["size"], v["is_head"]) for v in versions] == [(4, False), (5, False), (4, True)]


def test_a_deleted_file_is_restored_from_its_last_version(api: Client) -> None:
    bucket = new_bucket(api)
    kept = store(api, bucket, "doc.txt", b"kept")
    call(api, "delete", object_path(bucket, "doc.txt"))

    path = f"{object_path(bucket, 'doc.txt')}?restore&versionId={kept['version_id']}"
    assert call(api, "post", path)[0] == 200

    assert download(api, bucket, "doc.txt").content == b"kept"
    # Removing the version it came from leaves the restored one its bytes.
    call(api, "delete", f"{object_path(bucket, 'doc.txt')}?versionId={kept['version_id']}")
    assert download(api, bucket, "doc.txt").content == b"kept"


def test_what_cannot_be_restored_is_refused_and_changes_nothing(api: Client) -> None:
    bucket = new_bucket(api, quota_size=9)  # full: a restore needs room for one more version
    old = store(api, bucket, "doc.txt", b"old")
    head = store(api, bucket, "doc.txt", b"new")
    store(api, bucket, "gone.txt", b"bye")
    call(api, "delete", object_path(bucket, "gone.txt"))
    markers = [v for v in call(api, "get", f"/files/{bucket}?versions")[1]["contents"] if v["delete_marker"]]
    path = object_path(bucket, "doc.txt")
    before = (call(api, "get", f"/files/{bucket}?versions")[1]["contents"], bucket_counters(bucket))

    refused = {
        "head": call(api, "post", f"{path}?restore&versionId={head['version_id']}"),
        "no version": call(api, "post", f"{path}?restore"),
        "unknown": call(api, "post", f"{path}?restore&versionId=0000"),
        "marker": call(
            api, "post", f"{object_path(bucket, 'gone.txt')}?restore&versionId={markers[0]['version_id']}"
        ),
        "over quota": call(api, "post", f"{path}?restore&versionId={old['version_id']}"),
        "not hers": call(api, "post", f"{path}?restore&versionId={old['version_id']}", headers=BOB),
    }

    assert {name: answer[0] for name, answer in refused.items()} == {
        "head": 400,
        "no version": 400,
        "unknown": 404,
        "marker": 400,
        "over quota": 400,
        "not hers": 404,
    }
    assert refused["head"][1]["message"] == "The versionId is invalid: it is already the current version."
    assert "delete marker" in refused["marker"][1]["message"]
    assert (call(api, "get", f"/files/{bucket}?versions")[1]["contents"], bucket_counters(bucket)) == before


def test_metadata_is_read_as_json_without_downloading(api: Client) -> None:
    bucket = new_bucket(api)
    version = store(api, bucket, "notes/readme.md", b"# hi")

    status, meta, headers = call(api, "get", f"{object_path(bucket, 'notes/readme.md')}?meta")

    assert status == 200
    assert {name: meta[name] for name in version} == version
    assert set(meta) - set(version) == {"last_check", "last_check_at", "overwrite_undone_at", "ingest"}
    assert meta["ingest"] == {"state": "pending"}  # no ingest ran here
    assert meta["overwrite_undone_at"] is None
    assert headers["Cache-Control"] == "no-store"


def test_tags_are_replaced_validated_and_read_back(api: Client) -> None:
    bucket = new_bucket(api)
    store(api, bucket, "doc.txt", b"x")
    path = f"{object_path(bucket, 'doc.txt')}?tags"

    assert call(api, "put", path, {"kind": "report", "year": "2026"})[0] == 200
    assert call(api, "get", path)[1] == {"tags": {"kind": "report", "year": "2026"}}
    assert call(api, "get", f"{object_path(bucket, 'doc.txt')}?meta")[1]["tags"] == {
        "kind": "report",
        "year": "2026",
    }

    status, refusal, _ = call(api, "put", path, {"": "x", "long": "v" * 256, "number": 5})
    assert status == 400
    assert {error["field"] for error in refusal["errors"]} == {"tags.", "tags.long", "tags.number"}


def test_duplicate_tag_names_are_refused(api: Client) -> None:
    bucket = new_bucket(api)
    response = api.http.put(
        f"/files/{bucket}?tags",
        body=b'{"colour": "red", "colour": "blue"}',
        headers={"Content-Type": "application/json", **ALICE},
    )

    assert response.status_code == 400
    assert json.loads(response.body)["message"] == "The body names 'colour' twice in one object."


def test_bucket_tags_are_replaced_and_shown(api: Client) -> None:
    bucket = new_bucket(api)

    assert call(api, "put", f"/files/{bucket}?tags", {"project": "vellum"})[1] == {
        "tags": {"project": "vellum"}
    }
    assert call(api, "get", f"/files/{bucket}")[1]["tags"] == {"project": "vellum"}


def test_anyone_reads_a_public_buckets_objects_but_not_its_versions_or_uploads(api: Client) -> None:
    bucket = new_bucket(api, public_read=True)
    version = store(api, bucket, "open.txt", b"hello")

    assert download(api, bucket, "open.txt").content == b"hello"
    anonymous: dict[str, str] = {}
    assert call(api, "get", object_path(bucket, "open.txt"), headers=anonymous)[0] == 302
    assert call(api, "get", f"/files/{bucket}", headers=anonymous)[0] == 200
    assert call(api, "get", f"/files/{bucket}?versions", headers=anonymous)[0] == 401
    assert (
        call(api, "get", f"{object_path(bucket, 'open.txt')}?versionId={version['version_id']}", headers=BOB)[
            0
        ]
        == 403
    )
    assert call(api, "delete", object_path(bucket, "open.txt"), headers=BOB)[0] == 403


def test_a_private_buckets_objects_are_hidden_from_others(api: Client) -> None:
    bucket = new_bucket(api)
    store(api, bucket, "secret.txt", b"psst")

    status, refusal, _ = call(api, "get", object_path(bucket, "secret.txt"), headers=BOB)

    assert (status, refusal["message"]) == (404, "No bucket with this id.")


def test_an_admin_reads_everything(api: Client) -> None:
    bucket = new_bucket(api)
    store(api, bucket, "secret.txt", b"psst")

    assert download(api, bucket, "secret.txt").content == b"psst"
    assert call(api, "get", object_path(bucket, "secret.txt"), headers=bearer("root", admin=True))[0] == 302


def test_an_unknown_key_is_a_404(api: Client) -> None:
    bucket = new_bucket(api)

    status, refusal, _ = call(api, "get", object_path(bucket, "nothing.txt"))

    assert (status, refusal["message"]) == (404, "No object with this key.")


def test_a_key_that_is_not_base64url_is_refused(api: Client) -> None:
    bucket = new_bucket(api)

    status, refusal, _ = call(api, "get", f"/files/{bucket}/plain%20text")

    assert status == 400
    assert refusal["errors"][0]["field"] == "key"


def test_writes_to_a_locked_bucket_are_refused(api: Client) -> None:
    bucket = new_bucket(api)
    store(api, bucket, "doc.txt", b"x")
    call(api, "patch", f"/files/{bucket}", {"locked": True})

    assert call(api, "delete", object_path(bucket, "doc.txt"))[0] == 403
    assert call(api, "put", f"{object_path(bucket, 'doc.txt')}?tags", {"a": "b"})[0] == 403
    assert download(api, bucket, "doc.txt").content == b"x"


def test_head_of_an_object_answers_its_version_without_a_body(api: Client) -> None:
    bucket = new_bucket(api)
    version = store(api, bucket, "doc.txt", b"x")

    response = api.http.head(object_path(bucket, "doc.txt"), headers=ALICE)

    assert response.status_code == 200
    assert response.headers["ETag"] == f'"{version["version_id"]}"'
    assert api.http.head(object_path(bucket, "nothing"), headers=ALICE).status_code == 404
