"""A memory-lean softmax cross-entropy for large vocabularies on torch (issue 12, item 5).

:func:`lean_cross_entropy` has the semantics of ``torch.nn.functional.cross_entropy`` with
class-index targets and ``(N, C)`` logits (``weight``, ``ignore_index``, ``label_smoothing``,
``reduction``), but computes the gradient of the logits **during the forward pass**, chunk of
rows by chunk of rows, into one buffer of the logits' dtype and shape. The forward pass saves
only that buffer; the backward pass multiplies it by ``grad_output`` in place and hands it on.

Peak memory of forward+backward above the input (logits ``L`` bytes):

* ``F.cross_entropy``: ``3 L`` -- ``log_softmax``'s output is saved (``1 L``), and the
  backward pass builds ``nll_loss``'s gradient (``1 L``) and ``log_softmax``'s (``1 L``).
* here: ``1 L`` (the gradient buffer) plus one chunk's temporaries, at most ``L / 8`` by
  default: ``1.0 L`` to ``1.125 L``. float32/float64 logits need no temporary at all (each chunk
  is computed in place in its slice of the gradient buffer); float16/bfloat16 logits need one
  float32 ``(chunk, C)`` block, reused by every chunk (the math runs in float32, like torch's
  kernels). A chunk has at least ``2**16`` elements, so logits under ~2 MiB run as one chunk.
  Measured (``benchmarks/bench_lean_ce.py``, CPU, 4096 x 32000): float32 1.000 L, bfloat16
  1.126 L, torch 3.000 L; on CUDA the compiled body, see the benchmark.

When to use it: large ``N x C`` logits (an LLM's vocabulary, ``C`` ~ 32k-256k) whose memory
matters, with a loss that is (part of) the graph's root. When not: small ``C`` (plain
``F.cross_entropy`` is as lean there and has no Python loop); when you need the gradient with
respect to ``weight`` (not provided: a ``weight`` that requires grad is refused); double
backward (``create_graph=True`` through the loss is refused, see below).

Semantics (read from torch 2.13: ``torch/nn/functional.py`` ``cross_entropy``, and the
reference ``cross_entropy_loss_indices_target_reference`` in
``torch/testing/_internal/common_nn.py``). For a row ``i`` with target ``t`` that is not
``ignore_index``, with ``w`` the class weights (ones when ``None``), ``eps`` the smoothing and
``logp = log_softmax(x_i)``::

    loss_i = -(1 - eps) * w[t] * logp[t] - (eps / C) * sum_c w[c] * logp[c]
    d loss_i / d x_i = S_i * softmax(x_i) - (eps / C) * w - (1 - eps) * w[t] * onehot(t)
    with S_i = (1 - eps) * w[t] + (eps / C) * sum(w)

An ignored row has loss 0 and gradient 0. ``"mean"`` divides the sum by
``D = sum_{i not ignored} w[t_i]`` (the count when ``weight`` is None); both the nll and the
smoothing terms use this ``D`` (torch divides its smoothing term by the same sum). ``D = 0``
(every target ignored, N = 0) gives ``nan`` (0/0) and an all-zero gradient, as torch; rows whose
weight is 0 while ``D = 0`` get ``nan`` gradients, as torch. ``1/D`` is folded into the gradient
during the forward pass, as a device tensor (never read back to the host).

No host synchronisation anywhere: the denominator, masks and per-row coefficients are device
tensors; the only value check that reads back (targets in ``[0, C)``) runs for CPU tensors only
and raises an ``IndexError``-compatible :class:`~multiloss.errors.IndexRangeError`; on CUDA an
out-of-range target hits ``gather``'s device-side assertion, as torch's ``nll_loss``'s does.

**Backward.** ``grad_output`` is a scalar (``"mean"``/``"sum"``) or one value per row
(``"none"``); the saved gradient is multiplied by it in place (rows scaled for ``"none"``) --
no new ``N x C`` buffer, and no test of whether ``grad_output`` is 1 (that would be a sync).
When autograd keeps the graph (``retain_graph=True``, or ``create_graph=True``), the buffer is
*not* touched: the backward returns ``saved * grad_output`` as a new tensor, so a second
backward through the same graph is exact (at the cost of one more buffer while it runs). The
graph-keeping flag is torch's ``torch._C._autograd._get_current_graph_task_keep_graph()`` (a
host-side flag of the running backward, not a device read); on a torch without it, the copy is
always made. Double backward is refused: with ``create_graph=True`` the first-order gradient is
returned (exact) with a grad_fn that raises "lean_cross_entropy: double backward is not
supported ..." if it is differentiated (``once_differentiable``'s mechanism, but also when
``grad_output`` does not require grad, where torch's decorator would silently return a constant
and a second-order term would vanish).

**Chunk body.** Plain torch ops, in place, by default. Where ``torch.compile`` can fuse the
body (CUDA tensors with triton available), a functional version of it is compiled once per
input dtype (``dynamic=True``: one graph for every chunk size) and cached; a failure to compile
warns once and falls back to the plain body for that dtype. CPU tensors never compile. The
environment variable ``MULTILOSS_LEAN_CE_COMPILE`` overrides: ``0`` never compiles, ``1``
compiles on any device (CPU too: for experiments), anything else is the automatic rule.

Falls back to ``F.cross_entropy`` itself (same numbers, torch's memory) while
``torch.compile`` traces the caller (inductor fuses torch's own cross-entropy) and for
``torch.func`` transforms' wrapped tensors.
"""

