// gpu_reader; see gpu_reader.hpp.
#include "actors/sources/gpu_reader.hpp"

#include "sys/procfs.hpp"
#include "sys/text.hpp"

#include <algorithm>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ballast {

namespace {

// Calls f(name) for each entry of a directory but . and ..; false if it
// cannot be opened.
template <class F> bool for_each_entry(const std::string &dir, F &&f) {
  DIR *d = ::opendir(dir.c_str());
  if (!d)
    return false;
  while (auto *e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (name != "." && name != "..")
      f(name);
  }
  ::closedir(d);
  return true;
}

std::optional<uint64_t> inode(const std::string &path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return std::nullopt;
  return uint64_t(st.st_ino);
}

bool is_drm_link(const std::string &path) {
  char target[64];
  auto n = ::readlink(path.c_str(), target, sizeof target);
  return n > 0 && std::string_view(target, size_t(n)).starts_with("/dev/dri/");
}

// The growth of a cycle-counting engine as time: its busy share of the
// cycles between two reads, times the time between them.
uint64_t cycles_as_ns(const sys::drm_engine_time &now, const sys::drm_engine_time &before,
                      uint64_t elapsed_ns) {
  if (now.total_cycles <= before.total_cycles || now.cycles < before.cycles)
    return 0;
  auto busy = (long double)(now.cycles - before.cycles) /
              (long double)(now.total_cycles - before.total_cycles);
  return uint64_t(std::min<long double>(busy, 1) * (long double)elapsed_ns);
}

} // namespace

gpu_reader::gpu_reader(roots r, uint64_t origin_ns) : roots_(std::move(r)), origin_ns_(origin_ns) {
  if (auto library = sys::nvml::open(roots_.nvml))
    nvml_.emplace(std::move(*library));
  else
    nvml_absent_ = library.err().message;
}

std::vector<std::string> gpu_reader::nvml_devices() const {
  return nvml_ ? nvml_->devices() : std::vector<std::string>{};
}

bool gpu_reader::read_by_nvml(const std::string &device) const {
  return nvml_ && std::ranges::find(nvml_->devices(), device) != nvml_->devices().end();
}

bool gpu_reader::devices_present() const {
  bool found = nvml_ && !nvml_->devices().empty();
  for_each_entry(roots_.sys + "/class/drm", [&](std::string_view name) {
    found |= name.starts_with("card") || name.starts_with("renderD");
  });
  return found;
}

uint64_t gpu_reader::cgroup_of(int pid) {
  auto text = sys::read_small_file(roots_.proc + "/" + std::to_string(pid) + "/cgroup");
  auto path = text ? sys::parse_proc_cgroup_v2(*text) : result<std::string>(text.err());
  if (!path)
    return 0;
  if (auto known = cgroup_ids_.find(*path); known != cgroup_ids_.end())
    return known->second;
  auto id = inode(roots_.cgroup + *path);
  if (!id)
    return 0;
  cgroup_ids_[*path] = *id;
  cgroups_[*id].path = *path;
  return *id;
}

uint64_t gpu_reader::cgroup_of_known(int pid) {
  auto [it, fresh] = process_cgroup_.try_emplace(pid, 0);
  if (fresh)
    it->second = cgroup_of(pid);
  return it->second;
}

void gpu_reader::discover() {
  cgroup_ids_.clear(); // a path made again is another cgroup
  for (auto it = cgroups_.begin(); it != cgroups_.end();)
    if (inode(roots_.cgroup + it->second.path) != it->first)
      it = cgroups_.erase(it);
    else
      ++it;
  drm_fds_.clear();
  process_cgroup_.clear();
  for_each_entry(roots_.proc, [&](std::string_view name) {
    auto pid = sys::text::parse_number<int>(name);
    if (!pid)
      return;
    auto fd_dir = roots_.proc + "/" + std::string(name) + "/fd";
    std::set<int> fds;
    for_each_entry(fd_dir, [&](std::string_view fd) {
      if (auto n = sys::text::parse_number<int>(fd);
          n && is_drm_link(fd_dir + "/" + std::string(fd)))
        fds.insert(*n);
    });
    if (fds.empty())
      return;
    drm_fds_[*pid] = std::move(fds);
    process_cgroup_[*pid] = cgroup_of(*pid);
  });
}

