#!/usr/bin/env bash
# Runs each libFuzzer target of tests/fuzz for SECONDS (default 300) from its
# checked-in seeds and prints one JSON object per target: executions, their
# rate and libFuzzer's final coverage (cov: edges, ft: features). New inputs go
# to a scratch dir, never to the checked-in corpus; a crash is kept in
# BUILD_DIR/tests/fuzz/bench/ and reported as "crash". Build first with
# deploy/dev.sh fuzz. Usage: bench/fuzz.sh [SECONDS] [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-300}
build=${2:-build-fuzz}
bin="$build/tests/fuzz"
if ! ls "$bin"/fuzz_* >/dev/null 2>&1; then
  echo "no fuzz targets in $bin: run deploy/dev.sh fuzz first" >&2
  exit 2
fi
out="$bin/bench"
mkdir -p "$out"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

for exe in "$bin"/fuzz_*; do
  name=${exe##*/fuzz_}
  mkdir -p "$scratch/$name"
  log="$out/$name.log"
  status=ok
  "$exe" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$out/$name-" "$scratch/$name" "tests/fuzz/corpus/$name" >"$log" 2>&1 ||
    status=crash
  final_stat() { local v; v=$(sed -n "s/^stat::$1: *//p" "$log"); echo "${v:-null}"; }
  last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1 || true)  # none if a seed crashes
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corpus=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
  printf '{"target": "%s", "seconds": %s, "result": "%s", "execs": %s, "execs_per_second": %s, "cov": %s, "ft": %s, "corpus": %s, "peak_rss_mb": %s}\n' \
    "$name" "$seconds" "$status" "$(final_stat number_of_executed_units)" \
    "$(final_stat average_exec_per_sec)" "${cov:-null}" "${ft:-null}" "${corpus:-null}" \
    "$(final_stat peak_rss_mb)"
done
