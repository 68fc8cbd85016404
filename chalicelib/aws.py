"""The boto3 clients, created once per Lambda container and only when first used.

Endpoints come from boto3's own ``AWS_ENDPOINT_URL_<SERVICE>`` variables, which is
how the embedded stack points the same code at moto.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from chalicelib.settings import get_settings

if TYPE_CHECKING:
    from boto3 import Session
    from botocore.credentials import ReadOnlyCredentials
    from mypy_boto3_cloudfront import CloudFrontClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient


_T = TypeVar("_T")
_creating = threading.RLock()


def _once(factory: Callable[[], _T]) -> functools._lru_cache_wrapper[_T]:
    """Cache a client, created by the first caller only: threads that ask at once (the local API
    serves many requests in one process) would each build one otherwise, at tens of ms each."""
    cached = functools.cache(factory)

    @functools.wraps(factory)
    def created() -> _T:
        with _creating:
            return cached()

    created.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
    return created  # type: ignore[return-value]


def _config(**extra: Any) -> Any:
    from botocore.config import Config

    # Standard retries with few attempts: API Gateway gives up after 29 s, so a slow
    # dependency must fail fast enough for the error to reach the client. A pool as large as the
    # local API's concurrency; a Lambda container uses one connection at a time.
    return Config(
        connect_timeout=3,
        read_timeout=10,
        retries={"max_attempts": 3, "mode": "standard"},
        max_pool_connections=64,
        **extra,
    )


@_once
def session() -> Session:
    import boto3

    return boto3.Session(region_name=get_settings().region)


def frozen_credentials() -> ReadOnlyCredentials:
    """The credentials in force now (a Lambda role's rotate), for signing URLs ourselves."""
    credentials = session().get_credentials()
    if credentials is None:
        raise RuntimeError("no AWS credentials are configured")
    return credentials.get_frozen_credentials()


@_once
def s3() -> S3Client:
    settings = get_settings()
    # SigV4 always: boto3 still signs presigned URLs with SigV2 in some regions.
    config = _config(signature_version="s3v4", s3={"addressing_style": settings.s3_addressing_style})
    return session().client("s3", config=config)


@_once
def dynamodb() -> DynamoDBClient:
    return session().client("dynamodb", config=_config())


@_once
def sqs() -> SQSClient:
    return session().client("sqs", config=_config())


@_once
def cloudfront() -> CloudFrontClient:
    return session().client("cloudfront", config=_config())


def reset_clients() -> None:
    """Forget the clients, for tests that change endpoints or settings."""
    for factory in (s3, dynamodb, sqs, cloudfront, session):
        factory.cache_clear()
