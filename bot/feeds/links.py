"""WebSub discovery: the hub and self links of a feed, from HTTP `Link` headers and the feed.

Rule order (W3C WebSub §4): `Link` headers first, then the document's own links, each link
type taken from the first place that has it. Only http(s) URLs count; a relative one is
resolved against the URL the feed was fetched from.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urljoin

_LINK = re.compile(r"<([^>]*)>((?:\s*;\s*[^;,]+)*)")
_REL = re.compile(r"""\brel\s*=\s*(?:"([^"]*)"|([^\s;,"]+))""", re.IGNORECASE)


def header_links(headers: Mapping[str, str], base: str) -> dict[str, str]:
    """{"hub": url, "self": url} as far as the `Link` headers name them."""
    values = headers.getall("link", []) if hasattr(headers, "getall") else []
    if not values and headers.get("link"):
        values = [headers["link"]]
    found: dict[str, str] = {}
    for value in values:
        for target, params in _LINK.findall(value):
            rel = _REL.search(params)
            rels = (rel.group(1) or rel.group(2)).lower().split() if rel else []
            for kind in ("hub", "self"):
                if kind in rels:
                    _keep(found, kind, urljoin(base, target.strip()))
    return found


def websub_links(
    headers: Mapping[str, str], base: str, hub: str | None, self_url: str | None
) -> tuple[str | None, str | None]:
    """(hub, topic): the headers' links first, the feed's (`hub`, `self_url`) second. The
    topic falls back to `base`, the URL the feed was read from, when a hub is named."""
    found = header_links(headers, base)
    for kind, value in (("hub", hub), ("self", self_url)):
        if value:
            _keep(found, kind, urljoin(base, value))
    chosen = found.get("hub")
    return chosen, (found.get("self", base) if chosen else None)


def _keep(found: dict[str, str], kind: str, url: str) -> None:
    if url.lower().startswith(("http://", "https://")):
        found.setdefault(kind, url)
