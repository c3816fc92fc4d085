#!/usr/bin/env python3
"""The NumPy oracle for xflow's eager ops.

    /usr/bin/python3 gen_expected.py OUTPUT.json

writes the test cases that tests/ops/test_ops_numpy.cpp runs. Each case names a public op of
include/xflow/ops.hpp, its attributes, its inputs and either the expected outputs or the class of
the exception xflow must raise.

NumPy gives the values; xflow's documented dtype lattice gives the result dtype (DESIGN.md,
"Dtypes vs the NumPy oracle"). So every expected value is computed by NumPy on the inputs converted
the way xflow converts them (lib/ops/ops.cpp, lib/ops/composite.cpp), and the result is cast to
xflow's dtype:

  * promotion is the larger dtype of bool < uint8 < int32 < int64 < float32 < float64;
  * a C++ scalar is weak: it takes the tensor's dtype unless its kind is higher (an integer scalar
    with a bool tensor gives int32, a float scalar with an integer tensor gives float32);
  * float functions (exp ... erf, div, atan2, hypot, logaddexp, mean, variance, std, logsumexp,
    softmax) turn integer and bool inputs into float32;
  * sum and prod of bool and uint8 accumulate in int32;
  * arithmetic on bool raises DTypeError;
  * integer division and mod by zero give 0; float -> int casts truncate, saturate, NaN -> 0;
  * integer pow with a negative exponent gives 0 unless the base is +-1;
  * floor, ceil and round of integers return the input; of bool they raise DTypeError.

Tensors are stored as base64 of their little-endian bytes (bool as one byte 0/1), so NaN, Inf and
every bit of a float survive. Inputs may carry a "view": the stored tensor is then turned into the
logical input by a transpose ("transpose": reverse the axes), by taking every other element of
the last axis ("step2") or by broadcasting its size-1 first axis ("bcast", to "view_shape"), so
kernels also see non-contiguous inputs and zero strides.

Every random draw comes from generators with fixed seeds: the file is the same on every run.
"""
import base64
import itertools
import json
import math
import sys

import numpy as np

DTYPES = ["bool", "uint8", "int32", "int64", "float32", "float64"]
INTS = ["uint8", "int32", "int64"]
FLOATS = ["float32", "float64"]
RANK = {d: i for i, d in enumerate(DTYPES)}
NP = {"bool": np.bool_, "uint8": np.uint8, "int32": np.int32, "int64": np.int64,
      "float32": np.float32, "float64": np.float64}


def is_float(d):
    return d in FLOATS


def is_int(d):
    return d in INTS


def promote(a, b):
    return a if RANK[a] >= RANK[b] else b


def dtype_of(v):
    for d, t in NP.items():
        if v.dtype == t:
            return d
    raise ValueError("unsupported dtype %s" % v.dtype)


class XErr(Exception):
    """The model says xflow raises this exception class."""

    def __init__(self, cls):
        super().__init__(cls)
        self.cls = cls


class Arr:
    """A tensor operand: NumPy values with an xflow dtype, optionally fed through a view."""

    def __init__(self, v, d=None, view=None):
        v = np.asarray(v)
        if d is None:
            d = dtype_of(v)
        self.v = v.astype(NP[d])
        self.d = d
        self.view = view


class Sc:
    """A C++ scalar operand: kind 'bool', 'int' or 'float'."""

    def __init__(self, kind, value):
        self.kind = kind
        self.value = value


# ---------------------------------------------------------------------------------------------
# Encoding

def enc_tensor(v, d):
    a = np.array(np.asarray(v).astype(NP[d]), order="C")  # (ascontiguousarray turns 0-d into 1-d)
    if d == "bool":
        raw = a.astype(np.uint8).tobytes()
    else:
        raw = a.astype(a.dtype.newbyteorder("<")).tobytes()
    return {"dtype": d, "shape": [int(s) for s in a.shape], "data": base64.b64encode(raw).decode("ascii")}


def enc_float(x):
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def enc_operand(x, rng_fill):
    if isinstance(x, Sc):
        v = x.value
        if x.kind == "float":
            v = enc_float(v)
        elif x.kind == "bool":
            v = bool(v)
        else:
            v = int(v)
        return {"scalar": x.kind, "value": v}
    stored = x.v
    if x.view == "transpose":
        stored = np.array(x.v.transpose(), order="C")
    elif x.view == "step2":
        shape = list(x.v.shape)
        shape[-1] *= 2
        stored = np.zeros(shape, dtype=NP[x.d])
        # The skipped elements hold junk a kernel must not read.
        junk = rng_fill.integers(1, 100, size=shape).astype(NP[x.d])
        stored[...] = junk
        stored[..., 0::2] = x.v
    elif x.view == "bcast":
        stored = x.v[:1]
        assert (np.broadcast_to(stored, x.v.shape) == x.v).all() or is_float(x.d)
    out = enc_tensor(stored, x.d)
    if x.view:
        out["view"] = x.view
    if x.view == "bcast":
        out["view_shape"] = [int(n) for n in x.v.shape]
    return out


# ---------------------------------------------------------------------------------------------
# The cases

CASES = []
FILL_RNG = np.random.default_rng(7)


def add_case(family, op, inputs, model, attrs=None, name=None, tol=None):
    """Runs `model()` (which returns a list of (values, dtype) outputs, or raises XErr) and
    records the case. `tol` is (rtol, atol) for float outputs; exact when None."""
    attrs = attrs or {}
    c = {"family": family, "op": op, "attrs": attrs,
         "inputs": [enc_operand(x, FILL_RNG) for x in inputs]}
    with np.errstate(all="ignore"):
        try:
            outs = model()
        except XErr as e:
            outs = None
            c["error"] = e.cls
    if outs is not None:
        c["outputs"] = [enc_tensor(v, d) for v, d in outs]
        if tol is not None and any(is_float(d) for _, d in outs):
            rtol, atol = tol(outs) if callable(tol) else tol
            c["rtol"], c["atol"] = float(rtol), float(atol)
        else:
            c["rtol"], c["atol"] = 0.0, 0.0
    c["name"] = name or describe(op, inputs, attrs)
    CASES.append(c)


def describe(op, inputs, attrs):
    parts = []
    for x in inputs:
        if isinstance(x, Sc):
            parts.append("%s scalar %r" % (x.kind, x.value))
        else:
            s = "(" + ", ".join(str(n) for n in x.v.shape) + ("," if x.v.ndim == 1 else "") + ")"
            parts.append("%s %s%s" % (s, x.d, " [" + x.view + "]" if x.view else ""))
    a = ", ".join("%s=%s" % (k, json.dumps(v)) for k, v in attrs.items())
    return "%s(%s%s)" % (op, "; ".join(parts), "; " + a if a else "")


# ---------------------------------------------------------------------------------------------
# Reference conversions (xflow's, mirrored)

def int_info(d):
    return np.iinfo(NP[d])


def wrap_int(x, d):
    """Python int -> value of integer dtype d with two's-complement wrap-around."""
    info = int_info(d)
    bits = 8 * np.dtype(NP[d]).itemsize
    x %= 1 << bits
    if info.min < 0 and x > info.max:
        x -= 1 << bits
    return x


def cast_ref(v, src, dst):
    """xflow's cast: nonzero -> true; float -> int truncates toward zero, saturates, NaN -> 0."""
    v = np.asarray(v)
    if dst == "bool":
        return v != 0
    if is_float(src) and is_int(dst):
        info = int_info(dst)
        src_t = NP[src]
        lo, hi = src_t(info.min), src_t(info.max)  # the bounds as the source type, as the kernel
        out = np.empty(v.shape, dtype=NP[dst])
        flat_in, flat_out = v.reshape(-1), out.reshape(-1)
        for i, x in enumerate(flat_in):
            if np.isnan(x):
                flat_out[i] = 0
            elif x <= lo:
                flat_out[i] = info.min
            elif x >= hi:
                flat_out[i] = info.max
            else:
                flat_out[i] = int(x)  # truncates toward zero
        return out
    with np.errstate(all="ignore"):
        return v.astype(NP[dst])


def cast_arr(x, d):
    return Arr(cast_ref(x.v, x.d, d), d)


def weak_result(s, d):
    if s.kind == "bool":
        return d
    if s.kind == "int":
        return "int32" if d == "bool" else d
    return d if is_float(d) else "float32"


def scalar_tensor(s, d):
    """full({}, s, d): the scalar as a 0-d tensor of dtype d."""
    if d == "bool":
        return Arr(np.array(s.value != 0), "bool")
    if s.kind == "int" and is_int(d):
        return Arr(np.array(wrap_int(int(s.value), d)), d)
    return Arr(cast_ref(np.array(float(s.value)), "float64", d), d)


# ---------------------------------------------------------------------------------------------
# Tolerances

def ftol(d):
    """(rtol, atol) for one float computation of dtype d done by xsimd vs libm."""
    if d == "float32":
        return (1e-5, 1e-6)
    return (1e-12, 1e-13)


def sum_tol(d, mags):
    """Tolerance for sums: a few ulps of the sum of magnitudes of the terms."""
    eps = float(np.finfo(NP[d]).eps)
    mags = np.asarray(mags, dtype=np.float64)
    mags = mags[np.isfinite(mags)]
    m = float(mags.max()) if mags.size else 0.0
    rt = ftol(d)[0]
    return (rt, max(8 * eps * m, ftol(d)[1]))


# ---------------------------------------------------------------------------------------------
# Data

RNG = np.random.default_rng(20240601)

FLOAT_SPECIALS = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.5, -3.5, 1e-30, 1e30, 7.0]
INT_SPECIALS = {
    "uint8": [0, 1, 2, 127, 128, 254, 255],
    "int32": [-2**31, 2**31 - 1, -1, 0, 1, 2, -7, 100000],
    "int64": [-2**63, 2**63 - 1, -1, 0, 1, 3, 2**40 + 1, -(2**40) - 3],
}


def rand(d, shape, lo=None, hi=None, scale=3.0):
    if d == "bool":
        return RNG.integers(0, 2, size=shape).astype(np.bool_)
    if d == "uint8":
        return RNG.integers(0 if lo is None else lo, 256 if hi is None else hi, size=shape).astype(np.uint8)
    if d in ("int32", "int64"):
        return RNG.integers(-50 if lo is None else lo, 50 if hi is None else hi, size=shape).astype(NP[d])
    if lo is not None:
        return RNG.uniform(lo, hi, size=shape).astype(NP[d])
    return (RNG.standard_normal(size=shape) * scale).astype(NP[d])


def specials(d):
    if d == "bool":
        return np.array([True, False, True, True, False])
    if is_float(d):
        return np.array(FLOAT_SPECIALS, dtype=NP[d])
    return np.array(INT_SPECIALS[d], dtype=NP[d])


def shp(*s):
    return tuple(s)


def bcast(d, shape, **kw):
    """An operand whose values repeat along axis 0, fed as a broadcast (zero-stride) view."""
    row = rand(d, (1,) + tuple(shape[1:]), **kw)
    return Arr(np.broadcast_to(row, shape).copy(), d, "bcast")


# =============================================================================================
# Unary elementwise

UNARY_NUMERIC = ["neg", "abs", "sign", "square", "relu"]
UNARY_FLOAT = ["exp", "expm1", "log", "log1p", "sqrt", "rsqrt", "reciprocal", "sin", "cos", "tan",
               "tanh", "sigmoid", "erf"]
UNARY_ROUNDING = ["floor", "ceil", "round"]
UNARY_PRED = ["logical_not", "isnan", "isinf", "isfinite"]
UNARY = UNARY_NUMERIC + UNARY_FLOAT + UNARY_ROUNDING + UNARY_PRED

_erf = np.vectorize(math.erf, otypes=[np.float64])


def float_fn(op, x):
    """The float function in float64 (the reference); the caller casts to the result dtype."""
    x = x.astype(np.float64)
    if op == "exp":
        return np.exp(x)
    if op == "expm1":
        return np.expm1(x)
    if op == "log":
        return np.log(x)
    if op == "log1p":
        return np.log1p(x)
    if op == "sin":
        return np.sin(x)
    if op == "cos":
        return np.cos(x)
    if op == "tan":
        return np.tan(x)
    if op == "tanh":
        return np.tanh(x)
    if op == "sigmoid":
        return 1.0 / (1.0 + np.exp(-x))
    if op == "erf":
        return _erf(x) if x.size else x.copy()
    raise KeyError(op)


# Float functions computed exactly by xflow (one IEEE operation, or two mirrored exactly).
EXACT_FLOAT_UNARY = {"sqrt", "rsqrt", "reciprocal"}


def unary_model(op, x):
    if op in UNARY_FLOAT:
        d = x.d if is_float(x.d) else "float32"
        v = cast_ref(x.v, x.d, d)
        if op == "sqrt":
            return [(np.sqrt(v), d)]
        if op == "rsqrt":
            return [(NP[d](1) / np.sqrt(v), d)]
        if op == "reciprocal":
            return [(NP[d](1) / v, d)]
        return [(float_fn(op, v).astype(NP[d]), d)]
    if op in UNARY_ROUNDING:
        if x.d == "bool":
            raise XErr("DTypeError")
        if not is_float(x.d):
            return [(x.v, x.d)]
        f = {"floor": np.floor, "ceil": np.ceil, "round": np.rint}[op]
        return [(f(x.v), x.d)]
    if op in UNARY_PRED:
        if op == "logical_not":
            return [(x.v == 0, "bool")]
        if not is_float(x.d):
            return [(np.full(x.v.shape, op == "isfinite"), "bool")]
        f = {"isnan": np.isnan, "isinf": np.isinf, "isfinite": np.isfinite}[op]
        return [(f(x.v), "bool")]
    # numeric: same dtype, bool refused
    if x.d == "bool":
        raise XErr("DTypeError")
    v = x.v
    if op == "neg":
        r = np.negative(v)
    elif op == "abs":
        r = np.abs(v)
    elif op == "sign":
        r = np.sign(v)
    elif op == "square":
        r = np.square(v)
    else:
        r = np.where(v < 0, NP[x.d](0), v)
    return [(r.astype(NP[x.d]), x.d)]


