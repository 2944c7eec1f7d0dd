"""OAuth for many workspaces: Bolt's OAuth flow on slack_sdk's SQLAlchemy stores.

`GET /slack/install` shows the "Add to Slack" page (and sets the state cookie);
`GET /slack/oauth_redirect` takes Slack's code, exchanges it (`oauth.v2.access`) and
saves the installation in our database (`slack_installations`, `slack_bots`, made by
the migrations). Every request is then authorized from its team's installation.
`app_uninstalled` (Bolt's listener) and `tokens_revoked` (ours, `forget_bot`) delete
that team's tokens.
"""

from __future__ import annotations

import logging

from slack_bolt.authorization.authorize import InstallationStoreAuthorize
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.config import Settings

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
#: How long an install link (its state) stays good.
STATE_EXPIRATION_S = 600


def installation_store(settings: Settings, engine: Engine) -> SQLAlchemyInstallationStore:
    return SQLAlchemyInstallationStore(client_id=str(settings.slack_client_id), engine=engine)


def oauth_settings(settings: Settings, engine: Engine, client: WebClient) -> OAuthSettings:
    """Bolt's OAuth settings on our database. Authorization reads the team's bot from the
    store on each request and keeps what `auth.test` said about its token (Bolt would
    otherwise call `auth.test` before every ack)."""
    secret = settings.slack_client_secret
    store = installation_store(settings, engine)
    oauth = OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=secret.get_secret_value() if secret is not None else None,
        scopes=[s.strip() for s in settings.slack_scopes.split(",") if s.strip()],
        redirect_uri=settings.slack_redirect_uri,
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        authorization_url=settings.slack_authorize_url,
        installation_store=store,
        installation_store_bot_only=True,  # no user tokens are asked for
        state_store=SQLAlchemyOAuthStateStore(expiration_seconds=STATE_EXPIRATION_S,
                                              engine=engine),
        state_expiration_seconds=STATE_EXPIRATION_S,
    )
    oauth.authorize = InstallationStoreAuthorize(
        logger=logging.getLogger("bot.slack.oauth"), client_id=oauth.client_id,
        client_secret=oauth.client_secret, client=client,
        installation_store=store, bot_only=True, cache_enabled=True)
    return oauth


def bot_token_for(settings: Settings, engine: Engine, team_id: str) -> str | None:
    """The newest bot token installed for `team_id` (any enterprise: a workspace of an
    Enterprise Grid org is found by its team id too), None when there is none."""
    store = installation_store(settings, engine)
    bots = store.bots
    query = (select(bots.c.bot_token)
             .where(bots.c.client_id == store.client_id, bots.c.team_id == team_id)
             .order_by(bots.c.installed_at.desc(), bots.c.id.desc()).limit(1))
    with engine.connect() as connection:
        token = connection.execute(query).scalar()
    return str(token) if token else None


def forget_bot(settings: Settings, engine: Engine, *, enterprise_id: str | None,
               team_id: str | None) -> None:
    """The team's bot tokens are revoked: delete them everywhere they are stored (Bolt's
    default listener clears `slack_bots` only; `slack_installations` keeps a copy)."""
    store = installation_store(settings, engine)
    store.delete_bot(enterprise_id=enterprise_id, team_id=team_id)
    store.delete_installation(enterprise_id=enterprise_id, team_id=team_id)
