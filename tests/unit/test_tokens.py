"""Bearer tokens: what the verifier accepts, and the sentence it answers with when it refuses."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from chalicelib.auth.principal import ANONYMOUS
from chalicelib.auth.tokens import (
    LOCAL_AUDIENCE,
    LOCAL_ISSUER,
    TokenVerifier,
    issue_local_token,
    parse_roles,
    principal_from_authorization,
)
from chalicelib.errors import Unauthorized
from chalicelib.settings import Settings

SECRET = "local-secret-" + "x" * 40
ISSUER = "https://id.example.org/"
AUDIENCE = "vellum-api"
FOREIGN_ALGORITHM = "The token is signed with an algorithm Vellum does not accept."


# --- keys and tokens ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SigningKey:
    kid: str
    algorithm: str
    private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

    def public_jwk(self) -> dict[str, Any]:
        public_key = self.private_key.public_key()
        if isinstance(public_key, rsa.RSAPublicKey):
            jwk = RSAAlgorithm.to_jwk(public_key, as_dict=True)
        else:
            jwk = ECAlgorithm.to_jwk(public_key, as_dict=True)
        return {**jwk, "kid": self.kid, "alg": self.algorithm, "use": "sig"}

    def public_pem(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def sign(self, claims: dict[str, Any], kid: str | None = None) -> str:
        return jwt.encode(
            claims, self.private_key, algorithm=self.algorithm, headers={"kid": kid or self.kid}
        )


RSA_KEY = SigningKey("rsa-1", "RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048))
EC_KEY = SigningKey("ec-1", "ES256", ec.generate_private_key(ec.SECP256R1()))
STRANGER_KEY = SigningKey("stranger", "RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048))


def _claims(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``overrides`` applied; an override of None removes the claim."""
    merged = {**base, **overrides}
    return {name: value for name, value in merged.items() if value is not None}


def local_claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"iss": LOCAL_ISSUER, "aud": LOCAL_AUDIENCE, "sub": "alice", "iat": now, "exp": now + 600}
    return _claims(base, overrides)


def provider_claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "iat": now, "exp": now + 600}
    return _claims(base, overrides)


