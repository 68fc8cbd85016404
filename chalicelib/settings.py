"""Typed settings, read once from environment variables.

The same variable names are set by `.chalice/config.json`, the embedded stack
(`local/`) and the IaC, so one table in the README documents all of them.
"""

from __future__ import annotations

import functools
from typing import Literal

from pydantic import AnyHttpUrl, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "VELLUM_"
SCOPE_WORD = r"[\x21\x23-\x5b\x5d-\x7e]+"  # RFC 6749 section 3.3


class SettingsError(RuntimeError):
    """Raised at start-up when a variable is missing or malformed; names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="ignore")

    stage: Literal["local", "dev", "prod"]
    region: str = Field(validation_alias="AWS_REGION")

    # Resources. Names come from the IaC (or the embedded stack); the code never derives them.
    data_bucket: str = Field(min_length=3, max_length=63)
    files_table: str = Field(min_length=3)
    records_table: str = Field(min_length=3)
    sessions_table: str = Field(min_length=3)
    ingest_queue: str = Field(min_length=1, max_length=80)
    ingest_dlq: str = Field(min_length=1, max_length=80)

    # Where clients reach the API (behind CloudFront, the public host). Empty: the request's host,
    # or the one a trusted proxy (CloudFront, which sends the API its own Host) puts in this header.
    public_base_url: AnyHttpUrl | None = None
    public_host_header: str | None = None

    # Identity. Production verifies RS256/ES256 tokens against an OIDC issuer's JWKS;
    # the local stage alone accepts HS256 tokens signed with a local secret.
    jwks_url: AnyHttpUrl | None = None
    token_issuer: str | None = None
    token_audience: str | None = None
    local_token_secret: str | None = Field(default=None, min_length=32)
    roles_claim: str = "roles"  # Cognito puts groups in "cognito:groups"
    admin_role: str = "admin"
    jwks_cache_seconds: int = Field(default=300, ge=0, le=86_400)
    # A token whose exp lies further than this past its iat (or, without iat, past now) is refused:
    # a stolen long-lived token is not one Vellum honours. Cognito's tokens live at most a day.
    max_token_lifetime_seconds: int = Field(default=86_400, ge=300, le=30 * 86_400)
    # The console's sign-in: OpenID Connect authorization code with PKCE, as a public client (no
    # secret: the browser could not keep one), against the issuer above (Cognito's hosted UI or any
    # provider). All three or none; an empty value is none (a deployment parameter left blank).
    console_authorize_url: AnyHttpUrl | None = None
    console_token_url: AnyHttpUrl | None = None
    console_client_id: str | None = Field(default=None, max_length=256)
    console_scope: str = Field(default="openid", pattern=rf"^{SCOPE_WORD}( {SCOPE_WORD})*$")

    # IIIF Authorization Flow (chalicelib/iiif/auth.py): how long a viewer's access session lasts
    # (its cookie's Max-Age) and each access token it gives (never past the session); which origins
    # the token service answers ("*": any, as viewers live anywhere and tokens only read); and the
    # access service's profile (2.0: "active" asks the person to sign in; "kiosk" and "external"
    # sign in without a page, for a reading room's machines or a network that vouches for them).
    iiif_access_max_age_seconds: int = Field(default=8 * 3600, ge=300, le=7 * 86_400)
    iiif_access_token_seconds: int = Field(default=3600, ge=60, le=86_400)
    iiif_auth_origins: list[str] = Field(default_factory=lambda: ["*"])
    iiif_access_profile: Literal["active", "kiosk", "external"] = "active"

    # S3 access. Path-style addressing is for the embedded S3 on 127.0.0.1, which has no bucket subdomains.
    s3_addressing_style: Literal["auto", "virtual", "path"] = "auto"
    # Origins allowed to PUT/POST straight to the data bucket from a browser.
    cors_origins: list[str] = Field(default_factory=list)

    # Limits. A new bucket gets these quota and file-size limits; only an admin may raise a bucket's
    # above them (an owner may lower its own), as Invenio's quotas are the operator's to set.
    default_quota_bytes: int = Field(default=50 * 1024**3, ge=1)
    default_max_file_bytes: int = Field(default=50 * 1024**3, ge=1)
    presign_expiry_seconds: int = Field(default=900, ge=60, le=43_200)
    # An upload not completed by then is aborted and its reserved quota released (at most the 7 days
    # after which the data bucket's lifecycle rule aborts it in S3 anyway).
    upload_expiry_seconds: int = Field(default=2 * 86_400, ge=3_600, le=7 * 86_400)
    multipart_threshold: int = Field(default=100 * 1024**2, ge=5 * 1024**2, le=5 * 1024**3)
    # The largest browser form upload of undeclared size (Uppy's small-file path) a policy allows,
    # below the bucket's own limits; S3 takes at most 5 GiB in one POST.
    form_upload_max_bytes: int = Field(default=1024**3, ge=1024**2, le=5 * 1024**3)
    max_parts_per_signing: int = Field(default=1_000, ge=1, le=10_000)
    # Integrity checks stream the file through SHA-256 up to this size (ingest runs up to 15 min);
    # an owner's on-demand check runs in the request up to the smaller size (API Gateway: 29 s).
    integrity_max_bytes: int = Field(default=4 * 1024**3, ge=0)
    sync_check_max_bytes: int = Field(default=256 * 1024**2, ge=0)
    integrity_batch_size: int = Field(default=50, ge=1, le=1_000)
    # Images above this many pixels are refused at ingest (decompression bombs among them).
    max_image_pixels: int = Field(default=500_000_000, ge=1)
    # Multi-page files (PDFs, multi-page TIFFs): each page becomes an image of its own. A PDF page
    # is rendered with its longest side at pdf_page_pixels, never finer than pdf_max_dpi; files
    # with more pages, or more pixels in all their pages, are refused (a PDF can declare a
    # million pages in a few kilobytes). Ingest makes pages_per_batch pages per queue message, so
    # a long document fans out over several functions; a page that takes longer than
    # page_render_seconds to render is refused (a hostile PDF can make PDFium loop).
    pdf_page_pixels: int = Field(default=3_000, ge=256, le=12_000)
    pdf_max_dpi: int = Field(default=400, ge=36, le=1_200)
    max_pages: int = Field(default=2_000, ge=1, le=10_000)
    max_document_pixels: int = Field(default=20_000_000_000, ge=1)
    pages_per_batch: int = Field(default=20, ge=1, le=500)
    page_render_seconds: int = Field(default=60, ge=1, le=600)
    # FFmpeg reads audio and video in a child process too; one step (the facts, a still image: a
    # waveform decodes the whole sound) that takes longer refuses the file.
    media_step_seconds: int = Field(default=300, ge=1, le=840)

    # IIIF: the largest image one request may ask for (maxWidth/maxHeight/maxArea in info.json),
    # and the tile size viewers are offered.
    iiif_max_width: int = Field(default=8192, ge=64)
    iiif_max_height: int = Field(default=8192, ge=64)
    iiif_max_area: int = Field(default=16_777_216, ge=4096)
    iiif_tile_size: int = Field(default=512, ge=64, le=4096)
    # How long a browser keeps a public IIIF answer before it revalidates (an ETag: 304, no render).
    iiif_max_age_seconds: int = Field(default=3600, ge=0, le=31_536_000)
    # A warm function re-reads who may see an image at most this often (0: on every request), and
    # keeps this many bytes of recent answers (tiles are immutable) to serve without S3.
    iiif_access_cache_seconds: float = Field(default=10.0, ge=0, le=300)
    iiif_memory_cache_bytes: int = Field(default=256 * 1024**2, ge=0)
    # No request decodes more pixels of a source than this (a 100 MP RGBA PNG took about 740 MB and
    # 5 s): past it an answer must come from the pyramid, or is refused (400).
    iiif_max_decode_pixels: int = Field(default=100_000_000, ge=1)
    # Answers rendered on demand are stored for this long (the data bucket's lifecycle), and each
    # image may store this many bytes of them per such period; past it, answers are rendered
    # without being stored, and one too large to send inline is refused (429) until it resets.
    iiif_rendered_expiry_days: int = Field(default=30, ge=1, le=3650)
    iiif_rendered_budget_bytes: int = Field(default=64 * 1024**2, ge=0)
    # The CloudFront distribution that caches public IIIF answers, which ingest invalidates when an
    # image stops being public (chalicelib/iiif/cdn.py). The IaC sets it on the ingest function
    # alone; empty (the embedded stack): there is no CDN.
    cdn_distribution_id: str = ""
    # Records: a JSON Schema file replacing the shipped one (which asks only for a title).
    record_schema: str | None = None
    max_file_metadata_bytes: int = Field(default=16_384, ge=256, le=262_144)

    # Previews: which previewer a file gets (the first in this order that takes it), how much of a
    # file they read, and who may embed a preview page (CSP frame-ancestors).
    preview_order: list[str] = Field(
        default_factory=lambda: [
            "pdf",
            "image",
            "notebook",
            "zip",
            "csv",
            "markdown",
            "json",
            "xml",
            "audio",
            "video",
            "text",
        ]
    )
    preview_max_bytes: int = Field(default=1024**2, ge=1024, le=16 * 1024**2)
    preview_structured_max_bytes: int = Field(default=2 * 1024**2, ge=1024, le=32 * 1024**2)
    preview_notebook_max_bytes: int = Field(default=20 * 1024**2, ge=1024, le=64 * 1024**2)
    preview_zip_max_entries: int = Field(default=1_000, ge=1, le=100_000)
    preview_zip_max_directory_bytes: int = Field(default=8 * 1024**2, ge=64 * 1024, le=256 * 1024**2)
    preview_frame_ancestors: str = "'self'"

    # Longest sides of the thumbnails ingest makes (info.json lists them as sizes).
    thumbnail_sizes: list[int] = Field(default_factory=lambda: [128, 256, 512])

    @field_validator("console_authorize_url", "console_token_url", "console_client_id", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _console_sign_in_is_whole(self) -> Settings:
        given = [self.console_authorize_url, self.console_token_url, self.console_client_id]
        if any(given) and not all(given):
            raise ValueError(
                "VELLUM_CONSOLE_AUTHORIZE_URL, VELLUM_CONSOLE_TOKEN_URL and VELLUM_CONSOLE_CLIENT_ID "
                "go together: give all three or none"
            )
        if self.stage != "local":
            for url in given[:2]:
                if url is not None and url.scheme != "https":  # type: ignore[union-attr]
                    raise ValueError("the console's sign-in endpoints must be https outside the local stage")
        return self

    @model_validator(mode="after")
    def _identity_fits_stage(self) -> Settings:
        if self.stage == "local":
            if not self.local_token_secret:
                raise ValueError("VELLUM_LOCAL_TOKEN_SECRET is required in the local stage")
        else:
            if self.local_token_secret:
                raise ValueError("VELLUM_LOCAL_TOKEN_SECRET is allowed only in the local stage")
            for name in ("jwks_url", "token_issuer", "token_audience"):
                if not getattr(self, name):
                    raise ValueError(f"{ENV_PREFIX}{name.upper()} is required outside the local stage")
        return self


def _variable_name(loc: tuple[int | str, ...]) -> str:
    if not loc:
        return "settings"
    field = str(loc[0])
    if field not in Settings.model_fields:
        return field  # pydantic reports a field read from an alias (AWS_REGION) by the alias
    return f"{ENV_PREFIX}{field.upper()}"


def load_settings() -> Settings:
    """Read and validate the environment; raise one SettingsError listing every problem."""
    try:
        return Settings()  # type: ignore[call-arg]  # values come from the environment
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            if error["loc"]:
                problems.append(f"{_variable_name(error['loc'])}: {error['msg']}")
            else:
                problems.append(str(error["msg"]).removeprefix("Value error, "))
        raise SettingsError("invalid settings: " + "; ".join(problems)) from None


@functools.cache
def get_settings() -> Settings:
    return load_settings()
