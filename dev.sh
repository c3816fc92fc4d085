#!/usr/bin/env bash
# xflow's developer entry point. Each command installs what is missing (Debian 12, as root),
# configures, builds, then runs:
#   ./dev.sh run     the main sample: samples/digits trains an MLP and a CNN, eagerly and traced
#   ./dev.sh test    every test: release build, then AddressSanitizer + UndefinedBehaviorSanitizer
#                    build, then the threaded tests under ThreadSanitizer; ends with
#                    "N passed, N failed" (the release run's test cases plus the viewer's
#                    browser tests). The release run includes test_install (meson install into
#                    build/tests/install-check, a program built with pkg-config); the sanitizer
#                    builds do not build it. Every build runs the layer checks (docs/design.md).
#   ./dev.sh order   order independence: every test case alone, then every test executable in
#                    random order under several seeds (release build)
#   ./dev.sh bench   the benchmarks (table on stdout, build/bench.json)
set -euo pipefail
cd "$(dirname "$0")"

APT_PACKAGES=(g++ meson ninja-build pkg-config libxtensor-dev libxsimd-dev xtl-dev nlohmann-json3-dev
              catch2 libopenblas-dev libtbb-dev python3-numpy libcli11-dev libcpp-httplib-dev ccache
              libprotobuf-dev protobuf-compiler python3-protobuf libleveldb-dev libsnappy-dev libzip-dev
              zlib1g-dev clang libclang-rt-14-dev wrk)

install_deps() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "dev.sh: installing ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

# The web viewer's page, tools/viewer/dist/index.html: npm packages (esbuild, @dagrejs/dagre,
# playwright-core) from package-lock.json, then the bundle (docs/viewer.md).
build_viewer() {
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "dev.sh: installing nodejs npm"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq nodejs npm >/dev/null
  fi
  ( cd tools/viewer && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm run --silent build ) \
    >build-viewer.log 2>&1 || { tail -n 40 build-viewer.log; echo "dev.sh: build of the viewer failed"; exit 1; }
}

# The browser tests drive Debian's chromium; without it they fail (they do not skip).
install_chromium() {
  if [ ! -x /usr/bin/chromium ]; then
    echo "dev.sh: installing chromium"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null; } ||
      echo "dev.sh: chromium could not be installed; the browser tests will fail"
  fi
}

