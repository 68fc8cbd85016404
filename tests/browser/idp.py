"""A stand-in OpenID Connect provider on loopback, strict where the console's sign-in must be right.

Its authorize endpoint signs in whoever the test says (``next_user``) without a page of its own,
or answers with the error the test sets (``next_error``); its token endpoint gives a code once, to
the client and redirect URI it was issued for, and only with the PKCE verifier of its S256
challenge (RFC 7636). The access token it answers with is one the embedded stack accepts
(``mint``); the ID token is RS256-signed, as providers sign them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

CLIENT_ID = "vellum-console"


@dataclass
class Grant:
    user: str
    redirect_uri: str
    challenge: str


@dataclass
class Provider:
    issuer: str
    mint: Callable[[str], str]  # the access token for a user
    next_user: str = "alice"
    next_error: str | None = None
    token_requests: list[dict[str, str]] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)  # why each refused request was refused
    _grants: dict[str, Grant] = field(default_factory=dict)
    _key: Any = field(default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048))
    _server: ThreadingHTTPServer | None = None

    @property
    def origin(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="idp", daemon=True).start()

    def stop(self) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    def environment(self) -> dict[str, str]:
        """The settings that point the console at this provider."""
        return {
            "VELLUM_CONSOLE_AUTHORIZE_URL": f"{self.origin}/authorize",
            "VELLUM_CONSOLE_TOKEN_URL": f"{self.origin}/token",
            "VELLUM_CONSOLE_CLIENT_ID": CLIENT_ID,
        }

    def authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str]]:
        redirect = query.get("redirect_uri", "")
        wanted = {"response_type": "code", "client_id": CLIENT_ID, "code_challenge_method": "S256"}
        wrong = [name for name, value in wanted.items() if query.get(name) != value]
        if (
            wrong
            or not redirect
            or len(query.get("code_challenge", "")) != 43
            or "openid" not in query.get("scope", "").split()
        ):
            self.refusals.append(f"authorize: {wrong or 'challenge, scope or redirect_uri'}")
            return 400, {}
        answer = {"state": query.get("state", "")}
        if self.next_error:
            answer.update(error=self.next_error, error_description="The person declined to sign in.")
        else:
            code = secrets.token_urlsafe(24)
            self._grants[code] = Grant(self.next_user, redirect, query["code_challenge"])
            answer["code"] = code
        return 302, {"Location": f"{redirect}?{urlencode(answer)}"}

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        self.token_requests.append(form)
        grant = self._grants.pop(form.get("code", ""), None)  # once only
        verifier = form.get("code_verifier", "").encode()
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=").decode()
        if (
            grant is None
            or form.get("grant_type") != "authorization_code"
            or form.get("client_id") != CLIENT_ID
            or form.get("redirect_uri") != grant.redirect_uri
            or challenge != grant.challenge
        ):
            self.refusals.append("token: invalid_grant")
            return 400, {"error": "invalid_grant", "error_description": "The code is not one for you."}
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": CLIENT_ID, "sub": grant.user, "iat": now, "exp": now + 600}
        return 200, {
            "access_token": self.mint(grant.user),
            "token_type": "Bearer",
            "expires_in": 600,
            "id_token": jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": "test"}),
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path != "/authorize":
                    self._send(404, {})
                    return
                query = {name: values[0] for name, values in parse_qs(parts.query).items()}
                status, headers = provider.authorize(query)
                self._send(status, {}, headers)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
                form = {name: values[0] for name, values in parse_qs(body).items()}
                status, answer = provider.token(form) if self.path == "/token" else (404, {})
                # The console's page fetches this across origins: CORS, as providers answer it.
                self._send(status, answer, {"Access-Control-Allow-Origin": self.headers.get("Origin", "*")})

            def _send(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(data)

        return Handler