def unary_tol(op):
    def t(outs):
        v, d = outs[0]
        if op in UNARY_FLOAT and op not in EXACT_FLOAT_UNARY:
            return ftol(d)
        return (0.0, 0.0)
    return t


def gen_unary():
    for op in UNARY:
        domain_args = {}
        if op in ("log", "sqrt", "rsqrt"):
            domain_args = dict(lo=0.01, hi=20.0)
        elif op == "log1p":
            domain_args = dict(lo=-0.99, hi=20.0)
        elif op in ("exp", "expm1"):
            domain_args = dict(lo=-20.0, hi=20.0)
        for d in DTYPES:
            for shape in [shp(), shp(7), shp(2, 3), shp(3, 4, 5), shp(0, 3)]:
                if is_float(d):
                    v = rand(d, shape, **domain_args) if domain_args else rand(d, shape)
                elif d == "uint8":
                    v = rand(d, shape, 0, 30 if op in ("exp", "expm1") else 256)
                elif d in ("int32", "int64"):
                    v = rand(d, shape, -10 if op in ("exp", "expm1") else 1 if op in ("log", "sqrt", "rsqrt") else -50, 12)
                else:
                    v = rand(d, shape)
                x = Arr(v, d)
                add_case("unary", op, [x], lambda op=op, x=x: unary_model(op, x), tol=unary_tol(op))
            # special values (NaN, Inf, signed zeros, extremes)
            x = Arr(specials(d), d)
            add_case("unary", op, [x], lambda op=op, x=x: unary_model(op, x), tol=unary_tol(op),
                     name="%s(specials %s)" % (op, d))
            x = bcast(d, (4, 5), **domain_args) if is_float(d) and domain_args else bcast(d, (4, 5))
            if not (op in ("log", "sqrt", "rsqrt") and d in ("int32", "int64")):
                add_case("unary", op, [x], lambda op=op, x=x: unary_model(op, x), tol=unary_tol(op))
            # non-contiguous inputs
            for view in ("transpose", "step2"):
                x = Arr(rand(d, (3, 5), **domain_args) if is_float(d) and domain_args else
                        rand(d, (3, 5), 0, 10) if d == "uint8" else
                        rand(d, (3, 5), 1, 10) if d in ("int32", "int64") else rand(d, (3, 5)), d, view)
                add_case("unary", op, [x], lambda op=op, x=x: unary_model(op, x), tol=unary_tol(op))
        # long inputs: full SIMD batches plus a tail, in both float dtypes
        for d in FLOATS:
            v = rand(d, (1000 + 3,), **domain_args) if domain_args else rand(d, (1003,))
            x = Arr(v, d)
            add_case("unary", op, [x], lambda op=op, x=x: unary_model(op, x), tol=unary_tol(op))
    # accuracy over wide ranges for the transcendental functions
    wide = {
        "exp": (-87.0, 88.0), "expm1": (-30.0, 30.0), "log": (1e-30, 1e30), "log1p": (-0.999, 1e6),
        "sin": (-100.0, 100.0), "cos": (-100.0, 100.0), "tan": (-1.5, 1.5), "tanh": (-20.0, 20.0),
        "sigmoid": (-80.0, 80.0), "erf": (-6.0, 6.0),
    }
    for op, (lo, hi) in wide.items():
        for d in FLOATS:
            if op == "log":
                v = np.exp(RNG.uniform(np.log(lo), np.log(hi), size=500)).astype(NP[d])
            else:
                v = RNG.uniform(lo, hi, size=500).astype(NP[d])
            x = Arr(v, d)
            add_case("unary", op, [x], lambda op=op, x=x: unary_model(op, x), tol=unary_tol(op),
                     name="%s(wide range [%g, %g] %s)" % (op, lo, hi, d))
    # ties for round: half to even
    for d in FLOATS:
        x = Arr(np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 4.5, -0.49999997, 1e20], dtype=NP[d]), d)
        add_case("unary", "round", [x], lambda x=x: unary_model("round", x), name="round(ties %s)" % d)


# =============================================================================================
# Binary elementwise

BIN_ARITH = ["add", "sub", "mul", "floor_div", "mod", "pow", "maximum", "minimum", "relu_grad"]
BIN_FLOAT = ["div", "atan2", "hypot", "logaddexp"]
BIN_COMPARE = ["equal", "not_equal", "less", "less_equal", "greater", "greater_equal"]
BIN_LOGICAL = ["logical_and", "logical_or", "logical_xor"]
BINARY = BIN_ARITH + BIN_FLOAT + BIN_COMPARE + BIN_LOGICAL


def int_pow(a, e, d):
    info = int_info(d)
    a, e = int(a), int(e)
    if info.min < 0 and e < 0:
        if a == 1:
            return 1
        if a == -1:
            return -1 if e % 2 else 1
        return 0
    return wrap_int(pow(a, e, 1 << (8 * np.dtype(NP[d]).itemsize)), d)


def binary_values(op, a, b, d):
    """op on two arrays of the compute dtype d (already broadcastable)."""
    if op == "add":
        return np.add(a, b)
    if op == "sub":
        return np.subtract(a, b)
    if op == "mul":
        return np.multiply(a, b)
    if op == "floor_div":
        return np.floor_divide(a, b)
    if op == "mod":
        return np.mod(a, b)
    if op == "maximum":
        return np.maximum(a, b)
    if op == "minimum":
        return np.minimum(a, b)
    if op == "relu_grad":  # TensorFlow's ReluGrad(gradients=a, features=b)
        return np.where(b > 0, a, np.zeros_like(a)).astype(a.dtype)
    if op == "pow":
        if is_float(d):
            return np.power(a.astype(np.float64), b.astype(np.float64)).astype(NP[d])
        aa, bb = np.broadcast_arrays(a, b)
        out = np.empty(aa.shape, dtype=NP[d])
        for idx in np.ndindex(aa.shape):
            out[idx] = int_pow(aa[idx], bb[idx], d)
        return out
    if op == "div":
        return np.divide(a, b)
    if op == "atan2":
        return np.arctan2(a.astype(np.float64), b.astype(np.float64)).astype(NP[d])
    if op == "hypot":
        return np.hypot(a.astype(np.float64), b.astype(np.float64)).astype(NP[d])
    if op == "logaddexp":
        return np.logaddexp(a.astype(np.float64), b.astype(np.float64)).astype(NP[d])
    if op in BIN_COMPARE:
        f = {"equal": np.equal, "not_equal": np.not_equal, "less": np.less,
             "less_equal": np.less_equal, "greater": np.greater, "greater_equal": np.greater_equal}[op]
        return f(a, b)
    f = {"logical_and": np.logical_and, "logical_or": np.logical_or, "logical_xor": np.logical_xor}[op]
    return f(a, b)


def binary_model(op, a, b):
    """xflow's binary op: promotion (weak scalars), the compute dtype, the domain check, then the
    broadcast check (infer checks dtypes before shapes)."""
    if isinstance(b, Sc):
        common = weak_result(b, a.d)
        b = scalar_tensor(b, common)
    elif isinstance(a, Sc):
        common = weak_result(a, b.d)
        a = scalar_tensor(a, common)
    else:
        common = promote(a.d, b.d)
    if op in BIN_LOGICAL:
        common = "bool"
    elif op in BIN_FLOAT and not is_float(common):
        common = "float32"
    elif op in BIN_ARITH and common == "bool":
        raise XErr("DTypeError")
    av, bv = cast_ref(a.v, a.d, common), cast_ref(b.v, b.d, common)
    try:
        np.broadcast_shapes(av.shape, bv.shape)
    except ValueError:
        raise XErr("ShapeError")
    out_d = "bool" if op in BIN_COMPARE + BIN_LOGICAL else common
    return [(np.asarray(binary_values(op, av, bv, common)).astype(NP[out_d]), out_d)]


def binary_tol(op):
    def t(outs):
        v, d = outs[0]
        if op in ("pow", "atan2", "hypot", "logaddexp"):
            return ftol(d)
        return (0.0, 0.0)
    return t


def bin_data(op, d, shape, second=False):
    """Values where the op is interesting and (for integers) defined."""
    if op == "pow":
        if is_float(d):
            if second:
                return (RNG.integers(-6, 7, size=shape) / 2.0).astype(NP[d])
            return RNG.uniform(-3, 3, size=shape).astype(NP[d])
        if second:
            return rand(d, shape, -3 if d != "uint8" else 0, 6)
        return rand(d, shape, -4 if d != "uint8" else 0, 5)
    if op in ("floor_div", "mod", "div") and second:
        if is_float(d):
            v = rand(d, shape)
            return v
        return rand(d, shape, -6 if d != "uint8" else 0, 7)  # includes 0
    if d in ("int32", "int64") and op in ("add", "sub", "mul"):
        v = rand(d, shape, -1000, 1000)
        return v
    if d in ("int32", "int64"):
        return rand(d, shape, -20, 20)
    return rand(d, shape)


