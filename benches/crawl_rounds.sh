#!/usr/bin/env bash
# benches/crawl_rounds.sh SITE_DIR ROUNDS [NAME=CRAWL_BIN ...]
#
# Crawler against crawler, in rounds: serves SITE_DIR (a site made by ../shared/bench, e.g.
# /dev/shm/crawlbench-20000 after `../shared/bench/run_all.sh 20000`) with nginx on 127.0.0.1,
# then runs each named `crawl` binary and `wget2 -t10` in turn, ROUNDS times, through the bench's
# own peer scripts, and prints the median wall time, pages/s and CPU of each. Taking turns keeps
# the machine's drift (it is shared and noisy) out of the comparison, which running each peer
# ROUNDS times in a row (as run_all.sh does) does not.
#
# Default binaries: new=target/release/crawl. Example, against an older build:
#   benches/crawl_rounds.sh /dev/shm/crawlbench-20000 7 new=target/release/crawl old=/tmp/crawl-old
# A binary may take extra flags after `@` (passed as the peer script's CRAWL_ARGS, `{OUT}` being
# the run's own folder); a run that leaves a state folder at {OUT}/state gets its size printed,
# and one through benches/redis_workers.sh its Redis round trips per URL:
#   benches/crawl_rounds.sh /dev/shm/crawlbench-20000 7 off=target/release/crawl \
#     'state=target/release/crawl@--state {OUT}/state' 
set -euo pipefail
SITE=${1:?usage: crawl_rounds.sh SITE_DIR ROUNDS [NAME=CRAWL_BIN ...]}
ROUNDS=${2:?usage: crawl_rounds.sh SITE_DIR ROUNDS [NAME=CRAWL_BIN ...]}
shift 2
BINS=("$@")
((${#BINS[@]})) || BINS=("new=target/release/crawl")
BENCH=${BENCH:-$(cd "$(dirname "$0")/../../shared/bench" && pwd)}
# The site's links name the port it was generated for.
PORT=$(sed -n 's|^base=http://127.0.0.1:\([0-9]*\).*|\1|p' "$SITE/site_info.txt")
[[ -n $PORT ]] || { echo "crawl_rounds.sh: no base port in $SITE/site_info.txt" >&2; exit 2; }
RESULTS=$(mktemp /tmp/crawl-rounds.XXXXXX)

"$BENCH/serve.sh" "$SITE" "$PORT" >/dev/null
trap '"$BENCH/stop.sh" "$SITE" >/dev/null 2>&1 || true' EXIT
for _ in $(seq 1 "$ROUNDS"); do
  for spec in "${BINS[@]}"; do
    name=${spec%%=*}
    rest=${spec#*=}
    bin=$(realpath "${rest%%@*}")
    extra=""
    [[ $rest == *@* ]] && extra=${rest#*@}
    rm -rf "/tmp/crawl-rounds-$name"
    CRAWL_ARGS=$extra CRAWL_BIN=$bin "$BENCH/peers/crawl.sh" "$PORT" "$SITE" \
      "/tmp/crawl-rounds-$name" 2>/dev/null |
      grep '^peer=' | sed "s/^peer=[^ ]*/peer=$name/" >>"$RESULTS"
    if [[ -f /tmp/crawl-rounds-$name/round_trips.txt ]]; then
      urls=$(wc -l <"/tmp/crawl-rounds-$name/fetched.jsonl")
      echo "trips=$name urls=$urls $(cat "/tmp/crawl-rounds-$name/round_trips.txt")" >>"$RESULTS.trips"
    fi
    if [[ -d /tmp/crawl-rounds-$name/state ]]; then
      bytes=$(du -sb "/tmp/crawl-rounds-$name/state" | cut -f1)
      urls=$(wc -l <"/tmp/crawl-rounds-$name/fetched.jsonl")
      echo "state=$name bytes=$bytes urls=$urls" >>"$RESULTS.state"
    fi
  done
  # wget2 exits 8 on the site's 404s, as run_all.sh notes.
  "$BENCH/peers/wget2.sh" "$PORT" "$SITE" /tmp/crawl-rounds-wget2 10 2>/dev/null |
    grep '^peer=' >>"$RESULTS" || true
done

python3 - "$RESULTS" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    fields = dict(f.split("=", 1) for f in line.split() if "=" in f)
    runs.setdefault(fields["peer"], []).append(fields)
print("| peer | rounds | median wall s | pages/s | median CPU s | missing | extra |")
print("|---|---|---|---|---|---|---|")
for peer, rs in runs.items():
    wall = statistics.median(float(r["wall_s"]) for r in rs)
    cpu = statistics.median(float(r["cpu_s"]) for r in rs)
    pages = int(rs[0]["pages"])
    missing = ",".join(sorted({r["missing"] for r in rs}))
    extra = ",".join(sorted({r["extra"] for r in rs}))
    print(f"| {peer} | {len(rs)} | {wall:.3f} | {pages / wall:,.0f} | {cpu:.2f} | {missing} | {extra} |")
PY
if [[ -f $RESULTS.state ]]; then
  python3 - "$RESULTS.state" <<'PY'
import statistics, sys
by = {}
for line in open(sys.argv[1]):
    f = dict(x.split("=", 1) for x in line.split())
    by.setdefault(f["state"], []).append(int(f["bytes"]) / int(f["urls"]))
for name, per_url in by.items():
    print(f"state of {name}: median {statistics.median(per_url):,.0f} bytes per URL")
PY
fi
if [[ -f $RESULTS.trips ]]; then
  python3 - "$RESULTS.trips" <<'PY'
import statistics, sys
by = {}
for line in open(sys.argv[1]):
    f = dict(x.split("=", 1) for x in line.split())
    by.setdefault(f["trips"], []).append(f)
for name, rs in by.items():
    per_url = statistics.median(int(r["round_trips"]) / max(int(r["urls"]), 1) for r in rs)
    cpu = statistics.median(float(r["redis_cpu_s"]) for r in rs)
    print(f"redis of {name}: median {per_url:.3f} round trips per URL, redis-server CPU {cpu:.2f} s")
PY
fi
echo "raw lines: $RESULTS"
