// Name scopes: the "dense1/matmul" prefixes that recorded graph nodes carry. Every recorder
// (trace, GraphBuilder) and every library part that names what it adds (gradients, optimizers,
// losses, variables) reads the one stack of this thread.
#pragma once
#include <string>

namespace xf {

// Pushes `name` onto this thread's scope stack until destroyed: nodes recorded meanwhile are
// named "<outer>/<name>/<op>".
class NameScope {
 public:
  explicit NameScope(const std::string& name);
  ~NameScope();
  NameScope(const NameScope&) = delete;
  NameScope& operator=(const NameScope&) = delete;
};

// Replaces this thread's whole scope stack with `path` ("a/b/c", or "" for the root) until
// destroyed, then restores the stack it found: gradients are recorded under
// "gradients/<the forward op's scope>" whatever scope the backward pass runs in.
class AbsoluteNameScope {
 public:
  explicit AbsoluteNameScope(const std::string& path);
  ~AbsoluteNameScope();
  AbsoluteNameScope(const AbsoluteNameScope&) = delete;
  AbsoluteNameScope& operator=(const AbsoluteNameScope&) = delete;

 private:
  std::string saved_;
};

// The active scope path of this thread: "outer/inner", or "" at the root.
std::string current_name_scope();

}  // namespace xf
