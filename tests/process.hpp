// Runs a shell command from a test and collects what it writes to stdout (add " 2>&1" to the
// command for stderr too). Header-only and free of xflow's and Catch's headers, like
// temp_files.hpp.
#pragma once
#include <sys/wait.h>

#include <cstdio>
#include <stdexcept>
#include <string>

namespace xf::testing {

struct CommandResult {
  int status = -1;     // pclose's wait status
  int exit_code = -1;  // the exit code, or -1 when the command did not exit normally
  std::string output;  // its stdout
  bool ok() const { return exit_code == 0; }
};

// Throws std::runtime_error when the command cannot be started.
inline CommandResult run_command(const std::string& cmd) {
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) throw std::runtime_error("popen failed for: " + cmd);
  CommandResult r;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  r.status = ::pclose(p);
  r.exit_code = WIFEXITED(r.status) ? WEXITSTATUS(r.status) : -1;
  return r;
}

}  // namespace xf::testing
