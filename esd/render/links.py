"""Links from a digest's quote to the call it was said on (issue 17, part 7).

Gong gives every call a page in its web app, `metaData.url` of the call
(../shared/api-notes.md §1: `https://app.gong.io/call?id=7782342274025937895`; a tenant
may have its own subdomain of gong.io). The digest links a quote's call id there.

That URL comes from a source, so it is handled as hostile: only an `https` URL on a
host of the source's (gong.io or a subdomain of it), with no user-info or port but 443,
written with the characters a call page's URL needs, is linked. Anything else
(`javascript:`, `http:`, another host, a `|`, `>`, `<`, `)`, quote or space that could
end or bend a Markdown or Slack link) is not linked: the call id is shown as text, as
before. The digest writes the link after the closing quote mark, so Slack's mrkdwn
conversion turns it into `<url|id>` (esd.delivery.mrkdwn never links inside the quote).

Gong documents no time parameter for a call page (its Library API's example URL
carries an undocumented `highlights` query), so the link opens the call, not the
moment of the quote, even where the utterance's `start_ms` is known.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from urllib.parse import urlsplit

from esd.models import Call

CALL_URL_HOSTS = ("gong.io",)  # each host and its subdomains (us-12345.app.gong.io)
MAX_URL = 2_000
# Scheme, host (no user-info), optional :443, then only unreserved characters and the
# delimiters of a path, query and fragment: nothing that ends a Markdown link `)`, a
# Slack link `|` `>`, escapes `\`, quotes or breaks a line.
_SAFE = re.compile(r"https://[A-Za-z0-9.-]+(?::443)?(?:[/?#][A-Za-z0-9\-._~/?#=&%+:]*)?")


def safe_call_url(url: str | None, hosts: Collection[str] = CALL_URL_HOSTS) -> str | None:
    """`url` when it is safe to link from a digest (see the module docstring), else None."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    if len(url) > MAX_URL or not _SAFE.fullmatch(url):
        return None
    host = (urlsplit(url).hostname or "").lower()
    if not any(host == h or host.endswith("." + h) for h in hosts):
        return None
    return url


def call_urls(calls: Iterable[Call], wanted: Collection[str]) -> dict[str, str]:
    """call id -> safe URL of its page, for the calls in `wanted` that have one. Two
    calls sharing an id with different URLs get no link (which one was quoted?)."""
    found: dict[str, str] = {}
    clash: set[str] = set()
    for call in calls:
        if call.call_id not in wanted or (url := safe_call_url(call.url)) is None:
            continue
        if found.setdefault(call.call_id, url) != url:
            clash.add(call.call_id)
    return {call_id: url for call_id, url in found.items() if call_id not in clash}
