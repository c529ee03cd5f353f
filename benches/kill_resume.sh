#!/usr/bin/env bash
# benches/kill_resume.sh SITE_DIR [KILLS] [SEED]
#
# Kills `crawl --state` with SIGKILL KILLS times (default 4) at pseudo-random moments (SEED,
# default 1), then runs it to the end, against a site made by ../shared/bench (served by nginx on
# 127.0.0.1), and checks the JSONL against the site's expected URL list: every URL exactly once.
# Also prints the state's bytes per URL and counts the WARC's records with warcio (when
# target/warcio-venv exists: `cargo test -p crawl --test record` makes it).
set -euo pipefail
SITE=${1:?usage: kill_resume.sh SITE_DIR [KILLS] [SEED]}
KILLS=${2:-4}
SEED=${3:-1}
BENCH=${BENCH:-$(cd "$(dirname "$0")/../../shared/bench" && pwd)}
BIN=$(realpath target/release/crawl)
PORT=$(sed -n 's|^base=http://127.0.0.1:\([0-9]*\).*|\1|p' "$SITE/site_info.txt")
WORK=$(mktemp -d /tmp/kill-resume.XXXXXX)
"$BENCH/serve.sh" "$SITE" "$PORT" >/dev/null
trap '"$BENCH/stop.sh" "$SITE" >/dev/null 2>&1 || true' EXIT
RANDOM=$SEED
run() {
  "$BIN" --state "$WORK/state" --jsonl "$WORK/out.jsonl" --record "$WORK/out.warc.gz" -q \
    --ignore-robots "$@" "http://127.0.0.1:$PORT/"
}
for i in $(seq 1 "$KILLS"); do
  # `exec`, so that the pid killed is the crawl's, not a subshell's.
  (exec "$BIN" --state "$WORK/state" --jsonl "$WORK/out.jsonl" --record "$WORK/out.warc.gz" \
    -q --ignore-robots --report none "http://127.0.0.1:$PORT/") &
  pid=$!
  sleep "0.$((RANDOM % 900 + 100))"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "kill $i: $(wc -l <"$WORK/out.jsonl") lines in the JSONL"
done
run --report json >"$WORK/report.json"
python3 - "$WORK" "$SITE/expected.txt" <<'PY'
import json, os, sys
work, expected = sys.argv[1], sys.argv[2]
urls = [json.loads(line)["url"] for line in open(f"{work}/out.jsonl")]
want = {line.strip() for line in open(expected) if line.strip()}
twice = len(urls) - len(set(urls))
missing, extra = len(want - set(urls)), len(set(urls) - want)
state = sum(os.path.getsize(f"{work}/state/{f}") for f in os.listdir(f"{work}/state"))
report = json.load(open(f"{work}/report.json"))
print(f"final: {len(urls)} lines, {twice} twice, {missing} missing, {extra} extra; "
      f"report urls {report['urls']}, requests {report['requests']}; "
      f"state {state / len(set(urls)):,.0f} bytes per URL")
sys.exit(1 if twice or missing or extra else 0)
PY
if [[ -x target/warcio-venv/bin/python ]]; then
  target/warcio-venv/bin/python - "$WORK/out.warc.gz" <<'PY'
import sys
from warcio.archiveiterator import ArchiveIterator
with open(sys.argv[1], "rb") as f:
    n = sum(1 for _ in ArchiveIterator(f))
print(f"warcio read {n} records")
PY
fi
rm -rf "$WORK"
