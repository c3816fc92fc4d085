// Trains an MLP and a small CNN on the 8x8 handwritten digits, eagerly and traced.
//
//   ./build/samples/digits/digits [--data data/digits/digits.csv] [--runs runs] [--epochs N]
//                                 [--checkpoint_dir DIR [--save_every N]] [--export_dir DIR]
//
// The training set is written once to RUNS/digits-train.tfrecord (a TFRecord file of
// tf.train.Examples: "x" 64 floats, "y" the label) and read back for training through the Dataset
// API: TFRecordDataset -> map(parse_single_example) -> shuffle -> batch -> prefetch.
//
// For each model: a progress bar per epoch, the eager and traced step times and their ratio, the
// final `test accuracy: 0.xxx`, and summaries for the viewer in RUNS/digits-<model>/ (loss per
// step, accuracy per epoch, the traced step's graph with a profile).
//
// With --checkpoint_dir, a tf.train.Saver-style checkpoint of each model (its variables, Adam's
// slots and step count, and global_step) goes to DIR/<model>/model.ckpt-<step> every N steps (50
// by default) and after the last step; a run started again with the same directory restores the
// latest checkpoint and continues from its step, with the same batches, to the same weights, bit
// for bit, as a run that was never interrupted.
//
// With --export_dir, each trained model is exported for serving to DIR/<model>/<version>/ (the
// next free version, from 1): signature "serving_default" with input "x" (one image, float32
// (1, 64) or (1, 8, 8, 1)) and outputs "probabilities" (1, 10) and "classes" (1,) int64
// (docs/meta-graph.md).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <numeric>
#include <filesystem>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <unistd.h>

#include "xflow/checkpoint.hpp"
#include "xflow/dataset.hpp"
#include "xflow/example.hpp"
#include "xflow/nn.hpp"
#include "xflow/optim.hpp"
#include "xflow/saved_model.hpp"
#include "xflow/saver.hpp"
#include "xflow/tfrecord.hpp"
#include "xflow/trace.hpp"
#include "xflow/xflow.hpp"
#include "common/digits_data.hpp"