from __future__ import annotations

import contextlib
import numbers
import os
import types
import warnings
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from ..errors import (
    TORCH,
    DTypeError,
    IndexRangeError,
    OptionError,
    ShapeError,
    native_class,
)

__all__ = ["default_chunk_rows", "lean_cross_entropy"]

_NAME = "lean_cross_entropy"
# chunk temporaries at most 1/_TEMP_FRACTION of the logits' bytes ...
_TEMP_FRACTION = 8
# ... but never fewer rows than fit this many temporary elements (256 KiB of float32): small
# logits run as one chunk, with no Python loop (their memory does not matter)
_MIN_CHUNK_ELEMENTS = 1 << 16
_FLOATS = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
_COMPILE_ENV = "MULTILOSS_LEAN_CE_COMPILE"

try:
    _is_wrapped: Callable[[torch.Tensor], bool] = torch._C._functorch.is_functorch_wrapped_tensor
except AttributeError:  # pragma: no cover - torch without functorch

    def _is_wrapped(x: torch.Tensor) -> bool:
        return False


_keep_graph: Callable[[], bool] | None = getattr(torch._C._autograd, "_get_current_graph_task_keep_graph", None)


def _graph_kept() -> bool:
    """Whether the running backward keeps the graph (retain_graph / create_graph): a host flag."""
    return True if _keep_graph is None else bool(_keep_graph())


def _err(cls: type[BaseException], msg: str) -> BaseException:
    """A multiloss error that is also the class torch raises for the same case."""
    kind = getattr(cls, "kind", "value")
    return native_class(cls, TORCH.get(kind, ()))(msg)


def _acc_dtype(dtype: torch.dtype) -> torch.dtype:
    return torch.float32 if dtype in (torch.float16, torch.bfloat16) else dtype


