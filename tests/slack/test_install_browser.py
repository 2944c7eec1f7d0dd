"""The install page in a real browser (Debian's chromium, driven by Playwright): the
"Add to Slack" button, Slack's consent (FakeSlack), back to the bot, installed."""

from __future__ import annotations

import shutil

import pytest

from bot.slack.oauth import installation_store
from tests.slack.test_oauth import CLIENT_ID, TEAM_A, TOKEN_A, start_oauth_bot

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
playwright_api = pytest.importorskip("playwright.sync_api",
                                     reason="playwright is not installed (pip install -e '.[dev]')")
if shutil.which("chromium") is None:
    pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)",
                allow_module_level=True)


def test_a_person_installs_the_app_from_the_install_page(bot_factory, fake_slack, sqlite_url):
    bot = start_oauth_bot(bot_factory, fake_slack, sqlite_url)
    bot.fake.install_next(TEAM_A, TOKEN_A)
    bot.fake.oauth_redirect_uri = bot.url + "/slack/oauth_redirect"
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(bot.url + "/slack/install")
            assert page.locator("h2").inner_text() == "Slack App Installation"
            button = page.get_by_alt_text("Add to Slack")
            href = button.locator("xpath=..").get_attribute("href")
            assert f"client_id={CLIENT_ID}" in href and "state=" in href
            with page.expect_response(lambda r: "/slack/oauth_redirect" in r.url) as back:
                button.click()
            assert back.value.status == 200
            assert "Thank you!" in back.value.text()
        finally:
            browser.close()
    saved = installation_store(bot.settings, bot.store.engine).find_bot(enterprise_id=None,
                                                                       team_id=TEAM_A)
    assert saved is not None and saved.bot_token == TOKEN_A
