#!/usr/bin/python3
"""Test `prom`: the dashboards and deploy/prometheus/ against a real Prometheus.

1. The dashboard JSON: schema version, datasource variable, the instance and
   cgroup variables, a unit and a description on every panel, PromQL targets.
2. `promtool check config` and `promtool check rules` on deploy/prometheus/.
3. Starts ballastd (BALLASTD_PATH) on a free loopback port with a temp journal,
   watching everything with telemetry every 1 s, and a load: a fresh cgroup
   under the cgroup2 mount with a process in it that keeps exec'ing.
4. Starts Prometheus (Debian's package) on a free loopback port with a temp
   storage dir, the shipped scrape config rewritten to point at the agent with
   a 1 s interval, and the shipped rules; waits for several scrapes.
5. Sends every PromQL expression of every panel (and the variables' queries)
   to /api/v1/query: each must parse and return at least one series. The only
   exceptions are listed in OPTIONAL with the condition under which the agent
   legitimately exports no series; a metric the agent does not export at all
   fails. Every rule must be loaded and evaluated with health "ok".
Everything started is cleaned up, also on failure (children get
PR_SET_PDEATHSIG, stale test cgroups are removed on the next run).
Needs root (BPF, cgroupfs).
"""
import argparse
import ctypes
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

import yaml

DEADLINE_S = 55          # whole test; CTest's TIMEOUT is 90
CGROUP_PREFIX = "ballast-prom-test-"
# Series Prometheus adds itself for every target.
PROMETHEUS_BUILTIN = {"up", "scrape_duration_seconds", "scrape_samples_scraped",
                      "scrape_samples_post_metric_relabeling", "scrape_series_added"}
# Substitutions for Grafana's variables.
SUBST = {"$__rate_interval": "30s", "$__interval": "15s", "$__range": "1m",
         "${__rate_interval}": "30s", "${__interval}": "15s", "${__range}": "1m",
         "$instance": ".*", "${instance}": ".*", "$cgroup": ".*", "${cgroup}": ".*"}

failures = []
start = time.monotonic()


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg, flush=True)


def log(msg):
    print(f"[{time.monotonic() - start:5.1f}s] {msg}", flush=True)


def remaining():
    return DEADLINE_S - (time.monotonic() - start)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def die_with_parent():
    # The children are killed when this script is (CTest's timeout kills it hard).
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def http_get(url, timeout=3):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def cgroup2_mount():
    for line in open("/proc/self/mountinfo"):
        left, _, right = line.partition(" - ")
        if right.split()[0] == "cgroup2":
            return left.split()[4]
    raise SystemExit("no cgroup2 mount in /proc/self/mountinfo")


def remove_cgroup(path):
    for _ in range(50):
        try:
            os.rmdir(path)
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.1)
    print(f"warning: could not remove {path}", flush=True)


