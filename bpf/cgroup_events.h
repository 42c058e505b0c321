/* The kernel/user ABI of cgroup_events.bpf.c: ring buffer records and the
 * drop-counter map layout. Fixed-width types only; compiled by clang -target
 * bpf and by the C++ agent. */
#ifndef BALLAST_BPF_CGROUP_EVENTS_H
#define BALLAST_BPF_CGROUP_EVENTS_H

#define BALLAST_CGROUP_PATH_MAX 256
#define BALLAST_COMM_LEN 16

enum ballast_cgroup_event_kind {
  BALLAST_EV_CGROUP_MKDIR = 1,
  BALLAST_EV_CGROUP_RMDIR = 2,
  BALLAST_EV_ATTACH = 3,      /* a thread-group leader moved into a cgroup */
  BALLAST_EV_EXEC = 4,
  BALLAST_EV_EXIT = 5,        /* a thread-group leader exited */
};

/* Every record starts with kind. path is set for mkdir, rmdir and attach
 * (relative to the cgroup2 root, as the kernel prints it: "/a/b"). */
struct ballast_cgroup_event {
  __u32 kind;
  __u32 pid;                  /* tgid; 0 for mkdir/rmdir */
  __u32 uid;                  /* real uid of the process; 0 for mkdir/rmdir */
  __u32 pad;
  __u64 cgroup_id;            /* kernfs id = inode of the cgroup directory */
  __u64 ktime_ns;             /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
  char comm[BALLAST_COMM_LEN];
  char path[BALLAST_CGROUP_PATH_MAX];
};

/* Index of the single slot in the drop-counter array map. */
#define BALLAST_DROPS_KEY 0

#endif
