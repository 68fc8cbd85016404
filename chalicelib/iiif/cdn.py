"""What the CDN keeps of public IIIF answers, dropped when an image stops being public.

Public answers carry ``s-maxage`` of a year, so CloudFront would go on serving an
image for a year after its bucket was made private, its record withdrawn or its version deleted.
The function that narrows access announces it on the ingest queue (files/notices.py); ingest,
the only function that knows the distribution (the API cannot: the distribution is built on the
API), invalidates the versions' paths. Wildcard paths are what CloudFront allows fewest of in
progress (15), so a handful of versions get theirs and more get one path for all of IIIF.
"""

from __future__ import annotations

from chalicelib import aws
from chalicelib.files.access import Narrowing, on_access_narrowed
from chalicelib.files.notices import announce_public_access_narrowed
from chalicelib.files.objects import current_version_ids
from chalicelib.observability import logger, metrics
from chalicelib.settings import get_settings

SHARED_MAX_AGE = 31_536_000  # a public answer's lifetime in shared caches, unless invalidated
VERSIONS_BY_PATH = 5  # two wildcard paths each (3.0 and 2.1): 10 of CloudFront's 15 in progress
EVERYTHING = "/iiif/*"


def invalidation_paths(version_ids: tuple[str, ...] | None) -> list[str]:
    if version_ids is None or len(version_ids) > VERSIONS_BY_PATH:
        return [EVERYTHING]
    return [f"/iiif/{api}/{version_id}/*" for version_id in sorted(set(version_ids)) for api in ("3", "2")]


def _announce(narrowing: Narrowing) -> None:
    if not narrowing.was_public:
        return  # nothing about the bucket's files was ever public, so no shared cache holds any
    version_ids = narrowing.version_ids
    if version_ids is None:
        current = current_version_ids(narrowing.bucket_id, limit=VERSIONS_BY_PATH + 1)
        version_ids = tuple(current) if len(current) <= VERSIONS_BY_PATH else None
    if version_ids == ():
        return
    announce_public_access_narrowed(narrowing.bucket_id, None if version_ids is None else list(version_ids))


on_access_narrowed(_announce)


def invalidate(version_ids: tuple[str, ...] | None, reference: str) -> None:
    """Have the CDN drop what it holds of these versions' IIIF answers.

    ``reference`` names the request: the same one sent again (a redelivered notice) is one
    invalidation, not two. Errors propagate, so the queue tries again later.
    """
    distribution = get_settings().cdn_distribution_id
    paths = invalidation_paths(version_ids)
    if not distribution:
        logger.info("no CDN to invalidate", extra={"paths": paths})
        return
    result = aws.cloudfront().create_invalidation(
        DistributionId=distribution,
        InvalidationBatch={"Paths": {"Quantity": len(paths), "Items": paths}, "CallerReference": reference},
    )
    metrics.add_metric(name="CdnInvalidations", unit="Count", value=1)
    logger.info(
        "CDN invalidation created", extra={"paths": paths, "invalidation": result["Invalidation"]["Id"]}
    )
