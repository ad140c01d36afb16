"""Parse `3-action-library.md` (contract §4) into an ActionLibrary."""

from __future__ import annotations

import re
from pathlib import Path

from esd.references.markdown import backticked, clean_title, is_placeholder, parse_blocks, quoted
from esd.references.markdown import sections as md_sections
from esd.references.schema import ActionLibrary, ActionRow, ActionSection, Problem

# What counts as a named artifact next to a vague verb (contract §5.6).
ARTIFACT = re.compile(
    r"\b(meeting|call|walkthrough|workshop|demo|doc|docs|document|deck|checklist|"
    r"report|"
    r"one-pager|playbook|sheet|ticket|cta|thread|link|contact|admin|manager|owner|champion|"
    r"engineer|architect|buyer|sponsor|vp|cfo|cto|ciso|director)s?\b|https?://|\{link\}|\{name\}",
    re.IGNORECASE,
)


def is_vague(action: str, denylist: list[str]) -> bool:
    """True when the action uses a denylisted phrase and names no artifact."""
    lowered = action.lower()
    return any(d in lowered for d in denylist) and not ARTIFACT.search(action)

_SKU = re.compile(r"^sku\s*:\s*(?P<id>.+)$", re.IGNORECASE)


def parse_actions(path: Path, text: str | None = None) -> tuple[ActionLibrary, list[Problem]]:
    source = path.read_text(encoding="utf-8", errors="replace") if text is None else text
    problems: list[Problem] = []

    def problem(line: int, message: str) -> None:
        problems.append(Problem(file=str(path), line=line, message=message))

    library = ActionLibrary(path=path, sections={})
    for section in md_sections(parse_blocks(source)):
        m = _SKU.match(section.title)
        if m:
            sku_id = m.group("id").strip()
            if is_placeholder(sku_id):
                continue
            if sku_id in library.sections:
                problem(section.heading.line, f'SKU "{sku_id}" has two action sections')
                continue
            rows = _rows(sku_id, section.body, problem)
            library.sections[sku_id] = ActionSection(sku=sku_id, line=section.heading.line,
                                                     rows=rows)
        elif section.title.lower().startswith(("vague-language denylist", "vague language")):
            items = [b for b in section.body if b.kind == "item"]
            denylist = [v.lower() for b in items for v in backticked(b.text) if v]
            if items and not denylist:
                problem(items[0].line, "denylist items must be backticked, e.g. `follow up`")
            if denylist:
                library.denylist = denylist
    return library, problems


def _rows(sku_id: str, body, problem) -> list[ActionRow]:
    rows = [b for b in body if b.kind == "row"]
    header = next((r for r in rows if r.header), None)
    if header is None:
        return []
    columns = [clean_title(c).lower() for c in header.cells]
    trig = next((i for i, c in enumerate(columns) if "trigger" in c or "pattern" in c), None)
    act = next((i for i, c in enumerate(columns) if "action" in c), None)
    if trig is None or act is None:
        problem(header.line, f"action table for {sku_id} needs columns "
                "'Trigger pattern' and 'Next-best action'")
        return []
    out = []
    for row in rows:
        if row.header:
            continue
        cells = list(row.cells) + [""] * len(columns)
        pattern, cell = cells[trig].strip(), cells[act].strip()
        # The action is the quoted text; an unquoted cell is taken whole.
        texts = quoted(cell)
        action = " ".join(t.strip() for t in texts) if texts else cell
        if not action:
            problem(row.line, f"action row for {sku_id} has an empty action")
            continue
        out.append(ActionRow(trigger_pattern=pattern, action=action, line=row.line))
    return out
