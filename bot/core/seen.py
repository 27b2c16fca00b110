"""Which fetched articles are new: not stored yet, and each only once across feeds."""

from __future__ import annotations

from bot.core.models import Article


def unseen_once(articles: list[Article], known: set[str]) -> list[Article]:
    """The articles whose id and url are not in `known`, each once (by id or url), oldest
    first: the copy kept of an item two feeds carry is the earlier one."""
    fresh: dict[str, Article] = {}
    urls: set[str] = set()
    for a in sorted(articles, key=lambda a: a.published):
        if a.id in known or a.id in fresh or (a.url and (a.url in known or a.url in urls)):
            continue
        fresh[a.id] = a
        urls.add(a.url)
    return list(fresh.values())
