"""What each chat is planned to receive for one article (pure policy, no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core.alerts import ChatTarget, plan_alerts
from bot.core.models import (
    Article,
    Chat,
    ChatMode,
    ChatSettings,
    Highlight,
    MessageKind,
    Source,
    StoryKind,
    StoryView,
)

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
ARTICLE = Article("u:1", 1, "http://x/1", "S-400 talks", "text", NOW, "Outlet B")
VIEW = StoryView("s1", "S-400 talks", "http://x/1", "", (Source("A", "a"), Source("B", "b")))


def chat(**settings: object) -> Chat:
    return Chat(7, "console", "c", settings=ChatSettings(**settings))  # type: ignore[arg-type]


def plan(target: ChatTarget, kind: StoryKind = StoryKind.NEW, gained: bool = False):  # type: ignore[no-untyped-def]
    return plan_alerts(ARTICLE, kind, "new fact", VIEW, [target], gained_source=gained, now=NOW)


def test_a_matching_chat_gets_one_alert_and_starts_following() -> None:
    result = plan(ChatTarget(chat(), False, rule_label="S-400", highlight=Highlight("S-400")))
    assert [m.kind for m in result.messages] == [MessageKind.ALERT]
    assert [(m.chat_id, m.rule_label) for m in result.matches] == [(7, "S-400")]


def test_a_chat_that_neither_matches_nor_follows_gets_nothing() -> None:
    assert plan(ChatTarget(chat(), False)).messages == ()


def test_a_follower_gets_a_sources_edit_and_an_update_for_a_development() -> None:
    result = plan(ChatTarget(chat(), True), StoryKind.DEVELOPMENT, gained=True)
    assert [m.kind for m in result.messages] == [MessageKind.SOURCES, MessageKind.UPDATE]
    assert result.messages[1].dedup_key == ARTICLE.id


def test_a_repeat_from_a_known_outlet_sends_nothing() -> None:
    assert plan(ChatTarget(chat(), True), StoryKind.REPEAT, gained=False).messages == ()


def test_a_muted_story_sends_nothing_to_that_chat() -> None:
    target = ChatTarget(chat(), True, muted=True)
    assert plan(target, StoryKind.DEVELOPMENT, gained=True).messages == ()


def test_digest_mode_records_the_match_but_sends_no_alert() -> None:
    result = plan(ChatTarget(chat(mode=ChatMode.DIGEST), False, rule_label="S-400"))
    assert result.messages == () and len(result.matches) == 1


def test_quiet_hours_defer_the_alert_to_their_end() -> None:
    target = ChatTarget(chat(quiet_start="11:00", quiet_end="13:30"), False, rule_label="S-400")
    [message] = plan(target).messages
    assert message.deferred and not message.held
    assert message.not_before == NOW.replace(hour=13, minute=30)


def test_pause_holds_until_resume() -> None:
    [message] = plan(ChatTarget(chat(paused=True), False, rule_label="S-400")).messages
    assert message.held and message.deferred
