"""What esd caches (esd.cache): compiled digest templates (Jinja's bytecode cache,
esd.render.digest._QuietCache) and parsed reference blocks. A cached entry gives what a
fresh compile or parse gives, an edit is compiled or parsed anew, and a cache that
cannot be written or read, or a folder that is not private, only costs the work."""

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import jinja2.bccache
import pytest

from esd import cache
from esd.references import markdown
from esd.render import digest


@pytest.fixture
def tmp_root(tmp_path, monkeypatch) -> Iterator[Path]:
    """The system's temporary folder, for this test only (Jinja puts its cache there)."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    cache.folder.cache_clear()
    yield root
    cache.folder.cache_clear()


def _render(templates: Path, **context) -> str:
    return digest.environment(templates).get_template("digest.md.j2").render(**context)


def test_second_render_loads_the_cached_template(tmp_root, tmp_path, monkeypatch) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "digest.md.j2").write_text("Hello {{ name | oneline }}\n", encoding="utf-8")
    assert _render(templates, name="Ada") == "Hello Ada\n"
    cached = list(tmp_root.glob("esd-cache-*/__jinja2_*.cache"))
    assert len(cached) == 1

    compiled = []
    real = digest.Environment.compile
    monkeypatch.setattr(digest.Environment, "compile",
                        lambda self, *a, **k: compiled.append(1) or real(self, *a, **k))
    assert _render(templates, name="Grace") == "Hello Grace\n"
    assert compiled == []  # loaded from the cache

    (templates / "digest.md.j2").write_text("Bye {{ name }}\n", encoding="utf-8")
    assert _render(templates, name="Ada") == "Bye Ada\n"
    assert compiled == [1]  # the edit changed the checksum: compiled again


def test_broken_cache_only_costs_a_compile(tmp_root, tmp_path, monkeypatch) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "digest.md.j2").write_text("{{ 1 + 1 }}\n", encoding="utf-8")
    assert _render(templates) == "2\n"
    (entry,) = tmp_root.glob("esd-cache-*/__jinja2_*.cache")
    entry.write_bytes(entry.read_bytes()[:20])  # truncated by a full disk, say
    assert _render(templates) == "2\n"
    entry.unlink()

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(jinja2.bccache.tempfile, "NamedTemporaryFile", full_disk)
    assert _render(templates) == "2\n"
    assert not list(entry.parent.iterdir())


def test_unsafe_temporary_folder_means_no_cache(tmp_root, tmp_path) -> None:
    (tmp_root / f"esd-cache-{os.getuid()}").symlink_to(tmp_path)  # not a private folder
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "digest.md.j2").write_text("ok\n", encoding="utf-8")
    assert digest.environment(templates).bytecode_cache is None
    assert _render(templates) == "ok\n"
    assert cache.folder() is None
    assert markdown.parse_blocks("# Title\n") == [markdown.Block("heading", 1, "Title", 1)]
    assert not list(tmp_path.glob("blocks-*"))  # nothing written through the link


def test_reference_blocks_come_from_the_cache(tmp_root, monkeypatch) -> None:
    text = "# SKU: sso\n\n- **Call triggers**:\n  - \"we need SSO\"\n"
    first = markdown.parse_blocks(text)
    (entry,) = tmp_root.glob("esd-cache-*/blocks-*.json")
    assert [b[2] for b in json.loads(entry.read_text())] == [b.text for b in first]

    def no_parse(_text):
        raise AssertionError("parsed again")

    monkeypatch.setattr(markdown, "_parse", no_parse)
    assert markdown.parse_blocks(text) == first  # from the cache
    assert markdown.parse_blocks(text.replace("\n", "\r\n")) == first  # same lines
    with pytest.raises(AssertionError, match="parsed again"):
        markdown.parse_blocks(text + "- another\n")  # an edit is parsed
    monkeypatch.undo()
    entry.write_text('{"not": "blocks"}')  # foreign or damaged: parsed again
    assert markdown.parse_blocks(text) == first
    assert json.loads(entry.read_text()) != {"not": "blocks"}


def test_a_failed_write_leaves_nothing(tmp_root, monkeypatch) -> None:
    cache.write("entry", b"kept")
    assert cache.read("entry") == b"kept"

    def interrupted(src, dst):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "replace", interrupted)
    cache.write("entry", b"new")
    cache.write("other", b"new")
    assert cache.read("entry") == b"kept" and cache.read("other") is None
    assert sorted(p.name for p in cache.folder().iterdir()) == ["entry"]  # no temp file


def test_concurrent_writers_leave_one_whole_entry(tmp_root) -> None:
    """Two runs parsing the same reference file at once both write its entry: each
    write is a temporary file renamed into place, so a reader sees one whole entry,
    never a mix, and no temporary file is left."""
    from concurrent.futures import ThreadPoolExecutor

    payloads = [bytes([65 + i]) * 200_000 for i in range(8)]
    seen: list[bytes | None] = []

    def write_and_read(data: bytes) -> None:
        cache.write("entry", data)
        seen.append(cache.read("entry"))

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(write_and_read, payloads * 4))
    assert all(entry in payloads for entry in seen)  # never a mix of two writes
    assert cache.read("entry") in payloads
    assert [p.name for p in cache.folder().iterdir()] == ["entry"]
