#!/usr/bin/env python3
"""NumPy reference trajectories for xflow's optimizers (include/xflow/optim.hpp).

    /usr/bin/python3 reference.py OUTPUT.json

writes what tests/optim/test_optimizers.cpp compares against. Every update follows TensorFlow 1's
training ops (ApplyGradientDescent, ApplyMomentum, ApplyAdam, ApplyRMSProp,
ApplyCenteredRMSProp), in float64, with the operations in the order lib/optim/optimizers.cpp
writes them (docs/optimizers.md):

  * "fed": gradients given directly (apply_gradients) to three variables of shapes (2, 3), (3,)
    and (); the trajectory of every variable after every step and the final slots;
  * "quadratic": minimize() of 0.5 * sum((A x - b)^2) from x0; the loss before every step (what
    minimize returns) and x after it. The gradient is A^T (A x - b).

Tensors are {"shape": [...], "data": [...]} (row-major); Python writes floats with 17 significant
digits at most, which read back exactly. Inputs come from a generator with a fixed seed: the file
is the same on every run.
"""
import json
import math
import sys

import numpy as np

STEPS_FED = 6
STEPS_QUADRATIC = 8

# name -> (optimizer, constructor arguments in the C++ order)
CONFIGS = [
    ("sgd", "SGD", [0.1]),
    ("momentum", "Momentum", [0.1, 0.9, False]),
    ("nesterov", "Momentum", [0.1, 0.9, True]),
    ("adam", "Adam", [0.05, 0.9, 0.999, 1e-8]),
    ("adam_defaults", "Adam", [0.001, 0.9, 0.999, 1e-8]),
    ("rmsprop", "RMSProp", [0.01, 0.9, 0.0, 1e-10, False]),
    ("rmsprop_momentum", "RMSProp", [0.01, 0.9, 0.5, 1e-10, False]),
    ("rmsprop_centered", "RMSProp", [0.01, 0.9, 0.5, 1e-10, True]),
]


class Optimizer:
    """Slots per variable index, created on first use; `t` is the 1-based iteration count."""

    def __init__(self, kind, args):
        self.kind = kind
        self.args = args
        self.slots = {}
        self.t = 0

    def slot(self, i, name, shape, init=0.0):
        key = (i, name)
        if key not in self.slots:
            self.slots[key] = np.full(shape, init, dtype=np.float64)
        return self.slots[key]

    def apply(self, grads, xs):
        self.t += 1
        return [self.update(i, g, x) for i, (g, x) in enumerate(zip(grads, xs))]

    def update(self, i, g, x):
        a = self.args
        if self.kind == "SGD":
            (lr,) = a
            return x - g * lr
        if self.kind == "Momentum":
            lr, momentum, nesterov = a
            accum = self.slot(i, "momentum", x.shape) * momentum + g
            self.slots[(i, "momentum")] = accum
            if nesterov:
                return x - (g * lr + accum * momentum * lr)
            return x - accum * lr
        if self.kind == "Adam":
            lr, beta1, beta2, eps = a
            t = float(self.t)
            beta1_t = np.power(np.float64(beta1), np.float64(t))
            beta2_t = np.power(np.float64(beta2), np.float64(t))
            lr_t = lr * np.sqrt(1.0 - beta2_t) / (1.0 - beta1_t)
            m = self.slot(i, "m", x.shape) * beta1 + g * (1.0 - beta1)
            v = self.slot(i, "v", x.shape) * beta2 + np.square(g) * (1.0 - beta2)
            self.slots[(i, "m")] = m
            self.slots[(i, "v")] = v
            return x - lr_t * m / (np.sqrt(v) + eps)
        if self.kind == "RMSProp":
            lr, decay, momentum, eps, centered = a
            ms = self.slot(i, "rms", x.shape, 1.0) * decay + np.square(g) * (1.0 - decay)
            self.slots[(i, "rms")] = ms
            if centered:
                mg = self.slot(i, "mg", x.shape) * decay + g * (1.0 - decay)
                self.slots[(i, "mg")] = mg
                denom = np.sqrt(ms - np.square(mg) + eps)
            else:
                denom = np.sqrt(ms + eps)
            mom = self.slot(i, "momentum", x.shape) * momentum + g * lr / denom
            self.slots[(i, "momentum")] = mom
            return x - mom
        raise ValueError(self.kind)


def tensor(a):
    a = np.asarray(a, dtype=np.float64)
    for v in a.ravel():
        assert math.isfinite(v)
    return {"shape": list(a.shape), "data": [float(v) for v in a.ravel()]}


def fed_case(name, kind, args, rng_seed):
    rng = np.random.default_rng(rng_seed)
    xs = [rng.normal(size=(2, 3)), rng.normal(size=(3,)), np.array(rng.normal())]
    vars0 = [x.copy() for x in xs]
    opt = Optimizer(kind, args)
    grads, traj = [], []
    for step in range(STEPS_FED):
        gs = [rng.normal(size=x.shape) * 0.5 for x in xs]
        if step == 2:
            gs[0][0, 1] = 0.0  # a zero gradient entry
        xs = opt.apply(gs, xs)
        grads.append([tensor(g) for g in gs])
        traj.append([tensor(x) for x in xs])
    slots = {}
    for (i, slot_name), value in sorted(opt.slots.items()):
        slots.setdefault(slot_name, [None] * len(xs))[i] = tensor(value)
    return {"name": name, "optimizer": kind, "args": args, "vars0": [tensor(x) for x in vars0],
            "grads": grads, "traj": traj, "slots": slots, "iterations": opt.t}


def quadratic_cases():
    rng = np.random.default_rng(7)
    A = rng.normal(size=(4, 3))
    b = rng.normal(size=(4,))
    x0 = rng.normal(size=(3,))
    cases = []
    for name, kind, args in CONFIGS:
        opt = Optimizer(kind, args)
        x = x0.copy()
        losses, traj = [], []
        for _ in range(STEPS_QUADRATIC):
            r = A @ x - b
            losses.append(float(0.5 * np.sum(np.square(r))))
            (x,) = opt.apply([A.T @ r], [x])
            traj.append(tensor(x))
        cases.append({"name": name, "optimizer": kind, "args": args, "loss": losses, "traj": traj})
    return {"A": tensor(A), "b": tensor(b), "x0": tensor(x0), "cases": cases}


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: reference.py OUTPUT.json")
    doc = {
        "fed": [fed_case(name, kind, args, 100 + k) for k, (name, kind, args) in enumerate(CONFIGS)],
        "quadratic": quadratic_cases(),
    }
    with open(sys.argv[1], "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
