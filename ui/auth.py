"""Sign-in for a server shared inside a team, off unless the server's secrets turn it on.

Streamlit's ``st.login`` signs a visitor in with an OpenID Connect provider, configured
by the ``[auth]`` section of ``.streamlit/secrets.toml`` (``redirect_uri``,
``cookie_secret``, ``client_id``, ``client_secret``, ``server_metadata_url``). Who may
enter is this app's own check, from the same section: ``allowed_emails`` and
``allowed_domains``. Without an ``[auth]`` section nothing here draws anything.

The provider sends a signed-in visitor back to the app's home, without the address they
came from; the sign-in screen keeps that address in the tab (``sessionStorage``) and the
first signed-in page goes back to it, so that a shared link opens the view it names.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import streamlit as st

__all__ = ["AccessPolicy", "require_sign_in", "sign_in_settings"]

#: Where the sign-in screen keeps the address the visitor asked for (in ``sessionStorage``:
#: this tab only, kept across the round trip to the provider).
VIEW_KEY = "dashboard-view-before-sign-in"


def _lowered(values: Iterable[str] | str | None) -> frozenset[str]:
    if values is None:
        return frozenset()
    if isinstance(values, str):  # one address written without the list's brackets
        values = [values]
    return frozenset(str(value).strip().lower() for value in values if str(value).strip())


@dataclass(frozen=True)
class AccessPolicy:
    """Who may enter once signed in: these e-mail addresses, and every address of these
    domains (exactly: ``example.org`` does not admit ``team.example.org``). Empty, nobody."""

    emails: frozenset[str] = frozenset()
    domains: frozenset[str] = frozenset()

    @classmethod
    def from_settings(cls, auth: Mapping) -> AccessPolicy:
        """From the ``[auth]`` section: ``allowed_emails`` and ``allowed_domains``, lists
        of strings (case does not matter; a domain may be written ``@example.org``)."""
        domains = _lowered(auth.get("allowed_domains"))
        return cls(_lowered(auth.get("allowed_emails")), frozenset(d.removeprefix("@") for d in domains))

    def admits(self, email: object, email_verified: object = None) -> bool:
        """Whether the signed-in ``email`` may enter. A provider that says the address
        is not verified (``email_verified`` false) proves nothing about its domain."""
        if not isinstance(email, str) or email_verified is False:
            return False
        address = email.strip().lower()
        name, at, domain = address.rpartition("@")
        if not (name and at and domain):
            return False
        return address in self.emails or domain in self.domains

    def describe(self) -> str:
        """Who may enter, in words for the refusal message."""
        parts = [f"addresses at {', '.join(sorted(self.domains))}"] if self.domains else []
        if self.emails:
            count = len(self.emails)
            parts.append(f"{count} listed address{'' if count == 1 else 'es'}")
        return " and ".join(parts) or "nobody yet (its allowed_emails and allowed_domains are empty)"


def sign_in_settings() -> Mapping | None:
    """The secrets' ``[auth]`` section, or None when there is none: sign-in is off."""
    if not st.secrets.load_if_toml_exists():
        return None
    auth = st.secrets.get("auth")
    return auth if isinstance(auth, Mapping) else None


def _remember_view() -> None:
    script = f"sessionStorage.setItem({json.dumps(VIEW_KEY)}, location.pathname + location.search);"
    st.html(f"<script>{script}</script>", unsafe_allow_javascript=True)


def _return_to_view() -> None:
    """Back to the address the visitor asked for before signing in, once: the provider
    sent them to the app's home."""
    key = json.dumps(VIEW_KEY)
    script = (
        f"const view = sessionStorage.getItem({key});"
        f"if (view !== null) {{ sessionStorage.removeItem({key});"
        " if (view !== location.pathname + location.search) location.replace(view); }"
    )
    st.html(f"<script>{script}</script>", unsafe_allow_javascript=True)


def require_sign_in(title: str) -> None:
    """With sign-in configured, show the sign-in screen to a signed-out visitor and a
    refusal to one the policy does not admit, and stop the page; for an admitted one,
    say who is signed in, in the sidebar. Without it, do nothing."""
    auth = sign_in_settings()
    if auth is None:
        return
    if not st.user.get("is_logged_in"):
        st.set_page_config(page_title=f"Sign in · {title}", layout="centered")
        _remember_view()
        st.title(title)
        st.write("This dashboard is shared within a team: sign in to open it.")
        st.button("Sign in", type="primary", on_click=st.login, key="sign_in")
        st.caption("The page you opened, with its settings, opens once you are signed in.")
        st.stop()
    email = st.user.get("email")
    policy = AccessPolicy.from_settings(auth)
    if not policy.admits(email, st.user.get("email_verified")):
        st.set_page_config(page_title=f"Not admitted · {title}", layout="centered")
        st.title(title)
        st.error(
            f"You are signed in as {email or 'an account without an e-mail address'}, but this "
            f"dashboard is open to {policy.describe()} only. Sign out and sign in with another "
            "account, or ask whoever runs it to add your address."
        )
        st.button("Sign out", on_click=st.logout, key="sign_out_refused")
        st.stop()
    _return_to_view()
    st.sidebar.caption(f"Signed in as {email}")
    st.sidebar.button("Sign out", on_click=st.logout, key="sign_out")
