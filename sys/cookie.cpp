// See cookie.hpp.
#include "sys/cookie.hpp"

#include "sys/procfs.hpp"
#include "sys/replace_file.hpp"

#include <cerrno>
#include <fcntl.h>
#include <grp.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ballast::sys {

namespace {

constexpr size_t secret_bytes = 32;

} // namespace

result<std::string> random_hex() {
  unsigned char raw[secret_bytes];
  size_t got = 0;
  while (got < sizeof raw) {
    auto n = ::getrandom(raw + got, sizeof raw - got, 0);
    if (n < 0 && errno != EINTR)
      return errno_error(errno, "getrandom for", "the control cookie");
    got += n > 0 ? size_t(n) : 0;
  }
  static constexpr char digits[] = "0123456789abcdef";
  std::string hex;
  for (auto b : raw) {
    hex += digits[b >> 4];
    hex += digits[b & 15];
  }
  return hex;
}

namespace {

std::string parent_of(const std::string &path) {
  auto slash = path.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

// Why members of gid could not reach a file in dir, if they could not.
std::string unreachable_warning(const std::string &dir, gid_t gid, const std::string &group) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0)
    return "";
  bool enter = (st.st_mode & S_IXOTH) || ((st.st_mode & S_IXGRP) && st.st_gid == gid);
  if (enter)
    return "";
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", unsigned(st.st_mode & 07777));
  return "members of group '" + group + "' cannot enter " + dir + " (mode " + mode +
         "): only root can use the control cookie";
}

} // namespace

result<written_cookie> write_cookie(const std::string &path, const std::string &group) {
  auto secret = random_hex();
  if (!secret)
    return secret.err();
  written_cookie out{*secret, ""};
  auto dir = parent_of(path);
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
    return errno_error(errno, "create", dir);
  auto fd = replace_file(path, *secret + "\n", [&](int fd) -> status {
    if (struct group *g = ::getgrnam(group.c_str())) {
      if (::fchown(fd, ::geteuid(), g->gr_gid) != 0 || ::fchmod(fd, 0640) != 0)
        return errno_error(errno, "chown", path);
      out.warning = unreachable_warning(dir, g->gr_gid, group);
    } else {
      out.warning = "group '" + group + "' does not exist: only root can use the control cookie " +
                    path + " (create it with: groupadd --system " + group + ")";
    }
    return success();
  });
  if (!fd)
    return fd.err();
  ::close(*fd);
  return out;
}

result<std::string> read_cookie(const std::string &path) {
  auto text = read_small_file(path);
  if (!text)
    return text.err();
  auto s = std::move(*text);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
    s.pop_back();
  if (s.empty())
    return error{0, path + " is empty"};
  return s;
}

bool same_secret(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() != b.size();
  for (size_t i = 0; i < a.size() && i < b.size(); ++i)
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

} // namespace ballast::sys
