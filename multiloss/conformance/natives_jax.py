"""JAX adapter conformance: ``multiloss.jax.<name>(p, t, **kw)`` against ``optax.losses.<name>``.

For every function of :mod:`multiloss.jax` that has an optax twin, over an option grid
(``delta``, ``axis`` as another axis, ``where`` masks of the logits' shape and of the batch
shape — including rows with nothing included —, ``epsilon``, ``alpha``/``gamma``, soft
labels, ``(N, C, d)`` logits), the value and the gradient w.r.t. the prediction must equal
optax's in float32 and float64 (the runner's JaxBackend enables x64).

Not listed (no optax twin; the canonical cases check them against float64 references):
``l1_loss``, ``focal_loss``, ``sce_loss``, ``mean_absolute_percentage_error`` and the
penalties. ``hinge_loss`` is checked on labels in {-1, 1} only: with labels all in {0, 1}
multiloss maps them to {-1, 1} (keras' convention), optax does not (documented).

Imports jax and optax lazily (inside :func:`native_cases`), so importing this module is free.
"""

from __future__ import annotations

import numpy as np

from . import domains
from .domains import C, N
from .spec import NativeCase

__all__ = ["native_cases"]

# the domain each entry's grid is mostly on; other domains are named in the case label
_DEFAULT_DOMAINS = {"regression", "logits_binary", "class_index", "class_prob", "log_probs", "hinge"}


def _masks() -> dict[str, np.ndarray]:
    """Deterministic ``where`` masks (float 0/1 here: the runner converts arrays to the dtype
    under test; the wrappers below turn them back into booleans)."""
    rng = np.random.default_rng(1)
    elem = rng.uniform(size=(N, C)) < 0.7
    elem[2] = False  # a row with nothing included: optax gives 0
    # integer labels: keep each row's label class (optax reads the raw logit of an excluded
    # label, multiloss its masked value; that corner is documented, not compared)
    labels = domains.make("class_index")["target"]
    elem_labels = elem.copy()
    elem_labels[np.arange(N), labels] = True
    elem_labels[2] = False
    # cosine: no empty row (optax's gradient there is nan; multiloss gives 0, unit-tested)
    elem_full = elem.copy()
    elem_full[2] = True
    rows = np.ones(N, dtype=bool)
    rows[[1, 6]] = False
    return {
        "elem": elem.astype(np.float64),
        "elem_labels": elem_labels.astype(np.float64),
        "elem_full": elem_full.astype(np.float64),
        "rows": rows.astype(np.float64),
    }


def _label(kw: dict) -> str:
    return ",".join(
        f"{k}:{'x'.join(map(str, v.shape))}" if isinstance(v, np.ndarray) else f"{k}={v}" for k, v in kw.items()
    )


def native_cases() -> list[NativeCase]:
    try:
        import optax
    except ImportError:  # jax without optax (the ``jax`` extra installs both): nothing to hold against
        return []

    import multiloss.jax as mj

    def pair(name):
        ours, native = getattr(mj, name), getattr(optax.losses, name)

        def bind(f):
            def make(**kw):
                if kw.get("where") is not None:
                    kw["where"] = kw["where"].astype(bool)
                return lambda p, t: f(p, t, **kw)

            return make

        return bind(ours), bind(native)

    cases: list[NativeCase] = []

    def grid(name, domain, options, **extra):
        ours, native = pair(name)
        for kw in options:
            label = _label(kw) + ("" if domain in _DEFAULT_DOMAINS else f"@{domain}")
            cases.append(NativeCase("jax", name, ours, native, domain, kw, label, **extra))

    m = _masks()

    # ---- regression
    grid("squared_error", "regression", [{}])
    grid("l2_loss", "regression", [{}])
    grid("huber_loss", "regression", [{}, {"delta": 0.5}, {"delta": 2.0}])

    # ---- binary
    grid("sigmoid_binary_cross_entropy", "logits_binary", [{}])
    grid("sigmoid_binary_cross_entropy", "logits_binary_soft", [{}])
    grid("hinge_loss", "hinge", [{}])
    grid("sigmoid_focal_loss", "logits_binary",
         [{}, {"alpha": 0.25}, {"gamma": 0.0}, {"alpha": 0.25, "gamma": 1.5}, {"alpha": 0.9, "gamma": 3.0}])
    grid("sigmoid_focal_loss", "logits_binary_soft", [{"alpha": 0.25}])

    # ---- multiclass
    grid("softmax_cross_entropy", "class_prob",
         [{}, {"axis": 0}, {"where": m["elem"]}, {"where": m["rows"]}])
    grid("softmax_cross_entropy", "class_onehot", [{}])
    grid("softmax_cross_entropy_with_integer_labels", "class_index",
         [{}, {"where": m["elem_labels"]}, {"where": m["rows"]}])
    grid("softmax_cross_entropy_with_integer_labels", "class_index_3d", [{"axis": 1}])

    # ---- divergences and similarities
    grid("kl_divergence", "log_probs", [{}, {"axis": 0}, {"where": m["elem"]}])
    # the domain's targets read as log-probabilities: any real values are valid there
    grid("kl_divergence_with_log_targets", "log_probs", [{}, {"where": m["elem"]}])
    grid("cosine_similarity", "regression", [{}, {"epsilon": 1e-6}, {"axis": 0}, {"where": m["elem_full"]}])
    grid("cosine_distance", "regression", [{}, {"axis": 0}, {"where": m["elem_full"]}])
    return cases
