// Journal records: format, parse with CRC check, replay planning, file I/O.
#include "actors/effector/journal.hpp"

#include "sys/replace_file.hpp"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <fcntl.h>
#include <filesystem>
#include <limits>
#include <map>
#include <set>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ballast {

namespace {

// The journal is compacted no smaller than this (see journal.hpp).
constexpr uint64_t min_compact_bytes = 32 * 1024;

std::string escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
    case '\t':
      out += "\\t";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\\':
      out += "\\\\";
      break;
    default:
      out += c;
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
    case 't':
      out += '\t';
      break;
    case 'n':
      out += '\n';
      break;
    case '\\':
      out += '\\';
      break;
    default:
      return std::nullopt;
    }
  }
  return out;
}

uint32_t crc_of(std::string_view s) {
  return uint32_t(crc32(0, reinterpret_cast<const Bytef *>(s.data()), uInt(s.size())));
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

template <class T> bool parse_number(std::string_view s, T &out, int base = 10) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, base);
  return ec == std::errc{} && p == s.data() + s.size() && !s.empty();
}

} // namespace

std::string format_record(uint64_t seq, const journal_record &r) {
  std::string body = std::to_string(seq) + '\t' +
                     (r.kind == journal_record::op::claim ? "claim" : "release") + '\t' +
                     std::to_string(r.cgroup_id) + '\t' + escape(r.knob) + '\t' + escape(r.value) +
                     '\t' + escape(r.path);
  char crc[9];
  std::snprintf(crc, sizeof crc, "%08x", crc_of(body));
  return std::string(crc) + '\t' + body + '\n';
}

std::optional<journal_entry> parse_record(std::string_view line) {
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
  // The format before sequence numbers had no seq field: such a record is
  // read with seq 0, and numbered by its place in the file (read_entries).
  bool legacy = f.size() == 5;
  if (legacy)
    f.insert(f.begin(), "0");
  if (f.size() != 6 || (f[1] != "claim" && f[1] != "release"))
    return std::nullopt;
  journal_entry e;
  auto &r = e.record;
  r.kind = f[1] == "claim" ? journal_record::op::claim : journal_record::op::release;
  auto knob = unescape(f[3]), value = unescape(f[4]), path = unescape(f[5]);
  if (!parse_number(f[0], e.seq) || !parse_number(f[2], r.cgroup_id) || !knob || !value || !path ||
      knob->empty() || (e.seq == 0) != legacy)
    return std::nullopt;
  r.knob = std::move(*knob);
  r.value = std::move(*value);
  r.path = std::move(*path);
  return e;
}

namespace {

using knob_key = std::pair<uint64_t, std::string>; // (cgroup id, knob)

knob_key key_of(const journal_record &r) {
  return {r.cgroup_id, r.knob};
}

// The valid records in sequence order, with what was wrong on the way.
// Records of the format without sequence numbers come first, numbered 1, 2,
// ... in file order: they were written before any numbered one (journal
// appends number on from the highest, so the numbers agree at every read).
std::vector<journal_entry> read_entries(std::string_view text, replay_plan &plan) {
  std::vector<journal_entry> entries;
  uint64_t highest = 0, legacy = 0;
  size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    bool torn = end == std::string_view::npos; // last line without newline
    auto line = text.substr(start, torn ? std::string_view::npos : end - start);
    start = torn ? text.size() : end + 1;
    auto e = torn ? std::nullopt : parse_record(line);
    if (!e) {
      ++plan.bad_lines;
      continue;
    }
    if (e->seq == 0)
      e->seq = ++legacy;
    plan.out_of_order += e->seq < highest;
    highest = std::max(highest, e->seq);
    entries.push_back(std::move(*e));
  }
  std::stable_sort(entries.begin(), entries.end(),
                   [](const auto &a, const auto &b) { return a.seq < b.seq; });
  return entries;
}

// Knobs named by two different records with one sequence number.
std::set<knob_key> conflicting_knobs(const std::vector<journal_entry> &sorted) {
  std::set<knob_key> out;
  for (size_t i = 1; i < sorted.size(); ++i)
    if (sorted[i].seq == sorted[i - 1].seq && !(sorted[i].record == sorted[i - 1].record)) {
      out.insert(key_of(sorted[i].record));
      out.insert(key_of(sorted[i - 1].record));
    }
  return out;
}

// The entries of knobs whose last record leaves them claimed (or whose
// records conflict): what a compacted journal keeps, renumbered from 1 in
// order, so a replay of it plans the same restores.
std::vector<journal_entry> still_open(std::string_view text) {
  replay_plan plan;
  auto entries = read_entries(text, plan);
  auto conflicts = conflicting_knobs(entries);
  std::map<knob_key, bool> open;
  for (auto &e : entries) {
    auto &r = e.record;
    bool is_open = open.count(key_of(r)) && open[key_of(r)];
    if (r.kind == journal_record::op::claim && !is_open)
      open[key_of(r)] = true;
    else if (r.kind == journal_record::op::release && is_open)
      open[key_of(r)] = false;
  }
  std::vector<journal_entry> kept;
  for (auto &e : entries)
    if (open[key_of(e.record)] || conflicts.count(key_of(e.record)))
      kept.push_back(e);
  // Records that shared a number share the new one: a conflict stays one.
  uint64_t next = 0, previous = 0;
  for (auto &e : kept) {
    if (next == 0 || e.seq != previous)
      ++next;
    previous = std::exchange(e.seq, next);
  }
  return kept;
}

} // namespace

