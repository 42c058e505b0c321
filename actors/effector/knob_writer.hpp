// The threads that perform knob writes which can block in the kernel.
// Lowering memory.high (or memory.max) below a cgroup's usage, and any write
// to memory.reclaim, reclaim memory inside write(2), which can take seconds
// under pressure. The cgroup actor hands those writes here so that the CAF
// worker threads keep serving every other cgroup; the result comes back to
// it as a message. Which writes come here is the knob table's may_block
// (sys/knobs.hpp). Jobs with the same key (the cgroup id) run on the same
// thread, in order, so a restore never overtakes an earlier lowering.
// Bounded: a fixed number of threads, whatever the number of cgroups.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

namespace ballast {

class knob_writer {
public:
  explicit knob_writer(size_t threads);
  ~knob_writer(); // runs what is queued, then joins
  knob_writer(const knob_writer &) = delete;
  knob_writer &operator=(const knob_writer &) = delete;

  void submit(uint64_t key, std::function<void()> job);

private:
  struct lane {
    std::mutex mutex;
    std::condition_variable wake;
    std::deque<std::function<void()>> jobs;
    bool closing = false;
    std::thread thread;
  };
  static void run(lane &l);

  std::vector<std::unique_ptr<lane>> lanes_;
};

} // namespace ballast