def gen_binary():
    for op in BINARY:
        tol = binary_tol(op)
        # same dtype, every dtype, several shapes
        for d in DTYPES:
            for sa, sb in [((), ()), ((6,), (6,)), ((2, 3), (2, 3)), ((3, 1), (1, 4)), ((2, 3), (3,)),
                           ((2, 1, 4), (3, 1)), ((0, 3), (1, 3)), ((0, 3), (3,)), ((4,), ()),
                           ((), (2, 2)), ((1, 1), (1,)), ((2, 3, 4), (2, 1, 4))]:
                a = Arr(bin_data(op, d, sa), d)
                b = Arr(bin_data(op, d, sb, True), d)
                add_case("binary", op, [a, b], lambda op=op, a=a, b=b: binary_model(op, a, b), tol=tol)
            # long rows (full SIMD batches and a tail), and the same with a broadcast operand
            a = Arr(bin_data(op, d, (2, 517)), d)
            b = Arr(bin_data(op, d, (2, 517), True), d)
            add_case("binary", op, [a, b], lambda op=op, a=a, b=b: binary_model(op, a, b), tol=tol)
            b1 = Arr(bin_data(op, d, (517,), True), d)
            add_case("binary", op, [a, b1], lambda op=op, a=a, b=b1: binary_model(op, a, b), tol=tol)
            c = Arr(bin_data(op, d, (2, 1), True), d)
            add_case("binary", op, [a, c], lambda op=op, a=a, b=c: binary_model(op, a, b), tol=tol)
            add_case("binary", op, [c, a], lambda op=op, a=c, b=a: binary_model(op, a, b), tol=tol)
            # non-contiguous operands
            a = Arr(bin_data(op, d, (4, 3)), d, "transpose")
            b = Arr(bin_data(op, d, (4, 3), True), d, "step2")
            add_case("binary", op, [a, b], lambda op=op, a=a, b=b: binary_model(op, a, b), tol=tol)
            a = bcast(d, (3, 6)) if op not in ("pow",) else Arr(bin_data(op, d, (3, 6)), d)
            b = Arr(bin_data(op, d, (3, 6), True), d, "transpose")
            add_case("binary", op, [a, b], lambda op=op, a=a, b=b: binary_model(op, a, b), tol=tol)
            # specials against specials (every pair)
            s = specials(d)
            a = Arr(s.reshape(-1, 1), d)
            b = Arr(s.reshape(1, -1), d)
            add_case("binary", op, [a, b], lambda op=op, a=a, b=b: binary_model(op, a, b), tol=tol,
                     name="%s(specials x specials %s)" % (op, d))
        # mixed dtypes: every pair
        for da, db in itertools.product(DTYPES, DTYPES):
            if da == db:
                continue
            a = Arr(bin_data(op, da, (2, 3)), da)
            b = Arr(bin_data(op, db, (3,), True), db)
            add_case("binary", op, [a, b], lambda op=op, a=a, b=b: binary_model(op, a, b), tol=tol)
        # scalars: tensor op scalar and scalar op tensor, every dtype and scalar kind
        for d in DTYPES:
            x = Arr(bin_data(op, d, (2, 3)), d)
            for s in [Sc("bool", True), Sc("int", 3), Sc("int", -2), Sc("float", 2.5), Sc("float", -0.5)]:
                if d == "uint8" and s.kind == "int" and s.value < 0:
                    continue  # the scalar would wrap to uint8 (documented by full(), not interesting)
                add_case("binary", op, [x, s], lambda op=op, a=x, b=s: binary_model(op, a, b), tol=tol)
                add_case("binary", op, [s, x], lambda op=op, a=s, b=x: binary_model(op, a, b), tol=tol)
            if is_float(d):
                for v in [np.nan, np.inf, -np.inf]:
                    s = Sc("float", v)
                    add_case("binary", op, [x, s], lambda op=op, a=x, b=s: binary_model(op, a, b), tol=tol)
        # broadcasting failures
        for sa, sb in [((2, 3), (4,)), ((3, 2), (2, 3)), ((0, 3), (2, 3))]:
            a = Arr(rand("float32", sa), "float32")
            b = Arr(rand("float32", sb), "float32")
            add_case("binary", op, [a, b], lambda op=op, a=a, b=b: binary_model(op, a, b), tol=tol)

    # integer corner cases
    for d in ("int32", "int64"):
        info = int_info(d)
        a = Arr(np.array([info.min, info.min, info.max, 7, -7, 7, -7, 0, 5], dtype=NP[d]), d)
        b = Arr(np.array([-1, 1, -1, 2, 2, -2, -2, 0, 0], dtype=NP[d]), d)
        for op in ("floor_div", "mod", "add", "sub", "mul"):
            add_case("binary", op, [a, b], lambda op=op, a=a, b=b: binary_model(op, a, b),
                     name="%s(integer corners %s)" % (op, d))
        base = Arr(np.array([2, -2, 1, -1, -1, 0, 3, 7, -3, 2, 0], dtype=NP[d]), d)
        ex = Arr(np.array([-1, -1, -5, -5, -4, 3, 0, 2, 3, 62, 0], dtype=NP[d]), d)
        add_case("binary", "pow", [base, ex], lambda a=base, b=ex: binary_model("pow", a, b),
                 name="pow(negative exponents and overflow %s)" % d)
    u = Arr(np.array([255, 3, 2, 0, 16], dtype=np.uint8), "uint8")
    e = Arr(np.array([2, 5, 8, 0, 2], dtype=np.uint8), "uint8")
    add_case("binary", "pow", [u, e], lambda: binary_model("pow", u, e), name="pow(uint8 wrap)")
    # float pow special cases (IEEE / C99 pow)
    for d in FLOATS:
        vals = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -8.0, 3.0]
        a = Arr(np.array(vals, dtype=NP[d]).reshape(-1, 1), d)
        b = Arr(np.array(vals, dtype=NP[d]).reshape(1, -1), d)
        add_case("binary", "pow", [a, b], lambda a=a, b=b: binary_model("pow", a, b),
                 tol=binary_tol("pow"), name="pow(special pairs %s)" % d)
        a = Arr(RNG.uniform(0.1, 10, size=300).astype(NP[d]), d)
        b = Arr(RNG.uniform(-10, 10, size=300).astype(NP[d]), d)
        add_case("binary", "pow", [a, b], lambda a=a, b=b: binary_model("pow", a, b),
                 tol=binary_tol("pow"), name="pow(positive bases, wide exponents %s)" % d)
        a = Arr(RNG.standard_normal(size=300).astype(NP[d]) * 10, d)
        b = Arr(RNG.standard_normal(size=300).astype(NP[d]) * 10, d)
        add_case("binary", "atan2", [a, b], lambda a=a, b=b: binary_model("atan2", a, b),
                 tol=binary_tol("atan2"), name="atan2(random %s)" % d)
        # hypot: no overflow or underflow in between, over the whole exponent range
        big = np.finfo(NP[d]).max
        tiny = np.finfo(NP[d]).tiny
        vals = [big, big / 2, -big, tiny, -tiny * 3, 1e-3, 3.0, -4.0, 0.0, -0.0, np.inf, -np.inf, np.nan]
        a = Arr(np.array(vals, dtype=NP[d]).reshape(-1, 1), d)
        b = Arr(np.array(vals, dtype=NP[d]).reshape(1, -1), d)
        add_case("binary", "hypot", [a, b], lambda a=a, b=b: binary_model("hypot", a, b),
                 tol=binary_tol("hypot"), name="hypot(extreme pairs %s)" % d)
        e = RNG.uniform(-300 if d == "float64" else -35, 300 if d == "float64" else 35, size=(2, 300))
        a = Arr((RNG.standard_normal(size=300) * 10.0 ** e[0]).astype(NP[d]), d)
        b = Arr((RNG.standard_normal(size=300) * 10.0 ** e[1]).astype(NP[d]), d)
        add_case("binary", "hypot", [a, b], lambda a=a, b=b: binary_model("hypot", a, b),
                 tol=binary_tol("hypot"), name="hypot(wide exponents %s)" % d)
        # logaddexp: equal infinities, opposite infinities, large gaps, NaN
        vals = [np.inf, -np.inf, np.nan, 0.0, -0.0, 1.0, -1.0, 30.0, -30.0, 700.0, -700.0, 1e30, -1e30]
        a = Arr(np.array(vals, dtype=NP[d]).reshape(-1, 1), d)
        b = Arr(np.array(vals, dtype=NP[d]).reshape(1, -1), d)
        add_case("binary", "logaddexp", [a, b], lambda a=a, b=b: binary_model("logaddexp", a, b),
                 tol=binary_tol("logaddexp"), name="logaddexp(special pairs %s)" % d)
        a = Arr(RNG.uniform(-80, 80, size=300).astype(NP[d]), d)
        b = Arr(RNG.uniform(-80, 80, size=300).astype(NP[d]), d)
        add_case("binary", "logaddexp", [a, b], lambda a=a, b=b: binary_model("logaddexp", a, b),
                 tol=binary_tol("logaddexp"), name="logaddexp(random %s)" % d)


# =============================================================================================
# where, cast, clip

def where_model(c, a, b):
    cb = c.v != 0
    if isinstance(b, Sc):
        d = weak_result(b, a.d)
        bt, at = scalar_tensor(b, d), a
    elif isinstance(a, Sc):
        d = weak_result(a, b.d)
        at, bt = scalar_tensor(a, d), b
    else:
        d = promote(a.d, b.d)
        at, bt = a, b
    av, bv = cast_ref(at.v, at.d, d), cast_ref(bt.v, bt.d, d)
    try:
        np.broadcast_shapes(cb.shape, av.shape, bv.shape)
    except ValueError:
        raise XErr("ShapeError")
    return [(np.where(cb, av, bv), d)]


def gen_where_cast_clip():
    for d in DTYPES:
        for sc, sa, sb in [((2, 3), (2, 3), (2, 3)), ((3, 1), (1, 4), (3, 4)), ((4,), (), (2, 4)),
                           ((), (3,), (3,)), ((0, 2), (2,), (1, 2))]:
            c = Arr(rand("bool", sc), "bool")
            a = Arr(rand(d, sa), d)
            b = Arr(rand(d, sb), d)
            add_case("where", "where", [c, a, b], lambda c=c, a=a, b=b: where_model(c, a, b))
        x = Arr(specials(d), d)
        y = Arr(specials(d)[::-1].copy(), d)
        c = Arr(np.arange(x.v.size) % 2 == 0, "bool")
        add_case("where", "where", [c, x, y], lambda c=c, a=x, b=y: where_model(c, a, b))
        # a non-bool condition is converted (nonzero -> true)
        c = Arr(specials(d), d)
        a = Arr(rand("float32", c.v.shape), "float32")
        add_case("where", "where", [c, a, Sc("float", -1.0)], lambda c=c, a=a: where_model(c, a, Sc("float", -1.0)))
        for s in [Sc("int", 7), Sc("float", 0.25), Sc("bool", True)]:
            c = Arr(rand("bool", (2, 3)), "bool")
            a = Arr(rand(d, (2, 3)), d)
            add_case("where", "where", [c, a, s], lambda c=c, a=a, s=s: where_model(c, a, s))
            add_case("where", "where", [c, s, a], lambda c=c, a=a, s=s: where_model(c, s, a))
    for da, db in itertools.product(DTYPES, DTYPES):
        if da != db:
            c = Arr(rand("bool", (3, 2)), "bool")
            a = Arr(rand(da, (3, 2)), da)
            b = Arr(rand(db, (2,)), db)
            add_case("where", "where", [c, a, b], lambda c=c, a=a, b=b: where_model(c, a, b))
    c = Arr(rand("bool", (2, 3)), "bool")
    a = Arr(rand("float32", (3, 2)), "float32")
    add_case("where", "where", [c, a, a], lambda: where_model(c, a, a), name="where(cond (2, 3) vs (3, 2): ShapeError)")
    c = Arr(rand("bool", (2, 5)), "bool", "transpose")
    a = Arr(rand("int64", (2, 5)), "int64", "step2")
    b = Arr(rand("int64", (2, 5)), "int64", "transpose")
    add_case("where", "where", [c, a, b], lambda: where_model(c, a, b))

    # cast: every pair of dtypes, with specials (saturation, NaN -> 0, truncation toward zero)
    cast_values = {
        "bool": np.array([True, False, True]),
        "uint8": np.array([0, 1, 127, 128, 200, 255], dtype=np.uint8),
        "int32": np.array([-2**31, -129, -1, 0, 1, 127, 255, 256, 300, 2**31 - 1, 16777217], dtype=np.int32),
        "int64": np.array([-2**63, -2**31 - 1, -1, 0, 1, 255, 256, 2**31, 2**53 + 1, 2**63 - 1], dtype=np.int64),
        "float32": np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 0.7, -0.7, 1.5, -1.5, 255.9, 256.0, -1.0,
                             2147483520.0, 2147483648.0, -2147483904.0, 3e9, -3e9, 1e20, -1e20, 9.2233715e18,
                             1e-40, 16777217.0], dtype=np.float32),
        "float64": np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 0.7, -0.7, 1.5, -1.5, 255.9, 256.0, -1.0,
                             2147483647.9, 2147483648.0, -2147483648.5, -2147483649.0, 3e9, -3e9, 1e20, -1e20,
                             9223372036854774784.0, 9.3e18, 1e-320, 16777217.0, 1e300], dtype=np.float64),
    }
    for src, dst in itertools.product(DTYPES, DTYPES):
        x = Arr(cast_values[src], src)
        add_case("cast", "cast", [x], lambda x=x, dst=dst: [(cast_ref(x.v, x.d, dst), dst)], attrs={"dtype": dst})
        x = Arr(rand(src, (0, 3)), src)
        add_case("cast", "cast", [x], lambda x=x, dst=dst: [(cast_ref(x.v, x.d, dst), dst)], attrs={"dtype": dst})
        x = Arr(rand(src, (3, 4)), src, "transpose")
        add_case("cast", "cast", [x], lambda x=x, dst=dst: [(cast_ref(x.v, x.d, dst), dst)], attrs={"dtype": dst})

    # clip(x, lo, hi) = minimum(maximum(x, lo), hi)
    def clip_model(x, lo, hi):
        (m, md), = binary_model("maximum", x, lo)
        return binary_model("minimum", Arr(m, md), hi)

    for d in DTYPES:
        x = Arr(rand(d, (3, 4)) if d != "uint8" else rand(d, (3, 4)), d)
        for lo, hi in [(Sc("int", 2), Sc("int", 9)), (Sc("float", -1.5), Sc("float", 2.5)),
                       (Sc("int", -3), Sc("float", 3.5)), (Sc("bool", False), Sc("bool", True))]:
            if d == "uint8" and lo.kind == "int" and lo.value < 0:
                continue
            add_case("where", "clip", [x, lo, hi], lambda x=x, lo=lo, hi=hi: clip_model(x, lo, hi))
        lo = Arr(rand(d, (4,)), d)
        hi = Arr(rand(d, (3, 1)), d)
        add_case("where", "clip", [x, lo, hi], lambda x=x, lo=lo, hi=hi: clip_model(x, lo, hi))
        if is_float(d):
            xs = Arr(specials(d), d)
            add_case("where", "clip", [xs, Sc("float", -1.0), Sc("float", 1.0)],
                     lambda x=xs: clip_model(x, Sc("float", -1.0), Sc("float", 1.0)))
    x = Arr(rand("int32", (5,)), "int32")
    lo = Arr(rand("float64", (5,)), "float64")
    hi = Arr(rand("uint8", (1,)), "uint8")
    add_case("where", "clip", [x, lo, hi], lambda: clip_model(x, lo, hi))


# =============================================================================================
# Reductions

REDUCE = ["sum", "mean", "prod", "max", "min", "all", "any", "logsumexp", "variance", "stddev"]


def norm_axes(axes, rank):
    if axes is None:
        return list(range(rank))
    out = []
    for a in axes:
        if a < -rank or a >= rank:
            raise XErr("AxisError")
        out.append(a + rank if a < 0 else a)
    if len(set(out)) != len(out):
        raise XErr("InvalidArgument")
    return sorted(out)


def reduce_model(op, x, axes, keepdims, ddof=0):
    ax = tuple(norm_axes(axes, x.v.ndim))
    count = 1
    for a in ax:
        count *= x.v.shape[a]
    if op in ("sum", "prod"):
        d = "int32" if x.d in ("bool", "uint8") else x.d
        v = cast_ref(x.v, x.d, d)
        if is_float(d):
            f = np.sum if op == "sum" else np.prod
            r = f(v.astype(np.float64), axis=ax, keepdims=keepdims)
        else:
            f = np.sum if op == "sum" else np.prod
            r = f(v.astype(np.int64), axis=ax, keepdims=keepdims)  # wraps mod 2^64, then mod 2^32
        return [(np.asarray(r).astype(NP[d]), d)]
    if op in ("max", "min"):
        if count == 0:
            raise XErr("InvalidArgument")
        f = np.max if op == "max" else np.min
        return [(np.asarray(f(x.v, axis=ax, keepdims=keepdims)), x.d)]
    if op in ("all", "any"):
        f = np.all if op == "all" else np.any
        return [(np.asarray(f(x.v != 0, axis=ax, keepdims=keepdims)), "bool")]
    d = x.d if is_float(x.d) else "float32"
    v = cast_ref(x.v, x.d, d).astype(np.float64)
    if op == "mean":
        r = np.sum(v, axis=ax, keepdims=keepdims) / count
    elif op in ("variance", "stddev"):
        m = np.sum(v, axis=ax, keepdims=True) / count
        r = np.sum((v - m) * (v - m), axis=ax, keepdims=keepdims) / (count - ddof)
        if op == "stddev":
            r = np.sqrt(r)
    else:  # logsumexp, shifted by the max where it is finite (as xflow and SciPy)
        if count == 0:
            r = np.full(np.sum(v, axis=ax, keepdims=keepdims).shape, -np.inf)
        else:
            m = np.max(v, axis=ax, keepdims=True)
            m = np.where(np.isfinite(m), m, 0.0)
            r = np.log(np.sum(np.exp(v - m), axis=ax, keepdims=True)) + m
            if not keepdims:
                r = np.squeeze(r, axis=ax)
    return [(np.asarray(r).astype(NP[d]), d)]


