"""Every cluster role serves the same /metrics as `all` mode: a rule count read from the
database (a /watch taken by the chat process shows on every role's endpoint), and the
sent / failed / 429 counters on the process that sends the alerts. Real processes on one
PostgreSQL, the fake Bot API; skipped without PostgreSQL or procrastinate."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

pytest.importorskip("procrastinate")

from fakes.telegram_api import too_many_requests
from prometheus_client.parser import text_string_to_metric_families
from test_cluster import Cluster, _now_item, running_cluster
from test_slack_scenarios import free_port
from world import MEETING_A

pytestmark = pytest.mark.postgres

ROLES = ("chat", "ops", "fetch", "stories", "deliver")
Scrape = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def _scrape(port: int) -> Scrape | None:
    """The endpoint's samples, or None while it is not listening yet."""
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}/metrics") as answer,
        ):
            text = await answer.text()
    except aiohttp.ClientError:
        return None
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    async with running_cluster(tmp_path) as state:
        yield state


def _value(scraped: Scrape, name: str, **labels: str) -> float:
    return scraped.get((name, tuple(sorted(labels.items()))), 0.0)


async def _until_shown(cluster: Cluster, port: int, name: str, value: float, **labels: str) -> None:
    async def shown() -> bool:
        scraped = await _scrape(port)
        return scraped is not None and _value(scraped, name, **labels) == value

    await cluster.until(shown, f"{name}{labels or ''} = {value} on :{port}")


async def test_every_role_shows_the_live_rule_count_and_the_deliver_role_counts_sends(
    cluster: Cluster,
) -> None:
    cluster.settings["poll_interval_minutes"] = 0.05  # the feed is read again every 3 s
    ports = {role: free_port() for role in ROLES}
    for role in ROLES:
        cluster.start(role, also={"metrics_port": ports[role], "listen_host": "127.0.0.1"})
    for role in ROLES:
        await _until_shown(cluster, ports[role], "storywatch_rules", 0)
    api = cluster.api
    api.push_message(301, "/watch Cavusoglu", user_id=301)
    api.push_message(301, "/digest off", user_id=301)
    await cluster.sent_to(301, 2)
    for role in ROLES:  # taken by the chat process, read from the database by each role
        await _until_shown(cluster, ports[role], "storywatch_rules", 1)

    api.fail_next("sendMessage", too_many_requests(1), chat_id=301)  # the alert's first try
    cluster.publish("a", _now_item(MEETING_A, 1))
    await cluster.sent_to(301, 3)
    deliver = ports["deliver"]
    await _until_shown(cluster, deliver, "storywatch_messages_sent_total", 1,
                       platform="telegram", kind="alert")  # fmt: skip
    scraped = await _scrape(deliver)
    assert scraped is not None
    assert _value(scraped, "storywatch_rate_limited_total", platform="telegram") == 1
    assert _value(scraped, "storywatch_delivery_errors_total", platform="telegram",
                  error="RateLimited") == 1  # fmt: skip
    stories = await _scrape(ports["stories"])  # the story stage's save is counted where made
    assert stories is not None
    assert _value(stories, "storywatch_articles_total") == 1
    assert _value(stories, "storywatch_messages_planned_total", kind="alert") == 1
    assert _value(stories, "storywatch_story_index_articles") == 1
    await cluster.stop_cleanly()
