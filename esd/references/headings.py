"""The strict half of `esd check` for the taxonomy (contract §4): headings esd does not
know, lists under a heading that is not `SKU: <id>`, and a `Last edited` that is not a
date. The parser is lenient and skips what it does not know; these findings say so,
with file:line and a "did you mean" where one fits, so a typo never makes a SKU or a
guard disappear silently.
"""

from __future__ import annotations

import difflib
import re

from esd.references.markdown import DATE, Block, Section, clean_title, is_placeholder

# The taxonomy's sections (their titles as the template writes them).
SECTIONS = ("Strong-signal cutoff", "SKU map", "Conditional-mention guard", "Negation cues",
            "Last edited")
SKU_HEADING = re.compile(r"^sku\s*:\s*(?P<id>.+)$", re.IGNORECASE)
# Sub-headings allowed under a section: its lists' labels.
SUB_LABELS = {
    "conditional-mention guard": ("Not conditional",),
    "negation cues": ("Before", "After"),
}


def known_section(title: str) -> str | None:
    """The section a heading opens (lenient: "Conditional mention guard (example)",
    "Last edited: 2026-11-16"), or None."""
    lowered = title.lower().replace("-", " ")
    return next((s for s in SECTIONS if lowered.startswith(s.lower().replace("-", " "))),
                None)


def suggest(text: str, options: list[str] | tuple[str, ...]) -> str:
    """' (did you mean "X"?)' for the closest of `options`, or ""."""
    by_lower = {o.lower(): o for o in options}
    close = difflib.get_close_matches(text.lower(), list(by_lower), n=1, cutoff=0.6)
    return f' (did you mean "{by_lower[close[0]]}"?)' if close else ""


def heading_findings(all_sections: list[Section], sku_labels: dict[str, str],
                     is_label, problem) -> None:
    """Report every heading of the taxonomy esd does not read. `sku_labels` are the SKU
    list labels (lower case); `is_label(text)` says whether a block opens one."""
    parents: list[Section] = []
    for index, section in enumerate(all_sections):
        level = section.heading.level
        while parents and parents[-1].heading.level >= level:
            parents.pop()
        parent = parents[-1] if parents else None
        parents.append(section)
        if index == 0 and level == 1:
            continue  # the document's title
        title = section.title
        if SKU_HEADING.match(title) or known_section(title):
            continue
        label = title.rstrip(":").strip()
        parent_title = parent.title if parent else ""
        if SKU_HEADING.match(parent_title):
            if label.lower() in sku_labels:
                continue
            options = sorted({k.capitalize() for k in sku_labels})
            problem(section.heading.line, f'unknown list heading "{title}" in SKU '
                    f'{SKU_HEADING.match(parent_title).group("id")}: esd does not read it as '
                    f"a list label{suggest(label, options)}")
            continue
        allowed = SUB_LABELS.get((known_section(parent_title) or "").lower(), ())
        if label.lower() in (a.lower() for a in allowed):
            continue
        problem(section.heading.line, _unknown(section, title, allowed, is_label))


def _unknown(section: Section, title: str, allowed: tuple[str, ...], is_label) -> str:
    sku = re.match(r"^sku\b[\s:.-]*(?P<id>\S.*)$", title, re.IGNORECASE)
    hint = f' (did you mean "SKU: {sku.group("id").strip()}"?)' if sku else \
        suggest(title, [*SECTIONS, *allowed])
    direct = _direct_body(section)
    labelled = next((b for b in direct if b.kind != "heading" and is_label(b.text)), None)
    if labelled is not None:
        name = clean_title(labelled.text.split(":")[0])
        return (f'labelled list "{name}" under heading "{title}", which is not '
                f'"SKU: <id>": esd ignores it and everything under it{hint}')
    return f'unknown heading "{title}": esd ignores everything under it{hint}'


def _direct_body(section: Section) -> list[Block]:
    out = []
    for block in section.body:
        if block.kind == "heading":
            break
        out.append(block)
    return out


def last_edited_finding(blocks: list[Block], problem) -> None:
    """A Last edited section holding neither a YYYY-MM-DD date nor the placeholder."""
    heading, body = blocks[0], blocks[1:]
    texts = [(heading.line, heading.text.split(":", 1)[1] if ":" in heading.text else ""),
             *((b.line, b.text) for b in body if b.kind != "heading")]
    if any(DATE.search(t) or is_placeholder(t) for _, t in texts):
        return
    line, text = next(((n, t) for n, t in texts if t.strip()), (heading.line, ""))
    shown = text.strip().splitlines()[0] if text.strip() else ""
    what = f'"{shown}" is not a date' if shown else "has no date"
    problem(line, f"Last edited {what}: write it as YYYY-MM-DD (e.g. 2026-11-16), or the "
            "staleness warning cannot see when the taxonomy was last edited")
