// See replace_file.hpp.
#include "sys/replace_file.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ballast::sys {

result<int> replace_file(const std::string &path, std::string_view content,
                         const std::function<status(int fd)> &before_rename) {
  auto tmp = path + ".new";
  int fd =
      ::open(tmp.c_str(), O_RDWR | O_APPEND | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return errno_error(errno, "create", tmp);
  auto fail = [&](error e) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return e;
  };
  // The mode again, whatever the umask did to it.
  if (::fchmod(fd, 0600) != 0)
    return fail(errno_error(errno, "chmod", tmp));
  if (::write(fd, content.data(), content.size()) != ssize_t(content.size()))
    return fail(errno_error(errno ? errno : EIO, "write", tmp));
  if (::fdatasync(fd) != 0)
    return fail(errno_error(errno, "sync", tmp));
  if (auto ready = before_rename(fd); !ready)
    return fail(ready.err());
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return fail(errno_error(errno, "rename over " + path + " from", tmp));
  return fd;
}

} // namespace ballast::sys
