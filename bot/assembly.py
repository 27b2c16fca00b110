"""Builders bot/app.py (the composition root) uses for the everyday commands, Slack for many
workspaces and the operators' endpoint; kept apart so app.py stays one screenful of wiring."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.feeds.reader import CheckResult
from bot.metrics.metered import Heartbeat
from bot.metrics.registry import Metrics
from bot.metrics.server import MetricsServer
from bot.opml import ListparserOpml
from bot.services.chat.everyday_commands import EverydayCommands
from bot.services.chat.feed_checks import FeedCheck, FeedChecks, FeedProbe
from bot.services.chat.opml_import import OpmlLimits, OpmlService
from bot.services.chat.recent import RecentMatches
from bot.services.chat.workspaces import Workspaces
from bot.services.outbound.digests import DigestService
from bot.services.ports import Clock
from bot.settings import Settings
from bot.storage.feed_lists import SqlFeedLists
from bot.storage.health import SqlHealth
from bot.storage.recent import SqlRecentArticles
from bot.storage.workspaces import SqlWorkspaces

if TYPE_CHECKING:
    from bot.slack.oauth import SlackOAuth

OAUTH_STATE_SECONDS = 600  # an "Add to Slack" page is good for ten minutes


def probe_of(result: CheckResult) -> FeedProbe:
    """What a chat is told about a checked feed: title, item count, newest headline."""
    if result.error is not None:
        return FeedProbe(error=result.error)
    newest = max(result.articles, key=lambda a: a.published, default=None)
    return FeedProbe(result.title, None, len(result.articles), newest.title if newest else None)


def opml_service(
    settings: Settings, engine: AsyncEngine, clock: Clock, check: FeedCheck, checks: FeedChecks
) -> OpmlService:
    """/import and /export (and `storywatch opml`), with the configured limits."""
    limits = OpmlLimits(settings.max_opml_bytes, settings.max_opml_feeds)
    return OpmlService(SqlFeedLists(engine), ListparserOpml(), check, clock, checks, limits)


def everyday_commands(
    settings: Settings, engine: AsyncEngine, clock: Clock, check: FeedCheck, checks: FeedChecks,
    digests: DigestService,
) -> EverydayCommands:  # fmt: skip
    """/preview, the tail of /watch, /digest now, /import and /export."""
    window = timedelta(hours=settings.story_window_hours)
    recent = RecentMatches(SqlRecentArticles(engine), clock, window)
    return EverydayCommands(recent, digests, opml_service(settings, engine, clock, check, checks))


def workspaces(engine: AsyncEngine, clock: Clock) -> Workspaces:
    return Workspaces(SqlWorkspaces(engine), clock)


def slack_oauth(settings: Settings, engine: AsyncEngine) -> SlackOAuth | None:
    """The OAuth install flow when SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are set; slack-sdk's
    async SQLAlchemy stores on the bot's own engine (tables from migration 0005)."""
    if settings.slack_client_id is None or settings.slack_client_secret is None:
        return None
    from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
    from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore

    from bot.slack.oauth import SlackOAuth

    client_id = settings.slack_client_id
    return SlackOAuth(
        client_id, settings.slack_client_secret.get_secret_value(), settings.slack_scopes,
        AsyncSQLAlchemyInstallationStore(client_id, engine),
        AsyncSQLAlchemyOAuthStateStore(OAUTH_STATE_SECONDS, engine),
        redirect_uri=settings.slack_redirect_uri,
    )  # fmt: skip


def ops_server(
    settings: Settings, metrics: Metrics, engine: AsyncEngine, beat: Heartbeat, clock: Clock,
    sizes: Callable[[], tuple[int, int]],
) -> MetricsServer:  # fmt: skip
    """/metrics and /healthz: the scheduler counts as stalled after a minute (or ten delivery
    intervals) without any job starting."""
    stale = max(60.0, 10 * settings.delivery_interval_seconds)
    return MetricsServer(metrics, SqlHealth(engine), beat, clock, sizes, stale_after=stale)
