"""A record's life over HTTP on the embedded stack: files, description, order, publishing, a new
version with one file replaced, and both versions intact with the unchanged files' bytes shared."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from chalicelib.files.keys import encode_key
from tests.stack import Stack, make_token

pytestmark = pytest.mark.e2e


class RecordsClient:
    def __init__(self, stack: Stack, user: str) -> None:
        self.api = stack.api
        self.auth = {"Authorization": f"Bearer {make_token(stack, user)}"}

    def call(
        self, method: str, path: str, body: Any = None, allow_redirects: bool = True, **headers: str
    ) -> requests.Response:
        return requests.request(
            method,
            f"{self.api}{path}",
            json=body,
            headers={**self.auth, **headers},
            timeout=30,
            allow_redirects=allow_redirects,
        )

    def upload(self, record: dict[str, Any], key: str, content: bytes) -> int:
        path = f"/records/{record['id']}/files/{encode_key(key)}"
        started = self.call("POST", f"{path}?uploads", {"size": len(content)})
        if started.status_code != 201:
            return started.status_code
        [part] = started.json()["parts"]
        requests.put(part["url"], data=content, headers=part["headers"], timeout=30).raise_for_status()
        return self.call("POST", f"{path}?uploadId={started.json()['id']}").status_code

    def content(self, record: dict[str, Any], key: str) -> bytes:
        return requests.get(
            f"{self.api}/records/{record['id']}/files/{encode_key(key)}/content", timeout=30
        ).content


def data_objects(stack: Stack) -> set[str]:
    listed = (
        stack.client("s3").list_objects_v2(Bucket="vellum-local-data", Prefix="data/").get("Contents", [])
    )
    return {item["Key"] for item in listed}


def test_a_record_is_published_versioned_and_both_versions_stay_intact(stack: Stack) -> None:
    alice = RecordsClient(stack, "alice-records")
    first = alice.call("POST", "/records", {"metadata": {"title": "Field survey"}}).json()
    files = {"data.csv": b"site,count\nA,3\n", "readme.md": b"# Field survey\n", "map.txt": b"north"}
    for key, content in files.items():
        assert alice.upload(first, key, content) == 200
    for key in files:
        described = alice.call(
            "PUT", f"/records/{first['id']}/files/{encode_key(key)}/metadata", {"about": key}
        )
        assert described.status_code == 200
    assert alice.call(
        "PUT", f"/records/{first['id']}/files", {"order": ["readme.md", "data.csv", "map.txt"]}
    ).ok
    # Ingest hashes each file and fills in its checksum; a new version copies what is recorded by then.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not all(
        entry["checksum"]
        for entry in alice.call("GET", f"/records/{first['id']}").json()["files"]["entries"].values()
    ):
        time.sleep(0.2)
    assert alice.call("POST", f"/records/{first['id']}/publish").json()["state"] == "published"

    # Frozen: every write is refused.
    assert alice.upload(first, "late.csv", b"x") == 403
    assert alice.call("PUT", f"/records/{first['id']}", {"metadata": {"title": "Changed"}}).status_code == 403
    assert alice.call("DELETE", f"/records/{first['id']}/files/{encode_key('map.txt')}").status_code == 403
    stored_after_first = data_objects(stack)

    second = alice.call("POST", f"/records/{first['id']}/versions").json()
    assert data_objects(stack) == stored_after_first  # a new version copies no byte
    assert alice.upload(second, "data.csv", b"site,count\nA,4\n") == 200
    revision = alice.call("GET", f"/records/{second['id']}").headers["ETag"]
    updated = alice.call(
        "PUT",
        f"/records/{second['id']}",
        {"metadata": {"title": "Field survey, corrected"}},
        **{"If-Match": revision},
    )
    assert updated.status_code == 200
    assert alice.call("POST", f"/records/{second['id']}/publish").json()["state"] == "published"

    old = alice.call("GET", f"/records/{first['id']}").json()
    new = alice.call("GET", f"/records/{second['id']}").json()
    assert old["files"]["order"] == new["files"]["order"] == ["readme.md", "data.csv", "map.txt"]
    assert alice.content(first, "data.csv") == b"site,count\nA,3\n"
    assert alice.content(second, "data.csv") == b"site,count\nA,4\n"
    for key in ("readme.md", "map.txt"):  # unchanged: the same stored bytes, served to both
        assert old["files"]["entries"][key]["checksum"] == new["files"]["entries"][key]["checksum"]
        assert alice.content(first, key) == alice.content(second, key) == files[key]
    assert len(data_objects(stack) - stored_after_first) == 1  # only the corrected data.csv
    assert (
        alice.call("GET", f"/records/{first['id']}/latest", allow_redirects=False)
        .headers["Location"]
        .endswith(second["id"])
    )


def test_a_stale_edit_is_refused_over_http(stack: Stack) -> None:
    alice = RecordsClient(stack, "alice-records")
    record = alice.call("POST", "/records", {"metadata": {"title": "Draft"}}).json()
    stale = alice.call("GET", f"/records/{record['id']}").headers["ETag"]
    alice.call(
        "PUT", f"/records/{record['id']}", {"metadata": {"title": "First edit"}}, **{"If-Match": stale}
    )

    refused = alice.call(
        "PUT", f"/records/{record['id']}", {"metadata": {"title": "Lost edit"}}, **{"If-Match": stale}
    )

    assert refused.status_code == 412
    assert alice.call("GET", f"/records/{record['id']}").json()["metadata"]["title"] == "First edit"
