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
#include "common/digits_data.hpp"

namespace {

using Digits = digits::Dataset;

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
    Digits all = digits::load(data, "digits_queue"), train_set, test_set;
    digits::split(all, train_set, test_set);
    const std::string run_dir = runs + "/digits-queue";
    std::filesystem::create_directories(run_dir);
    const std::string records = run_dir + "/train.tfrecord";
    digits::write_records(train_set, records, "pixels", "label");
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
