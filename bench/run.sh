#!/usr/bin/env bash
# Runs every benchmark RUNS times (default 3) against the built agent and
# prints one JSON object per run; take medians across runs (this machine is
# shared and noisy). Needs root. Usage: bench/run.sh [BUILD_DIR]
set -euo pipefail
build=${1:-build}
runs=${RUNS:-3}
export BALLASTD_PATH="$build/apps/ballastd"
for b in latency churn event_path soak scale; do
  for ((i = 1; i <= runs; i++)); do
    "$build/bench/agent_bench" "$b"
  done
done
