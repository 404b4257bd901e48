"""``@multiloss.loss``: a user's loss written once against the Array API, served in every
framework's idiom by the same factories as the built-in losses.

    @multiloss.loss
    def smooth_abs(input, target, beta=0.5):
        '''Elementwise (unreduced) loss, y_pred first.'''
        xp = multiloss.array_namespace(input, target)
        d = xp.abs(input - target)
        return xp.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta)

    smooth_abs(p, t)                          # canonical: torch reductions, any Array API arrays
    smooth_abs(p, t, reduction="sum", beta=1.0)
    smooth_abs.torch(beta=1.0)(p, t)          # torch.nn.Module class (SmoothAbs), y_pred first
    smooth_abs.keras(beta=1.0)(y_true, y_pred, sample_weight=w)   # keras Loss, y_true first
    smooth_abs.jax(predictions, targets)      # per-example, pure: jit/grad/vmap

The decorated function returns the loss *unreduced* (elementwise, or one value per sample).
Its options are the keyword parameters after the first two (with defaults). The framework
forms are built on first access, so decorating imports no framework.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

from ._namespace import array_namespace
from ._reduction import TORCH_REDUCTIONS, reduce
from ._validation import check_reduction

__all__ = ["loss", "CustomLoss"]


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_") if part)


class CustomLoss:
    """A user loss with a canonical reducing form and lazily built framework forms."""

    def __init__(self, fn: Callable[..., Any], name: str | None = None):
        sig = inspect.signature(fn)
        params = list(sig.parameters.values())
        if len(params) < 2 or any(p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params[:2]):
            raise TypeError(
                f"multiloss.loss: {fn.__name__} must take (input, target, ...) as its first two "
                f"positional parameters; got signature {sig}"
            )
        options = []
        for p in params[2:]:
            if p.default is p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise TypeError(
                    f"multiloss.loss: option {p.name!r} of {fn.__name__} must be a keyword "
                    f"parameter with a default; got {p}"
                )
            if p.name in ("reduction", "sample_weight", "name", "dtype"):
                raise TypeError(f"multiloss.loss: option name {p.name!r} of {fn.__name__} is reserved")
            options.append((p.name, p.default))
        self.unreduced = fn
        self.name = name or fn.__name__
        self.class_name = _camel(self.name)
        self.options: tuple[tuple[str, Any], ...] = tuple(options)
        self.__doc__ = fn.__doc__
        self.__name__ = self.name
        self.__wrapped__ = fn
        self._cache: dict[str, Any] = {}

    # canonical form: y_pred first, torch reductions
    def __call__(self, input: Any, target: Any, reduction: str = "mean", **options: Any) -> Any:
        unknown = set(options) - {n for n, _ in self.options}
        if unknown:
            raise TypeError(
                f"{self.name}: unexpected option(s) {sorted(unknown)}; options: {[n for n, _ in self.options]}"
            )
        check_reduction(self.name, reduction, TORCH_REDUCTIONS)
        xp = array_namespace(input, target, fn=self.name)
        return reduce(xp, self.unreduced(input, target, **options), reduction, self.name)

    def __repr__(self) -> str:
        return f"<multiloss custom loss {self.name}({', '.join(f'{n}={d!r}' for n, d in self.options)})>"

    # ------------------------------------------------------------------ framework forms
    @property
    def torch(self) -> type:
        """A ``torch.nn.Module`` class (``input, target``; options then ``reduction='mean'``)."""
        if "torch" not in self._cache:
            from .backends import torch as tb

            entry = tb.Entry(
                self.class_name, self.name, self, (*self.options, ("reduction", "mean")),
                summary=(self.__doc__ or self.name).strip().splitlines()[0],
                shapes="as the decorated function",
            )
            self._cache["torch"] = tb.make_module(entry)
        return self._cache["torch"]

    @property
    def keras(self) -> type:
        """A ``keras.losses.Loss`` class (``y_true, y_pred, sample_weight``), keras reductions;
        an elementwise loss is averaged over the last axis per sample, as keras losses are.
        Registered for serialisation as ``'multiloss>ClassName'``."""
        if "keras" not in self._cache:
            from .backends import keras as kb

            fn = self.unreduced

            def body(xp, y_true, y_pred, **opts):
                out = fn(y_pred, y_true, **opts)
                return xp.mean(out, axis=-1) if out.ndim == y_pred.ndim and out.ndim > 0 else out

            row = kb.Row(
                self.class_name, self.name, self.name, body, self.name, options=self.options,
                shapes="any", formula=f"{self.name}(y_pred, y_true) averaged over the last axis",
                keras_native=False,
            )
            self._cache["keras"] = kb._make_class(row)
        return self._cache["keras"]

    @property
    def jax(self) -> Callable[..., Any]:
        """The optax-style form: ``(predictions, targets, **options)``, per-example, unreduced."""
        if "jax" not in self._cache:
            import jax.numpy as jnp

            fn = self.unreduced

            def per_example(predictions, targets, **options):
                return fn(jnp.asarray(predictions), jnp.asarray(targets), **options)

            per_example.__name__ = per_example.__qualname__ = self.name
            per_example.__doc__ = self.__doc__
            self._cache["jax"] = per_example
        return self._cache["jax"]


def loss(fn: Callable[..., Any] | None = None, *, name: str | None = None):
    """Decorator: ``@multiloss.loss`` or ``@multiloss.loss(name="...")``; see module docstring."""
    if fn is None:
        return lambda f: CustomLoss(f, name)
    return CustomLoss(fn, name)
