// Variables to and from NumPy's .npz files in one call, keyed by the variables' names
// ("dense1/kernel"): np.load(path)["dense1/kernel"] is that variable's value (docs/npy.md).
#pragma once
#include <map>
#include <string>
#include <vector>

#include "xflow/variable.hpp"

namespace xf {

// Writes each variable's current value as an array named after the variable (np.savez, or
// np.savez_compressed when `compressed`), through a temporary file renamed into place.
void save_variables_npz(const std::string& path, const std::vector<Variable>& vars, bool compressed = false,
                        bool sync = true);
// Every global variable.
void save_variables_npz(const std::string& path);
// Arrays named by the map's keys.
void save_variables_npz(const std::string& path, const std::map<std::string, Variable>& vars,
                        bool compressed = false, bool sync = true);

// Assigns each variable the array of its name. Every array is read and checked before any
// variable changes: NotFound for a missing array, DTypeError for another dtype, ShapeError for
// another shape, and the file's own errors (xflow/npy.hpp); on any of them no variable changes.
// Arrays of the file that no variable asks for are ignored.
void load_variables_npz(const std::string& path, const std::vector<Variable>& vars);
// Every global variable.
void load_variables_npz(const std::string& path);
// The variable of each key from the array of that key.
void load_variables_npz(const std::string& path, const std::map<std::string, Variable>& vars);

}  // namespace xf
