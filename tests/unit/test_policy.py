"""Who may do what: Invenio's file and record actions over owners, public reads and admins."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest

from chalicelib.auth.policy import Action, can, require
from chalicelib.auth.principal import ANONYMOUS, Principal
from chalicelib.errors import Forbidden, NotFound, Unauthorized


@dataclass(frozen=True)
class Bucket:
    owners: frozenset[str]
    public_read: bool


PRINCIPALS = {
    "anonymous": ANONYMOUS,
    "owner": Principal("olga", frozenset({"editor"})),
    "other": Principal("oscar", frozenset({"editor"})),
    "admin": Principal("ada", frozenset({"admin"}), is_admin=True),
}
RESOURCES = {
    "private": Bucket(owners=frozenset({"olga", "otto"}), public_read=False),
    "public": Bucket(owners=frozenset({"olga", "otto"}), public_read=True),
}
EVERYTHING = frozenset(Action)
PUBLIC_READS = frozenset({Action.BUCKET_READ, Action.OBJECT_READ, Action.RECORD_READ})
CREATES = frozenset({Action.BUCKET_CREATE, Action.RECORD_CREATE})

# What each principal may do to each resource; every action not listed is denied.
ALLOWED: dict[tuple[str, str], frozenset[Action]] = {
    ("anonymous", "private"): frozenset(),
    ("anonymous", "public"): PUBLIC_READS,
    ("owner", "private"): EVERYTHING,
    ("owner", "public"): EVERYTHING,
    # Creating a bucket or a record needs a signed-in principal, whatever else is in view.
    ("other", "private"): CREATES,
    ("other", "public"): PUBLIC_READS | CREATES,
    ("admin", "private"): EVERYTHING,
    ("admin", "public"): EVERYTHING,
}


def test_the_actions_are_invenios() -> None:
    assert {action.value for action in Action} == {
        "bucket-create",
        "bucket-read",
        "bucket-read-versions",
        "bucket-update",
        "bucket-listmultiparts",
        "object-read",
        "object-read-version",
        "object-delete",
        "object-delete-version",
        "multipart-read",
        "multipart-delete",
        "record-create",
        "record-read",
        "record-update",
        "record-delete",
    }


@pytest.mark.parametrize(
    ("who", "what", "action"),
    list(itertools.product(PRINCIPALS, RESOURCES, Action)),
)
def test_can_follows_the_table(who: str, what: str, action: Action) -> None:
    expected = action in ALLOWED[who, what]

    assert can(PRINCIPALS[who], action, RESOURCES[what]) is expected


@pytest.mark.parametrize(("who", "allowed"), [("anonymous", False), ("other", True), ("admin", True)])
@pytest.mark.parametrize("action", sorted(CREATES))
def test_creating_needs_only_a_signed_in_principal(who: str, allowed: bool, action: Action) -> None:
    assert can(PRINCIPALS[who], action, None) is allowed


@pytest.mark.parametrize("action", sorted(EVERYTHING - CREATES))
def test_without_a_resource_only_admins_may_act(action: Action) -> None:
    assert not can(PRINCIPALS["other"], action, None)
    assert can(PRINCIPALS["admin"], action, None)


@pytest.mark.parametrize(("who", "what", "action"), [("owner", "private", a) for a in Action])
def test_require_returns_quietly_when_allowed(who: str, what: str, action: Action) -> None:
    require(PRINCIPALS[who], action, RESOURCES[what])


@pytest.mark.parametrize(
    ("who", "action"),
    # Any signed-in principal may create, so those are allowed, not hidden.
    [(who, a) for who in ("anonymous", "other") for a in Action if not (who == "other" and a in CREATES)],
)
def test_a_private_resource_is_not_found_for_whoever_may_not_read_it(who: str, action: Action) -> None:
    with pytest.raises(NotFound):
        require(PRINCIPALS[who], action, RESOURCES["private"])


@pytest.mark.parametrize(
    ("action", "sentence"),
    [
        (Action.BUCKET_UPDATE, "Sign in to change this bucket."),
        (Action.BUCKET_READ_VERSIONS, "Sign in to list the versions in this bucket."),
        (Action.OBJECT_DELETE, "Sign in to delete this file."),
        (Action.MULTIPART_READ, "Sign in to read this upload."),
    ],
)
def test_anonymous_callers_must_sign_in_for_more_than_a_public_read(action: Action, sentence: str) -> None:
    with pytest.raises(Unauthorized) as caught:
        require(ANONYMOUS, action, RESOURCES["public"])

    assert caught.value.message == sentence
    # No token was presented, so RFC 6750 section 3.1 gives no error code.
    assert caught.value.headers == {"WWW-Authenticate": "Bearer"}


def test_anonymous_callers_are_asked_to_sign_in_to_create_a_bucket() -> None:
    with pytest.raises(Unauthorized) as caught:
        require(ANONYMOUS, Action.BUCKET_CREATE, None)

    assert caught.value.message == "Sign in to create a bucket."


@pytest.mark.parametrize("action", sorted(EVERYTHING - PUBLIC_READS - CREATES))
def test_signed_in_callers_who_may_read_but_not_act_are_forbidden(action: Action) -> None:
    with pytest.raises(Forbidden) as caught:
        require(PRINCIPALS["other"], action, RESOURCES["public"])

    assert caught.value.message == f"You may not {action.phrase}."


def test_a_signed_in_caller_acting_on_nothing_is_forbidden() -> None:
    with pytest.raises(Forbidden):
        require(PRINCIPALS["other"], Action.OBJECT_DELETE, None)


def test_every_action_has_a_phrase_for_its_messages() -> None:
    assert all(action.phrase and not action.phrase.endswith(".") for action in Action)


def test_a_principal_shows_itself_as_json() -> None:
    assert ANONYMOUS.to_json() == {"anonymous": True}
    admin = {"anonymous": False, "sub": "ada", "roles": ["admin"], "admin": True}
    assert PRINCIPALS["admin"].to_json() == admin
    assert Principal("bo", frozenset({"b", "a"})).to_json()["roles"] == ["a", "b"]
