"""Parse `1-expansion-signal-taxonomy.md` (contract §4) into a Taxonomy."""

from __future__ import annotations

import hashlib
import re
from datetime import date
from pathlib import Path

from esd.references.headings import heading_findings, last_edited_finding, suggest
from esd.references.markdown import (
    Block,
    Section,
    backticked,
    clean_title,
    is_placeholder,
    parse_blocks,
    quoted,
    sections,
    unbalanced_quotes,
)
from esd.references.markdown import (
    last_edited as last_edited_in,
)
from esd.references.phrases import parse_phrase
from esd.references.schema import Phrase, Problem, Sku, Taxonomy, UsageTrigger

LABELS = {
    "call triggers": "call",
    "call trigger": "call",
    "usage triggers": "usage",
    "usage trigger": "usage",
    "ticket triggers": "ticket",
    "ticket trigger": "ticket",
    "negative-example phrases": "negative",
    "negative example phrases": "negative",
    "negative examples": "negative",
    "negative-examples": "negative",
}
_BOLD_LABEL = re.compile(
    r"^\s*(\*\*|__)(?P<label>[^*_]+?)(\*\*|__)\s*:?\s*[—–-]?\s*(?P<rest>.*)$", re.S)
_PLAIN_LABEL = re.compile(r"^\s*(?P<label>[A-Za-z -]+?)\s*:\s*(?P<rest>.*)$", re.S)
_SKU_HEADING = re.compile(r"^sku\s*:\s*(?P<id>.+)$", re.IGNORECASE)
_FEATURES = re.compile(r"\bfor\s+(?P<items>.+?)\s+features?\b", re.IGNORECASE | re.S)
_TAGS = re.compile(r"^\s*tags?\s+(?:include|includes|contain|contains|match|matches)\b", re.I)
_SUBJECT = re.compile(r"^\s*subject\s+(?:matches|match|contains|contain|includes)\b", re.I)


def parse_taxonomy(path: Path, text: str | None = None) -> tuple[Taxonomy, list[Problem]]:
    """The taxonomy and every problem found, each with its line."""
    raw = path.read_bytes() if text is None else text.encode()
    source = raw.decode("utf-8", errors="replace")
    problems: list[Problem] = []
    findings: list[Problem] = []

    def problem(line: int, message: str) -> None:
        problems.append(Problem(file=str(path), line=line, message=message))

    def finding(line: int, message: str) -> None:
        findings.append(Problem(file=str(path), line=line, message=message))

    skus: list[Sku] = []
    conditional: list[Phrase] = []
    lists: dict[str, list[Phrase]] = {}  # not_conditional, before, after: as written
    last_edited: date | None = None
    all_sections = sections(parse_blocks(source))
    heading_findings(all_sections, set(LABELS), lambda t: _label(t)[0] is not None, finding)
    for section in all_sections:
        title = section.title
        sku_match = _SKU_HEADING.match(title)
        lowered = title.lower()
        if sku_match:
            sku_id = sku_match.group("id").strip()
            if is_placeholder(sku_id):
                continue
            if " " in sku_id:
                problem(section.heading.line, f'SKU id "{sku_id}" must be one word (use - or _)')
                continue
            if any(s.id == sku_id for s in skus):
                problem(section.heading.line, f'SKU "{sku_id}" is defined twice')
                continue
            skus.append(_parse_sku(sku_id, section.heading.line, section.body, problem))
        elif lowered.startswith(("conditional-mention guard", "conditional mention guard")):
            found = _labelled(section, GUARD_LABELS, "guard", problem)
            conditional.extend(found.pop("guard", []))
            lists |= found
        elif lowered.startswith("negation cues"):
            lists |= _labelled(section, NEGATION_LABELS, None, problem)
        elif lowered.startswith("last edited"):
            last_edited = last_edited_in([section.heading, *section.body], problem)
            if last_edited is None:
                last_edited_finding([section.heading, *section.body], finding)

    if not skus:
        problem(1, 'no SKU sections found (expected headings like "### SKU: enterprise-tier")')
    taxonomy = Taxonomy(
        path=path,
        sha256=hashlib.sha256(raw).hexdigest(),
        skus=skus,
        conditional_patterns=conditional,
        not_conditional=lists.get("not_conditional"),
        negation_before=lists.get("before"),
        negation_after=lists.get("after"),
        last_edited=last_edited,
        findings=findings,
    )
    return taxonomy, problems


GUARD_LABELS = {"not conditional": "not_conditional", "not-conditional": "not_conditional"}
NEGATION_LABELS = {"before": "before", "after": "after", "before the match": "before",
                   "after the match": "after"}


