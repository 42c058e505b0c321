// PSI triggers: the kernel wakes a poller when a pressure file sees more than
// a threshold of stall within a window (write "some 150000 1000000" to the
// file, poll for POLLPRI). One fd_watch thread serves every trigger and
// turns each wake-up into a message to the actor that asked for it, so a
// policy reacts within a window instead of an interval.
//
// Without CAP_SYS_RESOURCE the kernel accepts only windows that are
// multiples of 2 s: a refused window is rounded up (the threshold scaled with
// it) and a log line says what was chosen.
#pragma once

#include "actors/sources/fd_watch.hpp"
#include "sys/result.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace ballast {

class psi_triggers {
public:
  // A registered trigger; closing it (destruction) unregisters it.
  class watch {
  public:
    watch(int fd, std::chrono::microseconds window) : fd_(fd), window_(window) {}
    ~watch();
    watch(const watch &) = delete;
    watch &operator=(const watch &) = delete;
    std::chrono::microseconds window() const { return window_; }

  private:
    friend class psi_triggers;
    int fd_;
    std::chrono::microseconds window_;
    std::unique_ptr<fd_watch::handle> registered;
  };

  static result<std::shared_ptr<psi_triggers>> start();

  // Calls `fire` (on the trigger thread: send a message, no more) whenever
  // `kind` ("some" or "full") stall in `file` (a pressure file, absolute
  // path) exceeds `stall` within `window`.
  result<std::unique_ptr<watch>> add(const std::string &file, const char *kind,
                                     std::chrono::microseconds stall,
                                     std::chrono::microseconds window, std::function<void()> fire);

private:
  explicit psi_triggers(std::shared_ptr<fd_watch> w) : fds_(std::move(w)) {}
  std::shared_ptr<fd_watch> fds_;
};

// The window and stall to ask for when the kernel refused `window`: the next
// multiple of 2 s, with the stall scaled to keep the same share.
std::pair<std::chrono::microseconds, std::chrono::microseconds>
unprivileged_trigger(std::chrono::microseconds stall, std::chrono::microseconds window);

} // namespace ballast
