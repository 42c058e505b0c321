// SPDX-License-Identifier: GPL-2.0
/* Scheduler, futex and block-IO senses for ballast's sched source.
 *
 * Everything is aggregated in maps that user space reads on an interval;
 * nothing is sent per event. sched_switch closes the slice of the task that
 * leaves the CPU (by the scheduler's clock, se.sum_exec_runtime, as cpu.stat
 * counts) and adds it to its cgroup (per-CPU hash, raw and weighted by the
 * CPU's frequency) and its process (per-CPU hash by tgid); the task coming
 * in adds the time it waited in the run queue (the kernel's own delay
 * accounting) to its cgroup's histogram. A task that blocks inside a futex
 * wait syscall is stamped and its wakeup adds the time it slept to the futex
 * histogram (no syscall tracepoints: enabling those sends every syscall of
 * every task down the slow path). Block requests add their latency from
 * issue to completion. Entries go when their process exits or their cgroup
 * is removed; LRU maps bound the rest.
 * Field access goes through CO-RE (6.1 in the VM, 6.x here). */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "sched_maps.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by user space before load: 1 when cpu_freq holds max frequencies. */
const volatile __u32 freq_weighting = 0;

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct ballast_sched_cpu);
} cpus SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1024); /* resized to the number of possible CPUs */
  __type(key, __u32);
  __type(value, struct ballast_sched_freq);
} cpu_freq SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
  __uint(max_entries, 8192); /* resized by user space before load */
  __type(key, __u64);
  __type(value, struct ballast_sched_cgroup_cpu);
} cgroup_cpu SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
  __uint(max_entries, 32768);
  __type(key, __u32);
  __type(value, struct ballast_sched_task_cpu);
} task_cpu SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 8192);
  __type(key, __u64);
  __type(value, struct ballast_sched_waits);
} cgroup_waits SEC(".maps");

/* Start stamps: thread id -> when it fell asleep in a futex wait; request ->
 * when it was issued, and by which cgroup. */
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 16384);
  __type(key, __u32);
  __type(value, __u64);
} futex_since SEC(".maps");

struct io_start {
  __u64 ns;
  __u64 cgroup_id;
};

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 8192);
  __type(key, __u64);
  __type(value, struct io_start);
} io_since SEC(".maps");

/* One zeroed entry, inserted where a cgroup has no histograms yet (too big
 * for the BPF stack). */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct ballast_sched_waits);
} no_waits SEC(".maps");

static __always_inline __u32 slot_of(__u64 v) {
  __u32 r = 0;
  if (v >> 32) {
    v >>= 32;
    r += 32;
  }
  if (v >> 16) {
    v >>= 16;
    r += 16;
  }
  if (v >> 8) {
    v >>= 8;
    r += 8;
  }
  if (v >> 4) {
    v >>= 4;
    r += 4;
  }
  if (v >> 2) {
    v >>= 2;
    r += 2;
  }
  if (v >> 1) {
    r += 1;
  }
  return r < BALLAST_SCHED_SLOTS ? r : BALLAST_SCHED_SLOTS - 1;
}

enum wait_kind { WAIT_RUNQ, WAIT_FUTEX, WAIT_IO };

static __always_inline void add_wait(__u64 cgroup_id, enum wait_kind kind, __u64 ns) {
  struct ballast_sched_waits *w = bpf_map_lookup_elem(&cgroup_waits, &cgroup_id);
  if (!w) {
    __u32 zero = 0;
    struct ballast_sched_waits *fresh = bpf_map_lookup_elem(&no_waits, &zero);
    if (!fresh)
      return;
    bpf_map_update_elem(&cgroup_waits, &cgroup_id, fresh, BPF_NOEXIST);
    w = bpf_map_lookup_elem(&cgroup_waits, &cgroup_id);
    if (!w)
      return;
  }
  __u32 s = slot_of(ns);
  if (kind == WAIT_RUNQ)
    __sync_fetch_and_add(&w->runq[s], 1);
  else if (kind == WAIT_FUTEX)
    __sync_fetch_and_add(&w->futex[s], 1);
  else
    __sync_fetch_and_add(&w->io[s], 1);
}

/* The hot paths read fields straight through the tp_btf arguments' BTF
 * pointers (CO-RE relocated, one load each; BPF_CORE_READ is a helper call
 * per field and made sched_switch cost ~1.2 us here). */
static __always_inline __u64 task_cgroup_id(struct task_struct *t) {
  return t->cgroups->dfl_cgrp->kn->id;
}

static __always_inline bool on_v2(struct cgroup *cgrp) {
  return BPF_CORE_READ(cgrp, root, hierarchy_id) == 0;
}

static __always_inline __u64 weighted(__u64 ns) {
  if (!freq_weighting)
    return ns;
  __u32 cpu = bpf_get_smp_processor_id();
  struct ballast_sched_freq *f = bpf_map_lookup_elem(&cpu_freq, &cpu);
  if (!f || !f->max_khz || !f->cur_khz)
    return ns;
  return ns * f->cur_khz / f->max_khz;
}

