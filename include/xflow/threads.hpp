// Threads for large kernels (oneTBB) and BLAS.
#pragma once

namespace xf {

// Threads for large kernels and BLAS; 0 restores the default (all cores). Throws InvalidArgument
// for a negative count.
void set_num_threads(int n);
int num_threads();

}  // namespace xf
