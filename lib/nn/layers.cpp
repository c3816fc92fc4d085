// Layers owning Variables: Dense, Conv2D, Embedding.
#include <string>

#include "xflow/name_scope.hpp"
#include "xflow/nn.hpp"

namespace xf::nn {
namespace {

std::string spec(const Tensor& t) { return shape_str(t.shape()) + " " + dtype_name(t.dtype()); }

void check_name(const char* layer, const std::string& name) {
  if (name.empty()) raise(ErrorCode::invalid_argument, layer, "the layer name is empty", Loc());
}

void check_size(const char* layer, const std::string& name, const char* what, int64_t v) {
  if (v < 1)
    raise(ErrorCode::invalid_argument, layer,
          "layer '" + name + "': " + what + " must be >= 1, got " + std::to_string(v), Loc());
}

void check_input(const char* layer, const std::string& name, const Tensor& x, Loc loc) {
  if (!x.defined()) raise(ErrorCode::invalid_argument, layer, "layer '" + name + "': the input is an empty Tensor handle", loc);
}

// Initializers for the kernel: He for relu (it keeps the variance of a relu network's
// activations), Glorot otherwise (TensorFlow's default).
Tensor kernel_init(const Shape& shape, Activation act) {
  return act == Activation::relu ? he_normal(shape) : glorot_uniform(shape);
}

Tensor activate(const Tensor& x, Activation act, Loc loc) {
  switch (act) {
    case Activation::relu: return relu(x, loc);
    case Activation::tanh: return tanh(x, loc);
    case Activation::sigmoid: return sigmoid(x, loc);
    case Activation::none: break;
  }
  return x;
}

}  // namespace

// ---- Dense ----

Dense::Dense(int64_t in_features, int64_t out_features, Activation act, const std::string& name)
    : act_(act), name_(name) {
  check_name("Dense", name);
  check_size("Dense", name, "in_features", in_features);
  check_size("Dense", name, "out_features", out_features);
  kernel = Variable(kernel_init({in_features, out_features}, act), name + "/kernel");
  bias = Variable(zeros({out_features}), name + "/bias");
}

Tensor Dense::operator()(const Tensor& x, Loc loc) const {
  check_input("Dense", name_, x, loc);
  if (x.rank() < 1 || x.dim(-1) != kernel.shape()[0])
    raise(ErrorCode::shape, "Dense",
          "layer '" + name_ + "' takes (..., " + std::to_string(kernel.shape()[0]) + "): x is " + spec(x), loc);
  NameScope scope(name_);
  Tensor y = add(matmul(x, kernel.value(loc), loc), bias.value(loc), loc);
  return activate(y, act_, loc);
}

std::vector<Variable> Dense::variables() const { return {kernel, bias}; }

// ---- Conv2D ----

Conv2D::Conv2D(int64_t in_channels, int64_t out_channels, std::pair<int64_t, int64_t> kernel_size,
               std::pair<int64_t, int64_t> strides, Padding padding, Activation act, const std::string& name,
               std::pair<int64_t, int64_t> dilations)
    : strides_(strides), padding_(padding), dilations_(dilations), act_(act), name_(name) {
  check_name("Conv2D", name);
  check_size("Conv2D", name, "in_channels", in_channels);
  check_size("Conv2D", name, "out_channels", out_channels);
  check_size("Conv2D", name, "kernel height", kernel_size.first);
  check_size("Conv2D", name, "kernel width", kernel_size.second);
  check_size("Conv2D", name, "vertical stride", strides.first);
  check_size("Conv2D", name, "horizontal stride", strides.second);
  check_size("Conv2D", name, "vertical dilation", dilations.first);
  check_size("Conv2D", name, "horizontal dilation", dilations.second);
  kernel = Variable(kernel_init({kernel_size.first, kernel_size.second, in_channels, out_channels}, act),
                    name + "/kernel");
  bias = Variable(zeros({out_channels}), name + "/bias");
}

Tensor Conv2D::operator()(const Tensor& x, Loc loc) const {
  check_input("Conv2D", name_, x, loc);
  if (x.rank() != 4 || x.dim(3) != kernel.shape()[2])
    raise(ErrorCode::shape, "Conv2D",
          "layer '" + name_ + "' takes NHWC input with " + std::to_string(kernel.shape()[2]) + " channels: x is " + spec(x),
          loc);
  NameScope scope(name_);
  Tensor y = add(conv2d(x, kernel.value(loc), strides_, padding_, dilations_, loc), bias.value(loc), loc);
  return activate(y, act_, loc);
}

std::vector<Variable> Conv2D::variables() const { return {kernel, bias}; }

// ---- Embedding ----

Embedding::Embedding(int64_t vocab, int64_t dim, const std::string& name) : name_(name) {
  check_name("Embedding", name);
  check_size("Embedding", name, "vocab", vocab);
  check_size("Embedding", name, "dim", dim);
  table = Variable(glorot_uniform({vocab, dim}), name + "/embeddings");
}

Tensor Embedding::operator()(const Tensor& ids, Loc loc) const {
  check_input("Embedding", name_, ids, loc);
  NameScope scope(name_);
  return embedding_lookup(table.value(loc), ids, loc);
}

std::vector<Variable> Embedding::variables() const { return {table}; }

}  // namespace xf::nn