def _labelled(section: Section, labels: dict[str, str], default: str | None,
              problem) -> dict[str, list[Phrase]]:
    """The quoted phrases of a section, by list: an item labelled `**Before**:` (or a
    sub-heading `Before`) opens that list, and its nested items belong to it; an item
    back at the label's depth returns to `default` (None: an item must be labelled)."""
    out: dict[str, list[Phrase]] = {}
    current, depth = default, -1
    where = section.title
    for block in section.body:
        if block.kind == "heading":
            title = clean_title(block.text).rstrip(":").strip().lower()
            current, depth = labels.get(title, current), -1
            continue
        if block.kind not in ("item", "para"):
            continue
        name, rest = _section_label(block.text, labels)
        if name is None and _looks_like_label(block.text):
            bad = clean_title(block.text.split(":")[0])
            names = _names(labels)
            problem(block.line, f'unknown list label "{bad}" in {where} (expected '
                    f'{" or ".join(names)}){suggest(bad, names)}')
            current, depth = None, block.level
            continue
        if name is not None:
            current, depth = name, block.level
            out.setdefault(name, [])
            if not rest.strip():
                continue
            block = Block(block.kind, block.line, rest, block.level)
        elif block.kind == "para":
            continue  # prose for humans
        elif depth >= 0 and block.level <= depth:
            current, depth = default, -1
        if current is None:
            if default is None:
                problem(block.line, f"list item in {where} is not under a label "
                        f"({' or '.join(_names(labels))})")
            continue
        out.setdefault(current, []).extend(_phrases(block, problem))
    return out


def _names(labels: dict[str, str]) -> list[str]:
    """One display name per list: its shortest label."""
    best: dict[str, str] = {}
    for key, value in labels.items():
        if value not in best or len(key) < len(best[value]):
            best[value] = key
    return sorted(k.capitalize() for k in best.values())


def _section_label(text: str, labels: dict[str, str]) -> tuple[str | None, str]:
    for pattern in (_BOLD_LABEL, _PLAIN_LABEL):
        m = pattern.match(text)
        if m and m.group("label").strip().lower() in labels:
            return labels[m.group("label").strip().lower()], m.group("rest")
    return None, text


def _parse_sku(sku_id: str, line: int, body: list[Block], problem) -> Sku:
    sku = Sku(id=sku_id, line=line)
    label: str | None = None
    for block in body:
        if block.kind == "row":
            continue
        if block.kind == "heading":  # a sub-heading may name the list that follows
            title = clean_title(block.text).rstrip(":").strip().lower()
            label = LABELS.get(title, _label(block.text)[0]) or label
            continue
        found, rest = _label(block.text)
        if found is None and _looks_like_label(block.text):
            bad = clean_title(block.text.split(":")[0])
            problem(block.line, f'unknown list label "{bad}" in SKU {sku_id} '
                    "(expected Call triggers, Usage triggers, Ticket triggers "
                    "or Negative-example phrases)")
            label = None
            continue
        if found:
            label = found
            if not rest.strip():
                continue
            block = Block(block.kind, block.line, rest, block.level)
        elif block.kind == "para":
            continue  # prose for humans
        if label is None:
            problem(block.line, f"list item in SKU {sku_id} is not under a label "
                    "(Call triggers, Usage triggers, Ticket triggers, Negative-example phrases)")
            continue
        if label == "call":
            sku.call_triggers.extend(_phrases(block, problem))
        elif label == "negative":
            sku.negatives.extend(_phrases(block, problem))
        elif label == "usage":
            trigger = _usage_trigger(block, problem)
            if trigger:
                sku.usage_triggers.append(trigger)
        elif label == "ticket":
            _ticket_trigger(block, sku, problem)
    return sku


def _label(text: str) -> tuple[str | None, str]:
    for pattern in (_BOLD_LABEL, _PLAIN_LABEL):
        m = pattern.match(text)
        if m and m.group("label").strip().lower() in LABELS:
            return LABELS[m.group("label").strip().lower()], m.group("rest")
    return None, text


def _looks_like_label(text: str) -> bool:
    m = _BOLD_LABEL.match(text)
    return bool(m) and '"' not in m.group("label") and "`" not in m.group("label")


def _phrases(block: Block, problem) -> list[Phrase]:
    if unbalanced_quotes(block.text):
        problem(block.line, f"unbalanced double quote in: {block.text.strip()}")
        return []
    found = quoted(block.text)
    if not found:
        problem(block.line, f'no double-quoted phrase in: {block.text.strip()}')
        return []
    phrases = []
    for text in found:
        result = parse_phrase(text, block.line)
        if isinstance(result, str):
            problem(block.line, result)
        else:
            phrases.append(result)
    return phrases


def _usage_trigger(block: Block, problem) -> UsageTrigger | None:
    text = block.text.strip()
    names = backticked(text)
    if not text.startswith("`") or not names or not names[0]:
        problem(block.line, f"usage trigger must start with a backticked event type: {text}")
        return None
    features: list[str] = []
    after = text.split("`", 2)[2] if text.count("`") >= 2 else ""
    m = _FEATURES.search(after)
    if m:
        items = re.split(r",|\bor\b|\band\b", m.group("items"))
        features = [i.strip().strip("`").strip().lower() for i in items]
        features = [f for f in features if f]
    return UsageTrigger(event_type=names[0], features=features, line=block.line)


def _ticket_trigger(block: Block, sku: Sku, problem) -> None:
    text = block.text.strip()
    values = [v.lower() for v in backticked(text) if v]
    if _TAGS.match(text) and values:
        sku.ticket_tags.extend(values)
    elif _SUBJECT.match(text) and values:
        sku.ticket_subjects.extend(values)
    else:
        problem(block.line, "ticket trigger must read 'tags include `a`, `b`' or "
                f"'subject contains `a`, `b`': {text}")
        if block.kind != "heading" and is_placeholder(text):
            return None
    return None
