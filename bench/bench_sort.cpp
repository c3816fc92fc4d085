// sort/rows, topk/rows, cumsum/rows: the sort and scan kernels on 512 rows of 2048 float32 (one
// thread: the baselines are single-threaded), each against a hand-written baseline in the same
// run: std::sort of each row (values only, while xf::sort also produces the int64 indices),
// std::partial_sort of each row for the k = 16 largest (values only), and a running-sum loop.
// Each row checks the result against its baseline's.
#include <algorithm>
#include <functional>
#include <vector>

#include "bench_common.hpp"
#include "xflow/ops.hpp"
#include "xflow/threads.hpp"

namespace xfbench {

void bench_sort(const Options& o) {
  const std::vector<std::string> names = {"sort/rows", "sort/std_sort", "topk/rows", "topk/std_partial_sort",
                                          "cumsum/rows", "cumsum/loop"};
  if (!wanted(o, names)) return;
  xf::set_num_threads(1);
  const int64_t rows = 512, n = 2048, k = 16;
  xf::manual_seed(3);
  xf::Tensor x = xf::random_normal({rows, n});
  const float* px = x.data<float>();
  std::vector<float> buf(static_cast<size_t>(rows * n));
  const int samples = o.quick ? 3 : 9;
  const double units = static_cast<double>(rows);

  xf::Tensor sorted;
  auto run_sort = [&] { sorted = xf::sort(x); };
  auto run_std_sort = [&] {
    std::copy(px, px + rows * n, buf.begin());
    for (int64_t r = 0; r < rows; ++r) std::sort(buf.begin() + r * n, buf.begin() + (r + 1) * n);
    escape(buf.data());
  };
  std::vector<double> t = measure({run_sort, run_std_sort}, samples, 0.05, units);
  if (!std::equal(buf.begin(), buf.end(), sorted.data<float>())) g_failed = true;
  add_entry({"sort/std_sort", t[1], fmt_time(t[1]) + "/row", std::nullopt, 0, std::nullopt});
  add_entry({"sort/rows", t[0], fmt_time(t[0]) + "/row", std::string("sort/std_sort"), t[1], std::nullopt});

  xf::TopKResult top;
  std::vector<float> best(static_cast<size_t>(rows * k));
  auto run_topk = [&] { top = xf::topk(x, k); };
  auto run_partial = [&] {
    std::copy(px, px + rows * n, buf.begin());
    for (int64_t r = 0; r < rows; ++r) {
      auto b = buf.begin() + r * n;
      std::partial_sort(b, b + k, b + n, std::greater<float>());
      std::copy(b, b + k, best.begin() + r * k);
    }
    escape(best.data());
  };
  t = measure({run_topk, run_partial}, samples, 0.05, units);
  if (!std::equal(best.begin(), best.end(), top.values.data<float>())) g_failed = true;
  add_entry({"topk/std_partial_sort", t[1], fmt_time(t[1]) + "/row", std::nullopt, 0, std::nullopt});
  add_entry({"topk/rows", t[0], fmt_time(t[0]) + "/row", std::string("topk/std_partial_sort"), t[1], std::nullopt});

  xf::Tensor sums;
  auto run_cumsum = [&] { sums = xf::cumsum(x, 1); };
  auto run_loop = [&] {
    for (int64_t r = 0; r < rows; ++r) {
      float acc = 0;
      for (int64_t i = 0; i < n; ++i) buf[r * n + i] = acc += px[r * n + i];
    }
    escape(buf.data());
  };
  t = measure({run_cumsum, run_loop}, samples, 0.05, units);
  if (!std::equal(buf.begin(), buf.end(), sums.data<float>())) g_failed = true;
  add_entry({"cumsum/loop", t[1], fmt_time(t[1]) + "/row", std::nullopt, 0, std::nullopt});
  add_entry({"cumsum/rows", t[0], fmt_time(t[0]) + "/row", std::string("cumsum/loop"), t[1], std::nullopt});
  xf::set_num_threads(0);
}

}  // namespace xfbench
