#include "actors/sources/psi_triggers.hpp"

#include "sys/log.hpp"

#include <fcntl.h>
#include <sys/epoll.h>
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
  auto w = fd_watch::start("ballast-psi");
  if (!w)
    return w.err();
  return std::shared_ptr<psi_triggers>(new psi_triggers(std::move(*w)));
}

psi_triggers::watch::~watch() {
  registered.reset(); // first: the fd's number must not be reused while registered
  ::close(fd_);
}

result<std::unique_ptr<psi_triggers::watch>> psi_triggers::add(const std::string &file,
                                                               const char *kind, microseconds stall,
                                                               microseconds window,
                                                               std::function<void()> fire) {
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
  auto w = std::make_unique<watch>(fd, window);
  auto registered = fds_->add(fd, EPOLLPRI, std::move(fire));
  if (!registered)
    return registered.err(); // w closes the fd
  w->registered = std::move(*registered);
  return w;
}

} // namespace ballast
