// The on-disk cache of generated kernels (docs/tracing.md, "The kernel cache"). It holds code that
// is dlopen'd, so it must be private to the user: created with mode 0700, refused when another
// user owns it or others may write to it, never placed in a shared temporary directory. Its size
// is bounded: least recently used kernels are removed first.
#pragma once
#include <cstdint>
#include <string>

namespace xf::detail {

// $XFLOW_CACHE_DIR, else $XDG_CACHE_HOME/xflow/kernels, else $HOME/.cache/xflow/kernels; "" when
// none of them is set (then no kernel is generated).
std::string kernel_cache_dir();

// Creates `dir` and its missing parents with mode 0700 and checks it: "" when it is usable, else
// one line saying why not (not a directory, owned by another user, writable by group or others).
std::string prepare_kernel_cache(const std::string& dir);

// The size bound: $XFLOW_KERNEL_CACHE_MAX_MB MiB (default 256; 0 = unbounded).
int64_t kernel_cache_max_bytes();

// Marks a kernel file as used now (its modification time orders eviction).
void touch_kernel(const std::string& path);

// Removes the least recently used `fused_*.so` kernels and `prelude_*.hpp.gch` precompiled
// preludes of `dir` until their total size is at most `max_bytes` (never `keep`), and leftovers of
// interrupted compilations (and prelude headers without their .gch) older than an hour.
// Returns the number of files removed.
int evict_kernel_cache(const std::string& dir, int64_t max_bytes, const std::string& keep = "");

}  // namespace xf::detail
