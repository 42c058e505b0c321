#include "actors/sources/psi_triggers.hpp"

#include "sys/log.hpp"

#include <caf/all.hpp>

#include <fcntl.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace ballast {

using std::chrono::microseconds;

std::pair<microseconds, microseconds> unprivileged_trigger(microseconds stall,
                                                           microseconds window) {
  constexpr microseconds step = std::chrono::seconds(2);
  auto wider = (window + step - microseconds(1)) / step * step;
  auto scaled = microseconds(stall.count() * wider.count() / std::max<int64_t>(window.count(), 1));
  return {scaled, wider};
}

result<std::shared_ptr<psi_triggers>> psi_triggers::start() {
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0)
    return errno_error(errno, "epoll_create1", "for PSI triggers");
  int stop = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop < 0) {
    int code = errno;
    ::close(ep);
    return errno_error(code, "eventfd", "for PSI triggers");
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = stop;
  ::epoll_ctl(ep, EPOLL_CTL_ADD, stop, &ev);
  auto self = std::shared_ptr<psi_triggers>(new psi_triggers(ep, stop));
  self->thread_ = std::thread([raw = self.get()] { raw->run(); });
  pthread_setname_np(self->thread_.native_handle(), "ballast-psi");
  return self;
}

psi_triggers::psi_triggers(int epoll_fd, int stop_fd) : epoll_fd_(epoll_fd), stop_fd_(stop_fd) {}

psi_triggers::~psi_triggers() {
  uint64_t one = 1;
  (void)::write(stop_fd_, &one, sizeof one);
  if (thread_.joinable())
    thread_.join();
  ::close(stop_fd_);
  ::close(epoll_fd_);
}

psi_triggers::watch::~watch() {
  owner_->remove(fd_);
}

void psi_triggers::remove(int fd) {
  std::lock_guard guard{mutex_};
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  targets_.erase(fd);
  ::close(fd);
}

result<std::unique_ptr<psi_triggers::watch>> psi_triggers::add(const std::string &file,
                                                               const char *kind, microseconds stall,
                                                               microseconds window,
                                                               policy_actor target) {
  int fd = ::open(file.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return errno_error(errno, "open", file);
  auto arm = [&](microseconds s, microseconds w) {
    auto line =
        std::string(kind) + " " + std::to_string(s.count()) + " " + std::to_string(w.count());
    return ::write(fd, line.c_str(), line.size() + 1) >= 0; // the kernel wants the NUL
  };
  if (!arm(stall, window)) {
    int code = errno;
    auto [s2, w2] = unprivileged_trigger(stall, window);
    if (w2 == window || !arm(s2, w2)) {
      ::close(fd);
      return errno_error(code, "arm PSI trigger on", file);
    }
    log::info("psi", "the kernel refused a ", window.count() / 1000, " ms trigger window on ", file,
              " (no CAP_SYS_RESOURCE?): using ", w2.count() / 1000, " ms with ", s2.count() / 1000,
              " ms of stall");
    stall = s2;
    window = w2;
  }
  auto w = std::make_unique<watch>(shared_from_this(), fd);
  w->window_ = window;
  std::lock_guard guard{mutex_};
  targets_[fd] = std::move(target);
  epoll_event ev{};
  ev.events = EPOLLPRI;
  ev.data.fd = fd;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0)
    return errno_error(errno, "epoll_ctl add", file);
  return w;
}

void psi_triggers::run() {
  epoll_event events[16];
  for (;;) {
    int n = ::epoll_wait(epoll_fd_, events, 16, -1);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      log::error("psi", "epoll_wait: ", std::strerror(errno), ": PSI triggers stop");
      return;
    }
    std::lock_guard guard{mutex_};
    for (int i = 0; i < n; ++i) {
      if (events[i].data.fd == stop_fd_)
        return;
      auto it = targets_.find(events[i].data.fd);
      if (it != targets_.end())
        caf::anon_send(it->second, atom::tick_v);
    }
  }
}

} // namespace ballast
