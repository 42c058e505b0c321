// The knob journal as a restarted agent reads it: each line parsed (CRC,
// fields, escapes) and the replay planned from the whole text. A random line
// almost never has a valid CRC, so when the first byte is odd every line of
// the rest gets a correct CRC prepended and the fuzzer reaches the fields.
// A parsed record must survive format -> parse unchanged.
#include "actors/effector/journal.hpp"
#include "tests/fuzz/fuzz_check.hpp"

#include <zlib.h>

#include <cstdio>
#include <set>
#include <string>
#include <utility>

using ballast::fuzz::check;

namespace {

// Each line of body as "<crc32 hex>\t<line>\n".
std::string with_crcs(std::string_view body) {
  std::string out;
  while (!body.empty()) {
    const auto nl = body.find('\n');
    const auto line = body.substr(0, nl);
    char crc[9];
    std::snprintf(crc, sizeof crc, "%08lx",
                  crc32(0, reinterpret_cast<const Bytef *>(line.data()), uInt(line.size())));
    out.append(crc).append(1, '\t').append(line).append(1, '\n');
    if (nl == std::string_view::npos)
      break;
    body.remove_prefix(nl + 1);
  }
  return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  const auto rest = ballast::fuzz::as_text(data + 1, size - 1);
  const std::string text = (data[0] & 1) ? with_crcs(rest) : std::string(rest);

  size_t lines = 0, parsed = 0;
  std::string_view all = text;
  while (!all.empty()) {
    const auto nl = all.find('\n');
    const auto line = all.substr(0, nl);
    ++lines;
    if (auto r = ballast::parse_record(line)) {
      ++parsed;
      check(!r->record.knob.empty(), "a record names its knob");
      // A record of the format without numbers (seq 0) is written numbered.
      const uint64_t seq = r->seq == 0 ? 1 : r->seq;
      const auto again = ballast::parse_record(ballast::format_record(seq, r->record));
      check(again && again->record == r->record && again->seq == seq,
            "format -> parse gives the record back");
    }
    if (nl == std::string_view::npos)
      break;
    all.remove_prefix(nl + 1);
  }

  const auto plan = ballast::plan_replay(text);
  check(plan.bad_lines <= lines, "no more bad lines than lines");
  check(plan.restores.size() + plan.ambiguous.size() <= parsed,
        "a restore comes from a parsed line");
  check(plan.out_of_order <= parsed, "no more records out of order than records");
  std::set<std::pair<uint64_t, std::string>> keys;
  for (const auto *list : {&plan.restores, &plan.ambiguous})
    for (const auto &r : *list) {
      check(r.kind == ballast::journal_record::op::claim, "only claims are restored");
      check(keys.emplace(r.cgroup_id, r.knob).second,
            "one restore per (cgroup, knob), and none for an ambiguous one");
    }
  return 0;
}