def reduce_tol(op, x, axes, keepdims):
    def t(outs):
        v, d = outs[0]
        if op in ("max", "min", "all", "any") or not is_float(d):
            return (0.0, 0.0)
        rank = x.v.ndim
        try:
            ax = tuple(norm_axes(axes, rank))
        except XErr:
            return (0.0, 0.0)
        xv = cast_ref(x.v, x.d, d).astype(np.float64)
        count = max(1, int(np.prod([x.v.shape[a] for a in ax])) if ax else 1)
        eps = float(np.finfo(NP[d]).eps)
        if op == "prod":
            return (max(ftol(d)[0], 4 * count * eps), ftol(d)[1])
        if op in ("sum", "mean"):
            mags = np.sum(np.abs(xv), axis=ax) / (count if op == "mean" else 1) if xv.size else np.zeros(1)
            return sum_tol(d, mags)
        if op in ("variance", "stddev"):
            mags = np.sum(xv * xv, axis=ax) / count if xv.size else np.zeros(1)
            rt, at = sum_tol(d, mags)
            if op == "stddev":
                at = math.sqrt(at)
            return (max(rt, 8 * eps), at)
        return (ftol(d)[0], max(ftol(d)[1], 8 * eps * math.log(count + 1)))  # logsumexp
    return t


def gen_reductions():
    axes_cases = [((2, 3, 4), None, False), ((2, 3, 4), None, True), ((2, 3, 4), [0], False),
                  ((2, 3, 4), [1], True), ((2, 3, 4), [2], False), ((2, 3, 4), [-1], True),
                  ((2, 3, 4), [0, 2], False), ((2, 3, 4), [0, 2], True), ((2, 3, 4), [-1, 0], False),
                  ((2, 3, 4), [1, 2], False), ((2, 3, 4), [0, 1, 2], False), ((2, 3, 4), [], False),
                  ((5,), None, False), ((5,), [0], True), ((), None, False), ((), [], True),
                  ((4, 1, 3), [1], False), ((1, 5, 1), [1], True),
                  ((0, 3), [0], False), ((0, 3), [1], False), ((0, 3), None, True), ((3, 0), [1], True),
                  ((2, 3, 4), [3], False), ((2, 3, 4), [-4], False), ((2, 3, 4), [1, -2], False)]
    for op in REDUCE:
        for d in DTYPES:
            for shape, axes, keepdims in axes_cases:
                if d == "uint8" and op == "prod":
                    v = rand(d, shape, 0, 4)
                elif op == "prod" and is_int(d):
                    v = rand(d, shape, -4, 5)
                elif op == "prod" and is_float(d):
                    v = rand(d, shape, 0.5, 1.8)
                else:
                    v = rand(d, shape)
                x = Arr(v, d)
                attrs = {"axes": axes, "keepdims": keepdims}
                add_case("reduce", op, [x], lambda op=op, x=x, axes=axes, k=keepdims: reduce_model(op, x, axes, k),
                         attrs=attrs, tol=reduce_tol(op, x, axes, keepdims))
            x = bcast(d, (3, 4)) if op != "prod" or not is_float(d) else bcast(d, (3, 4), lo=0.5, hi=1.5)
            for axes in ([0], [1], None):
                add_case("reduce", op, [x], lambda op=op, x=x, axes=axes: reduce_model(op, x, axes, False),
                         attrs={"axes": axes, "keepdims": False}, tol=reduce_tol(op, x, axes, False))
            # non-contiguous input
            for view in ("transpose", "step2"):
                x = Arr(rand(d, (3, 4)) if op != "prod" else rand(d, (3, 4), 0, 3) if not is_float(d)
                        else rand(d, (3, 4), 0.5, 1.5), d, view)
                for axes in ([0], [1], None):
                    add_case("reduce", op, [x], lambda op=op, x=x, axes=axes: reduce_model(op, x, axes, False),
                             attrs={"axes": axes, "keepdims": False}, tol=reduce_tol(op, x, axes, False))
            # special values (int64's extremes would overflow variance's float32 squares: that is
            # the documented float32 rule, not something to compare against float64 NumPy)
            s = specials(d)
            if op in ("variance", "stddev") and d == "int64":
                s = s[np.abs(s.astype(np.float64)) < 2**50]
            x = Arr(np.stack([s, s[::-1]]), d)
            for axes in ([1], [0], None):
                add_case("reduce", op, [x], lambda op=op, x=x, axes=axes: reduce_model(op, x, axes, False),
                         attrs={"axes": axes, "keepdims": False}, tol=reduce_tol(op, x, axes, False),
                         name="%s(specials %s, axes=%s)" % (op, d, axes))
        # long runs: several fixed blocks of 1 << 14 elements, every layout of the kernel
        if op not in ("sum", "max", "prod", "min"):
            continue
        for d in (("float32", "float64", "int32") if op in ("sum", "max") else ("float32",)):
            for shape, axes in [((33000,), None), ((2, 17000), [1]), ((300, 3), [0]), ((7, 30, 5), [0, 2])]:
                if op == "prod":
                    v = rand(d, shape, 0.9999, 1.0001) if is_float(d) else rand(d, shape, 1, 2)
                else:
                    v = rand(d, shape)
                x = Arr(v, d)
                add_case("reduce", op, [x], lambda op=op, x=x, axes=axes: reduce_model(op, x, axes, False),
                         attrs={"axes": axes, "keepdims": False}, tol=reduce_tol(op, x, axes, False))
    # variance and std with ddof
    for op in ("variance", "stddev"):
        for d in ("float32", "float64", "int32"):
            for shape, axes, ddof in [((4, 5), [1], 1), ((4, 5), None, 1), ((4, 5), [0], 2), ((1, 3), [0], 1)]:
                x = Arr(rand(d, shape), d)
                add_case("reduce", op, [x], lambda op=op, x=x, axes=axes, ddof=ddof: reduce_model(op, x, axes, False, ddof),
                         attrs={"axes": axes, "keepdims": False, "ddof": ddof}, tol=reduce_tol(op, x, axes, False))
    # logsumexp: rows of -inf, +inf, large values (the shift matters)
    for d in FLOATS:
        x = Arr(np.array([[-np.inf, -np.inf, -np.inf], [np.inf, 1.0, 2.0], [1000.0, 1000.0, 999.0],
                          [-1000.0, -1001.0, -np.inf], [np.nan, 1.0, 2.0]], dtype=NP[d]), d)
        add_case("reduce", "logsumexp", [x], lambda x=x: reduce_model("logsumexp", x, [1], False),
                 attrs={"axes": [1], "keepdims": False}, tol=reduce_tol("logsumexp", x, [1], False),
                 name="logsumexp(extreme rows %s)" % d)
    # sum and prod overflow wrap like NumPy's (int32 accumulators)
    for d in ("uint8", "bool", "int32", "int64"):
        info_v = {"uint8": [255] * 300, "bool": [True] * 300, "int32": [2**31 - 1] * 5, "int64": [2**63 - 1] * 5}[d]
        x = Arr(np.array(info_v), d)
        add_case("reduce", "sum", [x], lambda x=x: reduce_model("sum", x, None, False),
                 attrs={"axes": None, "keepdims": False}, name="sum(overflow %s)" % d)
        add_case("reduce", "prod", [x], lambda x=x: reduce_model("prod", x, None, False),
                 attrs={"axes": None, "keepdims": False}, name="prod(overflow %s)" % d)


def arg_model(op, x, axis, keepdims):
    f = np.argmax if op == "argmax" else np.argmin
    if axis is None:
        if x.v.size == 0:
            raise XErr("InvalidArgument")
        r = f(x.v.reshape(-1))
        if keepdims:
            r = np.reshape(r, (1,) * x.v.ndim)
        return [(np.asarray(r), "int64")]
    rank = x.v.ndim
    if axis < -rank or axis >= rank or rank == 0:
        raise XErr("AxisError")
    if x.v.shape[axis] == 0:
        raise XErr("InvalidArgument")
    return [(np.asarray(f(x.v, axis=axis, keepdims=keepdims)), "int64")]


def gen_arg():
    for op in ("argmax", "argmin"):
        for d in DTYPES:
            for shape, axis, keepdims in [((2, 3, 4), None, False), ((2, 3, 4), None, True), ((2, 3, 4), 0, False),
                                          ((2, 3, 4), 1, True), ((2, 3, 4), -1, False), ((7,), 0, False),
                                          ((), None, False), ((0, 3), 1, False), ((0, 3), 0, False),
                                          ((0, 3), None, False), ((2, 3), 2, False), ((2, 3), -3, False),
                                          ((), 0, False)]:
                v = rand(d, shape, 0, 4) if not is_float(d) and d != "bool" else rand(d, shape)
                x = Arr(v, d)  # small integer range: ties, first index wins
                add_case("reduce", op, [x], lambda op=op, x=x, a=axis, k=keepdims: arg_model(op, x, a, k),
                         attrs={"axis": axis, "keepdims": keepdims})
            s = specials(d)
            x = Arr(np.stack([s, s[::-1]]), d)
            for axis in (0, 1, None):
                add_case("reduce", op, [x], lambda op=op, x=x, a=axis: arg_model(op, x, a, False),
                         attrs={"axis": axis, "keepdims": False}, name="%s(specials %s, axis=%s)" % (op, d, axis))
            x = Arr(rand(d, (4, 5)), d, "transpose")
            add_case("reduce", op, [x], lambda op=op, x=x: arg_model(op, x, 1, False),
                     attrs={"axis": 1, "keepdims": False})


# =============================================================================================
# Linear algebra

def matmul_model(a, b):
    if a.v.ndim == 0 or b.v.ndim == 0:
        raise XErr("ShapeError")
    ka = a.v.shape[-1]
    kb = b.v.shape[0] if b.v.ndim == 1 else b.v.shape[-2]
    if ka != kb:
        raise XErr("ShapeError")
    d = promote(a.d, b.d)
    if d == "bool":
        raise XErr("DTypeError")
    av, bv = cast_ref(a.v, a.d, d), cast_ref(b.v, b.d, d)
    try:
        np.broadcast_shapes(av.shape[:-2], bv.shape[:-2])
    except ValueError:
        raise XErr("ShapeError")
    if is_float(d):
        r = np.matmul(av.astype(np.float64), bv.astype(np.float64))
    else:
        r = np.matmul(av, bv)  # NumPy's integer matmul wraps in the dtype, as xflow's
    return [(np.asarray(r).astype(NP[d]), d)]


def dot_tol(a, b):
    def t(outs):
        v, d = outs[0]
        if not is_float(d):
            return (0.0, 0.0)
        av = np.abs(a.v.astype(np.float64))
        bv = np.abs(b.v.astype(np.float64))
        try:
            mags = np.matmul(av, bv) if av.ndim and bv.ndim else np.zeros(1)
        except ValueError:
            mags = np.tensordot(av, bv, axes=0)
        return sum_tol(d, mags)
    return t


