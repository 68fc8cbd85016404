"""What differs between the deployed stages: sizes, retention and protection, not code."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk.aws_cloudfront import PriceClass
from aws_cdk.aws_logs import RetentionDays


@dataclass(frozen=True)
class Stage:
    name: str  # "dev" or "prod": the VELLUM_STAGE the functions run with
    # prod keeps its data when the stack goes: tables and bucket are retained, tables protected.
    keep_data: bool
    log_retention: RetentionDays
    # The API renders IIIF answers from levels and keeps a 256 MiB memory cache: 2 GB, which
    # also buys it more CPU. Ingest decodes a 300 MP source in 1.3 GB: 3 GB leaves headroom.
    api_memory_mb: int = 2048
    ingest_memory_mb: int = 3008
    jobs_memory_mb: int = 1024
    # Ingest streams each source to /tmp before decoding it: room for a 500 MP uncompressed TIFF.
    ingest_ephemeral_mb: int = 2048
    # At most this many ingests run at once: a burst of uploads queues up instead of taking the
    # account's whole concurrency (and DynamoDB's and S3's request rates) from the API.
    ingest_concurrency: int = 20
    # IIIF answers rendered on demand are kept this long (VELLUM_IIIF_RENDERED_EXPIRY_DAYS).
    rendered_expiry_days: int = 30
    # CloudFront's price class: which edge locations serve the distribution.
    price_class: PriceClass = PriceClass.PRICE_CLASS_100


STAGES = {
    "dev": Stage(name="dev", keep_data=False, log_retention=RetentionDays.TWO_WEEKS, ingest_concurrency=5),
    "prod": Stage(
        name="prod",
        keep_data=True,
        log_retention=RetentionDays.THREE_MONTHS,
        price_class=PriceClass.PRICE_CLASS_ALL,
    ),
}
