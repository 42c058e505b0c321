// SPDX-License-Identifier: GPL-2.0
/* Scheduler, futex and block-IO senses for ballast's sched source.
 *
 * Everything is aggregated in maps that user space reads on an interval;
 * nothing is sent per event. sched_switch closes the slice of the task that
 * leaves the CPU (by the scheduler's clock, se.sum_exec_runtime, as cpu.stat
 * counts) and adds it to its cgroup (per-CPU hash, raw and weighted by the
 * CPU's frequency) and its process (per-CPU hash by tgid); the task coming
 * in adds the time it waited in the run queue (the kernel's own delay
 * accounting) to its cgroup's histogram. Those adds wait in the CPU's own
 * entry while it runs one cgroup's tasks and a few processes (see
 * ballast_sched_cpu), and the common path reads no clock: by bpf_stats on a
 * pipe ping-pong here, sched_switch went from ~400 ns a run (three hash
 * lookups and bpf_ktime_get_ns) to ~150 (an empty program shows ~50).
 * A task that blocks inside a futex wait syscall is stamped; when it comes
 * back on a CPU the time it slept (less its run-queue wait) goes to the
 * futex histogram. That is all in sched_switch: a program on sched_wakeup
 * ran on every wakeup (~105 ns a run, ~75 for an empty one), and syscall
 * tracepoints would send every syscall of every task down the slow path. Block requests add
 * their latency from issue to completion. Entries go when their process
 * exits or their cgroup is removed; LRU maps bound the rest.
 * Field access goes through CO-RE (6.1 in the VM, 6.x here). */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "sched_maps.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by user space before load: 1 when cpu_freq holds max frequencies. */
const volatile __u32 freq_weighting = 0;
/* Set by user space before load: the number of possible CPUs. */
const volatile __u32 nr_cpus = 1;
#define MAX_CPUS 8192

#define PF_EXITING 0x00000004

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

enum wait_kind { WAIT_FUTEX, WAIT_IO };

/* A cgroup's wait histograms, made on first use. */
static __always_inline struct ballast_sched_waits *waits_of(__u64 cgroup_id) {
  struct ballast_sched_waits *w = bpf_map_lookup_elem(&cgroup_waits, &cgroup_id);
  if (w)
    return w;
  __u32 zero = 0;
  struct ballast_sched_waits *fresh = bpf_map_lookup_elem(&no_waits, &zero);
  if (!fresh)
    return 0;
  bpf_map_update_elem(&cgroup_waits, &cgroup_id, fresh, BPF_NOEXIST);
  return bpf_map_lookup_elem(&cgroup_waits, &cgroup_id);
}

