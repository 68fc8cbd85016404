"""Plain helpers the test modules share: users, calls through Chalice's test client, stored files, samples."""

from __future__ import annotations

import base64
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from chalice.test import Client
from PIL import Image

from chalicelib import aws
from chalicelib.files.keys import encode_key
from chalicelib.files.models import ObjectVersionItem, bucket_pk, head_sk
from local.pump import EventPump

# The secret is defined in conftest.py: the local stage's environment, set there before any of
# Vellum's modules is imported, holds it; this module imports Vellum's modules, so conftest.py
# must not import it.
from tests.conftest import LOCAL_SECRET


def bearer(user: str, *, admin: bool = False) -> dict[str, str]:
    """An Authorization header for ``user`` on the local stage."""
    from chalicelib.auth.tokens import issue_local_token

    return {"Authorization": f"Bearer {issue_local_token(LOCAL_SECRET, user, ['admin'] if admin else [])}"}


ALICE = bearer("alice")
BOB = bearer("bob")
ADMIN = bearer("root", admin=True)
KEY = "reports/2026/résumé final+v2 %.bin"


def drain(pump: EventPump) -> None:
    """Deliver every message waiting on the queue."""
    while pump.poll_once(wait_seconds=0):
        pass


def call(api: Client, method: str, path: str, body: Any = None, headers: dict[str, str] = ALICE) -> Any:
    data = None if body is None else json.dumps(body)
    response = getattr(api.http, method)(
        path, body=data, headers={"Content-Type": "application/json", **headers}
    )
    return response.status_code, (json.loads(response.body) if response.body else None), response.headers


def new_bucket(api: Client, **spec: Any) -> str:
    status, body, _ = call(api, "post", "/files", spec)
    assert status == 201
    return str(body["id"])


def object_path(bucket: str, key: str = KEY) -> str:
    return f"/files/{bucket}/{encode_key(key)}"


def initiate(api: Client, bucket: str, size: int, key: str = KEY, **extra: Any) -> dict[str, Any]:
    status, body, _ = call(api, "post", object_path(bucket, key) + "?uploads", {"size": size, **extra})
    assert status == 201, body
    return body  # type: ignore[no-any-return]


def put(part: dict[str, Any], data: bytes) -> str:
    response = requests.put(part["url"], data=data, headers=part["headers"], timeout=30)
    assert response.status_code == 200, response.text
    return str(response.headers["ETag"])


def complete(api: Client, bucket: str, upload_id: str, body: Any = None, key: str = KEY) -> tuple[int, Any]:
    status, answer, _ = call(api, "post", f"{object_path(bucket, key)}?uploadId={upload_id}", body)
    return status, answer


def download(api: Client, bucket: str, key: str = KEY, query: str = "") -> requests.Response:
    status, _, headers = call(api, "get", object_path(bucket, key) + query)
    assert status == 302
    return requests.get(headers["Location"], timeout=30)


def bucket_counters(bucket: str) -> tuple[int, int]:
    item = aws.dynamodb().get_item(
        TableName="vellum-local-files", Key={"pk": {"S": f"B#{bucket}"}, "sk": {"S": "#BUCKET"}}
    )["Item"]
    return int(item["size"]["N"]), int(item["used"]["N"])


def store(api: Client, bucket: str, key: str, content: bytes, **extra: Any) -> dict[str, Any]:
    upload = initiate(api, bucket, len(content), key=key, **extra)
    put(upload["parts"][0], content)
    status, version = complete(api, bucket, upload["id"], key=key)
    assert status == 200
    return version  # type: ignore[no-any-return]


def stored_key(api: Client, bucket: str, key: str) -> str:
    """Where S3 keeps the bytes of the key's head version."""
    return f"data/{ObjectVersionItem.get(bucket_pk(bucket), head_sk(key)).file_id}"


