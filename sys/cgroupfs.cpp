// cgroup2 filesystem access (Documentation/admin-guide/cgroup-v2.rst). A
// cgroup_dir holds its directory fd and one fd per control file it has used,
// so a periodic read is one pread and never a path lookup racing the cgroup's
// removal. The cost is one fd per (cgroup, file) pair for the life of the
// cgroup_dir. Any failed read drops that file's fd, so the next call reopens
// it and reports the real state instead of reusing a dead fd. Writes (knob
// changes, rare) open the file each time.
#include "sys/cgroupfs.hpp"

#include "sys/text.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <utility>

namespace ballast::sys {
namespace {

constexpr size_t read_chunk = 4096;
constexpr int dir_flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;

std::string control_path(const std::string &root, const std::string &rel, std::string_view file) {
  return join_cgroup_path(root, rel) + "/" + std::string(file);
}

// A control file is a plain name inside the cgroup directory.
bool is_file_name(std::string_view file) {
  return !file.empty() && file != "." && file != ".." &&
         file.find_first_of(std::string_view("/\0", 2)) == std::string_view::npos;
}

// Reads the whole content of fd into out, from offset 0 so the fd can be
// reused. Returns 0 or the errno of the failed pread.
int pread_all(int fd, std::string &out) {
  out.clear();
  for (;;) {
    const size_t used = out.size();
    out.resize(used + read_chunk);
    const ssize_t n = ::pread(fd, out.data() + used, read_chunk, static_cast<off_t>(used));
    const int code = n < 0 ? errno : 0;
    out.resize(used + static_cast<size_t>(std::max<ssize_t>(n, 0)));
    if (n == 0)
      return 0;
    if (code != 0 && code != EINTR)
      return code;
  }
}

void drop_fd(std::unordered_map<std::string, int> &fds, std::string_view file) {
  const auto it = fds.find(std::string(file));
  if (it == fds.end())
    return;
  ::close(it->second);
  fds.erase(it);
}

void close_fds(std::unordered_map<std::string, int> &fds) {
  for (const auto &[name, fd] : fds)
    ::close(fd);
  fds.clear();
}

std::string child_path(const std::string &rel, std::string_view name) {
  return (rel == "/" ? "" : rel) + "/" + std::string(name);
}

struct dir_closer {
  void operator()(DIR *dir) const { ::closedir(dir); }
};
using dir_ptr = std::unique_ptr<DIR, dir_closer>;

// Entries that may be subdirectories, sorted so the walk order is stable.
// DT_UNKNOWN is kept: opening it with O_DIRECTORY decides.
result<std::vector<std::string>> subdir_names(DIR *dir, const std::string &path) {
  std::vector<std::string> names;
  for (;;) {
    errno = 0;
    const dirent *entry = ::readdir(dir);
    if (entry == nullptr)
      break;
    const std::string_view name = entry->d_name;
    if (name == "." || name == ".." || (entry->d_type != DT_DIR && entry->d_type != DT_UNKNOWN))
      continue;
    names.emplace_back(name);
  }
  if (errno != 0)
    return errno_error(errno, "readdir", path);
  std::sort(names.begin(), names.end());
  return names;
}

// Appends the directory open as fd (taking ownership) and, depth first, its
// subdirectories. Subdirectories that vanish or are not directories (symlinks
// are not followed) are skipped.
status walk(int fd, const std::string &root, const std::string &rel,
            std::vector<cgroup_entry> &out) {
  const std::string path = join_cgroup_path(root, rel);
  const dir_ptr dir(::fdopendir(fd));
  if (!dir) {
    const error e = errno_error(errno, "opendir", path);
    ::close(fd);
    return e;
  }
  struct stat st {};
  if (::fstat(::dirfd(dir.get()), &st) != 0)
    return errno_error(errno, "stat", path);
  out.push_back({rel, static_cast<uint64_t>(st.st_ino)});
  auto names = subdir_names(dir.get(), path);
  if (!names)
    return names.err();
  for (const std::string &name : *names) {
    const std::string child_rel = child_path(rel, name);
    const int child = ::openat(::dirfd(dir.get()), name.c_str(), dir_flags | O_NOFOLLOW);
    if (child < 0) {
      const int code = errno;
      if (code == ENOENT || code == ENOTDIR || code == ELOOP)
        continue;
      return errno_error(code, "open", join_cgroup_path(root, child_rel));
    }
    if (auto s = walk(child, root, child_rel, out); !s)
      return s;
  }
  return success();
}

} // namespace

std::string join_cgroup_path(const std::string &root, std::string_view rel) {
  if (rel == "/")
    return root;
  std::string joined = root;
  while (!joined.empty() && joined.back() == '/')
    joined.pop_back();
  return joined + std::string(rel);
}

bool is_clean_cgroup_path(std::string_view rel) {
  if (rel == "/")
    return true;
  if (!rel.starts_with('/') || rel.ends_with('/') || rel.find('\0') != std::string_view::npos)
    return false;
  // With a '/' appended every component c reads "/c/", so an empty, "." or
  // ".." component shows up as one of these.
  const std::string closed = std::string(rel) + "/";
  return closed.find("//") == std::string::npos && closed.find("/./") == std::string::npos &&
         closed.find("/../") == std::string::npos;
}

result<cgroup_dir> cgroup_dir::open(const std::string &root, std::string rel) {
  if (!is_clean_cgroup_path(rel))
    return error{0, "cgroup: unclean path '" + rel + "'"};
  const std::string path = join_cgroup_path(root, rel);
  const int fd = ::open(path.c_str(), dir_flags);
  if (fd < 0)
    return errno_error(errno, "open", path);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const error e = errno_error(errno, "stat", path);
    ::close(fd);
    return e;
  }
  return cgroup_dir(fd, root, std::move(rel), static_cast<uint64_t>(st.st_ino));
}

