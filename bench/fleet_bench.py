#!/usr/bin/python3
"""Fleet benchmark: a coordinator and N agents (default 16), each in its own
network namespace with mutual TLS (tests/fleet/fleet_lib.py), on this machine.
Prints one JSON object:
  apply_ms p50/p99: fleet-wide apply round trip as the coordinator measures it
    (request in, every agent's answer back), over RUNS applies alternating
    two configs;
  fanout_ms p50/p99: `cgroups` through the coordinator (a request to every
    agent, answers merged) minus `status` (answered from the coordinator's
    heartbeat cache), both timed around ballastctl;
  connect_s: coordinator start to every agent up.
Needs root.  bench/fleet_bench.py [--agents N] [--runs R] [--build-dir build]"""
import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fleet"))
from fleet_lib import Fleet  # noqa: E402


def pct(values, q):
    v = sorted(values)
    return round(v[min(len(v) - 1, int(q * len(v)))], 2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--agents", type=int, default=16)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--build-dir", default="build")
    a = ap.parse_args()
    fleet = Fleet(os.path.abspath(a.build_dir), a.agents, prefix="fb")
    try:
        fleet.start()
        connect = fleet.wait("every agent up", fleet.all_up, 60)
        configs = []
        for i, interval in enumerate(("2s", "3s")):
            path = os.path.join(fleet.tmp, f"bench-{i}.json")
            json.dump({"watch": {"include": ["/ballast-fleet-*/**"]},
                       "policies": [{"name": "telemetry", "type": "telemetry", "interval": interval}]},
                      open(path, "w"))
            configs.append(path)
        apply_ms = []
        for r in range(a.runs):
            code, out, err = fleet.ctl("rollout", configs[r % 2])
            if code != 0 or out["rollout"] != "applied":
                raise SystemExit(f"apply {r}: {code} {out} {err}")
            apply_ms.append(out["elapsed_us"] / 1000)
        fanout_ms, status_ms = [], []
        for _ in range(a.runs):
            t0 = time.monotonic()
            assert fleet.ctl("cgroups")[0] == 0
            t1 = time.monotonic()
            assert fleet.ctl("status")[0] == 0
            t2 = time.monotonic()
            fanout_ms.append((t1 - t0) * 1000)
            status_ms.append((t2 - t1) * 1000)
        print(json.dumps({
            "agents": a.agents, "runs": a.runs, "connect_s": round(connect, 2),
            "apply_ms_p50": pct(apply_ms, 0.5), "apply_ms_p99": pct(apply_ms, 0.99),
            "cgroups_via_coordinator_ms_p50": pct(fanout_ms, 0.5),
            "status_via_coordinator_ms_p50": pct(status_ms, 0.5),
            "fanout_ms_p50": round(statistics.median(fanout_ms) - statistics.median(status_ms), 2),
            "fanout_ms_p99": round(pct(fanout_ms, 0.99) - statistics.median(status_ms), 2)}))
        return 0
    finally:
        fleet.close()


if __name__ == "__main__":
    sys.exit(main())