static __always_inline void add_wait(__u64 cgroup_id, enum wait_kind kind, __u64 ns) {
  struct ballast_sched_waits *w = waits_of(cgroup_id);
  if (!w)
    return;
  __u32 s = slot_of(ns);
  if (kind == WAIT_FUTEX)
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

/* A cgroup's pending counts go to the maps; its entries are made on first
 * use. */
static __always_inline void flush_cgroup(struct ballast_sched_pending_cgroup *p) {
  if (p->oncpu_ns) {
    struct ballast_sched_cgroup_cpu *c = bpf_map_lookup_elem(&cgroup_cpu, &p->cgroup_id);
    if (c) {
      c->oncpu_ns += p->oncpu_ns;
      c->weighted_ns += p->weighted_ns;
    } else {
      struct ballast_sched_cgroup_cpu fresh = {p->oncpu_ns, p->weighted_ns};
      bpf_map_update_elem(&cgroup_cpu, &p->cgroup_id, &fresh, BPF_NOEXIST);
    }
  }
  if (!p->runq_n)
    return;
  struct ballast_sched_waits *w = waits_of(p->cgroup_id);
  if (!w)
    return;
  for (__u32 i = 0; i < BALLAST_SCHED_SLOTS; ++i)
    if (p->runq[i])
      __sync_fetch_and_add(&w->runq[i], p->runq[i]);
}

/* The CPU's pending counts of cgroup `id`: those of another cgroup go to the
 * maps first. */
static __always_inline struct ballast_sched_pending_cgroup *
pending_cgroup(struct ballast_sched_cpu *cpu, __u64 id) {
  struct ballast_sched_pending_cgroup *p = &cpu->cgroup;
  if (p->cgroup_id != id) {
    if (p->cgroup_id)
      flush_cgroup(p);
    __builtin_memset(p, 0, sizeof(*p));
    p->cgroup_id = id;
  }
  return p;
}

static __always_inline void flush_task(struct ballast_sched_pending_task *t) {
  if (!t->tgid || !t->oncpu_ns)
    return;
  struct ballast_sched_task_cpu *v = bpf_map_lookup_elem(&task_cpu, &t->tgid);
  if (v) {
    v->oncpu_ns += t->oncpu_ns;
    v->cgroup_id = t->cgroup_id;
  } else {
    struct ballast_sched_task_cpu fresh = {t->oncpu_ns, t->cgroup_id};
    bpf_map_update_elem(&task_cpu, &t->tgid, &fresh, BPF_NOEXIST);
  }
}

static __always_inline void add_oncpu(struct ballast_sched_cpu *cpu, __u64 cgroup_id, __u32 tgid,
                                      bool process_gone, __u64 ns) {
  struct ballast_sched_pending_cgroup *p = pending_cgroup(cpu, cgroup_id);
  p->oncpu_ns += ns;
  p->weighted_ns += weighted(ns);
  if (process_gone) /* its entry went at its exit: not made again */
    return;
  struct ballast_sched_pending_task *t = &cpu->tasks[tgid & (BALLAST_SCHED_TASK_SLOTS - 1)];
  if (t->tgid != tgid) {
    flush_task(t);
    t->tgid = tgid;
    t->oncpu_ns = 0;
  }
  t->oncpu_ns += ns;
  t->cgroup_id = cgroup_id;
}

/* What other CPUs hold pending of a process or cgroup that is gone is
 * dropped, so that it does not bring back the entries its end deleted (read
 * without their owner's ordering: a switch racing this may still flush). */
static __always_inline void drop_pending(__u32 tgid, __u64 cgroup_id) {
  if (!bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_map_lookup_percpu_elem))
    return; /* before 5.19: the LRU bound ages them out */
  __u32 zero = 0;
  for (__u32 i = 0; i < MAX_CPUS && i < nr_cpus; ++i) {
    struct ballast_sched_cpu *c = bpf_map_lookup_percpu_elem(&cpus, &zero, i);
    if (!c)
      continue;
    if (tgid) {
      struct ballast_sched_pending_task *t = &c->tasks[tgid & (BALLAST_SCHED_TASK_SLOTS - 1)];
      if (t->tgid == tgid)
        t->tgid = 0;
    }
    if (cgroup_id && c->cgroup.cgroup_id == cgroup_id)
      c->cgroup.cgroup_id = 0;
  }
}

/* How many stamps are standing, by thread id modulo the size: a switch-in
 * looks here first (one load) and in futex_since only where a thread of
 * its bucket sleeps in a futex wait. */
#define FUTEX_BUCKETS 4096
static __u32 futex_sleepers[FUTEX_BUCKETS];

static __always_inline __u32 *futex_bucket(__u32 pid) {
  return &futex_sleepers[pid & (FUTEX_BUCKETS - 1)];
}

/* Futex stamps are written and taken in place: a thread's entry is inserted
 * once and deleted when it exits (an LRU update or delete takes the map's
 * locks and recycles a node). 0: no stamp. */
static __always_inline void stamp_futex(__u32 pid, __u64 now) {
  __u64 *at = bpf_map_lookup_elem(&futex_since, &pid);
  if (at) {
    __u64 standing = *at;
    *at = now;
    if (standing)
      return; /* already counted in its bucket */
  } else if (bpf_map_update_elem(&futex_since, &pid, &now, BPF_NOEXIST)) {
    return;
  }
  __sync_fetch_and_add(futex_bucket(pid), 1);
}