replay_plan plan_replay(std::string_view text) {
  replay_plan plan;
  auto entries = read_entries(text, plan);
  auto conflicts = conflicting_knobs(entries);
  // (cgroup id, knob) -> index into `claims` of the open claim
  std::map<knob_key, size_t> open;
  std::vector<journal_record> claims;
  std::vector<bool> closed;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i > 0 && entries[i] == entries[i - 1])
      continue; // the same record twice (a journal copied onto itself)
    auto &r = entries[i].record;
    auto it = open.find(key_of(r));
    if (r.kind == journal_record::op::claim && it == open.end()) {
      open.emplace(key_of(r), claims.size());
      claims.push_back(std::move(r));
      closed.push_back(false);
    } else if (r.kind == journal_record::op::release && it != open.end()) {
      closed[it->second] = true;
      open.erase(it);
    }
    // A second claim on an open knob carries no new original; a release with
    // no open claim has nothing to close.
  }
  for (size_t i = 0; i < claims.size(); ++i)
    if (!closed[i])
      (conflicts.count(key_of(claims[i])) ? plan.ambiguous : plan.restores)
          .push_back(std::move(claims[i]));
  return plan;
}

journal::journal(int fd, std::string path, uint64_t next_seq)
    : fd_(fd), path_(std::move(path)), append_lock_(std::make_unique<std::mutex>()),
      next_seq_(next_seq) {}

journal::journal(journal &&o) noexcept
    : fd_(std::exchange(o.fd_, -1)), path_(std::move(o.path_)),
      append_lock_(std::move(o.append_lock_)), next_seq_(o.next_seq_), size_(o.size_),
      compact_at_(o.compact_at_) {}

journal &journal::operator=(journal &&o) noexcept {
  if (this != &o) {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = std::exchange(o.fd_, -1);
    path_ = std::move(o.path_);
    append_lock_ = std::move(o.append_lock_);
    next_seq_ = o.next_seq_;
    size_ = o.size_;
    compact_at_ = o.compact_at_;
  }
  return *this;
}

journal::~journal() {
  if (fd_ >= 0)
    ::close(fd_);
}

result<journal> journal::open(const std::string &path) {
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
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    ::close(fd);
    return e == EWOULDBLOCK ? error{e, "journal " + path + " is in use by another agent (locked)"}
                            : errno_error(e, "lock journal", path);
  }
  journal j(fd, path, 1);
  auto text = j.read_all();
  if (!text)
    return text.err();
  replay_plan ignored;
  for (auto &e : read_entries(*text, ignored))
    j.next_seq_ = std::max(j.next_seq_, e.seq + 1);
  j.size_ = text->size();
  // A torn last line (a crash mid-append) is ended here: the next record
  // must start a line of its own, not complete that one.
  if (!text->empty() && text->back() != '\n')
    if (auto w = j.write_line("\n"); !w)
      return w.err();
  j.compact_at_ = std::max(min_compact_bytes, 2 * j.size_);
  return j;
}

// One write of a whole line; a short one is cut off again, so that what
// follows starts a line. Called with the append lock held (or at open).
status journal::write_line(const std::string &line) {
  ssize_t n = ::write(fd_, line.data(), line.size());
  if (n == ssize_t(line.size())) {
    size_ += line.size();
    return success();
  }
  int e = n < 0 ? errno : EIO;
  if (n > 0 && ::ftruncate(fd_, off_t(size_)) != 0)
    return errno_error(errno, "cut a short write off journal", path_);
  return n < 0 ? errno_error(e, "append to journal", path_)
               : error{EIO, "short write to journal " + path_ + " (cut off again)"};
}

status journal::append(const journal_record &r) {
  std::lock_guard lock(*append_lock_);
  if (next_seq_ == std::numeric_limits<uint64_t>::max())
    (void)compact_locked(); // renumbers from 1
  if (auto w = write_line(format_record(next_seq_, r)); !w)
    return w;
  ++next_seq_;
  // A failed compaction keeps the file as it is, still correct; it is tried
  // again once the file has doubled.
  if (size_ > compact_at_ && !compact_locked())
    compact_at_ = 2 * size_;
  // Under the lock: a compaction may swap the fd.
  if (::fdatasync(fd_) != 0)
    return errno_error(errno, "sync journal", path_);
  return success();
}

status journal::compact() {
  std::lock_guard lock(*append_lock_);
  return compact_locked();
}

status journal::compact_locked() {
  auto text = read_all();
  if (!text)
    return text.err();
  std::string kept;
  uint64_t next = 1;
  for (auto &e : still_open(*text)) {
    kept += format_record(e.seq, e.record);
    next = std::max(next, e.seq + 1);
  }
  // Locked before it takes the name: a second agent opening the path meets
  // the lock on whichever file it finds.
  auto fd = sys::replace_file(path_, kept, [&](int fd) -> status {
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0)
      return errno_error(errno, "lock the compacted", path_);
    return success();
  });
  if (!fd)
    return fd.err();
  ::close(fd_);
  fd_ = *fd;
  size_ = kept.size();
  next_seq_ = next;
  compact_at_ = std::max(min_compact_bytes, 2 * size_);
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
  std::lock_guard lock(*append_lock_);
  if (::ftruncate(fd_, 0) != 0)
    return errno_error(errno, "truncate journal", path_);
  size_ = 0;
  return success();
}

} // namespace ballast
