// Skeleton lifecycle and the poller thread; see cgroup_event_poller.hpp.
#include "actors/sources/cgroup_event_poller.hpp"

#include "actors/sources/kernel_btf.hpp"
#include "actors/sources/libbpf_log.hpp"

#include "sys/log.hpp"

#include <linux/types.h>

#include "cgroup_events.h"
#include "cgroup_events.skel.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <cstring>
#include <malloc.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

namespace ballast {

namespace {

// Records are sent in batches of at most this many, so one message never
// holds an unbounded amount of work.
constexpr size_t max_batch = 512;
// The drop counter is read at least this often even when idle.
constexpr int idle_wait_ms = 200;
constexpr uint64_t stop_token = ~uint64_t{0};
// The poller only drains the ring buffer and hands batches on; running it
// ahead of busy normal tasks keeps the buffer from filling under load and
// cut attach-to-policy p99 from ~2 ms to ~0.4 ms on a busy 2-core host
// (bench/agent_bench latency). Nice, not real-time: it cannot starve anyone.
constexpr int poller_nice = -10;

std::string error_text(int err) {
  return std::strerror(err < 0 ? -err : err);
}

std::string field(const char *s, size_t max) {
  return std::string(s, strnlen(s, max));
}

int on_record(void *ctx, void *data, size_t size) {
  if (size < sizeof(ballast_cgroup_event))
    return 0;
  auto *r = static_cast<const ballast_cgroup_event *>(data);
  auto &batch = *static_cast<event_batch *>(ctx);
  batch.events.push_back({static_cast<event_kind>(r->kind), int32_t(r->pid), r->uid, r->cgroup_id,
                          r->ktime_ns, field(r->comm, sizeof r->comm),
                          field(r->path, sizeof r->path)});
  return 0;
}

// Leaves out programs whose tracepoint this kernel does not have.
void skip_missing_tracepoints(cgroup_events *skel) {
  struct {
    bpf_program *prog;
    const char *tracepoint;
    const char *loses;
  } programs[] = {
      {skel->progs.on_cgroup_mkdir, "cgroup_mkdir", "new cgroups (until a rescan)"},
      {skel->progs.on_cgroup_rmdir, "cgroup_rmdir", "removed cgroups (until a rescan)"},
      {skel->progs.on_cgroup_attach_task, "cgroup_attach_task", "processes moving between cgroups"},
      {skel->progs.on_sched_process_exec, "sched_process_exec", "exec (re-selection by comm/exe)"},
      {skel->progs.on_sched_process_exit, "sched_process_exit",
       "process exits (policies end on their next tick)"},
  };
  // The kernel's BTF parsed once for all of them, not once per lookup.
  btf *vmlinux = btf__load_vmlinux_btf();
  for (auto &p : programs) {
    if (has_tracepoint(vmlinux, p.tracepoint))
      continue;
    log::warn("source", "tracepoint ", p.tracepoint,
              " is missing on this kernel: ", "the agent will not see ", p.loses);
    bpf_program__set_autoload(p.prog, false);
  }
  btf__free(vmlinux);
}

} // namespace

result<std::unique_ptr<cgroup_event_poller>> cgroup_event_poller::start(uint32_t ring_buffer_bytes,
                                                                        callbacks cbs) {
  route_libbpf_log();
  std::unique_ptr<cgroup_event_poller> p(new cgroup_event_poller());
  p->cbs_ = std::move(cbs);
  p->skel_ = cgroup_events::open();
  if (!p->skel_)
    return error{errno, "open BPF object cgroup_events: " + error_text(errno)};
  p->skel_->rodata->self_tgid = uint32_t(getpid());
  if (int err = bpf_map__set_max_entries(p->skel_->maps.events, ring_buffer_bytes))
    return error{-err,
                 "ring buffer size " + std::to_string(ring_buffer_bytes) + ": " + error_text(err)};
  skip_missing_tracepoints(p->skel_);
  if (int err = cgroup_events::load(p->skel_))
    return error{-err, "load BPF programs cgroup_events: " + error_text(err) +
                           " (needs root or CAP_BPF+CAP_PERFMON, and a kernel with BTF)"};
  if (int err = cgroup_events::attach(p->skel_))
    return error{-err, "attach BPF programs cgroup_events: " + error_text(err)};
  p->rb_ = ring_buffer__new(bpf_map__fd(p->skel_->maps.events), on_record, &p->pending_, nullptr);
  if (!p->rb_)
    return error{errno, "ring buffer: " + error_text(errno)};
  p->stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = stop_token;
  if (p->stop_fd_ < 0 ||
      epoll_ctl(ring_buffer__epoll_fd(p->rb_), EPOLL_CTL_ADD, p->stop_fd_, &ev) != 0)
    return error{errno, "eventfd for the poller: " + error_text(errno)};
  p->drops_seen_ = p->read_drops();
  // Loading parsed the kernel's BTF (megabytes, freed now): give the memory
  // back rather than carry it as RSS for the agent's lifetime.
  malloc_trim(0);
  p->thread_ = std::thread([raw = p.get()] { raw->run(); });
  return p;
}

cgroup_event_poller::~cgroup_event_poller() {
  if (thread_.joinable()) {
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(stop_fd_, &one, sizeof one);
    thread_.join();
  }
  if (rb_)
    ring_buffer__free(rb_);
  if (stop_fd_ >= 0)
    ::close(stop_fd_);
  if (skel_)
    cgroup_events::destroy(skel_);
}

uint64_t cgroup_event_poller::read_drops() const {
  __u32 key = BALLAST_DROPS_KEY;
  __u64 value = 0;
  bpf_map__lookup_elem(skel_->maps.drops, &key, sizeof key, &value, sizeof value, 0);
  return value;
}

void cgroup_event_poller::run() {
  if (setpriority(PRIO_PROCESS, gettid(), poller_nice) != 0)
    log::warn("source", "could not raise the poller's priority (nice ", poller_nice,
              "): ", error_text(errno), "; events may wait behind busy tasks");
  int epfd = ring_buffer__epoll_fd(rb_);
  epoll_event evs[8];
  for (;;) {
    int n = epoll_wait(epfd, evs, 8, idle_wait_ms);
    if (n < 0 && errno != EINTR) {
      cbs_.on_failed("epoll_wait on the ring buffer: " + error_text(errno));
      return;
    }
    for (int i = 0; i < n; ++i)
      if (evs[i].data.u64 == stop_token)
        return;
    if (int err = ring_buffer__consume(rb_); err < 0) {
      cbs_.on_failed("ring buffer consume: " + error_text(err));
      return;
    }
    for (size_t off = 0; off < pending_.events.size(); off += max_batch) {
      auto end = std::min(pending_.events.size(), off + max_batch);
      event_batch b;
      b.events.assign(std::make_move_iterator(pending_.events.begin() + off),
                      std::make_move_iterator(pending_.events.begin() + end));
      cbs_.on_batch(std::move(b));
    }
    pending_.events.clear();
    if (auto drops = read_drops(); drops != drops_seen_) {
      drops_seen_ = drops;
      cbs_.on_lost(drops);
    }
  }
}

} // namespace ballast