cgroup_dir::cgroup_dir(int dirfd, std::string root, std::string rel, uint64_t id)
    : dirfd_(dirfd), root_(std::move(root)), rel_(std::move(rel)), id_(id) {}

cgroup_dir::cgroup_dir(cgroup_dir &&other) noexcept
    : dirfd_(std::exchange(other.dirfd_, -1)), root_(std::move(other.root_)),
      rel_(std::move(other.rel_)), id_(std::exchange(other.id_, 0)),
      read_fds_(std::exchange(other.read_fds_, {})) {}

cgroup_dir &cgroup_dir::operator=(cgroup_dir &&other) noexcept {
  if (this != &other) {
    close_all();
    dirfd_ = std::exchange(other.dirfd_, -1);
    root_ = std::move(other.root_);
    rel_ = std::move(other.rel_);
    id_ = std::exchange(other.id_, 0);
    read_fds_ = std::exchange(other.read_fds_, {});
  }
  return *this;
}

cgroup_dir::~cgroup_dir() {
  close_all();
}

void cgroup_dir::close_all() {
  close_fds(read_fds_);
  if (dirfd_ >= 0)
    ::close(std::exchange(dirfd_, -1));
}

result<int> cgroup_dir::open_file(std::string_view file, int flags) const {
  if (!is_file_name(file))
    return error{0, "cgroup " + rel_ + ": bad control file name '" + std::string(file) + "'"};
  const int fd = ::openat(dirfd_, std::string(file).c_str(), flags | O_CLOEXEC);
  if (fd < 0) {
    const int code = errno;
    return errno_error(code, "open", control_path(root_, rel_, file));
  }
  return fd;
}

result<int> cgroup_dir::read_fd(std::string_view file) {
  std::string name(file);
  if (const auto it = read_fds_.find(name); it != read_fds_.end())
    return it->second;
  auto fd = open_file(file, O_RDONLY);
  if (fd)
    read_fds_.emplace(std::move(name), *fd);
  return fd;
}

result<std::string> cgroup_dir::read(std::string_view file) {
  const auto fd = read_fd(file);
  if (!fd)
    return fd.err();
  std::string text;
  if (const int code = pread_all(*fd, text); code != 0) {
    drop_fd(read_fds_, file);
    return errno_error(code, "read", control_path(root_, rel_, file));
  }
  return text;
}

