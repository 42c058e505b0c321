// The knob journal: crash safety for claims. Before the first write to a
// knob, its original value is appended (op "claim"); when the knob is back
// at its original, op "release" closes the entry. A restarted agent replays
// the file: every claim without a release is an original to put back, if
// the cgroup still exists with the same id (a new cgroup at the same path is
// not ours to touch).
//
// One record per line, tab-separated, with a CRC32 of the rest of the line
// first, so a torn or corrupt line is recognised and skipped, never applied,
// then a sequence number, so records out of order (a journal edited, merged
// or copied) are replayed in the order they were written:
//   <crc32 hex>\t<seq>\t<claim|release>\t<cgroup id>\t<knob>\t<value>\t<cgroup path>
// Tabs, newlines and backslashes in fields are escaped as \t \n \\.
// Two different records with one sequence number leave no way to know which
// came first: their knobs are not restored at all, rather than maybe wrongly.
#pragma once

#include "sys/result.hpp"

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ballast {

struct journal_record {
  enum class op { claim, release };
  op kind = op::claim;
  uint64_t cgroup_id = 0;
  std::string knob;
  std::string value; // the original value (for release: the value restored)
  std::string path;  // cgroup path relative to the cgroup2 root
  bool operator==(const journal_record &) const = default;
};

struct journal_entry {
  uint64_t seq = 0;
  journal_record record;
  bool operator==(const journal_entry &) const = default;
};

std::string format_record(uint64_t seq, const journal_record &r);

// nullopt for a line that is torn, corrupt or not a record.
std::optional<journal_entry> parse_record(std::string_view line);

struct replay_plan {
  std::vector<journal_record> restores;  // claims still open, oldest first
  size_t bad_lines = 0;                  // skipped as corrupt
  size_t out_of_order = 0;               // records after one with a higher seq
  std::vector<journal_record> ambiguous; // open claims not restored: seq conflicts
};

// The originals an agent that died left changed. Only the first claim of a
// (cgroup id, knob) carries the original; a release closes it.
replay_plan plan_replay(std::string_view text);

// The journal file. Appends are one write(2) each on an O_APPEND fd followed
// by fdatasync, so a record is on disk before the knob is written; sequence
// numbers go on from the highest in the file. The file is locked (flock) for
// as long as it is open: two agents on one journal would mix their records.
// A line is never left half-written before another: a short write is cut
// off again, and a torn last line found at open is ended first. The file
// stays bounded: once it has grown to twice its size after the last
// compaction (and past 32 KiB), it is rewritten with only the records of
// knobs still claimed, renumbered from 1 (so numbers never run out either).
// Records of the format before sequence numbers are read as well.
class journal {
public:
  // Creates the parent directory (0700) and the file (0600) if missing.
  static result<journal> open(const std::string &path);

  journal(journal &&) noexcept;
  journal &operator=(journal &&) noexcept;
  journal(const journal &) = delete;
  ~journal();

  status append(const journal_record &r);

  // Whole content, for replay.
  result<std::string> read_all() const;

  // Empties the file (after a replay has restored everything).
  status truncate();

  // Rewrites the file with only what a replay would need (see above),
  // atomically: a new file renamed over the old one, locked first.
  status compact();

  // Bytes in the file now.
  uint64_t size() const { return size_; }

  const std::string &path() const { return path_; }

private:
  journal(int fd, std::string path, uint64_t next_seq);
  status compact_locked();
  status write_line(const std::string &line);
  int fd_ = -1;
  std::string path_;
  // Held from taking a sequence number to its write, so the file's order is
  // the sequence's; a pointer keeps the journal movable.
  std::unique_ptr<std::mutex> append_lock_;
  uint64_t next_seq_ = 1;
  uint64_t size_ = 0;
  uint64_t compact_at_ = 0; // set at open and after each compaction
};

} // namespace ballast
