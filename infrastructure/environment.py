"""The variables chalicelib.settings reads, as the deployed functions get them.

``chalice package`` imports the app to find its routes and handlers, and the app reads its
settings at import (so a function with a missing variable fails at cold start, naming it). At
synth the deployed values are CloudFormation references, not values, so the import sees stand-ins
(``packaging_stand_ins``) and the real values are written onto every function afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from chalicelib.resources import TABLES
from chalicelib.settings import ENV_PREFIX


def variable(setting: str) -> str:
    return f"{ENV_PREFIX}{setting.upper()}"


@contextmanager
def packaging_stand_ins(stage: str) -> Iterator[None]:
    stand_ins: dict[str, str | None] = {
        variable("stage"): stage,
        variable("local_token_secret"): None,  # a shell that ran `make run` may have one: not allowed here
        "AWS_REGION": os.environ.get("CDK_DEFAULT_REGION", "us-east-1"),
        # chalice package makes (never calls) an API Gateway client to name service principals.
        "AWS_DEFAULT_REGION": os.environ.get("CDK_DEFAULT_REGION", "us-east-1"),
        variable("data_bucket"): "stand-in-bucket",
        variable("ingest_queue"): "stand-in-queue",
        variable("ingest_dlq"): "stand-in-dlq",
        variable("jwks_url"): "https://stand-in.invalid/jwks.json",
        variable("token_issuer"): "https://stand-in.invalid",
        variable("token_audience"): "stand-in",
        **{variable(table.setting): "stand-in-table" for table in TABLES},
    }
    saved = {name: os.environ.get(name) for name in stand_ins}
    _set(stand_ins)
    try:
        yield
    finally:
        _set(saved)


def _set(variables: dict[str, str | None]) -> None:
    for name, value in variables.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