static __always_inline void add_oncpu(__u64 cgroup_id, __u32 tgid, __u64 ns) {
  struct ballast_sched_cgroup_cpu *c = bpf_map_lookup_elem(&cgroup_cpu, &cgroup_id);
  __u64 w = weighted(ns);
  if (c) {
    c->oncpu_ns += ns;
    c->weighted_ns += w;
  } else {
    struct ballast_sched_cgroup_cpu fresh = {ns, w};
    bpf_map_update_elem(&cgroup_cpu, &cgroup_id, &fresh, BPF_NOEXIST);
  }
  struct ballast_sched_task_cpu *t = bpf_map_lookup_elem(&task_cpu, &tgid);
  if (t) {
    t->oncpu_ns += ns;
    t->cgroup_id = cgroup_id;
  } else {
    struct ballast_sched_task_cpu fresh = {ns, cgroup_id};
    bpf_map_update_elem(&task_cpu, &tgid, &fresh, BPF_NOEXIST);
  }
}

/* Futex stamps are written and taken in place: a thread's entry is inserted
 * once and deleted when it exits (an LRU update or delete takes the map's
 * locks and recycles a node). 0: no stamp. */
static __always_inline void stamp_futex(__u32 pid, __u64 now) {
  __u64 *at = bpf_map_lookup_elem(&futex_since, &pid);
  if (at)
    *at = now;
  else
    bpf_map_update_elem(&futex_since, &pid, &now, BPF_NOEXIST);
}

static __always_inline __u64 take_futex_stamp(__u32 pid) {
  __u64 *at = bpf_map_lookup_elem(&futex_since, &pid);
  if (!at)
    return 0;
  __u64 t = *at;
  *at = 0;
  return t;
}

/* How long a task switching in waited in the run queue, by the kernel's own
 * delay accounting (CONFIG_SCHED_INFO): sched_info.last_queued is the rq
 * clock when it was enqueued, woken or preempted, cleared just after this
 * tracepoint when it arrives; 0 when not queued. No map, no stamp on wakeup.
 * The rq is reached through the task's cfs_rq (CONFIG_FAIR_GROUP_SCHED, set
 * for every task whatever its class; the runqueues per-CPU symbol is not in
 * kallsyms without CONFIG_KALLSYMS_ALL). */
static __always_inline __u64 queued_ns(struct task_struct *next) {
  if (!bpf_core_field_exists(next->se.cfs_rq) ||
      !bpf_core_field_exists(((struct cfs_rq *)0)->rq))
    return 0;
  __u64 queued = next->sched_info.last_queued;
  if (!queued)
    return 0;
  __u64 clock = next->se.cfs_rq->rq->clock;
  return clock > queued ? clock - queued : 0;
}

/* futex(2)'s operations that wait (FUTEX_CMD_MASK strips the private and
 * clock flags). */
static __always_inline bool futex_op_waits(__u64 op) {
  switch (op & 127) {
  case 0:  /* FUTEX_WAIT */
  case 6:  /* FUTEX_LOCK_PI */
  case 9:  /* FUTEX_WAIT_BITSET */
  case 11: /* FUTEX_WAIT_REQUEUE_PI */
  case 13: /* FUTEX_LOCK_PI2 */
    return true;
  }
  return false;
}

/* futex_waitv(2) and futex_wait(2) (Linux 6.7) have the same numbers on
 * x86-64 and arm64; futex(2) does not. */
#define NR_FUTEX_WAITV 449
#define NR_FUTEX_WAIT 455

static __always_inline bool futex_wait_call(long nr, long nr_futex, __u64 op) {
  return (nr == nr_futex && futex_op_waits(op)) || nr == NR_FUTEX_WAITV || nr == NR_FUTEX_WAIT;
}

/* Whether a task that is going to sleep is inside a futex wait: the syscall
 * number and second argument in its user register frame. */
static __always_inline bool in_futex_wait(struct task_struct *t) {
  if (!bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_task_pt_regs))
    return false;
  struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(t);
  if (!regs)
    return false;
#if defined(__TARGET_ARCH_x86)
  return futex_wait_call(BPF_CORE_READ(regs, orig_ax), 202, BPF_CORE_READ(regs, si));
#elif defined(__TARGET_ARCH_arm64)
  return futex_wait_call(BPF_CORE_READ(regs, syscallno), 98, BPF_CORE_READ(regs, regs[1]));
#else
  return false;
#endif
}

