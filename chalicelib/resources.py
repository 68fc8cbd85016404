"""The AWS resources Vellum runs on, described once.

The embedded stack (``local/provision.py``) creates them through the AWS APIs and
the IaC renders them as CloudFormation, both from these definitions, so the two
cannot drift apart. Names are not here: they come from settings.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_s3.type_defs import (
        BucketLifecycleConfigurationTypeDef,
        CORSConfigurationTypeDef,
        NotificationConfigurationTypeDef,
    )
    from mypy_boto3_sqs.literals import QueueAttributeNameType

# Every stored byte of user content lives under this prefix, and only objects
# under it are announced to ingest; derivatives (thumbnails, tiles) live elsewhere
# so writing them never triggers ingest again.
DATA_PREFIX = "data/"

# A multipart upload nobody completes is aborted by S3 itself after this long.
# Presigned URLs live at most 7 days, so no client can resume after that anyway.
ABORT_INCOMPLETE_MULTIPART_DAYS = 7
# Derivatives (tiles, levels, rendered answers) live under this prefix. Most are read in the days
# after their image lands and rarely after: S3 Intelligent-Tiering moves the large ones (levels,
# big renders; it never moves objects under 128 KiB) to cheaper tiers on its own.
DERIVATIVES_PREFIX = "derivatives/"
DERIVATIVES_TIERING_DAYS = 30
# IIIF answers rendered on demand (any region, size, turn a client asks for) live under their own
# prefix and expire (VELLUM_IIIF_RENDERED_EXPIRY_DAYS): anonymous requests cannot grow storage for
# ever. Ingest's pyramid and thumbnails stay under DERIVATIVES_PREFIX as long as their file.
RENDERED_PREFIX = "rendered/"
# The data bucket keeps object versions, so bytes posted over a recorded browser form upload (whose
# policy S3 cannot condition) can be undone; versions written over or deleted go after this long.
REPLACED_VERSION_DAYS = 1

# Ingest: how often a message is tried before it goes to the dead-letter queue,
# and how long the consumer may take. AWS advises a visibility timeout of six
# times the consumer's timeout so a slow batch is not delivered twice meanwhile.
INGEST_MAX_RECEIVE_COUNT = 5
INGEST_FUNCTION_TIMEOUT_SECONDS = 300
INGEST_VISIBILITY_TIMEOUT_SECONDS = 6 * INGEST_FUNCTION_TIMEOUT_SECONDS
DLQ_RETENTION_SECONDS = 14 * 24 * 3600


@dataclass(frozen=True)
class Index:
    name: str
    hash_key: str
    range_key: str


@dataclass(frozen=True)
class Table:
    """A DynamoDB table with generic key names.

    Generic keys (pk/sk, gsiNpk/gsiNsk) keep the table's shape stable while the
    access patterns of the code that owns it grow: a new pattern is a new key
    format, not a new table or a migration of the deployed stack.
    """

    setting: str  # the Settings field holding the table's name
    hash_key: str = "pk"
    range_key: str = "sk"
    indexes: tuple[Index, ...] = field(
        default=(Index("gsi1", "gsi1pk", "gsi1sk"), Index("gsi2", "gsi2pk", "gsi2sk"))
    )
    ttl_attribute: str = "expires_at"

    def create_table_params(self, name: str) -> dict[str, Any]:
        """Keyword arguments for DynamoDB ``CreateTable``."""
        keys = {self.hash_key, self.range_key}
        for index in self.indexes:
            keys.update((index.hash_key, index.range_key))
        params: dict[str, Any] = {
            "TableName": name,
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": k, "AttributeType": "S"} for k in sorted(keys)],
            "KeySchema": _key_schema(self.hash_key, self.range_key),
        }
        if self.indexes:  # DynamoDB refuses an empty list
            params["GlobalSecondaryIndexes"] = [
                {
                    "IndexName": index.name,
                    "KeySchema": _key_schema(index.hash_key, index.range_key),
                    "Projection": {"ProjectionType": "ALL"},
                }
                for index in self.indexes
            ]
        return params


def _key_schema(hash_key: str, range_key: str) -> list[dict[str, str]]:
    return [
        {"AttributeName": hash_key, "KeyType": "HASH"},
        {"AttributeName": range_key, "KeyType": "RANGE"},
    ]


TABLES = (
    Table(setting="files_table"),  # buckets, object versions, uploads, tags
    Table(setting="records_table"),  # records, their versions and file entries
    Table(setting="sessions_table", indexes=()),  # browser sessions, each found by its own key
)


def data_bucket_cors(origins: list[str]) -> CORSConfigurationTypeDef:
    """CORS for browsers that PUT parts and POST forms straight to S3, and read files in ranges.

    ``ETag`` must be exposed: multipart clients (Uppy) read each part's ETag to
    complete the upload; Uppy also reads a form upload's ``Location``; pdf.js reads a
    PDF in ranges from a preview page and needs the range headers.
    """
    return {
        "CORSRules": [
            {
                "AllowedOrigins": origins,
                "AllowedMethods": ["GET", "HEAD", "PUT", "POST"],
                "AllowedHeaders": ["*"],
                "ExposeHeaders": ["ETag", "Location", "Accept-Ranges", "Content-Range", "Content-Length"],
                "MaxAgeSeconds": 3600,
            }
        ]
    }


def data_bucket_lifecycle(rendered_expiry_days: int) -> BucketLifecycleConfigurationTypeDef:
    return {
        "Rules": [
            {
                "ID": "abort-incomplete-multipart-uploads",
                "Status": "Enabled",
                "Filter": {"Prefix": ""},
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": ABORT_INCOMPLETE_MULTIPART_DAYS},
            },
            {
                "ID": "expire-replaced-versions",
                "Status": "Enabled",
                "Filter": {"Prefix": ""},
                "NoncurrentVersionExpiration": {"NoncurrentDays": REPLACED_VERSION_DAYS},
                "Expiration": {"ExpiredObjectDeleteMarker": True},
            },
            {
                "ID": "tier-derivatives",
                "Status": "Enabled",
                "Filter": {"Prefix": DERIVATIVES_PREFIX},
                "Transitions": [{"Days": DERIVATIVES_TIERING_DAYS, "StorageClass": "INTELLIGENT_TIERING"}],
            },
            {
                "ID": "expire-rendered-answers",
                "Status": "Enabled",
                "Filter": {"Prefix": RENDERED_PREFIX},
                "Expiration": {"Days": rendered_expiry_days},
            },
        ]
    }


def data_bucket_notifications(ingest_queue_arn: str) -> NotificationConfigurationTypeDef:
    return {
        "QueueConfigurations": [
            {
                "Id": "ingest-new-objects",
                "QueueArn": ingest_queue_arn,
                "Events": ["s3:ObjectCreated:*"],
                "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": DATA_PREFIX}]}},
            }
        ]
    }


def ingest_queue_policy(queue_arn: str, bucket_arn: str) -> dict[str, Any]:
    """Only the data bucket may send to the queue (S3 needs this grant to deliver)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DataBucketNotifications",
                "Effect": "Allow",
                "Principal": {"Service": "s3.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": bucket_arn}},
            }
        ],
    }


def ingest_queue_attributes(
    dlq_arn: str, queue_arn: str, bucket_arn: str
) -> Mapping[QueueAttributeNameType, str]:
    return {
        "VisibilityTimeout": str(INGEST_VISIBILITY_TIMEOUT_SECONDS),
        "RedrivePolicy": json.dumps(
            {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": INGEST_MAX_RECEIVE_COUNT}
        ),
        "Policy": json.dumps(ingest_queue_policy(queue_arn, bucket_arn)),
    }


def dlq_attributes() -> Mapping[QueueAttributeNameType, str]:
    return {"MessageRetentionPeriod": str(DLQ_RETENTION_SECONDS)}


# API Gateway answers a path no route matches with its own 403 "Missing Authentication
# Token". The deployed API replaces that gateway response (MISSING_AUTHENTICATION_TOKEN)
# with this one, in Vellum's error shape; the local API server does the same.
UNKNOWN_ROUTE_STATUS = 404
UNKNOWN_ROUTE_MESSAGE = "No route matches this path."
