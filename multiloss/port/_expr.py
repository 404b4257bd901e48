"""``multiloss port "<expression>"``: the expression is parsed with :mod:`ast`, never
evaluated. Accepted: one call of a known loss class or function, spelled with its module
(``torch.nn.CrossEntropyLoss``, ``nn.HuberLoss``, ``F.cross_entropy``, ``keras.losses.Huber``,
``optax.losses.huber_loss``, ``mt.`` / ``mk.`` / ``mj.`` / ``multiloss.``), with literal
arguments only (numbers, strings, booleans, None, lists and tuples of them); or a keras loss
identifier string (``"mse"``). A function form's call lists its options only (no arrays):
``optax.losses.huber_loss(delta=2.0)``. Anything else -- a name, an attribute of something
that is not a module path, another call, ``**kwargs`` -- is refused with a message.
"""

from __future__ import annotations

import ast
from typing import Any

from ._frameworks import Config
from ._objects import _keras_string, config_of

__all__ = ["ExpressionError", "parse"]

# module spellings -> (framework, kind, native); kind None: a class if the name is CamelCase
_MODULES: dict[str, tuple[str, str | None, bool]] = {
    "torch.nn": ("torch", "module", True), "nn": ("torch", "module", True),
    "torch.nn.functional": ("torch", "functional", True), "nn.functional": ("torch", "functional", True),
    "F": ("torch", "functional", True),
    "mt": ("torch", "module", False), "multiloss.torch": ("torch", "module", False),
    "mt.functional": ("torch", "functional", False), "multiloss.torch.functional": ("torch", "functional", False),
    "mF": ("torch", "functional", False),
    "keras.losses": ("keras", None, True), "tf.keras.losses": ("keras", None, True), "keras": ("keras", None, True),
    "mk": ("keras", None, False), "multiloss.keras": ("keras", None, False),
    "optax.losses": ("jax", "function", True), "optax": ("jax", "function", True),
    "mj": ("jax", "function", False), "multiloss.jax": ("jax", "function", False),
    "multiloss": ("numpy", "canonical", False),
}


class ExpressionError(ValueError):
    """The expression is not one call of a known loss with literal arguments."""


def _dotted(node: ast.AST, expr: str) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        raise ExpressionError(f"{expr!r}: the callee must be a loss spelled with its module (torch.nn.MSELoss, "
                              f"keras.losses.Huber, optax.losses.huber_loss ...); got "
                              f"{_what(node)} in {ast.unparse(node)!r}")
    parts.append(node.id)
    return ".".join(reversed(parts))


def _what(node: ast.AST) -> str:
    return {ast.Call: "a call", ast.Name: "a name", ast.Attribute: "an attribute access",
            ast.Subscript: "a subscript", ast.Lambda: "a lambda", ast.BinOp: "an operation",
            ast.Starred: "a starred argument"}.get(type(node), f"a {type(node).__name__} expression")


_LITERAL = (ast.Constant, ast.List, ast.Tuple, ast.UnaryOp)


def _literal(node: ast.AST, expr: str, where: str) -> Any:
    def ok(n: ast.AST) -> bool:
        if isinstance(n, ast.Constant):
            return n.value is None or isinstance(n.value, (bool, int, float, str))
        if isinstance(n, (ast.List, ast.Tuple)):
            return all(ok(e) for e in n.elts)
        if isinstance(n, ast.UnaryOp):
            return isinstance(n.op, (ast.USub, ast.UAdd)) and isinstance(n.operand, ast.Constant) and \
                isinstance(n.operand.value, (int, float)) and not isinstance(n.operand.value, bool)
        return False

    if not ok(node):
        bad = next((n for n in ast.walk(node) if not isinstance(n, (*_LITERAL, ast.expr_context, ast.unaryop))), node)
        raise ExpressionError(f"{expr!r}: {where} must be a literal (a number, string, boolean, None, or a list of "
                              f"them); got {_what(bad)}: {ast.unparse(bad)!r}")
    return ast.literal_eval(node)


def _positional_names(framework: str, kind: str, name: str, native: bool) -> list[str] | None:
    """The option names positional arguments bind to, in order (``None``: keywords only)."""
    from ._objects import _row

    if framework == "torch" and kind == "module":
        row = _row("torch", **({"native": name} if native else {"name": name}))
        if row is None:
            return None
        out = []
        for n, _ in row.params:
            if n == "*":
                break
            out.append(n)
        return out
    if framework == "keras" and kind == "class":
        row = _row("keras", cls=name)
        if row is None or (native and not row.keras_native):
            return None
        return [n for n, _ in row.options] + ["reduction"] + [n for n, _ in row.reduction_after] + ["name", "dtype"]
    return None


def parse(expr: str) -> Config:
    """The configured loss ``expr`` writes (see the module docstring)."""
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except SyntaxError as e:
        raise ExpressionError(f"{expr!r}: not a Python expression ({e.msg})") from None
    body = tree.body
    if isinstance(body, ast.Constant) and isinstance(body.value, str):
        return _keras_string(body.value)
    if not isinstance(body, ast.Call):
        raise ExpressionError(f"{expr!r}: expected one call of a loss class or function, e.g. "
                              f"'torch.nn.CrossEntropyLoss(label_smoothing=0.1)'; got {_what(body)}")
    dotted = _dotted(body.func, expr)
    module, _, name = dotted.rpartition(".")
    if module not in _MODULES:
        raise ExpressionError(f"{expr!r}: unknown module {module or dotted!r}; write the loss with one of "
                              f"{', '.join(sorted(_MODULES))}")
    framework, kind, native = _MODULES[module]
    if kind is None:
        kind = "class" if name[:1].isupper() else "function"
    options: dict[str, Any] = {}
    if body.args:
        names = _positional_names(framework, kind, name, native)
        if names is None:
            raise ExpressionError(f"{expr!r}: pass the options of {dotted} by keyword (a function form's "
                                  f"positional arguments are its arrays)")
        if len(body.args) > len(names):
            raise ExpressionError(f"{expr!r}: {dotted} takes at most {len(names)} positional options; got "
                                  f"{len(body.args)}")
        for n, a in zip(names, body.args):
            if isinstance(a, ast.Starred):
                raise ExpressionError(f"{expr!r}: a starred argument is not a literal")
            options[n] = _literal(a, expr, f"argument {n!r}")
    for kw in body.keywords:
        if kw.arg is None:
            raise ExpressionError(f"{expr!r}: **{ast.unparse(kw.value)} is not a literal argument")
        options[kw.arg] = _literal(kw.value, expr, f"argument {kw.arg!r}")
    return config_of(framework, kind, name, options, native=native, spelled=f"{module}.{name}")
