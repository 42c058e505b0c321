// io_limit policy (per cgroup): while the cgroups it protects stall on IO
// above a threshold, the cgroup's IO is cut to a share of what it did, halved
// each such interval down to `min_share`, held in the hysteresis band, and
// doubled back once calm until it is whole again and the limit is lifted
// (see pressure_backoff.hpp for the law). Two ways to cut it:
//   mode "max":    io.max on each device the cgroup did IO on (or the ones
//                  in `devices`): rbps/wbps/riops/wiops at the share of the
//                  rates it had in the interval before the first cut, never
//                  under min_bps/min_iops; a direction it did not use stays
//                  unlimited. A hard cap: it is lifted, not held, once the
//                  others are calm (and taken again if they are not).
//   mode "weight": io.weight (the cgroup's default line, or each device in
//                  `devices`) at the share of its weight; work-conserving,
//                  and only where the device has iocost or BFQ on.
// The protected cgroups' IO stall is the signal, not the host's: the tasks
// io.max holds back stall the cgroup and every ancestor up to the host, so a
// protected path holding this cgroup is left out (see protected_stall.hpp).
//   params: protect (cgroup paths, required), mode, devices ("MAJ:MIN"),
//           threshold, release (% of an interval stalled), calm (intervals),
//           min_share, min_bps, min_iops, priority.
#include "actors/laws/pressure_backoff.hpp"
#include "actors/policies/params.hpp"
#include "actors/policies/policy.hpp"
#include "actors/policies/policy_series.hpp"
#include "actors/policies/protected_stall.hpp"
#include "actors/probe/cgroup_probe.hpp"
#include "messages/protocol.hpp"
#include "sys/cgroupfs.hpp"
#include "sys/io_stat.hpp"
#include "sys/knobs.hpp"
#include "sys/log.hpp"
#include "sys/text.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <cmath>
#include <map>

namespace ballast {

namespace {

struct io_limit_params {
  backoff_settings law;
  std::string mode = "max";
  std::vector<std::string> devices;
  std::vector<std::string> protect;
  uint64_t min_bps = 1 << 20;
  double min_iops = 10;
  int32_t priority = 0;
};

params_result<io_limit_params> parse(const std::string &text, const std::string &path) {
  params_result<io_limit_params> out;
  params_reader r(text, path);
  auto &p = out.value;
  auto &law = p.law;
  law.halving = true;
  law.max = 1;
  law.min = 0.1;
  double calm = law.calm;
  r.choice("mode", p.mode, {"max", "weight"});
  r.number("threshold", law.threshold_pct, 0.1, 100);
  r.number("release", law.release_pct, 0, 100);
  r.number("calm", calm, 1, 1000);
  r.number("min_share", law.min, 0.001, 0.99);
  r.bytes("min_bps", p.min_bps);
  r.number("min_iops", p.min_iops, 1, 1e9);
  r.priority(p.priority);
  r.texts("devices", p.devices);
  r.texts("protect", p.protect);
  law.calm = int(calm);
  for (auto &d : p.devices)
    if (!knobs::is_device(d))
      r.fail("devices",
             "each must be a block device as \"MAJ:MIN\" (lsblk shows it), not '" + d + "'");
  if (p.protect.empty())
    r.fail("protect", "io_limit needs the cgroups whose IO stall it answers, like [\"/web\"]");
  for (auto &path : p.protect)
    if (path.empty() || path[0] != '/')
      r.fail("protect", "each must be a cgroup path from the cgroup2 root, like \"/web\"");
  if (law.release_pct >= law.threshold_pct)
    r.fail("release", "must be below threshold");
  if (p.min_bps == 0)
    r.fail("min_bps", "must be above 0");
  out.errors = r.finish();
  return out;
}

// One device's IO per second over an interval.
struct io_rates {
  double rbps = 0, wbps = 0, riops = 0, wiops = 0;
  bool any() const { return rbps > 0 || wbps > 0 || riops > 0 || wiops > 0; }
};

std::map<std::string, io_rates> rates_between(const std::map<std::string, sys::io_counters> &now,
                                              const std::map<std::string, sys::io_counters> &then,
                                              double seconds) {
  std::map<std::string, io_rates> out;
  for (auto &[dev, c] : now) {
    auto b = then.find(dev);
    sys::io_counters before = b == then.end() ? sys::io_counters{} : b->second;
    auto per_s = [&](uint64_t n, uint64_t m) { return double(grown(n, m)) / seconds; };
    out[dev] = {per_s(c.rbytes, before.rbytes), per_s(c.wbytes, before.wbytes),
                per_s(c.rios, before.rios), per_s(c.wios, before.wios)};
  }
  return out;
}

// io.max's line for a device: each direction used at `share` of its rate.
std::string io_max_value(const io_rates &r, double share, double min_bps, double min_iops) {
  std::string out;
  auto field = [&](const char *key, double rate, double floor) {
    if (!out.empty())
      out += ' ';
    out += key;
    out += '=';
    out += rate > 0 ? std::to_string(std::llround(std::max(floor, rate * share))) : "max";
  };
  field("rbps", r.rbps, min_bps);
  field("wbps", r.wbps, min_bps);
  field("riops", r.riops, min_iops);
  field("wiops", r.wiops, min_iops);
  return out;
}

struct io_limit_state {
  static constexpr const char *name = "io-limit";

