// The kernel side of the cgroup source, without actors: loads and attaches
// bpf/cgroup_events.bpf.c through its skeleton, and runs one thread that
// waits with epoll on the ring buffer and an eventfd (to stop it), drains
// every record per wake-up into one batch, and watches the drop counter.
// Programs whose tracepoint the running kernel lacks are left out with a
// warning that says which events will be missing; the rest keep working.
#pragma once

#include "messages/events.hpp"
#include "sys/result.hpp"

#include <functional>
#include <memory>
#include <string>
#include <thread>

struct cgroup_events;
struct ring_buffer;

namespace ballast {

class cgroup_event_poller {
public:
  struct callbacks {
    std::function<void(event_batch)> on_batch;  // called on the poller thread
    std::function<void(uint64_t)> on_lost;      // new total of dropped records
    std::function<void(std::string)> on_failed; // the thread stopped on an error
  };

  // Loads, attaches and starts polling. ring_buffer_bytes must be a power of
  // two and a multiple of the page size.
  static result<std::unique_ptr<cgroup_event_poller>> start(uint32_t ring_buffer_bytes,
                                                            callbacks cbs);

  // Stops the thread (eventfd), joins it, detaches and frees the programs.
  ~cgroup_event_poller();

  cgroup_event_poller(const cgroup_event_poller &) = delete;
  cgroup_event_poller &operator=(const cgroup_event_poller &) = delete;

private:
  cgroup_event_poller() = default;
  void run();
  uint64_t read_drops() const;

  cgroup_events *skel_ = nullptr;
  ring_buffer *rb_ = nullptr;
  int stop_fd_ = -1;
  callbacks cbs_;
  event_batch pending_;
  uint64_t drops_seen_ = 0;
  std::thread thread_;
};

} // namespace ballast
