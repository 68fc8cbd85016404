"""Records through the HTTP routes, on moto: schema, revisions, access, publishing, listings."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.auth.principal import Principal
from chalicelib.records import service
from tests.helpers import ADMIN, ALICE, BOB, call, complete, create, initiate, put


def add_file(
    api: Client, record: dict[str, Any], key: str = "data.csv", content: bytes = b"a,b\n1,2\n"
) -> None:
    upload = initiate(api, record["bucket_id"], len(content), key=key)
    put(upload["parts"][0], content)
    assert complete(api, record["bucket_id"], upload["id"], key=key)[0] == 200


def test_a_record_is_created_with_its_own_bucket(api: Client) -> None:
    record = create(api, {"title": "Thesis", "year": 2026})

    assert (record["state"], record["revision_id"], record["metadata"]["title"]) == ("draft", 1, "Thesis")
    assert record["owners"] == ["alice"]
    assert call(api, "get", f"/files/{record['bucket_id']}")[0] == 200
    assert record["links"]["files"].endswith(f"/files/{record['bucket_id']}")


def test_metadata_that_breaks_the_schema_is_refused_per_field(api: Client) -> None:
    status, refusal, _ = call(api, "post", "/records", {"metadata": {"year": 2026}})
    assert status == 400
    assert refusal["errors"] == [{"field": "metadata.title", "message": "is required"}]

    status, refusal, _ = call(api, "post", "/records", {"metadata": {"title": 5}})
    assert (status, refusal["errors"][0]["field"]) == (400, "metadata.title")


def test_anonymous_callers_cannot_create_records(api: Client) -> None:
    assert call(api, "post", "/records", {"metadata": {"title": "A"}}, {})[0] == 401


def test_an_edit_with_the_current_revision_succeeds_and_a_stale_one_is_refused(api: Client) -> None:
    record = create(api)
    path = f"/records/{record['id']}"

    status, edited, headers = call(
        api, "put", path, {"metadata": {"title": "B"}}, {**ALICE, "If-Match": '"1"'}
    )
    assert (status, edited["revision_id"], headers["ETag"]) == (200, 2, '"2"')

    status, refusal, _ = call(api, "put", path, {"metadata": {"title": "C"}}, {**ALICE, "If-Match": '"1"'})
    assert status == 412
    assert refusal["message"] == "The record has changed: you edited revision 1, it is now at revision 2."
    assert call(api, "get", path)[1]["metadata"] == {"title": "B"}


def test_two_editors_with_the_same_revision_never_both_win(api: Client, moto_aws: Any) -> None:
    record = create(api)
    outcomes: list[str] = []

    def edit(title: str) -> None:
        spec = service.RecordSpec(metadata={"title": title})
        try:
            service.update_record(Principal("alice"), record["id"], spec, if_match=1)
            outcomes.append("won")
        except Exception as refusal:
            outcomes.append(type(refusal).__name__)

    threads = [threading.Thread(target=edit, args=(f"title {n}",)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["PreconditionFailed"] * 5 + ["won"]


def test_a_draft_is_hidden_from_others_even_if_its_access_will_be_public(api: Client) -> None:
    record = create(api)

    assert call(api, "get", f"/records/{record['id']}", headers=BOB)[0] == 404
    assert call(api, "get", f"/records/{record['id']}", headers={})[0] == 404
    assert call(api, "get", f"/records/{record['id']}", headers=ADMIN)[0] == 200


def test_publishing_freezes_the_record_and_its_files(api: Client) -> None:
    record = create(api)
    add_file(api, record)

    status, published, _ = call(api, "post", f"/records/{record['id']}/publish")

    assert (status, published["state"]) == (200, "published")
    assert published["publication_date"]
    assert (
        call(api, "put", f"/records/{record['id']}", {"metadata": {"title": "Z"}})[1]["message"]
        == service.FROZEN
    )
    assert call(api, "delete", f"/records/{record['id']}")[0] == 403
    assert call(api, "post", f"/files/{record['bucket_id']}/ZmlsZQ?uploads", {"size": 1})[0] == 403
    assert call(api, "get", f"/records/{record['id']}", headers={})[0] == 200  # public now


def test_a_record_without_files_or_with_an_upload_in_progress_is_not_published(api: Client) -> None:
    record = create(api)
    assert call(api, "post", f"/records/{record['id']}/publish")[0] == 400

    add_file(api, record)
    initiate(api, record["bucket_id"], 10, key="unfinished.bin")
    status, refusal, _ = call(api, "post", f"/records/{record['id']}/publish")
    assert (status, refusal["message"]) == (
        409,
        "The record has 1 upload(s) in progress: complete or abort them first.",
    )


def test_racing_publishes_have_one_result(api: Client, moto_aws: Any) -> None:
    record = create(api)
    add_file(api, record)
    results: list[service.Record] = []

    def publish() -> None:
        results.append(service.publish_record(Principal("alice"), record["id"]))

    threads = [threading.Thread(target=publish) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert {(r.state, r.revision_id, r.publication_date) for r in results} == {
        (results[0].state, 2, results[0].publication_date)
    }


def test_a_draft_is_deleted_with_its_bucket(api: Client) -> None:
    record = create(api)

    assert call(api, "delete", f"/records/{record['id']}")[0] == 204
    assert call(api, "get", f"/records/{record['id']}")[0] == 404
    assert call(api, "get", f"/files/{record['bucket_id']}")[0] == 404


def test_listings_come_newest_first_mine_and_public(api: Client) -> None:
    first = create(api, {"title": "first"})
    second = create(api, {"title": "second"})
    create(api, {"title": "bob's"}, BOB)
    add_file(api, first)
    call(api, "post", f"/records/{first['id']}/publish")

    mine = call(api, "get", "/records?owner=me")[1]["records"]
    public = call(api, "get", "/records", headers={})[1]["records"]

    assert [r["metadata"]["title"] for r in mine] == ["second", "first"]
    assert [r["id"] for r in public] == [first["id"]]
    assert second["id"] not in [r["id"] for r in public]


def test_listings_page_with_a_cursor(api: Client) -> None:
    for number in range(3):
        create(api, {"title": f"r{number}"})

    first_page = call(api, "get", "/records?owner=me&limit=2")[1]
    rest = call(api, "get", first_page["links"]["next"].split("localhost", 1)[1])[1]

    assert [r["metadata"]["title"] for r in first_page["records"] + rest["records"]] == ["r2", "r1", "r0"]


def test_a_listing_shows_records_without_reading_their_files(
    api: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.files import objects

    for number in range(3):
        add_file(api, create(api, {"title": f"r{number}"}))
    listings: list[str] = []
    real = objects.list_objects
    monkeypatch.setattr(
        objects, "list_objects", lambda *args, **kwargs: listings.append(args[1]) or real(*args, **kwargs)
    )

    listed = call(api, "get", "/records?owner=me")[1]["records"]
    assert listings == []  # one query for the page, none per record
    assert [record["files"] for record in listed] == [{"enabled": True}] * 3
    one = call(api, "get", listed[0]["links"]["self"].split("localhost", 1)[1])[1]
    assert set(one["files"]["entries"]) == {"data.csv"}
    assert listings == [one["bucket_id"]]


def test_a_cursor_from_another_listing_is_refused(api: Client) -> None:
    for number in range(3):
        create(api, {"title": f"r{number}"})
    mine = call(api, "get", "/records?owner=me&limit=2")[1]
    cursor = mine["links"]["next"].split("cursor=", 1)[1]

    status, refusal, _ = call(api, "get", f"/records?cursor={cursor}")
    assert (status, refusal["errors"][0]["field"]) == (400, "cursor")
    assert call(api, "get", f"/records?owner=me&cursor={cursor}", headers=BOB)[0] == 400


def test_listing_my_records_needs_a_sign_in(api: Client) -> None:
    assert call(api, "get", "/records?owner=me", headers={})[0] == 401


@pytest.mark.parametrize("depth", [33, 5_000])
def test_a_body_nested_too_deeply_is_a_400(api: Client, depth: int) -> None:
    body = ('{"metadata": ' + '{"a": ' * depth + "1" + "}" * depth + "}").encode()

    response = api.http.post("/records", body=body, headers={"Content-Type": "application/json", **ALICE})

    assert response.status_code == 400
    assert json.loads(response.body)["message"] == "The body nests deeper than 32 levels."


def test_a_malformed_body_or_if_match_is_a_400(api: Client) -> None:
    record = create(api)

    response = api.http.post("/records", body=b"[]", headers={"Content-Type": "application/json", **ALICE})
    assert json.loads(response.body)["message"] == "The body must be a JSON object."
    bad = call(
        api, "put", f"/records/{record['id']}", {"metadata": {"title": "x"}}, {**ALICE, "If-Match": "abc"}
    )
    assert (bad[0], bad[1]["errors"][0]["field"]) == (400, "If-Match")


def test_a_tombstoned_restricted_record_tells_its_reason_only_to_who_could_read_it(api: Client) -> None:
    record = create(api, access={"record": "restricted", "files": "restricted"})
    add_file(api, record)
    call(api, "post", f"/records/{record['id']}/publish")
    call(api, "delete", f"/records/{record['id']}?reason=Personal%20data", headers=ADMIN)

    for stranger in ({}, BOB):
        status, body, _ = call(api, "get", f"/records/{record['id']}", headers=stranger)
        assert (status, body["message"]) == (404, "No record with this id.")
    status, body, _ = call(api, "get", f"/records/{record['id']}")  # its owner
    assert (status, body["message"]) == (410, "This record was removed: Personal data")


def test_an_admin_tombstones_a_published_record_which_then_answers_410(api: Client) -> None:
    record = create(api)
    add_file(api, record)
    call(api, "post", f"/records/{record['id']}/publish")

    assert call(api, "delete", f"/records/{record['id']}")[0] == 403  # its owner may not
    assert call(api, "delete", f"/records/{record['id']}?reason=Copyright%20claim", headers=ADMIN)[0] == 204

    status, body, _ = call(api, "get", f"/records/{record['id']}", headers={})
    assert (status, body["message"]) == (410, "This record was removed: Copyright claim")
    assert record["id"] not in [r["id"] for r in call(api, "get", "/records", headers={})[1]["records"]]
    assert call(api, "get", f"/files/{record['bucket_id']}", headers={})[0] == 404


@pytest.mark.parametrize("declared", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_a_body_not_declared_as_json_is_a_415_and_creates_nothing(api: Client, declared: str | None) -> None:
    # Any page may POST a typeless Blob or a text/plain body to any origin without asking first.
    headers = {**ALICE, **({"Content-Type": declared} if declared else {})}

    answer = api.http.post("/records", body=json.dumps({"metadata": {"title": "T"}}), headers=headers)

    assert answer.status_code == 415
    assert json.loads(answer.body)["status"] == 415
    assert call(api, "get", "/records?owner=me")[1]["records"] == []