def land(api: Client, pump: Any, bucket: str, key: str, content: bytes) -> dict[str, Any]:
    upload = initiate(api, bucket, len(content), key=key, content_type="application/octet-stream")
    put(upload["parts"][0], content)
    complete(api, bucket, upload["id"], key=key)  # which announces the recorded file to ingest
    drain(pump)
    return call(api, "get", f"{object_path(bucket, key)}?meta")[1]  # type: ignore[no-any-return]


def ingested(api: Client, pump: Any, content: bytes, key: str) -> tuple[str, dict[str, Any]]:
    """A public bucket's file, uploaded and ingested: its version id and its ``?meta``, with its
    ``file_id`` (where its bytes and derivatives are kept)."""
    bucket = new_bucket(api, public_read=True)
    drain(pump)
    upload = initiate(api, bucket, len(content), key=key, content_type="application/octet-stream")
    put(upload["parts"][0], content)
    _, version = complete(api, bucket, upload["id"], key=key)
    drain(pump)
    meta = call(api, "get", f"{object_path(bucket, key)}?meta")[1]
    return version["version_id"], {**meta, "file_id": stored_key(api, bucket, key).removeprefix("data/")}


def create(
    api: Client, metadata: Any = None, headers: dict[str, str] = ALICE, **extra: Any
) -> dict[str, Any]:
    status, body, answer_headers = call(
        api, "post", "/records", {"metadata": metadata or {"title": "A"}, **extra}, headers
    )
    assert status == 201, body
    assert answer_headers["ETag"] == f'"{body["revision_id"]}"'
    return body  # type: ignore[no-any-return]


def upload(
    api: Client, record: dict[str, Any], key: str, content: bytes, headers: dict[str, str] = ALICE
) -> int:
    path = f"/records/{record['id']}/files/{encode_key(key)}"
    status, started, _ = call(api, "post", f"{path}?uploads", {"size": len(content)}, headers)
    if status != 201:
        return int(status)
    [part] = started["parts"]
    requests.put(part["url"], data=content, headers=part["headers"], timeout=30).raise_for_status()
    return int(call(api, "post", f"{path}?uploadId={started['id']}", headers=headers)[0])


def valid_manifest(manifest: dict[str, Any]) -> None:
    """Raise unless ``manifest`` is a valid IIIF Presentation 3 manifest, by the models the IIIF
    community generates from the specification's JSON Schema (iiif-prezi3)."""
    from iiif_prezi3 import Manifest

    Manifest(**manifest)


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def png_base64() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), (200, 0, 0)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def hostile_notebook() -> bytes:
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": ["# Analysis\n", "<script>alert('md')</script>"]},
        {
            "cell_type": "code",
            "execution_count": 3,
            "metadata": {},
            "source": "print('hi')\nplot()",
            "outputs": [
                {"output_type": "stream", "name": "stdout", "text": ["hi <b>there</b>\n"]},
                {
                    "output_type": "display_data",
                    "metadata": {},
                    "data": {"image/png": png_base64(), "text/plain": "fig"},
                },
                {
                    "output_type": "execute_result",
                    "execution_count": 3,
                    "metadata": {},
                    "data": {
                        "text/html": "<table><tr><td onclick='alert(1)'>42</td></tr></table>"
                        "<script>alert(2)</script>",
                        "text/plain": "42",
                    },
                },
                {
                    "output_type": "display_data",
                    "metadata": {},
                    "data": {"application/javascript": "alert(3)"},
                },
                {
                    "output_type": "error",
                    "ename": "ValueError",
                    "evalue": "bad",
                    "traceback": ["\x1b[31mValueError\x1b[0m: bad"],
                },
            ],
        },
    ]
    notebook = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"language_info": {"name": "python"}},
        "cells": cells,
    }
    return json.dumps(notebook).encode()


def later(monkeypatch: Any, by: timedelta) -> None:
    """Move Vellum's one clock ``by`` into the future (leases run out, ingests become overdue)."""
    from chalicelib import clock

    monkeypatch.setattr(clock, "now", lambda: datetime.now(UTC) + by)


class Died(BaseException):
    """A function's end (timeout, out of memory, Lambda killing it): none of the app's except
    clauses run, as they would for an Exception."""