def local_token(secret: str = SECRET, **overrides: Any) -> str:
    return jwt.encode(local_claims(**overrides), secret, algorithm="HS256")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict[str, Any], claims: dict[str, Any], sign: Callable[[bytes], bytes]) -> str:
    """A token assembled by hand, for the headers PyJWT refuses to write."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{_b64(sign(signing_input.encode()))}"


def refusal(verifier: TokenVerifier, token: str) -> str:
    """The sentence of the 401 that verifying ``token`` raises."""
    with pytest.raises(Unauthorized) as caught:
        verifier.verify(token)
    assert caught.value.status == 401
    assert caught.value.headers == {"WWW-Authenticate": 'Bearer error="invalid_token"'}
    return caught.value.message


# --- a JWKS endpoint on loopback -----------------------------------------------------------------


@dataclass
class JwksEndpoint:
    url: str
    keys: list[dict[str, Any]]
    requests: int = 0
    status: int = 200
    body: bytes | None = None  # when set, served instead of the key set


@pytest.fixture
def jwks() -> Iterator[JwksEndpoint]:
    endpoint = JwksEndpoint(url="", keys=[RSA_KEY.public_jwk(), EC_KEY.public_jwk()])

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            endpoint.requests += 1
            body = (
                endpoint.body if endpoint.body is not None else json.dumps({"keys": endpoint.keys}).encode()
            )
            self.send_response(endpoint.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    # A short poll interval keeps shutdown() from waiting half a second per test.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    endpoint.url = f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json"
    try:
        yield endpoint
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def unused_loopback_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/.well-known/jwks.json"


@pytest.fixture
def local_verifier() -> TokenVerifier:
    return TokenVerifier(local_secret=SECRET)


@pytest.fixture
def provider_verifier(jwks: JwksEndpoint) -> TokenVerifier:
    return TokenVerifier(jwks_url=jwks.url, issuer=ISSUER, audience=AUDIENCE)


# --- local mode ----------------------------------------------------------------------------------


def test_a_local_token_names_its_subject_and_roles(local_verifier: TokenVerifier) -> None:
    principal = local_verifier.verify(issue_local_token(SECRET, "alice", ["editor"]))

    assert principal.sub == "alice"
    assert principal.roles == frozenset({"editor"})
    assert not principal.is_admin


def test_a_local_token_with_the_admin_role_is_an_admin(local_verifier: TokenVerifier) -> None:
    assert local_verifier.verify(issue_local_token(SECRET, "root", ["admin"])).is_admin


def test_a_local_token_issued_longer_ago_than_its_ttl_has_expired(local_verifier: TokenVerifier) -> None:
    token = issue_local_token(SECRET, "alice", [], ttl_seconds=3600, now=int(time.time()) - 7200)

    assert refusal(local_verifier, token) == "The token has expired."


def test_a_token_that_expired_within_the_clock_skew_is_still_accepted(local_verifier: TokenVerifier) -> None:
    assert local_verifier.verify(local_token(exp=int(time.time()) - 10)).sub == "alice"


@pytest.mark.parametrize(
    ("overrides", "sentence"),
    [
        pytest.param({"exp": int(time.time()) - 3600}, "The token has expired.", id="expired"),
        pytest.param({"nbf": int(time.time()) + 3600}, "The token is not valid yet.", id="not-yet-valid"),
        pytest.param({"aud": "another-app"}, "The token was issued for another audience.", id="audience"),
        pytest.param(
            {"iss": "https://evil.example"},
            "The token was issued by an issuer Vellum does not trust.",
            id="issuer",
        ),
        pytest.param({"sub": None}, 'The token lacks the "sub" claim.', id="no-sub"),
        pytest.param({"sub": ""}, "The token does not name its subject.", id="empty-sub"),
        pytest.param({"exp": None}, 'The token lacks the "exp" claim.', id="no-exp"),
        pytest.param({"aud": None}, 'The token lacks the "aud" claim.', id="no-aud"),
    ],
)
def test_local_mode_refuses_claims_that_do_not_check_out(
    local_verifier: TokenVerifier, overrides: dict[str, Any], sentence: str
) -> None:
    assert refusal(local_verifier, local_token(**overrides)) == sentence


def test_a_tampered_payload_breaks_the_signature(local_verifier: TokenVerifier) -> None:
    header, _, signature = local_token().split(".")
    payload = _b64(json.dumps(local_claims(sub="mallory")).encode())

    assert refusal(local_verifier, f"{header}.{payload}.{signature}") == "The token signature is invalid."


def test_a_token_signed_with_another_secret_is_refused(local_verifier: TokenVerifier) -> None:
    token = local_token(secret="another-secret-" + "y" * 40)

    assert refusal(local_verifier, token) == "The token signature is invalid."


def test_an_unsigned_token_is_refused(local_verifier: TokenVerifier) -> None:
    token = forge({"alg": "none", "typ": "JWT"}, local_claims(), lambda _: b"")

    assert refusal(local_verifier, token) == "The token is not signed."


def test_a_token_that_is_not_a_jwt_is_malformed(local_verifier: TokenVerifier) -> None:
    assert refusal(local_verifier, "not-a-token") == "The token is malformed."


def test_local_mode_refuses_asymmetric_tokens(local_verifier: TokenVerifier) -> None:
    token = RSA_KEY.sign(local_claims())

    assert refusal(local_verifier, token) == FOREIGN_ALGORITHM


# --- production mode -----------------------------------------------------------------------------


@pytest.mark.parametrize("key", [RSA_KEY, EC_KEY], ids=["RS256", "ES256"])
def test_production_mode_accepts_tokens_signed_by_a_key_in_the_jwks(
    provider_verifier: TokenVerifier, key: SigningKey
) -> None:
    principal = provider_verifier.verify(key.sign(provider_claims(roles=["editor"])))

    assert (principal.sub, principal.roles) == ("alice", frozenset({"editor"}))


def test_a_token_whose_key_is_not_in_the_jwks_is_refused(provider_verifier: TokenVerifier) -> None:
    token = STRANGER_KEY.sign(provider_claims())

    assert refusal(provider_verifier, token) == "The token's signing key is unknown."


def test_a_token_signed_by_another_key_under_a_known_kid_is_refused(provider_verifier: TokenVerifier) -> None:
    token = STRANGER_KEY.sign(provider_claims(), kid=RSA_KEY.kid)

    assert refusal(provider_verifier, token) == "The token signature is invalid."


def test_a_token_without_a_key_id_is_refused(provider_verifier: TokenVerifier) -> None:
    token = jwt.encode(provider_claims(), RSA_KEY.private_key, algorithm="RS256")

    assert refusal(provider_verifier, token) == "The token does not name its signing key."


def test_an_hs256_token_keyed_with_the_public_key_is_refused_before_any_key_fetch(
    provider_verifier: TokenVerifier, jwks: JwksEndpoint
) -> None:
    # Algorithm confusion: a verifier that let the token pick HS256 would use the (public) RSA key
    # as the HMAC secret, and anyone could sign.
    pem = RSA_KEY.public_pem()
    header = {"alg": "HS256", "typ": "JWT", "kid": RSA_KEY.kid}
    token = forge(header, provider_claims(), lambda data: hmac.new(pem, data, hashlib.sha256).digest())

    assert refusal(provider_verifier, token) == FOREIGN_ALGORITHM
    assert jwks.requests == 0


def test_a_local_token_is_refused_in_production(provider_verifier: TokenVerifier) -> None:
    token = issue_local_token(SECRET, "alice", ["admin"])

    assert refusal(provider_verifier, token) == FOREIGN_ALGORITHM


def test_an_unsigned_token_is_refused_in_production(provider_verifier: TokenVerifier) -> None:
    token = forge({"alg": "none", "kid": RSA_KEY.kid}, provider_claims(), lambda _: b"")

    assert refusal(provider_verifier, token) == "The token is not signed."


def test_production_mode_checks_the_audience(provider_verifier: TokenVerifier) -> None:
    token = RSA_KEY.sign(provider_claims(aud="another-app"))

    assert refusal(provider_verifier, token) == "The token was issued for another audience."


def test_an_audience_list_naming_vellum_is_accepted(provider_verifier: TokenVerifier) -> None:
    token = RSA_KEY.sign(provider_claims(aud=["another-app", AUDIENCE]))

    assert provider_verifier.verify(token).sub == "alice"


def test_a_cognito_access_token_names_its_app_client_instead_of_an_audience(
    provider_verifier: TokenVerifier,
) -> None:
    token = RSA_KEY.sign(provider_claims(aud=None, token_use="access", client_id=AUDIENCE))

    assert provider_verifier.verify(token).sub == "alice"


def test_a_cognito_access_token_for_another_app_client_is_refused(provider_verifier: TokenVerifier) -> None:
    token = RSA_KEY.sign(provider_claims(aud=None, token_use="access", client_id="another-app"))

    assert refusal(provider_verifier, token) == 'The token lacks the "aud" claim.'


def test_a_client_id_without_token_use_access_does_not_stand_in_for_the_audience(
    provider_verifier: TokenVerifier,
) -> None:
    token = RSA_KEY.sign(provider_claims(aud=None, token_use="id", client_id=AUDIENCE))

    assert refusal(provider_verifier, token) == 'The token lacks the "aud" claim.'


def test_the_jwks_is_fetched_once_for_many_verifications(
    provider_verifier: TokenVerifier, jwks: JwksEndpoint
) -> None:
    for number in range(20):
        key = RSA_KEY if number % 2 else EC_KEY
        subject = f"user-{number}"
        assert provider_verifier.verify(key.sign(provider_claims(sub=subject))).sub == subject

    assert jwks.requests == 1


def test_with_caching_off_each_verification_fetches_the_jwks_once(jwks: JwksEndpoint) -> None:
    verifier = TokenVerifier(jwks_url=jwks.url, issuer=ISSUER, audience=AUDIENCE, jwks_cache_seconds=0)

    for _ in range(3):
        verifier.verify(RSA_KEY.sign(provider_claims()))

    assert jwks.requests == 3


def test_a_key_added_to_the_jwks_after_the_first_fetch_is_found(jwks: JwksEndpoint) -> None:
    # Key rotation: an unknown kid makes the client fetch the set again (cooldown 0 here).
    verifier = TokenVerifier(jwks_url=jwks.url, issuer=ISSUER, audience=AUDIENCE, jwks_cooldown_seconds=0)
    verifier.verify(RSA_KEY.sign(provider_claims()))
    jwks.keys.append(STRANGER_KEY.public_jwk())

    assert verifier.verify(STRANGER_KEY.sign(provider_claims())).sub == "alice"
    assert jwks.requests == 2


def test_an_unreachable_identity_provider_is_a_401_with_a_sentence(caplog: pytest.LogCaptureFixture) -> None:
    verifier = TokenVerifier(jwks_url=unused_loopback_url(), issuer=ISSUER, audience=AUDIENCE)

    with caplog.at_level(logging.WARNING, logger="chalicelib.auth.tokens"):
        sentence = refusal(verifier, RSA_KEY.sign(provider_claims()))

    assert sentence == "The identity provider's keys could not be fetched."
    assert any("JWKS fetch" in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize(
    ("status", "body"),
    [(500, b"{}"), (200, b"<html>not json</html>"), (200, b'{"keys": []}')],
    ids=["server-error", "not-json", "no-keys"],
)
def test_a_broken_jwks_response_is_a_401_with_a_sentence(
    provider_verifier: TokenVerifier, jwks: JwksEndpoint, status: int, body: bytes
) -> None:
    jwks.status, jwks.body = status, body

    assert refusal(provider_verifier, RSA_KEY.sign(provider_claims())) == (
        "The identity provider's keys could not be fetched."
    )


# --- roles ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("claim", "roles"),
    [
        (["editor", "admin"], {"editor", "admin"}),
        ("editor admin", {"editor", "admin"}),
        ("editor,admin", {"editor", "admin"}),
        ("editor, admin ", {"editor", "admin"}),
        ("", set()),
        ([], set()),
        (None, set()),
        (42, set()),
        ({"editor": True}, set()),
        (["editor", 7], set()),
    ],
)
def test_roles_come_from_a_list_or_a_separated_string_only(claim: object, roles: set[str]) -> None:
    assert parse_roles(claim) == frozenset(roles)


def test_roles_are_read_from_the_configured_claim() -> None:
    verifier = TokenVerifier(local_secret=SECRET, roles_claim="cognito:groups")
    token = local_token(**{"cognito:groups": ["admin", "curators"], "roles": ["ignored"]})

    principal = verifier.verify(token)

    assert principal.roles == frozenset({"admin", "curators"})
    assert principal.is_admin


def test_admin_is_the_configured_role_only() -> None:
    verifier = TokenVerifier(local_secret=SECRET, admin_role="vellum-admins")

    assert verifier.verify(local_token(roles="vellum-admins")).is_admin
    assert not verifier.verify(local_token(roles="admin")).is_admin


# --- the Authorization header ------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "", "   "])
def test_no_authorization_header_is_anonymous(local_verifier: TokenVerifier, header: str | None) -> None:
    assert principal_from_authorization(header, local_verifier) is ANONYMOUS


@pytest.mark.parametrize(
    ("header", "sentence"),
    [
        ("Basic YWxpY2U6c2VjcmV0", "The Authorization header must use the Bearer scheme."),
        ("Token abc", "The Authorization header must use the Bearer scheme."),
        ("Bearer", "The Authorization header has no token after Bearer."),
        ("Bearer    ", "The Authorization header has no token after Bearer."),
        ("Bearer not-a-token", "The token is malformed."),
    ],
)
def test_a_bad_authorization_header_is_refused_not_anonymous(
    local_verifier: TokenVerifier, header: str, sentence: str
) -> None:
    with pytest.raises(Unauthorized) as caught:
        principal_from_authorization(header, local_verifier)

    assert caught.value.message == sentence
    assert caught.value.headers == {"WWW-Authenticate": 'Bearer error="invalid_token"'}


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_the_bearer_scheme_is_case_insensitive(local_verifier: TokenVerifier, scheme: str) -> None:
    principal = principal_from_authorization(f"{scheme} {local_token()}", local_verifier)

    assert principal.sub == "alice"


# --- construction --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "arguments",
    [{}, {"local_secret": SECRET, "jwks_url": "https://id.example.org/jwks"}, {"local_secret": "short"}],
    ids=["neither-mode", "both-modes", "short-secret"],
)
def test_a_verifier_needs_exactly_one_usable_mode(arguments: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"local_secret|secret needs"):
        TokenVerifier(**arguments)


def _settings(**values: Any) -> Settings:
    resources = {
        "AWS_REGION": "us-east-1",
        "data_bucket": "vellum-data",
        "files_table": "vellum-files",
        "records_table": "vellum-records",
        "sessions_table": "vellum-sessions",
        "ingest_queue": "vellum-ingest",
        "ingest_dlq": "vellum-ingest-dlq",
        # Given here so the test session's local-stage environment does not leak in.
        "local_token_secret": None,
    }
    return Settings(**{**resources, **values})


def test_the_local_stage_verifies_local_tokens() -> None:
    verifier = TokenVerifier.from_settings(_settings(stage="local", local_token_secret=SECRET))

    assert verifier.is_local
    assert verifier.verify(issue_local_token(SECRET, "alice", ["admin"])).is_admin


def test_other_stages_verify_against_the_jwks(jwks: JwksEndpoint) -> None:
    settings = _settings(
        stage="prod",
        jwks_url=jwks.url,
        token_issuer=ISSUER,
        token_audience=AUDIENCE,
        roles_claim="cognito:groups",
    )
    verifier = TokenVerifier.from_settings(settings)

    assert not verifier.is_local
    assert verifier.verify(EC_KEY.sign(provider_claims(**{"cognito:groups": "admin"}))).is_admin


def test_a_token_living_longer_than_the_maximum_is_refused() -> None:
    verifier = TokenVerifier(local_secret=SECRET, max_lifetime_seconds=3600)
    now = int(time.time())

    assert verifier.verify(local_token(iat=now, exp=now + 3600)).sub == "alice"
    for forged in (local_token(iat=now, exp=now + 10 * 365 * 86_400), local_token(iat=None, exp=now + 7200)):
        with pytest.raises(Unauthorized, match="lives longer than the 3600 s"):
            verifier.verify(forged)


def test_the_maximum_lifetime_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.settings import load_settings

    monkeypatch.setenv("VELLUM_MAX_TOKEN_LIFETIME_SECONDS", "600")
    verifier = TokenVerifier.from_settings(load_settings())
    now = int(time.time())

    with pytest.raises(Unauthorized, match="lives longer than the 600 s"):
        verifier.verify(issue_local_token(load_settings().local_token_secret or "", "alice", [], 3600, now))