def remove_stale_cgroups(root):
    for name in os.listdir(root):
        if name.startswith(CGROUP_PREFIX):
            pid = name[len(CGROUP_PREFIX):]
            if not os.path.exists(f"/proc/{pid}"):
                path = os.path.join(root, name)
                for p in open(os.path.join(path, "cgroup.procs")).read().split():
                    try:
                        os.kill(int(p), signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                remove_cgroup(path)


# -- 1. the dashboard itself ---------------------------------------------------

def load_dashboard(path):
    d = json.load(open(path))
    name = os.path.basename(path)
    if d.get("schemaVersion", 0) < 37:
        fail(f"{name}: schemaVersion {d.get('schemaVersion')} < 37")
    variables = {v["name"]: v for v in d.get("templating", {}).get("list", [])}
    ds = variables.get("datasource")
    if not ds or ds.get("type") != "datasource" or ds.get("query") != "prometheus":
        fail(f"{name}: no 'datasource' variable of type datasource/prometheus")
    want_vars = {
        "instance": "label_values(ballast_build_info, instance)",
        "cgroup": 'label_values(ballast_cgroup_pressure_stall_seconds_total{instance=~"$instance"}, cgroup)',
    }
    var_queries = []
    for vname, q in want_vars.items():
        v = variables.get(vname)
        if not v:
            fail(f"{name}: no template variable '{vname}'")
            continue
        query = v.get("query")
        query = query.get("query") if isinstance(query, dict) else query
        if query != q:
            fail(f"{name}: variable {vname} query is {query!r}, want {q!r}")
        var_queries.append((vname, query))
    good_ds = {"type": "prometheus", "uid": "${datasource}"}
    panels, ids = [], set()

    def walk(ps):
        for p in ps:
            yield p
            yield from walk(p.get("panels", []))
    for p in walk(d.get("panels", [])):
        title = p.get("title", f"id {p.get('id')}")
        if p.get("id") in ids:
            fail(f"{name}: duplicate panel id {p.get('id')}")
        ids.add(p.get("id"))
        if "gridPos" not in p:
            fail(f"{name}: panel {title!r} has no gridPos")
        if p.get("type") == "row":
            continue
        if not p.get("description", "").strip():
            fail(f"{name}: panel {title!r} has no description")
        if not p.get("fieldConfig", {}).get("defaults", {}).get("unit"):
            fail(f"{name}: panel {title!r} has no unit")
        if p.get("datasource") != good_ds:
            fail(f"{name}: panel {title!r} datasource is {p.get('datasource')}, want {good_ds}")
        targets = p.get("targets", [])
        if not targets:
            fail(f"{name}: panel {title!r} has no targets")
        for t in targets:
            if not t.get("expr", "").strip():
                fail(f"{name}: panel {title!r} target {t.get('refId')} has no expr")
                continue
            if t.get("datasource", good_ds) != good_ds:
                fail(f"{name}: panel {title!r} target {t.get('refId')} has datasource {t.get('datasource')}")
            panels.append((title, t.get("refId"), t["expr"]))
    return var_queries, panels


def substitute(expr, cgroup=None):
    out = expr
    for k in sorted(SUBST, key=len, reverse=True):
        v = SUBST[k]
        if cgroup is not None and k in ("$cgroup", "${cgroup}"):
            # As Grafana does for a Prometheus regex, then quoted for PromQL.
            v = re.sub(r"([\\^$*+?.()|{}\[\]])", r"\\\\\1", cgroup)
        out = out.replace(k, v)
    if "$" in out.replace("$labels", ""):
        fail(f"unsubstituted variable in {out!r}")
    return out


def metric_names(expr):
    names = set(re.findall(r"\b(ballast_[a-z0-9_]+)", expr))
    names |= {n for n in re.findall(r"\b([a-z_]+)\s*\{", expr) if n in PROMETHEUS_BUILTIN}
    return names


def documented_metrics(readme):
    text = open(readme).read()
    section = text.split("### Metrics", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"`(ballast_[a-z0-9_]+)", section))


