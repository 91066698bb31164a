"""Hand-made reproduction records for report tests (tests/ is on sys.path)."""

from __future__ import annotations

import math

from reluscope.experiments.reproduce import Task


def hand_record(n1, n2, index, *, conf, emp, exact, complete=True, acc=0.9, lbs=None,
                milp=None):
    """The record of one network, with the numbers given (XOR-k lower bounds ``lbs``)."""
    lbs = lbs or {}
    rec = {
        "key": Task(n1, n2, index).key, "n1": n1, "n2": n2, "index": index, "seed": 0,
        "train": {"train_accuracy": acc, "test_accuracy": acc, "seconds": 2.0},
        "bounds": {"method": "milp", "seconds": 3.0, "stably_active": 1,
                   "stably_inactive": 2, "unstable": 29},
        "upper": {"configuration_ub": conf, "empirical_ub": emp, "seconds": 0.5},
        "exact": {"regions": exact, "exact": complete, "seconds": 7.0,
                  "status": "complete" if complete else "time_limit"},
        "xor": {str(k): {"lower_bound": v, "log2_lower_bound": int(math.log2(v)),
                         "probability": 0.97, "repetitions": 28, "status": "complete",
                         "seconds": 1.5} for k, v in lbs.items()},
    }
    if milp is not None:
        rec["exact_milp"] = {"regions": milp, "exact": True, "seconds": 20.0}
    return rec
