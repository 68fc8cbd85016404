"""Whatever a client sends to any route (path segments, query parameters, headers, body), the answer
is never a 5xx but a 503 "not yet": bad input is a JSON 4xx. Property-based, over every route the
app registers."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from chalice.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.files.keys import encode_key
from tests.helpers import ADMIN, ALICE, call, complete, create, initiate, new_bucket, put, store


def _routes() -> list[tuple[str, str]]:
    import importlib

    app = importlib.import_module("app").app
    return sorted(
        (path, method)
        for path, methods in app.routes.items()
        for method in methods
        if method != "OPTIONS"  # preflights answer from a table, with no input to judge
    )


@pytest.fixture
def world(api: Client) -> dict[str, str]:
    """Real ids for the strategies to pick besides random text: a bucket with a file, an upload in
    progress, a draft record with a file."""
    bucket = new_bucket(api)
    version = store(api, bucket, "a.txt", b"alpha")
    upload = initiate(api, bucket, 3, key="b.txt")
    record = create(api)
    pending = initiate(api, record["bucket_id"], 2, key="r.txt")
    put(pending["parts"][0], b"rr")
    complete(api, record["bucket_id"], pending["id"], key="r.txt")
    return {
        "bucket_id": bucket,
        "key": encode_key("a.txt"),
        "record_id": record["id"],
        "upload_id": f"{bucket}.{upload['id']}",
        "plain_upload_id": upload["id"],
        "identifier": version["version_id"],
        "version_id": version["version_id"],
    }


TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
QUERY_NAMES = [
    "uploads", "uploadId", "partNumbers", "versionId", "meta", "tags", "preview", "download",
    "rename", "restore", "check", "versions", "prefix", "limit", "cursor", "owner", "key", "reason",
    "filename", "type", "metadata[bucket]", "metadata[size]", "metadata[key]",
]  # fmt: skip
BODY_NAMES = [
    "size", "content_type", "checksum", "part_size", "metadata", "access", "order", "to", "parts",
    "filename", "type", "quota_size", "max_file_size", "public_read", "locked", "title", "record",
    "files", "part_number", "etag", "PartNumber", "ETag", "bucket", "key",
]  # fmt: skip
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False), TEXT)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(BODY_NAMES), TEXT), inner, max_size=5),
    ),
    max_leaves=12,
)


def _value(world: dict[str, str], name: str) -> st.SearchStrategy[str]:
    known = {"version": ["3", "2"], "part_number": ["1", "2", "4", "10001"]}.get(name, [])
    known += [world[name]] if name in world else []
    return st.one_of(st.sampled_from(known), TEXT) if known else TEXT


def _cursors(world: dict[str, str]) -> st.SearchStrategy[str]:
    """Cursors as a client could forge them: DynamoDB keys of any shape, some in a real partition."""
    partition = {"pk": {"S": f"B#{world['bucket_id']}"}}
    keys = st.one_of(
        JSON,
        st.dictionaries(st.sampled_from(["pk", "sk", "gsi1pk", "gsi1sk", "x"]), JSON, max_size=4).map(
            lambda extra: {**partition, **extra}
        ),
    )
    return keys.map(lambda key: base64.urlsafe_b64encode(json.dumps(key).encode()).decode())


@st.composite
def requests_to(draw: st.DrawFn, path: str, world: dict[str, str]) -> dict[str, Any]:
    segments = []
    for segment in path.strip("/").split("/"):
        if segment.startswith("{"):
            segment = quote(draw(_value(world, segment.strip("{}"))), safe="") or "x"
        segments.append(segment)
    names = draw(st.lists(st.sampled_from(QUERY_NAMES), max_size=4, unique=True))
    known = [world["plain_upload_id"], world["version_id"], world["bucket_id"], "b.txt", "1-3", "me"]
    query = {name: draw(st.one_of(st.sampled_from(known), TEXT, _cursors(world))) for name in names}
    body = draw(
        st.one_of(
            st.none(),
            JSON.map(lambda value: json.dumps(value).encode()),
            st.dictionaries(st.sampled_from(BODY_NAMES), JSON, max_size=5).map(
                lambda value: json.dumps(value).encode()
            ),
            st.binary(max_size=64),
            st.integers(30, 3000).map(lambda depth: b'{"metadata": ' + b"[" * depth + b"]" * depth + b"}"),
        )
    )
    headers = {**draw(st.sampled_from([ALICE, ADMIN, {}])), "Content-Type": "application/json"}
    return {
        "path": "/" + "/".join(segments) + (f"?{urlencode(query)}" if query else ""),
        "body": body,
        "headers": headers,
    }


@pytest.mark.parametrize(("path", "method"), _routes())
@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,  # the same inputs every run: a failure is reproducible, CI never flaky
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_input_makes_a_route_answer_5xx(
    api: Client, world: dict[str, str], path: str, method: str, data: st.DataObject
) -> None:
    request = data.draw(requests_to(path, world))

    response = api.http.request(method, request["path"], headers=request["headers"], body=request["body"])

    # The one 5xx that is no fault: "not yet" (a file still being ingested), with when to ask again.
    not_yet = response.status_code == 503 and "Retry-After" in response.headers
    assert response.status_code < 500 or not_yet, (request, response.body[:500])
    if response.status_code >= 400 and method != "HEAD":
        assert json.loads(response.body)["status"] == response.status_code


def test_the_world_the_strategies_pick_from_is_real(api: Client, world: dict[str, str]) -> None:
    assert call(api, "get", f"/files/{world['bucket_id']}/{world['key']}?meta")[0] == 200
    assert call(api, "get", f"/records/{world['record_id']}")[0] == 200