  config::policy cfg;
  io_limit_params params;
  policy_target target;
  policy_env env;
  std::vector<std::string> protect;
  std::unique_ptr<pressure_backoff> law;
  std::unique_ptr<policy_series> series;
  std::unique_ptr<policy_presence> presence;
  std::optional<std::map<std::string, sys::io_counters>> last_stat;
  std::vector<uint64_t> last_stall;
  caf::actor_clock::time_point last_at;
  std::map<std::string, io_rates> rates; // the last interval's
  // What the cut is a share of: rates (mode max) or weights (mode weight)
  // by device key, taken at the first cut and kept until it is lifted.
  std::map<std::string, io_rates> demand;
  std::map<std::string, double> weights;
  std::map<std::string, std::string> held; // knob instance -> value claimed
  bool unreadable = false;
  bool said_no_io = false;
};

using io_limit_actor = policy_actor::stateful_pointer<io_limit_state>;

// The knob instance of a device key in this mode: "io.max:8:0".
std::string instance(const io_limit_state &st, const std::string &key) {
  auto &row = st.params.mode == "max" ? knobs::io_max : knobs::io_weight;
  return std::string(row.name) + ":" + key;
}

// The weights the cut is a share of: each key's own, or the cgroup's default
// where a device has no line of its own.
std::map<std::string, double> current_weights(io_limit_state &st) {
  std::map<std::string, double> out;
  auto text = st.env.probe->read(knobs::io_weight.name);
  if (!text)
    return out;
  auto keys = st.params.devices.empty() ? std::vector<std::string>{"default"} : st.params.devices;
  auto fallback =
      sys::text::parse_number<double>(knobs::device_value(knobs::io_weight, *text, "default"));
  for (auto &key : keys) {
    auto own = sys::text::parse_number<double>(knobs::device_value(knobs::io_weight, *text, key));
    if (auto w = own ? own : fallback)
      out[key] = *w;
  }
  return out;
}

// What to claim at `share`: knob instance -> value.
std::map<std::string, std::string> wanted(io_limit_state &st, double share) {
  std::map<std::string, std::string> out;
  if (st.params.mode == "weight") {
    if (st.weights.empty())
      st.weights = current_weights(st);
    for (auto &[key, w] : st.weights)
      out[instance(st, key)] = std::to_string(std::max(1L, std::lround(w * share)));
    return out;
  }
  if (st.demand.empty())
    for (auto &[dev, r] : st.rates)
      if (r.any() && (st.params.devices.empty() ||
                      std::find(st.params.devices.begin(), st.params.devices.end(), dev) !=
                          st.params.devices.end()))
        st.demand[dev] = r;
  for (auto &[dev, r] : st.demand)
    out[instance(st, dev)] = io_max_value(r, share, double(st.params.min_bps), st.params.min_iops);
  return out;
}

void claim(io_limit_actor self, const std::string &knob, const std::string &value,
           const std::string &why) {
  auto &st = self->state;
  self->request(st.env.cgroup, caf::infinite, claim_request{knob, value, st.params.priority, why})
      .then([=](claim_reply &) { self->state.held[knob] = value; },
            [=](caf::error &e) {
              log::warn(self->state.cfg.name, knob, " claim in ", self->state.target.cgroup_path,
                        " refused: ", to_string(e));
            });
}

void apply(io_limit_actor self, std::optional<double> share, const std::string &why) {
  auto &st = self->state;
  auto want = share ? wanted(st, *share) : std::map<std::string, std::string>{};
  if (share && want.empty()) {
    if (!st.said_no_io)
      log::info(st.cfg.name, st.target.cgroup_path, ": ", why, ", but ",
                st.params.mode == "max" ? "it did no IO on a device it may limit"
                                        : "its io.weight cannot be read (io controller off?)",
                ": nothing to cut");
    st.said_no_io = true;
    st.series->refused(st.params.mode == "max" ? "no_io" : "no_io_weight");
    return;
  }
  st.said_no_io = false;
  if (want == st.held) {
    st.series->decision("hold");
    return;
  }
  st.series->decision(!share ? "lift" : st.held.empty() ? "lower" : "step");
  for (auto it = st.held.begin(); it != st.held.end();)
    if (!want.count(it->first)) {
      log::info(st.cfg.name, st.target.cgroup_path, ": ", it->first, " back to its original (", why,
                ")");
      self->send(st.env.cgroup, atom::unclaim_v, it->first);
      it = st.held.erase(it);
    } else {
      ++it;
    }
  for (auto &[knob, value] : want)
    if (auto h = st.held.find(knob); h == st.held.end() || h->second != value) {
      log::info(st.cfg.name, st.target.cgroup_path, ": ", knob, " ", value, " (", why, ")");
      claim(self, knob, value, why);
    }
  if (!share) {
    st.demand.clear();
    st.weights.clear();
  }
}

void step(io_limit_actor self) {
  auto &st = self->state;
  auto text = st.env.probe->read(sys::files::io_stat);
  if (!text) {
    if (!st.unreadable)
      log::warn(st.cfg.name, st.target.cgroup_path,
                ": cannot read io.stat (the io controller must be on in the parent's "
                "cgroup.subtree_control): ",
                text.err().message);
    st.unreadable = true;
    return;
  }
  st.unreadable = false;
  auto stat = sys::parse_io_stat(*text);
  auto stall = some_totals(st.env.cgroup_root, st.protect, sys::files::io_pressure);
  auto now = self->clock().now();
  auto elapsed = std::chrono::duration<double>(now - st.last_at).count();
  st.last_at = now;
  auto before = std::exchange(st.last_stat, stat);
  auto stall_before = std::exchange(st.last_stall, stall);
  if (!before)
    return;
  st.rates = rates_between(stat, *before, std::max(elapsed, 1e-3));
  double pct = 100.0 * double(worst_growth(stall, stall_before)) / std::max(elapsed * 1e6, 1.0);
  auto share = st.law->step(pct);
  st.series->measured(pct / 100);
  st.series->io_share(share.value_or(1));
  char why[96];
  std::snprintf(why, sizeof why, "%s: protected IO %.1f%% stalled in %.0f ms", st.cfg.name.c_str(),
                pct, elapsed * 1000);
  apply(self, share, why);
}

policy_actor::behavior_type io_limit(io_limit_actor self, config::policy cfg, policy_target target,
                                     policy_env env) {
  auto &st = self->state;
  st.params = settings_of<io_limit_params>(cfg);
  st.series = std::make_unique<policy_series>(env.metrics, cfg.name, target.cgroup_path);
  st.presence = std::make_unique<policy_presence>(env.metrics, cfg.name);
  st.series->setpoint(st.params.law.threshold_pct / 100);
  st.protect = protected_others(st.params.protect, target.cgroup_path, cfg.name);
  st.law = std::make_unique<pressure_backoff>(st.params.law, 1.0);
  st.cfg = std::move(cfg);
  st.target = std::move(target);
  st.env = std::move(env);
  return step_on_interval(self, st.cfg.interval, step);
}

} // namespace

extern const policy_type io_limit_policy = {
    "io_limit",
    "the cgroup's IO cut to a share of what it did (io.max) or of its io.weight while the "
    "cgroups it protects stall on IO above a threshold; given back as they recede",
    policy_scope::cgroup, compile_params<parse>, spawn_policy<io_limit>};

} // namespace ballast
