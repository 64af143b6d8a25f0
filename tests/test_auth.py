"""Who may enter once signed in (``ui.auth.AccessPolicy``), and the sign-in screen a
signed-out visitor meets when the server's secrets turn sign-in on. The whole round trip
through an OpenID provider is in ``test_browser_auth.py``."""

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from ui.auth import AccessPolicy

APP = str(Path(__file__).resolve().parents[1] / "app.py")
SETTINGS = {"allowed_domains": ["Example.org", "@lab.example.net"], "allowed_emails": ["Guest@Partner.com"]}


@pytest.mark.parametrize("email, admitted", [
    ("ada@example.org", True),
    ("ADA@EXAMPLE.ORG ", True),  # addresses are compared without case or spaces
    ("bob@lab.example.net", True),  # a domain written with its @
    ("guest@partner.com", True),  # listed on its own
    ("other@partner.com", False),  # only that address of its domain
    ("eve@elsewhere.org", False),
    ("eve@team.example.org", False),  # a subdomain is another domain
    ("eve@example.org.evil.com", False),
    ("example.org", False),  # not an address
    ("@example.org", False),
    ("", False),
    (None, False),  # a provider that gave no address
])
def test_the_policy_admits_listed_addresses_and_whole_domains_only(email, admitted):
    assert AccessPolicy.from_settings(SETTINGS).admits(email) is admitted


def test_an_address_the_provider_did_not_verify_is_refused_whatever_its_domain():
    policy = AccessPolicy.from_settings(SETTINGS)
    assert not policy.admits("ada@example.org", email_verified=False)
    assert policy.admits("ada@example.org", email_verified=True)


def test_without_an_allow_list_nobody_is_admitted_and_the_refusal_says_why():
    policy = AccessPolicy.from_settings({})
    assert not policy.admits("ada@example.org")
    assert "allowed_emails and allowed_domains are empty" in policy.describe()


def test_one_address_written_without_brackets_is_a_list_of_one():
    policy = AccessPolicy.from_settings({"allowed_emails": "ada@example.org"})
    assert policy.admits("ada@example.org") and not policy.admits("a@example.org")
    assert policy.describe() == "1 listed address"


def test_the_refusal_names_the_domains_and_counts_the_addresses():
    assert AccessPolicy.from_settings(SETTINGS).describe() == "addresses at example.org, lab.example.net and 1 listed address"


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("TILE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("DASHBOARD_SCHEDULER", "threads")
    st.cache_resource.clear()
    yield AppTest.from_file(APP, default_timeout=120)
    st.cache_resource.clear()


AUTH_SECRETS = {
    "redirect_uri": "http://127.0.0.1:8501/oauth2callback", "cookie_secret": "a test secret, long enough",
    "client_id": "dashboard", "client_secret": "secret",
    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration", **SETTINGS,
}


def test_with_sign_in_configured_a_signed_out_visitor_sees_only_the_sign_in_screen(app):
    app.secrets["auth"] = AUTH_SECRETS
    app.user = {"is_logged_in": False}
    app.query_params.update({"sample": "coins", "rows": "3"})
    app.run()
    assert not app.exception
    assert [button.label for button in app.button] == ["Sign in"]
    assert not app.sidebar.get("number_input") and not app.get("graphviz_chart")  # nothing computed
    assert dict(app.query_params) == {"sample": "coins", "rows": "3"}  # the link is left as it came, for after the sign-in


def test_without_auth_secrets_the_app_opens_as_before(app):
    app.run()
    assert not app.exception and not app.error
    assert "Sign in" not in [button.label for button in app.button]
    assert "Sign out" not in [button.label for button in app.sidebar.button]
    assert app.sidebar.number_input(key="rows").value == 2


def test_a_signed_in_visitor_the_policy_admits_sees_the_app_and_can_sign_out(app):
    app.secrets["auth"] = AUTH_SECRETS
    app.user = {"is_logged_in": True, "email": "ada@example.org"}
    app.query_params.update({"sample": "coins", "rows": "3"})
    app.run()
    assert not app.exception and not app.error
    assert app.sidebar.number_input(key="rows").value == 3 and "Coins" in app.caption[0].value
    assert "Signed in as ada@example.org" in [caption.value for caption in app.sidebar.caption]
    app.sidebar.button(key="sign_out").click().run()
    assert [button.label for button in app.button] == ["Sign in"]


def test_a_signed_in_visitor_of_another_domain_is_refused_with_the_reason(app):
    app.secrets["auth"] = AUTH_SECRETS
    app.user = {"is_logged_in": True, "email": "eve@elsewhere.org"}
    app.run()
    assert not app.exception
    assert app.error[0].value.startswith(
        "You are signed in as eve@elsewhere.org, but this dashboard is open to addresses at example.org, "
        "lab.example.net and 1 listed address only."
    )
    assert [button.label for button in app.button] == ["Sign out"]
    assert not app.sidebar.get("number_input")
