"""torch spec for ``multiloss bench``: ``multiloss.torch.X`` vs ``torch.nn.X``.

Modes: ``eager`` and ``compile`` (``torch.compile(module, backend="inductor",
dynamic=False)``; compiled once per size during warm-up, outside the timed region: on a
2-core CPU the first inductor compile takes ~20 s, later ones ~3 s per graph).

Memory: on CUDA, ``torch.cuda.max_memory_allocated`` over one forward+backward (above what
was allocated before it). On CPU, torch keeps no allocator statistics, so the figure is the
**bytes of tensors saved for backward** (``torch.autograd.graph.saved_tensors_hooks``, sum of
the unique storages, inputs included): the activation memory held between forward and
backward; eager mode only (a compiled graph saves inside AOTAutograd).

Dtypes (``--dtype``): floating inputs are made in float32 and cast with ``.to(dtype)``;
integer targets and lengths keep their dtype; both modules are cast with ``.to(dtype)``
(parameters and floating buffers, the same state). torch's CPU kernels of
``multi_margin_loss``, ``multilabel_margin_loss`` and ``ctc_loss`` have no float16/bfloat16:
those points are reported as skipped on CPU.
"""

from __future__ import annotations

from typing import Any

from .harness import CHECK_TOLERANCES, DEFAULT_DTYPE, DispatchRecord, LossSpec, Prepared, Size, interleaved

NAME = "torch"
MODES = ("eager", "compile")
COMPILE_BACKEND = "inductor"

LOSSES: tuple[LossSpec, ...] = tuple(
    LossSpec(name, f"multiloss.torch.{name}", f"torch.nn.{name}", inputs, cls, kw)
    for name, inputs, cls, kw in (
        ("MSELoss", "regression", False, {}),
        ("L1Loss", "regression", False, {}),
        ("SmoothL1Loss", "regression", False, {}),
        ("HuberLoss", "regression", False, {}),
        ("BCELoss", "probabilities", False, {}),
        ("BCEWithLogitsLoss", "logits_binary", False, {}),
        ("CrossEntropyLoss", "class_index", True, {}),
        ("NLLLoss", "log_probs_index", True, {}),
        ("KLDivLoss", "log_probs_probs", False, {"reduction": "batchmean"}),
        ("MarginRankingLoss", "ranking_pairs", False, {"margin": 0.1}),
        ("HingeEmbeddingLoss", "signed", False, {}),
        ("SoftMarginLoss", "signed", False, {}),
        ("MultiLabelSoftMarginLoss", "logits_binary", False, {}),
        ("MultiLabelMarginLoss", "multilabel_index", False, {}),
        ("MultiMarginLoss", "class_index", False, {}),
        ("PoissonNLLLoss", "poisson_counts", False, {"full": True}),
        ("GaussianNLLLoss", "gaussian_var", False, {}),
        ("CosineEmbeddingLoss", "cosine_pairs", False, {"margin": 0.2}),
        ("TripletMarginLoss", "triplets", False, {"swap": True}),
        ("TripletMarginWithDistanceLoss", "triplets", False, {}),
        ("CTCLoss", "ctc", False, {}),
        # owns its head (64 -> 1000); the size's c is unused (see make_inputs "hidden_index")
        ("LinearCrossEntropyLoss", "hidden_index", False, {"in_features": 64, "num_classes": 1000}),
    )
)


def available() -> tuple[bool, str]:
    try:
        import torch  # noqa: F401

        import multiloss.torch  # noqa: F401
    except Exception as exc:  # ImportError or a broken install
        return False, f"{type(exc).__name__}: {exc}"
    return True, ""


def setup(threads: int | None = None) -> None:
    """Intra-op threads for torch (``torch.set_num_threads``); ``None`` keeps torch's default."""
    if threads:
        import torch

        torch.set_num_threads(threads)


def versions() -> dict[str, str]:
    import torch

    return {"torch": torch.__version__, "torch_threads": str(torch.get_num_threads()),
            "torch_device": _device_name()}


def _device_name() -> str:
    """The device the figures come from, named: ``cuda:0 NVIDIA H100 80GB HBM3`` or ``cpu``."""
    import torch

    if torch.cuda.is_available():
        return f"cuda:{torch.cuda.current_device()} {torch.cuda.get_device_name()}"
    return "cpu"


