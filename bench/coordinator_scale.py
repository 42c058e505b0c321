#!/usr/bin/python3
"""Coordinator at scale: one ballast-coordinator holding N agent links
(default 1,000) to bench/fleet_load, N stub agents in one process that speak
the agent protocol over real CAF connections on loopback. Prints one JSON
object:
  connect_s: coordinator start to every agent up;
  cpu_percent_of_one_core, rss_mib: the coordinator over --seconds of
    heartbeats (a status request to every agent every 250 ms);
  heartbeat_p50_ms/p99_ms: request to answer, from its
    ballast_coordinator_heartbeat_seconds over that window;
  rollout_ms p50/p99: a fleet-wide apply to all N (RUNS times);
  dead_noticed_s: kill -9 of the load generator to every agent marked down.
Needs nothing but loopback.  bench/coordinator_scale.py [--agents N] [--seconds S]
[--runs R] [--build-dir build]"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request


def scrape(port):
    try:
        return urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    except OSError:
        return ""


def values(text, name):
    """(labels, value) of every sample of NAME."""
    out = []
    for line in text.splitlines():
        if line.startswith(name) and not line.startswith("#"):
            key, _, v = line.rpartition(" ")
            if key == name or key.startswith(name + "{"):
                out.append((key[len(name):], float(v)))
    return out


def agents_up(text):
    return sum(v for _, v in values(text, "ballast_coordinator_agent_up"))


def buckets(text, name):
    out = []
    for labels, v in values(text, name + "_bucket"):
        le = labels.split('le="')[1].split('"')[0]
        out.append((float("inf") if le == "+Inf" else float(le), v))
    return sorted(out)


def quantile(q, before, after):
    """histogram_quantile over the increase between two scrapes."""
    inc = [(le, a - b) for (le, a), (_, b) in zip(after, before)]
    total = inc[-1][1]
    if total <= 0:
        return 0.0
    rank, lower, below = q * total, 0.0, 0.0
    for le, count in inc:
        if count >= rank:
            upper = le if le != float("inf") else lower
            return lower + (upper - lower) * (rank - below) / max(1.0, count - below)
        lower, below = le, count
    return lower


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0


def wait(what, pred, limit):
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        if pred():
            return time.monotonic() - t0
        time.sleep(0.05)
    raise SystemExit(f"{what}: not within {limit} s")


def pct(values, q):
    v = sorted(values)
    return round(v[min(len(v) - 1, int(q * len(v)))], 2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--agents", type=int, default=1000)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--base-port", type=int, default=30000)
    ap.add_argument("--build-dir", default="build")
    a = ap.parse_args()
    build = os.path.abspath(a.build_dir)
    tmp = tempfile.mkdtemp(prefix="ballast-coord-scale-")
    procs = []
    try:
        load = subprocess.Popen([f"{build}/bench/fleet_load", "--agents", str(a.agents),
                                 "--base-port", str(a.base_port)], stdout=subprocess.PIPE, text=True)
        procs.append(load)
        if load.stdout.readline().strip() != "ready":
            raise SystemExit("fleet_load did not start")
        agents_file = os.path.join(tmp, "agents")
        with open(agents_file, "w") as f:
            for i in range(a.agents):
                f.write(f"127.0.0.1:{a.base_port + i}\n")
        ctl_port, metrics_port = a.base_port - 2, a.base_port - 1
        t0 = time.monotonic()
        coord = subprocess.Popen([f"{build}/apps/ballast-coordinator", "--agents-file", agents_file,
                                  "--listen", f"127.0.0.1:{ctl_port}", "--metrics", f"127.0.0.1:{metrics_port}",
                                  "--cookie", os.path.join(tmp, "coordinator.cookie"), "--log-level", "warn"],
                                 stdout=open(os.path.join(tmp, "coordinator.log"), "w"), stderr=subprocess.STDOUT)
        procs.append(coord)
        wait("every agent up", lambda: agents_up(scrape(metrics_port)) == a.agents, 300)
        connect_s = time.monotonic() - t0
        time.sleep(2)
        before, cpu0, w0 = scrape(metrics_port), cpu_seconds(coord.pid), time.monotonic()
        time.sleep(a.seconds)
        after, cpu1, w1 = scrape(metrics_port), cpu_seconds(coord.pid), time.monotonic()
        hb_b = buckets(before, "ballast_coordinator_heartbeat_seconds")
        hb_a = buckets(after, "ballast_coordinator_heartbeat_seconds")
        config = os.path.join(tmp, "config.json")
        json.dump({"policies": [{"name": "telemetry", "type": "telemetry", "interval": "2s"}]}, open(config, "w"))
        rollout_ms = []
        for _ in range(a.runs):
            r = subprocess.run([f"{build}/apps/ballastctl", "--host", f"127.0.0.1:{ctl_port}", "--timeout", "60s",
                                "--cookie", os.path.join(tmp, "coordinator.cookie"), "-o", "json",
                                "rollout", config], capture_output=True, text=True)
            out = json.loads(r.stdout or "{}")
            if out.get("rollout") != "applied":
                raise SystemExit(f"rollout: {r.returncode} {r.stdout[:300]} {r.stderr[:300]}")
            rollout_ms.append(out["elapsed_us"] / 1000)
        rss = rss_mib(coord.pid)
        t_kill = time.monotonic()
        load.send_signal(signal.SIGKILL)
        load.wait()
        noticed = wait("every agent down", lambda: agents_up(scrape(metrics_port)) == 0, 60)
        print(json.dumps({
            "benchmark": "coordinator_scale", "agents": a.agents, "connect_s": round(connect_s, 2),
            "measured_s": a.seconds,
            "cpu_percent_of_one_core": round(100 * (cpu1 - cpu0) / (w1 - w0), 1),
            "rss_mib": round(rss, 1),
            "heartbeat_p50_ms": round(quantile(0.5, hb_b, hb_a) * 1000, 2),
            "heartbeat_p99_ms": round(quantile(0.99, hb_b, hb_a) * 1000, 2),
            "heartbeats": hb_a[-1][1] - hb_b[-1][1] if hb_a else 0,
            "rollout_ms": {"p50": pct(rollout_ms, 0.5), "p99": pct(rollout_ms, 0.99), "runs": a.runs},
            "dead_noticed_s": round(noticed, 2)}))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()


if __name__ == "__main__":
    sys.exit(main())
