// Kernels of the queue primitives and the table of live queues they look ids up in.
#include <cstring>
#include <mutex>
#include <unordered_map>

#include "core/observer.hpp"
#include "ops/prims.hpp"
#include "ops/queue_resource.hpp"

namespace xf {

namespace {
struct LiveQueues {
  std::mutex mu;
  std::unordered_map<uint64_t, std::weak_ptr<QueueResource>> by_id;
};
LiveQueues& live_queues() {
  static LiveQueues* r = new LiveQueues;
  return *r;
}

// The component specs of a queue's attributes (batched along a new axis 0 of size `batch` >= 0).
Specs component_specs(const QueueAttrs& a, int64_t batch) {
  Specs out;
  size_t k = 0;
  for (int64_t code : a.dtypes) {
    if (k >= a.shapes.size()) infer_fail(ErrorCode::internal, "malformed queue shapes");
    int64_t rank = a.shapes[k++];
    if (rank < 0 || k + static_cast<size_t>(rank) > a.shapes.size()) infer_fail(ErrorCode::internal, "malformed queue shapes");
    Shape s(a.shapes.begin() + static_cast<std::ptrdiff_t>(k), a.shapes.begin() + static_cast<std::ptrdiff_t>(k + rank));
    k += static_cast<size_t>(rank);
    if (batch >= 0) s.insert(s.begin(), batch);
    if (code < 0 || code >= kNumDTypes) infer_fail(ErrorCode::internal, "bad dtype code in queue attributes");
    out.push_back(TensorSpec{static_cast<DType>(code), s});
  }
  return out;
}
}  // namespace

void register_queue_resource(uint64_t id, std::weak_ptr<QueueResource> q) {
  LiveQueues& r = live_queues();
  std::lock_guard<std::mutex> lock(r.mu);
  for (auto it = r.by_id.begin(); it != r.by_id.end();) {  // forget queues that are gone
    if (it->second.expired()) it = r.by_id.erase(it);
    else ++it;
  }
  r.by_id[id] = std::move(q);
}

std::shared_ptr<QueueResource> find_queue_resource(uint64_t id, const std::string& name) {
  LiveQueues& r = live_queues();
  std::lock_guard<std::mutex> lock(r.mu);
  auto it = r.by_id.find(id);
  std::shared_ptr<QueueResource> q = it == r.by_id.end() ? nullptr : it->second.lock();
  if (!q) throw NotFound("queue '" + name + "' (id " + std::to_string(id) + ") does not exist in this process");
  return q;
}

Specs QueueDequeue::infer(const Attrs& a, const Specs& in) {
  if (!in.empty()) infer_fail(ErrorCode::invalid_argument, "takes no inputs");
  return component_specs(a, a.n);
}

void QueueDequeue::eval(const Attrs& a, const Tensors&, Tensors& out) {
  if (graph_building()) {  // building a graph: the values mean nothing and the queue is left alone
    Specs specs = component_specs(a, a.n);
    for (size_t i = 0; i < specs.size(); ++i) out[i] = zeros(specs[i].shape, specs[i].dtype);
    return;
  }
  Tensors got = find_queue_resource(static_cast<uint64_t>(a.queue_id), a.name)->graph_dequeue(a.n, a.timeout_ms);
  for (size_t i = 0; i < out.size() && i < got.size(); ++i) out[i] = std::move(got[i]);
}

Specs QueueEnqueue::infer(const Attrs& a, const Specs& in) {
  if (in.empty()) infer_fail(ErrorCode::invalid_argument, "expects the element's components");
  int64_t batch = a.many ? (in[0].shape.empty() ? -2 : in[0].shape[0]) : -1;
  if (batch == -2) infer_fail(ErrorCode::invalid_argument, "enqueue_many needs batches along axis 0: " + specs_str(in));
  Specs want = component_specs(a, batch);
  if (want.size() != in.size() ) {
    infer_fail(ErrorCode::invalid_argument, "queue '" + a.name + "' has " + std::to_string(want.size()) +
                                                " components, got " + std::to_string(in.size()));
  }
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i].dtype != want[i].dtype || in[i].shape != want[i].shape) {
      infer_fail(ErrorCode::invalid_argument, "queue '" + a.name + "' component " + std::to_string(i) + " is " +
                                                  spec_str(want[i]) + ", got " + spec_str(in[i]));
    }
  }
  return {TensorSpec{DType::int64, {}}};
}

void QueueEnqueue::eval(const Attrs& a, const Tensors& in, Tensors& out) {
  int64_t count = a.many ? in[0].shape()[0] : 1;
  if (!graph_building()) {
    // The queue keeps private copies: inputs may live in a plan's arena, which the next step or
    // run overwrites (an assignment copies for the same reason).
    Tensors copies;
    copies.reserve(in.size());
    for (const Tensor& t : in) {
      Tensor src = t.contiguous();
      Tensor copy = Tensor::empty(t.shape(), t.dtype());
      if (copy.size()) std::memcpy(copy.raw_data(), src.raw_data(), static_cast<size_t>(copy.size()) * dtype_size(t.dtype()));
      copies.push_back(std::move(copy));
    }
    count = find_queue_resource(static_cast<uint64_t>(a.queue_id), a.name)->graph_enqueue(copies, a.many, a.timeout_ms);
  }
  out[0] = Tensor(count);
}

// Neither is differentiable: a dequeue has no inputs, an enqueue's output is a count.
Tensors QueueDequeue::vjp(const Attrs&, const VjpArgs&) { return {}; }
Tensors QueueEnqueue::vjp(const Attrs&, const VjpArgs& args) { return Tensors(args.inputs.size()); }

}  // namespace xf
