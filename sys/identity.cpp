// See identity.hpp.
#include "sys/identity.hpp"

#include "sys/cookie.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ballast::sys {

status verify_identity(uint32_t uid, const std::string &path, std::string_view nonce) {
  if (nonce.empty() || path.empty() || path.front() != '/')
    return error{EACCES, "no proof of who you are"};
  // O_NONBLOCK: a FIFO planted at the path must not hang the agent.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0)
    return errno_error(errno, "identity proof", path);
  struct stat st {};
  char buf[256];
  ssize_t n = -1;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
    n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  if (n < 0 || !S_ISREG(st.st_mode))
    return error{EACCES, "identity proof " + path + ": not a regular file"};
  if (st.st_nlink != 1)
    return error{EACCES, "identity proof " + path + ": has other links"};
  if (st.st_uid != uid)
    return error{EACCES, "identity proof " + path + ": not owned by uid " + std::to_string(uid)};
  if (!same_secret(std::string_view(buf, static_cast<size_t>(n)), nonce))
    return error{EACCES, "identity proof " + path + ": does not hold the nonce"};
  return success();
}

result<std::string> write_identity_proof(const std::string &dir, std::string_view nonce) {
  std::string path = dir + "/.ballast-proof-XXXXXX";
  int fd = ::mkstemp(path.data());
  if (fd < 0)
    return errno_error(errno, "create", path);
  bool written = ::write(fd, nonce.data(), nonce.size()) == ssize_t(nonce.size());
  int code = errno;
  ::close(fd);
  if (!written) {
    ::unlink(path.c_str());
    return errno_error(code, "write", path);
  }
  return path;
}

} // namespace ballast::sys