# -- the run ---------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source-dir", required=True)
    args = ap.parse_args()
    src = args.source_dir
    ballastd = os.environ.get("BALLASTD_PATH")
    if not ballastd or not os.access(ballastd, os.X_OK):
        raise SystemExit(f"BALLASTD_PATH={ballastd!r} is not an executable")
    if os.geteuid() != 0:
        raise SystemExit("needs root (BPF, cgroupfs)")
    for tool in ("prometheus", "promtool"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} not found: apt-get install prometheus (deploy/dev.sh does)")

    dashboards = sorted(os.path.join(src, "dashboards", f)
                        for f in os.listdir(os.path.join(src, "dashboards")) if f.endswith(".json"))
    if os.path.join(src, "dashboards", "ballast-host.json") not in dashboards:
        fail("dashboards/ballast-host.json is missing")
    var_queries, panel_exprs = [], []
    for path in dashboards:
        v, p = load_dashboard(path)
        var_queries += [(os.path.basename(path), *x) for x in v]
        panel_exprs += [(os.path.basename(path), *x) for x in p]
    log(f"{len(dashboards)} dashboard(s), {len(panel_exprs)} panel expressions")

    # 2. promtool
    prom_dir = os.path.join(src, "deploy", "prometheus")
    scrape_file = os.path.join(prom_dir, "prometheus.yml")
    rules_file = os.path.join(prom_dir, "ballast-rules.yml")
    for cmd in (["promtool", "check", "config", scrape_file], ["promtool", "check", "rules", rules_file]):
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
        if r.returncode != 0:
            fail(f"{' '.join(cmd)}: exit {r.returncode}\n{r.stdout}{r.stderr}")
        else:
            log(f"ok: {' '.join(cmd[:3])} {os.path.basename(cmd[3])}")
    rules_test = os.path.join(prom_dir, "ballast-rules.test.yml")
    if os.path.exists(rules_test):
        r = subprocess.run(["promtool", "test", "rules", rules_test], capture_output=True, text=True, timeout=20)
        if r.returncode != 0:
            fail(f"promtool test rules: exit {r.returncode}\n{r.stdout}{r.stderr}")
        else:
            log("ok: promtool test rules ballast-rules.test.yml")
    rules = yaml.safe_load(open(rules_file))
    rule_exprs = [(rule["alert"], rule["expr"]) for g in rules["groups"] for rule in g["rules"]]
    for want in ("BallastAgentDown", "BallastEventsLost", "BallastKnobRestoreFailed", "BallastSustainedPressure"):
        if want not in dict(rule_exprs):
            fail(f"ballast-rules.yml: no alert {want}")
    for g in rules["groups"]:
        for rule in g["rules"]:
            if not rule.get("labels", {}).get("severity"):
                fail(f"alert {rule['alert']}: no severity label")
            for a in ("summary", "description"):
                if not rule.get("annotations", {}).get(a):
                    fail(f"alert {rule['alert']}: no {a} annotation")

    root = cgroup2_mount()
    remove_stale_cgroups(root)
    tmp = tempfile.mkdtemp(prefix="ballast-prom-")
    procs = []
    cg = os.path.join(root, f"{CGROUP_PREFIX}{os.getpid()}")
    completed = False
    try:
        run(src, ballastd, tmp, procs, root, cg, scrape_file, rules_file,
            var_queries, panel_exprs, rule_exprs)
        completed = True
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in reversed(procs):
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if os.path.isdir(cg):
            for pid in open(os.path.join(cg, "cgroup.procs")).read().split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
            remove_cgroup(cg)
        if failures or not completed:
            for name in ("ballastd.log", "coordinator.log", "prometheus.log"):
                path = os.path.join(tmp, name)
                if os.path.exists(path):
                    print(f"--- last lines of {name}", flush=True)
                    print("".join(open(path).readlines()[-15:]), flush=True)
        shutil.rmtree(tmp, ignore_errors=True)
    log(f"done, {len(failures)} failure(s)")
    return 1 if failures else 0


