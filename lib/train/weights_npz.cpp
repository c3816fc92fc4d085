#include <utility>

#include "xflow/error.hpp"
#include "xflow/npy.hpp"
#include "xflow/weights.hpp"

namespace xf {

namespace {

using Named = std::vector<std::pair<std::string, Variable>>;

Named by_own_name(const std::vector<Variable>& vars) {
  Named out;
  for (const Variable& v : vars) {
    if (!v.defined()) throw InvalidArgument("[save_variables_npz] an undefined Variable handle");
    out.emplace_back(v.name(), v);
  }
  return out;
}

void save(const std::string& path, const Named& vars, bool compressed, bool sync) {
  io::NamedTensors arrays;
  for (const auto& [name, v] : vars) {
    if (!v.defined()) throw InvalidArgument("[save_variables_npz] " + path + ": variable '" + name + "' is undefined");
    arrays.emplace_back(name, v.value());
  }
  if (compressed) io::savez_compressed(path, arrays, sync);
  else io::save_npz(path, arrays, sync);
}

void load(const std::string& path, const Named& vars) {
  io::NpzReader reader(path);
  std::vector<Tensor> values;
  values.reserve(vars.size());
  for (const auto& [name, v] : vars) {
    if (!v.defined()) throw InvalidArgument("[load_variables_npz] " + path + ": variable '" + name + "' is undefined");
    if (!reader.contains(name))
      throw NotFound("[load_variables_npz] " + path + ": no array '" + name + "' for variable '" + v.name() + "'");
    Tensor t = reader.read(name);
    if (t.dtype() != v.dtype())
      throw DTypeError("[load_variables_npz] " + path + ": array '" + name + "' is " + dtype_name(t.dtype()) +
                       ", variable '" + v.name() + "' is " + dtype_name(v.dtype()));
    if (t.shape() != v.shape())
      throw ShapeError("[load_variables_npz] " + path + ": array '" + name + "' has shape " + shape_str(t.shape()) +
                       ", variable '" + v.name() + "' has shape " + shape_str(v.shape()));
    values.push_back(std::move(t));
  }
  // Every check passed: now assign, so a bad file changes nothing.
  for (size_t i = 0; i < vars.size(); ++i) vars[i].second.assign(values[i]);
}

}  // namespace

void save_variables_npz(const std::string& path, const std::vector<Variable>& vars, bool compressed, bool sync) {
  save(path, by_own_name(vars), compressed, sync);
}

void save_variables_npz(const std::string& path) { save_variables_npz(path, global_variables()); }

void save_variables_npz(const std::string& path, const std::map<std::string, Variable>& vars, bool compressed,
                        bool sync) {
  save(path, Named(vars.begin(), vars.end()), compressed, sync);
}

void load_variables_npz(const std::string& path, const std::vector<Variable>& vars) {
  load(path, by_own_name(vars));
}

void load_variables_npz(const std::string& path) { load_variables_npz(path, global_variables()); }

void load_variables_npz(const std::string& path, const std::map<std::string, Variable>& vars) {
  load(path, Named(vars.begin(), vars.end()));
}

}  // namespace xf
