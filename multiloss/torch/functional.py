"""``multiloss.torch.functional``: the functional forms, with ``torch.nn.functional``'s names
and signatures (``cross_entropy(input, target, weight=None, size_average=None,
ignore_index=-100, reduce=None, reduction='mean', label_smoothing=0.0)`` ...), generated
from the same table as the modules (:mod:`multiloss.backends.torch`).

Extras: ``focal_loss``, ``sce_loss``, ``mape_loss``, ``hinge_loss``,
``cosine_similarity_loss`` (negative; ``torch.nn.functional.cosine_similarity`` is the
positive similarity and is *not* shadowed here), and the penalties ``l1_penalty`` /
``l2_penalty`` taking a module.
"""

from multiloss.backends.torch import FUNCTIONALS as _FUNCTIONALS
from multiloss.backends.torch import l1_penalty, l2_penalty

mse_loss = _FUNCTIONALS["mse_loss"]
l1_loss = _FUNCTIONALS["l1_loss"]
smooth_l1_loss = _FUNCTIONALS["smooth_l1_loss"]
huber_loss = _FUNCTIONALS["huber_loss"]
binary_cross_entropy = _FUNCTIONALS["binary_cross_entropy"]
binary_cross_entropy_with_logits = _FUNCTIONALS["binary_cross_entropy_with_logits"]
cross_entropy = _FUNCTIONALS["cross_entropy"]
nll_loss = _FUNCTIONALS["nll_loss"]
kl_div = _FUNCTIONALS["kl_div"]
focal_loss = _FUNCTIONALS["focal_loss"]
sce_loss = _FUNCTIONALS["sce_loss"]
mape_loss = _FUNCTIONALS["mape_loss"]
hinge_loss = _FUNCTIONALS["hinge_loss"]
cosine_similarity_loss = _FUNCTIONALS["cosine_similarity_loss"]

__all__ = [*_FUNCTIONALS, "l1_penalty", "l2_penalty"]
assert set(_FUNCTIONALS) <= set(globals()), "every table entry must be exported"
