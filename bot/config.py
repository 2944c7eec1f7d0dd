"""Runtime configuration from the environment or a `.env` file (the README lists every
setting; `deploy/env.example` is a starting `.env`)."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///ptf-bot.db"
#: The bot scopes of deploy/slack-manifest.yaml (a test keeps them the same).
BOT_SCOPES = ("commands", "app_mentions:read", "chat:write", "channels:history",
              "groups:history", "im:history", "im:write", "files:write", "assistant:write")


class Settings(BaseSettings):
    """Every knob the bot reads. Secrets are `SecretStr`: they never print or log."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = Field(
        default=None, description="xapp- token; when set the bot runs in Socket Mode"
    )
    slack_client_id: str | None = Field(
        default=None, description="OAuth (many workspaces), with SLACK_CLIENT_SECRET and no "
        "SLACK_BOT_TOKEN")
    slack_client_secret: SecretStr | None = None
    slack_scopes: str = Field(
        default=",".join(BOT_SCOPES),
        description="bot scopes asked for at install (OAuth), comma-separated")
    slack_redirect_uri: str | None = Field(
        default=None, description="OAuth: https://YOUR-HOST/slack/oauth_redirect (default: "
        "the app's first Redirect URL)")
    slack_authorize_url: str = Field(
        default="https://slack.com/oauth/v2/authorize",
        description="OAuth: where 'Add to Slack' sends the installer (GovSlack differs)")
    slack_api_url: str = "https://slack.com/api/"
    database_url: str = DEFAULT_DATABASE_URL
    anthropic_api_key: SecretStr | None = None
    anthropic_base_url: str | None = None
    bot_llm_model: str = "claude-haiku-4-5"
    bot_llm_timeout_s: float = Field(default=8.0, gt=0)
    bot_llm_max_tokens: int = Field(default=300, gt=0)
    bot_slash_command: str = "/ptf"
    port: int = Field(default=3000, gt=0, lt=65536)
    log_level: str = "INFO"
    web_concurrency: int = Field(
        default=1, gt=0, description="gunicorn worker processes in HTTP mode"
    )
    web_threads: int = Field(
        default=8, gt=0, description="threads per gunicorn worker (requests being acked at once)"
    )
    slack_listener_threads: int = Field(
        default=16, gt=0, description="threads per process for listener work done after the ack"
    )
    knowledge_dir: Path | None = None
    bot_today: date | None = Field(
        default=None, description="decide as of this date instead of the system date (tests)"
    )

    bot_heads_up_days: int = Field(
        default=30, ge=0, le=365,
        description="recheck: DM a heads-up this many days before the advised route closes",
    )
    bot_recheck_every_hours: float = Field(
        default=24.0, ge=0, description="serve: run recheck this often (0: never)"
    )
    bot_outbox_lease_s: float = Field(
        default=60.0, gt=0, le=3600,
        description="a message being sent is another process's to retry after this long "
                    "(the sender died)",
    )
    bot_slow_notice_s: float = Field(
        default=8.0, ge=0, le=3600,
        description="tell the person once that Slack is slow when a message they are owed "
                    "is this late",
    )

    def today(self) -> date:
        """The date decisions are made as of: BOT_TODAY, else the system date."""
        return self.bot_today or date.today()

    @property
    def llm_enabled(self) -> bool:
        return self.anthropic_api_key is not None and bool(
            self.anthropic_api_key.get_secret_value()
        )

    @property
    def oauth_mode(self) -> bool:
        """Many workspaces, each installed through /slack/install (tokens in the database):
        a client id and secret and no single bot token."""
        token = self.slack_bot_token.get_secret_value() if self.slack_bot_token else ""
        secret = self.slack_client_secret.get_secret_value() if self.slack_client_secret else ""
        return bool(self.slack_client_id and secret and not token)

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None and bool(self.slack_app_token.get_secret_value())


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
