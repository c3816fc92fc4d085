// Internal: a queue as the queue primitives (queue_dequeue, queue_enqueue) see it. The queue
// layer (lib/queue) implements it and registers every queue by its id; graph nodes carry the id,
// like variable nodes carry a variable's.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "xflow/tensor.hpp"

namespace xf {

class QueueResource {
 public:
  virtual ~QueueResource() = default;
  // n < 0: one element (its components); else a batch of n stacked along axis 0.
  virtual std::vector<Tensor> graph_dequeue(int64_t n, int64_t timeout_ms) = 0;
  // Adds one element, or (many) a batch along axis 0; returns the number of elements added.
  virtual int64_t graph_enqueue(const std::vector<Tensor>& components, bool many, int64_t timeout_ms) = 0;
};

void register_queue_resource(uint64_t id, std::weak_ptr<QueueResource> q);
// Throws NotFound when the queue no longer exists (or never did in this process).
std::shared_ptr<QueueResource> find_queue_resource(uint64_t id, const std::string& name);

}  // namespace xf
