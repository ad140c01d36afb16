"""The connectors' layering rule and size limit: esd/connectors/ imports only the base
layer (models, errors, format, retry, text, config, redact) and itself, and no module
in it passes 400 lines."""

from __future__ import annotations

import ast

from conftest import ROOT

ALLOWED = {"esd.models", "esd.errors", "esd.format", "esd.retry", "esd.text", "esd.config",
           "esd.redact"}
CONNECTORS = sorted((ROOT / "esd" / "connectors").glob("*.py"))


def esd_imports(path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + ([f"{node.module}.{a.name}" for a in node.names]
                                     if node.module == "esd" else [])
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found.update(n for n in names if n == "esd" or n.startswith("esd."))
    return found


def test_connectors_import_only_the_base_layer():
    assert len(CONNECTORS) > 10
    wrong = {path.name: sorted(m for m in esd_imports(path)
                               if m not in ALLOWED and not m.startswith("esd.connectors"))
             for path in CONNECTORS}
    assert {name: mods for name, mods in wrong.items() if mods} == {}


def test_no_connector_module_passes_400_lines():
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in CONNECTORS}
    assert {name: n for name, n in sizes.items() if n > 400} == {}


def test_gainsight_health_imports_no_private_name():
    tree = ast.parse((ROOT / "esd" / "connectors" / "gainsight_health.py").read_text())
    private = [a.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
               for a in node.names if a.name.startswith("_")]
    assert private == []
