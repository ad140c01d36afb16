"""What every data-reading command starts with: the reference files, the data (input
files or live sources) and the extractor the options ask for."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from esd.app.settings import Settings
from esd.connectors.files import load_portfolio
from esd.errors import InputError
from esd.extractors.base import Extractor
from esd.extractors.rules import RuleExtractor
from esd.models import Call, Portfolio
from esd.references import load_references
from esd.references.schema import References

if TYPE_CHECKING:
    from esd.state import State


def live():
    """The live connectors, imported only when a command reads them: a run from files
    starts ~0.2 s faster without httpx, tenacity and five vendor modules."""
    from esd.connectors import live as module

    return module


def load_inputs(settings: Settings, on_source: Callable[[str], None] | None = None,
                segmentation_required: bool = True, rules: bool = False,
                ) -> tuple[Portfolio, References]:
    """Reference files first (cheap, and a broken one is the likelier mistake), then the
    data: the input files of --input-dir, else the live sources. The digests only borrow
    labels from 4-segmentation.md, so they pass `segmentation_required=False`; a caller
    that reads text with the rule extractor whatever --extractor says passes `rules`."""
    refs = load_references(settings.references, segmentation_required)
    if settings.input_dir is not None:
        slim = slimmer(refs) if rules else slim_for(settings, refs)
        return load_portfolio(settings.input_dir, slim), refs
    return live().pull(settings.env, settings.toml, settings.window, on_source).portfolio, refs


def slim_for(settings: Settings, refs: References) -> Callable[[Call], Call] | None:
    """With the rule extractor, each call is slimmed as it is read: only the utterances
    the extractor can find a trigger in are kept, so a large week streams (issue 16)."""
    try:
        if wants_claude(settings):
            return None  # the prefilter reads every customer sentence
    except InputError:
        return None  # a bad --extractor is reported where it always was
    return slimmer(refs)


def slimmer(refs: References) -> Callable[[Call], Call]:
    """What a run reading text with the rule extractor keeps of each call it reads."""
    return RuleExtractor(refs.taxonomy).slim


def wants_claude(settings: Settings) -> bool:
    """`--extractor claude`, or `auto` with ANTHROPIC_API_KEY set."""
    choice = settings.extraction.extractor
    if choice not in ("rules", "claude", "auto"):
        raise InputError(f"--extractor {choice}: choose rules, claude or auto",
                         field="--extractor")
    return choice == "claude" or (choice == "auto" and bool(settings.env.get(
        "ANTHROPIC_API_KEY")))


@contextmanager
def extractor_for(settings: Settings, refs: References, state: State | None = None,
                  create_state: bool = True) -> Iterator[Extractor | None]:
    """The extractor the options ask for: None means the rule extractor. Claude caches
    its answers in the state database (`state`, else ESD_STATE, opened for the run;
    with `create_state` False a missing SQLite file is not created: no cache then)."""
    if not wants_claude(settings):
        yield None
        return
    from esd.extractors.claude.extractor import MemoryCache
    from esd.extractors.claude.factory import claude_extractor
    from esd.state import DEFAULT_PATH as DEFAULT_STATE
    from esd.state import State

    target = settings.env.get("ESD_STATE") or DEFAULT_STATE
    own = state is None and (create_state or "://" in target or Path(target).exists())
    store = State.open(target) if own else state
    try:
        extractor = claude_extractor(settings.extraction, refs.taxonomy, settings.env,
                                     settings.toml, cache=store or MemoryCache())
        try:
            yield extractor
        finally:
            extractor.close()
    finally:
        if own:
            store.close()


def display_path(path: Path) -> str:
    """`path` relative to the working directory when it lies below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
