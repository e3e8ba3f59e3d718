"""Exits non-zero unless two merged sweeps (trustsim merge) hold the same results: every dataset equal,
bit for bit (NaN included), except the runs' wall times."""
import sys

import h5py
import numpy as np

EXECUTION = {"runs/wall_seconds"}


def datasets(path):
    found = {}
    with h5py.File(path) as f:
        f.visititems(lambda name, obj: found.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None)
    return {k: v for k, v in found.items() if k not in EXECUTION}


def first_difference(a, b):
    """None if the two files hold the same results, else what differs."""
    x, y = datasets(a), datasets(b)
    if x.keys() != y.keys():
        return f"different datasets: {sorted(x.keys() ^ y.keys())}"
    for name in x:
        floats = isinstance(x[name], np.ndarray) and x[name].dtype.kind == "f"
        if not (x[name].tobytes() == y[name].tobytes() if floats else np.array_equal(x[name], y[name])):
            return f"{name} differs between {a} and {b}"
    return None


if __name__ == "__main__":
    problem = first_difference(*sys.argv[1:3])
    if problem:
        sys.exit(problem)
    print("identical")
