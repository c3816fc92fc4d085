// The NumPy oracle: every case of ops_expected.json (written at build time by
// tests/oracle/gen_expected.py) runs through the public op it names; the result must have the
// expected dtype, shape and values, or the op must raise the expected exception class.
//
// NumPy gives the values, xflow's dtype lattice the dtype (DESIGN.md, "Dtypes vs the NumPy
// oracle"): the generator already cast NumPy's results to xflow's dtype. Float results compare
// with the case's tolerance (|got - want| <= atol + rtol * |want|, NaN only where NaN is expected,
// infinities exactly); everything else compares exactly.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iomanip>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "xflow/xflow.hpp"

namespace {

using json = nlohmann::json;

// ---- loading ----

const json& oracle() {
  static const json doc = [] {
    std::vector<std::string> paths;
    if (const char* env = std::getenv("XFLOW_OPS_ORACLE")) paths.push_back(env);
    for (const char* p : {"ops_expected.json", "tests/ops_expected.json", "build/tests/ops_expected.json"})
      paths.push_back(p);
    for (const std::string& p : paths) {
      std::ifstream f(p);
      if (f) return json::parse(f);
    }
    throw std::runtime_error(
        "ops_expected.json not found (run from build/tests, or set XFLOW_OPS_ORACLE); ninja builds it from "
        "tests/oracle/gen_expected.py");
  }();
  return doc;
}

std::string base64_decode(const std::string& in) {
  static const std::string chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    size_t v = chars.find(c);
    if (v == std::string::npos) throw std::runtime_error("bad base64 character");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

xf::Tensor decode_tensor(const json& j) {
  xf::DType d = xf::dtype_from_name(j.at("dtype").get<std::string>());
  xf::Shape shape = j.at("shape").get<xf::Shape>();
  std::string bytes = base64_decode(j.at("data").get<std::string>());
  int64_t n = xf::numel(shape);
  if (static_cast<int64_t>(bytes.size()) != n * xf::dtype_size(d))
    throw std::runtime_error("tensor data has " + std::to_string(bytes.size()) + " bytes for shape " +
                             xf::shape_str(shape));
  xf::Tensor t = xf::Tensor::from_bytes(bytes.data(), static_cast<size_t>(n), d, shape);
  if (j.contains("view")) {
    std::string view = j["view"].get<std::string>();
    if (view == "transpose") {
      t = xf::transpose(t);
    } else if (view == "bcast") {
      t = xf::broadcast_to(t, j.at("view_shape").get<xf::Shape>());
    } else if (view == "step2") {
      std::vector<xf::Slice> sl(static_cast<size_t>(t.rank() - 1), xf::Slice{});
      sl.push_back(xf::Slice(std::nullopt, std::nullopt, 2));
      t = xf::slice(t, sl);
    } else {
      throw std::runtime_error("unknown view " + view);
    }
  }
  return t;
}

// An input: a tensor, or a C++ scalar of kind bool, int or float.
struct Operand {
  bool is_scalar = false;
  xf::Tensor t;
  xf::Scalar s = false;
};

double json_double(const json& v) {
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    if (s == "nan") return std::nan("");
    if (s == "inf") return HUGE_VAL;
    if (s == "-inf") return -HUGE_VAL;
    throw std::runtime_error("bad float " + s);
  }
  return v.get<double>();
}

Operand decode_operand(const json& j) {
  Operand o;
  if (j.contains("scalar")) {
    o.is_scalar = true;
    std::string kind = j["scalar"].get<std::string>();
    if (kind == "bool") o.s = xf::Scalar(j["value"].get<bool>());
    else if (kind == "int") o.s = xf::Scalar(j["value"].get<int64_t>());
    else if (kind == "float") o.s = xf::Scalar(json_double(j["value"]));
    else throw std::runtime_error("bad scalar kind " + kind);
  } else {
    o.t = decode_tensor(j);
  }
  return o;
}

// ---- the ops, by name ----

using Ins = std::vector<Operand>;
using Outs = std::vector<xf::Tensor>;
using Runner = std::function<Outs(const json& attrs, const Ins& in)>;

Outs one(xf::Tensor t) { return Outs{std::move(t)}; }

xf::OptAxes opt_axes(const json& attrs, const char* key = "axes") {
  if (!attrs.contains(key) || attrs[key].is_null()) return std::nullopt;
  return attrs[key].get<xf::Axes>();
}

std::optional<int64_t> opt_axis(const json& attrs) {
  if (!attrs.contains("axis") || attrs["axis"].is_null()) return std::nullopt;
  return attrs["axis"].get<int64_t>();
}

std::optional<int64_t> opt_int(const json& v) {
  if (v.is_null()) return std::nullopt;
  return v.get<int64_t>();
}

xf::Padding padding_of(const json& attrs) {
  std::string p = attrs.at("padding").get<std::string>();
  if (p == "SAME") return xf::Padding::same;
  if (p == "VALID") return xf::Padding::valid;
  throw std::runtime_error("bad padding " + p);
}

std::pair<int64_t, int64_t> pair_of(const json& v) {
  auto p = v.get<std::vector<int64_t>>();
  if (p.size() != 2) throw std::runtime_error("expected a pair");
  return {p[0], p[1]};
}

std::vector<xf::Tensor> tensors_of(const Ins& in) {
  std::vector<xf::Tensor> out;
  for (const Operand& o : in) out.push_back(o.t);
  return out;
}

const std::map<std::string, Runner>& runners() {
  static const std::map<std::string, Runner> table = [] {
    std::map<std::string, Runner> m;
#define XF_UNARY(name) m[#name] = [](const json&, const Ins& in) { return one(xf::name(in.at(0).t)); };
    XF_UNARY(neg) XF_UNARY(abs) XF_UNARY(sign) XF_UNARY(exp) XF_UNARY(expm1) XF_UNARY(log) XF_UNARY(log1p)
    XF_UNARY(sqrt) XF_UNARY(rsqrt) XF_UNARY(square) XF_UNARY(reciprocal) XF_UNARY(sin) XF_UNARY(cos)
    XF_UNARY(tan) XF_UNARY(tanh) XF_UNARY(sigmoid) XF_UNARY(relu) XF_UNARY(erf) XF_UNARY(floor)
    XF_UNARY(ceil) XF_UNARY(round) XF_UNARY(logical_not) XF_UNARY(isnan) XF_UNARY(isinf) XF_UNARY(isfinite)
#undef XF_UNARY
#define XF_BINARY(name)                                          \
  m[#name] = [](const json&, const Ins& in) {                    \
    const Operand& a = in.at(0);                                 \
    const Operand& b = in.at(1);                                 \
    if (a.is_scalar) return one(xf::name(a.s, b.t));             \
    if (b.is_scalar) return one(xf::name(a.t, b.s));             \
    return one(xf::name(a.t, b.t));                              \
  };
    XF_BINARY(add) XF_BINARY(sub) XF_BINARY(mul) XF_BINARY(div) XF_BINARY(floor_div) XF_BINARY(mod)
    XF_BINARY(pow) XF_BINARY(maximum) XF_BINARY(minimum) XF_BINARY(atan2) XF_BINARY(equal)
    XF_BINARY(not_equal) XF_BINARY(less) XF_BINARY(less_equal) XF_BINARY(greater) XF_BINARY(greater_equal)
    XF_BINARY(logical_and) XF_BINARY(logical_or) XF_BINARY(logical_xor)
    XF_BINARY(hypot) XF_BINARY(logaddexp) XF_BINARY(relu_grad)
#undef XF_BINARY
    m["where"] = [](const json&, const Ins& in) {
      const Operand &c = in.at(0), &a = in.at(1), &b = in.at(2);
      if (a.is_scalar) return one(xf::where(c.t, a.s, b.t));
      if (b.is_scalar) return one(xf::where(c.t, a.t, b.s));
      return one(xf::where(c.t, a.t, b.t));
    };
    m["cast"] = [](const json& at, const Ins& in) {
      return one(xf::cast(in.at(0).t, xf::dtype_from_name(at.at("dtype").get<std::string>())));
    };
    m["clip"] = [](const json&, const Ins& in) {
      const Operand &x = in.at(0), &lo = in.at(1), &hi = in.at(2);
      if (lo.is_scalar != hi.is_scalar) throw std::runtime_error("clip takes two scalars or two tensors");
      if (lo.is_scalar) return one(xf::clip(x.t, lo.s, hi.s));
      return one(xf::clip(x.t, lo.t, hi.t));
    };
#define XF_REDUCE(name) \
  m[#name] = [](const json& at, const Ins& in) { return one(xf::name(in.at(0).t, opt_axes(at), at.at("keepdims").get<bool>())); };
    XF_REDUCE(sum) XF_REDUCE(mean) XF_REDUCE(prod) XF_REDUCE(max) XF_REDUCE(min) XF_REDUCE(all) XF_REDUCE(any)
    XF_REDUCE(logsumexp)
#undef XF_REDUCE
    m["variance"] = [](const json& at, const Ins& in) {
      return one(xf::variance(in.at(0).t, opt_axes(at), at.at("keepdims").get<bool>(), at.value("ddof", int64_t{0})));
    };
    m["stddev"] = [](const json& at, const Ins& in) {
      return one(xf::stddev(in.at(0).t, opt_axes(at), at.at("keepdims").get<bool>(), at.value("ddof", int64_t{0})));
    };
    m["argmax"] = [](const json& at, const Ins& in) {
      return one(xf::argmax(in.at(0).t, opt_axis(at), at.at("keepdims").get<bool>()));
    };
    m["argmin"] = [](const json& at, const Ins& in) {
      return one(xf::argmin(in.at(0).t, opt_axis(at), at.at("keepdims").get<bool>()));
    };
    m["matmul"] = [](const json&, const Ins& in) { return one(xf::matmul(in.at(0).t, in.at(1).t)); };
    m["transpose"] = [](const json& at, const Ins& in) {
      if (at.at("perm").is_null()) return one(xf::transpose(in.at(0).t));
      return one(xf::transpose(in.at(0).t, at["perm"].get<xf::Axes>()));
    };
    m["tensordot"] = [](const json& at, const Ins& in) {
      if (at.contains("axes")) return one(xf::tensordot(in.at(0).t, in.at(1).t, at["axes"].get<int64_t>()));
      return one(xf::tensordot(in.at(0).t, in.at(1).t, at.at("axes_a").get<xf::Axes>(), at.at("axes_b").get<xf::Axes>()));
    };
    m["reshape"] = [](const json& at, const Ins& in) { return one(xf::reshape(in.at(0).t, at.at("shape").get<xf::Shape>())); };
    m["flatten"] = [](const json&, const Ins& in) { return one(xf::flatten(in.at(0).t)); };
    m["expand_dims"] = [](const json& at, const Ins& in) {
      return one(xf::expand_dims(in.at(0).t, at.at("axis").get<int64_t>()));
    };
    m["squeeze"] = [](const json& at, const Ins& in) { return one(xf::squeeze(in.at(0).t, opt_axes(at))); };
    m["broadcast_to"] = [](const json& at, const Ins& in) {
      return one(xf::broadcast_to(in.at(0).t, at.at("shape").get<xf::Shape>()));
    };
    m["concat"] = [](const json& at, const Ins& in) { return one(xf::concat(tensors_of(in), at.at("axis").get<int64_t>())); };
    m["stack"] = [](const json& at, const Ins& in) { return one(xf::stack(tensors_of(in), at.at("axis").get<int64_t>())); };
    m["split"] = [](const json& at, const Ins& in) {
      int64_t axis = at.at("axis").get<int64_t>();
      if (at.contains("sections")) return xf::split(in.at(0).t, at["sections"].get<int64_t>(), axis);
      return xf::split(in.at(0).t, at.at("indices").get<std::vector<int64_t>>(), axis);
    };
    m["slice"] = [](const json& at, const Ins& in) {
      std::vector<xf::Slice> sl;
      for (const json& s : at.at("slices")) sl.push_back(xf::Slice(opt_int(s.at(0)), opt_int(s.at(1)), s.at(2).get<int64_t>()));
      return one(xf::slice(in.at(0).t, sl));
    };
    m["strided_slice"] = [](const json& at, const Ins& in) {
      return one(xf::strided_slice(in.at(0).t, at.at("begin").get<std::vector<int64_t>>(),
                                   at.at("end").get<std::vector<int64_t>>(), at.at("strides").get<std::vector<int64_t>>()));
    };
    m["gather"] = [](const json& at, const Ins& in) {
      return one(xf::gather(in.at(0).t, in.at(1).t, at.at("axis").get<int64_t>()));
    };
    m["pad"] = [](const json& at, const Ins& in) {
      std::vector<std::pair<int64_t, int64_t>> pads;
      for (const json& p : at.at("pads")) pads.push_back(pair_of(p));
      return one(xf::pad(in.at(0).t, pads, in.at(1).s));
    };
    m["tile"] = [](const json& at, const Ins& in) {
      return one(xf::tile(in.at(0).t, at.at("reps").get<std::vector<int64_t>>()));
    };
    m["one_hot"] = [](const json& at, const Ins& in) {
      return one(xf::one_hot(in.at(0).t, at.at("depth").get<int64_t>(),
                             xf::dtype_from_name(at.at("dtype").get<std::string>())));
    };
    m["softmax"] = [](const json& at, const Ins& in) { return one(xf::softmax(in.at(0).t, at.at("axis").get<int64_t>())); };
    m["log_softmax"] = [](const json& at, const Ins& in) {
      return one(xf::log_softmax(in.at(0).t, at.at("axis").get<int64_t>()));
    };
    m["conv2d"] = [](const json& at, const Ins& in) {
      return one(xf::conv2d(in.at(0).t, in.at(1).t, pair_of(at.at("strides")), padding_of(at)));
    };
    m["max_pool2d"] = [](const json& at, const Ins& in) {
      return one(xf::max_pool2d(in.at(0).t, pair_of(at.at("window")), pair_of(at.at("strides")), padding_of(at)));
    };
    m["avg_pool2d"] = [](const json& at, const Ins& in) {
      return one(xf::avg_pool2d(in.at(0).t, pair_of(at.at("window")), pair_of(at.at("strides")), padding_of(at)));
    };
    // The sort and scan family.
    m["cumsum"] = [](const json& at, const Ins& in) {
      return one(xf::cumsum(in.at(0).t, opt_axis(at), at.at("exclusive").get<bool>(), at.at("reverse").get<bool>()));
    };
    m["cumprod"] = [](const json& at, const Ins& in) {
      return one(xf::cumprod(in.at(0).t, opt_axis(at), at.at("exclusive").get<bool>(), at.at("reverse").get<bool>()));
    };
    m["sort"] = [](const json& at, const Ins& in) {
      return one(xf::sort(in.at(0).t, at.at("axis").get<int64_t>(), at.at("descending").get<bool>()));
    };
    m["argsort"] = [](const json& at, const Ins& in) {
      return one(xf::argsort(in.at(0).t, at.at("axis").get<int64_t>(), at.at("descending").get<bool>()));
    };
    m["topk"] = [](const json& at, const Ins& in) {
      xf::TopKResult r = xf::topk(in.at(0).t, at.at("k").get<int64_t>(), at.at("sorted").get<bool>());
      return Outs{r.values, r.indices};
    };
    m["searchsorted"] = [](const json& at, const Ins& in) {
      return one(xf::searchsorted(in.at(0).t, in.at(1).t, at.at("side").get<std::string>()));
    };
    m["take_along_axis"] = [](const json& at, const Ins& in) {
      return one(xf::take_along_axis(in.at(0).t, in.at(1).t, at.at("axis").get<int64_t>()));
    };
    m["isclose"] = [](const json& at, const Ins& in) {
      return one(xf::isclose(in.at(0).t, in.at(1).t, at.at("rtol").get<double>(), at.at("atol").get<double>(),
                             at.at("equal_nan").get<bool>()));
    };
    m["flip"] = [](const json& at, const Ins& in) { return one(xf::flip(in.at(0).t, opt_axes(at))); };
    m["roll"] = [](const json& at, const Ins& in) {
      return one(xf::roll(in.at(0).t, at.at("shift").get<int64_t>(), opt_axis(at)));
    };
    m["repeat"] = [](const json& at, const Ins& in) {
      if (at.at("repeats").is_array())
        return one(xf::repeat(in.at(0).t, at["repeats"].get<std::vector<int64_t>>(), opt_axis(at)));
      return one(xf::repeat(in.at(0).t, at["repeats"].get<int64_t>(), opt_axis(at)));
    };
    m["unique"] = [](const json&, const Ins& in) {
      xf::UniqueResult r = xf::unique(in.at(0).t);
      return Outs{r.values, r.inverse, r.counts};
    };
    m["where1"] = [](const json&, const Ins& in) { return one(xf::where(in.at(0).t)); };
    return m;
  }();
  return table;
}

// ---- comparing ----

const char* class_name(xf::ErrorCode c) { return xf::error_class_name(c); }

std::string fmt(double v) {
  std::ostringstream os;
  os << std::setprecision(17) << v;
  return os.str();
}

// "" when equal; otherwise what differs.
std::string compare(const xf::Tensor& got, const xf::Tensor& want, double rtol, double atol) {
  std::ostringstream os;
  if (got.dtype() != want.dtype())
    os << "dtype is " << xf::dtype_name(got.dtype()) << ", expected " << xf::dtype_name(want.dtype()) << "\n";
  if (got.shape() != want.shape())
    os << "shape is " << xf::shape_str(got.shape()) << ", expected " << xf::shape_str(want.shape()) << "\n";
  if (!os.str().empty() || got.shape() != want.shape()) return os.str();
  int shown = 0;
  int64_t bad = 0;
  auto report = [&](size_t i, const std::string& g, const std::string& w) {
    ++bad;
    if (shown++ < 6) os << "  element " << i << ": got " << g << ", expected " << w << "\n";
  };
  if (xf::is_floating(want.dtype())) {
    std::vector<double> g = got.to_vector<double>(), w = want.to_vector<double>();
    for (size_t i = 0; i < w.size(); ++i) {
      bool ok;
      if (std::isnan(w[i])) ok = std::isnan(g[i]);
      else if (std::isinf(w[i]) || (rtol == 0 && atol == 0)) ok = g[i] == w[i];
      else ok = std::fabs(g[i] - w[i]) <= atol + rtol * std::fabs(w[i]);  // false for NaN
      if (!ok) report(i, fmt(g[i]), fmt(w[i]));
    }
  } else {
    std::vector<int64_t> g = got.to_vector<int64_t>(), w = want.to_vector<int64_t>();
    for (size_t i = 0; i < w.size(); ++i)
      if (g[i] != w[i]) report(i, std::to_string(g[i]), std::to_string(w[i]));
  }
  if (bad == 0) return "";
  std::ostringstream head;
  head << bad << " of " << want.size() << " elements differ (rtol " << rtol << ", atol " << atol << ")\n"
       << os.str() << "  got:      " << got.str() << "\n  expected: " << want.str() << "\n";
  return head.str();
}

// Runs one case; returns "" when it passes, otherwise the failure.
std::string run_case(const json& c) {
  const std::string op = c.at("op").get<std::string>();
  auto it = runners().find(op);
  if (it == runners().end()) return "no runner for op '" + op + "'";
  Ins in;
  for (const json& j : c.at("inputs")) in.push_back(decode_operand(j));
  Outs outs;
  try {
    outs = it->second(c.at("attrs"), in);
  } catch (const xf::Error& e) {
    std::string got = class_name(e.code());
    if (!c.contains("error")) return "unexpected " + got + ": " + e.what();
    std::string want = c["error"].get<std::string>();
    if (got != want) return "raised " + got + " (" + e.what() + "), expected " + want;
    std::string msg = e.what();
    if (msg.rfind("[", 0) != 0) return "message does not start with [op]: " + msg;
    return "";
  }
  if (c.contains("error")) {
    std::string shown = outs.empty() ? "nothing" : outs[0].str();
    return "expected " + c["error"].get<std::string>() + ", got " + shown;
  }
  const json& want = c.at("outputs");
  if (outs.size() != want.size())
    return std::to_string(outs.size()) + " outputs, expected " + std::to_string(want.size());
  double rtol = c.value("rtol", 0.0), atol = c.value("atol", 0.0);
  std::string diff;
  for (size_t i = 0; i < outs.size(); ++i) {
    std::string d = compare(outs[i], decode_tensor(want[i]), rtol, atol);
    if (!d.empty()) diff += (outs.size() > 1 ? "output " + std::to_string(i) + ": " : "") + d;
  }
  return diff;
}

// Runs every case of one family: each failure is reported with the case's name.
void run_family(const std::string& family) {
  int64_t ran = 0;
  for (const json& c : oracle().at("cases")) {
    if (c.at("family").get<std::string>() != family) continue;
    ++ran;
    const std::string name = c.at("name").get<std::string>();
    std::string failure;
    try {
      failure = run_case(c);
    } catch (const std::exception& e) {
      failure = std::string("exception outside xflow's hierarchy: ") + e.what();
    }
    if (failure.empty()) {
      SUCCEED();
    } else {
      INFO("case: " << name);
      FAIL_CHECK(failure);
    }
  }
  INFO("family " << family);
  CHECK(ran > 0);
}

const char* const kFamilies[] = {"unary", "binary", "where", "cast", "reduce", "linalg", "shape", "nn", "sort"};

}  // namespace

TEST_CASE("oracle: the cases cover every public op", "[oracle]") {
  const std::set<std::string> ops = {
      "neg", "abs", "sign", "exp", "expm1", "log", "log1p", "sqrt", "rsqrt", "square", "reciprocal", "sin", "cos",
      "tan", "tanh", "sigmoid", "relu", "erf", "floor", "ceil", "round", "logical_not", "isnan", "isinf", "isfinite",
      "add", "sub", "mul", "div", "floor_div", "mod", "pow", "maximum", "minimum", "atan2", "equal", "not_equal",
      "less", "less_equal", "greater", "greater_equal", "logical_and", "logical_or", "logical_xor", "where", "cast",
      "clip", "sum", "mean", "prod", "max", "min", "all", "any", "logsumexp", "variance", "stddev", "argmax", "argmin",
      "matmul", "transpose", "tensordot", "reshape", "flatten", "expand_dims", "squeeze", "broadcast_to", "concat",
      "stack", "split", "slice", "strided_slice", "gather", "pad", "tile", "one_hot", "softmax", "log_softmax",
      "conv2d", "max_pool2d", "avg_pool2d",
      "hypot", "logaddexp", "relu_grad", "cumsum", "cumprod", "sort", "argsort", "topk", "searchsorted", "take_along_axis",
      "isclose", "flip", "roll", "repeat", "unique", "where1"};
  std::map<std::string, int> values, errors;
  const std::set<std::string> families(std::begin(kFamilies), std::end(kFamilies));
  for (const json& c : oracle().at("cases")) {
    std::string op = c.at("op").get<std::string>();
    INFO("case: " << c.at("name").get<std::string>());
    CHECK(ops.count(op) == 1);
    CHECK(runners().count(op) == 1);
    CHECK(families.count(c.at("family").get<std::string>()) == 1);
    (c.contains("error") ? errors : values)[op]++;
  }
  for (const std::string& op : ops) {
    INFO("op " << op);
    CHECK(values[op] > 0);  // every op computes something checked against NumPy
  }
  CHECK(oracle().at("cases").size() > 5000);
}

TEST_CASE("oracle: unary elementwise ops", "[oracle]") { run_family("unary"); }
TEST_CASE("oracle: binary elementwise ops", "[oracle]") { run_family("binary"); }
TEST_CASE("oracle: where and clip", "[oracle]") { run_family("where"); }
TEST_CASE("oracle: cast", "[oracle]") { run_family("cast"); }
TEST_CASE("oracle: reductions", "[oracle]") { run_family("reduce"); }
TEST_CASE("oracle: matmul, transpose, tensordot", "[oracle]") { run_family("linalg"); }
TEST_CASE("oracle: shape ops", "[oracle]") { run_family("shape"); }
TEST_CASE("oracle: softmax, conv2d, pooling", "[oracle]") { run_family("nn"); }
TEST_CASE("oracle: sort, argsort, topk, searchsorted, scans, unique, where(cond), isclose, flip, roll, repeat",
          "[oracle]") {
  run_family("sort");
}
