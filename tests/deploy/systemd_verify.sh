#!/usr/bin/env bash
# deploy_systemd_verify: `systemd-analyze verify` on deploy/systemd/ballastd.service.
# verify refuses a unit whose ExecStart binary does not exist, and /usr/sbin/ballastd
# is not installed on a build machine. --root=DIR does not help: it then also wants
# sysinit.target and the rest of the unit tree under DIR. So this verifies a copy of
# the unit, under the same file name, whose ExecStart points at the built ballastd;
# every other line is the shipped one. verify exits 0 on unknown keys and bad values
# ("Unknown key ..., ignoring"), so any output at all fails the test.
# Usage: systemd_verify.sh UNIT BALLASTD
set -euo pipefail
unit=$1 ballastd=$2
command -v systemd-analyze >/dev/null || { echo "systemd-analyze not found (package systemd)"; exit 1; }

grep -qx 'ExecStart=/usr/sbin/ballastd --config /etc/ballast/ballastd.json' "$unit" \
  || { echo "FAIL: ExecStart is not '/usr/sbin/ballastd --config /etc/ballast/ballastd.json'"; exit 1; }

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
sed "s#^ExecStart=/usr/sbin/ballastd #ExecStart=$ballastd #" "$unit" > "$tmp/ballastd.service"
out=$(systemd-analyze verify "$tmp/ballastd.service" 2>&1) && rc=0 || rc=$?
if [ "$rc" -ne 0 ] || [ -n "$out" ]; then
  echo "FAIL: systemd-analyze verify (exit $rc):"; echo "$out"; exit 1
fi

# The settings the agent depends on, as written in the shipped unit.
expect() {  # expect KEY VALUE: the shipped unit sets KEY=VALUE on exactly one line
  local n; n=$(grep -c "^$1=" "$unit" || true)
  [ "$n" -eq 1 ] && grep -qx "$1=$2" "$unit" || { echo "FAIL: expected one line $1=$2"; exit 1; }
}
expect CapabilityBoundingSet 'CAP_BPF CAP_PERFMON CAP_SYS_ADMIN CAP_KILL CAP_SETUID CAP_SETGID'
expect AmbientCapabilities 'CAP_BPF CAP_PERFMON CAP_SYS_ADMIN CAP_KILL CAP_SETUID CAP_SETGID'
expect ExecReload '/bin/kill -HUP $MAINPID'
expect Restart on-failure
expect StateDirectory ballast
expect RuntimeDirectory ballast
expect RuntimeDirectoryPreserve yes
expect NoNewPrivileges yes
# These would remount /sys/fs/cgroup read-only and stop every knob write;
# the others would hide the host's files from every job the agent runs.
for k in ProtectControlGroups ProtectKernelTunables ProtectSystem ProtectHome PrivateTmp; do
  if grep -q "^$k=" "$unit"; then echo "FAIL: $k= is set; see the unit's comments"; exit 1; fi
done
echo "ok: systemd-analyze verify clean, expected settings present"
