#include "sys/cpu_topology.hpp"

#include "sys/text.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace ballast::sys {

std::optional<std::vector<unsigned>> parse_cpu_list(std::string_view text) {
  std::set<unsigned> cpus;
  auto v = text::trim(text);
  while (!v.empty()) {
    auto comma = v.find(',');
    auto item = v.substr(0, comma);
    auto dash = item.find('-');
    auto lo = text::parse_number<unsigned>(item.substr(0, dash));
    auto hi =
        dash == std::string_view::npos ? lo : text::parse_number<unsigned>(item.substr(dash + 1));
    if (!lo || !hi || *hi < *lo || *hi - *lo > 65535)
      return std::nullopt;
    for (unsigned c = *lo; c <= *hi; ++c)
      cpus.insert(c);
    if (comma == std::string_view::npos)
      break;
    v.remove_prefix(comma + 1);
    if (v.empty())
      return std::nullopt; // a trailing comma
  }
  return std::vector<unsigned>(cpus.begin(), cpus.end());
}

std::string format_cpu_list(const std::vector<unsigned> &cpus) {
  std::string out;
  for (size_t i = 0; i < cpus.size();) {
    size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1)
      ++j;
    if (!out.empty())
      out += ',';
    out += std::to_string(cpus[i]);
    if (j > i)
      out += '-' + std::to_string(cpus[j]);
    i = j + 1;
  }
  return out;
}

size_t cpu_topology::nodes() const {
  std::set<unsigned> seen;
  for (auto &[cpu, node] : node_of)
    seen.insert(node);
  return seen.size();
}

namespace {

std::optional<std::vector<unsigned>> read_list(const std::filesystem::path &file) {
  std::ifstream in(file);
  std::stringstream text;
  if (!(text << in.rdbuf()))
    return std::nullopt;
  return parse_cpu_list(text.str());
}

} // namespace

std::optional<cpu_topology> read_cpu_topology(const std::string &sys_root) {
  auto online = read_list(sys_root + "/sys/devices/system/cpu/online");
  if (!online)
    return std::nullopt;
  cpu_topology t{*online, {}};
  for (auto cpu : t.cpus)
    t.node_of[cpu] = 0;
  std::error_code ec;
  for (auto &e : std::filesystem::directory_iterator(sys_root + "/sys/devices/system/node", ec)) {
    auto name = e.path().filename().string();
    auto node =
        name.rfind("node", 0) == 0 ? text::parse_number<unsigned>(name.substr(4)) : std::nullopt;
    auto cpus = node ? read_list(e.path() / "cpulist") : std::nullopt;
    for (auto cpu : cpus.value_or(std::vector<unsigned>{}))
      if (t.node_of.count(cpu))
        t.node_of[cpu] = *node;
  }
  return t;
}

} // namespace ballast::sys
