#include "actors/laws/cpuset_partition.hpp"

#include <algorithm>
#include <cmath>
#include <set>

namespace ballast {

cpuset_partition::cpuset_partition(cpuset_settings s, sys::cpu_topology pool)
    : s_(s), pool_(pool.cpus), node_of_(pool.node_of), numa_(pool.nodes() > 1) {
  std::stable_sort(pool_.begin(), pool_.end(),
                   [&](unsigned a, unsigned b) { return node_of_[a] < node_of_[b]; });
}

namespace {

// How many CPUs of n each member gets: at least one, the rest by its share
// of the demand (largest remainders first). Needs demand.size() <= n.
std::vector<size_t> cut(const std::vector<double> &demand, size_t n) {
  double total = 0;
  for (auto d : demand)
    total += std::max(d, 0.05);
  std::vector<size_t> sizes(demand.size());
  std::vector<double> quota(demand.size());
  size_t given = 0;
  for (size_t i = 0; i < demand.size(); ++i) {
    quota[i] = std::max(demand[i], 0.05) / total * double(n);
    sizes[i] = std::max<size_t>(1, size_t(std::floor(quota[i])));
    given += sizes[i];
  }
  while (given > n) { // the floors of one took more than their share
    auto most = std::max_element(sizes.begin(), sizes.end()) - sizes.begin();
    --sizes[most];
    --given;
  }
  std::vector<size_t> order(demand.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return quota[a] - double(sizes[a]) > quota[b] - double(sizes[b]);
  });
  for (size_t i = 0; given < n; i = (i + 1) % order.size(), ++given)
    ++sizes[order[i]];
  return sizes;
}

} // namespace

void cpuset_partition::spread(const std::map<uint64_t, double> &demand, clock::time_point now) {
  if (merged_at_ && now - *merged_at_ < s_.hold * hold_factor_)
    hold_factor_ = std::min(8, hold_factor_ * 2); // merged too soon
  demand_ = demand;
  spread_at_ = now;
  rising_ = calm_ = 0;
  std::vector<double> cores;
  for (auto &[id, d] : demand_)
    cores.push_back(d);
  auto sizes = cut(cores, pool_.size());
  given_.clear();
  size_t next = 0, i = 0;
  for (auto &[id, d] : demand_) {
    std::vector<unsigned> cpus(pool_.begin() + long(next), pool_.begin() + long(next + sizes[i]));
    next += sizes[i++];
    std::set<unsigned> nodes;
    for (auto c : cpus)
      nodes.insert(node_of_[c]);
    std::sort(cpus.begin(), cpus.end());
    given_[id] = {sys::format_cpu_list(cpus),
                  numa_ ? sys::format_cpu_list({nodes.begin(), nodes.end()}) : ""};
  }
}

void cpuset_partition::merge(clock::time_point now) {
  demand_.clear();
  given_.clear();
  merged_at_ = now;
  calm_ = 0;
}

void cpuset_partition::forget(uint64_t id) {
  demand_.erase(id);
  given_.erase(id);
  if (demand_.size() < 2) { // nothing left to keep apart
    demand_.clear();
    given_.clear();
  }
}

const std::map<uint64_t, cpuset_assignment> &
cpuset_partition::step(const std::vector<cpuset_reading> &members, clock::time_point now) {
  worst_ = 0;
  refusal_.clear();
  std::map<uint64_t, double> joining; // contenders not spread yet
  double spread_cores = 0;
  bool spread_calm = true;
  for (auto &m : members) {
    bool read = m.waits >= s_.min_waits;
    if (read)
      worst_ = std::max(worst_, m.runq_p99_s);
    bool contends = read && m.runq_p99_s > s_.target_s;
    if (demand_.count(m.id)) {
      spread_cores += m.cores;
      spread_calm = spread_calm && !(read && m.runq_p99_s >= s_.release_s);
    } else if (contends) {
      joining[m.id] = m.cores;
    }
  }
  bool rises = demand_.empty() ? joining.size() >= 2 : !joining.empty();
  rising_ = rises ? rising_ + 1 : 0;
  if (rises && rising_ >= s_.rise) {
    auto demand = demand_;
    demand.insert(joining.begin(), joining.end());
    if (demand.size() > pool_.size())
      refusal_ = std::to_string(demand.size()) + " cgroups contend for " +
                 std::to_string(pool_.size()) + " CPUs: fewer CPUs than cgroups";
    else
      spread(demand, now);
    return given_;
  }
  if (demand_.empty())
    return given_;
  bool calm = spread_calm && spread_cores <= s_.merge_load * double(pool_.size());
  calm_ = calm ? calm_ + 1 : 0;
  if (calm_ >= s_.calm && now - spread_at_ >= s_.hold * hold_factor_)
    merge(now);
  return given_;
}

} // namespace ballast
