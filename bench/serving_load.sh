#!/usr/bin/env bash
# Load test of `xflow serve` with wrk (Debian's package) on 127.0.0.1: the digits MLP, trained
# briefly and exported, answering :predict with one image per request, at 1, 16 and 64
# connections, without and with --enable_batching; and the same server answering a trivial GET
# (model status) as the ceiling, in the same run. Prints one row per case: requests/s, p50 and
# p99 latency, errors (non-2xx responses and socket errors; must be 0).
#   bench/serving_load.sh [BUILD_DIR] [SECONDS per case]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
secs=${2:-5}
command -v wrk >/dev/null || { echo "serving_load.sh: wrk is missing (apt-get install wrk)"; exit 1; }
ninja -C "$build" tools/xflow samples/digits/digits >/dev/null
work=$(mktemp -d /tmp/xflow-serving-load-XXXXXX)
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# A short training (its accuracy check may fail: only the export matters here).
"$build/samples/digits/digits" --epochs 2 --runs "$work/runs" --export_dir "$work/models" >"$work/train.log" 2>&1 || true
base="$work/models/mlp"
[ -d "$base/1" ] || { tail -n 20 "$work/train.log"; echo "serving_load.sh: the digits export failed"; exit 1; }

# One image of the digits data set (64 values in 0..1) as a row-format request.
python3 - "$work/body.json" <<'PY'
import sys
row = [round((i * 7 % 17) / 16.0, 4) for i in range(64)]
open(sys.argv[1], "w").write('{"instances": [%s]}' % ("[" + ", ".join(map(str, row)) + "]"))
PY
cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$work/body.json", "r")
wrk.body = f:read("*a")
f:close()
LUA

start_server() {
  "$build/tools/xflow" serve --model_name=mlp --model_base_path="$base" --rest_api_port=0 "$@" >"$work/serve.log" 2>&1 &
  server=$!
  port=""
  for _ in $(seq 1 500); do
    port=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$work/serve.log" | head -n1)
    [ -n "$port" ] && break
    sleep 0.02
  done
  [ -n "$port" ] || { cat "$work/serve.log"; echo "serving_load.sh: the server did not start"; exit 1; }
}
stop_server() {
  kill "$server"
  wait "$server" || true
  server=""
}

# wrk's output -> "rps p50 p99 errors"
run_wrk() {
  local conns=$1 url=$2 script=${3:-}
  local out
  out=$(wrk -t "$(( conns < 2 ? 1 : 2 ))" -c "$conns" -d "${secs}s" --latency ${script:+-s "$script"} "$url" 2>&1)
  local rps p50 p99 non2xx sock
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  non2xx=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
  sock=$(echo "$out" | awk -F'[ ,]+' '/Socket errors/ {print $4 + $6 + $8 + $10}')
  echo "$rps $p50 $p99 $(( ${non2xx:-0} + ${sock:-0} ))"
}

printf '%-34s %6s %12s %10s %10s %7s %9s\n' case conns requests/s p50 p99 errors vs_GET
for mode in plain batching; do
  if [ "$mode" = plain ]; then start_server; else start_server --enable_batching --max_batch_size=32 --batch_timeout_micros=200; fi
  for c in 1 16 64; do
    read -r grps gp50 gp99 gerr < <(run_wrk "$c" "http://127.0.0.1:$port/v1/models/mlp")
    read -r rps p50 p99 err < <(run_wrk "$c" "http://127.0.0.1:$port/v1/models/mlp:predict" "$work/post.lua")
    ratio=$(python3 -c "print('%.2f' % ($rps / $grps))")
    printf '%-34s %6s %12s %10s %10s %7s %9s\n' "GET status ($mode server)" "$c" "$grps" "$gp50" "$gp99" "$gerr" "1.00"
    printf '%-34s %6s %12s %10s %10s %7s %9s\n' "POST :predict 1 image ($mode)" "$c" "$rps" "$p50" "$p99" "$err" "$ratio"
  done
  stop_server
done
