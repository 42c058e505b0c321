#!/usr/bin/python3
"""Sched source overhead: what the agent's sched source costs a context-switch
heavy workload. For each workload (ballast-schedload pingpong: two processes
passing a byte over pipes, pinned to one CPU; fanout: hackbench-like, 8 senders to 8 receivers)
it alternates, RUNS times, three settings in the same run: no agent, ballastd
with "sched": {"enabled": false} (the agent's own cost, the reference), and
ballastd with the sched source on. Prints one JSON object: the workload's
operations per second, median over the runs, per setting, and the slowdown in
% of the sched source against no agent and against the agent without it
(target <= 2%). Needs root.
  bench/sched_overhead.py [--runs R] [--seconds S] [--build-dir build]"""
import argparse
import json
import os
import re
import statistics
import subprocess
import tempfile
import time
import urllib.request

PORT = 9479


# The ping-pong runs pinned to one CPU: every hop is then a context switch
# on that CPU (unpinned, where the two processes landed varied its rate 3x
# between runs here).
PINNED = {"pingpong": ["taskset", "-c", "0"], "fanout": []}


def ops_per_s(schedload, mode, seconds):
    out = subprocess.run(PINNED[mode] + [schedload, mode, str(seconds)], check=True,
                         capture_output=True, text=True)
    return float(re.search(r"ops_per_s=([0-9.]+)", out.stdout.splitlines()[-1]).group(1))


def sched_reading(url):
    """True once the sched source has read its maps (or the agent answers, without it)."""
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            page = r.read().decode()
    except OSError:
        return None
    busy = re.findall(r"^ballast_cpu_busy_seconds_total\{[^}]*\} (\S+)", page, re.M)
    return any(float(v) > 0 for v in busy)


class agent:
    def __init__(self, ballastd, sched, workdir):
        config = {"metrics": {"listen": f"127.0.0.1:{PORT}"},
                  "journal": os.path.join(workdir, "journal"),
                  "watch": {"include": ["/**"]},
                  "sched": {"enabled": sched}}
        path = os.path.join(workdir, "config.json")
        with open(path, "w") as f:
            json.dump(config, f)
        self.proc = subprocess.Popen([ballastd, "--config", path, "--log-level", "warn"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        url = f"http://127.0.0.1:{PORT}/metrics"
        while (state := sched_reading(url)) is None or (sched and not state):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.stop()
                raise RuntimeError("ballastd did not come up")
            time.sleep(0.1)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--seconds", type=int, default=5)
    p.add_argument("--build-dir", default="build")
    a = p.parse_args()
    ballastd = os.path.join(a.build_dir, "apps", "ballastd")
    schedload = os.path.join(a.build_dir, "tests", "ballast-schedload")
    result = {"runs": a.runs, "seconds": a.seconds, "workloads": {}}
    with tempfile.TemporaryDirectory() as workdir:
        for mode in ("pingpong", "fanout"):
            runs = {"no_agent": [], "agent_without_sched": [], "agent_with_sched": []}
            for _ in range(a.runs):
                runs["no_agent"].append(ops_per_s(schedload, mode, a.seconds))
                for name, sched in (("agent_without_sched", False), ("agent_with_sched", True)):
                    running = agent(ballastd, sched, workdir)
                    try:
                        runs[name].append(ops_per_s(schedload, mode, a.seconds))
                    finally:
                        running.stop()
            med = {k: statistics.median(v) for k, v in runs.items()}
            result["workloads"][mode] = {
                "ops_per_s_median": med,
                "ops_per_s_runs": runs,
                "slowdown_pct_vs_no_agent":
                    round(100 * (1 - med["agent_with_sched"] / med["no_agent"]), 2),
                "slowdown_pct_vs_agent_without_sched":
                    round(100 * (1 - med["agent_with_sched"] / med["agent_without_sched"]), 2),
                # Each run's settings ran one after the other: the median of
                # the runs' own slowdowns leaves out more of the host's drift
                # (rates here move 20% between runs) than a ratio of medians.
                "paired_slowdown_pct_vs_agent_without_sched":
                    round(statistics.median(
                        100 * (1 - w / wo) for w, wo in
                        zip(runs["agent_with_sched"], runs["agent_without_sched"])), 2),
            }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
