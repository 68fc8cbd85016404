"""Bearer tokens (JWT) in, a Principal out.

Two modes, never mixed in one verifier (RFC 8725 section 2.1: one key type, one algorithm family):

- local: HS256 with a shared secret, for the embedded stack only;
- production: RS256 or ES256, public keys from the identity provider's JWKS URL.

Every refusal is an ``Unauthorized`` carrying a sentence a client can show; the library's
exception text never reaches the response.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

import jwt
from jwt import PyJWK, PyJWKClient
from jwt.exceptions import (
    DecodeError,
    ExpiredSignatureError,
    ImmatureSignatureError,
    InvalidAlgorithmError,
    InvalidIssuedAtError,
    InvalidIssuerError,
    InvalidKeyError,
    InvalidSignatureError,
    InvalidSubjectError,
    MissingRequiredClaimError,
    PyJWKClientConnectionError,
    PyJWKClientError,
    PyJWKSetError,
    PyJWTError,
)

from chalicelib.auth.principal import ANONYMOUS, Principal
from chalicelib.errors import Unauthorized
from chalicelib.observability import logger

if TYPE_CHECKING:
    from chalicelib.settings import Settings

LOCAL_ISSUER: Final = "vellum-local"
LOCAL_AUDIENCE: Final = "vellum"
LOCAL_ALGORITHMS: Final = ("HS256",)
PRODUCTION_ALGORITHMS: Final = ("RS256", "ES256")
CLOCK_SKEW_SECONDS: Final = 30
# RFC 7518 section 3.2: an HS256 key must be at least as long as the hash output (32 bytes).
MIN_LOCAL_SECRET_LENGTH: Final = 32
# API Gateway gives up after 29 s; a slow identity provider must fail well before that.
JWKS_TIMEOUT_SECONDS: Final = 5.0
# Tokens naming an unknown kid refetch the key set at most this often, so they cannot flood the provider.
JWKS_COOLDOWN_SECONDS: Final = 30.0


class TokenVerifier:
    """Verifies tokens in exactly one mode: ``local_secret`` (local) or ``jwks_url`` (production).

    In local mode ``issuer`` and ``audience`` default to the ones ``issue_local_token`` writes.
    Build it once per process: the JWKS client inside caches the key set for
    ``jwks_cache_seconds``, so a warm Lambda container does not fetch keys per request.
    """

    def __init__(
        self,
        *,
        local_secret: str | None = None,
        jwks_url: str | None = None,
        issuer: str | None = None,
        audience: str | None = None,
        roles_claim: str = "roles",
        admin_role: str = "admin",
        jwks_cache_seconds: int = 300,
        jwks_timeout_seconds: float = JWKS_TIMEOUT_SECONDS,
        jwks_cooldown_seconds: float = JWKS_COOLDOWN_SECONDS,
        leeway_seconds: int = CLOCK_SKEW_SECONDS,
        max_lifetime_seconds: int = 86_400,
    ) -> None:
        if (local_secret is None) == (jwks_url is None):
            raise ValueError("give exactly one of local_secret (local mode) or jwks_url (production mode)")
        self._jwks: PyJWKClient | None = None
        self._secret: str | None = None
        self._algorithms: Sequence[str]
        if local_secret is not None:
            if len(local_secret) < MIN_LOCAL_SECRET_LENGTH:
                raise ValueError(f"the local token secret needs {MIN_LOCAL_SECRET_LENGTH} characters or more")
            self._secret = local_secret
            self._algorithms = LOCAL_ALGORITHMS
            issuer = issuer or LOCAL_ISSUER
            audience = audience or LOCAL_AUDIENCE
        else:
            assert jwks_url is not None  # narrowed by the exactly-one check above
            self._algorithms = PRODUCTION_ALGORITHMS
            try:
                self._jwks = PyJWKClient(
                    jwks_url,
                    # PyJWKClient refuses a zero lifespan; zero in the settings means "do not cache".
                    cache_jwk_set=jwks_cache_seconds > 0,
                    lifespan=max(jwks_cache_seconds, 1),
                    timeout=jwks_timeout_seconds,
                    cooldown_duration=jwks_cooldown_seconds,
                )
            except PyJWKClientError as exc:
                raise ValueError(f"unusable JWKS URL {jwks_url!r}: {exc}") from None
        self._issuer = issuer
        self._audience = audience
        self._roles_claim = roles_claim
        self._admin_role = admin_role
        self._leeway = leeway_seconds
        self._max_lifetime = max_lifetime_seconds

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenVerifier:
        common: dict[str, Any] = {
            "roles_claim": settings.roles_claim,
            "admin_role": settings.admin_role,
            "max_lifetime_seconds": settings.max_token_lifetime_seconds,
        }
        if settings.stage == "local":
            return cls(local_secret=settings.local_token_secret, **common)
        return cls(
            jwks_url=str(settings.jwks_url),
            issuer=settings.token_issuer,
            audience=settings.token_audience,
            jwks_cache_seconds=settings.jwks_cache_seconds,
            **common,
        )

    @property
    def is_local(self) -> bool:
        return self._secret is not None

    def verify(self, token: str) -> Principal:
        """Return the token's principal, or raise Unauthorized(invalid_token=True) saying why not."""
        header = self._checked_header(token)
        key = self._secret if self._secret is not None else self._signing_key(header)
        required = ["exp", "sub"] + (["iss"] if self._issuer else [])
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=list(self._algorithms),
                issuer=self._issuer,
                leeway=self._leeway,
                # The audience is checked below, where Cognito access tokens get their due.
                options={"require": required, "verify_aud": False},
            )
        except PyJWTError as exc:
            raise _refusal(exc) from None
        self._check_audience(claims)
        self._check_lifetime(claims)
        subject = claims["sub"]
        if not subject:
            raise _invalid("The token does not name its subject.")
        roles = parse_roles(claims.get(self._roles_claim))
        return Principal(
            sub=subject, roles=roles, is_admin=self._admin_role in roles, expires_at=int(claims["exp"])
        )

    def _check_lifetime(self, claims: dict[str, Any]) -> None:
        issued = claims.get("iat")
        start = issued if isinstance(issued, int | float) and not isinstance(issued, bool) else time.time()
        if claims["exp"] - start > self._max_lifetime + self._leeway:
            raise _invalid(f"The token lives longer than the {self._max_lifetime} s Vellum accepts.")

    def _check_audience(self, claims: dict[str, Any]) -> None:
        if self._audience is None:
            return
        audience = claims.get("aud")
        if audience is None:
            # Cognito access tokens carry no "aud": they name their app client in "client_id".
            if claims.get("token_use") == "access" and claims.get("client_id") == self._audience:
                return
            raise _invalid('The token lacks the "aud" claim.')
        if self._audience not in (audience if isinstance(audience, list) else [audience]):
            raise _invalid("The token was issued for another audience.")

    def _checked_header(self, token: str) -> dict[str, Any]:
        # Refuse foreign algorithms before any key is looked up: a forged header must not cost
        # a JWKS fetch, and the message is clearer than a signature failure.
        try:
            header = jwt.get_unverified_header(token)
        except PyJWTError:
            raise _invalid("The token is malformed.") from None
        algorithm = header.get("alg")
        if not algorithm or str(algorithm).lower() == "none":
            raise _invalid("The token is not signed.")
        if algorithm not in self._algorithms:
            raise _invalid("The token is signed with an algorithm Vellum does not accept.")
        return header

    def _signing_key(self, header: dict[str, Any]) -> PyJWK:
        assert self._jwks is not None  # production mode only
        kid = header.get("kid")
        if not kid:
            raise _invalid("The token does not name its signing key.")
        try:
            # Read the set (cached, or fetched) before asking for the kid, so that a provider outage
            # is told apart from an unknown key: get_signing_key raises PyJWKClientError for both.
            known = self._jwks.get_signing_keys()
        except (PyJWKClientError, PyJWKSetError, ValueError) as exc:
            # ValueError: a response that is not JSON slips through PyJWKClient unwrapped.
            logger.warning("JWKS fetch from %s failed: %s", self._jwks.uri, exc)
            raise _invalid("The identity provider's keys could not be fetched.") from None
        key = self._jwks.match_kid(known, kid)
        if key is not None:
            return key
        try:
            # The provider may have rotated its keys: get_signing_key refetches the set once,
            # unless it did so less than its cooldown ago.
            return self._jwks.get_signing_key(kid)
        except PyJWKClientConnectionError as exc:
            logger.warning("JWKS refresh from %s failed: %s", self._jwks.uri, exc)
            raise _invalid("The identity provider's keys could not be fetched.") from None
        except (PyJWKClientError, PyJWKSetError, ValueError):
            raise _invalid("The token's signing key is unknown.") from None


