"""Buckets through the HTTP routes, on moto."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.settings import get_settings
from tests.helpers import ADMIN, ALICE, BOB


def post_json(api: Client, path: str, body: Any, headers: dict[str, str]) -> Any:
    return api.http.post(path, body=json.dumps(body), headers={"Content-Type": "application/json", **headers})


def patch_json(api: Client, path: str, body: Any, headers: dict[str, str]) -> Any:
    return api.http.patch(
        path, body=json.dumps(body), headers={"Content-Type": "application/json", **headers}
    )


def create_bucket(api: Client, headers: dict[str, str] = ALICE, **spec: Any) -> dict[str, Any]:
    response = post_json(api, "/files", spec, headers)
    assert response.status_code == 201, response.body
    return json.loads(response.body)  # type: ignore[no-any-return]


def test_creating_a_bucket_answers_201_with_its_limits_and_links(api: Client) -> None:
    response = post_json(api, "/files", {"quota_size": 1000, "max_file_size": 100}, ALICE)

    assert response.status_code == 201
    bucket = json.loads(response.body)
    assert bucket["quota_size"] == 1000
    assert bucket["max_file_size"] == 100
    assert (bucket["size"], bucket["locked"], bucket["public_read"]) == (0, False, False)
    assert bucket["links"]["self"].endswith(f"/files/{bucket['id']}")
    assert bucket["links"]["versions"] == bucket["links"]["self"] + "?versions"
    assert response.headers["Location"] == bucket["links"]["self"]


def test_an_empty_body_creates_a_bucket_with_defaults(api: Client) -> None:
    response = api.http.post("/files", headers=ALICE)

    assert response.status_code == 201
    created = json.loads(response.body)
    settings = get_settings()
    assert (created["quota_size"], created["max_file_size"]) == (
        settings.default_quota_bytes,
        settings.default_max_file_bytes,
    )


def test_anonymous_callers_cannot_create_buckets(api: Client) -> None:
    response = api.http.post("/files")

    assert response.status_code == 401
    assert json.loads(response.body) == {"status": 401, "message": "Sign in to create a bucket."}


def test_bad_limits_are_refused_per_field(api: Client) -> None:
    response = post_json(api, "/files", {"quota_size": "big", "max_file_size": 0, "colour": "red"}, ALICE)

    assert response.status_code == 400
    fields = {error["field"] for error in json.loads(response.body)["errors"]}
    assert fields == {"quota_size", "max_file_size", "colour"}


def test_malformed_json_is_refused(api: Client) -> None:
    response = api.http.post("/files", body=b"{oops", headers={"Content-Type": "application/json", **ALICE})

    assert response.status_code == 400
    assert json.loads(response.body) == {"status": 400, "message": "The body is not valid JSON."}


def test_a_private_bucket_is_invisible_to_others(api: Client) -> None:
    bucket = create_bucket(api)

    assert api.http.get(f"/files/{bucket['id']}", headers=ALICE).status_code == 200
    assert api.http.get(f"/files/{bucket['id']}", headers=BOB).status_code == 404
    assert api.http.get(f"/files/{bucket['id']}").status_code == 404
    assert api.http.get(f"/files/{bucket['id']}", headers=ADMIN).status_code == 200


def test_a_public_bucket_is_readable_by_anyone_but_changeable_only_by_its_owner(api: Client) -> None:
    bucket = create_bucket(api, public_read=True)

    assert api.http.get(f"/files/{bucket['id']}").status_code == 200
    assert patch_json(api, f"/files/{bucket['id']}", {"public_read": False}, BOB).status_code == 403
    assert patch_json(api, f"/files/{bucket['id']}", {"public_read": False}, {}).status_code == 401


def test_head_answers_existence(api: Client) -> None:
    bucket = create_bucket(api)

    assert api.http.head(f"/files/{bucket['id']}", headers=ALICE).status_code == 200
    assert api.http.head("/files/no-such-bucket", headers=ALICE).status_code == 404


def test_an_unknown_bucket_is_a_404(api: Client) -> None:
    response = api.http.get("/files/no-such-bucket", headers=ALICE)

    assert json.loads(response.body) == {"status": 404, "message": "No bucket with this id."}


def test_the_owner_changes_limits_and_visibility(api: Client) -> None:
    bucket = create_bucket(api)

    response = patch_json(api, f"/files/{bucket['id']}", {"quota_size": 5000, "public_read": True}, ALICE)

    assert response.status_code == 200
    changed = json.loads(response.body)
    assert (changed["quota_size"], changed["public_read"]) == (5000, True)
    assert changed["updated"] >= bucket["updated"]


def test_null_sets_a_limit_back_to_the_default(api: Client) -> None:
    bucket = create_bucket(api, quota_size=10)

    changed = json.loads(patch_json(api, f"/files/{bucket['id']}", {"quota_size": None}, ALICE).body)

    assert changed["quota_size"] == get_settings().default_quota_bytes


@pytest.mark.parametrize("limit", ["quota_size", "max_file_size"])
def test_only_an_admin_sets_a_limit_above_the_default(api: Client, limit: str) -> None:
    default = getattr(get_settings(), f"default_{limit.removesuffix('_size')}_bytes")
    above = {limit: default + 1}

    refused = post_json(api, "/files", above, ALICE)
    bucket = create_bucket(api)
    raised = patch_json(api, f"/files/{bucket['id']}", above, ALICE)

    for answer in (refused, raised):
        assert answer.status_code == 403
        assert json.loads(answer.body)["errors"] == [
            {"field": limit, "message": f"only an admin may set more than the default of {default} bytes"}
        ]
    assert json.loads(api.http.get(f"/files/{bucket['id']}", headers=ALICE).body)[limit] == default
    assert create_bucket(api, ADMIN, **above)[limit] == default + 1
    granted = patch_json(api, f"/files/{bucket['id']}", {limit: default * 4}, ADMIN)
    assert json.loads(granted.body)[limit] == default * 4
    # What an admin granted the owner may lower, and not raise again past the default.
    assert json.loads(patch_json(api, f"/files/{bucket['id']}", {limit: default * 2}, ALICE).body)[limit] == (
        default * 2
    )
    assert patch_json(api, f"/files/{bucket['id']}", {limit: default * 3}, ALICE).status_code == 403


def test_a_locked_bucket_refuses_changes_except_an_admins_unlock(api: Client) -> None:
    bucket = create_bucket(api)
    assert patch_json(api, f"/files/{bucket['id']}", {"locked": True}, ALICE).status_code == 200

    refused = patch_json(api, f"/files/{bucket['id']}", {"locked": False}, ALICE)
    assert refused.status_code == 403
    assert api.http.delete(f"/files/{bucket['id']}", headers=ALICE).status_code == 403

    unlocked = patch_json(api, f"/files/{bucket['id']}", {"locked": False}, ADMIN)
    assert json.loads(unlocked.body)["locked"] is False


def test_a_deleted_bucket_is_gone(api: Client) -> None:
    bucket = create_bucket(api)

    assert api.http.delete(f"/files/{bucket['id']}", headers=BOB).status_code == 404
    assert api.http.delete(f"/files/{bucket['id']}", headers=ALICE).status_code == 204
    assert api.http.get(f"/files/{bucket['id']}", headers=ALICE).status_code == 404