result<std::string> cgroup_dir::read_parent(std::string_view file) const {
  if (!is_file_name(file))
    return error{0, "cgroup " + rel_ + ": bad control file name '" + std::string(file) + "'"};
  const int parent = ::openat(dirfd_, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (parent < 0) {
    const int code = errno;
    return errno_error(code, "open", control_path(root_, rel_, ".."));
  }
  const int fd = ::openat(parent, std::string(file).c_str(), O_RDONLY | O_CLOEXEC);
  const int open_code = errno;
  ::close(parent);
  const std::string where = control_path(root_, rel_, "../" + std::string(file));
  if (fd < 0)
    return errno_error(open_code, "open", where);
  std::string text;
  const int code = pread_all(fd, text);
  ::close(fd);
  if (code != 0)
    return errno_error(code, "read", where);
  return text;
}

status cgroup_dir::write(std::string_view file, std::string_view value) {
  // Opened per write with O_TRUNC (cgroupfs accepts it, as `echo x > knob`
  // does), so a fixture file holds exactly the last value, like a knob.
  const auto fd = open_file(file, O_WRONLY | O_TRUNC);
  if (!fd)
    return fd.err();
  // A write(2) of no bytes never reaches the kernel's handler: an empty
  // value ("" in cpuset.cpus: the parent's CPUs) goes as a newline, as
  // `echo > cpuset.cpus` sends it.
  if (value.empty())
    value = "\n";
  const ssize_t n = ::write(*fd, value.data(), value.size());
  const int code = n < 0 ? errno : 0;
  ::close(*fd);
  if (n == static_cast<ssize_t>(value.size()))
    return success();
  const std::string reason =
      code != 0 ? std::strerror(code) : "short write of " + std::to_string(n) + " bytes";
  return error{code, "write '" + std::string(value) + "' to " + control_path(root_, rel_, file) +
                         ": " + reason};
}

result<std::vector<int>> cgroup_dir::procs() {
  auto text = read(files::procs);
  if (!text)
    return text.err();
  return parse_pid_list(*text);
}

bool cgroup_dir::exists() const {
  // A removed directory's fd stays valid, but lookups in it fail: on cgroupfs
  // the dead directory is empty, and a fixture must delete its files before
  // rmdir. Every cgroup2 directory, the root included, has cgroup.procs.
  struct stat st {};
  return ::fstatat(dirfd_, std::string(files::procs).c_str(), &st, 0) == 0;
}

result<std::vector<cgroup_entry>> scan_cgroup_tree(const std::string &root) {
  const int fd = ::open(root.c_str(), dir_flags);
  if (fd < 0)
    return errno_error(errno, "open", root);
  std::vector<cgroup_entry> entries;
  if (auto s = walk(fd, root, "/", entries); !s)
    return s.err();
  return entries;
}

std::vector<std::pair<std::string, uint64_t>> parse_flat_keyed(std::string_view content) {
  std::vector<std::pair<std::string, uint64_t>> out;
  std::vector<std::string_view> words;
  text::for_each_line(content, [&](std::string_view line) {
    text::split_words(line, words);
    if (words.size() != 2)
      return;
    if (const auto value = text::parse_number<uint64_t>(words[1]))
      out.emplace_back(std::string(words[0]), *value);
  });
  return out;
}

std::vector<int> parse_pid_list(std::string_view content) {
  std::vector<int> pids;
  text::for_each_line(content, [&](std::string_view line) {
    const auto pid = text::parse_number<int>(line);
    if (pid && *pid > 0)
      pids.push_back(*pid);
  });
  return pids;
}

result<std::string> confine_cgroup_path(const std::string &root, std::string_view rel) {
  if (!is_clean_cgroup_path(rel))
    return error{EINVAL, "'" + std::string(rel) +
                             "' is not a clean absolute cgroup path (no '..', "
                             "'.', empty components or relative paths)"};
  char real_root[PATH_MAX], real[PATH_MAX];
  if (!::realpath(root.c_str(), real_root))
    return errno_error(errno, "realpath", root);
  auto full = join_cgroup_path(root, rel);
  if (!::realpath(full.c_str(), real))
    return errno_error(errno, "no cgroup", std::string(rel));
  std::string_view r(real), base(real_root);
  if (r != base && (r.substr(0, base.size()) != base || r[base.size()] != '/'))
    return error{EPERM, "'" + std::string(rel) + "' leads outside the cgroup2 root"};
  return std::string(rel);
}

} // namespace ballast::sys
