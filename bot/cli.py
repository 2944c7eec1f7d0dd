"""`python -m bot ...`: decide, next, console, knowledge check|models, db upgrade|downgrade,
recheck, serve.

Heavy imports (matplotlib, Slack, SQLAlchemy, the Anthropic SDK) happen inside
the command that needs them, so `decide` stays fast.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date
from pathlib import Path
from typing import Any

EXIT_OK = 0
EXIT_INVALID = 2


DISTRIBUTION = "ptf-bot"


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows `(default: X)` only where there is a default to show (not None or False)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default in (None, False):
            return action.help
        return super()._get_help_string(action)


def _prog() -> str:
    """The name the program was run by: `ptf-bot` (the console script) or `python -m bot`
    (argparse would say `__main__.py`)."""
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    stem = name[:-4] if name.lower().endswith(".exe") else name
    return DISTRIBUTION if stem == DISTRIBUTION else "python -m bot"


def _version() -> str:
    """The installed distribution's version, else pyproject.toml's (a bare checkout)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        pass
    import tomllib

    try:
        pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
        return str(tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


class _VersionAction(argparse.Action):
    """`--version`: `ptf-bot 0.1.0`. The version is looked up only when asked (reading
    the package metadata costs tens of milliseconds on every other command)."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS,
                 default: str = argparse.SUPPRESS, help: str | None = None) -> None:
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        sys.stdout.write(f"{DISTRIBUTION} {_version()}\n")
        parser.exit()


def _command(commands: Any, name: str, about: str) -> argparse.ArgumentParser:
    return commands.add_parser(name, help=about, description=about,
                               formatter_class=_HelpFormatter)


def _parser(prog: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog or _prog(), formatter_class=_HelpFormatter,
        description="Prompt engineering or fine-tuning? A rule-based advisor with sources.",
    )
    parser.add_argument("--version", action=_VersionAction,
                        help="print the program's name and version, and exit")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                     help="what to do")

    decide = _command(commands, "decide", "decide from an answers file (YAML or JSON)")
    _answers_option(decide)
    decide.add_argument("--format", choices=("json", "markdown", "text"), default="json",
                        help="output: one JSON object, a Markdown decision record, or text")
    decide.add_argument("--chart", type=Path, metavar="FILE.png",
                        help="also write the break-even chart to this PNG file")
    _knowledge_option(decide)
    _today_option(decide)

    following = _command(
        commands, "next",
        "the question the guided flow asks next, given an answers file (YAML or JSON)",
    )
    _answers_option(following)
    _knowledge_option(following)
    _today_option(following)

    console = _command(commands, "console", "the guided consultation in a terminal")
    _knowledge_option(console)
    _today_option(console)

    knowledge = _command(commands, "knowledge", "knowledge files")
    knowledge_commands = knowledge.add_subparsers(dest="knowledge_command", required=True,
                                                  metavar="COMMAND", help="what to do")
    check = _command(knowledge_commands, "check", "validate every knowledge file")
    _knowledge_option(check)
    models = _command(knowledge_commands, "models",
                      "the model catalogue: who can fine-tune what, until when, at what price")
    models.add_argument("--format", choices=("text", "json"), default="text",
                        help="output: text grouped by provider, or one JSON object")
    _knowledge_option(models)
    _today_option(models)

    database = _command(commands, "db", "the database (DATABASE_URL)")
    database_commands = database.add_subparsers(dest="db_command", required=True,
                                                metavar="COMMAND", help="what to do")
    _command(database_commands, "upgrade",
             "bring the database schema up to date (Alembic migrations)")
    downgrade = _command(database_commands, "downgrade",
                         "take the schema back to an older revision (to run an older bot)")
    downgrade.add_argument("revision", help="the Alembic revision to go back to, e.g. 0001")

    recheck = _command(commands, "recheck",
                       "re-decide every stored consultation; DM each owner once per change")
    recheck.add_argument("--dry-run", action="store_true",
                         help="print the changed verdicts, record and send nothing")
    _knowledge_option(recheck)
    _today_option(recheck)

    _command(commands, "serve", "run the Slack bot (Socket Mode or HTTP)")
    return parser


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"today: {text!r} is not a date; accepted: YYYY-MM-DD, e.g. 2026-12-02"
        ) from None


def _answers_option(command: argparse.ArgumentParser) -> None:
    command.add_argument("--answers", required=True, type=Path, metavar="FILE",
                         help="answers file (YAML or JSON) mapping question ids to values; "
                              "- reads stdin")


def _knowledge_option(command: argparse.ArgumentParser) -> None:
    command.add_argument("--knowledge-dir", type=Path, metavar="DIR",
                         help="knowledge folder (default: KNOWLEDGE_DIR, else the copy "
                              "shipped with the bot)")


def _today_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--today", type=_iso_date, default=None, metavar="YYYY-MM-DD",
        help="decide as of this date (default: BOT_TODAY, else the system date)",
    )


def _today(args: argparse.Namespace) -> date | None:
    """--today, else BOT_TODAY, else the system date (None after printing bad settings)."""
    if args.today is not None:
        return args.today
    settings = _settings()
    return settings.today() if settings is not None else None


def _load_knowledge(directory: Path | None):
    """The knowledge, or None after printing every problem (file: entry: reason).

    The folder: --knowledge-dir, else KNOWLEDGE_DIR (environment or .env), else the
    copy shipped with the package."""
    from bot.knowledge import KnowledgeError, load_knowledge

    if directory is None:
        settings = _settings()
        if settings is None:
            return None
        directory = settings.knowledge_dir
    try:
        return load_knowledge(directory)
    except KnowledgeError as error:
        for problem in error.problems:
            print(f"knowledge: {problem}", file=sys.stderr)
        return None


STDIN = "-"


def _read_answers(path: Path) -> tuple[dict[str, Any] | None, list[str]]:
    """The answers file (`-`: stdin) as a mapping (None when unreadable) and every problem
    with it, one line each.

    JSON is read as JSON (tabs, 2e7 and all); anything else as YAML. An empty file, or one
    with only comments, means nothing is known yet. A key given twice is an error (YAML
    and JSON would silently keep the last one)."""
    name = "stdin" if str(path) == STDIN else str(path)
    try:
        text = sys.stdin.read() if str(path) == STDIN else path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        return None, [f"answers: cannot read {name}: {reason}"]
    stripped = text.lstrip("\ufeff \t\r\n")
    try:
        if path.suffix.lower() == ".json" or stripped.startswith("{"):
            data, twice = _read_json(text.lstrip("\ufeff"))
        else:
            data, twice = _read_yaml(text)
    except ValueError as error:
        return None, [f"answers: {name} is not valid YAML or JSON: {error}"]
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return None, [f"answers: {name} must map question ids to values (e.g. prompt_tokens: 6k)"]
    return data, [f"answers: {key}: given twice{where}; accepted: one value per question id"
                  for key, where in twice]


def _read_yaml(text: str) -> tuple[Any, list[tuple[str, str]]]:
    """The data and each (key, " (line 1 and line 3, column 1)") given twice."""
    import yaml

    from bot.knowledge.loader import read_yaml, yaml_error_text

    try:
        data, duplicates = read_yaml(text)
    except yaml.YAMLError as error:
        raise ValueError(yaml_error_text(error)) from None
    return data, [(str(d.key), f" (line {d.first_line} and line {d.line}, column {d.column})")
                  for d in duplicates]


def _read_json(text: str) -> tuple[Any, list[tuple[str, str]]]:
    twice: list[tuple[str, str]] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in items:
            if key in seen:
                twice.append((key, ""))
            seen[key] = value
        return seen

    if not text.strip():
        return {}, []
    try:
        return json.loads(text, object_pairs_hook=pairs), twice
    except json.JSONDecodeError as error:
        raise ValueError(f"line {error.lineno}, column {error.colno}: {error.msg}") from None


def _answers_from(args: argparse.Namespace):
    """(knowledge, parsed answers, today), or None after printing every problem."""
    from bot.engine import parse_answers
    from bot.engine.catalogue import check_answers

    knowledge = _load_knowledge(args.knowledge_dir)
    today = _today(args)
    if knowledge is None or today is None:
        return None
    raw, problems = _read_answers(args.answers)
    if raw is not None:
        answers, errors = parse_answers(knowledge, raw)
        errors += check_answers(knowledge, answers, today)
        problems += [f"answers: {error}" for error in errors]
    if raw is None or problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        return None
    return knowledge, answers, today


def cited_sources(knowledge: Any, output: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every source id the output cites (reasons, conditions, cautions, advice, cost notes,
    assumptions, the explanation), with its title, publisher, link and as-of date, so that
    a reader of the JSON needs no knowledge files to follow a citation."""
    ids: set[str] = set()
    for key in ("reasons", "conditions", "counterpoints", "cautions", "advice", "cost_notes"):
        for item in output.get(key) or []:
            ids.update(item.get("sources") or [])
    ids.update(a.get("source") for a in output.get("assumptions") or [] if a.get("source"))
    ids.update((output.get("explanation") or {}).get("cited_sources") or [])
    known = {source.id: source for source in knowledge.sources}
    return {sid: {"title": known[sid].title, "publisher": known[sid].publisher,
                  "url": known[sid].url, "as_of": str(known[sid].as_of)}
            for sid in sorted(i for i in ids if i in known)}


def cmd_decide(args: argparse.Namespace) -> int:
    from bot.engine import decide

    loaded = _answers_from(args)
    if loaded is None:
        return EXIT_INVALID
    knowledge, answers, today = loaded
    decision = decide(knowledge, answers, today)
    if args.chart is not None:
        from bot.explain.chart import write_chart

        try:
            write_chart(decision, args.chart)
        except ValueError as error:
            print(f"chart: {error}", file=sys.stderr)
            return EXIT_INVALID
        except OSError as error:
            print(f"chart: cannot write {args.chart}: {error.strerror}", file=sys.stderr)
            return EXIT_INVALID
    settings = _settings()
    if settings is None:
        return EXIT_INVALID
    explanation = _explain(decision, knowledge, settings)
    if args.format == "json":
        output = decision.to_dict()
        output["explanation"] = explanation
        output["sources"] = cited_sources(knowledge, output)
        sys.stdout.write(json.dumps(output, indent=2, ensure_ascii=False) + "\n")
    elif args.format == "markdown":
        from bot.explain.markdown import render_markdown

        sys.stdout.write(render_markdown(decision, knowledge, _phrased(explanation)))
    else:
        from bot.explain.text import render_text

        sys.stdout.write(render_text(decision, _phrased(explanation)))
    return EXIT_OK


def _settings():
    """The settings, or None after printing each invalid one (e.g. PORT=abc)."""
    from pydantic import ValidationError

    from bot.config import get_settings

    try:
        return get_settings()
    except ValidationError as error:
        for problem in error.errors():
            name = ".".join(str(part) for part in problem["loc"]).upper()
            print(f"settings: {name}: {problem['msg']}", file=sys.stderr)
        return None


def _explain(decision, knowledge, settings) -> dict[str, Any]:
    """The explanation: LLM phrasing when ANTHROPIC_API_KEY is set and its text passes
    the grounding checks, else the deterministic template text. Never the verdict."""
    from bot.explain.text import explanation_text

    if not settings.llm_enabled:
        return {"text": explanation_text(decision), "source": "template", "cited_sources": []}
    from bot.explain.llm import phrase, source_titles, source_urls

    return phrase(
        decision.to_dict(), source_titles(knowledge), settings,
        template_text=lambda: explanation_text(decision), source_urls=source_urls(knowledge),
    ).to_dict()


def _phrased(explanation: dict[str, Any]) -> str | None:
    return explanation["text"] if explanation.get("source") == "llm" else None


def cmd_next(args: argparse.Namespace) -> int:
    """One JSON object: `{"done": bool, "question": id or null, "verdict": id when done}`,
    from the same consultation object every surface drives."""
    from bot.engine import Consultation

    loaded = _answers_from(args)
    if loaded is None:
        return EXIT_INVALID
    knowledge, answers, today = loaded
    consultation = Consultation(knowledge, today, answers=dict(answers))
    question = consultation.next_question()
    output: dict[str, Any] = {"done": question is None,
                              "question": question.id if question is not None else None}
    if question is None:
        output["verdict"] = consultation.verdict()
    sys.stdout.write(json.dumps(output) + "\n")
    return EXIT_OK


def cmd_console(args: argparse.Namespace) -> int:
    from bot.console import run_console

    knowledge = _load_knowledge(args.knowledge_dir)
    today = _today(args)
    if knowledge is None or today is None:
        return EXIT_INVALID
    return run_console(knowledge, sys.stdin, sys.stdout, today)


def cmd_knowledge_check(args: argparse.Namespace) -> int:
    knowledge = _load_knowledge(args.knowledge_dir)
    if knowledge is None:
        return EXIT_INVALID
    print(
        f"knowledge ok: {knowledge.directory} version {knowledge.version}: "
        f"{len(knowledge.questions)} questions, {len(knowledge.rules)} rules, "
        f"{len(knowledge.sources)} sources, {len(knowledge.criteria)} criteria, "
        f"{len(knowledge.catalogue.models)} models"
    )
    return EXIT_OK


def cmd_knowledge_models(args: argparse.Namespace) -> int:
    from bot.explain.catalogue import catalogue_rows, render_catalogue

    knowledge = _load_knowledge(args.knowledge_dir)
    today = _today(args)
    if knowledge is None or today is None:
        return EXIT_INVALID
    rows = catalogue_rows(knowledge, today)
    if args.format == "json":
        sys.stdout.write(json.dumps({"today": today.isoformat(), "models": rows},
                                    indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(render_catalogue(knowledge, rows, today))
    return EXIT_OK


def cmd_db(args: argparse.Namespace) -> int:
    from bot.store import Store, StoreError

    settings = _settings()
    if settings is None:
        return EXIT_INVALID
    store = Store(settings.database_url)
    try:
        if args.db_command == "downgrade":
            before = store.downgrade_schema(args.revision)
            done = f"downgraded from revision {before} to {args.revision}"
        else:
            done = str(store.upgrade_schema())
    except StoreError as error:
        print(f"db {args.db_command}: {store.safe_url}: {error}", file=sys.stderr)
        return EXIT_INVALID
    finally:
        store.dispose()
    print(f"database {store.safe_url}: {done}")
    return EXIT_OK


def cmd_recheck(args: argparse.Namespace) -> int:
    """One JSON line per changed verdict on stdout; a summary on stderr."""
    from bot.store import Store, StoreError

    settings = _settings()
    knowledge = _load_knowledge(args.knowledge_dir)
    today = _today(args)
    if settings is None or knowledge is None or today is None:
        return EXIT_INVALID
    token = settings.slack_bot_token
    if not args.dry_run and not settings.oauth_mode and (
            token is None or not token.get_secret_value()):
        print("recheck: SLACK_BOT_TOKEN is not set (nor SLACK_CLIENT_ID and "
              "SLACK_CLIENT_SECRET for many workspaces), so no one can be told; set it, or "
              "use --dry-run to only print the changed verdicts", file=sys.stderr)
        return EXIT_INVALID
    from bot.recheck import run_recheck

    store = Store(settings.database_url)
    try:
        store.create_schema()
        deliver = None if args.dry_run else _drift_notifier(settings, store, knowledge, today)
        report = run_recheck(
            store, knowledge, today, dry_run=args.dry_run,
            heads_up_days=settings.bot_heads_up_days, deliver=deliver,
            emit=lambda line: print(json.dumps(line, ensure_ascii=False), flush=True),
            workers=min(os.cpu_count() or 1, 4),
        )
    except StoreError as error:
        print(f"recheck: {store.safe_url}: {error}", file=sys.stderr)
        return EXIT_INVALID
    finally:
        store.dispose()
    print(report.summary(), file=sys.stderr)
    return EXIT_OK


def _drift_notifier(settings, store, knowledge, today):
    from bot.slack.client import build_web_client
    from bot.slack.drift_dm import SlackDriftNotifier
    from bot.slack.services import Services

    return SlackDriftNotifier(Services(settings, store, knowledge), build_web_client(settings),
                              today)


def _schema_refused(settings) -> bool:
    """At start-up: True (after saying why and what to do) when the database's schema is
    behind or ahead of the code's. A database that cannot be reached is not refused:
    the server starts, and /readyz says 503 until it answers."""
    from bot.store import SchemaMismatch, Store, StoreUnavailable

    store = Store(settings.database_url)
    try:
        store.create_schema()
    except SchemaMismatch as error:
        print(f"ptf-bot: not starting: {store.safe_url}: {error}", file=sys.stderr)
        return True
    except StoreUnavailable:
        pass
    finally:
        store.dispose()
    return False


def cmd_serve(args: argparse.Namespace) -> int:
    settings = _settings()
    if settings is None or _load_knowledge(settings.knowledge_dir) is None:
        return EXIT_INVALID
    from bot import metrics_dir

    metrics_dir.prepare(settings.web_concurrency)  # before anything imports the client
    if _schema_refused(settings):
        return EXIT_INVALID
    from bot.slack.server import serve

    return serve(settings) or EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "decide":
        return cmd_decide(args)
    if args.command == "next":
        return cmd_next(args)
    if args.command == "console":
        return cmd_console(args)
    if args.command == "knowledge":
        if args.knowledge_command == "models":
            return cmd_knowledge_models(args)
        return cmd_knowledge_check(args)
    if args.command == "db":
        return cmd_db(args)
    if args.command == "recheck":
        return cmd_recheck(args)
    return cmd_serve(args)
