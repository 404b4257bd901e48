"""multiloss on torch (eager, torch.compile) vs torch.nn: ``multiloss bench --backend torch`` as a script.

Not a test: it prints ratios. Pairs timed: ``multiloss/bench/torch.py``; any option of
``multiloss bench`` works (``--quick``, ``--sizes 4096x1000,64x10``, ``--threads 1``, ``--json``).
``run(**kw)`` returns the records as dicts (:func:`multiloss.bench.run`).
"""

import sys

from multiloss.bench import script

run, main = script("torch")

if __name__ == "__main__":
    sys.exit(main())
