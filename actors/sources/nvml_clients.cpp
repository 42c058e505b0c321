// nvml_clients; see nvml_clients.hpp.
#include "actors/sources/nvml_clients.hpp"

#include <algorithm>
#include <array>
#include <set>

namespace ballast {

namespace {

constexpr std::array<const char *, 3> engines = {"sm", "enc", "dec"};

std::array<uint32_t, 3> percentages(const sys::nvml_utilization &s) {
  return {s.sm, s.encoder, s.decoder};
}

} // namespace

nvml_clients::nvml_clients(sys::nvml library)
    : library_(std::move(library)), last_sample_us_(library_.devices().size(), 0) {}

nvml_clients::clients_read nvml_clients::read(uint64_t now_ns) {
  clients_read out;
  uint64_t elapsed_ns = read_ns_ ? now_ns - read_ns_ : 0;
  std::set<std::pair<size_t, uint32_t>> seen;
  for (size_t d = 0; d < devices().size(); ++d) {
    auto processes = library_.processes(d);
    if (!processes) {
      out.errors.push_back(devices()[d] + ": " + processes.err().message);
      continue;
    }
    auto samples = library_.utilization(d, last_sample_us_[d]);
    if (!samples) { // memory is still known
      out.errors.push_back(devices()[d] + ": " + samples.err().message);
      samples = std::vector<sys::nvml_utilization>{};
    }
    std::set<uint64_t> instants;
    std::map<uint32_t, std::array<uint64_t, 3>> percent_sums;
    for (auto &s : *samples) {
      instants.insert(s.timestamp_us);
      auto &sums = percent_sums[s.pid];
      auto p = percentages(s);
      for (size_t e = 0; e < engines.size(); ++e)
        sums[e] += std::min<uint32_t>(p[e], 100);
      last_sample_us_[d] = std::max(last_sample_us_[d], s.timestamp_us);
    }
    std::map<uint32_t, uint64_t> memory;
    for (auto &p : *processes)
      memory[p.pid] = p.memory;
    for (auto &[pid, _] : percent_sums)
      memory.try_emplace(pid, 0); // busy, but no context listed: still a client
    for (auto &[pid, bytes] : memory) {
      auto &ns = engine_ns_[{d, pid}];
      seen.insert({d, pid});
      auto sums = percent_sums.find(pid);
      client c{int(pid), {"nvidia", devices()[d], pid, {}, {{"vram", bytes}}}};
      for (size_t e = 0; e < engines.size(); ++e) {
        if (elapsed_ns && sums != percent_sums.end())
          ns[engines[e]] += uint64_t((long double)sums->second[e] / 100 /
                                     (long double)instants.size() * (long double)elapsed_ns);
        c.usage.engines[engines[e]].ns = ns[engines[e]];
      }
      out.clients.push_back(std::move(c));
    }
  }
  std::erase_if(engine_ns_, [&](auto &entry) { return !seen.contains(entry.first); });
  read_ns_ = now_ns;
  return out;
}

} // namespace ballast