/* A task woken from a futex wait: the time it slept goes to its cgroup. */
static __always_inline void end_futex_wait(struct task_struct *p) {
  __u64 since = take_futex_stamp(p->pid);
  if (!since)
    return;
  __u64 now = bpf_ktime_get_ns();
  if (now > since)
    add_wait(task_cgroup_id(p), WAIT_FUTEX, now - since);
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(on_sched_wakeup, struct task_struct *p) {
  if (in_futex_wait(p))
    end_futex_wait(p);
  return 0;
}

/* Before 5.14 the field was `state`. */
struct task_struct___old {
  long state;
} __attribute__((preserve_access_index));

static __always_inline bool still_runnable(struct task_struct *t) {
  if (bpf_core_field_exists(t->__state))
    return t->__state == 0;
  return BPF_CORE_READ((struct task_struct___old *)t, state) == 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(on_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next) {
  __u64 now = bpf_ktime_get_ns();
  __u32 zero = 0;
  struct ballast_sched_cpu *cpu = bpf_map_lookup_elem(&cpus, &zero);
  if (!cpu)
    return 0;
  __u32 prev_pid = prev->pid;
  if (cpu->slice_start_ns && prev_pid) {
    cpu->busy_ns += now - cpu->slice_start_ns;
    __u64 runtime = prev->se.sum_exec_runtime;
    if (cpu->pid == prev_pid && runtime > cpu->runtime_start_ns)
      add_oncpu(task_cgroup_id(prev), prev->tgid,
                runtime - cpu->runtime_start_ns);
  }
  /* A task that blocks in a futex wait sleeps from now. */
  if (prev_pid && !preempt && !still_runnable(prev) && in_futex_wait(prev))
    stamp_futex(prev_pid, now);

  __u32 next_pid = next->pid;
  cpu->slice_start_ns = now;
  cpu->runtime_start_ns = next_pid ? next->se.sum_exec_runtime : 0;
  cpu->pid = next_pid;
  cpu->tgid = next_pid ? next->tgid : 0;
  cpu->cgroup_id = next_pid ? task_cgroup_id(next) : 0;
  if (!next_pid)
    return 0;
  __u64 queued = queued_ns(next);
  if (queued)
    add_wait(cpu->cgroup_id, WAIT_RUNQ, queued);
  return 0;
}

SEC("tp_btf/cpu_frequency")
int BPF_PROG(on_cpu_frequency, unsigned int frequency, unsigned int cpu_id) {
  struct ballast_sched_freq *f = bpf_map_lookup_elem(&cpu_freq, &cpu_id);
  if (f)
    f->cur_khz = frequency;
  return 0;
}

/* A process is gone when its last thread exits (signal->live reached 0
 * before this tracepoint): its entry goes; a thread's stamps go with it. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_sched_process_exit, struct task_struct *p) {
  __u32 pid = BPF_CORE_READ(p, pid);
  bpf_map_delete_elem(&futex_since, &pid);
  if (BPF_CORE_READ(p, signal, live.counter) == 0) {
    __u32 tgid = BPF_CORE_READ(p, tgid);
    bpf_map_delete_elem(&task_cpu, &tgid);
  }
  return 0;
}

SEC("tp_btf/cgroup_rmdir")
int BPF_PROG(on_cgroup_rmdir, struct cgroup *cgrp, const char *path) {
  if (!on_v2(cgrp))
    return 0;
  __u64 id = BPF_CORE_READ(cgrp, kn, id);
  bpf_map_delete_elem(&cgroup_cpu, &id);
  bpf_map_delete_elem(&cgroup_waits, &id);
  return 0;
}

/* The cgroup a request is charged to: its bio's blkcg where that is on the
 * v2 hierarchy, else the issuing task's (the io controller may be bound to
 * v1, as on the development host; for direct IO the issuer is the owner). */
static __always_inline __u64 request_cgroup_id(struct request *rq) {
  if (bpf_core_field_exists(struct bio, bi_blkg)) {
    struct cgroup *cgrp = BPF_CORE_READ(rq, bio, bi_blkg, blkcg, css.cgroup);
    if (cgrp && on_v2(cgrp))
      return BPF_CORE_READ(cgrp, kn, id);
  }
  return bpf_get_current_cgroup_id();
}

SEC("tp_btf/block_rq_issue")
int BPF_PROG(on_block_rq_issue, struct request *rq) {
  __u64 key = (__u64)rq;
  struct io_start s = {bpf_ktime_get_ns(), request_cgroup_id(rq)};
  bpf_map_update_elem(&io_since, &key, &s, BPF_ANY);
  return 0;
}

SEC("tp_btf/block_rq_complete")
int BPF_PROG(on_block_rq_complete, struct request *rq, int error, unsigned int nr_bytes) {
  __u64 key = (__u64)rq;
  struct io_start *s = bpf_map_lookup_elem(&io_since, &key);
  if (!s)
    return 0;
  __u64 now = bpf_ktime_get_ns();
  if (now > s->ns)
    add_wait(s->cgroup_id, WAIT_IO, now - s->ns);
  bpf_map_delete_elem(&io_since, &key);
  return 0;
}
