"""Sign-in in Chromium, through a local OpenID Connect provider (``oidc-provider-mock``, on
127.0.0.1, started here): a shared link opened signed out lands, once signed in, on the
view it names; an address of another domain is refused with the reason."""

import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest
from browser import Requests, Server, free_port, needs_chromium, open_tab, wait_until_done

pytestmark = [needs_chromium, pytest.mark.timeout(300)]

TITLE = "Dask, tile by tile"
CHAIN = "sobel:mode=y;clip:lo=0,hi=2"
#: A step page of a sample, grid and chain none of them has by default.
SHARED_VIEW = "/Stage?" + urllib.parse.urlencode({"step": "2", "sample": "coins", "rows": "3", "cols": "2", "chain": CHAIN})


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    """The OpenID provider, in a process of its own: any client, any user, who signs in by
    typing an address."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("provider") / "provider.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port", str(port)],
            stdout=output, stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{url}/.well-known/openid-configuration", timeout=2).read()
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError(f"the OpenID provider did not start: {log.read_text()}") from None
            time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(timeout=20)


@pytest.fixture(scope="module")
def server(tmp_path_factory, provider):
    """The app with sign-in on: its secrets name the provider and who may enter."""
    secrets = tmp_path_factory.mktemp("secrets") / "secrets.toml"
    secrets.write_text(f"""
[auth]
redirect_uri = "http://127.0.0.1:{{port}}/oauth2callback"
cookie_secret = "a cookie secret for the tests only, long enough"
client_id = "dashboard"
client_secret = "not a secret"
server_metadata_url = "{provider}/.well-known/openid-configuration"
allowed_domains = ["example.org"]
allowed_emails = ["guest@partner.com"]
""")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DASHBOARD_SCHEDULER", "threads")
        running = Server(tmp_path_factory.mktemp("cache") / "tiles", secrets=secrets)
    yield running
    running.stop()


@pytest.fixture
def visitor(browser, server, provider):
    """A new visitor's tab. It may reach the app and the provider; the provider's own page
    asks for a stylesheet on a CDN, which is blocked and not held against the app."""
    requests = Requests()
    requests.allow(server.url)
    requests.allow(provider)
    context, tab = open_tab(browser, requests)
    from_provider = []

    def block_elsewhere(route):
        if route.request.url.startswith(tuple(requests.allowed)):
            route.continue_()
        else:
            if route.request.frame.url.startswith(provider):
                from_provider.append(route.request.url)
            route.abort()

    context.route("**/*", block_elsewhere)
    yield tab
    context.close()
    assert [url for url in requests.elsewhere() if url not in from_provider] == []


def sign_in_at_the_provider(tab, provider: str, email: str) -> None:
    tab.get_by_role("button", name="Sign in").click()
    tab.wait_for_url(f"{provider}/**")
    tab.locator('input[name="sub"]').fill(email)
    tab.get_by_role("button", name="Authorize").click()


def test_a_shared_link_opened_signed_out_lands_on_its_view_after_signing_in(server, provider, visitor):
    visitor.goto(server.url + SHARED_VIEW)
    visitor.get_by_role("button", name="Sign in").wait_for()
    assert visitor.get_by_role("heading", name=TITLE).count() == 1
    assert visitor.locator('[data-testid="stSidebar"] input').count() == 0  # nothing of the app yet

    sign_in_at_the_provider(visitor, provider, "ada@example.org")
    wait_until_done(visitor, "5 · Clip")  # the step page the link named
    url = urllib.parse.urlsplit(visitor.url)
    query = dict(urllib.parse.parse_qsl(url.query))
    assert url.path == "/Stage"
    assert {key: query.get(key) for key in ("step", "sample", "rows", "cols", "chain")} == {
        "step": "2", "sample": "coins", "rows": "3", "cols": "2", "chain": CHAIN,
    }
    sidebar = visitor.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("Signed in as ada@example.org").wait_for()
    # The sample and grid the link named, not the defaults.
    assert sidebar.locator(".st-key-sample input").input_value() == "Coins (grayscale)"
    assert sidebar.locator(".st-key-rows input").input_value() == "3"


def test_a_visitor_of_another_domain_is_refused_with_the_reason(server, provider, visitor):
    visitor.goto(server.url)
    sign_in_at_the_provider(visitor, provider, "eve@elsewhere.org")
    refusal = visitor.locator('[data-testid="stAlert"]', has_text="You are signed in as eve@elsewhere.org")
    refusal.wait_for()
    assert "open to addresses at example.org and 1 listed address only" in refusal.inner_text()
    visitor.get_by_role("button", name="Sign out").wait_for()
    assert visitor.locator('[data-testid="stSidebar"] input').count() == 0
