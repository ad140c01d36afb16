"""Secrets in URLs (contract §8) and Retry-After values (seconds or an HTTP date)."""

from __future__ import annotations

import pytest

from esd.redact import redact_text, redact_url
from esd.retry import retry_after_seconds


@pytest.mark.parametrize("url, shown", [
    ("postgresql://esd:s3cr%40t@db.example:5432/esd?sslmode=require",
     "postgresql://esd:***@db.example:5432/esd?sslmode=require"),
    ("https://bot:hunter22@slack.example/api/", "https://bot:***@slack.example/api/"),
    ("https://:only-a-password@host/", "https://:***@host/"),
    ("https://slack.com/api/", "https://slack.com/api/"),
    ("/var/lib/esd/state.db", "/var/lib/esd/state.db"),
])
def test_redact_url_masks_only_the_password(url, shown):
    assert redact_url(url) == shown


def test_redact_text_masks_every_url_password_in_a_sentence():
    text = "cannot reach postgresql://u:p4ss@h/db nor https://a:b-secret@x.example/"
    assert redact_text(text) == "cannot reach postgresql://u:***@h/db nor https://a:***@x.example/"


@pytest.mark.parametrize("value, seconds", [
    ("3600", 3600.0), (" 2 ", 2.0), ("0", 0.0),
    ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # a date in the past: no wait
    ("soon", None), ("nan", None), ("inf", None), ("-5", None), ("1e9", None), ("", None),
    (None, None),
])
def test_retry_after_is_whole_seconds_or_an_http_date(value, seconds):
    assert retry_after_seconds(value) == seconds


def test_retry_after_date_counts_from_now():
    assert retry_after_seconds("Wed, 21 Oct 2015 07:29:00 GMT", now=1445412480.0) == 60.0
