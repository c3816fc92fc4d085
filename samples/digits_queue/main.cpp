// The digits MLP (samples/digits) trained through TensorFlow 1's queue-based input pipeline:
//
//   ./build/samples/digits_queue/digits_queue [--data data/digits/digits.csv] [--runs runs] [--epochs N]
//                                             [--threads N]
//
// The training set is written once to RUNS/digits-queue/train.tfrecord, a TFRecord file of
// tf.train.Examples ("pixels": 64 floats, "label": one int64). Training then reads it as a TF1
// program does: string_input_producer (num_epochs) -> TFRecordReader -> parse_single_example ->
// shuffle_batch, run by QueueRunner threads under a Coordinator, until the pipeline raises
// OutOfRange after the last epoch. Prints the loss and test accuracy per epoch and the final
// `test accuracy: 0.xxx`; exits 1 below 0.95 (docs/tf1-pipeline.md).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "xflow/coordinator.hpp"
#include "xflow/example.hpp"
#include "xflow/input_pipeline.hpp"
#include "xflow/nn.hpp"
#include "xflow/optim.hpp"
#include "xflow/tfrecord.hpp"
#include "xflow/trace.hpp"
#include "xflow/xflow.hpp"

namespace {

struct Digits {
  std::vector<float> pixels;  // n x 64, scaled to [0, 1]
  std::vector<int64_t> labels;
  int64_t n = 0;
};

// data/digits/digits.csv: 64 pixels (0..16) and a label per line (docs/digits.md).
Digits load(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw xf::NotFound("[digits_queue] cannot open '" + path + "' (run from the project directory or pass --data)");
  Digits d;
  std::string line;
  int64_t lineno = 0;
  while (std::getline(f, line)) {
    ++lineno;
    if (line.empty() || line[0] == '#') continue;
    std::stringstream ss(line);
    std::string cell;
    std::vector<int> v;
    while (std::getline(ss, cell, ',')) v.push_back(std::stoi(cell));
    if (v.size() != 65 || v[64] < 0 || v[64] > 9)
      throw xf::DataLoss("[digits_queue] " + path + ":" + std::to_string(lineno) + ": expected 64 pixels and a label 0..9");
    for (int i = 0; i < 64; ++i) d.pixels.push_back(static_cast<float>(v[i]) / 16.0f);
    d.labels.push_back(v[64]);
    ++d.n;
  }
  return d;
}

// The digits sample's split: a shuffle with seed 2024, the first 80% train, the rest test.
void split(const Digits& all, Digits& train, Digits& test) {
  std::vector<int64_t> order(static_cast<size_t>(all.n));
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(2024);
  std::shuffle(order.begin(), order.end(), rng);
  int64_t n_train = all.n * 8 / 10;
  for (int64_t k = 0; k < all.n; ++k) {
    Digits& d = k < n_train ? train : test;
    int64_t i = order[static_cast<size_t>(k)];
    d.pixels.insert(d.pixels.end(), all.pixels.begin() + i * 64, all.pixels.begin() + (i + 1) * 64);
    d.labels.push_back(all.labels[static_cast<size_t>(i)]);
    ++d.n;
  }
}

// One Example per image, as a TF user's conversion script writes them.
void write_records(const Digits& d, const std::string& path) {
  xf::io::TFRecordWriter writer(path);
  for (int64_t i = 0; i < d.n; ++i) {
    xf::io::Example ex;
    ex.set_floats("pixels", std::vector<float>(d.pixels.begin() + i * 64, d.pixels.begin() + (i + 1) * 64));
    ex.set_int64s("label", {d.labels[static_cast<size_t>(i)]});
    writer.write(ex.serialize());
  }
  writer.close();
}

}  // namespace

