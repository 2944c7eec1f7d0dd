"""OAuth for many workspaces, black-box: the install page, Slack's consent (FakeSlack),
the redirect, the saved installation, requests authorized per team, uninstall, and one
team never seeing another's consultations."""

from __future__ import annotations

import base64
import html
import re
import urllib.request
from datetime import date
from http.cookiejar import CookieJar, DefaultCookiePolicy
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import text

from bot.slack.blocks.ids import RECORD_DM
from bot.slack.oauth import installation_store
from tests.support.fake_slack import BOT_TOKEN
from tests.support.fixtures import make_settings
from tests.support.slack_requests import (
    CHANNEL_ID,
    USER_ID,
    app_home_opened_event,
    app_mention_event,
    block_actions_payload,
    command_form,
    event_envelope,
)
from tests.support.surface import wait_until

TEAM_A, TEAM_B = "T0TEAMAAA", "T0TEAMBBB"
TOKEN_A, TOKEN_B = "xoxb-team-a-installed-token", "xoxb-team-b-installed-token"
CLIENT_ID = "1111.2222"
CLIENT_SECRET = "oauth-client-secret-for-tests"


def start_oauth_bot(bot_factory, fake_slack, database_url):
    """A bot for many workspaces (no bot token), whose "Add to Slack" goes to FakeSlack."""
    settings = make_settings(
        fake_slack, database_url, slack_bot_token=None, slack_client_id=CLIENT_ID,
        slack_client_secret=CLIENT_SECRET,
        slack_authorize_url=fake_slack.api_url.replace("/api/", "/oauth/v2/authorize"))
    return bot_factory(settings)


@pytest.fixture
def oauth_bot(bot_factory, fake_slack, db_url):
    return start_oauth_bot(bot_factory, fake_slack, db_url)


class LoopbackPolicy(DefaultCookiePolicy):
    """The state cookie is `Secure` (the install page is https in production); a browser
    sends it to http://127.0.0.1 too (loopback is a secure context), urllib does not."""

    def return_ok_secure(self, cookie, request):
        return urlsplit(request.get_full_url()).hostname == "127.0.0.1"


def browser():
    jar = CookieJar(policy=LoopbackPolicy())
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))


def install_page_link(bot, opener) -> str:
    page = opener.open(bot.url + "/slack/install", timeout=10)
    assert page.status == 200
    text = page.read().decode()
    href = re.search(r'<a href="([^"]+)"', text)
    assert href is not None, text
    return html.unescape(href.group(1))


def install(bot, team, token, redirect_uri) -> str:
    """Install the app for `team` through the pages, as a person's browser would."""
    bot.fake.install_next(team, token)
    opener = browser()
    link = install_page_link(bot, opener)
    query = parse_qs(urlsplit(link).query)
    assert query["client_id"] == [CLIENT_ID] and "assistant:write" in query["scope"][0]
    bot.fake.oauth_redirect_uri = redirect_uri  # the app's Redirect URL, as set at Slack
    done = opener.open(link, timeout=10)  # consent (FakeSlack) -> /slack/oauth_redirect
    assert done.status == 200
    return done.read().decode()


def send(bot, payload_or_form, *, form=False):
    if form:
        return bot.sender.post_form(payload_or_form)
    return bot.sender.post_json(payload_or_form)


