"""NumPy's side of the npz/save and npz/load rows of bench/bench.cpp (run by /usr/bin/python3).

  npz_numpy.py XFLOW_NPZ NUMPY_NPZ

Reads the arrays from XFLOW_NPZ (written by the bench), then answers one command per line of
standard input with one line of output:
  save   np.savez(NUMPY_NPZ, **arrays); prints the seconds it took (no fsync: np.savez does none)
  fresh  the same after removing NUMPY_NPZ (not timed): writing a new file, replacing none
  load   np.load(NUMPY_NPZ) with every array read into memory; prints the seconds
  check  whether XFLOW_NPZ holds the same names, dtypes, shapes and values; prints ok or why not
  quit
"""
import os
import sys
import time

import numpy as np


def main(xflow_npz, numpy_npz):
    with np.load(xflow_npz) as d:
        arrays = {k: d[k] for k in d.files}
    print('ready', flush=True)
    for line in sys.stdin:
        cmd = line.strip()
        if cmd in ('save', 'fresh'):
            if cmd == 'fresh' and os.path.exists(numpy_npz):
                os.remove(numpy_npz)
            t0 = time.perf_counter()
            np.savez(numpy_npz, **arrays)
            print(time.perf_counter() - t0, flush=True)
        elif cmd == 'load':
            t0 = time.perf_counter()
            with np.load(numpy_npz) as d:
                loaded = {k: d[k] for k in d.files}
            print(time.perf_counter() - t0, flush=True)
            del loaded
        elif cmd == 'check':
            with np.load(xflow_npz) as d:
                ok = list(d.files) == list(arrays) and all(
                    d[k].dtype == a.dtype and d[k].shape == a.shape and np.array_equal(d[k], a)
                    for k, a in arrays.items())
            print('ok' if ok else 'mismatch', flush=True)
        elif cmd == 'quit':
            break


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
