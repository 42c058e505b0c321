#include "actors/policies/memory_limit_loop.hpp"

#include "actors/policies/memory_high_claim.hpp"

#include "sys/cgroupfs.hpp"
#include "sys/log.hpp"

#include <caf/all.hpp>

namespace ballast {

namespace {

using clock = std::chrono::steady_clock;
using std::chrono::microseconds;

// Trigger ticks closer together than this are ignored: a step needs some
// stall history to measure.
constexpr auto min_step_spacing = std::chrono::milliseconds(100);

struct loop_state {
  static constexpr const char *name = "memory-limit";

  config::policy cfg;
  policy_target target;
  policy_env env;
  std::shared_ptr<limit_law> law;
  limit_options opts;
  std::unique_ptr<policy_series> series;
  std::unique_ptr<psi_triggers::watch> trigger;
  std::unique_ptr<policy_presence> presence;
  std::optional<memory_sample> last;
  clock::time_point last_at;
  caf::actor_clock::time_point next_tick;
  std::optional<uint64_t> held; // the memory.high this policy's claim holds
  bool waiting = false;         // a claim or reclaim is unanswered
  bool refused = false;         // the last step declined to lower
  bool unreadable = false;      // the last sample failed (logged once)
};

using loop_actor = policy_actor::stateful_pointer<loop_state>;

void arm_trigger(loop_actor self) {
  auto &st = self->state;
  if (st.opts.trigger_stall.count() == 0 || !st.env.triggers)
    return;
  auto file = sys::join_cgroup_path(st.env.cgroup_root, st.target.cgroup_path) + "/" +
              std::string(sys::files::memory_pressure);
  auto w = st.env.triggers->add(
      file, "some", st.opts.trigger_stall, st.opts.trigger_window,
      [target = caf::actor_cast<policy_actor>(self)] { caf::anon_send(target, atom::tick_v); });
  if (!w) {
    log::warn(st.cfg.name, "no PSI trigger on ", st.target.cgroup_path, ": ", w.err().message,
              "; stepping every ", st.cfg.interval.count(), " ms only");
    return;
  }
  st.trigger = std::move(*w);
}

void claim_limit(loop_actor self, const memory_sample &s, uint64_t next, const std::string &why) {
  auto &st = self->state;
  st.waiting = true;
  memory_high_change change{next, s.current, st.held.value_or(s.high), st.opts.priority, why};
  claim_memory_high(
      self, st.env.cgroup, change, st.opts.use_reclaim,
      [=] { self->state.opts.use_reclaim = false; }, // an old kernel: memory.high alone
      [=](const caf::error &e) {
        auto &st = self->state;
        st.waiting = false;
        if (!e)
          st.held = next;
        else
          log::warn(st.cfg.name, "memory.high claim in ", st.target.cgroup_path,
                    " refused: ", to_string(e));
      });
}

void step(loop_actor self) {
  auto &st = self->state;
  auto sample = read_memory_sample(*st.env.probe, st.env.proc_root);
  if (!sample) {
    if (!st.unreadable)
      log::warn(st.cfg.name, st.target.cgroup_path, ": cannot sample memory (",
                sample.err().message, "); is the memory controller enabled?");
    st.unreadable = true;
    return;
  }
  st.unreadable = false;
  auto now = self->clock().now();
  if (!st.last) {
    st.last = *sample;
    st.last_at = now;
    return;
  }
  limit_input in;
  in.stall_us = sample->stall_some_us - std::min(sample->stall_some_us, st.last->stall_some_us);
  in.elapsed = std::chrono::duration_cast<microseconds>(now - st.last_at);
  in.sample = &*sample;
  in.limit = st.held.value_or(sample->high);
  st.last = *sample;
  st.last_at = now;
  uint64_t next = st.law->step(in, *st.series);
  std::string why = st.cfg.name + ": " + std::to_string(in.stall_us) + " us stall in " +
                    std::to_string(in.elapsed.count() / 1000) + " ms, usage " +
                    std::to_string(sample->current);
  if (next < in.limit && !sample->reclaimable()) {
    if (!st.refused)
      log::warn(st.cfg.name, st.target.cgroup_path, ": not lowering memory.high: no swap and ",
                sample->anon, " of ", sample->current, " bytes are anonymous, nothing to reclaim");
    st.refused = true;
    st.series->refused("not_reclaimable");
    st.series->decision("hold");
    return;
  }
  st.refused = false;
  st.series->output(double(next == no_limit ? 0 : next));
  if (next == in.limit) {
    st.series->decision("hold");
    return;
  }
  st.series->decision(next < in.limit ? "lower" : "raise");
  claim_limit(self, *sample, next, why);
}

policy_actor::behavior_type memory_limit_loop(loop_actor self, config::policy cfg,
                                              policy_target target, policy_env env,
                                              std::shared_ptr<limit_law> law, limit_options opts) {
  auto &st = self->state;
  st.series = std::make_unique<policy_series>(env.metrics, cfg.name, target.cgroup_path);
  st.presence = std::make_unique<policy_presence>(env.metrics, cfg.name);
  st.cfg = std::move(cfg);
  st.target = std::move(target);
  st.env = std::move(env);
  st.law = std::move(law);
  st.opts = opts;
  arm_trigger(self);
  self->send(self, atom::tick_v);
  return {
      [=](atom::tick) {
        auto &st = self->state;
        auto now = self->clock().now();
        bool scheduled = now >= st.next_tick;
        if (scheduled) {
          st.next_tick = next_aligned_tick(now, st.cfg.interval);
          self->scheduled_send(self, st.next_tick, atom::tick_v);
        } else if (self->clock().now() - st.last_at < min_step_spacing) {
          return; // a trigger right after a step
        }
        if (!st.waiting)
          step(self);
      },
      [](atom::exec, const std::string &) {}, // it acts for a cgroup, not a process
  };
}

} // namespace

policy_actor spawn_memory_limit_loop(caf::actor_system &sys, const config::policy &cfg,
                                     const policy_target &target, const policy_env &env,
                                     std::shared_ptr<limit_law> law, limit_options opts) {
  return sys.spawn(memory_limit_loop, cfg, target, env, std::move(law), opts);
}

} // namespace ballast
