/* The kernel/user ABI of sched.bpf.c (not sched.h: that is libc's name): map
 * keys and values. Fixed-width types only; compiled by clang -target bpf and
 * by the C++ agent. */
#ifndef BALLAST_BPF_SCHED_MAPS_H
#define BALLAST_BPF_SCHED_MAPS_H

/* Log2 histogram slots of nanoseconds: slot i counts [2^i, 2^(i+1)), slot 0
 * also 0; the last slot holds everything from 2^39 ns (about 9 minutes) up. */
#define BALLAST_SCHED_SLOTS 40

/* What one CPU is doing (per-CPU array, one entry): the switch that started
 * the running slice and whom it belongs to, so user space can credit the
 * slice in progress (a CPU hog alone on a CPU may not switch for seconds). */
struct ballast_sched_cpu {
  __u64 slice_start_ns;   /* bpf_ktime_get_ns() at the last switch; 0: none seen */
  __u64 runtime_start_ns; /* the running task's se.sum_exec_runtime then */
  __u64 busy_ns;          /* non-idle time, completed slices only */
  __u64 cgroup_id;        /* of the running task; 0 when idle */
  __u32 tgid;             /* of the running task; 0 when idle */
  __u32 pid;              /* its thread id */
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
