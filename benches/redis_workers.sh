#!/usr/bin/env bash
# benches/redis_workers.sh [--workers N] CRAWL_ARGS... URL
#
# A stand-in for the `crawl` binary in the bench's peer script (`CRAWL_BIN`), for shared crawls
# through Redis: starts its own redis-server on a free port of 127.0.0.1 (no persistence), runs
# N workers of `crawl --redis ... --crawl-id bench` at once (default 1) with the arguments
# given (each worker gets its own --jsonl, FILE.wK, joined into FILE at the end), then stops
# redis-server. The processes' CPU (the workers' and redis-server's) is all counted by the
# peer script's /usr/bin/time; this script also writes, beside the JSONL file,
# `round_trips.txt`: the workers' Redis round trips (from their logs) and redis-server's CPU.
#
# Used by benches/crawl_rounds.sh, e.g.:
#   benches/crawl_rounds.sh /dev/shm/crawlbench-20000 5 mem=target/release/crawl \
#     'redis1=benches/redis_workers.sh@--workers 1' 'redis2=benches/redis_workers.sh@--workers 2'
# CRAWL (default target/release/crawl beside this script's repository) is the binary run.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
CRAWL=${CRAWL:-$HERE/../target/release/crawl}
for a in "$@"; do
  [[ $a == --help ]] && exec "$CRAWL" --help
done
workers=1
args=()
jsonl=""
while (($#)); do
  case $1 in
    --workers) workers=$2; shift 2 ;;
    --jsonl) jsonl=$2; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
[[ -n $jsonl ]] || { echo "redis_workers.sh: --jsonl FILE is needed" >&2; exit 2; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no >/dev/null 2>&1 &
redis_pid=$!
trap 'kill "$redis_pid" 2>/dev/null; wait "$redis_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  redis-cli -p "$port" ping >/dev/null 2>&1 && break
  sleep 0.05
done
pids=()
for k in $(seq 1 "$workers"); do
  RUST_LOG=crawl::workers=info "$CRAWL" --redis "redis://127.0.0.1:$port/0" --crawl-id bench \
    --worker "w$k" --jsonl "$jsonl.w$k" "${args[@]}" 2>"$jsonl.w$k.log" &
  pids+=($!)
done
rc=0
for pid in "${pids[@]}"; do wait "$pid" || rc=$?; done
for k in $(seq 1 "$workers"); do cat "$jsonl.w$k"; done 2>/dev/null | grep -h '^{' >"$jsonl" || true
# utime + stime of redis-server, in clock ticks.
ticks=$(awk '{print $14 + $15}' "/proc/$redis_pid/stat")
hz=$(getconf CLK_TCK)
trips=$(grep -ho 'round trips to redis: [0-9]*' "$jsonl".w*.log | awk '{s += $NF} END {print s + 0}')
echo "workers=$workers round_trips=$trips redis_cpu_s=$(python3 -c "print($ticks / $hz)")" \
  >"$(dirname "$jsonl")/round_trips.txt"
exit "$rc"
