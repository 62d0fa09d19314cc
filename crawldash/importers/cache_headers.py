"""The CDN cache result of one response, from the headers CDNs and proxies send.

Headers are looked at in this order, the first one present wins (names are case-insensitive):
CF-Cache-Status (Cloudflare), X-Cache (Fastly, CloudFront, Varnish, Akamai, Squid), X-Cache-Status
(nginx), x-vercel-cache (Vercel), Cache-Status (RFC 9211). A header holding several tiers keeps
the tier nearest the client: the last one. Values become SPEC's vocabulary (HIT, MISS, EXPIRED,
STALE, REVALIDATED, BYPASS, ...): "Hit from cloudfront" is HIT, Akamai's "TCP_REFRESH_HIT" is
REVALIDATED.

>>> cache_status({"x-cache": "MISS, HIT"})
'HIT'
>>> cache_status({"cache-status": '"Fastly"; hit, "CDN"; fwd=miss'})
'MISS'
>>> cache_status({"x-cache": "RefreshHit from cloudfront"})
'REVALIDATED'
"""

from __future__ import annotations

import re
from collections.abc import Mapping

#: Cache headers, lower case, in the order they are consulted.
CACHE_HEADERS = ("cf-cache-status", "x-cache", "x-cache-status", "x-vercel-cache", "cache-status")

#: Other spellings of SPEC's cache statuses (CloudFront, Akamai, Squid), upper case, prefix removed.
_ALIASES = {
    "REFRESHHIT": "REVALIDATED",  # CloudFront: expired, revalidated with the origin (304)
    "REFRESH_HIT": "REVALIDATED",  # Akamai TCP_REFRESH_HIT
    "REFRESH_MISS": "EXPIRED",  # Akamai: expired and fetched again
    "MEM_HIT": "HIT",  # Akamai: from memory
    "IMS_HIT": "HIT",  # Akamai: If-Modified-Since answered from cache
    "NEGATIVE_HIT": "HIT",  # Akamai/Squid: a cached error
    "REFRESH_FAIL_HIT": "STALE",  # Akamai: origin failed, stale copy served
}
#: RFC 9211 `fwd` values: why the cache went to the next hop.
_FORWARDED = {
    "bypass": "BYPASS",
    "method": "BYPASS",
    "request": "BYPASS",
    "uri-miss": "MISS",
    "vary-miss": "MISS",
    "miss": "MISS",
    "partial": "MISS",
}
_FROM = re.compile(r"\s+FROM\s.*$", re.IGNORECASE | re.DOTALL)


def cache_status(headers: Mapping[str, str]) -> str | None:
    """The cache result the headers (keyed by lower-case name) report, or None when none does."""
    for name in CACHE_HEADERS:
        value = headers.get(name)
        if value is None or not str(value).strip():
            continue
        return rfc9211_status(value) if name == "cache-status" else tier_status(value)
    return None


def tier_status(value: str) -> str | None:
    """The last tier of a comma-joined cache header, in SPEC's vocabulary.

    >>> tier_status("HIT, MISS"), tier_status("TCP_MISS from a23-45-67-89 (AkamaiGHost)"), tier_status(" ")
    ('MISS', 'MISS', None)
    """
    tier = _FROM.sub("", value.split(",")[-1].strip().strip('"')).strip().upper()
    tier = tier.removeprefix("TCP_")
    return _ALIASES.get(tier, tier) or None


def rfc9211_status(value: str) -> str | None:
    """The result of the cache nearest the client (the last member) of an RFC 9211 Cache-Status.

    `hit` is HIT (STALE when its ttl is negative); `fwd=stale` is REVALIDATED when the origin
    answered 304, else EXPIRED; `fwd=uri-miss|vary-miss|miss|partial` is MISS; `fwd=bypass|method|
    request` is BYPASS. A member with neither `hit` nor `fwd` says nothing: None.

    >>> rfc9211_status('ExampleCache; hit; ttl=-30'), rfc9211_status('"CDN"; fwd=stale; fwd-status=304')
    ('STALE', 'REVALIDATED')
    >>> rfc9211_status('"Origin"; fwd=uri-miss; stored, "Edge, EU"; hit; ttl=376')
    'HIT'
    """
    members = [m for m in _split(value, ",") if m.strip()]
    if not members:
        return None
    params: dict[str, str | bool] = {}
    for part in _split(members[-1], ";")[1:]:
        key, equals, raw = part.partition("=")
        params[key.strip().lower()] = raw.strip().strip('"') if equals else True
    hit = params.get("hit")
    if hit is True or hit == "?1":
        ttl = params.get("ttl")
        return "STALE" if isinstance(ttl, str) and ttl.lstrip("-").isdigit() and int(ttl) < 0 else "HIT"
    fwd = params.get("fwd")
    if isinstance(fwd, str) and fwd:
        fwd = fwd.lower()
        if fwd == "stale":
            return "REVALIDATED" if params.get("fwd-status") == "304" else "EXPIRED"
        return _FORWARDED.get(fwd, fwd.upper())
    return None


def _split(text: str, separator: str) -> list[str]:
    """Split on a separator outside double-quoted strings (which may hold it, and backslash escapes)."""
    parts, current, quoted, escaped = [], [], False, False
    for char in text:
        if escaped:
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == separator and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts
