"""Test helpers for the Slack side: FakeSlack (Web API stand-in), signed requests, fixtures.

- `tests.support.fake_slack`: `FakeSlack`, `BOT_TOKEN`, `TEAM_ID`, `BOT_USER_ID`.
- `tests.support.slack_requests`: `SlackSender`, `signature_headers`, payload builders.
- `tests.support.fixtures`: pytest fixtures (`fake_slack`, `bot`, `bot_factory`,
  `sqlite_url`, `postgres_url`, `db_url`, `bot_settings`) and `make_settings`,
  `start_bot`, `RunningBot`.
"""
