"""Absolute links: the host clients reached, behind CloudFront too (which sends the API its own Host)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from chalicelib.links import base_url
from chalicelib.settings import Settings, get_settings


@dataclass
class FakeRequest:
    headers: dict[str, str]
    context: dict[str, Any] = field(default_factory=dict)


@pytest.fixture
def behind_cloudfront(local_env: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VELLUM_PUBLIC_HOST_HEADER", "x-vellum-public-host")
    get_settings.cache_clear()


def test_the_public_host_a_trusted_proxy_forwards_makes_the_links(behind_cloudfront: None) -> None:
    request = FakeRequest(
        headers={
            "host": "abc123.execute-api.eu-west-1.amazonaws.com",
            "x-vellum-public-host": "d111.cloudfront.net",
        },
        context={"stage": "api"},
    )

    assert base_url(request) == "https://d111.cloudfront.net"  # type: ignore[arg-type]


def test_without_the_header_the_api_gateway_host_and_stage_make_the_links(behind_cloudfront: None) -> None:
    request = FakeRequest(
        headers={"host": "abc123.execute-api.eu-west-1.amazonaws.com"}, context={"stage": "api"}
    )

    assert base_url(request) == "http://abc123.execute-api.eu-west-1.amazonaws.com/api"  # type: ignore[arg-type]


def test_the_header_is_ignored_unless_the_settings_name_it(local_env: Settings) -> None:
    request = FakeRequest(headers={"host": "127.0.0.1:8000", "x-vellum-public-host": "evil.example"})

    assert base_url(request) == "http://127.0.0.1:8000"  # type: ignore[arg-type]
