// SPDX-License-Identifier: GPL-2.0
/* cgroup and process lifecycle events for ballast's cgroup source.
 *
 * tp_btf programs on cgroup_mkdir/rmdir/attach_task and sched_process_exec/
 * exit write one record each into a single ring buffer. Only the cgroup v2
 * hierarchy (hierarchy_id 0) is reported; attach and exit only for thread-group
 * leaders, since policies act per process. A full ring buffer is never silent:
 * each lost record increments a counter in the drops map, which user space
 * watches to trigger a rescan. Field access goes through CO-RE so the object
 * loads on kernels whose struct layouts differ (6.1 in the VM, 6.x here). */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "cgroup_events.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by user space between open and load: the agent's own tgid, whose exec
 * and exit events are not interesting. */
const volatile __u32 self_tgid = 0;

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 1 << 20); /* resized by user space before load */
} events SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} drops SEC(".maps");

static __always_inline void count_drop(void)
{
  __u32 key = BALLAST_DROPS_KEY;
  __u64 *n = bpf_map_lookup_elem(&drops, &key);
  if (n)
    __sync_fetch_and_add(n, 1);
}

static __always_inline struct ballast_cgroup_event *reserve(__u32 kind)
{
  struct ballast_cgroup_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) {
    count_drop();
    return 0;
  }
  e->kind = kind;
  e->pid = 0;
  e->uid = 0;
  e->pad = 0;
  e->ktime_ns = bpf_ktime_get_ns();
  e->comm[0] = 0;
  e->path[0] = 0;
  return e;
}

static __always_inline bool on_v2(struct cgroup *cgrp)
{
  return BPF_CORE_READ(cgrp, root, hierarchy_id) == 0;
}

static __always_inline __u64 cgroup_id_of(struct cgroup *cgrp)
{
  return BPF_CORE_READ(cgrp, kn, id);
}

static __always_inline __u64 task_v2_cgroup_id(struct task_struct *task)
{
  return BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);
}

static __always_inline int emit_cgroup(__u32 kind, struct cgroup *cgrp, const char *path)
{
  if (!on_v2(cgrp))
    return 0;
  struct ballast_cgroup_event *e = reserve(kind);
  if (!e)
    return 0;
  e->cgroup_id = cgroup_id_of(cgrp);
  bpf_probe_read_kernel_str(e->path, sizeof(e->path), path);
  bpf_ringbuf_submit(e, 0);
  return 0;
}

SEC("tp_btf/cgroup_mkdir")
int BPF_PROG(on_cgroup_mkdir, struct cgroup *cgrp, const char *path)
{
  return emit_cgroup(BALLAST_EV_CGROUP_MKDIR, cgrp, path);
}

SEC("tp_btf/cgroup_rmdir")
int BPF_PROG(on_cgroup_rmdir, struct cgroup *cgrp, const char *path)
{
  return emit_cgroup(BALLAST_EV_CGROUP_RMDIR, cgrp, path);
}

/* `current` is the writer of cgroup.procs; the moved task is the argument. */
SEC("tp_btf/cgroup_attach_task")
int BPF_PROG(on_cgroup_attach_task, struct cgroup *dst, const char *path,
             struct task_struct *task, bool threadgroup)
{
  if (!on_v2(dst))
    return 0;
  __u32 pid = BPF_CORE_READ(task, pid);
  __u32 tgid = BPF_CORE_READ(task, tgid);
  if (pid != tgid)
    return 0;
  struct ballast_cgroup_event *e = reserve(BALLAST_EV_ATTACH);
  if (!e)
    return 0;
  e->pid = tgid;
  e->uid = BPF_CORE_READ(task, cred, uid.val);
  e->cgroup_id = cgroup_id_of(dst);
  BPF_CORE_READ_STR_INTO(&e->comm, task, comm);
  bpf_probe_read_kernel_str(e->path, sizeof(e->path), path);
  bpf_ringbuf_submit(e, 0);
  return 0;
}

/* comm and uid travel with attach/exec/exit records, so enrolment by comm
 * or uid needs no /proc read. */
static __always_inline int emit_task(__u32 kind, struct task_struct *task)
{
  __u32 tgid = BPF_CORE_READ(task, tgid);
  if (tgid == self_tgid)
    return 0;
  struct ballast_cgroup_event *e = reserve(kind);
  if (!e)
    return 0;
  e->pid = tgid;
  e->uid = BPF_CORE_READ(task, cred, uid.val);
  e->cgroup_id = task_v2_cgroup_id(task);
  BPF_CORE_READ_STR_INTO(&e->comm, task, comm);
  bpf_ringbuf_submit(e, 0);
  return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_sched_process_exec, struct task_struct *p)
{
  return emit_task(BALLAST_EV_EXEC, p);
}

/* Fires per thread: only the leader's exit ends the process for us. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_sched_process_exit, struct task_struct *p)
{
  if (BPF_CORE_READ(p, pid) != BPF_CORE_READ(p, tgid))
    return 0;
  return emit_task(BALLAST_EV_EXIT, p);
}
