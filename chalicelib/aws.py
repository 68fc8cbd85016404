"""The boto3 clients, created once per Lambda container and only when first used.

Endpoints come from boto3's own ``AWS_ENDPOINT_URL_<SERVICE>`` variables, which is
how the embedded stack points the same code at moto.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from chalicelib.settings import get_settings

if TYPE_CHECKING:
    from boto3 import Session
    from botocore.credentials import ReadOnlyCredentials
    from mypy_boto3_cloudfront import CloudFrontClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient


def _config(**extra: Any) -> Any:
    from botocore.config import Config

    # Standard retries with few attempts: API Gateway gives up after 29 s, so a slow
    # dependency must fail fast enough for the error to reach the client.
    return Config(
        connect_timeout=3,
        read_timeout=10,
        retries={"max_attempts": 3, "mode": "standard"},
        **extra,
    )


@functools.cache
def session() -> Session:
    import boto3

    return boto3.Session(region_name=get_settings().region)


def frozen_credentials() -> ReadOnlyCredentials:
    """The credentials in force now (a Lambda role's rotate), for signing URLs ourselves."""
    credentials = session().get_credentials()
    if credentials is None:
        raise RuntimeError("no AWS credentials are configured")
    return credentials.get_frozen_credentials()


@functools.cache
def s3() -> S3Client:
    settings = get_settings()
    # SigV4 always: boto3 still signs presigned URLs with SigV2 in some regions.
    config = _config(signature_version="s3v4", s3={"addressing_style": settings.s3_addressing_style})
    return session().client("s3", config=config)


@functools.cache
def dynamodb() -> DynamoDBClient:
    return session().client("dynamodb", config=_config())


@functools.cache
def sqs() -> SQSClient:
    return session().client("sqs", config=_config())


@functools.cache
def cloudfront() -> CloudFrontClient:
    return session().client("cloudfront", config=_config())


def reset_clients() -> None:
    """Forget the clients, for tests that change endpoints or settings."""
    for factory in (s3, dynamodb, sqs, cloudfront, session):
        factory.cache_clear()
