"""Quiet framework imports: TensorFlow's C++ startup log lines, without touching the user's
logging configuration.

TensorFlow (2.16+) writes INFO records to the process's stderr (file descriptor 2) while its
shared libraries load, before absl logging is initialised -- so ``TF_CPP_MIN_LOG_LEVEL``
does not filter them ("WARNING: All log messages before absl::InitializeLog() is called are
written to STDERR", "I0000 ... port.cc:153] oneDNN custom operations are on ...", "I0000 ...
cudart_stub.cc:31] Could not find cuda drivers ...", once per library). :func:`quiet_import`
captures file descriptor 2 for the duration of an import only, drops those INFO records and
writes everything else back (warnings, errors, Python tracebacks). Nothing global changes:
no environment variable, no logger level, no absl flag; TensorFlow logs as configured
afterwards.

The user's ``TF_CPP_MIN_LOG_LEVEL`` decides: ``0`` keeps every line (TensorFlow's INFO
records asked for), unset or ``1``-``3`` drop these INFO lines (as TensorFlow itself would
filter INFO records once its logging is initialised). It also does nothing when TensorFlow
is already imported (no startup lines to come) or when ``MULTILOSS_NATIVE_LOGS=1``.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
from typing import Iterator

__all__ = ["quiet_import", "is_startup_noise"]

# an INFO record of absl / glog ("I0000 00:00:1795717202.866380   27945 port.cc:153] ..."),
# absl's notice that logging is not initialised yet, and the second line of TF's
# cpu_feature_guard INFO record
_NOISE = re.compile(
    r"(I\d{4} \d\d:\d\d:[\d.]+\s+\d+ [\w.\-]+:\d+\] "
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|To enable the following instructions: .* in other operations, rebuild TensorFlow)"
)


def is_startup_noise(line: str) -> bool:
    """Whether ``line`` is one of TensorFlow's INFO startup records (see the module docstring)."""
    return _NOISE.match(line) is not None


def _active() -> bool:
    level = os.environ.get("TF_CPP_MIN_LOG_LEVEL")
    return ((level is None or level.strip() not in ("", "0")) and "tensorflow" not in sys.modules
            and os.environ.get("MULTILOSS_NATIVE_LOGS", "") in ("", "0"))


@contextlib.contextmanager
def quiet_import(force: bool = False) -> Iterator[None]:
    """Drop TensorFlow's INFO startup lines written to stderr inside the block (an import);
    keep every other line. ``force``: even when TensorFlow is imported already (tests)."""
    if not (force or _active()):
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (AttributeError, OSError, ValueError):  # no stderr file descriptor (pythonw, ...)
        yield
        return
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            text = tmp.read().decode("utf-8", errors="replace")
            kept = "".join(ln for ln in text.splitlines(keepends=True) if not is_startup_noise(ln))
            if kept:
                os.write(2, kept.encode("utf-8"))