def gen_linalg():
    shapes = [((2, 3), (3, 4)), ((1, 1), (1, 1)), ((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)),
              ((4, 2, 3), (4, 3, 5)), ((2, 1, 2, 3), (5, 3, 2)), ((3,), (2, 3, 4)), ((2, 3, 4), (4,)),
              ((2, 3), (2, 3, 2)), ((0, 3), (3, 4)), ((2, 0), (0, 3)), ((3, 4), (4, 0)), ((0, 2, 3), (3, 2)),
              ((17, 33), (33, 9))]
    for da in DTYPES:
        for sa, sb in shapes:
            a = Arr(rand(da, sa, 0, 8) if da == "uint8" else rand(da, sa), da)
            b = Arr(rand(da, sb, 0, 8) if da == "uint8" else rand(da, sb), da)
            add_case("linalg", "matmul", [a, b], lambda a=a, b=b: matmul_model(a, b), tol=dot_tol(a, b))
    for da, db in itertools.product(DTYPES, DTYPES):
        if da != db:
            a = Arr(rand(da, (2, 3)), da)
            b = Arr(rand(db, (3, 2)), db)
            add_case("linalg", "matmul", [a, b], lambda a=a, b=b: matmul_model(a, b), tol=dot_tol(a, b))
    for d in ("float32", "float64", "int32", "int64"):
        # transposed and strided operands
        a = Arr(rand(d, (3, 4)), d, "transpose")
        b = Arr(rand(d, (4, 5)), d, "transpose")
        add_case("linalg", "matmul", [a, b], lambda a=a, b=b: matmul_model(a, b), tol=dot_tol(a, b))
        a = Arr(rand(d, (2, 3, 4)), d, "step2")
        b = Arr(rand(d, (4, 3, 2)), d, "transpose")
        add_case("linalg", "matmul", [a, b], lambda a=a, b=b: matmul_model(a, b), tol=dot_tol(a, b))
        a = bcast(d, (3, 2, 4))
        b = bcast(d, (3, 4, 5))
        add_case("linalg", "matmul", [a, b], lambda a=a, b=b: matmul_model(a, b), tol=dot_tol(a, b))
        a = bcast(d, (5, 4))  # rows repeat: a zero row stride
        b = Arr(rand(d, (4, 3)), d)
        add_case("linalg", "matmul", [a, b], lambda a=a, b=b: matmul_model(a, b), tol=dot_tol(a, b))
    # integer wrap-around
    a = Arr(np.array([[2**30, 2**30], [3, 4]], dtype=np.int32), "int32")
    b = Arr(np.array([[2, 1], [2, 1]], dtype=np.int32), "int32")
    add_case("linalg", "matmul", [a, b], lambda: matmul_model(a, b), name="matmul(int32 wrap)")
    a = Arr(np.array([[200, 100]], dtype=np.uint8), "uint8")
    b = Arr(np.array([[3], [2]], dtype=np.uint8), "uint8")
    add_case("linalg", "matmul", [a, b], lambda: matmul_model(a, b), name="matmul(uint8 wrap)")
    for d in FLOATS:
        a = Arr(np.array([[np.nan, 1.0], [np.inf, 2.0], [1.0, 2.0]], dtype=NP[d]), d)
        b = Arr(np.array([[1.0, 2.0], [3.0, np.inf]], dtype=NP[d]), d)
        add_case("linalg", "matmul", [a, b], lambda a=a, b=b: matmul_model(a, b), tol=dot_tol(a, b),
                 name="matmul(NaN and Inf %s)" % d)
    # errors
    for sa, sb, d in [((2, 3), (4, 5), "float32"), ((), (3,), "float32"), ((3,), (4,), "float32"),
                      ((2, 3, 4), (3, 4, 5), "float32"), ((2, 2), (2, 2), "bool"), ((3,), (), "int32")]:
        a = Arr(rand(d, sa), d)
        b = Arr(rand(d, sb), d)
        add_case("linalg", "matmul", [a, b], lambda a=a, b=b: matmul_model(a, b))

    # transpose
    def transpose_model(x, perm):
        r = x.v.ndim
        if perm is None:
            return [(np.transpose(x.v), x.d)]
        if len(perm) != r:
            raise XErr("InvalidArgument")
        p = []
        for a in perm:
            if a < -r or a >= r:
                raise XErr("InvalidArgument")
            p.append(a + r if a < 0 else a)
        if len(set(p)) != r:
            raise XErr("InvalidArgument")
        return [(np.transpose(x.v, p), x.d)]

    for d in DTYPES:
        for shape, perm in [((2, 3), None), ((2, 3, 4), None), ((2, 3, 4), [1, 0, 2]), ((2, 3, 4), [2, 0, 1]),
                            ((2, 3, 4), [-1, 0, 1]), ((), None), ((), []), ((5,), [0]), ((0, 3), [1, 0]),
                            ((2, 3), [0, 0]), ((2, 3), [0]), ((2, 3), [0, 2])]:
            x = Arr(rand(d, shape), d)
            add_case("linalg", "transpose", [x], lambda x=x, p=perm: transpose_model(x, p), attrs={"perm": perm})
        x = Arr(rand(d, (3, 4)), d, "step2")
        add_case("linalg", "transpose", [x], lambda x=x: transpose_model(x, None), attrs={"perm": None})

    # tensordot
    def tensordot_model(a, b, axes):
        if isinstance(axes, int):
            if axes < 0 or axes > a.v.ndim or axes > b.v.ndim:
                raise XErr("InvalidArgument")
            aa = list(range(a.v.ndim - axes, a.v.ndim))
            bb = list(range(axes))
        else:
            aa, bb = axes
            if len(aa) != len(bb):
                raise XErr("InvalidArgument")
            for x, y in zip(aa, bb):
                if x < -a.v.ndim or x >= a.v.ndim or y < -b.v.ndim or y >= b.v.ndim:
                    raise XErr("AxisError")
                if a.v.shape[x] != b.v.shape[y]:
                    raise XErr("ShapeError")
        for x, y in zip(aa, bb):
            if a.v.shape[x] != b.v.shape[y]:
                raise XErr("ShapeError")
        d = promote(a.d, b.d)
        if d == "bool":
            raise XErr("DTypeError")
        av, bv = cast_ref(a.v, a.d, d), cast_ref(b.v, b.d, d)
        if is_float(d):
            r = np.tensordot(av.astype(np.float64), bv.astype(np.float64), axes=(aa, bb))
        else:
            r = np.tensordot(av, bv, axes=(aa, bb))
        return [(np.asarray(r).astype(NP[d]), d)]

    def td_tol(a, b):
        def t(outs):
            v, d = outs[0]
            if not is_float(d):
                return (0.0, 0.0)
            return sum_tol(d, [np.sum(np.abs(a.v.astype(np.float64))) * np.max(np.abs(b.v.astype(np.float64)), initial=0)])
        return t

    for d in ("float32", "float64", "int32", "int64", "uint8"):
        for sa, sb, axes in [((2, 3, 4), (3, 4, 5), 2), ((2, 3), (3, 4), 1), ((2, 3), (4, 5), 0),
                             ((3, 4, 5), (5, 4, 2), ([1, 2], [1, 0])), ((3, 4), (4, 3), ([0, 1], [1, 0])),
                             ((2, 3, 4), (4, 2), ([-1, 0], [0, 1])), ((2, 3), (3,), ([1], [0])),
                             ((2, 3), (3, 2), 3), ((2, 3), (2, 3), ([0], [1])), ((2, 3), (2, 3), ([0, 1], [0])),
                             ((2, 3), (2, 3), ([2], [0])), ((0, 3), (3, 2), 1)]:
            a = Arr(rand(d, sa, 0, 5) if d == "uint8" else rand(d, sa), d)
            b = Arr(rand(d, sb, 0, 5) if d == "uint8" else rand(d, sb), d)
            attrs = {"axes": axes} if isinstance(axes, int) else {"axes_a": axes[0], "axes_b": axes[1]}
            add_case("linalg", "tensordot", [a, b], lambda a=a, b=b, ax=axes: tensordot_model(a, b, ax),
                     attrs=attrs, tol=td_tol(a, b))
    a = Arr(rand("int32", (2, 3)), "int32")
    b = Arr(rand("float64", (3, 2)), "float64")
    add_case("linalg", "tensordot", [a, b], lambda: tensordot_model(a, b, 1), attrs={"axes": 1}, tol=td_tol(a, b))
    a = Arr(rand("bool", (2, 3)), "bool")
    add_case("linalg", "tensordot", [a, a], lambda: tensordot_model(a, a, ([1], [1])),
             attrs={"axes_a": [1], "axes_b": [1]})


# =============================================================================================
# Shape ops

def reshape_model(x, shape):
    s = list(shape)
    if s.count(-1) > 1:
        raise XErr("ShapeError")
    if any(n < -1 for n in s):
        raise XErr("ShapeError")
    if -1 in s:
        known = int(np.prod([n for n in s if n != -1]))
        if known == 0 or x.v.size % known:
            raise XErr("ShapeError")
        s[s.index(-1)] = x.v.size // known
    if int(np.prod(s)) != x.v.size:
        raise XErr("ShapeError")
    return [(x.v.reshape(s), x.d)]


def squeeze_model(x, axes):
    r = x.v.ndim
    if axes is None:
        return [(x.v.reshape([n for n in x.v.shape if n != 1]), x.d)]
    drop = set()
    for a in axes:
        if a < -r or a >= r or r == 0:
            raise XErr("AxisError")
        n = a + r if a < 0 else a
        if x.v.shape[n] != 1:
            raise XErr("ShapeError")
        drop.add(n)
    return [(x.v.reshape([x.v.shape[i] for i in range(r) if i not in drop]), x.d)]


def expand_dims_model(x, axis):
    r = x.v.ndim + 1
    if axis < -r or axis >= r:
        raise XErr("AxisError")
    return [(np.expand_dims(x.v, axis), x.d)]


def broadcast_to_model(x, shape):
    s = x.v.shape
    if len(s) > len(shape):
        raise XErr("ShapeError")
    for i, n in enumerate(s):
        t = shape[len(shape) - len(s) + i]
        if n != t and n != 1:
            raise XErr("ShapeError")
    if any(n < 0 for n in shape):
        raise XErr("ShapeError")
    return [(np.broadcast_to(x.v, shape), x.d)]


def concat_model(xs, axis, stack=False):
    if not xs:
        raise XErr("InvalidArgument")
    d = xs[0].d
    for x in xs:
        d = promote(d, x.d)
    vals = [cast_ref(x.v, x.d, d) for x in xs]
    if stack:
        for v in vals:
            if v.shape != vals[0].shape:
                raise XErr("ShapeError")
        r = vals[0].ndim + 1
        if axis < -r or axis >= r:
            raise XErr("AxisError")
        return [(np.stack(vals, axis=axis), d)]
    r = vals[0].ndim
    if r == 0:
        raise XErr("ShapeError")
    if axis < -r or axis >= r:
        raise XErr("AxisError")
    a = axis + r if axis < 0 else axis
    for v in vals:
        if v.ndim != r or any(v.shape[i] != vals[0].shape[i] for i in range(r) if i != a):
            raise XErr("ShapeError")
    return [(np.concatenate(vals, axis=a), d)]


def split_model(x, arg, axis):
    r = x.v.ndim
    if axis < -r or axis >= r or r == 0:
        raise XErr("AxisError")
    a = axis + r if axis < 0 else axis
    if isinstance(arg, int):
        if arg <= 0 or x.v.shape[a] % arg:
            raise XErr("InvalidArgument")
    return [(p, x.d) for p in np.split(x.v, arg, axis=a)]


def slice_model(x, slices):
    if len(slices) > x.v.ndim:
        raise XErr("InvalidArgument")
    idx = []
    for s in slices:
        start, stop, step = s
        if step == 0:
            raise XErr("InvalidArgument")
        idx.append(slice(start, stop, step))
    return [(x.v[tuple(idx)], x.d)]


def strided_slice_model(x, begin, end, strides):
    r = x.v.ndim
    if len(begin) != r or len(end) != r or len(strides) != r:
        raise XErr("InvalidArgument")
    return slice_model(x, list(zip(begin, end, strides)))


def gather_model(x, idx, axis):
    r = x.v.ndim
    if axis < -r or axis >= r or r == 0:
        raise XErr("AxisError")
    a = axis + r if axis < 0 else axis
    if is_float(idx.d):
        raise XErr("DTypeError")
    iv = idx.v.astype(np.int64)
    n = x.v.shape[a]
    if iv.size and (iv.min() < -n or iv.max() >= n):
        raise XErr("OutOfRange")
    return [(np.take(x.v, iv, axis=a), x.d)]


def pad_model(x, pads, value):
    if len(pads) != x.v.ndim:
        raise XErr("InvalidArgument")
    if any(b < 0 or e < 0 for b, e in pads):
        raise XErr("InvalidArgument")
    fill = value.value
    if x.d == "bool":
        cv = fill != 0
    elif is_int(x.d):
        cv = int(fill)  # the kernel's static_cast truncates
    else:
        cv = fill
    if x.v.ndim == 0:
        return [(x.v.copy(), x.d)]
    return [(np.pad(x.v, pads, mode="constant", constant_values=cv), x.d)]


def tile_model(x, reps):
    if any(r < 0 for r in reps):
        raise XErr("InvalidArgument")
    return [(np.tile(x.v, reps), x.d)]


def one_hot_model(idx, depth, d):
    if not is_int(idx.d):
        raise XErr("DTypeError")
    if depth < 0:
        raise XErr("InvalidArgument")
    r = idx.v[..., None].astype(np.int64) == np.arange(depth, dtype=np.int64)
    return [(cast_ref(r, "bool", d), d)]


