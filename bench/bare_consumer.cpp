// The reference for the agent's event path: a bare libbpf ring-buffer
// consumer of the same five tracepoints, loading the agent's own BPF object
// (cgroup_events.bpf.c). It does nothing with a record but note how long it
// took from the kernel's timestamp to here, waits on the ring buffer's epoll
// fd at the agent poller's nice (-10), and on SIGTERM or SIGINT prints one
// JSON object: events, lost, latency p50/p99/max (exact, and as
// histogram_quantile over the agent's buckets would give it, so the two are
// compared alike). Run by `agent_bench event_path`, which times the agent's
// ballast_event_handling_seconds under the same churn.
#include <linux/types.h>

#include "cgroup_events.h"
#include "cgroup_events.skel.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>
#include <vector>

namespace {

// The agent's latency_buckets (actors/metrics/agent_metrics.cpp).
const std::vector<double> agent_buckets = {10e-6,  25e-6,  50e-6,  75e-6,  100e-6, 150e-6, 200e-6,
                                           300e-6, 400e-6, 500e-6, 750e-6, 1e-3,   1.5e-3, 2e-3,
                                           5e-3,   10e-3,  25e-3,  100e-3, 1.0};

uint64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1'000'000'000u + uint64_t(ts.tv_nsec);
}

int on_record(void *ctx, void *data, size_t) {
  auto *latencies = static_cast<std::vector<double> *>(ctx);
  auto *ev = static_cast<const ballast_cgroup_event *>(data);
  latencies->push_back(double(monotonic_ns() - ev->ktime_ns) * 1e-9);
  return 0;
}

double exact(std::vector<double> &v, double q) {
  if (v.empty())
    return 0;
  auto i = size_t(q * double(v.size() - 1));
  return v[i];
}

// Linear interpolation inside the bucket that holds the q-quantile, as
// PromQL's histogram_quantile does.
double bucketed(const std::vector<double> &sorted, double q) {
  if (sorted.empty())
    return 0;
  double rank = q * double(sorted.size());
  double lower = 0, below = 0;
  for (double upper : agent_buckets) {
    double count = double(std::upper_bound(sorted.begin(), sorted.end(), upper) - sorted.begin());
    if (count >= rank)
      return lower + (upper - lower) * (rank - below) / std::max(1.0, count - below);
    lower = upper;
    below = count;
  }
  return agent_buckets.back();
}

volatile sig_atomic_t stop = 0;

} // namespace

int main() {
  std::signal(SIGTERM, [](int) { stop = 1; });
  std::signal(SIGINT, [](int) { stop = 1; });
  auto *skel = cgroup_events::open();
  if (!skel) {
    std::fprintf(stderr, "bare_consumer: open cgroup_events failed\n");
    return 1;
  }
  skel->rodata->self_tgid = uint32_t(getpid());
  if (cgroup_events::load(skel) || cgroup_events::attach(skel)) {
    std::fprintf(stderr, "bare_consumer: load or attach failed (root? BTF?)\n");
    return 1;
  }
  std::vector<double> latencies;
  latencies.reserve(1 << 20);
  auto *rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_record, &latencies, nullptr);
  (void)setpriority(PRIO_PROCESS, 0, -10);
  std::fprintf(stderr, "bare_consumer: attached\n");
  while (!stop) {
    int n = ring_buffer__poll(rb, 100);
    if (n < 0 && n != -EINTR)
      break;
  }
  ring_buffer__consume(rb);
  __u32 key = BALLAST_DROPS_KEY;
  __u64 lost = 0;
  bpf_map__lookup_elem(skel->maps.drops, &key, sizeof key, &lost, sizeof lost, 0);
  std::sort(latencies.begin(), latencies.end());
  nlohmann::json out = {{"events", latencies.size()},
                        {"lost", lost},
                        {"p50_us", exact(latencies, 0.5) * 1e6},
                        {"p99_us", exact(latencies, 0.99) * 1e6},
                        {"max_us", latencies.empty() ? 0 : latencies.back() * 1e6},
                        {"p99_us_as_histogram", bucketed(latencies, 0.99) * 1e6}};
  std::cout << out.dump() << std::endl;
  ring_buffer__free(rb);
  cgroup_events::destroy(skel);
  return 0;
}