def test_install_saves_the_workspace_and_its_requests_use_its_own_token(oauth_bot):
    bot, fake = oauth_bot, oauth_bot.fake
    page = install(bot, TEAM_A, TOKEN_A, bot.url + "/slack/oauth_redirect")
    assert "Thank you!" in page and f"slack://app?team={TEAM_A}" in page  # back to Slack
    exchange = fake.wait_for("oauth.v2.access")  # the code, with our client credentials
    assert exchange.arg("code").startswith("code-")
    assert exchange.headers["authorization"] == "Basic " + base64.b64encode(
        f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    store = installation_store(bot.settings, bot.store.engine)
    saved = store.find_bot(enterprise_id=None, team_id=TEAM_A)
    assert saved is not None and saved.bot_token == TOKEN_A
    # a request from that workspace is authorized with its installation's token
    r = send(bot, event_envelope(app_home_opened_event(), team_id=TEAM_A))
    assert r.status == 200
    published = fake.wait_for("views.publish")
    assert published.token == TOKEN_A
    # a workspace that never installed the app gets nothing done for it
    before = len(fake.calls_to())
    send(bot, event_envelope(app_home_opened_event(), team_id=TEAM_B))
    fake.quiet_for(0.4)
    assert [c.method for c in fake.calls_to()[before:]] == []


def test_an_install_link_cannot_be_replayed_or_forged(oauth_bot):
    bot = oauth_bot
    install_page_link(bot, browser())
    # a redirect with a state this browser was never given is refused
    forged = urllib.request.urlopen  # no cookie jar: no state cookie
    with pytest.raises(urllib.error.HTTPError) as refused:
        forged(bot.url + "/slack/oauth_redirect?code=x&state=made-up", timeout=10)
    assert refused.value.code in (400, 401, 403)
    store = installation_store(bot.settings, bot.store.engine)
    assert store.find_bot(enterprise_id=None, team_id=TEAM_A) is None


@pytest.mark.parametrize("event_type", ["app_uninstalled", "tokens_revoked"])
def test_uninstall_or_revoked_tokens_delete_that_workspaces_tokens(oauth_bot, event_type):
    bot = oauth_bot
    install(bot, TEAM_A, TOKEN_A, bot.url + "/slack/oauth_redirect")
    install(bot, TEAM_B, TOKEN_B, bot.url + "/slack/oauth_redirect")
    store = installation_store(bot.settings, bot.store.engine)
    event = ({"type": "app_uninstalled", "event_ts": "1.1"} if event_type == "app_uninstalled"
             else {"type": "tokens_revoked", "event_ts": "1.1",
                   "tokens": {"oauth": [], "bot": ["U0BOTUSER"]}})
    assert send(bot, event_envelope(event, team_id=TEAM_A)).status == 200
    def stored_tokens() -> set[str]:  # in both tables: no copy is left anywhere
        with bot.store.engine.connect() as connection:
            return set(connection.execute(text(
                "SELECT bot_token FROM slack_installations UNION SELECT bot_token FROM slack_bots"
            )).scalars())

    wait_until(lambda: TOKEN_A not in stored_tokens(), what="team A's tokens deleted")
    assert store.find_bot(enterprise_id=None, team_id=TEAM_A) is None
    assert TOKEN_B in stored_tokens()
    kept = store.find_bot(enterprise_id=None, team_id=TEAM_B)
    assert kept is not None and kept.bot_token == TOKEN_B


def test_one_workspace_never_sees_anothers_consultations(oauth_bot):
    bot, fake = oauth_bot, oauth_bot.fake
    install(bot, TEAM_A, TOKEN_A, bot.url + "/slack/oauth_redirect")
    install(bot, TEAM_B, TOKEN_B, bot.url + "/slack/oauth_redirect")
    # the same user id in both workspaces (Enterprise Grid keeps one id across them)
    row = bot.store.create_consultation(user_id=USER_ID, team_id=TEAM_A, surface="modal",
                                        state={"schema": 1, "answers": {}})
    bot.store.finish(row.id, {"verdict": "fine_tuning"})
    n = len(fake.calls_to("response_url"))
    send(bot, command_form("history", team_id=TEAM_B, response_url=fake.response_url()),
         form=True)
    answer = fake.wait_for("response_url", count=n + 1)
    assert "Fine-tune" not in str(answer.json) and row.id not in str(answer.json)
    send(bot, command_form("history", team_id=TEAM_A, response_url=fake.response_url()),
         form=True)
    mine = fake.wait_for("response_url", count=n + 2)
    assert "Fine-tune" in str(mine.json)
    # a click from team B naming team A's consultation finds nothing
    before = len(fake.ok_calls("chat.postMessage"))
    payload = block_actions_payload(RECORD_DM, value=row.id, team_id=TEAM_B,
                                    response_url=fake.response_url())
    assert bot.sender.interaction(payload).status == 200
    told = fake.wait_for("chat.postEphemeral")
    assert "can't find that consultation" in told.arg("text") and told.token == TOKEN_B
    assert len(fake.ok_calls("chat.postMessage")) == before  # no record DM to team B
    assert BOT_TOKEN not in [c.token for c in fake.calls_to()]
    # auth.test once per workspace token (install, then the first request), not per request
    tokens = [c.token for c in fake.calls_to("auth.test")]
    assert sorted(tokens) == sorted([TOKEN_A, TOKEN_A, TOKEN_B, TOKEN_B])


def test_recheck_tells_each_workspace_with_its_own_token(oauth_bot, db_url):
    from bot.engine import Consultation, decide
    from bot.engine.answers import parse_answers
    from tests.conftest import run_bot
    from tests.slack.test_recheck import KNOWLEDGE, OPENAI_FINE_TUNE

    bot, fake = oauth_bot, oauth_bot.fake
    install(bot, TEAM_A, TOKEN_A, bot.url + "/slack/oauth_redirect")
    answers, _ = parse_answers(KNOWLEDGE, OPENAI_FINE_TUNE)
    day = date(2026, 3, 1)
    for team, user in ((TEAM_A, "U0AAAUSER"), (TEAM_B, "U0BBBUSER")):  # B never installed
        row = bot.store.create_consultation(
            user_id=user, team_id=team, surface="modal",
            state=Consultation(KNOWLEDGE, day, answers=answers).to_json())
        bot.store.finish(row.id, decide(KNOWLEDGE, answers, day).to_dict())
    ran = run_bot("recheck", "--today", "2026-12-02", env={
        "DATABASE_URL": db_url, "SLACK_API_URL": fake.api_url, "SLACK_BOT_TOKEN": "",
        "SLACK_CLIENT_ID": CLIENT_ID, "SLACK_CLIENT_SECRET": CLIENT_SECRET})
    assert ran.returncode == 0, ran.stderr
    assert len(ran.stdout.splitlines()) == 2  # both verdicts changed
    sent = [c for c in fake.ok_calls("chat.postMessage") if str(c.arg("channel")).startswith("D")]
    assert [(c.token, c.arg("channel")) for c in sent] == [(TOKEN_A, "D0AAAUSER")]


def test_our_oauth_tables_are_the_ones_slack_sdks_stores_use():
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
    from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
    from sqlalchemy import MetaData

    from bot.store.models import oauth_tables

    def shape(table):
        columns = [(c.name, str(c.type), c.nullable, c.primary_key) for c in table.columns]
        indexes = sorted((i.name, tuple(c.name for c in i.columns)) for i in table.indexes)
        return table.name, columns, indexes

    sdk = MetaData()
    theirs = [SQLAlchemyInstallationStore.build_installations_table(sdk, "slack_installations"),
              SQLAlchemyInstallationStore.build_bots_table(sdk, "slack_bots"),
              SQLAlchemyOAuthStateStore.build_oauth_states_table(sdk, "slack_oauth_states")]
    assert [shape(t) for t in oauth_tables(MetaData())] == [shape(t) for t in theirs]


def test_token_mode_has_no_install_page(bot):
    for path in ("/slack/install", "/slack/oauth_redirect?code=x&state=y"):
        assert bot.sender.get(path).status == 404


def test_a_token_and_client_credentials_together_are_a_clear_configuration_error(fake_slack,
                                                                                  sqlite_url):
    from bot.slack.server import config_errors

    both = make_settings(fake_slack, sqlite_url, slack_client_id=CLIENT_ID,
                         slack_client_secret=CLIENT_SECRET)
    assert any("keep SLACK_BOT_TOKEN for one workspace" in p for p in config_errors(both))
    socket = make_settings(fake_slack, sqlite_url, slack_bot_token=None,
                           slack_client_id=CLIENT_ID, slack_client_secret=CLIENT_SECRET,
                           slack_app_token="xapp-1-socket")
    assert any("unset SLACK_APP_TOKEN" in p for p in config_errors(socket))


def test_a_team_view_hides_other_teams_rows_even_through_a_thread_clash(sqlite_url):
    from bot.store import ConsultationExists, ConsultationNotFound, Store
    from bot.store.team_view import TeamView

    store = Store(sqlite_url)
    store.create_schema()
    try:
        theirs = store.create_consultation(user_id=USER_ID, team_id=TEAM_A, surface="thread",
                                           channel="C0SHARED1", thread_ts="1.1", state={})
        legacy = store.create_consultation(user_id=USER_ID, surface="modal", state={})
        mine = TeamView(store, TEAM_B)
        assert mine.get(theirs.id) is None and mine.get(legacy.id) is None
        assert mine.find_open_for_thread("C0SHARED1", "1.1") is None
        assert mine.recent_for_user(USER_ID) == []
        with pytest.raises(ConsultationExists) as clash:  # a Slack Connect channel
            mine.create_consultation(user_id=USER_ID, surface="thread", channel="C0SHARED1",
                                     thread_ts="1.1", state={})
        assert clash.value.existing is None  # the other team's row is not handed over
        with pytest.raises(ConsultationNotFound):
            mine.update(theirs.id, lambda draft: None)
        made = mine.create_consultation(user_id=USER_ID, team_id=TEAM_A, surface="modal",
                                        state={})
        assert made.team_id == TEAM_B  # the view's team, whatever the payload said
        assert TeamView(store, "").get(made.id) is None  # no team: nothing
    finally:
        store.dispose()


def test_a_message_slack_was_too_busy_for_is_sent_later_with_the_workspaces_token(
        bot_factory, fake_slack, sqlite_url):
    """The outbox drainer sends what failed with the token of the workspace it belongs to
    (looked up when it sends: a reinstall's new token is used at once)."""
    bot = start_oauth_bot(bot_factory, fake_slack, sqlite_url)
    fake = bot.fake
    install(bot, TEAM_A, TOKEN_A, bot.url + "/slack/oauth_redirect")
    fake.fail_next("chat.postMessage", 4, status=500)  # the inline send gives up for now
    event = app_mention_event("we call claude, ship this week")
    fake.add_message(CHANNEL_ID, event["ts"], event["text"])
    assert send(bot, event_envelope(event, team_id=TEAM_A)).status == 200
    posted = fake.wait_for("chat.postMessage", timeout=20,
                           predicate=lambda c: c.arg("channel") == CHANNEL_ID)
    assert posted.token == TOKEN_A
    assert all(c.token == TOKEN_A for c in fake.calls_to("chat.postMessage"))
