// PSI triggers: the kernel wakes a poller when a pressure file sees more than
// a threshold of stall within a window (write "some 150000 1000000" to the
// file, poll for POLLPRI). One thread with an epoll set serves every
// trigger and turns each wake-up into a tick of the policy actor that asked
// for it, so a policy reacts within a window instead of an interval.
//
// Without CAP_SYS_RESOURCE the kernel accepts only windows that are
// multiples of 2 s: a refused window is rounded up (the threshold scaled with
// it) and a log line says what was chosen.
#pragma once

#include "messages/protocol.hpp"
#include "sys/result.hpp"

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

namespace ballast {

class psi_triggers : public std::enable_shared_from_this<psi_triggers> {
public:
  // A registered trigger; closing it (destruction) unregisters it.
  class watch {
  public:
    watch(std::shared_ptr<psi_triggers> owner, int fd) : owner_(std::move(owner)), fd_(fd) {}
    ~watch();
    watch(const watch &) = delete;
    watch &operator=(const watch &) = delete;
    std::chrono::microseconds window() const { return window_; }

  private:
    friend class psi_triggers;
    std::shared_ptr<psi_triggers> owner_;
    int fd_;
    std::chrono::microseconds window_{};
  };

  static result<std::shared_ptr<psi_triggers>> start();
  ~psi_triggers();

  // Ticks `target` whenever `kind` ("some" or "full") stall in `file` (a
  // pressure file, absolute path) exceeds `stall` within `window`.
  result<std::unique_ptr<watch>> add(const std::string &file, const char *kind,
                                     std::chrono::microseconds stall,
                                     std::chrono::microseconds window, policy_actor target);

private:
  psi_triggers(int epoll_fd, int stop_fd);
  void run();
  void remove(int fd);

  int epoll_fd_;
  int stop_fd_;
  std::mutex mutex_;
  std::unordered_map<int, policy_actor> targets_;
  std::thread thread_;
};

// The window and stall to ask for when the kernel refused `window`: the next
// multiple of 2 s, with the stall scaled to keep the same share.
std::pair<std::chrono::microseconds, std::chrono::microseconds>
unprivileged_trigger(std::chrono::microseconds stall, std::chrono::microseconds window);

} // namespace ballast
