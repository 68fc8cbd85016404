"""Records the browser tests open in viewers: made, filled and published over HTTP on the stack."""

from __future__ import annotations

import time
from typing import Any

import requests

from chalicelib.files.keys import encode_key
from tests.stack import Stack, make_token


def publish_record(
    stack: Stack, user: str, body: dict[str, Any], files: dict[str, bytes], timeout: float = 180
) -> dict[str, Any]:
    """A record made by ``user`` with ``body`` (its metadata, access), the (small) files uploaded
    in order and ingested (done, or refused), then published: the record's JSON, with ``versions`` (each
    file's version id by key)."""
    auth = {"Authorization": f"Bearer {make_token(stack, user)}"}

    def call(method: str, path: str, payload: Any = None) -> Any:
        response = requests.request(method, f"{stack.api}{path}", json=payload, headers=auth, timeout=60)
        assert response.ok, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else None

    record = call("POST", "/records", body)
    for key, content in files.items():
        path = f"/records/{record['id']}/files/{encode_key(key)}"
        upload = call("POST", f"{path}?uploads", {"size": len(content)})
        [part] = upload["parts"]  # small files: one part
        requests.put(part["url"], data=content, headers=part["headers"], timeout=60).raise_for_status()
        call("POST", f"{path}?uploadId={upload['id']}")
    # Done: every derivative stored, thumbnails included, so what viewers read is what it stays.
    listing = record["links"]["files"].removeprefix(stack.api)
    deadline = time.monotonic() + timeout
    while {entry["ingest"]["state"] for entry in call("GET", listing)["contents"]} - {"done", "failed"}:
        assert time.monotonic() < deadline, "ingest did not finish"
        time.sleep(0.3)
    versions = {entry["key"]: entry["version_id"] for entry in call("GET", listing)["contents"]}
    call("POST", f"/records/{record['id']}/publish")
    return {**call("GET", f"/records/{record['id']}"), "versions": versions}
