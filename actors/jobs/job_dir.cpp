// See job_dir.hpp.
#include "actors/jobs/job_dir.hpp"

#include "sys/procfs.hpp"

#include <nlohmann/json.hpp>

#include <charconv>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ballast::jobs {

namespace {

using json = nlohmann::json;

json to_json(const job_request &r) {
  json limits = json::array();
  for (auto &l : r.limits)
    limits.push_back({{"knob", l.knob}, {"value", l.value}});
  return {{"id", r.id},           {"argv", r.argv},
          {"env", r.env},         {"cwd", r.cwd},
          {"limits", limits},     {"priority", r.priority},
          {"service", r.service}, {"require_paths", r.require_paths},
          {"user", r.user}};
}

job_request request_from(const json &j) {
  job_request r;
  r.id = j.at("id").get<std::string>();
  r.argv = j.at("argv").get<std::vector<std::string>>();
  r.env = j.at("env").get<std::vector<std::string>>();
  r.cwd = j.at("cwd").get<std::string>();
  for (auto &l : j.at("limits"))
    r.limits.push_back({l.at("knob").get<std::string>(), l.at("value").get<std::string>()});
  r.priority = j.at("priority").get<int32_t>();
  r.service = j.at("service").get<std::string>();
  r.require_paths = j.at("require_paths").get<std::vector<std::string>>();
  r.user = j.at("user").get<std::string>();
  return r;
}

// Reads a file at an offset, at most max bytes; "" if it is not there.
std::string read_from(int fd, uint64_t offset, uint64_t max) {
  std::string out;
  char buf[64 * 1024];
  while (out.size() < max) {
    auto want = std::min<uint64_t>(sizeof buf, max - out.size());
    ssize_t n = ::pread(fd, buf, want, static_cast<off_t>(offset + out.size()));
    if (n <= 0)
      break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

struct open_file {
  int fd = -1;
  struct stat st {};
  explicit open_file(const std::string &path) {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd >= 0 && ::fstat(fd, &st) < 0) {
      ::close(fd);
      fd = -1;
    }
  }
  ~open_file() {
    if (fd >= 0)
      ::close(fd);
  }
  uint64_t size() const { return fd < 0 ? 0 : static_cast<uint64_t>(st.st_size); }
  uint64_t inode() const { return fd < 0 ? 0 : static_cast<uint64_t>(st.st_ino); }
};

} // namespace

status write_record(const std::string &dir, const job_record &r) {
  json j{{"request", to_json(r.request)},
         {"uid", r.uid},
         {"gid", r.gid},
         {"cgroup", r.cgroup},
         {"shim_pid", r.shim_pid},
         {"shim_start_ticks", r.shim_start_ticks},
         {"into_cgroup", r.into_cgroup},
         {"created_unix_ms", r.created_unix_ms}};
  // Renamed into place, not synced: it has to outlive the agent, not the
  // host (the job does not outlive a reboot either), and a sync would cost
  // a start milliseconds.
  auto path = dir + "/job.json", tmp = path + ".new";
  auto text = j.dump() + "\n";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return errno_error(errno, "create", tmp);
  bool written = ::write(fd, text.data(), text.size()) == ssize_t(text.size());
  int code = errno;
  ::close(fd);
  if (!written || ::rename(tmp.c_str(), path.c_str()) < 0) {
    code = written ? errno : code;
    ::unlink(tmp.c_str());
    return errno_error(code, "write", path);
  }
  return success();
}

result<job_record> read_record(const std::string &dir) {
  auto text = sys::read_small_file(dir + "/job.json");
  if (!text)
    return text.err();
  try {
    auto j = json::parse(*text);
    job_record r;
    r.request = request_from(j.at("request"));
    r.uid = j.at("uid").get<uint32_t>();
    r.gid = j.at("gid").get<uint32_t>();
    r.cgroup = j.at("cgroup").get<std::string>();
    r.shim_pid = j.at("shim_pid").get<int32_t>();
    r.shim_start_ticks = j.at("shim_start_ticks").get<uint64_t>();
    r.into_cgroup = j.at("into_cgroup").get<bool>();
    r.created_unix_ms = j.at("created_unix_ms").get<int64_t>();
    return r;
  } catch (const json::exception &e) {
    return error{EINVAL, dir + "/job.json: " + e.what()};
  }
}

std::optional<job_end> read_end(const std::string &dir) {
  auto text = sys::read_small_file(dir + "/status");
  if (!text)
    return std::nullopt;
  auto j = json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return std::nullopt;
  job_end e;
  e.exit_code = j.value("exit", -1);
  e.signal = j.value("signal", 0);
  e.error = j.value("error", "");
  return e;
}

int32_t read_main_pid(const std::string &dir) {
  auto text = sys::read_small_file(dir + "/main.pid");
  int32_t pid = 0;
  if (text)
    std::from_chars(text->data(), text->data() + text->size(), pid);
  return pid;
}

job_log_chunk read_log(const std::string &dir, const job_log_cursor &at, uint64_t max_bytes) {
  open_file older(dir + "/log.1"), current(dir + "/log");
  job_log_chunk out;
  out.next.id = at.id;
  // Where to start: in log at the offset; in log.1 if the cursor's file has
  // been rotated there since; from the start of what is kept otherwise.
  uint64_t older_from = older.size(), current_from = 0;
  if (at.inode != 0 && at.inode == current.inode())
    current_from = std::min(at.offset, current.size());
  else if (at.inode != 0 && at.inode == older.inode())
    older_from = std::min(at.offset, older.size());
  else if (at.inode == 0)
    older_from = 0;
  // The newest max_bytes of what is left to read.
  uint64_t pending = older.size() - older_from + current.size() - current_from;
  if (pending > max_bytes) {
    uint64_t skip = pending - max_bytes;
    uint64_t from_older = std::min(skip, older.size() - older_from);
    older_from += from_older;
    current_from += skip - from_older;
  }
  if (older.fd >= 0 && older_from < older.size())
    out.text = read_from(older.fd, older_from, older.size() - older_from);
  if (current.fd >= 0)
    out.text += read_from(current.fd, current_from, current.size() - current_from);
  out.next.inode = current.inode();
  out.next.offset = current.fd >= 0 ? current.size() : 0;
  return out;
}

} // namespace ballast::jobs
