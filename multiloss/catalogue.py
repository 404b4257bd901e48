"""The catalogue: every canonical loss, its family and its twins in torch / keras / jax (optax).

Derived, never written by hand: the canonical losses and their families come from
:mod:`multiloss.losses` (each family module's ``__all__``), the twins from the three adapter
tables (:mod:`multiloss.backends.torch_table`, ``keras_table``, ``jax_table``, all importable
without their framework: their rows and their ``HANDWRITTEN`` forms). ``multiloss list``, the README porting table
(``multiloss list --markdown``) and the coverage tests read this.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import losses as _losses
from .backends import jax_table as _jax
from .backends import keras_table as _keras
from .backends import torch_table as _torch

__all__ = ["Twin", "Entry", "CATALOGUE", "entry", "porting_table"]


@dataclass(frozen=True)
class Twin:
    """A name under which an adapter serves a canonical loss; ``native``: the framework has
    the same loss under that name (else it is a multiloss extra in that framework's style)."""

    name: str
    native: bool

    def __str__(self) -> str:
        return self.name if self.native else f"{self.name} (extra)"


@dataclass(frozen=True)
class Entry:
    name: str  # canonical function, multiloss.<name>
    family: str  # module under multiloss.losses
    torch: tuple[Twin, ...] = ()
    keras: tuple[Twin, ...] = ()
    jax: tuple[Twin, ...] = ()
    summary: str = ""

    def names(self, framework: str) -> str:
        """The twins in ``framework`` ('torch' | 'keras' | 'jax') as one cell of a table."""
        return ", ".join(map(str, getattr(self, framework)))


def _summary(fn) -> str:
    first = (fn.__doc__ or "").strip().split("\n\n")[0]
    return " ".join(first.split()).split(": ")[0].rstrip(".")


def _derive() -> tuple[Entry, ...]:
    out = []
    for name in _losses.__all__:
        fn = getattr(_losses, name)
        torch = tuple(Twin(r.name, bool(r.native)) for r in _torch.TABLE if r.loss is fn)
        keras = tuple(Twin(r.cls or f"{r.fn}()", r.keras_native) for r in _keras.TABLE if name in r.canonicals)
        keras += tuple(Twin(h.name, h.native) for h in _keras.HANDWRITTEN if h.canonical == name)
        jax = tuple(Twin(r.optax or r.name, bool(r.optax)) for r in _jax.TABLE if (r.twin_of or r.canonical) == name)
        jax += tuple(Twin(h.name, h.native) for h in _jax.HANDWRITTEN if h.canonical == name)
        out.append(Entry(name, _losses.FAMILY[name], torch, keras, jax, _summary(fn)))
    return tuple(out)


CATALOGUE: tuple[Entry, ...] = _derive()

_BY_NAME = {e.name: e for e in CATALOGUE}


def entry(name: str) -> Entry:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ValueError(
            f"unknown loss {name!r}; known: {', '.join(sorted(_BY_NAME))}"
        ) from None


def porting_table() -> str:
    """The porting table as Markdown (README and docs embed this text verbatim)."""
    lines = ["| multiloss (canonical) | family | torch | keras | jax (optax) |", "|---|---|---|---|---|"]

    def cell(twins):
        return ", ".join(f"`{t.name}`" + ("" if t.native else " (extra)") for t in twins)

    for e in CATALOGUE:
        lines.append(f"| `{e.name}` | {e.family} | {cell(e.torch)} | {cell(e.keras)} | {cell(e.jax)} |")
    return "\n".join(lines)