def gen_shape_ops():
    for d in DTYPES:
        x = Arr(rand(d, (2, 3, 4)), d)
        for shape in [(24,), (4, 6), (-1, 4), (2, -1, 2), (1, 24, 1), (-1,), (2, 3, 4), (5, -1), (5, 5),
                      (-1, -1), (2, -3, 4)]:
            add_case("shape", "reshape", [x], lambda x=x, s=shape: reshape_model(x, s), attrs={"shape": list(shape)})
        z = Arr(rand(d, (0, 3)), d)
        for shape in [(3, 0), (-1, 3), (0, -1), (0,), (-1,)]:
            add_case("shape", "reshape", [z], lambda x=z, s=shape: reshape_model(x, s), attrs={"shape": list(shape)})
        s = Arr(rand(d, ()), d)
        for shape in [(1,), (1, 1), (), (-1,)]:
            add_case("shape", "reshape", [s], lambda x=s, s_=shape: reshape_model(x, s_), attrs={"shape": list(shape)})
        t = Arr(rand(d, (3, 4)), d, "transpose")
        add_case("shape", "reshape", [t], lambda x=t: reshape_model(x, (4, 3)), attrs={"shape": [4, 3]})
        t = Arr(rand(d, (3, 4)), d, "step2")
        add_case("shape", "reshape", [t], lambda x=t: reshape_model(x, (-1,)), attrs={"shape": [-1]})

        for shape in [(2, 3, 4), (), (0, 3), (5,)]:
            x = Arr(rand(d, shape), d)
            add_case("shape", "flatten", [x], lambda x=x: [(x.v.reshape(-1), x.d)])
        x = Arr(rand(d, (3, 4)), d, "transpose")
        add_case("shape", "flatten", [x], lambda x=x: [(x.v.reshape(-1), x.d)])

        x = Arr(rand(d, (2, 3)), d)
        for axis in [0, 1, 2, -1, -3, 3, -4]:
            add_case("shape", "expand_dims", [x], lambda x=x, a=axis: expand_dims_model(x, a), attrs={"axis": axis})
        s = Arr(rand(d, ()), d)
        add_case("shape", "expand_dims", [s], lambda x=s: expand_dims_model(x, 0), attrs={"axis": 0})

        x = Arr(rand(d, (1, 3, 1, 2)), d)
        for axes in [None, [0], [2], [-2], [0, 2], [1], [4], [-5]]:
            add_case("shape", "squeeze", [x], lambda x=x, a=axes: squeeze_model(x, a), attrs={"axes": axes})
        for shape in [(), (1,), (0, 1), (3,)]:
            y = Arr(rand(d, shape), d)
            add_case("shape", "squeeze", [y], lambda x=y: squeeze_model(x, None), attrs={"axes": None})

        for shape, target in [((3,), (2, 3)), ((3, 1), (3, 4)), ((), (2, 2)), ((1, 1), (2, 3, 4)), ((2, 3), (2, 3)),
                              ((1, 3), (0, 3)), ((3,), (4,)), ((2, 3), (3,)), ((3, 1), (3, 4, 2)), ((1,), (5,))]:
            x = Arr(rand(d, shape), d)
            add_case("shape", "broadcast_to", [x], lambda x=x, t=target: broadcast_to_model(x, t),
                     attrs={"shape": list(target)})

        for shapes, axis in [([(2, 3), (4, 3)], 0), ([(2, 3), (2, 1), (2, 0)], 1), ([(2, 3)], 0), ([(2, 3), (2, 3)], -1),
                             ([(0, 3), (2, 3)], 0), ([(3,), (4,), (1,)], 0), ([(2, 3), (3, 3)], 1),
                             ([(2, 3), (2, 3)], 2), ([(), ()], 0), ([(2, 3), (2,)], 0), ([(2, 1, 4), (2, 2, 4)], 1)]:
            xs = [Arr(rand(d, s), d) for s in shapes]
            add_case("shape", "concat", xs, lambda xs=xs, a=axis: concat_model(xs, a), attrs={"axis": axis})
        xs = [Arr(rand(d, (3, 2)), d, "transpose"), Arr(rand(d, (3, 2)), d, "step2")]
        add_case("shape", "concat", xs, lambda xs=xs: concat_model(xs, 1), attrs={"axis": 1})

        for shapes, axis in [([(2, 3), (2, 3)], 0), ([(2, 3), (2, 3), (2, 3)], 1), ([(2, 3), (2, 3)], 2),
                             ([(2, 3), (2, 3)], -1), ([(), (), ()], 0), ([(0, 2), (0, 2)], 1), ([(2, 3), (3, 2)], 0),
                             ([(2, 3)], 3), ([(4,)], -1)]:
            xs = [Arr(rand(d, s), d) for s in shapes]
            add_case("shape", "stack", xs, lambda xs=xs, a=axis: concat_model(xs, a, stack=True), attrs={"axis": axis})

        x = Arr(rand(d, (6, 4)), d)
        for arg, axis in [(3, 0), (2, 1), (1, 0), (6, 0), (4, 0), (0, 0), (2, 2), ([2, 5], 0), ([1], 1),
                          ([-2], 0), ([0, 0, 6], 0), ([3, 1], 0), ([2, 10, 1], 0), ([], 0), ([2], -1)]:
            attrs = {"sections": arg, "axis": axis} if isinstance(arg, int) else {"indices": arg, "axis": axis}
            add_case("shape", "split", [x], lambda x=x, a=arg, ax=axis: split_model(x, a, ax), attrs=attrs)

        xs = [bcast(d, (3, 2)), Arr(rand(d, (3, 1)), d)]
        add_case("shape", "concat", xs, lambda xs=xs: concat_model(xs, 1), attrs={"axis": 1})
        x = bcast(d, (4, 3))
        add_case("shape", "reshape", [x], lambda x=x: reshape_model(x, (3, 4)), attrs={"shape": [3, 4]})
        add_case("shape", "flatten", [x], lambda x=x: [(x.v.reshape(-1), x.d)])

    # mixed-dtype concat and stack promote
    for da, db in itertools.product(DTYPES, DTYPES):
        if da != db:
            xs = [Arr(rand(da, (2, 2)), da), Arr(rand(db, (1, 2)), db)]
            add_case("shape", "concat", xs, lambda xs=xs: concat_model(xs, 0), attrs={"axis": 0})
            xs = [Arr(rand(da, (2,)), da), Arr(rand(db, (2,)), db)]
            add_case("shape", "stack", xs, lambda xs=xs: concat_model(xs, 0, stack=True), attrs={"axis": 0})

    # slices
    slice_sets = [
        [(1, 3, 1)], [(None, None, -1)], [(None, None, 2), (1, None, 1)], [(-3, -1, 1), (None, None, -2)],
        [(5, 1, -1)], [(5, 1, -2), (3, 0, -1)], [(-1, None, -1)], [(None, -7, -1)], [(10, 20, 1)],
        [(-100, 100, 3)], [(3, 3, 1)], [(4, 2, 1)], [(2, 4, -1)], [(None, None, 1), (None, None, 1), (None, None, -1)],
        [(0, 1, 1), (-1, None, 1), (1, 2, 1)], [(-1, -100, -1)], [(100, None, -2)], [(None, 0, -1)],
        [], [(0, 2, 0)], [(None, None, 1)] * 4,
    ]
    for d in DTYPES:
        x = Arr(rand(d, (6, 5, 4)), d)
        for sl in slice_sets:
            add_case("shape", "slice", [x], lambda x=x, sl=sl: slice_model(x, sl),
                     attrs={"slices": [list(s) for s in sl]})
        t = Arr(rand(d, (5, 6)), d, "transpose")
        add_case("shape", "slice", [t], lambda x=t: slice_model(x, [(None, None, -2), (1, 4, 1)]),
                 attrs={"slices": [[None, None, -2], [1, 4, 1]]})
        z = Arr(rand(d, (0, 3)), d)
        add_case("shape", "slice", [z], lambda x=z: slice_model(x, [(None, None, -1), (1, None, 1)]),
                 attrs={"slices": [[None, None, -1], [1, None, 1]]})
        for b, e, s in [([0, 0, 0], [6, 5, 4], [1, 1, 1]), ([1, -1, 0], [5, 0, 4], [2, -1, 3]),
                        ([-1, -2, -1], [-7, -6, -5], [-1, -1, -2]), ([5, 4, 3], [0, 0, 0], [-2, -2, -2]),
                        ([0, 0, 0], [100, 100, 100], [7, 7, 7]), ([2, 2, 2], [2, 2, 2], [1, 1, 1]),
                        ([0, 0], [1, 1], [1, 1]), ([0, 0, 0], [1, 1, 1], [1, 0, 1])]:
            add_case("shape", "strided_slice", [x], lambda x=x, b=b, e=e, s=s: strided_slice_model(x, b, e, s),
                     attrs={"begin": b, "end": e, "strides": s})

    # gather
    for d in DTYPES:
        x = Arr(rand(d, (5, 4, 3)), d)
        for idx_d in ("int32", "int64", "uint8", "bool"):
            for ishape, axis in [((3,), 0), ((2, 2), 1), ((), 2), ((0,), 0), ((4,), -1)]:
                n = x.v.shape[axis]
                if idx_d == "uint8":
                    iv = RNG.integers(0, n, size=ishape)
                elif idx_d == "bool":
                    iv = RNG.integers(0, 2, size=ishape)
                else:
                    iv = RNG.integers(-n, n, size=ishape)
                idx = Arr(iv, idx_d)
                add_case("shape", "gather", [x, idx], lambda x=x, i=idx, a=axis: gather_model(x, i, a),
                         attrs={"axis": axis})
        for iv, axis, idx_d in [([5], 0, "int32"), ([-6], 0, "int64"), ([0, 4, 4], 1, "int32"), ([1.0], 0, "float32"),
                                ([0], 3, "int32"), ([0], -4, "int32"), ([2**40], 0, "int64")]:
            idx = Arr(np.array(iv), idx_d)
            add_case("shape", "gather", [x, idx], lambda x=x, i=idx, a=axis: gather_model(x, i, a), attrs={"axis": axis})
        t = Arr(rand(d, (4, 6)), d, "transpose")
        idx = Arr(np.array([[3, 0], [-1, 2]]), "int64", "transpose")
        add_case("shape", "gather", [t, idx], lambda x=t, i=idx: gather_model(x, i, 1), attrs={"axis": 1})

    # pad
    for d in DTYPES:
        x = Arr(rand(d, (2, 3)), d)
        for pads, value in [([(1, 1), (2, 0)], Sc("int", 0)), ([(0, 0), (0, 0)], Sc("int", 5)), ([(3, 0), (0, 2)], Sc("int", 7)),
                            ([(1, 2), (1, 2)], Sc("float", 1.5)), ([(1, 0), (0, 1)], Sc("bool", True)),
                            ([(1, 1)], Sc("int", 0)), ([(1, -1), (0, 0)], Sc("int", 0))]:
            add_case("shape", "pad", [x, value], lambda x=x, p=pads, v=value: pad_model(x, p, v),
                     attrs={"pads": [list(p) for p in pads]})
        z = Arr(rand(d, (0, 2)), d)
        add_case("shape", "pad", [z, Sc("int", 1)], lambda x=z: pad_model(x, [(1, 1), (0, 1)], Sc("int", 1)),
                 attrs={"pads": [[1, 1], [0, 1]]})
        t = Arr(rand(d, (3, 2)), d, "transpose")
        add_case("shape", "pad", [t, Sc("int", 1)], lambda x=t: pad_model(x, [(1, 0), (2, 1)], Sc("int", 1)),
                 attrs={"pads": [[1, 0], [2, 1]]})
        s = Arr(rand(d, ()), d)
        add_case("shape", "pad", [s, Sc("int", 1)], lambda x=s: pad_model(x, [], Sc("int", 1)), attrs={"pads": []})
        if is_float(d):
            add_case("shape", "pad", [x, Sc("float", np.nan)], lambda x=x: pad_model(x, [(1, 0), (0, 1)], Sc("float", np.nan)),
                     attrs={"pads": [[1, 0], [0, 1]]})

    # the pad value is converted as cast converts: truncated toward zero, saturated, NaN -> 0
    for d, v in [("int32", np.nan), ("int32", 1e10), ("int32", -1e10), ("uint8", -1.0), ("uint8", 300.5),
                 ("int64", -2.7), ("float32", 1e300), ("bool", np.nan)]:
        x = Arr(rand(d, (2, 2)), d)
        sv = Sc("float", v)
        def pad_conv(x=x, v=v):
            (r, rd), = pad_model(x, [(1, 0), (0, 1)], Sc("float", 0.0))
            r = r.copy()
            fill = cast_ref(np.array([v], dtype=np.float64), "float64", d)[0]
            r[0, :] = fill
            r[:, -1] = fill
            return [(r, rd)]
        add_case("shape", "pad", [x, sv], pad_conv, attrs={"pads": [[1, 0], [0, 1]]},
                 name="pad(%s with float %r: converted as cast)" % (d, v))

    # tile
    for d in DTYPES:
        x = Arr(rand(d, (2, 3)), d)
        for reps in [(2, 1), (1, 3), (2, 2), (3,), (2, 1, 2), (0, 2), (1, 1), (), (-1, 2)]:
            add_case("shape", "tile", [x], lambda x=x, r=reps: tile_model(x, list(r)), attrs={"reps": list(reps)})
        s = Arr(rand(d, ()), d)
        add_case("shape", "tile", [s], lambda x=s: tile_model(x, [3]), attrs={"reps": [3]})
        z = Arr(rand(d, (0, 2)), d)
        add_case("shape", "tile", [z], lambda x=z: tile_model(x, [2, 2]), attrs={"reps": [2, 2]})
        t = Arr(rand(d, (3, 2)), d, "transpose")
        add_case("shape", "tile", [t], lambda x=t: tile_model(x, [2, 1]), attrs={"reps": [2, 1]})

    # one_hot
    for idx_d in DTYPES:
        for ishape, depth, out_d in [((4,), 5, "float32"), ((2, 3), 3, "int32"), ((), 4, "float64"), ((0,), 3, "float32"),
                                     ((3,), 0, "float32"), ((5,), 4, "bool"), ((5,), 4, "uint8"), ((5,), 4, "int64"),
                                     ((3,), -1, "float32")]:
            if is_float(idx_d):
                iv = RNG.uniform(0, depth if depth > 0 else 1, size=ishape)
            elif idx_d == "bool":
                iv = RNG.integers(0, 2, size=ishape)
            elif idx_d == "uint8":
                iv = RNG.integers(0, depth + 2 if depth > 0 else 2, size=ishape)
            else:
                iv = RNG.integers(-2, depth + 2 if depth > 0 else 2, size=ishape)  # out of range: all off
            idx = Arr(iv, idx_d)
            add_case("shape", "one_hot", [idx], lambda i=idx, dp=depth, od=out_d: one_hot_model(i, dp, od),
                     attrs={"depth": depth, "dtype": out_d})
    for idx_d in INTS:  # depth beyond the index dtype's range
        idx = Arr(np.array([255, 3, 0, 254]), idx_d)
        add_case("shape", "one_hot", [idx], lambda i=idx: one_hot_model(i, 300, "float32"),
                 attrs={"depth": 300, "dtype": "float32"}, name="one_hot(%s indices, depth 300)" % idx_d)


# =============================================================================================
# Neural network

def softmax_model(op, x, axis):
    d = x.d if is_float(x.d) else "float32"
    v = cast_ref(x.v, x.d, d)
    r = v.ndim
    if axis < -r or axis >= r or r == 0:
        raise XErr("AxisError")
    v = v.astype(np.float64)
    if v.shape[axis] == 0:
        return [(v.astype(NP[d]), d)]
    s = v - np.max(v, axis=axis, keepdims=True)
    e = np.exp(s)
    if op == "softmax":
        out = e / np.sum(e, axis=axis, keepdims=True)
    else:
        out = s - np.log(np.sum(e, axis=axis, keepdims=True))
    return [(out.astype(NP[d]), d)]


