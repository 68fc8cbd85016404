"""The console's production sign-in in Chromium: OpenID Connect authorization code with PKCE against
a provider on loopback (tests/browser/idp.py), on a stack configured for it, as an operator
configures one (VELLUM_CONSOLE_AUTHORIZE_URL, _TOKEN_URL, _CLIENT_ID)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from playwright.sync_api import Browser, Page, Route, expect

from chalicelib.auth.tokens import CLOCK_SKEW_SECONDS, LOCAL_ISSUER, issue_local_token
from local.secret import load_or_create_local_secret
from tests.browser.idp import CLIENT_ID, Provider
from tests.browser.test_console import Console
from tests.stack import Stack, make_token, new_stack

pytestmark = pytest.mark.e2e

SIGNED_OUT = "You are signed out"


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Provider, Stack]]:
    """The provider and a stack whose console signs in there: the access tokens it answers with are
    the stack's own (the stack trusts its local issuer, as production's trusts the provider's)."""
    idp = Provider(issuer=LOCAL_ISSUER, mint=lambda user: "")
    idp.start()
    running = new_stack(tmp_path_factory.mktemp("oidc-stack"), env=idp.environment())
    running.start()
    idp.mint = lambda user: make_token(running, user)
    yield idp, running
    running.stop()
    idp.stop()


@pytest.fixture
def person(chromium: Browser, tmp_path: Path, provider: tuple[Provider, Stack]) -> Iterator[Console]:
    idp, _ = provider
    idp.next_user, idp.next_error = "alice", None
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    yield Console(context.new_page(), tmp_path)
    context.close()


def stored(page: Page) -> str:
    """Everything the page's origin keeps in web storage, as one string."""
    return str(page.evaluate("() => JSON.stringify([{...sessionStorage}, {...localStorage}])"))


def test_a_person_signs_in_at_the_provider_and_the_token_stays_in_memory(
    person: Console, provider: tuple[Provider, Stack]
) -> None:
    idp, stack = provider
    page = person.page
    page.goto(f"{stack.api}/#/records/new")
    expect(page.get_by_text(SIGNED_OUT)).to_be_visible()
    expect(page.get_by_label("User name")).to_have_count(0)  # no "sign in as" where a provider signs in
    person.accessible()
    before = len(idp.token_requests)

    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_text("Signed in as")).to_contain_text("alice")
    assert page.url == f"{stack.api}/#/records/new"  # back where the person was; no code in the history
    expect(page.get_by_role("heading", name="New record")).to_be_visible()
    [grant] = idp.token_requests[before:]
    assert grant["client_id"] == CLIENT_ID and grant["redirect_uri"] == f"{stack.api}/"
    assert len(grant["code_verifier"]) == 43 and "client_secret" not in grant  # a public client
    assert idp.refusals == []
    assert stored(page) == "[{},{}]"  # neither the token nor what signing in needed is kept
    assert person.problems == [] and person.refusals == []

    page.reload()  # the token was in memory only: a reload signs out, and trades no code again
    expect(page.get_by_text(SIGNED_OUT)).to_be_visible()
    assert len(idp.token_requests) == before + 1

    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text(SIGNED_OUT)).to_be_visible()


def test_a_code_this_tab_did_not_ask_for_is_never_traded(
    person: Console, provider: tuple[Provider, Stack]
) -> None:
    idp, stack = provider
    before = len(idp.token_requests)
    person.page.goto(f"{stack.api}/?code=forged&state=forged")

    expect(person.page.get_by_role("alert")).to_contain_text("not started in this tab")
    expect(person.page.get_by_text(SIGNED_OUT)).to_be_visible()
    assert "code=" not in person.page.url
    assert len(idp.token_requests) == before


def test_an_answer_to_someone_elses_sign_in_is_refused(
    person: Console, provider: tuple[Provider, Stack]
) -> None:
    """Login CSRF: Mallory's own code, pressed on Alice's tab while her sign-in is under way, would
    sign Alice in as Mallory; the state her tab keeps refuses it."""
    idp, stack = provider
    idp.next_user = "mallory"
    started = requests.get(
        f"{idp.origin}/authorize",
        params={
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": f"{stack.api}/",
            "scope": "openid",
            "state": "mallorys",
            "code_challenge": "A" * 43,
            "code_challenge_method": "S256",
        },
        allow_redirects=False,
        timeout=10,
    )
    mallorys = parse_qs(urlsplit(started.headers["Location"]).query)["code"][0]

    def press_mallorys(route: Route) -> None:
        route.fulfill(status=302, headers={"Location": f"{stack.api}/?code={mallorys}&state=mallorys"})

    person.page.route(f"{idp.origin}/authorize?*", press_mallorys)
    before = len(idp.token_requests)
    person.page.goto(f"{stack.api}/")
    person.page.get_by_role("button", name="Sign in").click()

    expect(person.page.get_by_role("alert")).to_contain_text("not for the sign-in started here")
    expect(person.page.get_by_text("Signed in as")).to_have_count(0)
    assert len(idp.token_requests) == before


def test_a_refusal_by_the_provider_is_shown_in_its_words(
    person: Console, provider: tuple[Provider, Stack]
) -> None:
    idp, stack = provider
    idp.next_error = "access_denied"
    person.page.goto(f"{stack.api}/")
    person.page.get_by_role("button", name="Sign in").click()

    expect(person.page.get_by_role("alert")).to_have_text(
        "Signing in failed (access_denied: The person declined to sign in.)."
    )
    expect(person.page.get_by_role("button", name="Sign in")).to_be_visible()  # and may try again
    assert "error=" not in person.page.url
    person.accessible()


def test_a_token_that_expires_returns_the_console_to_sign_in_and_then_to_where_it_was(
    person: Console, provider: tuple[Provider, Stack]
) -> None:
    idp, stack = provider
    # A token of five seconds: the API takes it for its clock leeway more, and no longer.
    minted = time.time()
    secret = load_or_create_local_secret(stack.state)
    idp.mint = lambda user: issue_local_token(secret, user, [], ttl_seconds=5)
    try:
        page = person.page
        page.goto(f"{stack.api}/#/records")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_text("Signed in as")).to_contain_text("alice")
        page.get_by_role("button", name="New record").click()
        page.get_by_label("title").fill("Written while the token ran out")
    finally:
        idp.mint = lambda user: make_token(stack, user)
    page.wait_for_timeout(max(0.0, minted + 5 + CLOCK_SKEW_SECONDS + 1 - time.time()) * 1000)

    page.get_by_role("button", name="Create record").click()

    expect(page.get_by_role("status")).to_have_text(
        "Your sign-in has ended (The token has expired): sign in again to go on where you were."
    )
    assert page.url == f"{stack.api}/#/records/new"
    person.accessible()
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="New record")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="sign-in has ended")).to_have_count(0)
    assert person.problems == []
    assert person.refusals == [("POST", "/records", 401)], person.refusals