static __always_inline __u64 take_futex_stamp(__u32 pid) {
  if (!*futex_bucket(pid))
    return 0;
  __u64 *at = bpf_map_lookup_elem(&futex_since, &pid);
  if (!at || !*at)
    return 0;
  __u64 t = *at;
  *at = 0;
  __sync_fetch_and_add(futex_bucket(pid), -1); /* no atomic sub in clang 14 BPF */
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

/* Whether a task is inside a futex wait: the syscall number and second
 * argument in its user register frame (read through the
 * helper's BTF pointer: two loads, not two probe-read calls). */
static __always_inline bool in_futex_wait(struct task_struct *t) {
  if (!bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_task_pt_regs))
    return false;
  struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(t);
  if (!regs)
    return false;
#if defined(__TARGET_ARCH_x86)
  return futex_wait_call(regs->orig_ax, 202, regs->si);
#elif defined(__TARGET_ARCH_arm64)
  return futex_wait_call(regs->syscallno, 98, regs->regs[1]);
#else
  return false;
#endif
}

/* A task back on a CPU after a futex wait: the time it slept, from its
 * stamp to its wakeup (now less the run-queue wait), goes to its cgroup. */
static __always_inline void end_futex_wait(struct task_struct *next, __u64 cgroup_id,
                                           __u64 queued) {
  __u64 since = take_futex_stamp(next->pid);
  if (!since)
    return;
  __u64 now = bpf_ktime_get_ns();
  if (now > since + queued)
    add_wait(cgroup_id, WAIT_FUTEX, now - since - queued);
}

/* Before 5.14 the field was `state`. */
struct task_struct___old {
  long state;
} __attribute__((preserve_access_index));

/* Whether `t` is a thread of a process whose every thread is exiting (its
 * last one has passed sched_process_exit or is about to). */
static __always_inline bool group_gone(struct task_struct *t) {
  return (t->flags & PF_EXITING) && t->signal->live.counter == 0;
}

static __always_inline bool still_runnable(struct task_struct *t) {
  if (bpf_core_field_exists(t->__state))
    return t->__state == 0;
  return BPF_CORE_READ((struct task_struct___old *)t, state) == 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(on_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next) {
  __u32 zero = 0;
  struct ballast_sched_cpu *cpu = bpf_map_lookup_elem(&cpus, &zero);
  if (!cpu)
    return 0;
  __u32 prev_pid = prev->pid;
  if (cpu->switches && prev_pid && cpu->pid == prev_pid) {
    __u64 runtime = prev->se.sum_exec_runtime;
    if (runtime > cpu->runtime_start_ns) {
      __u64 ran = runtime - cpu->runtime_start_ns;
      cpu->busy_ns += ran;
      add_oncpu(cpu, task_cgroup_id(prev), prev->tgid, group_gone(prev), ran);
    }
  }
  /* A task that blocks in a futex wait sleeps from now. */
  if (prev_pid && !preempt && !still_runnable(prev) && in_futex_wait(prev))
    stamp_futex(prev_pid, bpf_ktime_get_ns());

  __u32 next_pid = next->pid;
  cpu->switches += 1;
  cpu->runtime_start_ns = next_pid ? next->se.sum_exec_runtime : 0;
  cpu->pid = next_pid;
  cpu->tgid = next_pid ? next->tgid : 0;
  cpu->cgroup_id = next_pid ? task_cgroup_id(next) : 0;
  if (!next_pid)
    return 0;
  __u64 queued = queued_ns(next);
  if (queued) {
    struct ballast_sched_pending_cgroup *p = pending_cgroup(cpu, cpu->cgroup_id);
    p->runq[slot_of(queued)] += 1;
    p->runq_n += 1;
  }
  end_futex_wait(next, cpu->cgroup_id, queued);
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
 * before this tracepoint): its entry goes, with what CPUs hold pending of it
 * (its threads' last switches add nothing: group_gone); a thread's stamps go
 * with it. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_sched_process_exit, struct task_struct *p) {
  __u32 pid = p->pid;
  take_futex_stamp(pid);
  bpf_map_delete_elem(&futex_since, &pid);
  if (p->signal->live.counter == 0) {
    __u32 tgid = p->tgid;
    bpf_map_delete_elem(&task_cpu, &tgid);
    drop_pending(tgid, 0);
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
  drop_pending(0, id);
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