def window_dim(n, k, stride, padding):
    if padding == "SAME":
        out = (n + stride - 1) // stride
        total = max((out - 1) * stride + k - n, 0)
        return out, total // 2
    return ((n - k) // stride + 1 if n >= k else 0), 0


def conv2d_model(x, f, strides, padding):
    if x.v.ndim != 4 or f.v.ndim != 4:
        raise XErr("ShapeError")
    if not is_float(x.d) or x.d != f.d:
        raise XErr("DTypeError")
    if x.v.shape[3] != f.v.shape[2]:
        raise XErr("ShapeError")
    if len(strides) != 2 or min(strides) < 1 or padding not in ("SAME", "VALID"):
        raise XErr("InvalidArgument")
    N, H, W, C = x.v.shape
    KH, KW, _, O = f.v.shape
    if KH < 1 or KW < 1:
        raise XErr("ShapeError")
    OH, ph = window_dim(H, KH, strides[0], padding)
    OW, pw = window_dim(W, KW, strides[1], padding)
    xv = x.v.astype(np.float64)
    fv = f.v.astype(np.float64)
    out = np.zeros((N, OH, OW, O))
    for n in range(N):
        for oh in range(OH):
            for ow in range(OW):
                acc = np.zeros(O)
                for kh in range(KH):
                    ih = oh * strides[0] + kh - ph
                    if ih < 0 or ih >= H:
                        continue
                    for kw in range(KW):
                        iw = ow * strides[1] + kw - pw
                        if iw < 0 or iw >= W:
                            continue
                        acc += xv[n, ih, iw, :] @ fv[kh, kw, :, :]
                out[n, oh, ow, :] = acc
    return [(out.astype(NP[x.d]), x.d)]


def pool_model(op, x, window, strides, padding):
    if x.v.ndim != 4:
        raise XErr("ShapeError")
    if x.d == "bool":
        raise XErr("DTypeError")
    if op == "avg_pool2d" and not is_float(x.d):
        # an average of integers is a float32 (as mean's), not a truncated integer
        x = Arr(x.v.astype(np.float32), "float32")
    if len(window) != 2 or min(window) < 1 or len(strides) != 2 or min(strides) < 1 or \
            padding not in ("SAME", "VALID"):
        raise XErr("InvalidArgument")
    N, H, W, C = x.v.shape
    OH, ph = window_dim(H, window[0], strides[0], padding)
    OW, pw = window_dim(W, window[1], strides[1], padding)
    out = np.zeros((N, OH, OW, C), dtype=NP[x.d])
    for n in range(N):
        for oh in range(OH):
            for ow in range(OW):
                h0, w0 = oh * strides[0] - ph, ow * strides[1] - pw
                hb, he = max(h0, 0), min(h0 + window[0], H)
                wb, we = max(w0, 0), min(w0 + window[1], W)
                win = x.v[n, hb:he, wb:we, :].reshape((he - hb) * (we - wb), C)
                if op == "max_pool2d":
                    out[n, oh, ow, :] = np.max(win, axis=0)  # NaN propagates
                else:
                    out[n, oh, ow, :] = (np.sum(win.astype(np.float64), axis=0) / win.shape[0]).astype(NP[x.d])
    return [(out, x.d)]


def gen_nn():
    for op in ("softmax", "log_softmax"):
        for d in DTYPES:
            for shape, axis in [((2, 5), -1), ((2, 5), 0), ((3, 4, 2), 1), ((7,), 0), ((2, 3), 2), ((), 0),
                                ((0, 3), -1), ((3, 0), -1), ((2, 700), 1)]:
                x = Arr(rand(d, shape), d)
                add_case("nn", op, [x], lambda op=op, x=x, a=axis: softmax_model(op, x, a), attrs={"axis": axis},
                         tol=lambda outs: ftol(outs[0][1]))
        for d in FLOATS:
            x = Arr(np.array([[1000.0, 1000.0, 999.0], [-np.inf, 0.0, 1.0], [-1000.0, -1001.0, -1002.0],
                              [np.inf, 1.0, 0.0], [np.nan, 1.0, 2.0], [-np.inf, -np.inf, -np.inf]], dtype=NP[d]), d)
            add_case("nn", op, [x], lambda op=op, x=x: softmax_model(op, x, -1), attrs={"axis": -1},
                     tol=lambda outs: ftol(outs[0][1]), name="%s(extreme rows %s)" % (op, d))
            x = Arr(rand(d, (4, 3)), d, "transpose")
            add_case("nn", op, [x], lambda op=op, x=x: softmax_model(op, x, 0), attrs={"axis": 0},
                     tol=lambda outs: ftol(outs[0][1]))

    conv_cases = [((1, 5, 5, 1), (3, 3, 1, 1), (1, 1), "VALID"), ((1, 5, 5, 1), (3, 3, 1, 1), (1, 1), "SAME"),
                  ((2, 7, 6, 3), (3, 2, 3, 4), (2, 2), "SAME"), ((2, 7, 6, 3), (3, 2, 3, 4), (2, 3), "VALID"),
                  ((1, 4, 4, 2), (2, 2, 2, 3), (2, 2), "SAME"), ((1, 6, 6, 2), (4, 4, 2, 2), (3, 3), "SAME"),
                  ((1, 2, 2, 1), (3, 3, 1, 1), (1, 1), "VALID"), ((1, 2, 2, 1), (3, 3, 1, 2), (1, 1), "SAME"),
                  ((0, 4, 4, 1), (2, 2, 1, 1), (1, 1), "SAME"), ((1, 5, 5, 0), (2, 2, 0, 3), (1, 1), "SAME"),
                  ((1, 5, 5, 2), (1, 1, 2, 0), (1, 1), "VALID"), ((1, 9, 8, 2), (5, 4, 2, 3), (2, 1), "SAME"),
                  ((1, 5, 5, 2), (3, 3, 3, 1), (1, 1), "VALID"), ((5, 5, 2), (3, 3, 2, 1), (1, 1), "VALID"),
                  ((1, 5, 5, 2), (3, 3, 2, 1), (0, 1), "VALID")]
    for d in DTYPES:
        for xs, fs, strides, padding in conv_cases:
            x = Arr(rand(d, xs), d)
            f = Arr(rand(d, fs), d)
            add_case("nn", "conv2d", [x, f], lambda x=x, f=f, s=strides, p=padding: conv2d_model(x, f, s, p),
                     attrs={"strides": list(strides), "padding": padding}, tol=conv_tol(x, f))
    x = Arr(rand("float32", (1, 4, 4, 2)), "float32")
    f = Arr(rand("float64", (2, 2, 2, 1)), "float64")
    add_case("nn", "conv2d", [x, f], lambda: conv2d_model(x, f, (1, 1), "VALID"),
             attrs={"strides": [1, 1], "padding": "VALID"})
    x = Arr(rand("float32", (1, 5, 4, 2)), "float32", "transpose")
    f = Arr(rand("float32", (3, 3, 2, 2)), "float32", "step2")
    add_case("nn", "conv2d", [x, f], lambda: conv2d_model(x, f, (1, 1), "SAME"),
             attrs={"strides": [1, 1], "padding": "SAME"}, tol=conv_tol(x, f))
    x = bcast("float64", (3, 5, 5, 2))
    f = Arr(rand("float64", (3, 3, 2, 2)), "float64", "transpose")
    add_case("nn", "conv2d", [x, f], lambda: conv2d_model(x, f, (2, 1), "SAME"),
             attrs={"strides": [2, 1], "padding": "SAME"}, tol=conv_tol(x, f))
    x = Arr(np.array([np.nan, 1, 2, 3, np.inf, 5, 6, 7, 8], dtype=np.float32).reshape(1, 3, 3, 1), "float32")
    f = Arr(np.ones((2, 2, 1, 1), dtype=np.float32), "float32")
    add_case("nn", "conv2d", [x, f], lambda: conv2d_model(x, f, (1, 1), "VALID"),
             attrs={"strides": [1, 1], "padding": "VALID"}, tol=conv_tol(x, f), name="conv2d(NaN and Inf)")

    pool_cases = [((1, 4, 4, 1), (2, 2), (2, 2), "VALID"), ((1, 5, 5, 2), (2, 2), (2, 2), "SAME"),
                  ((2, 5, 7, 3), (3, 3), (2, 2), "SAME"), ((2, 5, 7, 3), (3, 2), (1, 2), "VALID"),
                  ((1, 6, 6, 1), (3, 3), (3, 3), "SAME"), ((1, 3, 3, 1), (4, 4), (1, 1), "VALID"),
                  ((1, 3, 3, 2), (4, 4), (1, 1), "SAME"), ((1, 7, 7, 1), (1, 1), (3, 3), "SAME"),
                  ((1, 7, 5, 1), (2, 3), (3, 1), "SAME"), ((0, 4, 4, 1), (2, 2), (2, 2), "SAME"),
                  ((1, 4, 4, 0), (2, 2), (2, 2), "SAME"), ((4, 4, 1), (2, 2), (2, 2), "SAME"),
                  ((1, 4, 4, 1), (0, 2), (2, 2), "SAME"), ((1, 4, 4, 1), (2, 2), (2, 0), "SAME")]
    for op in ("max_pool2d", "avg_pool2d"):
        for d in DTYPES:
            for xs, window, strides, padding in pool_cases:
                x = Arr(rand(d, xs, -100, 100) if d in ("int32", "int64") else rand(d, xs), d)
                add_case("nn", op, [x], lambda op=op, x=x, w=window, s=strides, p=padding: pool_model(op, x, w, s, p),
                         attrs={"window": list(window), "strides": list(strides), "padding": padding},
                         tol=(0.0, 0.0) if op == "max_pool2d" else (lambda outs: ftol(outs[0][1])))
            x = Arr(rand(d, (1, 5, 6, 2)), d, "transpose")
            add_case("nn", op, [x], lambda op=op, x=x: pool_model(op, x, (2, 3), (2, 2), "SAME"),
                     attrs={"window": [2, 3], "strides": [2, 2], "padding": "SAME"},
                     tol=(0.0, 0.0) if op == "max_pool2d" else (lambda outs: ftol(outs[0][1])))
        for d in FLOATS:
            x = Arr(np.array([np.nan, 1, 2, 3, -np.inf, 5, 6, 7, np.inf, 9, -1, -2, 3, 4, 5, 6], dtype=NP[d]).reshape(1, 4, 4, 1), d)
            add_case("nn", op, [x], lambda op=op, x=x: pool_model(op, x, (2, 2), (1, 1), "SAME"),
                     attrs={"window": [2, 2], "strides": [1, 1], "padding": "SAME"},
                     tol=(0.0, 0.0) if op == "max_pool2d" else (lambda outs: ftol(outs[0][1])),
                     name="%s(NaN and Inf %s)" % (op, d))
    # int64 values beyond 2^53: the max must be exact
    x = Arr(np.array([2**62 + 1, 2**62, 2**62 + 3, 2**62 + 2, -2**63, 2**63 - 1, 5, 2**53 + 1, 2**53],
                     dtype=np.int64).reshape(1, 3, 3, 1), "int64")
    add_case("nn", "max_pool2d", [x], lambda: pool_model("max_pool2d", x, (2, 2), (1, 1), "VALID"),
             attrs={"window": [2, 2], "strides": [1, 1], "padding": "VALID"}, name="max_pool2d(int64 beyond 2^53)")


def conv_tol(x, f):
    def t(outs):
        v, d = outs[0]
        if not is_float(d):
            return (0.0, 0.0)
        m = np.sum(np.abs(x.v.astype(np.float64))) * np.max(np.abs(f.v.astype(np.float64)), initial=0.0)
        return sum_tol(d, [m / max(1, x.v.shape[0])])
    return t


# =============================================================================================
# Sorting, scans and searching (lib/ops/sort_scan.cpp)

def scan_model(op, x, axis, exclusive, reverse):
    v = x.v
    if axis is None:
        v = v.reshape(-1)
        axis = 0
    elif axis < -v.ndim or axis >= v.ndim:
        raise XErr("AxisError")
    d = "int32" if x.d in ("bool", "uint8") else x.d
    # NumPy accumulates small integers in int64; the low bits are xflow's wrapped int32.
    acc = v.astype(np.int64) if is_int(d) else v.astype(NP[d])
    f = np.cumsum if op == "cumsum" else np.cumprod
    if reverse:
        acc = np.flip(acc, axis)
    r = f(acc, axis=axis)
    if exclusive:
        ident = np.zeros_like if op == "cumsum" else np.ones_like
        first = ident(np.take(r, [0], axis=axis)) if r.shape[axis] else np.take(r, [], axis=axis)
        r = np.concatenate([first, np.take(r, np.arange(r.shape[axis] - 1), axis=axis)], axis=axis)
        if v.shape[axis] == 0:
            r = np.take(r, [], axis=axis)
    if reverse:
        r = np.flip(r, axis)
    return [(r.astype(NP[d]), d)]


def order_key(v, descending):
    """Python sort keys: NaN the largest, ties by index (stable)."""
    vals = v.tolist()
    def key(i):
        x = vals[i]
        nan = isinstance(x, float) and math.isnan(x)
        if descending:
            return (0 if nan else 1, 0 if nan else -x, i)
        return (1 if nan else 0, 0 if nan else x, i)
    return key


def argsort_ref(v, axis, descending):
    moved = np.moveaxis(v, axis, -1)
    out = np.zeros(moved.shape, dtype=np.int64)
    for idx in np.ndindex(*moved.shape[:-1]):
        row = moved[idx]
        out[idx] = sorted(range(row.shape[0]), key=order_key(row, descending))
    return np.moveaxis(out, -1, axis)


def sort_model(op, x, axis, descending):
    if x.v.ndim == 0 or axis < -x.v.ndim or axis >= x.v.ndim:
        raise XErr("AxisError")
    if not descending:
        # NumPy's own stable sort (NaN last); the reference keys must agree with it.
        i = np.argsort(x.v, axis=axis, kind="stable")
        assert (i == argsort_ref(x.v, axis, False)).all()
    else:
        i = argsort_ref(x.v, axis, True)
    if op == "argsort":
        return [(i, "int64")]
    return [(np.take_along_axis(x.v, i, axis=axis), x.d)]


def topk_model(x, k, sorted_):
    if x.v.ndim == 0 or k < 0 or k > x.v.shape[-1]:
        raise XErr("InvalidArgument")
    i = argsort_ref(x.v, -1, True)[..., :k]
    if not sorted_:
        i = np.sort(i, axis=-1)
    return [(np.take_along_axis(x.v, i, axis=-1), x.d), (i, "int64")]


def searchsorted_model(a, v, side):
    d = promote(a.d, v.d)
    av, vv = a.v.astype(NP[d]), v.v.astype(NP[d])
    if side not in ("left", "right"):
        raise XErr("InvalidArgument")
    if av.ndim == 0:
        raise XErr("ShapeError")
    if av.ndim == 1:
        return [(np.searchsorted(av, vv, side=side).astype(np.int64), "int64")]
    if vv.ndim != av.ndim or vv.shape[:-1] != av.shape[:-1]:
        raise XErr("ShapeError")
    out = np.zeros(vv.shape, dtype=np.int64)
    for idx in np.ndindex(*av.shape[:-1]):
        out[idx] = np.searchsorted(av[idx], vv[idx], side=side)
    return [(out, "int64")]


def take_along_model(x, idx, axis):
    if axis < -x.v.ndim or axis >= x.v.ndim:
        raise XErr("AxisError")
    axis %= x.v.ndim
    if idx.v.ndim != x.v.ndim or any(i != axis and idx.v.shape[i] != x.v.shape[i] for i in range(x.v.ndim)):
        raise XErr("ShapeError")
    n = x.v.shape[axis]
    if ((idx.v < -n) | (idx.v >= n)).any():
        raise XErr("OutOfRange")
    return [(np.take_along_axis(x.v, np.where(idx.v < 0, idx.v + n, idx.v).astype(np.int64), axis=axis), x.d)]


def gen_sort():
    for d in DTYPES:
        shapes = [((2, 3, 5), 1), ((7,), 0), ((4, 6), -1), ((3, 0), 1), ((0, 4), 0), ((2, 3), -2)]
        for shape, axis in shapes:
            # A small value range: many ties, so stability shows.
            v = rand(d, shape, 0, 4) if d not in ("bool",) + tuple(FLOATS) else rand(d, shape)
            if is_float(d):
                v = np.round(v)  # ties among floats too
            x = Arr(v, d)
            for op in ("sort", "argsort"):
                for desc in (False, True):
                    add_case("sort", op, [x], lambda op=op, x=x, a=axis, ds=desc: sort_model(op, x, a, ds),
                             attrs={"axis": axis, "descending": desc})
            if d != "bool":
                for op in ("cumsum", "cumprod"):
                    for ex, rev in ((False, False), (True, False), (False, True), (True, True)):
                        xs = x if op == "cumsum" else Arr(rand(d, shape, 0, 3) if not is_float(d) else
                                                          rand(d, shape, 0.5, 1.5), d)
                        add_case("sort", op, [xs], lambda op=op, x=xs, a=axis, e=ex, r=rev: scan_model(op, x, a, e, r),
                                 attrs={"axis": axis, "exclusive": ex, "reverse": rev})  # exact: the same order as NumPy
        # Special values: NaN, infinities, signed zeros, extreme integers.
        s = specials(d)
        x = Arr(np.stack([s, s[::-1], s]), d)
        for op in ("sort", "argsort"):
            for axis in (0, 1, -1):
                for desc in (False, True):
                    add_case("sort", op, [x], lambda op=op, x=x, a=axis, ds=desc: sort_model(op, x, a, ds),
                             attrs={"axis": axis, "descending": desc},
                             name="%s(specials %s, axis=%d, descending=%s)" % (op, d, axis, desc))
        for k in (0, 1, 3, s.shape[0]):
            for srt in (True, False):
                add_case("sort", "topk", [x], lambda x=x, k=k, srt=srt: topk_model(x, k, srt),
                         attrs={"k": k, "sorted": srt}, name="topk(specials %s, k=%d, sorted=%s)" % (d, k, srt))
        if d != "bool":
            for op in ("cumsum", "cumprod"):
                add_case("sort", op, [Arr(s, d)], lambda op=op, x=Arr(s, d): scan_model(op, x, None, False, False),
                         attrs={"axis": None, "exclusive": False, "reverse": False}, name="%s(specials %s)" % (op, d))
        # topk with ties and a transposed input.
        x = Arr(rand(d, (3, 6), 0, 3) if not is_float(d) and d != "bool" else np.round(rand(d, (3, 6))), d, "transpose")
        for k in (2, 3):
            add_case("sort", "topk", [x], lambda x=x, k=k: topk_model(x, k, True), attrs={"k": k, "sorted": True})
        add_case("sort", "topk", [x], lambda x=x: topk_model(x, 4, True), attrs={"k": 4, "sorted": True})
        # searchsorted against a sorted sequence with repeats (and NaNs for floats).
        if d != "bool":
            seq = np.sort(rand(d, (9,), 0, 5) if not is_float(d) else np.round(rand(d, (9,))), kind="stable")
            if is_float(d):
                seq = np.concatenate([seq, [np.nan]]).astype(NP[d])
            vals = rand(d, (3, 4), 0, 6) if not is_float(d) else np.round(rand(d, (3, 4)))
            if is_float(d):
                vals[0, 0], vals[0, 1], vals[0, 2] = np.nan, np.inf, -np.inf
            for side in ("left", "right"):
                add_case("sort", "searchsorted", [Arr(seq, d), Arr(vals, d)],
                         lambda a=Arr(seq, d), v=Arr(vals, d), sd=side: searchsorted_model(a, v, sd), attrs={"side": side})
            rows = np.sort(rand(d, (2, 5), 0, 5) if not is_float(d) else np.round(rand(d, (2, 5))), axis=1)
            rv = rand(d, (2, 3), 0, 6) if not is_float(d) else np.round(rand(d, (2, 3)))
            add_case("sort", "searchsorted", [Arr(rows, d), Arr(rv, d)],
                     lambda a=Arr(rows, d), v=Arr(rv, d): searchsorted_model(a, v, "right"), attrs={"side": "right"})
        # take_along_axis with negative indices.
        x = Arr(rand(d, (3, 4)), d)
        idx = Arr(RNG.integers(-4, 4, size=(3, 5)).astype(np.int64), "int64")
        add_case("sort", "take_along_axis", [x, idx], lambda x=x, i=idx: take_along_model(x, i, 1), attrs={"axis": 1})
    # Mixed dtypes promote in searchsorted.
    a, v = Arr(np.array([1, 3, 5, 7], dtype=np.int32)), Arr(np.array([2.5, 7.0, -1.0], dtype=np.float32))
    add_case("sort", "searchsorted", [a, v], lambda: searchsorted_model(a, v, "left"), attrs={"side": "left"})
    # Errors.
    x = Arr(rand("float32", (2, 3)), "float32")
    for op in ("sort", "argsort"):
        for axis in (2, -3):
            add_case("sort", op, [x], lambda op=op, a=axis: sort_model(op, x, a, False), attrs={"axis": axis, "descending": False})
    for op in ("cumsum", "cumprod"):
        add_case("sort", op, [x], lambda op=op: scan_model(op, x, 2, False, False),
                 attrs={"axis": 2, "exclusive": False, "reverse": False})
    add_case("sort", "sort", [Arr(np.float32(3.0), "float32")], lambda: sort_model("sort", Arr(np.float32(3.0), "float32"), -1, False),
             attrs={"axis": -1, "descending": False})
    add_case("sort", "topk", [x], lambda: topk_model(x, 4, True), attrs={"k": 4, "sorted": True})
    add_case("sort", "topk", [Arr(np.float32(3.0), "float32")], lambda: topk_model(Arr(np.float32(3.0), "float32"), 1, True),
             attrs={"k": 1, "sorted": True})
    add_case("sort", "searchsorted", [x, x], lambda: searchsorted_model(x, x, "middle"), attrs={"side": "middle"})
    add_case("sort", "searchsorted", [Arr(np.float32(1.0), "float32"), x],
             lambda: searchsorted_model(Arr(np.float32(1.0), "float32"), x, "left"), attrs={"side": "left"})
    bad = Arr(np.array([[0], [3]], dtype=np.int64), "int64")
    add_case("sort", "take_along_axis", [x, bad], lambda: take_along_model(x, bad, 1), attrs={"axis": 1})
    add_case("sort", "take_along_axis", [x, bad], lambda: take_along_model(x, bad, 2), attrs={"axis": 2})

    # Composites: isclose, flip, roll, repeat.
    fa = np.array([1.0, np.nan, np.inf, 1.0, -np.inf, 0.0, 1e-9, 100.0], dtype=np.float32)
    fb = np.array([1.000001, np.nan, np.inf, 1.1, np.inf, 1e-9, 0.0, 100.001], dtype=np.float32)
    for d in ("float32", "float64"):
        a, b = Arr(fa, d), Arr(fb, d)
        for rtol, atol, en in ((1e-5, 1e-8, False), (1e-5, 1e-8, True), (0.2, 0.0, False), (0.0, 0.0, True)):
            add_case("sort", "isclose", [a, b],
                     lambda a=a, b=b, r=rtol, t=atol, e=en: [(np.isclose(a.v, b.v, r, t, e), "bool")],
                     attrs={"rtol": rtol, "atol": atol, "equal_nan": en})
    for d in ("int32", "int64", "uint8", "bool"):
        a, b = Arr(rand(d, (3, 1)), d), Arr(rand(d, (4,)), d)
        add_case("sort", "isclose", [a, b], lambda a=a, b=b: [(np.isclose(a.v.astype(np.float64), b.v.astype(np.float64)), "bool")],
                 attrs={"rtol": 1e-5, "atol": 1e-8, "equal_nan": False})
    for d in DTYPES:
        x = Arr(rand(d, (2, 3, 4)), d)
        for axes in (None, [0], [-1], [0, 2], [3]):
            def flip_model(x=x, axes=axes):
                if axes is not None and any(a < -3 or a >= 3 for a in axes):
                    raise XErr("AxisError")
                return [(np.flip(x.v, axis=None if axes is None else tuple(axes)), x.d)]
            add_case("sort", "flip", [x], flip_model, attrs={"axes": axes})
        for shift, axis in ((1, None), (-5, None), (2, 1), (-1, -1), (7, 0), (0, 2), (1, 3)):
            def roll_model(x=x, shift=shift, axis=axis):
                if axis is not None and (axis < -3 or axis >= 3):
                    raise XErr("AxisError")
                return [(np.roll(x.v, shift, axis=axis), x.d)]
            add_case("sort", "roll", [x], roll_model, attrs={"shift": shift, "axis": axis})
        for reps, axis in ((2, None), (3, 1), (0, -1), ([1, 0, 2], 1), ([2], 0), ([1, 2], 2), (-1, 0), (2, 5)):
            def repeat_model(x=x, reps=reps, axis=axis):
                if axis is not None and (axis < -3 or axis >= 3):
                    raise XErr("AxisError")
                r = np.asarray(reps)
                if (r < 0).any():
                    raise XErr("InvalidArgument")
                n = x.v.size if axis is None else x.v.shape[axis]
                if r.ndim == 1 and r.size not in (1, n):
                    raise XErr("InvalidArgument")
                return [(np.repeat(x.v, reps, axis=axis), x.d)]
            add_case("sort", "repeat", [x], repeat_model, attrs={"repeats": reps, "axis": axis})

    # Host ops: unique (values, inverse of x's shape, counts) and where(cond) = argwhere.
    for d in DTYPES:
        for shape in ((2, 5), (7,), (0, 3), ()):
            v = rand(d, shape, 0, 4) if not is_float(d) and d != "bool" else rand(d, shape)
            if is_float(d):
                v = np.round(v)
            x = Arr(v, d)
            def unique_model(x=x):
                u, inv, cnt = np.unique(x.v, return_inverse=True, return_counts=True)
                return [(u, x.d), (inv.reshape(x.v.shape).astype(np.int64), "int64"), (cnt.astype(np.int64), "int64")]
            add_case("sort", "unique", [x], unique_model)
            add_case("sort", "where1", [x], lambda x=x: [(np.argwhere(x.v).astype(np.int64), "int64")])
        s = specials(d)
        x = Arr(np.concatenate([s, s]), d)
        add_case("sort", "unique", [x], lambda x=x: [
            (np.unique(x.v), x.d),
            (np.unique(x.v, return_inverse=True)[1].reshape(x.v.shape).astype(np.int64), "int64"),
            (np.unique(x.v, return_counts=True)[1].astype(np.int64), "int64")], name="unique(specials %s)" % d)
        add_case("sort", "where1", [x], lambda x=x: [(np.argwhere(x.v).astype(np.int64), "int64")],
                 name="where1(specials %s)" % d)


# =============================================================================================

def main():
    if len(sys.argv) != 2:
        sys.exit("usage: gen_expected.py OUTPUT.json")
    gen_unary()
    gen_binary()
    gen_where_cast_clip()
    gen_reductions()
    gen_arg()
    gen_linalg()
    gen_shape_ops()
    gen_nn()
    gen_sort()
    doc = {"generator": "tests/oracle/gen_expected.py", "numpy": np.__version__, "cases": CASES}
    with open(sys.argv[1], "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    counts = {}
    for c in CASES:
        counts[c["family"]] = counts.get(c["family"], 0) + 1
    print("gen_expected.py: %d cases (%s)" % (len(CASES), ", ".join("%s %d" % kv for kv in sorted(counts.items()))))


if __name__ == "__main__":
    main()
