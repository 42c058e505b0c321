// Skeleton lifecycle and map reads; see sched_reader.hpp.
#include "actors/sources/sched_reader.hpp"

#include "actors/metrics/agent_metrics.hpp"
#include "actors/sources/kernel_btf.hpp"
#include "actors/sources/libbpf_log.hpp"
#include "sys/log.hpp"
#include "sys/procfs.hpp"

#include <linux/types.h>

#include "sched.skel.h"
#include "sched_maps.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <malloc.h>
#include <optional>

namespace ballast {

namespace {

std::string error_text(int err) {
  return std::strerror(err < 0 ? -err : err);
}

bool exists(const std::string &path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

void without(bpf_program *prog, const std::string &why, const char *loses) {
  log::warn("sched", why, ": the agent will not see ", loses);
  bpf_program__set_autoload(prog, false);
}

// Leaves out the programs this kernel cannot attach.
void skip_missing(struct sched *skel, const btf *vmlinux) {
  struct {
    bpf_program *prog;
    const char *tracepoint;
    const char *loses;
  } raw[] = {
      {skel->progs.on_sched_switch, "sched_switch", "on-CPU time, run-queue delay or futex waits"},
      {skel->progs.on_sched_process_exit, "sched_process_exit",
       "process exits (their entries age out of the LRU maps instead)"},
      {skel->progs.on_cgroup_rmdir, "cgroup_rmdir",
       "cgroup removals (their entries age out of the LRU maps instead)"},
      {skel->progs.on_block_rq_issue, "block_rq_issue", "block IO latency"},
      {skel->progs.on_block_rq_complete, "block_rq_complete", "block IO latency"},
  };
  for (auto &p : raw)
    if (!has_tracepoint(vmlinux, p.tracepoint))
      without(p.prog, std::string("tracepoint ") + p.tracepoint + " is missing on this kernel",
              p.loses);
}

// Whether this kernel's BTF has struct `type` with member `member`.
bool has_member(const btf *vmlinux, const char *type, const char *member) {
  int id = btf__find_by_name_kind(vmlinux, type, BTF_KIND_STRUCT);
  if (id < 0)
    return false;
  const btf_type *t = btf__type_by_id(vmlinux, id);
  const btf_member *m = btf_members(t);
  for (int i = 0; i < btf_vlen(t); ++i)
    if (std::strcmp(btf__name_by_offset(vmlinux, m[i].name_off), member) == 0)
      return true;
  return false;
}

// Run-queue delay is read from fields only some configs have (see queued_ns
// in bpf/sched.bpf.c): without them it is 0, said once here.
void check_runq_fields(const btf *vmlinux) {
  if (!vmlinux)
    return; // the load fails on its own with the reason
  if (!has_member(vmlinux, "sched_info", "last_queued"))
    log::warn("sched", "no sched_info.last_queued (CONFIG_SCHED_INFO): the agent will not see "
                       "run-queue delay");
  else if (!has_member(vmlinux, "sched_entity", "cfs_rq") || !has_member(vmlinux, "cfs_rq", "rq"))
    log::warn("sched", "no sched_entity.cfs_rq->rq (CONFIG_FAIR_GROUP_SCHED): the agent will "
                       "not see run-queue delay");
}

// cpufreq's cpuinfo_max_freq per CPU into cpu_freq (and the current
// frequency until the tracepoint says otherwise); false where there is none.
bool load_frequencies(struct sched *skel, int ncpus, const std::string &sys_root) {
  auto base = sys_root + "/sys/devices/system/cpu/cpu";
  bool any = false;
  for (int cpu = 0; cpu < ncpus; ++cpu) {
    auto dir = base + std::to_string(cpu) + "/cpufreq/";
    auto max = sys::read_small_file(dir + "cpuinfo_max_freq");
    auto cur = sys::read_small_file(dir + "scaling_cur_freq");
    if (!max || !cur)
      continue;
    ballast_sched_freq f{uint32_t(std::stoul("0" + *cur)), uint32_t(std::stoul("0" + *max))};
    __u32 key = uint32_t(cpu);
    if (f.max_khz &&
        bpf_map__update_elem(skel->maps.cpu_freq, &key, sizeof key, &f, sizeof f, 0) == 0)
      any = true;
  }
  return any;
}

// Every entry of a hash map, in batches; fn(key, values) where values holds
// one V per CPU for a per-CPU map, one V otherwise.
template <class K, class V, class Fn> status read_hash(const bpf_map *map, int ncpus, Fn fn) {
  int fd = bpf_map__fd(map);
  bool percpu = bpf_map__type(map) == BPF_MAP_TYPE_LRU_PERCPU_HASH ||
                bpf_map__type(map) == BPF_MAP_TYPE_PERCPU_HASH;
  size_t per_key = percpu ? size_t(ncpus) : 1;
  static_assert(sizeof(V) % 8 == 0, "per-CPU values are 8-byte aligned");
  uint32_t batch = 256;
  std::vector<K> keys;
  std::vector<V> values;
  __u32 token = 0;
  void *in = nullptr;
  DECLARE_LIBBPF_OPTS(bpf_map_batch_opts, opts);
  for (;;) {
    keys.resize(batch);
    values.resize(batch * per_key);
    __u32 count = batch;
    int err = bpf_map_lookup_batch(fd, in, &token, keys.data(), values.data(), &count, &opts);
    if (err && errno == ENOSPC && batch < (1u << 20)) { // one bucket holds more than a batch
      batch *= 4;
      continue;
    }
    if (err && errno != ENOENT)
      return error{errno, std::string("read map ") + bpf_map__name(map) + ": " + error_text(errno)};
    for (__u32 i = 0; i < count; ++i)
      fn(keys[i], &values[i * per_key], per_key);
    if (err) // ENOENT: that was the last batch
      return success();
    in = &token;
  }
}

// A thread's se.sum_exec_runtime now, the running slice included: the
// first field of /proc/TGID/task/TID/schedstat (CONFIG_SCHED_INFO).
std::optional<uint64_t> thread_runtime_ns(int32_t tgid, int32_t tid) {
  auto text = sys::read_small_file("/proc/" + std::to_string(tgid) + "/task/" +
                                   std::to_string(tid) + "/schedstat");
  if (!text)
    return std::nullopt;
  uint64_t ns = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), ns);
  if (ec != std::errc() || end == text->data())
    return std::nullopt;
  return ns;
}

log2_histogram histogram(const __u64 (&slots)[BALLAST_SCHED_SLOTS]) {
  std::array<uint64_t, log2_histogram::slots> counts{};
  static_assert(BALLAST_SCHED_SLOTS <= log2_histogram::slots);
  std::copy(std::begin(slots), std::end(slots), counts.begin());
  return log2_histogram(counts);
}

// What one CPU holds that it has not yet added to the maps (see
// ballast_sched_cpu in bpf/sched_maps.h).
void add_pending(sched_totals &t, const ballast_sched_cpu &c) {
  if (c.cgroup.cgroup_id) {
    auto &cg = t.cgroups[c.cgroup.cgroup_id];
    cg.oncpu_ns += c.cgroup.oncpu_ns;
    cg.weighted_ns += c.cgroup.weighted_ns;
    if (c.cgroup.runq_n)
      cg.runq.add_slots({std::begin(c.cgroup.runq), std::end(c.cgroup.runq)});
  }
  for (auto &task : c.tasks) {
    if (!task.tgid)
      continue;
    auto &p = t.processes[int32_t(task.tgid)];
    p.oncpu_ns += task.oncpu_ns;
    p.cgroup_id = task.cgroup_id;
  }
}

} // namespace

