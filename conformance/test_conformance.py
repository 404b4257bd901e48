"""Cross-backend conformance: canonical losses vs the NumPy float64 reference (values and
finite-difference gradients) and adapter entries vs their framework's built-in, per dtype.

Test ids read ``<entry>-<backend>-<dtype>-<value|grad>``. The same cases feed
``multiloss check``."""

from __future__ import annotations

import pytest

from multiloss.conformance import runner
from multiloss.conformance.backends import BACKENDS

_AVAILABLE = {name: b.available() for name, b in BACKENDS.items()}
_READY = [name for name, (ok, _) in _AVAILABLE.items() if ok]
for _name in _READY:
    BACKENDS[_name].setup()


def _params():
    params = []
    for job in runner.jobs(_READY):
        kinds = ["value"]
        if job.case.grad and BACKENDS[job.backend].has_grad:
            kinds.append("grad")
        for kind in kinds:
            params.append(pytest.param(job, kind, id=f"{job.id}-{kind}"))
    for name, (ok, why) in _AVAILABLE.items():
        if not ok:
            params.append(pytest.param(None, name, id=f"{name}-unavailable",
                                       marks=pytest.mark.skip(reason=f"{name} not importable: {why}")))
    return params


_RESULTS: dict[str, dict[str, runner.Cell]] = {}


def _cells(job: runner.Job) -> dict[str, runner.Cell]:
    if job.id not in _RESULTS:
        _RESULTS[job.id] = {c.kind: c for c in runner.run_job(job)}
    return _RESULTS[job.id]


@pytest.mark.parametrize("job,kind", _params())
def test_cell(job, kind):
    cell = _cells(job)[kind]
    assert cell.ok, (
        f"{cell.id} vs {cell.against}: "
        + (cell.error or f"max abs err {cell.max_abs:.3g}, max rel err {cell.max_rel:.3g}")
    )


def test_every_canonical_loss_has_a_case():
    import multiloss
    from multiloss.catalogue import CATALOGUE

    covered = {c.loss for c in runner.canonical_cases()}
    penalties = {"l1_penalty", "l2_penalty"}  # over parameter lists: tested in tests/
    missing = {e.name for e in CATALOGUE} - covered - penalties
    assert not missing, f"canonical losses without a conformance case: {sorted(missing)}"
    assert set(multiloss.losses.__all__) == {e.name for e in CATALOGUE}
