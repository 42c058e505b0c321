#include "actors/effector/knob_writer.hpp"

#include <pthread.h>

namespace ballast {

knob_writer::knob_writer(size_t threads) {
  for (size_t i = 0; i < std::max<size_t>(threads, 1); ++i) {
    auto l = std::make_unique<lane>();
    l->thread = std::thread(run, std::ref(*l));
    pthread_setname_np(l->thread.native_handle(), "ballast-writer");
    lanes_.push_back(std::move(l));
  }
}

knob_writer::~knob_writer() {
  for (auto &l : lanes_) {
    std::lock_guard guard{l->mutex};
    l->closing = true;
    l->wake.notify_one();
  }
  for (auto &l : lanes_)
    l->thread.join();
}

void knob_writer::submit(uint64_t key, std::function<void()> job) {
  auto &l = *lanes_[key % lanes_.size()];
  std::lock_guard guard{l.mutex};
  l.jobs.push_back(std::move(job));
  l.wake.notify_one();
}

void knob_writer::run(lane &l) {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock{l.mutex};
      l.wake.wait(lock, [&] { return l.closing || !l.jobs.empty(); });
      if (l.jobs.empty())
        return;
      job = std::move(l.jobs.front());
      l.jobs.pop_front();
    }
    job();
  }
}

} // namespace ballast