def run(src, ballastd, tmp, procs, root, cg, scrape_file, rules_file,
        var_queries, panel_exprs, rule_exprs):
    # 3. the agent
    agent_port = free_port()
    control_port = free_port()
    agent_cfg = os.path.join(tmp, "ballastd.json")
    json.dump({"metrics": {"listen": f"127.0.0.1:{agent_port}"},
               "control": {"listen": f"127.0.0.1:{control_port}",
                           "cookie": os.path.join(tmp, "control.cookie")},
               "journal": os.path.join(tmp, "journal"),
               "watch": {"include": ["/**"], "exclude": []},
               "policies": [{"name": "telemetry", "type": "telemetry", "interval": "1s"},
                            # On the load's cgroup: the budget's state, and
                            # where the memory controller is on, its steps.
                            {"name": "budget", "type": "budget", "interval": "1s",
                             "select": {"cgroups": ["/" + CGROUP_PREFIX + "*"]},
                             "params": {"trace": "1"}}]},
              open(agent_cfg, "w"))
    agent_log = open(os.path.join(tmp, "ballastd.log"), "w")
    procs.append(subprocess.Popen([ballastd, "--config", agent_cfg], stdout=agent_log,
                                  stderr=subprocess.STDOUT, preexec_fn=die_with_parent))
    agent_url = f"http://127.0.0.1:{agent_port}/metrics"
    exposition = wait_for(lambda: http_get(agent_url), 10, "ballastd's /metrics", procs[-1])
    log(f"ballastd up on 127.0.0.1:{agent_port}")

    # A coordinator driving that agent, for the fleet dashboard.
    coordinator_port = free_port()
    coordinator = os.path.join(os.path.dirname(ballastd), "ballast-coordinator")
    procs.append(subprocess.Popen(
        [coordinator, "--agents", f"127.0.0.1:{control_port}", "--listen", f"127.0.0.1:{free_port()}",
         "--metrics", f"127.0.0.1:{coordinator_port}",
         "--cookie", os.path.join(tmp, "coordinator.cookie"),
         "--agent-cookie", os.path.join(tmp, "control.cookie")],
        stdout=open(os.path.join(tmp, "coordinator.log"), "w"), stderr=subprocess.STDOUT,
        preexec_fn=die_with_parent))
    wait_for(lambda: "ballast_coordinator_agent_up{agent" in (http_get(f"http://127.0.0.1:{coordinator_port}/metrics") or ""),
             10, "the coordinator's /metrics", procs[-1])

    # The load: a new cgroup (cgroup_mkdir) with a process in it (attach) that
    # keeps exec'ing and exiting (exec, exit), and uses a little CPU and memory.
    os.mkdir(cg)
    cgroup_name = "/" + os.path.relpath(cg, root)

    def enter_cgroup():
        die_with_parent()
        with open(os.path.join(cg, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))
    procs.append(subprocess.Popen(
        ["/bin/sh", "-c", "while :; do /bin/sleep 0.05; i=0; while [ $i -lt 300 ]; do i=$((i+1)); done; done"],
        preexec_fn=enter_cgroup))
    memory_on = os.path.exists(os.path.join(cg, "memory.current"))
    log(f"load in {cgroup_name} (memory controller {'on' if memory_on else 'off'})")

    # Metrics that legitimately have no series here, and why. Anything else
    # that returns nothing fails, as does a name the agent does not know.
    optional = {"ballast_claims": "no shipped policy holds a claim (telemetry only)"}
    if not memory_on:
        reason = f"the memory controller is not enabled on the cgroup2 mount {root}"
        optional["ballast_cgroup_memory_bytes"] = reason
        optional["ballast_cgroup_memory_events_total"] = reason
        for m in ("ballast_policy_measured", "ballast_policy_output_bytes", "ballast_policy_level",
                  "ballast_policy_decisions_total", "ballast_policy_refusals_total"):
            optional[m] = "memory policies step only where the memory controller is on: " + reason
    optional["ballast_policy_output_bytes"] = "the budget holds memory.high only at its throttle rung"
    optional["ballast_policy_refusals_total"] = "nothing was refused"
    optional["ballast_wss_estimate_bytes"] = "no wss_probe runs in this test"
    optional["ballast_policy_cpu_setting"] = "no CPU policy runs in this test (see the vm tests)"
    optional["ballast_policy_io_share"] = "no io_limit runs in this test (see the vm tests)"
    for m in ("ballast_job_refusals_total", "ballast_job_actions_total", "ballast_job_memory_bytes",
              "ballast_job_cpu_seconds_total"):
        optional[m] = "this test runs no job (see the host and vm jobs tests)"
    for m in ("ballast_cgroup_gpu_engine_seconds_total", "ballast_cgroup_gpu_memory_bytes"):
        optional[m] = "the test opens no GPU client (and this host may have no DRM device)"
    documented = documented_metrics(os.path.join(src, "README.md"))
    for m in optional:
        if m not in documented:
            fail(f"optional metric {m} is not in README.md's Metrics table")

    # 4. Prometheus, with the shipped scrape config pointed at the agent.
    prom_port = free_port()
    cfg = yaml.safe_load(open(scrape_file))
    cfg["global"]["scrape_interval"] = "1s"
    cfg["global"]["evaluation_interval"] = "1s"
    cfg["rule_files"] = [rules_file]
    jobs = [j for j in cfg["scrape_configs"] if j["job_name"] == "ballast"]
    if len(jobs) != 1:
        raise SystemExit("prometheus.yml: want exactly one job 'ballast'")
    job = jobs[0]
    job["scrape_interval"] = "1s"
    job["scrape_timeout"] = "1s"
    job["static_configs"] = [{"targets": [f"127.0.0.1:{agent_port}"]}]
    jobs = [j for j in cfg["scrape_configs"] if j["job_name"] == "ballast-coordinator"]
    if len(jobs) != 1:
        raise SystemExit("prometheus.yml: want exactly one job 'ballast-coordinator'")
    jobs[0]["scrape_interval"] = "1s"
    jobs[0]["scrape_timeout"] = "1s"
    jobs[0]["static_configs"] = [{"targets": [f"127.0.0.1:{coordinator_port}"]}]
    prom_cfg = os.path.join(tmp, "prometheus.yml")
    json.dump(cfg, open(prom_cfg, "w"))  # JSON is YAML
    prom_log = open(os.path.join(tmp, "prometheus.log"), "w")
    procs.append(subprocess.Popen(
        ["prometheus", f"--config.file={prom_cfg}", f"--storage.tsdb.path={tmp}/tsdb",
         f"--web.listen-address=127.0.0.1:{prom_port}", "--storage.tsdb.retention.time=1h",
         "--log.level=warn"],
        stdout=prom_log, stderr=subprocess.STDOUT, preexec_fn=die_with_parent, cwd=tmp))
    api = f"http://127.0.0.1:{prom_port}/api/v1"
    wait_for(lambda: http_get(f"http://127.0.0.1:{prom_port}/-/ready"), 15, "Prometheus ready", procs[-1])
    log(f"prometheus up on 127.0.0.1:{prom_port}")

    def query(expr):
        url = f"{api}/query?" + urllib.parse.urlencode({"query": expr})
        try:
            body = http_get(url)
        except urllib.error.HTTPError as e:
            body = e.read().decode()
        return json.loads(body)

    def series(expr):
        r = query(expr)
        return r.get("data", {}).get("result", []) if r.get("status") == "success" else []

    # Wait for several scrapes, for the test cgroup's telemetry (read at most
    # every 5 s) and for the load's processes.
    def ready():
        n = series('count_over_time(up{job="ballast"}[1m])')
        scrapes = int(float(n[0]["value"][1])) if n else 0
        cgs = series(f'ballast_cgroup_cpu_seconds_total{{cgroup="{cgroup_name}"}}')
        ps = series(f'ballast_process_cpu_seconds_total{{cgroup="{cgroup_name}"}}')
        cpu = series(f'count_over_time(ballast_cgroup_cpu_seconds_total{{cgroup="{cgroup_name}"}}[1m])')
        if scrapes >= 8 and cgs and ps and cpu and float(cpu[0]["value"][1]) >= 3:
            return scrapes
        return None
    scrapes = wait_for(ready, max(5, remaining() - 15), "8 scrapes with the test cgroup's telemetry")
    log(f"{scrapes} scrapes")

    scraped = {s["metric"]["__name__"] for s in series('group by (__name__) ({job="ballast"})')}
    exposition = http_get(agent_url)
    exposition += http_get(f"http://127.0.0.1:{coordinator_port}/metrics")
    exported = {line.split("{")[0].split()[0] for line in exposition.splitlines()
                if line and not line.startswith("#")}

    def known(name):
        return name in PROMETHEUS_BUILTIN or name in exported or name in optional

    # 5. the variables
    for dash, vname, q in var_queries:
        m = re.fullmatch(r"label_values\((.*),\s*(\w+)\)", q.strip())
        if not m:
            fail(f"{dash}: variable {vname}: cannot read {q!r}")
            continue
        expr = f"count by ({m.group(2)}) ({substitute(m.group(1))})"
        r = query(expr)
        values = [s["metric"].get(m.group(2)) for s in r.get("data", {}).get("result", [])]
        if r.get("status") != "success" or not any(values):
            fail(f"{dash}: variable {vname}: {expr} gave no values ({r.get('error', '')})")
        elif vname == "cgroup" and cgroup_name not in values:
            fail(f"{dash}: variable cgroup does not list the test cgroup {cgroup_name}: {values}")
        elif vname == "instance" and f"127.0.0.1:{agent_port}" not in values:
            fail(f"{dash}: variable instance does not list the agent: {values}")
        else:
            log(f"ok: variable {vname}: {len(values)} value(s)")

    # 5. every panel expression
    for dash, title, ref, expr in panel_exprs:
        names = metric_names(expr)
        unknown = [n for n in names if not known(n)]
        if unknown:
            fail(f"{dash}: {title!r} {ref}: the agent does not export {', '.join(unknown)}: {expr}")
            continue
        if not names:
            fail(f"{dash}: {title!r} {ref}: no metric in {expr}")
            continue
        opt = [n for n in names if n in optional]
        variants = [(".*", substitute(expr))]
        if "$cgroup" in expr or "${cgroup}" in expr:
            variants.append((cgroup_name, substitute(expr, cgroup=cgroup_name)))
        for cgv, e in variants:
            r = query(e)
            where = f"{dash}: {title!r} {ref} (cgroup {cgv})"
            if r.get("status") != "success":
                fail(f"{where}: {r.get('errorType')}: {r.get('error')}: {e}")
                continue
            n = len(r["data"]["result"])
            if n == 0 and opt:
                log(f"ok (no series, allowed: {optional[opt[0]]}): {where}")
            elif n == 0:
                fail(f"{where}: no series: {e}")
            else:
                log(f"ok ({n} series): {where}")

    # A check of the check: a name the agent does not export is caught.
    if known("ballast_no_such_metric_total") or series("ballast_no_such_metric_total"):
        fail("self-check: an unknown metric was not caught")

    # The rules: every metric they use exists, and all were loaded and evaluated.
    for alert, expr in rule_exprs:
        unknown = [n for n in metric_names(expr) if not known(n)]
        if unknown:
            fail(f"alert {alert}: the agent does not export {', '.join(unknown)}")
        r = query(expr)
        if r.get("status") != "success":
            fail(f"alert {alert}: {r.get('error')}")

    def rules_evaluated():
        r = json.loads(http_get(f"{api}/rules"))
        got = {rule["name"]: rule for g in r["data"]["groups"] for rule in g["rules"]}
        evaluated = [a for a, _ in rule_exprs
                     if not got.get(a, {}).get("lastEvaluation", "0001").startswith("0001")]
        return got if len(evaluated) == len(rule_exprs) else None
    got = wait_for(rules_evaluated, max(3, min(10, remaining())), "the rules evaluated")
    for alert, _ in rule_exprs:
        rule = got.get(alert)
        if not rule:
            fail(f"alert {alert}: not loaded by Prometheus")
        elif rule.get("health") != "ok":
            fail(f"alert {alert}: health {rule.get('health')}: {rule.get('lastError')}")
        elif alert == "BallastAgentDown" and rule.get("state") != "inactive":
            fail(f"alert {alert}: {rule.get('state')} although the agent is up")
    log(f"ok: {len(rule_exprs)} rules loaded and evaluated")
    if scraped - exported - PROMETHEUS_BUILTIN:
        log(f"note: scraped but not in the last exposition: {sorted(scraped - exported - PROMETHEUS_BUILTIN)}")


def wait_for(fn, timeout, what, proc=None):
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"{what}: the process exited with {proc.returncode}")
        try:
            v = fn()
            if v:
                return v
        except Exception as e:  # not up yet
            last = e
        time.sleep(0.3)
    raise SystemExit(f"timed out after {timeout:.0f}s waiting for {what} ({last})")


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("killed by SIGTERM"))
    try:
        rc = main()
    except SystemExit as e:
        if isinstance(e.code, str):
            print("FAIL:", e.code, flush=True)
            rc = 1
        else:
            rc = e.code or 0
    sys.exit(rc)
