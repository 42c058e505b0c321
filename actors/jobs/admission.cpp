// See admission.hpp.
#include "actors/jobs/admission.hpp"

#include "sys/procfs.hpp"

#include <cstdio>

namespace ballast::jobs {

std::map<std::string, sys::psi_line> read_host_psi(const std::string &proc_root) {
  std::map<std::string, sys::psi_line> out;
  for (std::string r : {"cpu", "memory", "io"}) {
    auto text = sys::read_small_file(proc_root + "/pressure/" + r);
    auto psi = text ? sys::parse_psi(*text) : result<sys::psi_reading>(text.err());
    if (!psi)
      continue;
    out[r + ".some"] = psi->some;
    if (psi->full)
      out[r + ".full"] = *psi->full;
  }
  return out;
}

host_pressure read_host_pressure(const std::string &proc_root) {
  host_pressure out;
  for (auto &[resource, line] : read_host_psi(proc_root))
    out[resource] = line.avg10;
  return out;
}

std::optional<std::string> refusal(const std::vector<config::admission_band> &bands,
                                   int32_t priority, const host_pressure &now) {
  for (auto &band : bands) {
    if (priority > band.max_priority)
      continue;
    for (auto &limit : band.limits) {
      auto it = now.find(limit.resource);
      if (it == now.end() || it->second <= limit.avg10)
        continue;
      char why[160];
      std::snprintf(why, sizeof why, "%s avg10 %.2f %% is above %.2f %% (jobs of priority <= %d)",
                    limit.resource.c_str(), it->second, limit.avg10, band.max_priority);
      return why;
    }
    return std::nullopt; // the first band that holds the priority decides
  }
  return std::nullopt;
}

} // namespace ballast::jobs
