#include "actors/policies/memory_sample.hpp"

#include "sys/cgroupfs.hpp"
#include "sys/knobs.hpp"
#include "sys/procfs.hpp"
#include "sys/psi.hpp"
#include "sys/text.hpp"

namespace ballast {

std::optional<uint64_t> parse_limit(std::string_view text) {
  text = sys::text::trim(text);
  if (text == "max")
    return no_limit;
  return sys::text::parse_number<uint64_t>(text);
}

std::string limit_text(uint64_t bytes) {
  return bytes == no_limit ? "max" : std::to_string(bytes);
}

namespace {

bool host_has_swap(const std::string &proc_root) {
  auto meminfo = sys::read_small_file(proc_root + "/meminfo");
  if (!meminfo)
    return false;
  bool swap = false;
  std::vector<std::string_view> words;
  sys::text::for_each_line(*meminfo, [&](std::string_view line) {
    sys::text::split_words(line, words);
    if (words.size() >= 2 && words[0] == "SwapTotal:")
      swap = sys::text::parse_number<uint64_t>(words[1]).value_or(0) > 0;
  });
  return swap;
}

} // namespace

result<memory_sample> read_memory_sample(cgroup_probe &probe, const std::string &proc_root) {
  memory_sample s;
  auto current = probe.read(sys::files::memory_current);
  if (!current)
    return current.err();
  s.current = parse_limit(*current).value_or(0);
  if (auto high = probe.read(knobs::memory_high.name))
    s.high = parse_limit(*high).value_or(no_limit);
  auto pressure = probe.read(sys::files::memory_pressure);
  auto psi = pressure ? sys::parse_psi(*pressure) : result<sys::psi_reading>(pressure.err());
  if (!psi)
    return psi.err();
  s.stall_some_us = psi->some.total_us;
  if (auto stat = probe.read("memory.stat"))
    for (auto &[key, value] : sys::parse_flat_keyed(*stat)) {
      if (key == "anon")
        s.anon = value;
      else if (key == "file")
        s.file = value;
    }
  auto swap_max = probe.read("memory.swap.max");
  s.swap = host_has_swap(proc_root) && (!swap_max || parse_limit(*swap_max).value_or(0) > 0);
  return s;
}

} // namespace ballast