def default_chunk_rows(n: int, c: int, dtype: torch.dtype) -> int:
    """Rows per chunk when ``chunk_rows=None``: the chunk's temporaries (one block in the
    computation dtype, float32 for 16-bit logits) stay within 1/8 of the logits' bytes, but at
    least ``max(1, 2**16 // C)`` rows (small logits: one chunk) and at most ``N``."""
    item = dtype.itemsize
    acc_item = _acc_dtype(dtype).itemsize
    rows = (n * item) // (_TEMP_FRACTION * acc_item)
    rows = max(rows, _MIN_CHUNK_ELEMENTS // max(c, 1), 1)
    return min(rows, max(n, 1))


# ---------------------------------------------------------------------------------------------
# chunk bodies. Both take one chunk ``x`` (r, C) of the logits, ``out`` its slice of the gradient
# buffer (or None: value only), ``idx`` (r, 1) int64 targets (ignored rows -> 0), ``w`` the class
# weights in the computation dtype (or None), the per-row gradient coefficients (r, 1): ``sf`` =
# S * f, ``bf`` = eps/C * f, ``af`` = (1 - eps) * w[t] * f (f: the row's scale: 1/D, 1 or 0), and
# ``need_sx`` (eps > 0). They write d/dx into ``out`` and return, per row, (log sum exp(x - m),
# x[t] - m, sum_c w[c] (x[c] - m) or None) with m the row max.


def _body_eager(x, out, work, idx, w, sf, bf, af, need_sx):
    """Plain torch ops, in place: float32/float64 logits are processed inside ``out`` (no
    temporary); 16-bit ones (or values only) in ``work``, one block of the computation dtype
    allocated once per call and reused by every chunk (a fresh block per chunk costs page
    faults on CPU)."""
    acc = _acc_dtype(x.dtype)
    m = x.amax(1, keepdim=True)
    if m.dtype != acc:
        m = m.to(acc)
    if out is not None and out.dtype == acc:
        t = torch.sub(x, m, out=out)
    else:
        # copy_ converts in place (torch.sub(x16, m32) would cast x through a second float32
        # block on CPU: TensorIterator promotes CPU inputs through temporaries)
        t = work.copy_(x).sub_(m)
    sh_t = t.gather(1, idx)
    sx = None
    if need_sx:
        sx = t.sum(1, keepdim=True) if w is None else torch.mv(t, w).unsqueeze(1)
    t.exp_()
    se = t.sum(1, keepdim=True)
    lse = se.log()
    if out is not None:
        t.mul_(sf / se)
        if need_sx:
            if w is None:
                t.sub_(bf)
            else:
                t.addr_(bf.squeeze(1), w, alpha=-1)
        # one index per row: gather + scatter_ (no scatter_add_, deterministic everywhere)
        t.scatter_(1, idx, t.gather(1, idx) - af)
        if t is not out:
            out.copy_(t)
    return lse, sh_t, sx


def _body_functional(x, out, work, idx, w, sf, bf, af, need_sx):
    """The same math without in-place ops on temporaries, for ``torch.compile`` to fuse (the
    only mutation is the final copy into ``out``, which inductor writes directly; ``work`` is
    unused: None)."""
    acc = _acc_dtype(x.dtype)
    xf = x.to(acc)
    m = xf.amax(1, keepdim=True)
    t = xf - m
    sh_t = t.gather(1, idx)
    sx = None
    if need_sx:
        sx = t.sum(1, keepdim=True) if w is None else (t * w).sum(1, keepdim=True)
    e = t.exp()
    se = e.sum(1, keepdim=True)
    lse = se.log()
    if out is not None:
        g = e * (sf / se)
        if need_sx:
            g = g - (bf if w is None else bf * w)
        cols = torch.arange(x.shape[1], device=x.device)
        g = g - torch.where(cols == idx, af, 0.0)
        out.copy_(g)
    return lse, sh_t, sx


_COMPILED: dict[torch.dtype, Any] = {}  # dtype -> compiled body, or None after a failure


def _own_code_copy(fn: Callable[..., Any], tag: str) -> Callable[..., Any]:
    """``fn`` with a code object of its own. Dynamo keeps its graphs (and counts recompiles,
    8 by default) per code object: one copy per dtype keeps each dtype's few variants (value
    only / with gradient, smoothing or not) from pushing another dtype's out of the cache."""
    code = fn.__code__.replace(co_name=f"{fn.__code__.co_name}_{tag}")
    return types.FunctionType(code, fn.__globals__, code.co_name, fn.__defaults__, fn.__closure__)


def _compile_wanted(x: torch.Tensor) -> bool:
    setting = os.environ.get(_COMPILE_ENV, "auto").strip().lower()
    if setting in ("0", "off", "false", "no"):
        return False
    if torch.compiler.is_compiling():
        return False
    if setting in ("1", "on", "true", "yes"):
        return True
    if x.device.type != "cuda":
        return False
    try:
        from torch.utils._triton import has_triton

        return bool(has_triton())
    except Exception:  # noqa: BLE001  # pragma: no cover - inductor / triton absent or broken
        return False


def _body_for(x: torch.Tensor) -> tuple[Callable[..., Any], bool]:
    """(body, compiled?) for this chunk's logits."""
    if not _compile_wanted(x):
        return _body_eager, False
    if x.dtype not in _COMPILED:
        try:
            tag = str(x.dtype).replace("torch.", "")
            _COMPILED[x.dtype] = torch.compile(_own_code_copy(_body_functional, tag), dynamic=True)
        except Exception as exc:  # noqa: BLE001  # pragma: no cover - torch.compile unavailable
            _compile_failed(x.dtype, exc)
    body = _COMPILED.get(x.dtype)
    return (_body_eager, False) if body is None else (body, True)


def _compile_failed(dtype: torch.dtype, exc: BaseException) -> None:
    _COMPILED[dtype] = None
    warnings.warn(
        f"{_NAME}: torch.compile of the chunk body failed for {dtype} ({type(exc).__name__}: {exc}); "
        f"using plain torch ops (set {_COMPILE_ENV}=0 to skip compiling)",
        RuntimeWarning,
        stacklevel=4,
    )


def _run_body(body, compiled, x, *args):
    if not compiled:
        return body(x, *args)
    try:
        return body(x, *args)
    except Exception as exc:  # noqa: BLE001 - inductor / triton failing at first use: plain ops from now on
        _compile_failed(x.dtype, exc)
        out, _, *rest = args
        work = None if out is not None and out.dtype == _acc_dtype(x.dtype) else torch.empty(
            x.shape, dtype=_acc_dtype(x.dtype), device=x.device)
        return _body_eager(x, out, work, *rest)


# ---------------------------------------------------------------------------------------------


def _spans(n: int, step: int) -> list[tuple[int, int]]:
    """Row ranges of ``step`` rows; a last chunk of one row joins the previous one when
    ``step > 1`` (torch.compile specialises a dimension of size 1: one graph fewer)."""
    spans = [(lo, min(lo + step, n)) for lo in range(0, n, step)]
    if step > 1 and len(spans) > 1 and spans[-1][1] - spans[-1][0] == 1:
        spans[-2:] = [(spans[-2][0], n)]
    return spans


def _lean_forward(x, target, weight, ignore_index, reduction, eps, chunk_rows, out_dtype, need_grad):
    """(loss in ``out_dtype``, d(loss)/dx with grad_output = 1 in x's dtype, or None)."""
    n, c = x.shape
    acc = _acc_dtype(x.dtype)
    valid = target != ignore_index
    idx = torch.where(valid, target, 0)
    b = eps / c if c else 0.0
    w = None if weight is None else weight.to(acc)
    validf = valid.to(acc)
    if w is None:
        w_t = validf  # w[t] with ones, 0 on ignored rows
        big_w = float(c)  # sum(w)
    else:
        w_t = w.gather(0, idx) * validf
        big_w = w.sum()
    denom = w_t.sum()
    if reduction == "mean":
        # 1/D folded into the gradient; ignored rows 0 even when D = 0 (0 * inf would be nan)
        f = torch.where(valid, denom.reciprocal(), 0.0)
    else:
        f = validf
    # gradient coefficients of a row: target (1 - eps) w[t] f, every class eps/C w[c] f, softmax
    # S f = their sum (summed as torch's log_softmax backward sums its incoming gradient: a nan
    # coefficient, 0 * inf when D = 0, makes the whole row nan, as torch's)
    af = (w_t * (1.0 - eps)) * f
    bf = b * f
    sf = af + bf * big_w
    sf, bf, af = sf.unsqueeze(1), bf.unsqueeze(1), af.unsqueeze(1)
    need_sx = eps > 0.0
    grad = torch.empty_like(x) if need_grad else None
    # per row, unweighted -log p[t] and (eps > 0) -sum_c w[c] log p[c]: torch's two terms
    nll = torch.empty(n, dtype=acc, device=x.device)
    smooth = torch.empty(n, dtype=acc, device=x.device) if need_sx else None
    step = chunk_rows if chunk_rows is not None else default_chunk_rows(n, c, x.dtype)
    body, compiled = _body_for(x) if n else (_body_eager, False)
    w_body = w
    if compiled and w is None:
        w_body = torch.ones(c, dtype=acc, device=x.device)  # one compiled variant fewer
    spans = _spans(n, step)
    work = None  # the eager body's block (16-bit logits, or values only)
    if not compiled and (grad is None or acc != x.dtype) and spans:
        work = torch.empty((max(hi - lo for lo, hi in spans), c), dtype=acc, device=x.device)
    idx2 = idx.unsqueeze(1)
    for lo, hi in spans:
        out = None if grad is None else grad[lo:hi]
        wk = None if work is None else work[: hi - lo]
        lse, sh_t, sx = _run_body(body, compiled, x[lo:hi], out, wk, idx2[lo:hi], w_body, sf[lo:hi],
                                  bf[lo:hi], af[lo:hi], need_sx)
        nll[lo:hi] = (lse - sh_t).squeeze(1)
        if smooth is not None:
            smooth[lo:hi] = (big_w * lse - sx).squeeze(1)
    # torch (aten cross_entropy_loss_label_smoothing, mirrored by common_nn's
    # cross_entropy_loss_indices_target_reference): nll_loss with its reduction, plus the
    # smoothing term masked and reduced the same way (mean: divided by the same sum of w[t]),
    # combined as (1 - eps) * nll + eps / C * smooth
    nll = torch.where(valid, nll * w_t, 0.0)
    if smooth is not None:
        smooth = torch.where(valid, smooth, 0.0)
    if reduction == "none":
        loss = nll if smooth is None else (1.0 - eps) * nll + b * smooth
    elif reduction == "sum":
        loss = nll.sum() if smooth is None else (1.0 - eps) * nll.sum() + b * smooth.sum()
    else:
        loss = nll.sum() / denom
        if smooth is not None:
            loss = (1.0 - eps) * loss + b * (smooth.sum() / denom)
    return loss.to(out_dtype), grad


class _LeanCrossEntropy(torch.autograd.Function):
    """Forward computes the loss and its gradient (grad_output = 1); backward scales it."""

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, reduction, eps, chunk_rows, out_dtype):
        loss, grad = _lean_forward(x, target, weight, ignore_index, reduction, eps, chunk_rows, out_dtype,
                                   need_grad=ctx.needs_input_grad[0])
        # the only tensor the graph holds (visible to saved_tensors_hooks)
        ctx.save_for_backward(grad)
        ctx.per_row = reduction == "none"
        return loss

    @staticmethod
    def backward(ctx, grad_output):
        (grad,) = ctx.saved_tensors
        if grad is None:  # pragma: no cover - x did not require grad
            return (None,) * 8
        with torch.no_grad():
            go = grad_output.unsqueeze(1) if ctx.per_row else grad_output
            if go.dim() and go.dtype != grad.dtype:
                # per-row float32 upstream of 16-bit logits under autocast (a 0-dim one is read
                # as a float32 scalar by the kernel; a dimensioned one would be promoted through
                # a float32 copy of the whole buffer on CPU)
                go = go.to(grad.dtype)
            if _graph_kept():
                # the graph may be run again: leave the saved gradient untouched
                g = grad * go
            else:
                # the saved gradient is released after this call; scaled in place, it becomes
                # x.grad (AccumulateGrad takes a tensor nobody else holds) or flows on: no new
                # N x C buffer
                g = grad.mul_(go)
        if torch.is_grad_enabled():  # create_graph=True: first order fine, second refused
            g = _refuse_double_backward(g)
        return (g,) + (None,) * 7


