"""Keep credentials out of every log line, whatever the verbosity.

The HTTP layer never logs headers, URLs with queries or bodies; this filter is the
second line: it masks the value of every credential variable of the environment, and
the password of every URL's user-info, in any record that reaches esd's log handler
(and the third-party loggers the CLI holds at WARNING).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

SECRET_VARIABLES = (
    "GONG_API_KEY", "GONG_ACCESS_KEY", "GONG_ACCESS_KEY_SECRET", "GAINSIGHT_TOKEN",
    "ZENDESK_API_TOKEN", "ZENDESK_OAUTH_TOKEN", "INTERCOM_ACCESS_TOKEN",
    "HELPSCOUT_APP_ID", "HELPSCOUT_APP_SECRET", "SLACK_BOT_TOKEN", "ANTHROPIC_API_KEY",
)
MASK = "***"
_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^/@\s:]*):(?P<pw>[^/@\s]*)@")


def redact_url(url: str) -> str:
    """`url` with the password of its user-info masked (`postgresql://esd:***@db/esd`,
    `https://bot:***@slack.example/api/`); other URLs unchanged."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact_text(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    netloc = f"{parts.username or ''}:{MASK}@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def redact_text(text: str) -> str:
    """Every `scheme://user:password@` in free text with the password masked."""
    return _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)


class SecretFilter(logging.Filter):
    def __init__(self, env: Mapping[str, str]) -> None:
        super().__init__()
        values = [env[v] for v in SECRET_VARIABLES if env.get(v)]
        # GONG_API_KEY is "key:secret": mask both halves too.
        values += [part for v in values for part in v.split(":") if len(part) >= 6]
        self._secrets = sorted({v for v in values if len(v) >= 6}, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        """`text` with every credential value and every URL password masked."""
        for value in self._secrets:
            text = text.replace(value, MASK)
        return redact_text(text)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.scrub(record.getMessage())
        record.args = ()
        if record.exc_info and record.exc_info[1] is not None:
            # A traceback can carry a URL or a value: keep its one-line summary only.
            record.msg += f" ({type(record.exc_info[1]).__name__}: " \
                          f"{self.scrub(str(record.exc_info[1]))})"
            record.exc_info, record.exc_text = None, None
        return True


class LibraryFilter(logging.Filter):
    """Drops records below WARNING written by code inside `packages` (slack-sdk, httpx,
    httpcore, anthropic), whatever logger they go to: slack-sdk's WebClient logs every
    request body and response to the logger it is given, which may be one of esd's."""

    def __init__(self, packages: tuple[str, ...]) -> None:
        super().__init__()
        self._dirs = tuple(f"{os.sep}{name}{os.sep}" for name in packages)

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or not any(
            d in (record.pathname or "") for d in self._dirs)
