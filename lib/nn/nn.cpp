// The functional neural-network pieces: composites of public ops inside a name scope.
#include <cmath>
#include <string>

#include "xflow/name_scope.hpp"
#include "xflow/nn.hpp"

namespace xf::nn {
namespace {

std::string spec(const Tensor& t) { return shape_str(t.shape()) + " " + dtype_name(t.dtype()); }

void check_defined(const char* op, const char* what, const Tensor& t, Loc loc) {
  if (!t.defined()) raise(ErrorCode::invalid_argument, op, std::string(what) + " is an empty Tensor handle", loc);
}

// "labels is (4,) int32, logits is (4, 3) float32"
std::string specs(const char* a, const Tensor& ta, const char* b, const Tensor& tb) {
  return std::string(a) + " is " + spec(ta) + ", " + b + " is " + spec(tb);
}

Shape batch_shape(const Tensor& logits) { return Shape(logits.shape().begin(), logits.shape().end() - 1); }

// Both inputs of a classification loss: logits float with a class axis.
void check_logits(const char* op, const Tensor& labels, const Tensor& logits, Loc loc) {
  check_defined(op, "labels", labels, loc);
  check_defined(op, "logits", logits, loc);
  if (!is_floating(logits.dtype()))
    raise(ErrorCode::dtype, op, "logits must be float: " + specs("labels", labels, "logits", logits), loc);
  if (logits.rank() == 0)
    raise(ErrorCode::shape, op, "logits need a class axis: " + specs("labels", labels, "logits", logits), loc);
}

// An integer tensor of class ids as int64, with every id outside [0, n) moved outside [-n, n):
// gather along an axis of size n then raises OutOfRange exactly for the ids outside [0, n). The
// check runs in the gather kernel, eagerly and on every replay, with no host read (no guard).
Tensor ids_for_gather(const Tensor& ids, int64_t n, Loc loc) {
  Tensor i64 = cast(ids, DType::int64, loc);
  return where(less(i64, 0, loc), sub(i64, n, loc), i64, loc);
}

// The first id outside [0, n), for an error message (the call is failing: a host read is fine).
int64_t first_bad_id(const Tensor& ids, int64_t n) {
  for (int64_t v : ids.to_vector<int64_t>())
    if (v < 0 || v >= n) return v;
  return 0;
}

}  // namespace

Tensor dense(const Tensor& x, const Tensor& w, const Tensor& b, Loc loc) {
  const char* op = "dense";
  check_defined(op, "x", x, loc);
  check_defined(op, "w", w, loc);
  check_defined(op, "b", b, loc);
  std::string all = "x is " + spec(x) + ", w is " + spec(w) + ", b is " + spec(b);
  if (w.rank() != 2) raise(ErrorCode::shape, op, "w must be 2-D (in, out): " + all, loc);
  if (x.rank() < 1 || x.dim(-1) != w.dim(0))
    raise(ErrorCode::shape, op, "x's last dimension must be w's first: " + all, loc);
  if (b.rank() != 1 || b.dim(0) != w.dim(1)) raise(ErrorCode::shape, op, "b must be (out,) as w is (in, out): " + all, loc);
  NameScope scope(op);
  return add(matmul(x, w, loc), b, loc);
}

Tensor dropout(const Tensor& x, double rate, bool training, Loc loc) {
  const char* op = "dropout";
  check_defined(op, "x", x, loc);
  if (!(rate >= 0 && rate < 1))
    raise(ErrorCode::invalid_argument, op, "rate must be in [0, 1), got " + std::to_string(rate) + ": x is " + spec(x), loc);
  if (!is_floating(x.dtype())) raise(ErrorCode::dtype, op, "x must be float: x is " + spec(x), loc);
  if (!training || rate == 0) return x;
  NameScope scope(op);
  // P(u >= rate) = 1 - rate for u uniform in [0, 1).
  Tensor keep = cast(greater_equal(random_uniform(x.shape(), 0, 1, x.dtype(), loc), rate, loc), x.dtype(), loc);
  return mul(mul(x, 1.0 / (1.0 - rate), loc), keep, loc);
}

Tensor embedding_lookup(const Tensor& table, const Tensor& ids, Loc loc) {
  const char* op = "embedding_lookup";
  check_defined(op, "table", table, loc);
  check_defined(op, "ids", ids, loc);
  if (!is_integral(ids.dtype()))
    raise(ErrorCode::dtype, op, "ids must be integers: " + specs("table", table, "ids", ids), loc);
  if (table.rank() < 1) raise(ErrorCode::shape, op, "table must have rows: " + specs("table", table, "ids", ids), loc);
  NameScope scope(op);
  int64_t n = table.dim(0);
  try {
    return gather(table, ids_for_gather(ids, n, loc), 0, loc);
  } catch (const OutOfRange&) {
    raise(ErrorCode::out_of_range, op, "id " + std::to_string(first_bad_id(ids, n)) + " is outside [0, " +
                                           std::to_string(n) + "): " + specs("table", table, "ids", ids), loc);
  }
}

Tensor softmax_cross_entropy_with_logits(const Tensor& labels, const Tensor& logits, Loc loc) {
  const char* op = "softmax_cross_entropy_with_logits";
  check_logits(op, labels, logits, loc);
  if (!is_floating(labels.dtype()))
    raise(ErrorCode::dtype, op, "labels must be float probabilities (for class ids use "
                                "sparse_softmax_cross_entropy_with_logits): " + specs("labels", labels, "logits", logits), loc);
  if (labels.shape() != logits.shape())
    raise(ErrorCode::shape, op, "labels and logits must have one shape: " + specs("labels", labels, "logits", logits), loc);
  NameScope scope(op);
  return neg(sum(mul(labels, log_softmax(logits, -1, loc), loc), Axes{-1}, false, loc), loc);
}

Tensor sparse_softmax_cross_entropy_with_logits(const Tensor& labels, const Tensor& logits, Loc loc) {
  const char* op = "sparse_softmax_cross_entropy_with_logits";
  check_logits(op, labels, logits, loc);
  if (labels.dtype() != DType::int32 && labels.dtype() != DType::int64)
    raise(ErrorCode::dtype, op, "labels must be int32 or int64 class ids: " + specs("labels", labels, "logits", logits), loc);
  if (labels.shape() != batch_shape(logits))
    raise(ErrorCode::shape, op, "labels must have logits' shape without the class axis: " +
                                    specs("labels", labels, "logits", logits), loc);
  NameScope scope(op);
  int64_t classes = logits.dim(-1);
  // Ones where every label is in range; the gather raises OutOfRange otherwise. Multiplying the
  // loss by them keeps the check in the graph (no pass removes it) and is exact.
  Tensor in_range;
  try {
    in_range = gather(ones({classes}, logits.dtype()), ids_for_gather(labels, classes, loc), 0, loc);
  } catch (const OutOfRange&) {
    raise(ErrorCode::out_of_range, op, "label " + std::to_string(first_bad_id(labels, classes)) + " is outside [0, " +
                                           std::to_string(classes) + "): " + specs("labels", labels, "logits", logits), loc);
  }
  Tensor picked = sum(mul(one_hot(labels, classes, logits.dtype(), loc), log_softmax(logits, -1, loc), loc), Axes{-1},
                      false, loc);
  return mul(neg(picked, loc), in_range, loc);
}

Tensor sigmoid_cross_entropy_with_logits(const Tensor& labels, const Tensor& logits, Loc loc) {
  const char* op = "sigmoid_cross_entropy_with_logits";
  check_defined(op, "labels", labels, loc);
  check_defined(op, "logits", logits, loc);
  if (!is_floating(logits.dtype()) || labels.dtype() == DType::bool_)
    raise(ErrorCode::dtype, op, "logits must be float and labels numeric: " + specs("labels", labels, "logits", logits), loc);
  if (labels.shape() != logits.shape())
    raise(ErrorCode::shape, op, "labels and logits must have one shape: " + specs("labels", labels, "logits", logits), loc);
  NameScope scope(op);
  // TensorFlow's form: with where() on x >= 0 (rather than relu and abs) the gradient at x = 0 is
  // the true sigmoid(0) - z.
  Tensor pos = greater_equal(logits, 0, loc);
  Tensor relu_x = where(pos, logits, 0, loc);
  Tensor neg_abs_x = where(pos, neg(logits, loc), logits, loc);
  return add(sub(relu_x, mul(logits, labels, loc), loc), log1p(exp(neg_abs_x, loc), loc), loc);
}

Tensor mean_squared_error(const Tensor& labels, const Tensor& predictions, Loc loc) {
  const char* op = "mean_squared_error";
  check_defined(op, "labels", labels, loc);
  check_defined(op, "predictions", predictions, loc);
  if (!is_floating(predictions.dtype()) || labels.dtype() == DType::bool_)
    raise(ErrorCode::dtype, op, "predictions must be float and labels numeric: " +
                                    specs("labels", labels, "predictions", predictions), loc);
  if (labels.shape() != predictions.shape())
    raise(ErrorCode::shape, op, "labels and predictions must have one shape: " +
                                    specs("labels", labels, "predictions", predictions), loc);
  NameScope scope(op);
  return mean(square(sub(predictions, labels, loc), loc), std::nullopt, false, loc);
}

Tensor l2_loss(const Tensor& t, Loc loc) {
  const char* op = "l2_loss";
  check_defined(op, "t", t, loc);
  if (!is_floating(t.dtype())) raise(ErrorCode::dtype, op, "t must be float: t is " + spec(t), loc);
  NameScope scope(op);
  return mul(sum(square(t, loc), std::nullopt, false, loc), 0.5, loc);
}

Tensor l2_regularization(const std::vector<Tensor>& weights, double lambda, Loc loc) {
  const char* op = "l2_regularization";
  if (!(lambda >= 0) || std::isinf(lambda))
    raise(ErrorCode::invalid_argument, op, "lambda must be finite and >= 0, got " + std::to_string(lambda), loc);
  for (const Tensor& w : weights) check_defined(op, "a weight", w, loc);
  if (weights.empty()) return zeros({}, DType::float32);
  NameScope scope(op);
  Tensor total = l2_loss(weights[0], loc);
  for (size_t i = 1; i < weights.size(); ++i) total = add(total, l2_loss(weights[i], loc), loc);
  return mul(total, lambda, loc);
}

Tensor accuracy(const Tensor& labels, const Tensor& logits, Loc loc) {
  const char* op = "accuracy";
  check_defined(op, "labels", labels, loc);
  check_defined(op, "logits", logits, loc);
  if (!is_integral(labels.dtype()))
    raise(ErrorCode::dtype, op, "labels must be integer class ids: " + specs("labels", labels, "logits", logits), loc);
  if (logits.rank() == 0 || labels.shape() != batch_shape(logits))
    raise(ErrorCode::shape, op, "labels must have logits' shape without the class axis: " +
                                    specs("labels", labels, "logits", logits), loc);
  NameScope scope(op);
  Tensor hit = equal(argmax(logits, -1, false, loc), cast(labels, DType::int64, loc), loc);
  return mean(cast(hit, DType::float32, loc), std::nullopt, false, loc);
}

}  // namespace xf::nn
