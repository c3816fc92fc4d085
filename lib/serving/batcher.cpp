#include "serving/batcher.hpp"

#include <chrono>
#include <cstring>

#include "xflow/error.hpp"

namespace xf::serving {

namespace {

int64_t rows_of(const TensorMap& m) { return m.empty() || m.begin()->second.shape().empty() ? 0 : m.begin()->second.shape()[0]; }

// The tensors of several requests, one after the other along dimension 0.
TensorMap concat_rows(const std::vector<const TensorMap*>& parts) {
  TensorMap out;
  for (const auto& [name, first] : *parts[0]) {
    std::vector<uint8_t> bytes;
    int64_t rows = 0;
    for (const TensorMap* p : parts) {
      Tensor t = p->at(name).contiguous();
      const uint8_t* b = static_cast<const uint8_t*>(t.raw_data());
      bytes.insert(bytes.end(), b, b + static_cast<size_t>(t.size()) * static_cast<size_t>(dtype_size(t.dtype())));
      rows += t.shape()[0];
    }
    Shape sh = first.shape();
    sh[0] = rows;
    out[name] = Tensor::from_bytes(bytes.data(), bytes.size() / static_cast<size_t>(dtype_size(first.dtype())),
                                   first.dtype(), sh);
  }
  return out;
}

Tensor slice_rows(const Tensor& t, int64_t start, int64_t rows) {
  Tensor c = t.contiguous();
  Shape sh = c.shape();
  int64_t per_row = 1;
  for (size_t i = 1; i < sh.size(); ++i) per_row *= sh[i];
  sh[0] = rows;
  const size_t es = static_cast<size_t>(dtype_size(c.dtype()));
  const uint8_t* b = static_cast<const uint8_t*>(c.raw_data()) + static_cast<size_t>(start * per_row) * es;
  return Tensor::from_bytes(b, static_cast<size_t>(rows * per_row), c.dtype(), sh);
}

}  // namespace

TensorMap Batcher::run(const TensorMap& inputs, const RunFn& fn) {
  Task me;
  me.inputs = &inputs;
  me.rows = rows_of(inputs);
  if (me.rows >= options_.max_batch_size || options_.max_batch_size <= 1) return fn(inputs);
  std::unique_lock<std::mutex> lock(mu_);
  queue_.push_back(&me);
  queued_rows_ += me.rows;
  cv_.notify_all();
  for (;;) {
    if (me.done) {
      if (me.error) std::rethrow_exception(me.error);
      return std::move(me.out);
    }
    if (collecting_ || me.taken) {
      cv_.wait(lock);
      continue;
    }
    // This request gathers the next batch: wait for more rows, up to the timeout.
    collecting_ = true;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(options_.batch_timeout_micros);
    // A core free: run now (a lone request does not wait). All busy: gather the requests that
    // arrive meanwhile, up to the timeout.
    cv_.wait_until(lock, deadline,
                   [this] { return queued_rows_ >= options_.max_batch_size || running_ < max_running_; });
    std::vector<Task*> batch;
    int64_t rows = 0;
    while (!queue_.empty() && (batch.empty() || rows + queue_.front()->rows <= options_.max_batch_size)) {
      batch.push_back(queue_.front());
      queue_.front()->taken = true;
      rows += queue_.front()->rows;
      queue_.erase(queue_.begin());
    }
    queued_rows_ -= rows;
    collecting_ = false;
    ++running_;
    cv_.notify_all();  // the next request may start gathering the following batch
    lock.unlock();
    std::vector<TensorMap> outs(batch.size());
    std::exception_ptr error;
    try {
      std::vector<const TensorMap*> parts;
      for (Task* t : batch) parts.push_back(t->inputs);
      TensorMap merged = batch.size() == 1 ? *parts[0] : concat_rows(parts);
      TensorMap result = fn(merged);
      int64_t start = 0;
      for (size_t i = 0; i < batch.size(); ++i) {
        for (const auto& [name, t] : result)
          outs[i][name] = batch.size() == 1 ? t : slice_rows(t, start, batch[i]->rows);
        start += batch[i]->rows;
      }
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    --running_;
    for (size_t i = 0; i < batch.size(); ++i) {
      batch[i]->out = std::move(outs[i]);
      batch[i]->error = error;
      batch[i]->done = true;
    }
    cv_.notify_all();
  }
}

}  // namespace xf::serving