_DOUBLE = (f"{_NAME}: double backward is not supported (the gradient is computed in the forward "
           f"pass and has no graph); use torch.nn.functional.cross_entropy to differentiate twice")


def _refuse_double_backward(g: torch.Tensor) -> torch.Tensor:
    """``g`` with a grad_fn that raises a clear error if it is differentiated (what
    ``once_differentiable`` does, with our message and whether or not grad_output requires grad:
    torch's decorator lets the gradient through as a constant when it does not, which would make a
    second-order term silently vanish)."""
    try:
        err_fn = torch._C._functions.DelayedError(_DOUBLE.encode(), 1)
    except Exception:  # noqa: BLE001  # pragma: no cover - a torch without DelayedError
        raise RuntimeError(_DOUBLE) from None
    v = g.detach()
    v.requires_grad_(True)
    out = err_fn(v)
    return out[0] if isinstance(out, (tuple, list)) else out


def _check(input, target, weight, ignore_index, reduction, label_smoothing, chunk_rows):
    if not isinstance(input, torch.Tensor):
        raise _err(DTypeError, f"{_NAME}: input must be a torch.Tensor of logits; got {type(input).__name__}")
    if input.dtype not in _FLOATS:
        raise _err(DTypeError, f"{_NAME}: input must be float16, bfloat16, float32 or float64 logits; "
                               f"got dtype {input.dtype}")
    if input.dim() != 2:
        raise _err(ShapeError, f"{_NAME}: input must have shape (N, C); got shape {tuple(input.shape)}")
    n, c = input.shape
    if c == 0:
        raise _err(ShapeError, f"{_NAME}: input must have at least one class (C >= 1); got shape {tuple(input.shape)}")
    if not isinstance(target, torch.Tensor):
        raise _err(DTypeError, f"{_NAME}: target must be a torch.Tensor of class indices; got {type(target).__name__}")
    if target.dtype not in (torch.int64, torch.uint8):
        # torch: "expected target dtype to be Long or Byte" (probability targets are not served)
        raise _err(DTypeError, f"{_NAME}: target must hold int64 (or uint8) class indices; got dtype {target.dtype}")
    if tuple(target.shape) != (n,):
        raise _err(ShapeError, f"{_NAME}: target must have shape (N,) = ({n},) to match input {tuple(input.shape)}; "
                               f"got shape {tuple(target.shape)}")
    if target.device != input.device:
        raise _err(OptionError, f"{_NAME}: target must be on input's device {input.device}; got {target.device}")
    if weight is not None:
        if not isinstance(weight, torch.Tensor):
            raise _err(DTypeError, f"{_NAME}: weight must be None or a torch.Tensor; got {type(weight).__name__}")
        if tuple(weight.shape) != (c,):
            raise _err(ShapeError, f"{_NAME}: weight must have shape (C,) = ({c},); got shape {tuple(weight.shape)}")
        if weight.dtype != input.dtype:
            raise _err(DTypeError, f"{_NAME}: weight must have input's dtype {input.dtype}; got dtype {weight.dtype}")
        if weight.device != input.device:
            raise _err(OptionError, f"{_NAME}: weight must be on input's device {input.device}; got {weight.device}")
        if weight.requires_grad and torch.is_grad_enabled():
            raise _err(OptionError, f"{_NAME}: weight must not require grad (the lean path gives no gradient "
                                    f"for weight); got a weight with requires_grad=True: pass weight.detach() "
                                    f"or use torch.nn.functional.cross_entropy")
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, numbers.Integral):
        raise _err(OptionError, f"{_NAME}: ignore_index must be an int; got {ignore_index!r}")
    if reduction not in ("none", "mean", "sum"):
        raise _err(OptionError, f"{_NAME}: reduction must be 'none', 'mean' or 'sum'; got {reduction!r}")
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, numbers.Real):
        raise _err(OptionError, f"{_NAME}: label_smoothing must be a float in [0, 1]; got {label_smoothing!r}")
    if not 0.0 <= float(label_smoothing) <= 1.0:
        raise _err(OptionError, f"{_NAME}: label_smoothing must be in [0, 1]; got {label_smoothing!r}")
    if chunk_rows is not None and (isinstance(chunk_rows, bool) or not isinstance(chunk_rows, numbers.Integral)
                                   or chunk_rows < 1):
        raise _err(OptionError, f"{_NAME}: chunk_rows must be None or an int >= 1; got {chunk_rows!r}")