def parse_roles(value: object) -> frozenset[str]:
    """Roles from a claim that is a list of strings or one space- or comma-separated string."""
    if isinstance(value, str):
        return frozenset(role for role in value.replace(",", " ").split() if role)
    if isinstance(value, list) and all(isinstance(role, str) for role in value):
        return frozenset(role.strip() for role in value if role.strip())
    return frozenset()


def principal_from_authorization(header: str | None, verifier: TokenVerifier) -> Principal:
    """The principal for an Authorization header; no header is anonymous, a bad one is refused."""
    if header is None or not header.strip():
        return ANONYMOUS
    return verifier.verify(bearer_token(header))


def bearer_token(header: str) -> str:
    """The token of a Bearer Authorization header; any other is refused."""
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise _invalid("The Authorization header must use the Bearer scheme.")
    token = token.strip()
    if not token:
        raise _invalid("The Authorization header has no token after Bearer.")
    return token


def issue_local_token(
    secret: str,
    sub: str,
    roles: list[str],
    ttl_seconds: int = 12 * 3600,
    now: int | None = None,
) -> str:
    """An HS256 token that a local-mode TokenVerifier with the same secret accepts."""
    issued_at = int(time.time()) if now is None else now
    claims = {
        "iss": LOCAL_ISSUER,
        "aud": LOCAL_AUDIENCE,
        "sub": sub,
        "roles": list(roles),
        "iat": issued_at,
        "nbf": issued_at,
        "exp": issued_at + ttl_seconds,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def _invalid(message: str) -> Unauthorized:
    return Unauthorized(message, invalid_token=True)


# Most specific first: InvalidSignatureError is a DecodeError, for one.
_REFUSALS: Final[tuple[tuple[type[PyJWTError], str], ...]] = (
    (ExpiredSignatureError, "The token has expired."),
    (ImmatureSignatureError, "The token is not valid yet."),
    (InvalidIssuerError, "The token was issued by an issuer Vellum does not trust."),
    (InvalidSignatureError, "The token signature is invalid."),
    # The header's algorithm passed _checked_header, so here it disagrees with the key's own.
    (InvalidAlgorithmError, "The token's algorithm does not match its signing key."),
    (InvalidKeyError, "The token's signing key is unusable."),
    (InvalidSubjectError, "The token's subject is not a string."),
    (InvalidIssuedAtError, "The token's issue time is not a number."),
    (DecodeError, "The token is malformed."),
)


def _refusal(exc: PyJWTError) -> Unauthorized:
    if isinstance(exc, MissingRequiredClaimError):
        return _invalid(f'The token lacks the "{exc.claim}" claim.')
    for kind, message in _REFUSALS:
        if isinstance(exc, kind):
            return _invalid(message)
    return _invalid("The token is invalid.")
