"""One URL canonicalisation rule, shared by the feed parser (identity) and the story index."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit, urlunsplit

from bot.core.plaintext import normalise_space

# Query keys that only say how a reader arrived. Plain "ref" is kept: some sites use it
# for real content (e.g. a branch or a section), and a wrong merge is worse than a miss.
TRACKING_KEYS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "igshid",
        "mc_cid", "mc_eid", "_hsenc", "_hsmi", "mkt_tok", "ref_src", "ref_url", "cmpid",
        "ito", "ncid", "sr_share", "spm", "twclid", "ttclid", "si", "_ga", "oly_enc_id",
    }
)  # fmt: skip
_DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_url(url: str, base: str | None = None) -> str:
    """The form of a web URL used for identity and display.

    Resolved against `base`; scheme and host lowercased; default port, userinfo, fragment and
    tracking parameters (utm_*, fbclid, gclid, ...) removed; other query text kept byte for
    byte so the URL still works. Non-web URLs come back stripped but otherwise unchanged.
    """
    url = normalise_space(url)
    if base:
        try:
            url = urljoin(base, url)
        except ValueError:
            return url
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return url
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    return urlunsplit((scheme, host, parts.path or "/", _without_tracking(parts.query), ""))


def _without_tracking(query: str) -> str:
    kept = []
    for pair in query.split("&"):
        key = pair.split("=", 1)[0].lower()
        if pair and not key.startswith("utm_") and key not in TRACKING_KEYS:
            kept.append(pair)
    return "&".join(kept)


def url_key(url: str) -> str:
    """The canonical URL without scheme, `www.` and trailing `/`: the same page however linked."""
    canonical = canonical_url(url)
    parts = urlsplit(canonical)
    if not parts.netloc:
        return canonical
    host = parts.netloc.removeprefix("www.")
    path = parts.path.rstrip("/")
    return f"{host}{path}?{parts.query}" if parts.query else f"{host}{path}"