namespace {

using digits::Dataset;

struct Model {
  std::string name;
  std::function<xf::Tensor(const xf::Tensor&, bool)> forward;  // (batch, training) -> logits
  std::vector<xf::Variable> variables;
  xf::Shape input_shape;  // per example
};

// A progress bar on a terminal; nothing when the output is a file or a pipe (the per-epoch line
// follows either way).
void progress(int epoch, int epochs, int64_t done, int64_t total, float loss) {
  static const bool tty = isatty(fileno(stdout)) != 0;
  if (!tty) return;
  int width = 30;
  int filled = static_cast<int>(width * done / std::max<int64_t>(total, 1));
  std::printf("\r  epoch %2d/%d [%s%s] %3d%% loss %.4f", epoch, epochs, std::string(filled, '=').c_str(),
              std::string(width - filled, ' ').c_str(), static_cast<int>(100 * done / std::max<int64_t>(total, 1)), loss);
  std::fflush(stdout);
}

xf::Tensor batch_of(const Dataset& d, const std::vector<int64_t>& idx, const xf::Shape& shape) {
  std::vector<float> px;
  px.reserve(idx.size() * 64);
  for (int64_t i : idx) px.insert(px.end(), d.pixels.begin() + i * 64, d.pixels.begin() + (i + 1) * 64);
  xf::Shape s{static_cast<int64_t>(idx.size())};
  s.insert(s.end(), shape.begin(), shape.end());
  return xf::Tensor::from_vector(px, s);
}
xf::Tensor labels_of(const Dataset& d, const std::vector<int64_t>& idx) {
  std::vector<int32_t> l;
  for (int64_t i : idx) l.push_back(d.labels[i]);
  return xf::Tensor::from_vector(l, {static_cast<int64_t>(idx.size())});
}

double evaluate(const Model& m, const Dataset& d) {
  std::vector<int64_t> all(static_cast<size_t>(d.n));
  std::iota(all.begin(), all.end(), 0);
  xf::Tensor logits = m.forward(batch_of(d, all, m.input_shape), false);
  return xf::nn::accuracy(labels_of(d, all), logits).item<float>();
}

struct Checkpointing {
  std::string dir;  // empty: no checkpoints
  int64_t save_every = 50;
};

double train(Model& m, xf::Optimizer& opt, const Dataset& train_set, const std::string& records,
             const Dataset& test_set, int epochs, const std::string& run_dir, const Checkpointing& ckpt) {
  constexpr int64_t kBatch = 64;
  // TensorFlow 1's global step: the number of training steps done, saved with the model.
  xf::Variable global_step(xf::zeros({}, xf::DType::int64), "global_step", /*trainable=*/false);
  const std::string ckpt_dir = ckpt.dir.empty() ? "" : ckpt.dir + "/" + m.name;
  std::unique_ptr<xf::train::Saver> saver;
  int64_t start_step = 0;
  if (!ckpt_dir.empty()) {
    std::filesystem::create_directories(ckpt_dir);
    std::string latest = xf::io::latest_checkpoint(ckpt_dir);
    if (!latest.empty()) {
      // Adam creates its slots and step count on its first update; one update with zero gradients
      // creates them (and changes no weight: m and v stay 0) so that the restore below sets them.
      std::vector<std::pair<xf::Tensor, xf::Variable>> zero;
      for (const auto& v : m.variables) zero.emplace_back(xf::zeros(v.shape(), v.dtype()), v);
      opt.apply_gradients(zero);
      saver = std::make_unique<xf::train::Saver>();  // every global variable: model, Adam, global_step
      saver->restore(latest);
      start_step = global_step.value().item<int64_t>();
      std::printf("  resumed from %s (step %lld)\n", latest.c_str(), static_cast<long long>(start_step));
    }
  }
  auto save = [&](int64_t done) {
    if (ckpt_dir.empty()) return;
    global_step.assign(xf::Tensor::from_vector(std::vector<int64_t>{done}, {}));
    // Created after the first update, so that it covers Adam's slots and step count.
    if (!saver) saver = std::make_unique<xf::train::Saver>();
    saver->save(ckpt_dir + "/model.ckpt", done);
  };
  xf::SummaryWriter writer(run_dir);
  auto loss_of = [&](const xf::Tensor& x, const xf::Tensor& y) {
    xf::Tensor logits = m.forward(x, true);
    xf::NameScope scope("loss");  // the cross-entropy and its mean: one box in the viewer
    return xf::mean(xf::nn::sparse_softmax_cross_entropy_with_logits(y, logits));
  };
  // One training step: forward, loss, gradients, update. Eager and traced run the same code.
  auto step_fn = [&](const std::vector<xf::Tensor>& in) {
    xf::Tensor loss = opt.minimize([&](const std::vector<xf::Tensor>&) { return loss_of(in[0], in[1]); }, m.variables);
    return std::vector<xf::Tensor>{loss};
  };
  auto traced = xf::trace(step_fn);
  // The training examples from their TFRecord file: parsed on background threads (in order), then
  // shuffled over the whole set (every iteration draws a new order from seed 7), in full batches
  // only (one signature, one trace), prepared while the previous step runs.
  xf::io::FeatureMap features{{"x", xf::io::FixedLenFeature{m.input_shape, xf::DType::float32, {}}},
                              {"y", xf::io::FixedLenFeature{{}, xf::DType::int64, {}}}};
  auto parse = [features](const xf::Element& e) {
    xf::io::ParsedFeatures p = xf::io::parse_single_example(e[0].strings().item(), features);
    return xf::Element{p.at("x"), p.at("y")};
  };
  xf::data::Dataset batches_ds = xf::data::Dataset::TFRecordDataset({records})
                                     .map(parse, xf::data::AUTOTUNE)
                                     .shuffle(train_set.n, 7)
                                     .batch(kBatch, /*drop_remainder=*/true)
                                     .prefetch(2);
  int64_t batches = train_set.n / kBatch;
  double eager_s = 0, traced_s = 0;
  int64_t eager_steps = 0, traced_steps = 0, step = 0;
  using Clock = std::chrono::steady_clock;
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    if (step + batches <= start_step) {  // done before the restart
      // A new iterator draws this epoch's order, as in the run that did the epoch, so a resumed
      // run sees the same batches afterwards.
      batches_ds.make_iterator();
      step += batches;
      continue;
    }
    float last = 0;
    int64_t b = 0;
    for (const xf::Element& batch : batches_ds) {
      ++b;
      if (step < start_step) {
        ++step;
        continue;
      }
      xf::Tensor x = batch[0].tensor(), y = xf::cast(batch[1].tensor(), xf::DType::int32);
      auto t0 = Clock::now();
      xf::Tensor loss;
      if (epoch == 1) {  // the first epoch runs eagerly (and times it), later epochs are traced
        loss = step_fn({x, y})[0];
        eager_s += std::chrono::duration<double>(Clock::now() - t0).count();
        ++eager_steps;
      } else {
        loss = traced({x, y})[0];
        if (traced.stats().traces > 0 && step > batches + 1) {  // skip the tracing call itself
          traced_s += std::chrono::duration<double>(Clock::now() - t0).count();
          ++traced_steps;
        }
      }
      last = loss.item<float>();
      writer.add_scalar("loss", step, last);
      ++step;
      if (step % ckpt.save_every == 0 || step == batches * epochs) save(step);
      progress(epoch, epochs, b, batches, last);
    }
    double acc = evaluate(m, test_set);
    writer.add_scalar("test_accuracy", epoch, acc);
    std::printf("%s  epoch %2d/%d loss %.4f, test accuracy %.3f\n", isatty(fileno(stdout)) ? "\r" : "", epoch, epochs,
                last, acc);
  }
  double eager_us = eager_s / std::max<int64_t>(eager_steps, 1) * 1e6;
  double traced_us = traced_s / std::max<int64_t>(traced_steps, 1) * 1e6;
  std::printf("  step time: eager %.1f us, traced %.1f us, eager/traced %.2fx\n", eager_us, traced_us,
              eager_us / std::max(traced_us, 1e-9));
  // The traced step's graph with a profile of one replay, for the viewer.
  std::vector<int64_t> idx(static_cast<size_t>(kBatch));
  std::iota(idx.begin(), idx.end(), 0);
  std::vector<xf::Tensor> sig{batch_of(train_set, idx, m.input_shape), labels_of(train_set, idx)};
  if (xf::Plan* plan = traced.plan_for(sig)) {
    plan->set_profiling(true);
    plan->run(sig);
    plan->set_profiling(false);
    writer.add_graph(plan->graph(), *plan, "graph");
  }
  writer.add_text("summary", epochs, m.name + ": " + std::to_string(eager_us) + " us eager, " +
                                         std::to_string(traced_us) + " us traced per step");
  writer.flush();
  return evaluate(m, test_set);
}