def _device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _sync() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def _dtype(name: str) -> Any:
    import torch

    dt = getattr(torch, name, None)
    if not isinstance(dt, torch.dtype) or not dt.is_floating_point:
        raise ValueError(f"bench.torch: dtype must name a torch floating dtype; got {name!r}")
    return dt


def make_inputs(kind: str, size: Size, seed: int = 0, dtype: str = DEFAULT_DTYPE) -> tuple[Any, ...]:
    """``(input, target, *more)`` of ``kind`` on the default device, from torch's own
    generator: the loss's positional arrays; the first requires grad. A kind of a loss of
    more arrays sets ``more`` (a variance, a third embedding, lengths). Made in float32, then
    the floating ones are cast to ``dtype`` (the same values, rounded); integer ones are kept."""
    import torch

    g = torch.Generator().manual_seed(seed)
    n, c = size.n, size.c
    x = torch.randn(n, c, generator=g)
    more: tuple = ()
    if kind == "regression":
        y = torch.randn(n, c, generator=g)
    elif kind == "probabilities":
        x = torch.sigmoid(x)
        y = torch.randint(0, 2, (n, c), generator=g).float()
    elif kind == "logits_binary":
        y = torch.randint(0, 2, (n, c), generator=g).float()
    elif kind == "class_index":
        y = torch.randint(0, c, (n,), generator=g)
    elif kind == "log_probs_index":
        x = torch.log_softmax(x, dim=1)
        y = torch.randint(0, c, (n,), generator=g)
    elif kind == "log_probs_probs":
        x = torch.log_softmax(x, dim=1)
        y = torch.softmax(torch.randn(n, c, generator=g), dim=1)
    elif kind == "ranking_pairs":  # (input1, input2, target): margin_ranking_loss
        y = torch.randn(n, c, generator=g)
        more = (torch.randint(0, 2, (n, c), generator=g).float() * 2 - 1,)
    elif kind == "signed":  # labels in {-1, 1}
        y = torch.randint(0, 2, (n, c), generator=g).float() * 2 - 1
    elif kind == "multilabel_index":  # class indices padded with -1 (about 5 labels per row)
        y = torch.randint(0, c, (n, c), generator=g)
        y[:, min(5, c - 1)] = -1
    elif kind == "poisson_counts":  # log-rates, Poisson counts (0 and 1 included: Stirling's mask)
        y = torch.poisson(torch.exp(x), generator=g)
    elif kind == "gaussian_var":  # (input, target, var): heteroscedastic variances
        y = torch.randn(n, c, generator=g)
        more = (torch.rand(n, c, generator=g) + 0.1,)
    elif kind == "cosine_pairs":  # (input1, input2, target): labels in {-1, 1} per row
        y = torch.randn(n, c, generator=g)
        more = (torch.randint(0, 2, (n,), generator=g) * 2 - 1,)
    elif kind == "triplets":  # (anchor, positive, negative)
        y = x + 0.5 * torch.randn(n, c, generator=g)
        more = (x + torch.randn(n, c, generator=g),)
    elif kind == "hidden_index":  # (hidden (n, 64), class indices in [0, 1000)): a linear head's loss
        x = torch.randn(n, 64, generator=g)
        y = torch.randint(0, 1000, (n,), generator=g)
    elif kind == "ctc":  # (log_probs, targets, input_lengths, target_lengths): T=50, C=20, S=30, N=n
        t_len, n_cls, s_len = 50, 20, 30  # the torch docs' CTCLoss example (there N=16)
        x = torch.log_softmax(torch.randn(t_len, n, n_cls, generator=g), dim=2)
        y = torch.randint(1, n_cls, (n, s_len), generator=g)
        more = (torch.full((n,), t_len), torch.randint(10, s_len + 1, (n,), generator=g))
    else:  # pragma: no cover - a spec typo
        raise ValueError(f"bench.torch: unknown input kind {kind!r}")
    dev, dt = _device(), _dtype(dtype)

    def to(a):
        return a.to(dev, dt) if a.is_floating_point() else a.to(dev)

    return (to(x).requires_grad_(True), to(y), *(to(a) for a in more))


