"""The `storywatch` command line: run, migrate, demo, check-feed, match, cluster, digest, opml."""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import sys
from collections.abc import Callable, Sequence

from bot.settings import Settings, SettingsError, load_settings

EXIT_CONFIG = 2
ROLES = ("all", "fetch", "stories", "deliver", "chat", "ops")


# Subcommands that take no options of their own here (the tools parse their own arguments).
_PLAIN = (
    ("demo", "an offline demo of the whole pipeline (under a minute)", True),
    ("check-feed", "fetch and parse one feed: check-feed URL_OR_FILE", False),
    ("match", "test a watch query: match QUERY [FILE ...]", False),
    ("cluster", "group articles into stories: cluster [FILE.jsonl]", False),
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="storywatch", description="Follows news stories for chats: one alert per story."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _run_parser(sub)
    migrate = sub.add_parser("migrate", help="bring the database schema up to date")
    migrate.add_argument(
        "--cluster", action="store_true", help="also the job queue's schema (PostgreSQL only)"
    )
    for name, about, own_help in _PLAIN:
        sub.add_parser(name, help=about, add_help=own_help)
    _digest_parser(sub)
    _opml_parser(sub)
    return parser


def _run_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = sub.add_parser(
        "run", help="run the bot (console chat when no Telegram/Slack token is set)"
    )
    run.add_argument(
        "--role",
        choices=ROLES,
        default="all",
        help="all: the whole bot in one process (default); the others are the processes of a "
        "cluster on PostgreSQL (README: Running a cluster)",
    )


def _digest_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    digest = sub.add_parser("digest", help="show a chat's digest: digest --chat ID --dry-run")
    digest.add_argument(
        "--chat", required=True, help="chat id (see the database) or PLATFORM:PLATFORM_ID"
    )
    digest.add_argument(
        "--dry-run", action="store_true", required=True, help="print the digest, do not send it"
    )


def _opml_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    opml = sub.add_parser("opml", help="a chat's own feeds as OPML: opml import|export --chat ID")
    actions = opml.add_subparsers(dest="action", metavar="ACTION", required=True)
    load = actions.add_parser("import", help="add the feeds of FILE: opml import FILE --chat ID")
    load.add_argument("file", help="an OPML file")
    dump = actions.add_parser("export", help="print the chat's own feeds as OPML")
    for action in (load, dump):
        action.add_argument(
            "--chat", required=True, help="chat id (see the database) or PLATFORM:PLATFORM_ID"
        )


def _settings_or_exit() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(EXIT_CONFIG) from None


def _run(args: argparse.Namespace) -> int:
    from bot.compose.basics import configure_logging
    from bot.compose.run import StartupError, run

    settings = _settings_or_exit()
    if args.role != "all":
        _cluster_ready_or_exit(settings, f"--role {args.role}")
    configure_logging(settings)
    try:
        asyncio.run(run(settings, args.role))  # `all` never imports procrastinate
    except StartupError as exc:
        print(exc, file=sys.stderr)
        return EXIT_CONFIG
    return 0


def _cluster_ready_or_exit(settings: Settings, what: str) -> None:
    """A cluster needs PostgreSQL and the cluster extra: say which is missing in one line."""
    if not settings.database_url.startswith("postgresql"):
        message = (
            f"{what} needs PostgreSQL (DATABASE_URL is SQLite); only --role all runs on SQLite"
        )
    elif importlib.util.find_spec("procrastinate") is None:
        message = f"{what} needs the cluster extra: pip install 'storywatch[cluster]'"
    else:
        return
    print(message, file=sys.stderr)
    raise SystemExit(EXIT_CONFIG)


def _migrate(args: argparse.Namespace) -> int:
    from bot.compose.basics import configure_logging
    from bot.tools.migrate import main as migrate_main

    settings = _settings_or_exit()
    if args.cluster:
        _cluster_ready_or_exit(settings, "migrate --cluster")
    configure_logging(settings)
    return migrate_main(settings, cluster=args.cluster)


def _demo(args: argparse.Namespace) -> int:
    from bot.demo.run import main as demo_main

    return demo_main()


def _digest(args: argparse.Namespace) -> int:
    from bot.tools.digest import main as digest_main

    return digest_main(_settings_or_exit(), args.chat)


def _opml(args: argparse.Namespace) -> int:
    from bot.tools.opml import main as opml_main

    return opml_main(_settings_or_exit(), args.action, args.chat, getattr(args, "file", None))


def _tool(name: str) -> Callable[[list[str]], int]:
    def run_tool(rest: list[str]) -> int:
        module = __import__(f"bot.tools.{name}", fromlist=["main"])
        result: int = module.main(rest)
        return result

    return run_tool


PASS_THROUGH = {
    "check-feed": _tool("check_feed"),
    "match": _tool("match"),
    "cluster": _tool("cluster"),
}
COMMANDS = {"run": _run, "migrate": _migrate, "demo": _demo, "digest": _digest, "opml": _opml}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script and `python -m bot`."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        return _dispatch(args_list)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `storywatch check-feed … | head`: the reader left, stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _dispatch(args_list: list[str]) -> int:
    if args_list and args_list[0] in PASS_THROUGH:
        return PASS_THROUGH[args_list[0]](args_list[1:])
    parser = _parser()
    args = parser.parse_args(args_list)
    if args.command is None:
        parser.print_help()
        return 0
    return COMMANDS[args.command](args)
