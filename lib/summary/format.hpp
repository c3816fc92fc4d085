// What the summary writer and reader share: the event files of a run directory and how a double
// is spelled in JSON (docs/summaries.md).
#pragma once
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

namespace xf::summary {

enum Kind { kScalars = 0, kHistograms = 1, kTexts = 2, kKinds = 3 };

inline const char* file_name(int kind) {
  static const char* const names[kKinds] = {"scalars.jsonl", "histograms.jsonl", "text.jsonl"};
  return names[kind];
}

// The key of the recovery marker line: a writer that opens a file ending inside a line (a crash
// mid-write) ends that line and appends {"recovered_partial_line_bytes": N}; the reader skips the
// malformed line before a marker with a warning.
inline constexpr const char* kRecoveryKey = "recovered_partial_line_bytes";

// JSON has no NaN or Inf: they are the strings "nan", "inf" and "-inf" (as in graph JSON's
// attributes).
inline nlohmann::json encode_double(double v) {
  if (std::isfinite(v)) return v;
  if (std::isnan(v)) return "nan";
  return v > 0 ? "inf" : "-inf";
}

}  // namespace xf::summary
