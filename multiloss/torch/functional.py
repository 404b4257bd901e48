"""``multiloss.torch.functional``: the functional forms, with ``torch.nn.functional``'s names
and signatures (``cross_entropy(input, target, weight=None, size_average=None,
ignore_index=-100, reduce=None, reduction='mean', label_smoothing=0.0)`` ...), generated
from the same table as the modules (:mod:`multiloss.backends.torch_table`).

Extras include ``focal_loss``, ``sce_loss``, ``mape_loss``, ``hinge_loss``,
``cosine_similarity_loss`` (negative; ``torch.nn.functional.cosine_similarity`` is the
positive similarity and is *not* shadowed here), and the penalties ``l1_penalty`` /
``l2_penalty`` taking a module.
"""

from multiloss.backends.torch import FUNCTIONALS as _FUNCTIONALS
from multiloss.backends.torch import l1_penalty, l2_penalty

globals().update(_FUNCTIONALS)

__all__ = [*_FUNCTIONALS, "l1_penalty", "l2_penalty"]
