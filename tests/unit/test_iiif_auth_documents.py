"""The IIIF Authorization Flow's documents (chalicelib/iiif/auth.py), as the specs and clients read them."""

from __future__ import annotations

import pytest

from chalicelib.iiif import auth

SERVICES = auth.AuthServices("https://iiif.example.org", "active")


def test_the_probe_nests_access_token_and_logout_services() -> None:
    probe = SERVICES.probe2("v1")

    assert (probe["id"], probe["type"]) == ("https://iiif.example.org/auth/probe/v1", "AuthProbeService2")
    [access] = probe["service"]
    assert access["profile"] == "active" and access["confirmLabel"] == {"en": ["Sign in"]}
    assert [service["type"] for service in access["service"]] == [
        "AuthAccessTokenService2",
        "AuthLogoutService2",
    ]
    # 2.0 section 6.1: the logout label names where one signs out from.
    assert access["service"][1]["label"] == {"en": ["Sign out at iiif.example.org"]}


@pytest.mark.parametrize(
    ("profile", "pattern"), [("active", "login"), ("kiosk", "kiosk"), ("external", "external")]
)
def test_the_1_0_service_names_the_same_pattern_by_its_full_profile(profile: str, pattern: str) -> None:
    login = auth.AuthServices("https://iiif.example.org", profile).login1()

    assert login["profile"] == f"http://iiif.io/api/auth/1/{pattern}"
    assert ("header" in login) == (pattern == "login")  # what a person reads before the window opens
    assert all(isinstance(service["profile"], str) for service in login["service"])


def test_services_join_a_3_0_document_with_the_auth_context_first_and_leave_2_1_alone() -> None:
    v3 = auth.with_services({"@context": "http://iiif.io/api/image/3/context.json"}, SERVICES.services("v1"))
    v2 = auth.with_services({"@context": "http://iiif.io/api/image/2/context.json"}, SERVICES.services("v1"))

    assert v3["@context"] == [auth.AUTH2_CONTEXT, "http://iiif.io/api/image/3/context.json"]
    assert v2["@context"] == "http://iiif.io/api/image/2/context.json"
    assert len(v3["service"]) == len(v2["service"]) == 2


@pytest.mark.parametrize(
    ("origin", "valid"),
    [
        ("https://viewer.example", True),
        ("http://127.0.0.1:8000", True),
        ("https://[::1]:9", True),
        ("https://viewer.example/", True),  # Auth 1.0's example has the slash; the answer drops it
        ("https://viewer.example//", False),
        ("javascript:alert(1)", False),
        ("https://viewer.example/path", False),
        ("null", False),
        ("", False),
        (None, False),
    ],
)
def test_an_origin_is_a_scheme_a_host_and_a_port_alone(origin: str | None, valid: bool) -> None:
    assert auth.valid_origin(origin) is valid


def test_token_errors_speak_each_generations_words() -> None:
    two = auth.token_error2("m", "expiredAspect", "Signed out.")
    one = auth.token_error1("m", "expiredAspect", "Signed out.")

    assert (two["type"], two["profile"], two["messageId"]) == ("AuthAccessTokenError2", "expiredAspect", "m")
    assert one == {"error": "invalidCredentials", "description": "Signed out.", "messageId": "m"}
    assert auth.token1(None, "t", 60) == {"accessToken": "t", "expiresIn": 60}