# run_browser_tests DIR: the viewer's tests in chromium against DIR's xflow; sets LAST_PASSED and
# LAST_FAILED from the script's closing "N passed, M failed" line.
run_browser_tests() {
  local dir=$1 out rc p=0 f=0
  set +e
  out=$(XFLOW_BUILD_DIR="$dir" timeout 900 node tools/viewer/test/viewer.test.mjs 2>&1)
  rc=$?
  set -e
  echo "$out" | sed 's/^/[browser] /'
  local summary
  summary=$(echo "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n 1)
  if [[ "$summary" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
    p=${BASH_REMATCH[1]}; f=${BASH_REMATCH[2]}
  fi
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  LAST_PASSED=$p
  LAST_FAILED=$f
}

# configure DIR [meson options...]
configure() {
  local dir=$1
  shift
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$@" >/dev/null
  fi
}

build() {
  local dir=$1
  ninja -C "$dir" >"$dir.log" 2>&1 || { tail -n 60 "$dir.log"; echo "dev.sh: build of $dir failed"; exit 1; }
}

# The order of test cases: Catch2's --order rand with one seed per ./dev.sh run (the same for the
# release and sanitizer runs), printed, and taken from XFLOW_TEST_SEED when set, so a failing
# order can be repeated: XFLOW_TEST_SEED=N ./dev.sh test (docs/decisions.md).
test_seed() {
  if [ -z "${XFLOW_TEST_SEED:-}" ]; then
    XFLOW_TEST_SEED=$(( ($(date +%s) % 100000) * 10 + RANDOM % 10 + 1 ))
  fi
  export XFLOW_TEST_SEED
  echo "dev.sh: test cases run in random order, seed $XFLOW_TEST_SEED (XFLOW_TEST_SEED=$XFLOW_TEST_SEED ./dev.sh test repeats it)"
}

# The kernel cache of generated fused kernels (lib/exec/codegen.cpp) for the test runs: one
# directory under build/, private to the user (the cache holds code that is dlopen'd), shared by
# the release, ASan and TSan runs (kernels are compiled without sanitizers, so the same kernel
# serves all three) and kept between runs. Set XFLOW_CACHE_DIR to use another.
kernel_cache() {
  if [ -z "${XFLOW_CACHE_DIR:-}" ]; then
    XFLOW_CACHE_DIR="$PWD/build/kernel-cache"
  fi
  mkdir -p "$XFLOW_CACHE_DIR"
  chmod 0700 "$XFLOW_CACHE_DIR"
  export XFLOW_CACHE_DIR
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# run_tests DIR LABEL [filter]: runs every test executable of DIR (test cases in random order,
# seed XFLOW_TEST_SEED); adds to PASSED/FAILED.
PASSED=0
FAILED=0
run_tests() {
  local dir=$1 label=$2 filter=${3:-}
  local exes
  exes=$(find "$dir/tests" -maxdepth 1 -type f -executable -name 'test_*' | sort)
  local p=0 f=0 broken=0
  for exe in $exes; do
    local name
    name=$(basename "$exe")
    if [ -n "$filter" ] && ! echo "$name" | grep -qE "$filter"; then continue; fi
    local out t0
    t0=$(now)
    set +e
    out=$(cd "$dir/tests" && timeout 1200 "./$name" --order rand --rng-seed "${XFLOW_TEST_SEED:-1}" 2>&1)
    local rc=$?
    set -e
    local secs
    secs=$(elapsed "$t0")
    local summary
    # A crashed executable prints no summary: grep finds nothing, which must not end the script.
    summary=$(echo "$out" | grep -E "^(All tests passed|test cases:)" | tail -n 1 || true)
    local cp=0 cf=0
    if [[ "$summary" =~ ^All\ tests\ passed.*in\ ([0-9]+)\ test\ case ]]; then
      cp=${BASH_REMATCH[1]}
    elif [[ "$summary" =~ test\ cases:\ +([0-9]+)\ \|\ +([0-9]+)\ passed\ \|\ +([0-9]+)\ failed ]]; then
      cp=${BASH_REMATCH[2]}; cf=${BASH_REMATCH[3]}
    elif [[ "$summary" =~ test\ cases:\ +([0-9]+)\ \|\ +([0-9]+)\ failed ]]; then
      cf=${BASH_REMATCH[2]}
    fi
    if [ "$rc" -ne 0 ] && [ "$cf" -eq 0 ]; then cf=1; broken=1; fi
    if [ "$rc" -ne 0 ]; then
      echo "$out" | tail -n 80
      echo "[$label] $name: FAILED (exit $rc, ${secs}s, --order rand --rng-seed ${XFLOW_TEST_SEED:-1})"
    else
      echo "[$label] $name: $cp passed (${secs}s)"
    fi
    p=$((p + cp)); f=$((f + cf))
  done
  echo "[$label] $p passed, $f failed"
  LAST_PASSED=$p
  LAST_FAILED=$f
  : "$broken"
}

# The libFuzzer targets of fuzz/ (clang, -fsanitize=fuzzer,address,undefined), built from only the
# parsers they test. run_fuzz SECONDS: every target for SECONDS, seeded from the files its
# fuzz/<target>.seeds lists (one path per line, relative to the repository root) and its corpus
# folder build-fuzz/corpus/<target> (kept between runs). Each target counts as one test case.
run_fuzz() {
  local secs=$1
  if [ ! -f build-fuzz/build.ninja ]; then
    CXX=clang++ CC=clang meson setup build-fuzz -Dfuzz=true -Dtests=false -Dbenchmarks=false >/dev/null
  fi
  ninja -C build-fuzz >build-fuzz.log 2>&1 || { tail -n 60 build-fuzz.log; echo "dev.sh: build of build-fuzz failed"; exit 1; }
  local p=0 f=0
  for exe in $(find build-fuzz -maxdepth 2 -type f -executable -name 'fuzz_*' | sort); do
    local name seeds corpus
    name=$(basename "$exe")
    corpus="build-fuzz/corpus/$name"
    seeds="build-fuzz/seeds/$name"
    mkdir -p "$corpus"
    rm -rf "$seeds"
    mkdir -p "$seeds"
    # libFuzzer runs file arguments once instead of fuzzing: seeds are copied into a folder. A
    # line names a file or folder relative to the repository root, else to ../shared.
    if [ -f "fuzz/$name.seeds" ]; then
      while IFS= read -r line; do
        [ -n "$line" ] && [ "${line:0:1}" != "#" ] || continue
        local src=$line
        [ -e "$src" ] || src="../shared/$line"
        if [ -d "$src" ]; then
          find "$src" -maxdepth 1 -type f -exec cp -t "$seeds" {} + 2>/dev/null || true
        elif [ -f "$src" ]; then
          cp "$src" "$seeds/$(echo "$line" | tr '/.' '__')"
        fi
      done <"fuzz/$name.seeds"
    fi
    local log="build-fuzz/$name.log"
    if timeout $((secs + 120)) "$exe" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
         -artifact_prefix="build-fuzz/$name-" "$corpus" "$seeds" >"$log" 2>&1; then
      echo "[fuzz] $name: passed (${secs}s, $(grep -oE '#[0-9]+' "$log" | tail -n 1) runs, $(ls "$seeds" | wc -l) seeds)"
      p=$((p + 1))
    else
      tail -n 40 "$log"
      echo "[fuzz] $name: FAILED (crash input: build-fuzz/$name-*)"
      f=$((f + 1))
    fi
  done
  echo "[fuzz] $p passed, $f failed"
  LAST_PASSED=$p
  LAST_FAILED=$f
}

cmd=${1:-}
case "$cmd" in
  run)
    install_deps
    configure build
    build build
    build_viewer
    ./build/samples/digits/digits
    ;;
  test)
    install_deps
    # Plans use the tile interpreter in tests (no compiler run per plan); the tests that check
    # generated kernels, and the differ (every primitive under every plan option), ask for them
    # explicitly, and find them in the kernel cache below (docs/decisions.md, 32).
    export XFLOW_CODEGEN=0
    test_seed
    configure build
    kernel_cache
    build build
    build_viewer
    run_tests build release
    PASSED=$LAST_PASSED; FAILED=$LAST_FAILED
    # The viewer in a browser (tools/viewer/test): its tests count with the release run's.
    install_chromium
    run_browser_tests build
    PASSED=$((PASSED + LAST_PASSED)); FAILED=$((FAILED + LAST_FAILED))
    # Sanitizers: the same tests, without the benchmarks.
    # -O1 with line tables (-g1): what the sanitizers' authors recommend, and half the compile time
    # of -O2 -g (docs/decisions.md, 105).
    configure build-asan -Dbuildtype=debugoptimized -Doptimization=1 -Ddebug=false -Dcpp_args=-g1 \
      -Db_sanitize=address,undefined -Db_lundef=false -Dbenchmarks=false
    build build-asan
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 run_tests build-asan asan+ubsan
    SAN_FAILED=$LAST_FAILED
    # ThreadSanitizer: the tests of threaded code (kernels split over threads, concurrent eager
    # ops, the allocator, plans running independent steps concurrently, sessions on two threads, queues, coordinators and queue runners). Under TSan, parallel_for runs its chunks on plain threads (libtbb is
    # not instrumented; see lib/core/parallel.cpp).
    configure build-tsan -Dbuildtype=debugoptimized -Doptimization=1 -Ddebug=false -Dcpp_args=-g1 \
      -Db_sanitize=thread -Dbenchmarks=false
    ninja -C build-tsan tests/test_parallel tests/test_buffer tests/test_plan tests/test_session tests/test_dataset tests/test_queue tests/test_coordinator tests/test_queue_graph tests/test_input_pipeline tests/test_serving tests/test_sort_scan tests/test_numerics_debug tests/test_conv_dilations tests/test_image_patches tests/test_optimizers tests/optim_reference.json tools/xflow >build-tsan.log 2>&1 ||
      { tail -n 60 build-tsan.log; echo "dev.sh: build of build-tsan failed"; exit 1; }
    TSAN_OPTIONS="halt_on_error=1 suppressions=$PWD/tools/tsan.supp" run_tests build-tsan tsan 'test_parallel|test_buffer|test_plan|test_session|test_dataset|test_queue|test_coordinator|test_queue_graph|test_input_pipeline|test_serving|test_sort_scan|test_numerics_debug|test_conv_dilations|test_image_patches|test_optimizers'
    SAN_FAILED=$((SAN_FAILED + LAST_FAILED))
    if [ "$SAN_FAILED" -ne 0 ]; then FAILED=$((FAILED + SAN_FAILED)); fi
    # The parsers of other tools' files under libFuzzer, briefly (./dev.sh fuzz runs longer).
    run_fuzz "${XFLOW_FUZZ_SECONDS:-10}"
    PASSED=$((PASSED + LAST_PASSED)); FAILED=$((FAILED + LAST_FAILED))
    echo "$PASSED passed, $FAILED failed"
    [ "$FAILED" -eq 0 ]
    ;;
  order)
    # Order independence (release build): every test case of every test executable alone, then
    # every executable in random order under seeds 1..5 (XFLOW_ORDER_SEEDS to change them).
    install_deps
    configure build
    kernel_cache
    build build
    bad=0
    for exe in $(find build/tests -maxdepth 1 -type f -executable -name 'test_*' | sort); do
      name=$(basename "$exe")
      while IFS= read -r tc; do
        [ -n "$tc" ] || continue
        # Catch2 test specs: a leading '[' would be a tag, commas separate specs, '\' escapes.
        spec=$(printf '%s' "$tc" | sed -e 's/\\/\\\\/g' -e 's/,/\\,/g' -e 's/\[/\\[/g')
        out=$(cd build/tests && timeout 1200 "./$name" "$spec" </dev/null 2>&1) && rc=0 || rc=$?
        # Exactly this one case ran, and passed.
        if [ "$rc" -ne 0 ] || ! echo "$out" | grep -qE ' in 1 test case\)$|^test cases: 1 \|'; then
          echo "[order] $name alone: FAILED (exit $rc): $tc"; bad=$((bad + 1))
        fi
      done < <(cd build/tests && "./$name" --list-test-names-only | sed -e 's/\r$//' -e 's/^  *//')
      for seed in ${XFLOW_ORDER_SEEDS:-1 2 3 4 5}; do
        if ! (cd build/tests && timeout 1200 "./$name" --order rand --rng-seed "$seed" </dev/null >/dev/null 2>&1); then
          echo "[order] $name --order rand --rng-seed $seed: FAILED"; bad=$((bad + 1))
        fi
      done
      echo "[order] $name done"
    done
    echo "[order] $bad failed"
    [ "$bad" -eq 0 ]
    ;;
  fuzz)
    # ./dev.sh fuzz [SECONDS]: every fuzz target for SECONDS (default 300).
    install_deps
    run_fuzz "${2:-300}"
    [ "$LAST_FAILED" -eq 0 ]
    ;;
  bench)
    install_deps
    configure build
    build build
    ./build/bench/xflow_bench --json build/bench.json
    ;;
  *)
    echo "usage: ./dev.sh run|test|bench|order|fuzz [SECONDS]" >&2
    exit 2
    ;;
esac
