"""The README's Python blocks run as written (each needs the frameworks it imports)."""

from __future__ import annotations

import pathlib
import re

import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def _imports(block: str) -> set[str]:
    return {m for m in ("torch", "keras", "jax", "tensorflow") if re.search(rf"\bimport {m}\b", block)}


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_block_runs(block):
    for mod in _imports(block):
        pytest.importorskip(mod)
    if "keras" in _imports(block):
        pytest.importorskip("tensorflow")
    exec(compile(block, str(README), "exec"), {"__name__": "readme"})


def test_readme_has_the_two_commands():
    text = README.read_text()
    assert "multiloss check" in text and "python -m pytest" in text
    ci = (README.parent / ".ci" / "run").read_text()
    test_cmd = next(line for line in text.splitlines() if line.startswith("python3 -m venv") and "pytest" in line)
    assert test_cmd in ci, ".ci/run must run the README's test command as written"


def test_readme_porting_table_is_the_generated_one():
    """The table is derived from the adapter tables (`multiloss list --markdown`); this copy
    must be regenerated when a loss is added (CONTRIBUTING.md, "Add a loss")."""
    from multiloss.catalogue import porting_table

    text = README.read_text()
    start, end = "<!-- porting-table:start -->\n", "\n<!-- porting-table:end -->"
    assert start in text and end in text
    copy = text[text.index(start) + len(start) : text.index(end)]
    assert copy == porting_table(), "README porting table is stale: paste `multiloss list --markdown` between the markers"
