"""Types that hold (issue 13, "What to build" item 5): ``mypy multiloss`` is clean in CI
(``.ci/run``); here, the static view of the exports that mypy reads stays in step with the
runtime one (the canonical losses are exported from a dynamic ``__all__``, which type
checkers cannot follow, so both ``__init__`` files spell the families out under
``TYPE_CHECKING``)."""

from __future__ import annotations

import pathlib
import re

import multiloss
from multiloss.losses import FAMILIES

ROOT = pathlib.Path(multiloss.__file__).resolve().parent


def _type_checking_families(path: pathlib.Path, prefix: str) -> list[str]:
    text = path.read_text()
    block = text[text.index("if TYPE_CHECKING:"):]
    return re.findall(rf"^    from {re.escape(prefix)}(\w+) import \*", block, re.M)


def test_losses_package_spells_out_every_family_for_type_checkers():
    assert sorted(_type_checking_families(ROOT / "losses" / "__init__.py", ".")) == sorted(FAMILIES)


def test_top_level_package_spells_out_every_family_for_type_checkers():
    assert sorted(_type_checking_families(ROOT / "__init__.py", ".losses.")) == sorted(FAMILIES)


def test_package_ships_py_typed():
    assert (ROOT / "py.typed").is_file()
