// Neural-network pieces: functional layers and losses, and layers that own Variables.
//
//   xf::nn::Dense fc1(784, 128, xf::nn::Activation::relu, "fc1"), fc2(128, 10, xf::nn::Activation::none, "fc2");
//   xf::Tensor logits = fc2(fc1(x));
//   xf::Tensor loss = xf::mean(xf::nn::sparse_softmax_cross_entropy_with_logits(labels, logits));
//
// Every piece is a composite: it runs public ops (primitives) inside a name scope named after it
// ("dense", "softmax_cross_entropy_with_logits", ... or the layer's name), so it gets gradients,
// tracing and fusion from the primitives, and a traced graph shows (and the viewer can collapse)
// the piece. Semantics follow TensorFlow; the choices are in docs/nn.md. Errors name the piece,
// the inputs' shapes and dtypes, and end with the caller's location, like every op's.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "xflow/ops.hpp"
#include "xflow/tensor.hpp"
#include "xflow/variable.hpp"

namespace xf::nn {

// ---- functional pieces ----

// x @ w + b: x (..., in), w (in, out), b (out,) -> (..., out). ShapeError otherwise.
Tensor dense(const Tensor& x, const Tensor& w, const Tensor& b, Loc loc = Loc::current());

// Inverted dropout: when `training`, each element is zeroed with probability `rate` and the
// others are scaled by 1 / (1 - rate), so the expected value is unchanged; otherwise (and for
// rate 0) x itself. The mask is drawn with random_uniform on every call, so a traced step draws
// a new mask on every replay. x must be float (DTypeError); rate in [0, 1) (InvalidArgument).
Tensor dropout(const Tensor& x, double rate, bool training, Loc loc = Loc::current());

// Rows of `table` (vocab, ...) at integer `ids` -> ids.shape + table.shape[1:]. An id outside
// [0, vocab) is OutOfRange (negative ids do not count from the end, as in TensorFlow).
Tensor embedding_lookup(const Tensor& table, const Tensor& ids, Loc loc = Loc::current());

// -sum(labels * log_softmax(logits), -1): the cross-entropy of each example against a
// probability distribution over the last axis. labels and logits have one shape (ShapeError)
// and are float (DTypeError); the result has logits.shape[:-1]. Differentiable in both.
Tensor softmax_cross_entropy_with_logits(const Tensor& labels, const Tensor& logits, Loc loc = Loc::current());

// The same with class ids: labels (int32 or int64, else DTypeError) have logits.shape[:-1]
// (ShapeError). A label outside [0, num_classes) is OutOfRange, eagerly and on replay (the check
// runs in a primitive, not on the host, so it adds no guard to a trace).
Tensor sparse_softmax_cross_entropy_with_logits(const Tensor& labels, const Tensor& logits,
                                                Loc loc = Loc::current());

// Elementwise binary cross-entropy of sigmoid(logits) against labels in [0, 1], with
// TensorFlow's stable formula max(x, 0) - x * z + log(1 + exp(-|x|)). One shape (ShapeError);
// logits float and labels numeric, not bool (DTypeError).
Tensor sigmoid_cross_entropy_with_logits(const Tensor& labels, const Tensor& logits, Loc loc = Loc::current());

// mean((predictions - labels)^2) over all elements: a 0-d tensor. One shape (ShapeError: no
// broadcasting, which would silently turn (n,) against (n, 1) into an (n, n) loss); predictions
// float, labels numeric, not bool (DTypeError).
Tensor mean_squared_error(const Tensor& labels, const Tensor& predictions, Loc loc = Loc::current());

// sum(t^2) / 2, a 0-d tensor (TensorFlow's l2_loss). t must be float (DTypeError).
Tensor l2_loss(const Tensor& t, Loc loc = Loc::current());

// lambda * sum of l2_loss(w) over `weights` (a 0-d float32 zero when there are none). lambda
// must be finite and >= 0 (InvalidArgument).
Tensor l2_regularization(const std::vector<Tensor>& weights, double lambda, Loc loc = Loc::current());

// mean(argmax(logits, -1) == labels) as a 0-d float32. labels are integer class ids (DTypeError
// otherwise) of shape logits.shape[:-1] (ShapeError). Not differentiable (a metric).
Tensor accuracy(const Tensor& labels, const Tensor& logits, Loc loc = Loc::current());

// ---- layers owning Variables ----
//
// A layer creates its float32 variables when constructed, named "<name>/kernel" and
// "<name>/bias" (Variable's rule makes a taken name unique: "<name>/kernel_1"); they are
// trainable, so they join "global_variables" and "trainable_variables". Calling a layer reads
// them (so a trace captures them by reference) and runs inside NameScope(name). Copies of a
// layer share its variables. Constructors raise InvalidArgument for sizes < 1 or an empty name.

enum class Activation { none, relu, tanh, sigmoid };

// activation(x @ kernel + bias); kernel (in, out) is he_normal for relu, glorot_uniform
// otherwise; bias (out,) zeros.
class Dense {
 public:
  Dense(int64_t in_features, int64_t out_features, Activation act = Activation::none,
        const std::string& name = "dense");
  // x (..., in_features) -> (..., out_features); ShapeError for another last dimension.
  Tensor operator()(const Tensor& x, Loc loc = Loc::current()) const;
  std::vector<Variable> variables() const;  // {kernel, bias}
  const std::string& name() const { return name_; }
  Activation activation() const { return act_; }

  Variable kernel, bias;

 private:
  Activation act_;
  std::string name_;
};

// activation(conv2d(x, kernel, strides, padding, dilations) + bias), NHWC; kernel (kh, kw, in,
// out) is he_normal for relu, glorot_uniform otherwise; bias (out,) zeros. `dilations` (Keras's
// dilation_rate) comes last so that existing calls keep their meaning.
class Conv2D {
 public:
  Conv2D(int64_t in_channels, int64_t out_channels, std::pair<int64_t, int64_t> kernel_size,
         std::pair<int64_t, int64_t> strides = {1, 1}, Padding padding = Padding::same,
         Activation act = Activation::none, const std::string& name = "conv2d",
         std::pair<int64_t, int64_t> dilations = {1, 1});
  // x (N, H, W, in_channels) -> (N, OH, OW, out_channels); ShapeError for another rank or
  // channel count.
  Tensor operator()(const Tensor& x, Loc loc = Loc::current()) const;
  std::vector<Variable> variables() const;  // {kernel, bias}
  const std::string& name() const { return name_; }
  Activation activation() const { return act_; }
  std::pair<int64_t, int64_t> strides() const { return strides_; }
  Padding padding() const { return padding_; }
  std::pair<int64_t, int64_t> dilations() const { return dilations_; }

  Variable kernel, bias;

 private:
  std::pair<int64_t, int64_t> strides_;
  Padding padding_;
  std::pair<int64_t, int64_t> dilations_;
  Activation act_;
  std::string name_;
};

// embedding_lookup(table, ids); table (vocab, dim) is glorot_uniform, named "<name>/embeddings".
class Embedding {
 public:
  Embedding(int64_t vocab, int64_t dim, const std::string& name = "embedding");
  Tensor operator()(const Tensor& ids, Loc loc = Loc::current()) const;
  std::vector<Variable> variables() const;  // {table}
  const std::string& name() const { return name_; }

  Variable table;

 private:
  std::string name_;
};

}  // namespace xf::nn