result<std::unique_ptr<sched_reader>> sched_reader::open(limits lim, const std::string &sys_root) {
  route_libbpf_log();
  std::unique_ptr<sched_reader> r(new sched_reader());
  r->ncpus_ = libbpf_num_possible_cpus();
  if (r->ncpus_ <= 0)
    return error{-r->ncpus_, "number of possible CPUs: " + error_text(r->ncpus_)};
  r->skel_ = sched::open();
  if (!r->skel_)
    return error{errno, "open BPF object sched: " + error_text(errno)};
  auto &maps = r->skel_->maps;
  for (auto [map, n] : {std::pair{maps.cgroup_cpu, lim.cgroups},
                        {maps.cgroup_waits, lim.cgroups},
                        {maps.task_cpu, lim.processes},
                        {maps.cpu_freq, uint32_t(r->ncpus_)}})
    if (int err = bpf_map__set_max_entries(map, n))
      return error{-err, std::string("size of map ") + bpf_map__name(map) + ": " + error_text(err)};
  // The kernel's BTF parsed once for every check below (a few MB).
  btf *vmlinux = btf__load_vmlinux_btf();
  skip_missing(r->skel_, vmlinux);
  check_runq_fields(vmlinux);
  bool cpufreq = exists(sys_root + "/sys/devices/system/cpu/cpu0/cpufreq") &&
                 has_tracepoint(vmlinux, "cpu_frequency");
  btf__free(vmlinux);
  if (!cpufreq)
    bpf_program__set_autoload(r->skel_->progs.on_cpu_frequency, false);
  r->skel_->rodata->freq_weighting = cpufreq ? 1 : 0;
  r->skel_->rodata->nr_cpus = uint32_t(r->ncpus_);
  if (int err = sched::load(r->skel_))
    return error{-err, "load BPF programs sched: " + error_text(err) +
                           " (needs root or CAP_BPF+CAP_PERFMON, and a kernel with BTF)"};
  r->weighted_ = cpufreq && load_frequencies(r->skel_, r->ncpus_, sys_root);
  if (!r->weighted_)
    log::info("sched",
              "no cpufreq on this host: weighted on-CPU time is the raw time (the "
              "frequency scale, cur/max from the cpu_frequency tracepoint, needs cpufreq)");
  else
    log::info("sched", "on-CPU time weighted by cur/max frequency (cpufreq + cpu_frequency)");
  if (int err = sched::attach(r->skel_))
    return error{-err, "attach BPF programs sched: " + error_text(err)};
  r->loaded_ns_ = monotonic_ns();
  malloc_trim(0); // the kernel's BTF was parsed to load: give the memory back
  return r;
}

