"""`esd check`: findings that do not stop a run but should stop a CS-Ops lead
(contract §4): SKUs without actions, vague actions, segments without baselines, and
multi-team SKUs of 4-segmentation.md that the taxonomy does not define."""

from __future__ import annotations

import re
from pathlib import Path

from esd.models import Account
from esd.references.actions import is_vague
from esd.references.phrases import MARKERS
from esd.references.schema import Problem, References


def lint(refs: References, accounts: list[Account] | None = None,
         accounts_file: Path | None = None) -> list[Problem]:
    tax, actions = refs.taxonomy, refs.actions
    found: list[Problem] = list(tax.findings)  # unknown headings, a Last edited not a date
    for sku in tax.skus:
        section = actions.sections.get(sku.id)
        if section is None or not section.rows:
            where = (section.line if section else 1)
            path = actions.path
            found.append(Problem(file=str(path), line=where, message=(
                f"SKU {sku.id} (taxonomy line {sku.line}) has no action rows: every strong "
                "signal for it will say 'needs human review'")))
        if not sku.call_triggers and not sku.usage_triggers and not sku.ticket_tags \
                and not sku.ticket_subjects:
            found.append(Problem(file=str(tax.path), line=sku.line,
                                 message=f"SKU {sku.id} has no triggers at all"))
        for phrase in sku.call_triggers:
            literal = re.findall(r"\w+", " ".join(p.text for p in phrase.parts if p.kind == "lit"))
            marker = next((m for m in MARKERS if _has_words(literal, m.split())), None)
            if marker:
                found.append(Problem(file=str(tax.path), line=phrase.line, message=(
                    f'call trigger "{phrase.text}" contains the conditional marker "{marker}": '
                    "every match will be classified not_signal (conditional)")))
    known = {s.id for s in tax.skus}
    for sku_id, section in actions.sections.items():
        if sku_id not in known:
            found.append(Problem(file=str(actions.path), line=section.line, message=(
                f"action section for SKU {sku_id}, which the taxonomy does not define")))
        for row in section.rows:
            if is_vague(row.action, actions.denylist):
                found.append(Problem(file=str(actions.path), line=row.line, message=(
                    f'action "{row.action}" uses vague language without naming an artifact '
                    "(a meeting, call, doc, deck, checklist, report, ticket, CTA, thread, "
                    "person or link): it will be replaced by 'needs human review'")))
    seg = refs.segmentation  # without 4-segmentation.md, the seed's SKU is not the team's
    for sku_id in seg.multi_team_skus if seg.path else []:
        if sku_id not in known:
            found.append(Problem(
                file=str(seg.path), line=seg.lines.get("multi_team_skus", 0), message=(
                    f"multi-team SKU {sku_id} is not in the taxonomy: the multi-team factor "
                    "of expansion potential can never count it")))
    if accounts is not None:
        missing: dict[str, int] = {}
        for i, account in unknown_segments(accounts, refs):
            missing.setdefault(account.segment, i)
        for segment, index in missing.items():
            found.append(Problem(file=str(accounts_file), line=0, message=(
                f'record [{index}]: field segment: segment "{segment}" has no baseline section '
                f"in {refs.baselines.path.name} (its usage events are kept unfiltered)")))
    return found


def unknown_segments(accounts: list[Account], refs: References,
                     ) -> list[tuple[int, Account]]:
    """(index, account) of each account whose segment has no section in the baseline
    file: a lint finding for esd check, bad input for esd segment."""
    return [(i, a) for i, a in enumerate(accounts)
            if a.segment.lower() not in refs.baselines.segments]


def _has_words(words: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return any(words[i:i + n] == needle for i in range(len(words) - n + 1))
