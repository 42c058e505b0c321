/* The kernel/user ABI of sched.bpf.c (not sched.h: that is libc's name): map
 * keys and values. Fixed-width types only; compiled by clang -target bpf and
 * by the C++ agent. */
#ifndef BALLAST_BPF_SCHED_MAPS_H
#define BALLAST_BPF_SCHED_MAPS_H

/* Log2 histogram slots of nanoseconds: slot i counts [2^i, 2^(i+1)), slot 0
 * also 0; the last slot holds everything from 2^39 ns (about 9 minutes) up. */
#define BALLAST_SCHED_SLOTS 40

/* Slots of a CPU's cache of processes' on-CPU time, direct-mapped by tgid. */
#define BALLAST_SCHED_TASK_SLOTS 8

/* A cgroup's counts that one CPU has not yet added to the cgroup maps. */
struct ballast_sched_pending_cgroup {
  __u64 cgroup_id; /* 0: none */
  __u64 oncpu_ns;
  __u64 weighted_ns;
  __u64 runq_n; /* waits counted in runq */
  __u64 runq[BALLAST_SCHED_SLOTS];
};

/* A process's on-CPU time that one CPU has not yet added to task_cpu. */
struct ballast_sched_pending_task {
  __u32 tgid; /* 0: none */
  __u32 pad;
  __u64 cgroup_id;
  __u64 oncpu_ns;
};

/* What one CPU is doing (per-CPU array, one entry): the running slice and
 * whom it belongs to, so user space can credit a slice still running since
 * its last read (a CPU hog alone on a CPU may not switch for seconds); and
 * the counts it has not yet added to the hash maps. No timestamps: reading
 * the clock (bpf_ktime_get_ns) cost ~110 ns a switch under kvm-clock here,
 * more than the rest of the program; busy time is the scheduler's own count
 * of the slices, as on-CPU time is. A switch between
 * tasks of one cgroup (the common case of a context-switch-heavy service)
 * then touches no hash map: the cgroup's counts move to the maps when a
 * slice or wait of another cgroup comes, a process's when another process
 * needs its slot. User space adds both to what it reads from the maps. */
struct ballast_sched_cpu {
  __u64 switches;         /* seen on this CPU; 0: none yet */
  __u64 runtime_start_ns; /* the running task's se.sum_exec_runtime at its switch */
  __u64 busy_ns;          /* time of tasks on this CPU, completed slices only */
  __u64 cgroup_id;        /* of the running task; 0 when idle */
  __u32 tgid;             /* of the running task; 0 when idle */
  __u32 pid;              /* its thread id */
  struct ballast_sched_pending_cgroup cgroup;
  struct ballast_sched_pending_task tasks[BALLAST_SCHED_TASK_SLOTS];
};

/* Per-CPU hash by cgroup id: completed on-CPU time, raw and weighted by the
 * CPU's frequency (cur/max; equal to raw where there is no cpufreq). On-CPU
 * time is the scheduler's own clock (se.sum_exec_runtime), which leaves out
 * time stolen by a hypervisor and, where the kernel accounts it, time in
 * interrupts: the same clock as cpu.stat and /proc/PID/stat. */
struct ballast_sched_cgroup_cpu {
  __u64 oncpu_ns;
  __u64 weighted_ns;
};

/* Per-CPU hash by tgid: completed on-CPU time and the cgroup it ran in last. */
struct ballast_sched_task_cpu {
  __u64 oncpu_ns;
  __u64 cgroup_id;
};

/* Hash by cgroup id (shared, atomic adds: three histograms per CPU would
 * cost ~1 KiB per cgroup per CPU): waits in nanoseconds, cumulative. */
struct ballast_sched_waits {
  __u64 runq[BALLAST_SCHED_SLOTS];  /* queued (enqueue, wakeup, preemption) -> on CPU */
  __u64 futex[BALLAST_SCHED_SLOTS]; /* asleep in a futex wait syscall -> woken */
  __u64 io[BALLAST_SCHED_SLOTS];    /* block request issue -> complete */
};

/* Array by CPU number, written by user space (max) and the cpu_frequency
 * tracepoint (cur), in kHz. */
struct ballast_sched_freq {
  __u32 cur_khz;
  __u32 max_khz;
};

#endif