sched_reader::~sched_reader() {
  if (skel_)
    sched::destroy(skel_);
}

uint64_t sched_reader::weighted(uint32_t cpu, uint64_t ns) const {
  ballast_sched_freq f{};
  if (!weighted_ ||
      bpf_map__lookup_elem(skel_->maps.cpu_freq, &cpu, sizeof cpu, &f, sizeof f, 0) != 0 ||
      !f.max_khz || !f.cur_khz)
    return ns;
  return ns * f.cur_khz / f.max_khz;
}

result<sched_totals> sched_reader::read() {
  sched_totals t;
  auto &maps = skel_->maps;
  auto cpu = read_hash<__u64, ballast_sched_cgroup_cpu>(
      maps.cgroup_cpu, ncpus_, [&](__u64 id, const ballast_sched_cgroup_cpu *v, size_t n) {
        auto &c = t.cgroups[id];
        for (size_t i = 0; i < n; ++i) {
          c.oncpu_ns += v[i].oncpu_ns;
          c.weighted_ns += v[i].weighted_ns;
        }
      });
  if (!cpu)
    return cpu.err();
  auto waits = read_hash<__u64, ballast_sched_waits>(
      maps.cgroup_waits, ncpus_, [&](__u64 id, const ballast_sched_waits *w, size_t) {
        auto &c = t.cgroups[id];
        c.runq = histogram(w->runq);
        c.futex = histogram(w->futex);
        c.io = histogram(w->io);
      });
  if (!waits)
    return waits.err();
  auto tasks = read_hash<__u32, ballast_sched_task_cpu>(
      maps.task_cpu, ncpus_, [&](__u32 tgid, const ballast_sched_task_cpu *v, size_t n) {
        auto &p = t.processes[int32_t(tgid)];
        for (size_t i = 0; i < n; ++i) {
          p.oncpu_ns += v[i].oncpu_ns;
          if (v[i].cgroup_id)
            p.cgroup_id = v[i].cgroup_id;
        }
      });
  if (!tasks)
    return tasks.err();
  // Last, so that a slice that ended since the maps were read is counted
  // next time rather than twice now (and pending counts that went to the
  // maps meanwhile: the total dips and catches up next time).
  auto cpus = read_cpus();
  if (!cpus)
    return cpus.err();
  t.ktime_ns = monotonic_ns();
  t.loaded_ns = loaded_ns_;
  t.cpu_busy_ns.resize(cpus->size());
  std::vector<uint64_t> ran(cpus->size()); // of the slices running now, by the scheduler's clock
  switches_seen_.resize(cpus->size());
  for (size_t i = 0; i < cpus->size(); ++i) {
    auto &c = (*cpus)[i];
    add_pending(t, c);
    t.cpu_busy_ns[i] = c.busy_ns;
    // A slice is counted when it ends; one that has been running since the
    // last read (no switch since) is credited now from its thread's live
    // runtime, the scheduler's clock (the wall clock would count time stolen
    // from it, which cpu.stat does not).
    bool running_since_last_read = c.pid && c.switches && c.switches == switches_seen_[i];
    switches_seen_[i] = c.switches;
    if (!running_since_last_read)
      continue;
    auto runtime = thread_runtime_ns(int32_t(c.tgid), int32_t(c.pid));
    if (runtime && *runtime > c.runtime_start_ns)
      ran[i] = *runtime - c.runtime_start_ns;
  }
  if (std::all_of(ran.begin(), ran.end(), [](uint64_t ns) { return ns == 0; }))
    return t;
  // A slice that ended while its thread's runtime was read has that
  // thread's later slices in it: not credited (it is counted next time).
  auto again = read_cpus();
  if (!again)
    return again.err();
  for (size_t i = 0; i < cpus->size(); ++i) {
    auto &c = (*cpus)[i];
    if (!ran[i] || (*again)[i].switches != c.switches)
      continue;
    t.cpu_busy_ns[i] += ran[i];
    auto &cg = t.cgroups[c.cgroup_id];
    cg.oncpu_ns += ran[i];
    cg.weighted_ns += weighted(uint32_t(i), ran[i]);
    auto &p = t.processes[int32_t(c.tgid)];
    p.oncpu_ns += ran[i];
    p.cgroup_id = c.cgroup_id;
  }
  return t;
}

result<std::vector<ballast_sched_cpu>> sched_reader::read_cpus() const {
  std::vector<ballast_sched_cpu> cpus(static_cast<size_t>(ncpus_));
  __u32 zero = 0;
  if (bpf_map__lookup_elem(skel_->maps.cpus, &zero, sizeof zero, cpus.data(),
                           cpus.size() * sizeof(ballast_sched_cpu), 0) != 0)
    return error{errno, "read map cpus: " + error_text(errno)};
  return cpus;
}

} // namespace ballast