gpu_sample gpu_reader::sample_of(uint64_t id, const usage &u) const {
  gpu_sample s{id, origin_ns_, u.clients, {}, {}};
  for (auto &[k, ns] : u.engine_ns)
    s.engines.push_back({k.first, k.second, ns});
  for (auto &[k, bytes] : u.memory)
    s.memory.push_back({k.first, k.second, bytes});
  return s;
}

gpu_reader::gpu_read gpu_reader::read(uint64_t now_ns) {
  auto start = [](usage &u) {
    for (auto &[_, bytes] : u.memory)
      bytes = 0; // a region no client holds any more reads 0
    u.clients = 0;
  };
  start(host_);
  for (auto &[_, u] : cgroups_)
    start(u);
  for (auto &[_, c] : clients_)
    c.seen = false;
  for (auto p = drm_fds_.begin(); p != drm_fds_.end();) {
    auto &[pid, fds] = *p;
    auto dir = roots_.proc + "/" + std::to_string(pid) + "/fdinfo/";
    for (auto fd = fds.begin(); fd != fds.end();) {
      auto text = sys::read_small_file(dir + std::to_string(*fd));
      auto client = text ? sys::parse_drm_fdinfo(*text) : std::nullopt;
      if (!client) { // closed, or the number is another file now
        fd = fds.erase(fd);
        continue;
      }
      if (!read_by_nvml(client->device()))
        credit(*client, process_cgroup_[pid], now_ns);
      ++fd;
    }
    p = fds.empty() ? drm_fds_.erase(p) : std::next(p);
  }
  std::vector<std::string> errors;
  if (nvml_) {
    auto nvml_read = nvml_->read(now_ns);
    for (auto &c : nvml_read.clients)
      credit(c.usage, cgroup_of_known(c.pid), now_ns);
    errors = std::move(nvml_read.errors);
  }
  for (auto c = clients_.begin(); c != clients_.end();)
    c = c->second.seen ? std::next(c) : clients_.erase(c);
  first_read_ = false;
  gpu_read out{sample_of(0, host_), {}, std::move(errors)};
  for (auto &[id, u] : cgroups_)
    if (!u.engine_ns.empty() || !u.memory.empty())
      out.cgroups.push_back(sample_of(id, u));
  return out;
}

void gpu_reader::credit(const sys::drm_client &client, uint64_t cgroup_id, uint64_t now_ns) {
  auto [it, fresh] = clients_.try_emplace({client.device(), client.id});
  auto &c = it->second;
  if (c.seen)
    return; // another fd of the same client
  c.seen = true;
  ++host_.clients;
  // A process whose cgroup could not be read counts on the host only.
  auto *usage = cgroup_id ? &cgroups_[cgroup_id] : nullptr;
  if (usage)
    ++usage->clients;
  for (auto &[name, now] : client.engines) {
    auto &before = c.engines[name];
    uint64_t grown = 0;
    if (now.in_cycles)
      grown = fresh ? 0 : cycles_as_ns(now, before, now_ns - c.read_ns);
    else if (!(fresh && first_read_)) // the first read's clients set the baseline
      grown = now.ns > before.ns ? now.ns - before.ns : 0;
    key k{client.device(), name};
    host_.engine_ns[k] += grown;
    if (usage)
      usage->engine_ns[k] += grown;
    before = now;
  }
  c.read_ns = now_ns;
  for (auto &[region, bytes] : client.memory) {
    key k{client.device(), region};
    host_.memory[k] += bytes;
    if (usage)
      usage->memory[k] += bytes;
  }
}

} // namespace ballast
