"""A fleet on one machine: N ballastd agents, each in its own network
namespace (ip netns + a veth pair to the host), listening for control on the
namespace's address with mutual TLS, and a ballast-coordinator on the host.
Used by the `fleet` test and by bench/fleet_bench.py. Needs root.

Each agent watches its own cgroup subtree (/ballast-fleet-<pid>-<n>) and has
its own journal and metrics port, so agents on one kernel never touch each
other's cgroups. Everything made is removed by close(), also after a failure
(children get PR_SET_PDEATHSIG)."""
import ctypes
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

PR_SET_PDEATHSIG = 1


def die_with_parent():
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def sh(cmd, check=True):
    r = subprocess.run(cmd, shell=True, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"{cmd}: exit {r.returncode}: {r.stderr.strip()}")
    return r


def cgroup2_root():
    for line in open("/proc/self/mountinfo"):
        fields = line.split()
        sep = fields.index("-")
        if fields[sep + 1] == "cgroup2":
            return fields[4]
    raise RuntimeError("no cgroup2 mount")


class Fleet:
    def __init__(self, build_dir, agents, prefix="bf"):
        self.build = build_dir
        self.n = agents
        self.tag = f"{prefix}{os.getpid() % 10000}"
        self.tmp = tempfile.mkdtemp(prefix="ballast-fleet-")
        self.root = cgroup2_root()
        self.procs = {}          # agent index -> Popen
        self.coordinator = None
        self.netns = []
        self.cgroups = []
        self.ctl_port = 29000 + os.getpid() % 1000
        self._pki()

    # -- names -------------------------------------------------------------
    def ns(self, i):
        return f"{self.tag}-n{i}"

    def address(self, i):
        return f"10.{77 + (i // 250)}.{i % 250}.2"

    def agent(self, i):
        return f"{self.address(i)}:9465"

    def subtree(self, i):
        return f"/ballast-fleet-{os.getpid()}-{i}"

    def tls(self, who="client"):
        p = self.tmp
        return ["--tls-cert", f"{p}/{who}.pem", "--tls-key", f"{p}/{who}.key", "--tls-ca", f"{p}/ca.pem"]

    # -- set-up ------------------------------------------------------------
    def _pki(self):
        c = f"cd {self.tmp} && "
        sh(c + "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=ca -keyout ca.key -out ca.pem")
        for who in ("agent", "client"):
            sh(c + f"openssl req -newkey rsa:2048 -nodes -subj /CN={who} -keyout {who}.key -out {who}.csr"
               f" && openssl x509 -req -in {who}.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2"
               f" -out {who}.pem")

    def _network(self, i):
        ns, host_if, ns_if = self.ns(i), f"{self.tag}h{i}", f"{self.tag}n{i}"
        base = self.address(i).rsplit(".", 1)[0]
        sh(f"ip netns add {ns}")
        self.netns.append(ns)
        sh(f"ip link add {host_if} type veth peer name {ns_if} netns {ns}")
        sh(f"ip addr add {base}.1/24 dev {host_if} && ip link set {host_if} up")
        sh(f"ip -n {ns} addr add {base}.2/24 dev {ns_if} && ip -n {ns} link set {ns_if} up"
           f" && ip -n {ns} link set lo up")

    def config(self, i, policies=None, interval="1s"):
        p = self.tmp
        return {"metrics": {"listen": "127.0.0.1:9464"},
                "journal": f"{p}/journal-{i}",
                "control": {"listen": self.agent(i), "cookie": f"{p}/control-{i}.cookie",
                            "tls": {"certificate": f"{p}/agent.pem", "key": f"{p}/agent.key", "ca": f"{p}/ca.pem"}},
                "watch": {"include": [self.subtree(i) + "/**"]},
                "policies": policies if policies is not None else
                [{"name": "telemetry", "type": "telemetry", "interval": interval}]}

    def start_agent(self, i):
        path = f"{self.tmp}/agent-{i}.json"
        json.dump(self.config(i), open(path, "w"))
        log = open(f"{self.tmp}/agent-{i}.log", "a")
        self.procs[i] = subprocess.Popen(
            # nsenter, not `ip netns exec`: that one remounts /sys, which would
            # hide the cgroup2 mount under it.
            ["nsenter", f"--net=/run/netns/{self.ns(i)}", f"{self.build}/apps/ballastd", "--config", path],
            stdout=log, stderr=subprocess.STDOUT, preexec_fn=die_with_parent)

    def agent_pid(self, i):
        """The ballastd pid (nsenter execs it, so it is the Popen's)."""
        return self.procs[i].pid

    def start(self):
        for i in range(1, self.n + 1):
            os.mkdir(self.root + self.subtree(i))
            self.cgroups.append(self.root + self.subtree(i))
            self._network(i)
            self.start_agent(i)
        agents = ",".join(self.agent(i) for i in range(1, self.n + 1))
        log = open(f"{self.tmp}/coordinator.log", "w")
        self.coordinator = subprocess.Popen(
            [f"{self.build}/apps/ballast-coordinator", "--agents", agents,
             "--listen", f"127.0.0.1:{self.ctl_port}", "--metrics", f"127.0.0.1:{self.ctl_port + 1}",
             "--cookie", f"{self.tmp}/coordinator.cookie"]
            + self.tls(), stdout=log, stderr=subprocess.STDOUT, preexec_fn=die_with_parent)

    # -- talking to it -----------------------------------------------------
    def ctl(self, *args, host=None, timeout="30s"):
        host = host or f"127.0.0.1:{self.ctl_port}"
        r = subprocess.run([f"{self.build}/apps/ballastctl", "--host", host, "--timeout", timeout, "-o", "json"]
                           + self.tls() + list(args), capture_output=True, text=True)
        try:
            out = json.loads(r.stdout) if r.stdout.strip() else None
        except json.JSONDecodeError:
            out = None
        return r.returncode, out, r.stderr

    def fleet(self):
        code, out, err = self.ctl("fleet", timeout="3s")
        return {a["name"]: a for a in out["agents"]} if code == 0 and out else {}

    def wait(self, what, pred, limit):
        t0 = time.monotonic()
        while time.monotonic() - t0 < limit:
            if pred():
                return time.monotonic() - t0
            time.sleep(0.05)
        raise AssertionError(f"{what}: not true after {limit} s")

    def all_up(self):
        f = self.fleet()
        return len(f) == self.n and all(a["up"] for a in f.values())

    def logs(self):
        out = []
        for name in sorted(os.listdir(self.tmp)):
            if name.endswith(".log"):
                out.append(f"---- {name} ----\n" + open(os.path.join(self.tmp, name)).read()[-3000:])
        return "\n".join(out)

    # -- clean-up ----------------------------------------------------------
    def close(self):
        for p in list(self.procs.values()) + [self.coordinator]:
            if p and p.poll() is None:
                try:
                    os.kill(p.pid, signal.SIGCONT)
                    p.terminate()
                    p.wait(5)
                except Exception:
                    p.kill()
        for ns in self.netns:
            sh(f"ip netns del {ns}", check=False)
        for cg in reversed(self.cgroups):
            for child in sorted(os.listdir(cg)) if os.path.isdir(cg) else []:
                path = os.path.join(cg, child)
                if os.path.isdir(path):
                    for pid in open(os.path.join(path, "cgroup.procs")).read().split():
                        try:
                            os.kill(int(pid), signal.SIGKILL)
                        except ProcessLookupError:
                            pass
                    for _ in range(100):
                        try:
                            os.rmdir(path)
                            break
                        except OSError:
                            time.sleep(0.05)
            try:
                os.rmdir(cg)
            except OSError:
                pass
        shutil.rmtree(self.tmp, ignore_errors=True)
