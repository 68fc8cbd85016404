from __future__ import annotations

import pytest

from chalicelib.settings import Settings, SettingsError, load_settings


def test_the_local_stage_of_the_chalice_config_is_a_complete_set_of_settings(local_env: Settings) -> None:
    assert local_env.stage == "local"
    assert local_env.data_bucket == "vellum-local-data"
    assert local_env.cors_origins == ["*"]


def test_a_missing_variable_is_named_in_the_error(
    local_env: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VELLUM_FILES_TABLE")

    with pytest.raises(SettingsError, match=r"^invalid settings: VELLUM_FILES_TABLE: Field required$"):
        load_settings()


def test_a_malformed_variable_is_named_in_the_error(
    local_env: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VELLUM_PRESIGN_EXPIRY_SECONDS", "soon")

    with pytest.raises(SettingsError, match="VELLUM_PRESIGN_EXPIRY_SECONDS: Input should be a valid integer"):
        load_settings()


def test_aws_region_is_read_from_the_variable_lambda_sets(
    local_env: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_REGION")

    with pytest.raises(SettingsError, match=r"^invalid settings: AWS_REGION: Field required$"):
        load_settings()


def test_every_problem_is_reported_at_once(local_env: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VELLUM_DATA_BUCKET")
    monkeypatch.setenv("VELLUM_STAGE", "staging")

    with pytest.raises(SettingsError) as error:
        load_settings()

    assert "VELLUM_DATA_BUCKET" in str(error.value)
    assert "VELLUM_STAGE" in str(error.value)


def test_the_local_stage_needs_a_local_token_secret(
    local_env: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VELLUM_LOCAL_TOKEN_SECRET")

    with pytest.raises(SettingsError, match="VELLUM_LOCAL_TOKEN_SECRET is required in the local stage"):
        load_settings()


def test_production_refuses_a_local_token_secret(
    local_env: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VELLUM_STAGE", "prod")
    monkeypatch.setenv("VELLUM_JWKS_URL", "https://issuer.example/.well-known/jwks.json")
    monkeypatch.setenv("VELLUM_TOKEN_ISSUER", "https://issuer.example")
    monkeypatch.setenv("VELLUM_TOKEN_AUDIENCE", "vellum")

    with pytest.raises(SettingsError, match="allowed only in the local stage"):
        load_settings()


def test_production_needs_an_issuer_to_trust(local_env: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VELLUM_STAGE", "prod")
    monkeypatch.delenv("VELLUM_LOCAL_TOKEN_SECRET")

    with pytest.raises(SettingsError, match="VELLUM_JWKS_URL is required outside the local stage"):
        load_settings()


CONSOLE_SIGN_IN = {
    "VELLUM_CONSOLE_AUTHORIZE_URL": "https://id.example/oauth2/authorize",
    "VELLUM_CONSOLE_TOKEN_URL": "https://id.example/oauth2/token",
    "VELLUM_CONSOLE_CLIENT_ID": "vellum-console",
}


@pytest.mark.parametrize("left_out", sorted(CONSOLE_SIGN_IN))
def test_the_consoles_sign_in_is_all_three_settings_or_none(
    local_env: Settings, monkeypatch: pytest.MonkeyPatch, left_out: str
) -> None:
    for name, value in CONSOLE_SIGN_IN.items():
        monkeypatch.setenv(name, "" if name == left_out else value)  # blank, as a parameter left empty

    with pytest.raises(SettingsError, match="go together: give all three or none"):
        load_settings()
    monkeypatch.setenv(left_out, CONSOLE_SIGN_IN[left_out])
    assert load_settings().console_client_id == "vellum-console"
    for name in CONSOLE_SIGN_IN:
        monkeypatch.setenv(name, "")
    assert load_settings().console_client_id is None


def test_outside_the_local_stage_the_consoles_sign_in_is_https(
    local_env: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        **CONSOLE_SIGN_IN,
        "VELLUM_CONSOLE_TOKEN_URL": "http://id.example/oauth2/token",
        "VELLUM_STAGE": "prod",
        "VELLUM_JWKS_URL": "https://id.example/jwks.json",
        "VELLUM_TOKEN_ISSUER": "https://id.example",
        "VELLUM_TOKEN_AUDIENCE": "vellum-console",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("VELLUM_LOCAL_TOKEN_SECRET")

    with pytest.raises(SettingsError, match="must be https outside the local stage"):
        load_settings()


@pytest.mark.parametrize("scope", ["openid profile", "openid email aws.cognito.signin.user.admin"])
def test_a_scope_is_space_separated_words(
    local_env: Settings, monkeypatch: pytest.MonkeyPatch, scope: str
) -> None:
    monkeypatch.setenv("VELLUM_CONSOLE_SCOPE", scope)
    assert load_settings().console_scope == scope
    monkeypatch.setenv("VELLUM_CONSOLE_SCOPE", 'openid "quoted"')
    with pytest.raises(SettingsError, match="VELLUM_CONSOLE_SCOPE"):
        load_settings()
