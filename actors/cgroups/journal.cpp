// Journal records: format, parse with CRC check, replay planning, file I/O.
#include "actors/cgroups/journal.hpp"

#include <zlib.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <fcntl.h>
#include <filesystem>
#include <map>
#include <sys/stat.h>
#include <unistd.h>

namespace ballast {

namespace {

std::string escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\\': out += "\\\\"; break;
      default: out += c;
    }
  }
  return out;
}

std::optional<std::string> unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out += s[i];
      continue;
    }
    if (++i == s.size())
      return std::nullopt;
    switch (s[i]) {
      case 't': out += '\t'; break;
      case 'n': out += '\n'; break;
      case '\\': out += '\\'; break;
      default: return std::nullopt;
    }
  }
  return out;
}

uint32_t crc_of(std::string_view s) {
  return uint32_t(crc32(0, reinterpret_cast<const Bytef*>(s.data()), uInt(s.size())));
}

std::vector<std::string_view> split_tabs(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == '\t') {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

template <class T>
bool parse_number(std::string_view s, T& out, int base = 10) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, base);
  return ec == std::errc{} && p == s.data() + s.size() && !s.empty();
}

} // namespace

std::string format_record(const journal_record& r) {
  std::string body = std::string(r.kind == journal_record::op::claim ? "claim" : "release") +
                     '\t' + std::to_string(r.cgroup_id) + '\t' + escape(r.knob) + '\t' +
                     escape(r.value) + '\t' + escape(r.path);
  char crc[9];
  std::snprintf(crc, sizeof crc, "%08x", crc_of(body));
  return std::string(crc) + '\t' + body + '\n';
}

std::optional<journal_record> parse_record(std::string_view line) {
  if (!line.empty() && line.back() == '\n')
    line.remove_suffix(1);
  auto tab = line.find('\t');
  uint32_t crc = 0;
  if (tab != 8 || !parse_number(line.substr(0, 8), crc, 16))
    return std::nullopt;
  auto body = line.substr(9);
  if (crc_of(body) != crc)
    return std::nullopt;
  auto f = split_tabs(body);
  if (f.size() != 5 || (f[0] != "claim" && f[0] != "release"))
    return std::nullopt;
  journal_record r;
  r.kind = f[0] == "claim" ? journal_record::op::claim : journal_record::op::release;
  auto knob = unescape(f[2]), value = unescape(f[3]), path = unescape(f[4]);
  if (!parse_number(f[1], r.cgroup_id) || !knob || !value || !path || knob->empty())
    return std::nullopt;
  r.knob = std::move(*knob);
  r.value = std::move(*value);
  r.path = std::move(*path);
  return r;
}

replay_plan plan_replay(std::string_view text) {
  replay_plan plan;
  // (cgroup id, knob) -> index into plan.restores of the open claim
  std::map<std::pair<uint64_t, std::string>, size_t> open;
  std::vector<bool> closed;
  size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    bool torn = end == std::string_view::npos;  // last line without newline
    auto line = text.substr(start, torn ? std::string_view::npos : end - start);
    start = torn ? text.size() : end + 1;
    auto r = torn ? std::nullopt : parse_record(line);
    if (!r) {
      ++plan.bad_lines;
      continue;
    }
    auto key = std::make_pair(r->cgroup_id, r->knob);
    auto it = open.find(key);
    if (r->kind == journal_record::op::claim && it == open.end()) {
      open.emplace(key, plan.restores.size());
      plan.restores.push_back(std::move(*r));
      closed.push_back(false);
    } else if (r->kind == journal_record::op::release && it != open.end()) {
      closed[it->second] = true;
      open.erase(it);
    }
    // A second claim on an open knob carries no new original; a release with
    // no open claim has nothing to close.
  }
  std::vector<journal_record> still_open;
  for (size_t i = 0; i < plan.restores.size(); ++i)
    if (!closed[i])
      still_open.push_back(std::move(plan.restores[i]));
  plan.restores = std::move(still_open);
  return plan;
}

journal::journal(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}

journal::journal(journal&& o) noexcept : fd_(std::exchange(o.fd_, -1)), path_(std::move(o.path_)) {}

journal& journal::operator=(journal&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = std::exchange(o.fd_, -1);
    path_ = std::move(o.path_);
  }
  return *this;
}

journal::~journal() {
  if (fd_ >= 0)
    ::close(fd_);
}

result<journal> journal::open(const std::string& path) {
  auto parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty() && !std::filesystem::exists(parent, ec)) {
    std::filesystem::create_directories(parent, ec);
    if (ec)
      return error{ec.value(), "create journal directory " + parent.string() + ": " + ec.message()};
    ::chmod(parent.c_str(), 0700);
  }
  int fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return errno_error(errno, "open journal", path);
  return journal(fd, path);
}

status journal::append(const journal_record& r) {
  auto line = format_record(r);
  ssize_t n = ::write(fd_, line.data(), line.size());
  if (n != ssize_t(line.size()))
    return n < 0 ? errno_error(errno, "append to journal", path_)
                 : error{EIO, "short write to journal " + path_};
  if (::fdatasync(fd_) != 0)
    return errno_error(errno, "sync journal", path_);
  return success();
}

result<std::string> journal::read_all() const {
  std::string out;
  char buf[65536];
  for (off_t off = 0;;) {
    ssize_t n = ::pread(fd_, buf, sizeof buf, off);
    if (n < 0)
      return errno_error(errno, "read journal", path_);
    if (n == 0)
      return out;
    out.append(buf, size_t(n));
    off += n;
  }
}

status journal::truncate() {
  if (::ftruncate(fd_, 0) != 0)
    return errno_error(errno, "truncate journal", path_);
  return success();
}

} // namespace ballast
