#include "actors/policies/protected_stall.hpp"

#include "sys/cgroupfs.hpp"
#include "sys/log.hpp"
#include "sys/procfs.hpp"
#include "sys/psi.hpp"

#include <algorithm>

namespace ballast {

result<uint64_t> some_total(const result<std::string> &text) {
  if (!text)
    return text.err();
  auto psi = sys::parse_psi(*text);
  if (!psi)
    return psi.err();
  return psi->some.total_us;
}

std::vector<uint64_t> some_totals(const std::string &cgroup_root,
                                  const std::vector<std::string> &paths, std::string_view file) {
  std::vector<uint64_t> out;
  for (auto &path : paths) {
    auto stall = some_total(
        sys::read_small_file(sys::join_cgroup_path(cgroup_root, path) + "/" + std::string(file)));
    out.push_back(stall ? *stall : 0);
  }
  return out;
}

uint64_t worst_growth(const std::vector<uint64_t> &now, const std::vector<uint64_t> &before) {
  uint64_t worst = 0;
  for (size_t i = 0; i < now.size() && i < before.size(); ++i)
    worst = std::max(worst, grown(now[i], before[i]));
  return worst;
}

std::vector<std::string> protected_others(const std::vector<std::string> &protect,
                                          const std::string &self, const std::string &policy) {
  std::vector<std::string> out;
  for (auto &path : protect) {
    bool holds = path == "/" || self == path || self.rfind(path + "/", 0) == 0;
    if (holds)
      log::warn(policy, self, ": not protecting ", path,
                ": it holds this cgroup, whose throttling would read as its pressure");
    else
      out.push_back(path);
  }
  return out;
}

} // namespace ballast
