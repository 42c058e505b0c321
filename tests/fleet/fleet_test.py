#!/usr/bin/python3
"""Test `fleet`: three agents, each in its own network namespace with mutual
TLS on its control port, and a coordinator on the host (see fleet_lib.py).

1. Every agent is up at the coordinator.
2. A config applied fleet-wide is confirmed by every agent (the same new
   config hash on each, asked directly over TLS).
3. kill -9 of one agent is reported within 2 s; restarted, it is back.
4. A SIGSTOPped agent is noticed within 2 s; SIGCONT, it is back.
5. A staged rollout whose canary gets worse (CPU hogs started in its watched
   subtree during the window) is reverted: the canary has its previous config
   again and the other agents never received the new one.
Prints the figures (times to notice) and exits 1 on the first failure.
Needs root (netns, BPF, cgroupfs)."""
import argparse
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fleet_lib import Fleet  # noqa: E402


def figure(name, value):
    print(f"FIGURE {name}={value}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", required=True)
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("SKIP: the fleet test makes network namespaces and loads BPF: it needs root")
        return 0
    fleet = Fleet(args.build_dir, 3)
    try:
        fleet.start()
        figure("all_up_s", round(fleet.wait("all three agents up", fleet.all_up, 30), 2))

        def hash_of(i):
            code, out, err = fleet.ctl("status", host=fleet.agent(i), timeout="3s")
            assert code == 0, f"status of agent {i}: {err}"
            return out["config_hash"]

        # 2. fleet-wide apply
        before = {i: hash_of(i) for i in (1, 2, 3)}
        cfg = os.path.join(fleet.tmp, "fleet-wide.json")
        json.dump({"policies": [{"name": "telemetry", "type": "telemetry", "interval": "2s"}],
                   "watch": {"include": ["/ballast-fleet-*/**"]}}, open(cfg, "w"))
        code, out, err = fleet.ctl("rollout", cfg)
        assert code == 0 and out["rollout"] == "applied", f"fleet-wide apply: {code} {out} {err}"
        assert sorted(a["outcome"] for a in out["agents"]) == ["applied"] * 3, out
        def runs_new_config(i):
            code, out, err = fleet.ctl("policies", host=fleet.agent(i), timeout="3s")
            return hash_of(i) != before[i] and code == 0 and [p["interval_ms"] for p in out] == [2000]
        applied = fleet.wait("every agent reports the new config",
                             lambda: all(runs_new_config(i) for i in (1, 2, 3)), 10)
        figure("apply_confirmed_s", round(applied, 2))

        # 3. kill -9 and restart
        os.kill(fleet.agent_pid(2), signal.SIGKILL)
        fleet.procs[2].wait()
        t = fleet.wait("the killed agent is reported down",
                       lambda: not fleet.fleet().get(fleet.agent(2), {"up": True})["up"], 2)
        figure("kill9_noticed_s", round(t, 2))
        fleet.start_agent(2)
        figure("restart_back_s", round(fleet.wait("the restarted agent is back", fleet.all_up, 15), 2))

        # 4. SIGSTOP / SIGCONT
        os.kill(fleet.agent_pid(3), signal.SIGSTOP)
        t0 = time.monotonic()
        fleet.wait("the stopped agent is reported down",
                   lambda: not fleet.fleet().get(fleet.agent(3), {"up": True})["up"], 3)
        noticed = time.monotonic() - t0
        figure("sigstop_noticed_s", round(noticed, 2))
        assert noticed <= 2.0, f"a SIGSTOPped agent was noticed after {noticed:.2f} s, not within 2 s"
        os.kill(fleet.agent_pid(3), signal.SIGCONT)
        figure("sigcont_back_s", round(fleet.wait("the continued agent is back", fleet.all_up, 15), 2))

        # 5. a canary that gets worse is reverted; the rest never get it
        hashes = {i: hash_of(i) for i in (1, 2, 3)}
        canary = min(range(1, 4), key=lambda i: fleet.agent(i))  # the coordinator's first
        bad = os.path.join(fleet.tmp, "canary.json")
        json.dump({"policies": [{"name": "telemetry", "type": "telemetry", "interval": "3s"}],
                   "watch": {"include": ["/ballast-fleet-*/**"]}}, open(bad, "w"))
        rollout = subprocess.Popen(
            [f"{fleet.build}/apps/ballastctl", "--host", f"127.0.0.1:{fleet.ctl_port}", "--timeout", "60s",
             "-o", "json"] + fleet.tls() + ["rollout", bad, "--canaries", "1", "--window", "8s"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        hog_cg = fleet.root + fleet.subtree(canary) + "/hog"
        os.mkdir(hog_cg)
        hogs = []
        for _ in range(6):
            def enter():
                with open(os.path.join(hog_cg, "cgroup.procs"), "w") as f:
                    f.write(str(os.getpid()))
            hogs.append(subprocess.Popen(["/bin/sh", "-c", "while :; do :; done"], preexec_fn=enter))
        out, err = rollout.communicate(timeout=90)
        for h in hogs:
            h.kill()
            h.wait()
        result = json.loads(out) if out.strip() else {}
        print("rollout:", json.dumps(result), err.strip(), flush=True)
        assert result.get("rollout") == "reverted", f"the worse canary was not reverted: {result} {err}"
        outcomes = {a["agent"]: a["outcome"] for a in result["agents"]}
        assert outcomes[fleet.agent(canary)] == "reverted", outcomes
        for i in (1, 2, 3):
            if i != canary:
                assert outcomes[fleet.agent(i)] == "skipped", outcomes
        fleet.wait("the canary has its previous config again", lambda: hash_of(canary) == hashes[canary], 10)
        for i in (1, 2, 3):
            assert hash_of(i) == hashes[i], f"agent {i} config changed by a reverted rollout"
        print("PASS", flush=True)
        return 0
    except Exception as e:  # noqa: BLE001 - report anything with the logs
        print(f"FAIL: {e}", flush=True)
        print(fleet.logs(), flush=True)
        return 1
    finally:
        fleet.close()


if __name__ == "__main__":
    sys.exit(main())