int main(int argc, char** argv) {
  std::string data = "data/digits/digits.csv", runs = "runs";
  int64_t epochs = 30;
  int threads = 2;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--data" && i + 1 < argc) data = argv[++i];
    else if (a == "--runs" && i + 1 < argc) runs = argv[++i];
    else if (a == "--epochs" && i + 1 < argc && std::atoll(argv[i + 1]) > 0) epochs = std::atoll(argv[++i]);
    else if (a == "--threads" && i + 1 < argc && std::atoi(argv[i + 1]) > 0) threads = std::atoi(argv[++i]);
    else {
      std::fprintf(stderr, "usage: %s [--data FILE] [--runs DIR] [--epochs N] [--threads N]\n", argv[0]);
      return 2;
    }
  }
  try {
    xf::set_num_threads(1);  // small batches: one core is faster than two
    xf::manual_seed(42);
    Digits all = load(data), train_set, test_set;
    split(all, train_set, test_set);
    const std::string run_dir = runs + "/digits-queue";
    std::filesystem::create_directories(run_dir);
    const std::string records = run_dir + "/train.tfrecord";
    write_records(train_set, records);
    std::printf("digits_queue: %lld train images written to %s, %lld test\n", static_cast<long long>(train_set.n),
                records.c_str(), static_cast<long long>(test_set.n));

    // ---- The input pipeline, as in TensorFlow 1 ----
    constexpr int64_t kBatch = 64;
    xf::Queue filename_queue = xf::train::string_input_producer(xf::StringTensor::vector({records}), epochs,
                                                                /*shuffle=*/true, /*seed=*/7);
    xf::train::TFRecordReader reader;
    const xf::io::FeatureMap features = {
        {"pixels", xf::io::FixedLenFeature{{64}, xf::DType::float32, std::nullopt}},
        {"label", xf::io::FixedLenFeature{{}, xf::DType::int64, std::nullopt}},
    };
    xf::train::ShuffleBatchOptions batch_opts;
    batch_opts.num_threads = threads;
    batch_opts.seed = 7;
    xf::train::Batcher batches = xf::train::shuffle_batch(
        [&]() {
          auto [key, serialized] = reader.read(filename_queue);
          xf::io::ParsedFeatures example = xf::io::parse_single_example(serialized, features);
          return xf::Element{example.at("pixels"), example.at("label")};
        },
        kBatch, /*capacity=*/1000 + 3 * kBatch, /*min_after_dequeue=*/1000, batch_opts);

    // ---- The model and its traced training step (samples/digits' MLP) ----
    xf::nn::Dense hidden(64, 128, xf::nn::Activation::relu, "hidden"), logits_layer(128, 10, xf::nn::Activation::none, "logits");
    std::vector<xf::Variable> variables = {hidden.kernel, hidden.bias, logits_layer.kernel, logits_layer.bias};
    xf::Adam opt(0.01);
    auto forward = [&](const xf::Tensor& x) { return logits_layer(hidden(x)); };
    auto step = xf::trace([&](const std::vector<xf::Tensor>& in) {
      xf::Tensor loss = opt.minimize(
          [&](const std::vector<xf::Tensor>&) {
            xf::Tensor logits = forward(in[0]);
            xf::NameScope scope("loss");
            return xf::mean(xf::nn::sparse_softmax_cross_entropy_with_logits(in[1], logits));
          },
          variables);
      return std::vector<xf::Tensor>{loss};
    });
    const xf::Tensor test_x = xf::Tensor::from_vector(test_set.pixels, {test_set.n, 64});
    const xf::Tensor test_y = xf::Tensor::from_vector(test_set.labels, {test_set.n});
    auto test_accuracy = [&] { return xf::nn::accuracy(test_y, forward(test_x)).item<float>(); };
    std::printf("== mlp: 64 -> 128 relu -> 10, Adam(0.01), %lld epochs through shuffle_batch(%lld), %d reader threads ==\n",
                static_cast<long long>(epochs), static_cast<long long>(kBatch), threads);

    // ---- The TF1 training loop ----
    xf::train::Coordinator coord;
    std::vector<std::thread> runner_threads = xf::train::start_queue_runners(coord);
    const int64_t steps_per_epoch = train_set.n / kBatch;
    int64_t steps = 0;
    float loss = 0;
    try {
      while (!coord.should_stop()) {
        xf::Element batch = batches.next();
        loss = step({batch[0].tensor(), batch[1].tensor()})[0].item<float>();
        if (++steps % steps_per_epoch == 0) {
          std::printf("  epoch %2lld: loss %.4f, test accuracy %.3f\n", static_cast<long long>(steps / steps_per_epoch),
                      loss, test_accuracy());
        }
      }
    } catch (const xf::OutOfRange&) {
      std::printf("done training for %lld epochs, %lld steps (%lld records read)\n", static_cast<long long>(epochs),
                  static_cast<long long>(steps), static_cast<long long>(reader.num_records_produced()));
    }
    coord.request_stop();
    coord.join(runner_threads);  // re-raises a reader's or parser's error

    double acc = test_accuracy();
    std::printf("test accuracy: %.3f\n", acc);
    return acc >= 0.95 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
