from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from chalicelib.errors import BadRequest
from chalicelib.records import schema
from chalicelib.settings import Settings, get_settings


@pytest.fixture(autouse=True)
def fresh_validator(local_env: Settings) -> Iterator[None]:
    schema._validator.cache_clear()
    schema.record_schema.cache_clear()
    yield
    schema._validator.cache_clear()
    schema.record_schema.cache_clear()


def test_the_shipped_schema_asks_only_for_a_title() -> None:
    assert schema.validate_metadata({"title": "A", "anything": ["else"]}) == {
        "title": "A",
        "anything": ["else"],
    }


def test_every_failing_field_is_reported() -> None:
    with pytest.raises(BadRequest) as refusal:
        schema.validate_metadata({"title": ""})

    assert [error.field for error in refusal.value.errors] == ["metadata.title"]


@pytest.mark.parametrize("blank", ["", "   ", "\t\n"])
def test_a_blank_title_is_refused_in_words_a_person_reads(blank: str) -> None:
    with pytest.raises(BadRequest) as refusal:
        schema.validate_metadata({"title": blank})

    assert [(error.field, error.message) for error in refusal.value.errors] == [
        ("metadata.title", "must not be blank")
    ]
    assert refusal.value.message == "Some of the metadata is missing or not valid: each field says what."


def test_an_installation_replaces_the_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    own = tmp_path / "thesis.json"
    own.write_text(
        json.dumps(
            {"type": "object", "required": ["title", "creator"], "properties": {"year": {"type": "integer"}}}
        )
    )
    monkeypatch.setenv("VELLUM_RECORD_SCHEMA", str(own))
    get_settings.cache_clear()

    with pytest.raises(BadRequest) as refusal:
        schema.validate_metadata({"title": "A", "year": "soon"})

    assert {error.field for error in refusal.value.errors} == {"metadata.creator", "metadata.year"}