// The model's inference graph for one image, exported with its trained variables; its signature
// takes any number of images (batch -1), each run through the one-image graph.
std::string export_model(const Model& m, const std::string& base) {
  xf::GraphBuilder b;
  xf::Shape shape{1};
  shape.insert(shape.end(), m.input_shape.begin(), m.input_shape.end());
  xf::Tensor x = b.placeholder(xf::DType::float32, shape, "x");
  xf::Tensor logits = m.forward(x, false);
  xf::Tensor probs = xf::softmax(logits), classes = xf::argmax(logits, 1);
  xf::Graph g = b.finish({probs, classes});
  xf::train::Signature sig = xf::train::make_signature(
      g, {{"x", b.value_of(x)}}, {{"probabilities", b.value_of(probs)}, {"classes", b.value_of(classes)}});
  xf::train::set_any_batch_size(sig);  // a served request may hold any number of images
  std::error_code ec;
  std::vector<int64_t> versions;
  if (std::filesystem::is_directory(base, ec)) versions = xf::saved_model_versions(base);
  int64_t version = versions.empty() ? 1 : versions.back() + 1;
  return xf::export_saved_model(base, version, g, {{"serving_default", sig}});
}

}  // namespace

int main(int argc, char** argv) {
  std::string data = "data/digits/digits.csv", runs = "runs";
  int epochs_mlp = 30, epochs_cnn = 15;
  Checkpointing ckpt;
  std::string export_dir;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--data" && i + 1 < argc) data = argv[++i];
    else if (a == "--runs" && i + 1 < argc) runs = argv[++i];
    else if (a == "--epochs" && i + 1 < argc) epochs_mlp = epochs_cnn = std::stoi(argv[++i]);
    else if (a == "--checkpoint_dir" && i + 1 < argc) ckpt.dir = argv[++i];
    else if (a == "--export_dir" && i + 1 < argc) export_dir = argv[++i];
    else if (a == "--save_every" && i + 1 < argc && std::atoll(argv[i + 1]) > 0) ckpt.save_every = std::atoll(argv[++i]);
    else {
      std::fprintf(stderr, "usage: %s [--data FILE] [--runs DIR] [--epochs N] [--checkpoint_dir DIR [--save_every N]] [--export_dir DIR]\n",
                   argv[0]);
      return 2;
    }
  }
  try {
    xf::set_num_threads(1);  // small batches: one core is faster than two
    xf::manual_seed(42);
    Dataset all = digits::load(data, "digits"), train_set, test_set;
    digits::split(all, train_set, test_set);
    std::printf("digits: %lld images, %lld train, %lld test\n", static_cast<long long>(all.n),
                static_cast<long long>(train_set.n), static_cast<long long>(test_set.n));
    std::filesystem::create_directories(runs);
    const std::string records = runs + "/digits-train.tfrecord";
    digits::write_records(train_set, records, "x", "y");
    std::printf("training set written to %s\n", records.c_str());
    bool ok = true;
    {
      xf::nn::Dense h(64, 128, xf::nn::Activation::relu, "hidden"), out(128, 10, xf::nn::Activation::none, "logits");
      Model mlp{"mlp",
                [&](const xf::Tensor& x, bool) { return out(h(x)); },
                {h.kernel, h.bias, out.kernel, out.bias},
                {64}};
      xf::Adam opt(0.01);
      std::printf("== mlp: 64 -> 128 relu -> 10, Adam(0.01), %d epochs ==\n", epochs_mlp);
      double acc = train(mlp, opt, train_set, records, test_set, epochs_mlp, runs + "/digits-mlp", ckpt);
      std::printf("test accuracy: %.3f\n", acc);
      if (!export_dir.empty()) std::printf("exported to %s\n", export_model(mlp, export_dir + "/mlp").c_str());
      ok = ok && acc >= 0.95;
    }
    {
      // A fresh set of names: the CNN's layer "logits" owns "logits/kernel", not "logits/kernel_1".
      xf::reset_variables();
      // Two blocks of a convolution and a pooling: the layers are named inside their block
      // ("block1/conv"), so the block's scope holds both, with the variables it reads.
      xf::nn::Conv2D c1(1, 16, {3, 3}, {1, 1}, xf::Padding::same, xf::nn::Activation::relu, "block1/conv");
      xf::nn::Conv2D c2(16, 32, {3, 3}, {1, 1}, xf::Padding::same, xf::nn::Activation::relu, "block2/conv");
      xf::nn::Dense out(2 * 2 * 32, 10, xf::nn::Activation::none, "logits");
      auto pool = [](const char* block, const xf::Tensor& x) {
        xf::NameScope outer(block), scope("pool");
        return xf::max_pool2d(x, {2, 2}, {2, 2}, xf::Padding::valid);
      };
      Model cnn{"cnn",
                [&](const xf::Tensor& x, bool) {
                  xf::Tensor y = pool("block1", c1(x));
                  y = pool("block2", c2(y));
                  {
                    xf::NameScope scope("flatten");
                    y = xf::reshape(y, {-1, 2 * 2 * 32});
                  }
                  return out(y);
                },
                {c1.kernel, c1.bias, c2.kernel, c2.bias, out.kernel, out.bias},
                {8, 8, 1}};
      xf::Adam opt(0.005);
      std::printf("== cnn: conv3x3x16 relu, pool, conv3x3x32 relu, pool, dense 10, Adam(0.005), %d epochs ==\n",
                  epochs_cnn);
      double acc = train(cnn, opt, train_set, records, test_set, epochs_cnn, runs + "/digits-cnn", ckpt);
      std::printf("test accuracy: %.3f\n", acc);
      if (!export_dir.empty()) std::printf("exported to %s\n", export_model(cnn, export_dir + "/cnn").c_str());
      ok = ok && acc >= 0.95;
    }
    std::printf("summaries in %s/digits-mlp and %s/digits-cnn (view them with: xflow view %s/digits-mlp)\n",
                runs.c_str(), runs.c_str(), runs.c_str());
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
