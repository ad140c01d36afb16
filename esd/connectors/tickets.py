"""Ticket text shared by the ticket connectors (Zendesk, Intercom, Help Scout).

Contract §8 "Ticket text": `body_summary` is the first customer message with HTML
removed and whitespace collapsed, at most 2,000 characters.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

BODY_LIMIT = 2000

# Tags whose text never reaches a reader.
_HIDDEN = frozenset({"script", "style", "head", "title", "template"})
# Tags that separate words: "<p>one</p><p>two</p>" reads "one two", not "onetwo".
_BREAKS = frozenset({
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt",
    "figcaption", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li",
    "ol", "p", "pre", "section", "table", "td", "th", "tr", "ul",
})
_SPACE = re.compile(r"\s+")


class _TextOf(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)  # entities arrive unescaped
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in _HIDDEN:
            self._hidden += 1
        elif tag in _BREAKS:
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs) -> None:
        if tag in _BREAKS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BREAKS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def ticket_text(html_or_text: str | None, limit: int = BODY_LIMIT) -> str:
    """Plain text of a ticket body: tags stripped, entities unescaped, whitespace
    collapsed to single spaces, at most `limit` characters.

    A cut that would split a word backs off to the previous space, so a truncated
    body never ends in half a word (which the phrase matcher could misread).
    """
    if not html_or_text:
        return ""
    parser = _TextOf()
    parser.feed(html_or_text)
    parser.close()
    text = _SPACE.sub(" ", "".join(parser.parts)).strip()
    if len(text) <= limit:
        return text
    cut = text[:limit]
    if text[limit] != " " and " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip()
