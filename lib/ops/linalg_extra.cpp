// NumPy's linear-algebra conveniences (einsum, norm, diag, trace, triu, tril, meshgrid) as
// composites of primitives: they trace, fuse and differentiate through their parts, and have no
// kernel, JSON form or gradient of their own. svd's public op is here too; its primitive's
// kernel is in linalg.cpp and its gradient in gradients.cpp.
#include <algorithm>
#include <cmath>
#include <map>

#include "ops/prims.hpp"
#include "xflow/ops.hpp"

namespace xf {
namespace {

std::string spec_of(const Tensor& x) { return spec_str({x.dtype(), x.shape()}); }

void check_defined(const char* op, const Tensor& x, Loc loc) {
  if (!x.defined()) raise(ErrorCode::invalid_argument, op, "an input is an empty Tensor handle", loc);
}

Tensor zero_of(const Tensor& x, Loc loc) { return full({}, 0, x.dtype(), loc); }

// (n, m) bool: column - row compared with k by `cmp` (-1: <=, 0: ==, 1: >=).
Tensor band_mask(int64_t n, int64_t m, int64_t k, int cmp, Loc loc) {
  Tensor rows = reshape(arange(0, static_cast<double>(n), 1, DType::int64, loc), {n, 1}, loc);
  Tensor cols = reshape(arange(0, static_cast<double>(m), 1, DType::int64, loc), {1, m}, loc);
  Tensor d = sub(cols, rows, loc);
  Scalar ks(k);
  return cmp < 0 ? less_equal(d, ks, loc) : cmp == 0 ? equal(d, ks, loc) : greater_equal(d, ks, loc);
}

// x with the elements outside the band of its last two axes set to 0.
Tensor keep_band(const char* op, const Tensor& x, int64_t k, int cmp, Loc loc) {
  check_defined(op, x, loc);
  if (x.rank() < 2) raise(ErrorCode::shape, op, "needs at least 2 axes: x is " + spec_of(x), loc);
  Tensor mask = band_mask(x.shape()[x.rank() - 2], x.shape()[x.rank() - 1], k, cmp, loc);
  return where(mask, x, zero_of(x, loc), loc);
}

// Integer and bool inputs become float32 (strict mode refuses the promotion).
Tensor as_float(const char* op, const Tensor& x, Loc loc) {
  if (is_floating(x.dtype())) return x;
  if (strict_dtypes())
    raise(ErrorCode::dtype, op, "implicit dtype promotion in strict mode: x is " + spec_of(x) + " and would become float32", loc);
  return cast(x, DType::float32, loc);
}

// sqrt(s) whose gradient at s = 0 is 0 (not inf * 0 = NaN): the subgradient a training step can
// take at a zero vector. NaN and inf pass through as sqrt's.
Tensor sqrt_zero_safe(const Tensor& s, Loc loc) {
  Tensor is0 = equal(s, 0, loc);
  return where(is0, zero_of(s, loc), sqrt(where(is0, full({}, 1, s.dtype(), loc), s, loc), loc), loc);
}

std::string ord_str(double ord) {
  if (std::isinf(ord)) return ord > 0 ? "inf" : "-inf";
  std::string s = std::to_string(ord);
  s.erase(s.find_last_not_of('0') + 1);
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

}  // namespace

Tensor triu(const Tensor& x, int64_t k, Loc loc) { return keep_band("triu", x, k, 1, loc); }
Tensor tril(const Tensor& x, int64_t k, Loc loc) { return keep_band("tril", x, k, -1, loc); }

Tensor diag(const Tensor& v, int64_t k, Loc loc) {
  check_defined("diag", v, loc);
  if (v.rank() == 1) {
    int64_t n = v.shape()[0], a = k < 0 ? -k : k, N = n + a;
    // Element i goes to (i, i + k) for k >= 0, to (i - k, i) below the diagonal: pad v to N and
    // broadcast it along the axis it is constant on.
    Tensor vp = pad(v, {{0, a}}, 0, loc);
    Tensor full_v = broadcast_to(reshape(vp, k >= 0 ? Shape{N, 1} : Shape{1, N}, loc), {N, N}, loc);
    return where(band_mask(N, N, k, 0, loc), full_v, zero_of(v, loc), loc);
  }
  if (v.rank() == 2) {
    int64_t r = v.shape()[0], c = v.shape()[1];
    int64_t start = k >= 0 ? k : -k * c;
    int64_t len = std::max<int64_t>(0, k >= 0 ? std::min(r, c - k) : std::min(r + k, c));
    Tensor flat = reshape(v, {r * c}, loc);
    if (len == 0) return slice(flat, {Slice{0, 0}}, loc);
    return slice(flat, {Slice{start, start + (len - 1) * (c + 1) + 1, c + 1}}, loc);
  }
  raise(ErrorCode::shape, "diag", "needs a 1-D (vector -> matrix) or 2-D (matrix -> diagonal) input: v is " + spec_of(v), loc);
}

Tensor trace(const Tensor& x, int64_t offset, Loc loc) {
  check_defined("trace", x, loc);
  if (x.rank() < 2) raise(ErrorCode::shape, "trace", "needs at least 2 axes: x is " + spec_of(x), loc);
  if (x.rank() == 2) return sum(diag(x, offset, loc), std::nullopt, false, loc);
  // NumPy: the diagonals of axes 0 and 1, for every index of the others.
  Tensor mask = band_mask(x.shape()[0], x.shape()[1], offset, 0, loc);
  Shape ms{x.shape()[0], x.shape()[1]};
  ms.resize(static_cast<size_t>(x.rank()), 1);
  return sum(where(reshape(mask, ms, loc), x, zero_of(x, loc), loc), Axes{0, 1}, false, loc);
}

std::vector<Tensor> meshgrid(const std::vector<Tensor>& xs, const std::string& indexing, Loc loc) {
  if (indexing != "xy" && indexing != "ij")
    raise(ErrorCode::invalid_argument, "meshgrid", "indexing must be \"xy\" or \"ij\", got \"" + indexing + "\"", loc);
  for (const Tensor& t : xs) check_defined("meshgrid", t, loc);
  size_t n = xs.size();
  bool xy = indexing == "xy" && n >= 2;
  auto pos = [&](size_t i) { return xy && i < 2 ? 1 - i : i; };
  Shape out(n);
  for (size_t i = 0; i < n; ++i) out[pos(i)] = xs[i].size();
  std::vector<Tensor> grids;
  for (size_t i = 0; i < n; ++i) {
    Shape s(n, 1);
    s[pos(i)] = xs[i].size();
    grids.push_back(broadcast_to(reshape(xs[i], s, loc), out, loc));
  }
  return grids;
}

// ---- svd ----

SvdResult svd(const Tensor& x0, bool full_matrices, Loc loc) {
  check_defined("svd", x0, loc);
  if (x0.rank() < 2) raise(ErrorCode::shape, "svd", "needs at least 2 axes (a matrix or a batch of them): x is " + spec_of(x0), loc);
  Tensor x = as_float("svd", x0, loc);
  Tensors r = apply(Prim::svd, make_attrs(SvdAttrs{full_matrices}), {x}, loc);
  return SvdResult{r[0], r[1], r[2]};
}

// ---- norm ----

namespace {

Tensor vector_norm(const Tensor& x, double ord, const Axes& ax, bool keepdims, Loc loc) {
  if (std::isinf(ord)) return ord > 0 ? max(abs(x, loc), ax, keepdims, loc) : min(abs(x, loc), ax, keepdims, loc);
  if (ord == 0) return cast(sum(cast(not_equal(x, 0, loc), x.dtype(), loc), ax, keepdims, loc), x.dtype(), loc);
  if (ord == 1) return sum(abs(x, loc), ax, keepdims, loc);
  if (ord == 2) return sqrt_zero_safe(sum(square(x, loc), ax, keepdims, loc), loc);
  Tensor s = sum(pow(abs(x, loc), full({}, ord, x.dtype(), loc), loc), ax, keepdims, loc);
  return pow(s, full({}, 1.0 / ord, x.dtype(), loc), loc);
}

// The singular values of the matrices of axes r and c: (other axes..., k).
Tensor singular_values(const Tensor& x, int64_t r, int64_t c, Loc loc) {
  Axes perm;
  for (int64_t i = 0; i < x.rank(); ++i)
    if (i != r && i != c) perm.push_back(i);
  perm.push_back(r);
  perm.push_back(c);
  bool identity = true;
  for (size_t i = 0; i < perm.size(); ++i) identity = identity && perm[i] == static_cast<int64_t>(i);
  return svd(identity ? x : transpose(x, perm, loc), false, loc).s;
}

Tensor matrix_norm(const Tensor& x, std::optional<double> ord, bool nuc, int64_t r, int64_t c, bool keepdims, Loc loc) {
  Tensor y;
  if (nuc || (ord && std::abs(*ord) == 2)) {
    // The sum, the largest or the smallest of the singular values, over the last axis of s.
    if (!nuc && std::min(x.shape()[r], x.shape()[c]) == 0)
      raise(ErrorCode::invalid_argument, "norm",
            "matrix norm ord " + ord_str(*ord) + " of an empty matrix has no value (no singular values): x is " +
                spec_of(x), loc);
    Tensor s = singular_values(x, r, c, loc);
    Axes last{s.rank() - 1};
    y = nuc ? sum(s, last, false, loc) : *ord > 0 ? max(s, last, false, loc) : min(s, last, false, loc);
    if (!keepdims) return y;
    Shape kept = x.shape();
    kept[r] = 1;
    kept[c] = 1;
    return reshape(y, kept, loc);
  }
  if (!ord) {
    y = sqrt_zero_safe(sum(square(x, loc), Axes{r, c}, true, loc), loc);
  } else if (std::abs(*ord) == 1 || std::isinf(*ord)) {
    // 1: the largest column sum of |x| (sum over rows, then max over columns); inf: the largest row sum.
    bool cols = std::abs(*ord) == 1;
    Tensor s = sum(abs(x, loc), Axes{cols ? r : c}, true, loc);
    Axes other{cols ? c : r};
    y = *ord > 0 ? max(s, other, true, loc) : min(s, other, true, loc);
  } else {
    raise(ErrorCode::invalid_argument, "norm",
          "matrix norm ord " + ord_str(*ord) + " is not defined (the matrix ords are 1, -1, 2, -2, inf, -inf, \"fro\" and "
          "\"nuc\"): x is " + spec_of(x), loc);
  }
  return keepdims ? y : squeeze(y, Axes{r, c}, loc);
}

}  // namespace

Tensor norm(const Tensor& x0, NormOrd ord_in, OptAxes axes, bool keepdims, Loc loc) {
  check_defined("norm", x0, loc);
  std::optional<double> ord;
  bool nuc = false;
  if (ord_in.given && ord_in.name.empty()) {
    if (std::isnan(ord_in.p)) raise(ErrorCode::invalid_argument, "norm", "ord is NaN: x is " + spec_of(x0), loc);
    ord = ord_in.p;
  } else if (ord_in.given) {
    if (ord_in.name != "fro" && ord_in.name != "nuc")
      raise(ErrorCode::invalid_argument, "norm", "ord must be a number, \"fro\" or \"nuc\", got \"" + ord_in.name + "\"", loc);
    nuc = ord_in.name == "nuc";
    const char* what = nuc ? "the nuclear norm" : "the Frobenius norm";
    if (axes && axes->size() != 2)
      raise(ErrorCode::invalid_argument, "norm", std::string(what) + " takes 2 axes, got " + shape_str(*axes) + ": x is " + spec_of(x0), loc);
    if (!axes && x0.rank() != 2)
      raise(ErrorCode::shape, "norm", std::string(what) + " without axes needs a 2-D x: x is " + spec_of(x0), loc);
    if (!axes) axes = Axes{0, 1};
  }
  Tensor x = as_float("norm", x0, loc);
  Axes ax;
  if (axes) {
    for (int64_t a : *axes) ax.push_back(normalize_axis(a, x.rank(), "norm", loc));
  } else if (!ord) {
    // NumPy: no ord and no axis is the 2-norm of the flattened tensor.
    if (x.rank() == 0) return abs(x, loc);
    for (int64_t i = 0; i < x.rank(); ++i) ax.push_back(i);
    return sqrt_zero_safe(sum(square(x, loc), ax, keepdims, loc), loc);
  } else {
    if (x.rank() != 1 && x.rank() != 2)
      raise(ErrorCode::shape, "norm", "an ord without axes needs a 1-D or 2-D x: x is " + spec_of(x), loc);
    for (int64_t i = 0; i < x.rank(); ++i) ax.push_back(i);
  }
  if (ax.size() == 1) return vector_norm(x, ord ? *ord : 2.0, ax, keepdims, loc);
  if (ax.size() == 2) {
    if (ax[0] == ax[1]) raise(ErrorCode::axis, "norm", "the two axes are the same: x is " + spec_of(x), loc);
    return matrix_norm(x, ord, nuc, ax[0], ax[1], keepdims, loc);
  }
  raise(ErrorCode::invalid_argument, "norm",
        "takes 1 axis (vector norm) or 2 (matrix norm), got " + shape_str(ax) + ": x is " + spec_of(x), loc);
}

// ---- einsum ----

namespace {

struct Term {
  Tensor t;
  std::string labels;  // one letter per axis, no repeats
};

[[noreturn]] void einsum_fail(ErrorCode code, const std::string& subscripts, const std::string& what, Loc loc) {
  raise(code, "einsum", "subscripts \"" + subscripts + "\": " + what, loc);
}

bool is_label(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

Axes positions(const std::string& of, const std::string& in) {
  Axes p;
  for (char c : of) p.push_back(static_cast<int64_t>(in.find(c)));
  return p;
}

// The diagonal of axes p < q (equal sizes) at position p; axis q goes away. Exact (a strided
// slice of the two axes flattened), so -0.0 and NaNs off the diagonal stay where they are.
Tensor diagonal(const Tensor& t, int64_t p, int64_t q, Loc loc) {
  int64_t r = t.rank(), n = t.shape()[p];
  Axes perm;
  Shape lead;
  for (int64_t i = 0; i < r; ++i)
    if (i != p && i != q) {
      perm.push_back(i);
      lead.push_back(t.shape()[i]);
    }
  perm.push_back(p);
  perm.push_back(q);
  Shape flat = lead;
  flat.push_back(n * n);
  Tensor f = reshape(transpose(t, perm, loc), flat, loc);
  std::vector<Slice> sl(lead.size(), Slice{});
  sl.push_back(n == 0 ? Slice{0, 0} : Slice{0, n * n, n + 1});
  Tensor d = slice(f, sl, loc);  // lead + (n,)
  // Move the diagonal axis (last) to position p.
  Axes back;
  int64_t m = r - 1;
  for (int64_t i = 0; i < m - 1; ++i) {
    if (i == p) back.push_back(m - 1);
    back.push_back(i);
  }
  if (p == m - 1) back.push_back(m - 1);
  return transpose(d, back, loc);
}

// Sums the axes whose labels are not in `keep`.
Term sum_unkept(Term a, const std::string& keep, Loc loc) {
  Axes ax;
  std::string rest;
  for (size_t i = 0; i < a.labels.size(); ++i) {
    if (keep.find(a.labels[i]) == std::string::npos) ax.push_back(static_cast<int64_t>(i));
    else rest += a.labels[i];
  }
  if (ax.empty()) return a;
  return Term{sum(a.t, ax, false, loc), rest};
}

Shape dims_of(const std::string& labels, const std::map<char, int64_t>& size) {
  Shape s;
  for (char c : labels) s.push_back(size.at(c));
  return s;
}

int64_t count_of(const std::string& labels, const std::map<char, int64_t>& size) {
  int64_t n = 1;
  for (char c : labels) n *= size.at(c);
  return n;
}

// a and b with their shared labels split into the batch ones (kept) and the contracted ones.
Term contract(Term a, Term b, const std::string& keep, const std::map<char, int64_t>& size, Loc loc) {
  a = sum_unkept(a, keep + b.labels, loc);
  b = sum_unkept(b, keep + a.labels, loc);
  std::string batch, con, fa, fb;
  for (char c : a.labels) {
    bool shared = b.labels.find(c) != std::string::npos;
    bool kept = keep.find(c) != std::string::npos;
    (shared ? (kept ? batch : con) : fa) += c;
  }
  for (char c : b.labels)
    if (a.labels.find(c) == std::string::npos) fb += c;
  std::string out = batch + fa + fb;
  Shape bd = dims_of(batch, size), ad = dims_of(fa, size), cd = dims_of(con, size), fd = dims_of(fb, size);
  if (con.empty() || (fa.empty() && fb.empty())) {
    // No contraction (outer and elementwise products), or a batched dot: a broadcasting product.
    Shape sa = bd, sb = bd;
    sa.insert(sa.end(), ad.begin(), ad.end());
    sa.insert(sa.end(), fd.size(), 1);
    sa.insert(sa.end(), cd.begin(), cd.end());
    sb.insert(sb.end(), ad.size(), 1);
    sb.insert(sb.end(), fd.begin(), fd.end());
    sb.insert(sb.end(), cd.begin(), cd.end());
    Tensor ta = reshape(transpose(a.t, positions(batch + fa + con, a.labels), loc), sa, loc);
    Tensor tb = reshape(transpose(b.t, positions(batch + fb + con, b.labels), loc), sb, loc);
    Tensor p = mul(ta, tb, loc);
    if (con.empty()) return Term{p, out};
    Axes cax;
    for (size_t i = 0; i < con.size(); ++i) cax.push_back(static_cast<int64_t>(out.size() + i));
    return Term{sum(p, cax, false, loc), out};
  }
  // A batched matrix product: (B, M, K) @ (B, K, N).
  int64_t B = count_of(batch, size), M = count_of(fa, size), K = count_of(con, size), N = count_of(fb, size);
  Tensor ta = reshape(transpose(a.t, positions(batch + fa + con, a.labels), loc), {B, M, K}, loc);
  Tensor tb = reshape(transpose(b.t, positions(batch + con + fb, b.labels), loc), {B, K, N}, loc);
  Shape os = bd;
  os.insert(os.end(), ad.begin(), ad.end());
  os.insert(os.end(), fd.begin(), fd.end());
  return Term{reshape(matmul(ta, tb, loc), os, loc), out};
}

}  // namespace

Tensor einsum(const std::string& subscripts, const std::vector<Tensor>& operands, Loc loc) {
  if (operands.empty()) raise(ErrorCode::invalid_argument, "einsum", "needs at least one operand", loc);
  for (const Tensor& t : operands) check_defined("einsum", t, loc);
  std::string s;
  for (char c : subscripts)
    if (c != ' ') s += c;
  size_t arrow = s.find("->");
  if (arrow != std::string::npos && s.find("->", arrow + 2) != std::string::npos)
    einsum_fail(ErrorCode::invalid_argument, subscripts, "more than one '->'", loc);
  std::string lhs = arrow == std::string::npos ? s : s.substr(0, arrow);
  std::vector<std::string> terms{""};
  std::vector<bool> has_ellipsis{false};
  for (size_t k = 0; k < lhs.size(); ++k) {
    char c = lhs[k];
    if (c == ',') {
      terms.emplace_back();
      has_ellipsis.push_back(false);
    } else if (is_label(c)) {
      terms.back() += c;
    } else if (lhs.compare(k, 3, "...") == 0 && !has_ellipsis.back()) {
      terms.back() += '.';  // one placeholder, expanded below
      has_ellipsis.back() = true;
      k += 2;
    } else if (c == '.') {
      einsum_fail(ErrorCode::invalid_argument, subscripts,
                  lhs.compare(k, 3, "...") == 0 ? "more than one ellipsis in a term" : "'.' outside an ellipsis ('...')",
                  loc);
    } else {
      einsum_fail(ErrorCode::invalid_argument, subscripts, std::string("'") + c + "' is not a subscript letter (a-z, A-Z)", loc);
    }
  }
  if (terms.size() != operands.size())
    einsum_fail(ErrorCode::invalid_argument, subscripts,
                std::to_string(terms.size()) + " input terms for " + std::to_string(operands.size()) + " operands", loc);
  // The ellipsis: the broadcast axes an operand has beyond its letters, right-aligned as NumPy
  // broadcasts them. They get letters unused by the subscripts; an operand whose ellipsis axis has
  // size 1 where another's is larger is broadcast to it.
  std::vector<Tensor> ops = operands;
  std::string ell;  // the ellipsis letters, outermost first
  {
    int64_t rank = 0;
    for (size_t i = 0; i < terms.size(); ++i)
      if (has_ellipsis[i]) {
        int64_t e = ops[i].rank() - static_cast<int64_t>(terms[i].size() - 1);
        if (e < 0)
          einsum_fail(ErrorCode::shape, subscripts,
                      "term \"" + terms[i] + "\" names " + std::to_string(terms[i].size() - 1) + " axes of operand " +
                          std::to_string(i) + ", which is " + spec_of(ops[i]), loc);
        rank = std::max(rank, e);
      }
    for (char c = 'A'; static_cast<int64_t>(ell.size()) < rank; ++c) {
      if (c > 'z') einsum_fail(ErrorCode::invalid_argument, subscripts, "too many axes for the letters left to the ellipsis", loc);
      if (is_label(c) && s.find(c) == std::string::npos) ell += c;
    }
    Shape bshape(static_cast<size_t>(rank), 1);
    for (size_t i = 0; i < terms.size(); ++i) {
      if (!has_ellipsis[i]) continue;
      int64_t e = ops[i].rank() - static_cast<int64_t>(terms[i].size() - 1);
      size_t at = terms[i].find('.');
      for (int64_t k = 0; k < e; ++k) {
        int64_t n = ops[i].shape()[at + static_cast<size_t>(k)];
        int64_t& b = bshape[static_cast<size_t>(rank - e + k)];
        if (b != 1 && n != 1 && b != n)
          einsum_fail(ErrorCode::shape, subscripts,
                      "the ellipsis axes of operand " + std::to_string(i) + ", which is " + spec_of(ops[i]) +
                          ", do not broadcast with the others", loc);
        if (b == 1) b = n;
      }
    }
    for (size_t i = 0; i < terms.size(); ++i) {
      if (!has_ellipsis[i]) continue;
      int64_t e = ops[i].rank() - static_cast<int64_t>(terms[i].size() - 1);
      size_t at = terms[i].find('.');
      Shape want = ops[i].shape();
      bool grow = false;
      for (int64_t k = 0; k < e; ++k) {
        int64_t b = bshape[static_cast<size_t>(rank - e + k)];
        if (want[at + static_cast<size_t>(k)] != b) {
          want[at + static_cast<size_t>(k)] = b;
          grow = true;
        }
      }
      if (grow) ops[i] = broadcast_to(ops[i], want, loc);
      terms[i].replace(at, 1, ell.substr(static_cast<size_t>(rank - e)));
    }
  }
  std::map<char, int64_t> size;
  std::map<char, int> count;
  DType d = ops[0].dtype();
  for (size_t i = 0; i < terms.size(); ++i) {
    const Tensor& t = ops[i];
    if (static_cast<int64_t>(terms[i].size()) != t.rank())
      einsum_fail(ErrorCode::shape, subscripts,
                  "term \"" + terms[i] + "\" names " + std::to_string(terms[i].size()) + " axes of operand " +
                      std::to_string(i) + ", which is " + spec_of(t), loc);
    if (t.dtype() == DType::bool_)
      einsum_fail(ErrorCode::dtype, subscripts, "bool operands are not supported: operand " + std::to_string(i) + " is " +
                                                    spec_of(t), loc);
    d = promote_types(d, t.dtype());
    for (size_t k = 0; k < terms[i].size(); ++k) {
      char c = terms[i][k];
      ++count[c];
      auto it = size.find(c);
      if (it == size.end()) size[c] = t.shape()[k];
      else if (it->second != t.shape()[k])
        einsum_fail(ErrorCode::shape, subscripts,
                    std::string("'") + c + "' has sizes " + std::to_string(it->second) + " and " +
                        std::to_string(t.shape()[k]) + " (operand " + std::to_string(i) + " is " + spec_of(t) + ")", loc);
    }
  }
  std::string out;
  if (arrow == std::string::npos) {
    // Implicit output: the ellipsis axes, then the letters that appear once, in alphabetical
    // (ASCII) order, as NumPy.
    out = ell;
    for (auto& [c, n] : count)
      if (n == 1 && ell.find(c) == std::string::npos) out += c;
  } else {
    out = s.substr(arrow + 2);
    size_t e = out.find("...");
    if (e != std::string::npos) {
      if (ell.empty() && std::none_of(has_ellipsis.begin(), has_ellipsis.end(), [](bool b) { return b; }))
        einsum_fail(ErrorCode::invalid_argument, subscripts, "an ellipsis in the output but in no input term", loc);
      out.replace(e, 3, ell);
    }
    for (size_t k = 0; k < out.size(); ++k) {
      char c = out[k];
      if (!is_label(c))
        einsum_fail(ErrorCode::invalid_argument, subscripts, std::string("'") + c + "' is not a subscript letter (a-z, A-Z)", loc);
      if (!size.count(c))
        einsum_fail(ErrorCode::invalid_argument, subscripts, std::string("output letter '") + c + "' names no input axis", loc);
      if (out.find(c) != k)
        einsum_fail(ErrorCode::invalid_argument, subscripts, std::string("output letter '") + c + "' repeats", loc);
    }
  }
  // Each operand in the common dtype, its repeated letters reduced to their diagonal.
  std::vector<Term> ts;
  for (size_t i = 0; i < ops.size(); ++i) {
    if (ops[i].dtype() != d && strict_dtypes())
      raise(ErrorCode::dtype, "einsum", std::string("implicit dtype promotion in strict mode: operand ") + std::to_string(i) +
                                            " is " + spec_of(ops[i]) + " and would become " + dtype_name(d), loc);
    Term t{cast(ops[i], d, loc), terms[i]};
    for (size_t p = 0; p < t.labels.size(); ++p) {
      size_t q;
      while ((q = t.labels.find(t.labels[p], p + 1)) != std::string::npos) {
        t.t = diagonal(t.t, static_cast<int64_t>(p), static_cast<int64_t>(q), loc);
        t.labels.erase(q, 1);
      }
    }
    ts.push_back(std::move(t));
  }
  // Left to right, each product keeping the letters the output or a later operand needs.
  Term cur = ts[0];
  for (size_t i = 1; i < ts.size(); ++i) {
    std::string keep = out;
    for (size_t j = i + 1; j < ts.size(); ++j) keep += ts[j].labels;
    cur = contract(cur, ts[i], keep, size, loc);
  }
  cur = sum_unkept(cur, out, loc);
  Axes perm = positions(out, cur.labels);
  bool identity = true;
  for (size_t i = 0; i < perm.size(); ++i) identity = identity && perm[i] == static_cast<int64_t>(i);
  return identity ? cur.t : transpose(cur.t, perm, loc);
}

}  // namespace xf
