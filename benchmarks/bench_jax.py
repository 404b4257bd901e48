"""multiloss on jax (jit) vs optax: ``multiloss bench --backend jax`` as a script.

Not a test: it prints ratios. Pairs timed: ``multiloss/bench/jax.py``; any option of
``multiloss bench`` works (``--quick``, ``--sizes 4096x1000,64x10``, ``--threads 1``, ``--json``).
``run(**kw)`` returns the records as dicts (:func:`multiloss.bench.run`).
"""

import sys

from multiloss.bench import script

run, main = script("jax")

if __name__ == "__main__":
    sys.exit(main())
