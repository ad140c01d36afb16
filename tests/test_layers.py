"""The house rule (README "Architecture"): imports only point down, and there is no
import cycle. Read from every module's source with ast, so a lazy import inside a
function counts as much as one at the top."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "esd"

# Higher layers may import lower ones, never the reverse. Packages of one layer are
# peers and do not import each other; a module may import anything in its own package.
LAYERS: list[tuple[str, ...]] = [
    ("esd.cli",),
    ("esd.app",),
    ("esd.render", "esd.delivery"),
    ("esd.connectors", "esd.segment", "esd.pipeline", "esd.outcomes"),
    ("esd.extractors",),
    ("esd.references", "esd.state"),
    ("esd.models", "esd.text", "esd.format", "esd.redact", "esd.config", "esd.defaults",
     "esd.cache", "esd.memory"),
    ("esd.retry", "esd.paging"),
    ("esd.errors",),
]
MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The esd modules `name` imports (a `from X import y` names X.y when it is a module)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def graph() -> dict[str, set[str]]:
    mods = modules()
    return {name: imports(name, path, set(mods)) for name, path in mods.items()}


def layer_of(name: str) -> tuple[int, str]:
    """(rank, package): rank 0 is the top layer."""
    for rank, packages in enumerate(LAYERS):
        for package in packages:
            if name == package or name.startswith(package + "."):
                return rank, package
    raise AssertionError(f"{name} is in no layer: add it to LAYERS (and to the README)")


def upward_edges(edges: dict[str, set[str]]) -> list[str]:
    bad = []
    for source, targets in edges.items():
        if source == "esd":
            continue
        rank, package = layer_of(source)
        for target in targets:
            if target == "esd":
                continue
            target_rank, target_package = layer_of(target)
            if target_package != package and target_rank <= rank:
                kind = "sideways" if target_rank == rank else "upward"
                bad.append(f"{source} -> {target} ({kind})")
    return sorted(bad)


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_every_module_belongs_to_a_layer():
    for name in modules():
        if name != "esd":
            layer_of(name)


def test_imports_only_point_down():
    assert upward_edges(graph()) == []


def test_there_is_no_import_cycle():
    assert cycles(graph()) == []


def test_no_module_is_over_the_size_limit():
    long = {name: n for name, path in modules().items()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


@pytest.mark.parametrize("edges, expected", [
    ({"esd.models": {"esd.pipeline.route"}}, ["esd.models -> esd.pipeline.route (upward)"]),
    ({"esd.segment.tiers": {"esd.pipeline.route"}},
     ["esd.segment.tiers -> esd.pipeline.route (sideways)"]),
    ({"esd.pipeline.act": {"esd.pipeline.route", "esd.references.schema"}}, []),
])
def test_the_checker_sees_upward_and_sideways_edges(edges, expected):
    assert upward_edges(edges) == expected


def test_the_checker_sees_a_cycle():
    edges = {"esd.a": {"esd.b"}, "esd.b": {"esd.c"}, "esd.c": {"esd.a"}, "esd.d": {"esd.a"}}
    assert cycles(edges) == [["esd.a", "esd.b", "esd.c"]]


def test_the_checker_reads_lazy_and_relative_imports(tmp_path):
    module = tmp_path / "mod.py"
    module.write_text("def f():\n    from esd.pipeline import route\n"
                      "from .text import squash\n", encoding="utf-8")
    known = {"esd.pipeline", "esd.pipeline.route", "esd.text"}
    assert imports("esd.format", module, known) == {"esd.pipeline.route", "esd.pipeline",
                                                    "esd.text"}


def test_connectors_import_only_the_base_layer():
    """Connectors map vendor answers to models; they know no reference file, state or
    extractor (stricter than the layer rule)."""
    base_rank = len(LAYERS) - 3  # the base layer and the two below it
    wrong = sorted(f"{source} -> {target}" for source, targets in graph().items()
                   if source.startswith("esd.connectors") for target in targets
                   if not target.startswith("esd.connectors") and layer_of(target)[0] < base_rank)
    assert wrong == []


def test_gainsight_health_imports_no_private_name():
    tree = ast.parse((PACKAGE / "connectors" / "gainsight_health.py").read_text())
    private = [a.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
               for a in node.names if a.name.startswith("_")]
    assert private == []
