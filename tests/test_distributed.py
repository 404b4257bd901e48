"""Distributed training with multiloss losses (issue 13, "What to build" item 4), each in its
own subprocess so that device flags, process groups and strategies do not leak into the suite:

* torch ``DistributedDataParallel`` over the ``gloo`` backend, 2 processes on CPU: the loss
  averaged over the ranks, and the gradients DDP all-reduces, equal the single-process
  full-batch loss and gradients (and torch's own ``CrossEntropyLoss``);
* jax with 2 (forced host) CPU devices and a batch sharded by a ``NamedSharding``: the jitted
  loss and gradient equal the unsharded ones, and the per-example losses stay sharded;
* ``tf.distribute.MirroredStrategy`` over 2 logical CPUs: ``model.fit`` with ``sample_weight``
  and a multiloss keras loss trains to the same weights and losses as with keras's own.

A framework that is not installed skips its test. The three run concurrently (one fixture
starts them all) to stay within ~60 s together. How each framework reduces a loss across
replicas is in ``docs/distributed.md``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import textwrap

import pytest

TIMEOUT = 240

TORCH_DDP = textwrap.dedent(
    r"""
    import json, os, sys
    import torch, torch.distributed as dist
    import multiloss.torch as mt

    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(16, 6, generator=g, dtype=torch.float64)
    y = torch.randint(0, 4, (16,), generator=g)
    w = torch.tensor([1.0, 2.0, 0.5, 1.5], dtype=torch.float64)

    def model():
        torch.manual_seed(0)
        return torch.nn.Linear(6, 4).double()

    # single process, full batch: multiloss and torch's own loss
    ref = {}
    for tag, loss_fn in (("multiloss", mt.CrossEntropyLoss(label_smoothing=0.1)),
                         ("torch", torch.nn.CrossEntropyLoss(label_smoothing=0.1))):
        m = model()
        loss = loss_fn(m(x), y)
        loss.backward()
        ref[tag] = (loss.item(), m.weight.grad.clone())

    # DDP: each rank its half of the batch; DDP averages the gradients over the ranks
    ddp = torch.nn.parallel.DistributedDataParallel(model())
    shard = slice(rank * 8, rank * 8 + 8)
    loss = mt.CrossEntropyLoss(label_smoothing=0.1)(ddp(x[shard]), y[shard])
    loss.backward()
    mean_loss = loss.detach().clone()
    dist.all_reduce(mean_loss)
    mean_loss /= world
    grad = ddp.module.weight.grad

    # per-sample losses (reduction='none') gathered from every rank: the full batch's
    per_sample = mt.CrossEntropyLoss(reduction="none", label_smoothing=0.1)(ddp.module(x[shard]), y[shard]).detach()
    gathered = [torch.empty_like(per_sample) for _ in range(world)]
    dist.all_gather(gathered, per_sample)
    full = torch.cat(gathered)
    if rank == 0:
        print("RESULT " + json.dumps({
            "loss_diff": abs(mean_loss.item() - ref["multiloss"][0]),
            "grad_diff": (grad - ref["multiloss"][1]).abs().max().item(),
            "torch_loss_diff": abs(ref["multiloss"][0] - ref["torch"][0]),
            "torch_grad_diff": (ref["multiloss"][1] - ref["torch"][1]).abs().max().item(),
            "per_sample_mean_diff": abs(full.mean().item() - ref["multiloss"][0]),
        }))
    dist.destroy_process_group()
    """
)

JAX_SHARDED = textwrap.dedent(
    r"""
    import json
    import numpy as np
    import jax, jax.numpy as jnp
    from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
    import optax
    import multiloss.jax as mj

    devices = jax.devices("cpu")
    assert len(devices) == 2, devices
    mesh = Mesh(np.array(devices), ("batch",))
    rng = np.random.default_rng(0)
    logits = jnp.asarray(rng.normal(size=(16, 5)), jnp.float32)
    labels = jnp.asarray(rng.integers(0, 5, size=16), jnp.int32)
    targets = jnp.asarray(rng.normal(size=(16, 5)), jnp.float32)

    def mean_ce(lg, lb):
        return mj.softmax_cross_entropy_with_integer_labels(lg, lb).mean()

    def mean_huber(p, t):
        return mj.huber_loss(p, t, delta=0.5).mean()

    out = {}
    for name, fn, a, b in (("ce", mean_ce, logits, labels), ("huber", mean_huber, logits, targets)):
        step = jax.jit(jax.value_and_grad(fn))
        v0, g0 = step(a, b)
        sa = jax.device_put(a, NamedSharding(mesh, P("batch")))
        sb = jax.device_put(b, NamedSharding(mesh, P("batch")))
        v1, g1 = step(sa, sb)
        out[name] = {"value_diff": float(abs(v1 - v0)), "grad_diff": float(jnp.max(jnp.abs(g1 - g0))),
                     "grad_devices": len(g1.sharding.device_set)}
    per_example = jax.jit(mj.softmax_cross_entropy_with_integer_labels)(
        jax.device_put(logits, NamedSharding(mesh, P("batch"))), jax.device_put(labels, NamedSharding(mesh, P("batch"))))
    out["per_example_devices"] = len(per_example.sharding.device_set)
    out["per_example_shard_rows"] = sorted(s.data.shape[0] for s in per_example.addressable_shards)
    out["optax_diff"] = float(jnp.max(jnp.abs(
        per_example - optax.losses.softmax_cross_entropy_with_integer_labels(logits, labels))))
    print("RESULT " + json.dumps(out))
    """
)

TF_MIRRORED = textwrap.dedent(
    r"""
    import json
    import numpy as np
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras
    import multiloss.keras as mk

    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = rng.integers(0, 3, size=64)
    sw = rng.uniform(0.2, 2.0, size=64).astype("float32")

    def train(loss):
        keras.utils.set_random_seed(0)
        with strategy.scope():
            model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="tanh"),
                                      keras.layers.Dense(3)])
            model.compile(optimizer=keras.optimizers.SGD(0.1), loss=loss)
        hist = model.fit(x, y, sample_weight=sw, batch_size=16, epochs=2, shuffle=False, verbose=0)
        return hist.history["loss"], np.concatenate([w.numpy().ravel() for w in model.weights])

    ours, w_ours = train(mk.SparseCategoricalCrossentropy(from_logits=True))
    theirs, w_theirs = train(keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    print("RESULT " + json.dumps({
        "replicas": strategy.num_replicas_in_sync,
        "history": ours, "native_history": theirs,
        "loss_diff": max(abs(a - b) for a, b in zip(ours, theirs)),
        "weight_diff": float(np.max(np.abs(w_ours - w_theirs))),
    }))
    """
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", "JAX_ENABLE_X64")}
    env.update({"TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1"}, **extra)
    return env


def _start(script: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)


def _result(procs: list[subprocess.Popen]) -> dict:
    outs = []
    for p in procs:
        try:
            stdout, stderr = p.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            p.kill()
            stdout, stderr = p.communicate()
        outs.append((p.returncode, stdout, stderr))
    lines = [ln for _, stdout, _ in outs for ln in stdout.splitlines() if ln.startswith("RESULT ")]
    if any(rc != 0 for rc, _, _ in outs) or not lines:
        return {"error": "\n---\n".join(f"rc={rc}\n{stderr[-2500:]}" for rc, _, stderr in outs)}
    return json.loads(lines[-1][len("RESULT "):])


def _have(*modules: str) -> bool:
    return all(importlib.util.find_spec(m) is not None for m in modules)


@pytest.fixture(scope="module")
def runs():
    """Start every installed framework's run at once; collect them when first needed."""
    started: dict[str, list[subprocess.Popen]] = {}
    if _have("torch"):
        env = _env(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(_free_port()), WORLD_SIZE="2")
        started["torch"] = [_start(TORCH_DDP, {**env, "RANK": str(r)}) for r in range(2)]
    if _have("jax", "optax"):
        started["jax"] = [_start(JAX_SHARDED, _env(XLA_FLAGS="--xla_force_host_platform_device_count=2",
                                                   JAX_PLATFORMS="cpu"))]
    if _have("tensorflow", "keras"):
        started["tf"] = [_start(TF_MIRRORED, _env(KERAS_BACKEND="tensorflow"))]
    cache: dict[str, dict] = {}

    def get(name: str) -> dict:
        if name not in started:
            pytest.skip(f"{name} is not installed")
        if name not in cache:
            cache[name] = _result(started[name])
        r = cache[name]
        assert "error" not in r, r["error"]
        return r

    yield get
    for procs in started.values():
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.communicate()


def test_torch_ddp_gloo_two_processes_equal_single_process(runs):
    r = runs("torch")
    assert r["loss_diff"] <= 1e-12, r  # float64: the mean of the two halves' means
    assert r["grad_diff"] <= 1e-12, r  # DDP's all-reduced average = the full batch's gradient
    assert r["torch_loss_diff"] <= 1e-12 and r["torch_grad_diff"] <= 1e-12, r
    assert r["per_sample_mean_diff"] <= 1e-12, r  # reduction='none' gathered across ranks


def test_jax_named_sharding_two_cpu_devices_equal_unsharded(runs):
    r = runs("jax")
    for name in ("ce", "huber"):
        assert r[name]["value_diff"] <= 1e-6 and r[name]["grad_diff"] <= 1e-6, r
        assert r[name]["grad_devices"] == 2, r  # the gradient stays sharded like the batch
    assert r["per_example_devices"] == 2 and r["per_example_shard_rows"] == [8, 8], r
    assert r["optax_diff"] <= 1e-6, r


def test_tf_mirrored_strategy_fit_with_sample_weight_equals_keras(runs):
    r = runs("tf")
    assert r["replicas"] == 2, r
    assert len(r["history"]) == 2 and r["history"][1] < r["history"][0], r
    assert r["loss_diff"] <= 1e-6 and r["weight_diff"] <= 1e-6, r  # measured: 0 and 6e-8
