#!/usr/bin/python3
"""deploy_daemonset: parses deploy/kubernetes/ballastd-daemonset.yaml (python3-yaml) and
checks what the agent needs and no more: namespace ballast, hostPID, a container that is
not privileged, drops ALL and adds exactly BPF PERFMON SYS_ADMIN KILL, the hostPath
mounts (/sys/fs/cgroup rw, /sys/kernel/btf ro, /run/ballast rw), the ConfigMap at
/etc/ballast, the scrape annotations on the pod, resources, a liveness probe on /metrics
at the metrics port, and that the ConfigMap's ballastd.json passes
`ballastd --check-config` and listens on 0.0.0.0:9464.

usage: check_daemonset.py MANIFEST BALLASTD
"""
import json
import subprocess
import sys
import tempfile

try:
    import yaml
except ImportError:
    sys.exit("python3-yaml is missing (apt-get install python3-yaml; deploy/dev.sh installs it)")

manifest, ballastd = sys.argv[1], sys.argv[2]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


with open(manifest) as f:
    docs = [d for d in yaml.safe_load_all(f) if d]
by_kind = {}
for d in docs:
    by_kind.setdefault(d["kind"], []).append(d)
for kind in ("Namespace", "ConfigMap", "DaemonSet"):
    check(len(by_kind.get(kind, [])) == 1, f"exactly one {kind}")
if failures:
    sys.exit("FAIL: " + "; ".join(failures))

ns, cm, ds = by_kind["Namespace"][0], by_kind["ConfigMap"][0], by_kind["DaemonSet"][0]
check(ns["metadata"]["name"] == "ballast", "Namespace is ballast")
check(cm["metadata"].get("namespace") == "ballast", "ConfigMap in namespace ballast")
check(ds["metadata"].get("namespace") == "ballast", "DaemonSet in namespace ballast")
check(ds["apiVersion"] == "apps/v1", "DaemonSet apiVersion apps/v1")

spec = ds["spec"]
tmpl = spec["template"]
check(spec["selector"]["matchLabels"].items() <= tmpl["metadata"]["labels"].items(),
      "selector matches the pod template's labels")
ann = tmpl["metadata"].get("annotations", {})
check(ann.get("prometheus.io/scrape") == "true", 'annotation prometheus.io/scrape: "true" (a string)')
check(ann.get("prometheus.io/port") == "9464", 'annotation prometheus.io/port: "9464" (a string)')

pod = tmpl["spec"]
check(pod.get("hostPID") is True, "hostPID: true")
check(not pod.get("hostNetwork"), "no hostNetwork")
containers = pod["containers"]
check(len(containers) == 1, "one container")
c = containers[0]
check(c.get("command", [])[:1] == ["/usr/sbin/ballastd"], "command runs /usr/sbin/ballastd")
check("--config" in c.get("command", []) and
      c["command"][c["command"].index("--config") + 1] == "/etc/ballast/ballastd.json",
      "command passes --config /etc/ballast/ballastd.json")

sc = c.get("securityContext", {})
check(sc.get("privileged") is False, "privileged: false")
check(sc.get("allowPrivilegeEscalation") is False, "allowPrivilegeEscalation: false")
caps = sc.get("capabilities", {})
check(caps.get("drop") == ["ALL"], "capabilities.drop is [ALL]")
added = caps.get("add", [])
check(len(added) == len(set(added)) and set(added) == {"BPF", "PERFMON", "SYS_ADMIN", "KILL"},
      f"capabilities.add is exactly BPF PERFMON SYS_ADMIN KILL (is {added})")
check(not pod.get("securityContext", {}).get("privileged"), "no pod-level privilege")

ports = {p.get("name"): p for p in c.get("ports", [])}
check(ports.get("metrics", {}).get("containerPort") == 9464, "container port metrics: 9464")

res = c.get("resources", {})
for kind in ("requests", "limits"):
    for r in ("cpu", "memory"):
        check(r in res.get(kind, {}), f"resources.{kind}.{r}")

probe = c.get("livenessProbe", {}).get("httpGet", {})
check(probe.get("path") == "/metrics", "livenessProbe httpGet path /metrics")
check(probe.get("port") in ("metrics", 9464), "livenessProbe on the metrics port")

volumes = {v["name"]: v for v in pod.get("volumes", [])}
mounts = {m["mountPath"]: m for m in c.get("volumeMounts", [])}


def host_mount(path, read_only):
    m = mounts.get(path)
    check(m is not None, f"a volumeMount at {path}")
    if m is None:
        return
    v = volumes.get(m["name"], {})
    check(v.get("hostPath", {}).get("path") == path, f"{path} is the hostPath {path}")
    check(bool(m.get("readOnly", False)) == read_only, f"{path} mounted {'ro' if read_only else 'rw'}")


host_mount("/sys/fs/cgroup", False)
host_mount("/sys/kernel/btf", True)
host_mount("/run/ballast", False)
cfg_mount = mounts.get("/etc/ballast")
check(cfg_mount is not None, "a volumeMount at /etc/ballast")
if cfg_mount:
    check(volumes.get(cfg_mount["name"], {}).get("configMap", {}).get("name") == cm["metadata"]["name"],
          "/etc/ballast is the ConfigMap")
check(set(mounts) == {"/sys/fs/cgroup", "/sys/kernel/btf", "/run/ballast", "/etc/ballast"},
      f"no other mounts (has {sorted(mounts)})")

text = cm.get("data", {}).get("ballastd.json")
check(text is not None, "ConfigMap has ballastd.json")
if text is not None:
    config = json.loads(text)
    check(config.get("metrics", {}).get("listen") == "0.0.0.0:9464",
          "config metrics.listen is 0.0.0.0:9464 (the default 127.0.0.1 cannot be scraped)")
    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        f.write(text)
        f.flush()
        r = subprocess.run([ballastd, "--check-config", f.name], capture_output=True, text=True)
        check(r.returncode == 0, f"ballastd --check-config on the ConfigMap: {r.stdout}{r.stderr}")

if failures:
    print("FAIL:\n  " + "\n  ".join(failures))
    sys.exit(1)
print("ok: DaemonSet manifest")