def lean_cross_entropy(
    input: torch.Tensor,
    target: torch.Tensor,
    weight: torch.Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
    chunk_rows: int | None = None,
) -> torch.Tensor:
    """``torch.nn.functional.cross_entropy(input, target, weight, ignore_index=ignore_index,
    reduction=reduction, label_smoothing=label_smoothing)`` for ``(N, C)`` logits and ``(N,)``
    class indices, with forward+backward peaking at 1.0-1.125x the logits above the input
    instead of torch's 3x (see the module docstring).

    Args:
        input: ``(N, C)`` logits, float16 / bfloat16 / float32 / float64 (any strides).
        target: ``(N,)`` int64 (or uint8) class indices in ``[0, C)`` or ``ignore_index``.
        weight: ``(C,)`` class weights of ``input``'s dtype, or None. Not differentiated.
        ignore_index: rows with this target contribute 0 and are left out of the mean.
        reduction: ``"mean"`` (sum / summed weights of the kept rows), ``"sum"`` or ``"none"``.
        label_smoothing: ``eps`` in ``[0, 1]``, spread over all ``C`` classes as torch does.
        chunk_rows: rows per chunk; ``None`` -> :func:`default_chunk_rows` (temporaries within
            1/8 of the logits). Any value gives the same numbers.

    Returns:
        The loss in ``input``'s dtype: a scalar, or ``(N,)`` for ``reduction="none"``.
    """
    _check(input, target, weight, ignore_index, reduction, label_smoothing, chunk_rows)
    eps = float(label_smoothing)
    if (torch.compiler.is_compiling() or _is_wrapped(input) or _is_wrapped(target)
            or (weight is not None and _is_wrapped(weight))):
        return F.cross_entropy(input, target, weight=weight, ignore_index=ignore_index, reduction=reduction,
                               label_smoothing=eps)
    if target.dtype != torch.int64:
        target = target.long()  # gather's index dtype
    if input.device.type == "cpu" and target.numel():
        # host check for host tensors only (accelerators: gather's device-side assertion)
        c = input.shape[1]
        bad = (target != ignore_index) & ((target < 0) | (target >= c))
        if bool(bad.any()):
            first = int(target[bad][0])
            raise _err(IndexRangeError, f"{_NAME}: target must hold class indices in [0, {c}) or "
                                        f"ignore_index={ignore_index}; got {first}")
    if weight is not None:
        weight = weight.detach()
    # autocast: torch runs cross_entropy in float32 (its autocast fp32 list) and returns a float32
    # loss; here the chunk math is float32 already, so autocast is switched off inside (it would
    # run mv / addr in 16 bits on CUDA) and the loss is returned in float32, as torch's
    device_type = input.device.type
    autocast = torch.is_autocast_enabled(device_type)
    out_dtype = torch.float32 if autocast and input.dtype != torch.float64 else input.dtype
    args = (input, target, weight, ignore_index, reduction, eps, chunk_rows, out_dtype)
    with torch.autocast(device_type, enabled=False) if autocast else contextlib.nullcontext():
        if torch.is_grad_enabled() and input.requires_grad:
            return _LeanCrossEntropy.apply(*args)
        with torch.no_grad():
            return _lean_forward(*args, need_grad=False)[0]
