#include "actors/sources/psi_source.hpp"

#include "actors/metrics/kernel_counter.hpp"

#include "sys/log.hpp"
#include "sys/procfs.hpp"
#include "sys/psi.hpp"

#include <caf/all.hpp>

#include <map>

namespace ballast {

namespace {

struct psi_source_state {
  static constexpr const char *name = "psi-source";

  std::shared_ptr<agent_metrics> metrics;
  std::string proc_root;
  std::chrono::milliseconds period{};
  std::map<std::string, kernel_counter> totals; // "memory/some" -> its counter
  bool unavailable_logged = false;

  ~psi_source_state() {
    if (metrics)
      metrics->actor_stopped(actor_type::source);
  }

  void advance(const std::string &resource, const char *kind, uint64_t total_us) {
    totals[resource + "/" + kind].advance(metrics.get(), metrics->system_pressure(),
                                          {{"resource", resource}, {"kind", kind}}, total_us, 1e-6);
  }

  void sample() {
    for (auto r : {sys::psi_resource::cpu, sys::psi_resource::memory, sys::psi_resource::io}) {
      auto resource = std::string(to_string(r));
      auto text = sys::read_small_file(proc_root + "/pressure/" + resource);
      auto psi = text ? sys::parse_psi(*text) : result<sys::psi_reading>(text.err());
      if (!psi) {
        if (!unavailable_logged)
          log::warn("psi", "no system-wide pressure (", psi.err().message,
                    "): is the kernel booted with psi=1?");
        unavailable_logged = true;
        continue;
      }
      advance(resource, "some", psi->some.total_us);
      if (psi->full)
        advance(resource, "full", psi->full->total_us);
    }
  }
};

using psi_source_self = psi_source_actor::stateful_pointer<psi_source_state>;

psi_source_actor::behavior_type psi_source(psi_source_self self,
                                           std::shared_ptr<agent_metrics> metrics,
                                           std::string proc_root,
                                           std::chrono::milliseconds period) {
  auto &st = self->state;
  st.metrics = metrics;
  st.proc_root = std::move(proc_root);
  st.period = period;
  metrics->actor_started(actor_type::source);
  self->send(self, atom::tick_v);
  return {
      [=](atom::tick) {
        self->state.sample();
        self->delayed_send(self, self->state.period, atom::tick_v);
      },
  };
}

} // namespace

psi_source_actor spawn_psi_source(caf::actor_system &sys, std::shared_ptr<agent_metrics> metrics,
                                  std::string proc_root, std::chrono::milliseconds period) {
  return sys.spawn(psi_source, std::move(metrics), std::move(proc_root), period);
}

} // namespace ballast
