"""What CloudFront holds of public IIIF answers is invalidated when an image stops being public."""

from __future__ import annotations

from typing import Any

import pytest
from chalice.test import Client

from chalicelib import aws
from chalicelib.files.keys import encode_key
from chalicelib.settings import get_settings
from tests.helpers import ADMIN, call, create, drain, new_bucket, png, store, upload

KEY = "pics/a.png"


@pytest.fixture
def distribution(api: Client, monkeypatch: pytest.MonkeyPatch) -> str:
    """A distribution on moto, named in the settings as the IaC names it to ingest."""
    created = aws.cloudfront().create_distribution(
        DistributionConfig={
            "CallerReference": "vellum-tests",
            "Comment": "Vellum tests",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [{"Id": "api", "DomainName": "api.invalid", "CustomOriginConfig": _origin()}],
            },
            "DefaultCacheBehavior": {"TargetOriginId": "api", "ViewerProtocolPolicy": "https-only"},
        }
    )
    distribution_id = created["Distribution"]["Id"]
    from chalicelib.iiif import cdn

    changed = get_settings().model_copy(update={"cdn_distribution_id": distribution_id})
    monkeypatch.setattr(cdn, "get_settings", lambda: changed)
    return distribution_id


def _origin() -> dict[str, Any]:
    return {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only"}


def invalidated(distribution: str) -> list[list[str]]:
    """The paths of each invalidation created, oldest first."""
    listed = aws.cloudfront().list_invalidations(DistributionId=distribution)["InvalidationList"]
    batches = [
        aws.cloudfront().get_invalidation(DistributionId=distribution, Id=summary["Id"])["Invalidation"]
        for summary in listed.get("Items", [])
    ]
    return [sorted(b["InvalidationBatch"]["Paths"]["Items"]) for b in reversed(batches)]


def paths_of(*version_ids: str) -> list[str]:
    return sorted(f"/iiif/{api}/{v}/*" for v in version_ids for api in ("3", "2"))


def public_image(api: Client, pump: Any, key: str = KEY, **bucket: Any) -> tuple[str, str]:
    bucket_id = new_bucket(api, public_read=True, **bucket)
    version = store(api, bucket_id, key, png(64, 48), content_type="image/png")
    drain(pump)
    return bucket_id, version["version_id"]


def patch(api: Client, path: str, body: dict[str, Any]) -> int:
    return int(call(api, "patch", path, body)[0])


@pytest.mark.parametrize(
    "narrowing", ["bucket made private", "head deleted", "version deleted", "bucket deleted"]
)
def test_an_image_that_stops_being_public_is_invalidated_in_the_cdn(
    api: Client, pump: Any, distribution: str, narrowing: str
) -> None:
    bucket_id, version_id = public_image(api, pump)
    assert invalidated(distribution) == []  # storing and ingesting narrows nothing
    object_path = f"/files/{bucket_id}/{encode_key(KEY)}"

    if narrowing == "bucket made private":
        status = patch(api, f"/files/{bucket_id}", {"public_read": False})
    elif narrowing == "head deleted":
        status = call(api, "delete", object_path)[0]
    elif narrowing == "version deleted":
        status = call(api, "delete", f"{object_path}?versionId={version_id}")[0]
    else:
        status = call(api, "delete", f"/files/{bucket_id}")[0]
    assert status in (200, 204)
    drain(pump)

    assert invalidated(distribution) == [paths_of(version_id)]


def test_an_old_version_once_public_is_invalidated_when_deleted(
    api: Client, pump: Any, distribution: str
) -> None:
    bucket_id, first = public_image(api, pump)
    store(api, bucket_id, KEY, png(32, 32), content_type="image/png")  # the first is no longer current
    drain(pump)

    call(api, "delete", f"/files/{bucket_id}/{encode_key(KEY)}?versionId={first}")
    drain(pump)

    assert invalidated(distribution) == [paths_of(first)]


def test_a_withdrawn_records_images_are_invalidated(api: Client, pump: Any, distribution: str) -> None:
    record = create(api)
    assert upload(api, record, "scan.png", png(40, 30)) in (200, 201)
    call(api, "post", f"/records/{record['id']}/publish")
    drain(pump)
    _, listing, _ = call(api, "get", f"/files/{record['bucket_id']}", headers={})
    [version_id] = [item["version_id"] for item in listing["contents"]]

    assert call(api, "delete", f"/records/{record['id']}?reason=Claim", headers=ADMIN)[0] == 204
    drain(pump)

    assert invalidated(distribution) == [paths_of(version_id)]


def test_a_bucket_of_many_images_is_invalidated_with_one_path(
    api: Client, pump: Any, distribution: str
) -> None:
    bucket_id = new_bucket(api, public_read=True)
    for n in range(6):  # one more than get two paths each
        store(api, bucket_id, f"p{n}.png", png(8, 8), content_type="image/png")
    drain(pump)

    patch(api, f"/files/{bucket_id}", {"public_read": False})
    drain(pump)

    assert invalidated(distribution) == [["/iiif/*"]]


def test_nothing_is_invalidated_for_what_was_never_public(api: Client, pump: Any, distribution: str) -> None:
    bucket_id = new_bucket(api)
    version = store(api, bucket_id, KEY, png(8, 8), content_type="image/png")
    restricted = create(api, access={"record": "restricted", "files": "restricted"})
    upload(api, restricted, "scan.png", png(8, 8))
    call(api, "post", f"/records/{restricted['id']}/publish")
    drain(pump)

    call(api, "delete", f"/files/{bucket_id}/{encode_key(KEY)}?versionId={version['version_id']}")
    call(api, "delete", f"/records/{restricted['id']}?reason=Claim", headers=ADMIN)
    patch(api, f"/files/{new_bucket(api, public_read=True)}", {"public_read": False})  # no files
    drain(pump)

    assert invalidated(distribution) == []


def test_an_invalidation_the_cdn_refuses_is_tried_again_under_the_same_reference(
    api: Client, pump: Any, distribution: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.iiif import cdn

    bucket_id, version_id = public_image(api, pump)
    references: list[str] = []
    aws.cloudfront().meta.events.register(
        "provide-client-params.cloudfront.CreateInvalidation",
        lambda params, **_: references.append(params["InvalidationBatch"]["CallerReference"]),
    )
    working = cdn.get_settings()
    monkeypatch.setattr(
        cdn, "get_settings", lambda: working.model_copy(update={"cdn_distribution_id": "EMISSING"})
    )
    patch(api, f"/files/{bucket_id}", {"public_read": False})

    assert pump.poll_once(wait_seconds=0) == 1  # refused (no such distribution): left on the queue
    monkeypatch.setattr(cdn, "get_settings", lambda: working)
    drain(pump)

    assert invalidated(distribution) == [paths_of(version_id)]
    # CloudFront makes one invalidation of requests sharing a caller reference: the notice's own id.
    assert len(references) == 2 and references[0] == references[1]
    queue = aws.sqs().get_queue_url(QueueName=working.ingest_queue)["QueueUrl"]
    attributes = aws.sqs().get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    assert (
        attributes["ApproximateNumberOfMessages"],
        attributes["ApproximateNumberOfMessagesNotVisible"],
    ) == (
        "0",
        "0",
    )
