"""Canonical conformance cases: each canonical loss x its option grids on its input domains,
against the independent float64 references. The grids are declared on the references
themselves (``@reference(loss, domain, options)`` in :mod:`.references`); this module only
collects them."""

from __future__ import annotations

from .references import CASES

__all__ = ["CASES"]
