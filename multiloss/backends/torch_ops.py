"""torch fast primitives for ``multiloss._ops`` (fused ATen kernels).

Imported by ``multiloss._namespace`` the first time a ``torch.Tensor`` is seen."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .. import _ops

_NS = "array_api_compat.torch"


def _pick(x, labels, axis=-1):
    return torch.gather(x, axis, labels.unsqueeze(axis)).squeeze(axis)


def _one_hot(labels, num_classes, dtype=None, axis=-1):
    hot = F.one_hot(labels.clamp(0, num_classes - 1), num_classes)
    hot = hot * ((labels >= 0) & (labels < num_classes)).unsqueeze(-1)
    hot = hot.to(dtype if dtype is not None else torch.float32)
    return hot if axis in (-1, labels.ndim) else torch.movedim(hot, -1, axis)


def _is_concrete(x):
    return not torch.compiler.is_compiling()


def _clamped_log(x, min=-100.0):
    # same value and safe gradient as the generic one, in fewer kernels
    return torch.where(x > 0, torch.log(x.clamp_min(torch.finfo(x.dtype).tiny)), x.new_full((), min)).clamp_min(min)


_ops.register(
    _NS,
    stop_gradient=lambda x: x.detach(),
    log_softmax=lambda x, axis=-1: torch.log_softmax(x, dim=axis),
    softmax=lambda x, axis=-1: torch.softmax(x, dim=axis),
    logsumexp=lambda x, axis=-1, keepdims=False: torch.logsumexp(x, dim=axis, keepdim=keepdims),
    softplus=F.softplus,
    log_sigmoid=F.logsigmoid,
    sigmoid=torch.sigmoid,
    take_along_axis=lambda x, indices, axis=-1: torch.take_along_dim(x, indices, dim=axis),
    pick=_pick,
    one_hot=_one_hot,
    xlogy=torch.xlogy,
    is_concrete=_is_concrete,
)
