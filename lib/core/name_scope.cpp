#include "xflow/name_scope.hpp"

#include <vector>

namespace xf {
namespace {
// One path per thread; a scope appends "/name" and its destructor cuts the path back.
thread_local std::vector<size_t> t_marks;
thread_local std::string t_path;
}  // namespace

NameScope::NameScope(const std::string& name) {
  t_marks.push_back(t_path.size());
  if (name.empty()) return;
  if (!t_path.empty()) t_path += '/';
  t_path += name;
}

NameScope::~NameScope() {
  t_path.resize(t_marks.back());
  t_marks.pop_back();
}

AbsoluteNameScope::AbsoluteNameScope(const std::string& path) : saved_(t_path) {
  t_marks.push_back(0);  // unused by this scope; keeps NameScope marks balanced inside it
  t_path = path;
}

AbsoluteNameScope::~AbsoluteNameScope() {
  t_marks.pop_back();
  t_path = saved_;
}

std::string current_name_scope() { return t_path; }

}  // namespace xf