def modules(spec: LossSpec, dtype: str = DEFAULT_DTYPE) -> tuple[Any, Any]:
    """``(ours, native)`` modules of ``spec``, with the same state, cast to ``dtype`` (a no-op
    for a loss without parameters or floating buffers)."""
    import torch

    import multiloss.torch as mt

    ours, native = getattr(mt, spec.name)(**spec.kwargs), getattr(torch.nn, spec.name)(**spec.kwargs)
    if any(True for _ in native.parameters()):  # a loss that owns parameters: the same ones
        ours.load_state_dict(native.state_dict())
    if dtype != DEFAULT_DTYPE:
        dt = _dtype(dtype)
        ours, native = ours.to(dt), native.to(dt)
    return ours, native


def prepare(spec: LossSpec, mode: str, size: Size, dtype: str = DEFAULT_DTYPE) -> Prepared:
    import torch

    ours, native = modules(spec, dtype)
    args = make_inputs(spec.inputs, size, dtype=dtype)
    x = args[0]
    if mode == "compile":
        import torch._dynamo

        torch._dynamo.reset()  # a fresh cache per point: no recompile-limit surprises
        ours = torch.compile(ours, backend=COMPILE_BACKEND, dynamic=False)
        native = torch.compile(native, backend=COMPILE_BACKEND, dynamic=False)
    elif mode != "eager":
        raise ValueError(f"multiloss bench: torch modes are {MODES}; got {mode!r}")

    def fwd(m):
        def f():
            with torch.no_grad():
                m(*args)
            _sync()

        return f

    def fb(m):
        def f():
            m(*args).backward()
            x.grad = None
            _sync()

        return f

    def check():
        with torch.no_grad():
            a, b = ours(*args), native(*args)
        if a.dtype != b.dtype:
            raise AssertionError(f"{spec.name} {size} {dtype}: multiloss returns {a.dtype}, native {b.dtype}")
        rtol, atol = CHECK_TOLERANCES[dtype]
        if not torch.allclose(a.double(), b.double(), rtol=rtol, atol=atol):
            raise AssertionError(f"{spec.name} {size} {dtype}: multiloss {a.item()} != native {b.item()}")

    memory, kind = None, "n/a"
    if _device() == "cuda":
        kind = "cuda max_memory_allocated"

        def memory():
            return _cuda_peak(lambda: ours(*args).backward(), x), _cuda_peak(lambda: native(*args).backward(), x), kind
    elif mode == "eager":
        kind = "saved-for-backward bytes"

        def memory():
            return _saved_bytes(lambda: ours(*args), x), _saved_bytes(lambda: native(*args), x), kind
    else:
        kind = "n/a (CPU compile)"
    return Prepared((fwd(ours), fwd(native)), (fb(ours), fb(native)), check, memory, kind,
                    input_bytes=x.numel() * x.element_size(), dtype=str(x.dtype).removeprefix("torch."))


def _saved_bytes(run, x) -> int:
    """Sum of the unique storages saved for backward by one forward (then backward)."""
    import torch

    seen: dict[int, int] = {}

    def pack(t):
        s = t.untyped_storage()
        seen[s.data_ptr()] = s.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = run()
    out.backward()
    x.grad = None
    return sum(seen.values())


def _cuda_peak(run, x) -> int:
    import torch

    torch.cuda.synchronize()
    base = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    run()
    torch.cuda.synchronize()
    peak = torch.cuda.max_memory_allocated() - base
    x.grad = None
    return peak


def dispatch(spec: LossSpec, size: Size = Size(4, 3), budget_s: float = 0.3,
             dtype: str = DEFAULT_DTYPE) -> DispatchRecord:
    """Per-call cost of ``multiloss.torch.X()(x, y)`` vs ``torch.nn.X()(x, y)`` on tiny eager
    tensors of ``dtype`` (no autograd), and of the bare ``array_namespace(x, y)``."""
    import torch

    from .._namespace import array_namespace

    ours, native = modules(spec, dtype)
    args = make_inputs(spec.inputs, size, dtype=dtype)
    args = (args[0].detach(), *args[1:])
    t = interleaved(lambda: ours(*args), lambda: native(*args), repeat=15, warmup=50,
                    min_sample_s=0.01, budget_s=budget_s)
    ns = interleaved(lambda: array_namespace(*args[:2]), lambda: None, repeat=7, warmup=50, min_sample_s=0.005)
    del torch
    return DispatchRecord(NAME, spec.name, str(size), t.a_s * 1e6, t.b_s * 1e6, (ns.a_s - ns.b_s) * 1e6, dtype)
