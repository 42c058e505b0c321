// The controller state one policy exports for one cgroup: setpoint,
// measured value, output and ladder level as gauges labelled {policy,
// cgroup}. A series appears on first set and is removed with the object, so
// a policy that ends leaves nothing behind on /metrics.
#pragma once

#include "actors/metrics/agent_metrics.hpp"

#include <memory>
#include <string>

namespace ballast {

// A live policy actor, as counted on /metrics: ballast_policy_actors{policy}
// and ballast_actors{type="policy"} go up with it and down when it goes.
class policy_presence {
public:
  policy_presence(std::shared_ptr<agent_metrics> metrics, const std::string &policy)
      : metrics_(std::move(metrics)), live_(&metrics_->policy_actors(policy)) {
    live_->Increment();
    metrics_->actor_started(actor_type::policy);
  }
  ~policy_presence() {
    live_->Decrement();
    metrics_->actor_stopped(actor_type::policy);
  }
  policy_presence(const policy_presence &) = delete;
  policy_presence &operator=(const policy_presence &) = delete;

private:
  std::shared_ptr<agent_metrics> metrics_;
  prometheus::Gauge *live_;
};

class policy_series {
public:
  policy_series(std::shared_ptr<agent_metrics> metrics, std::string policy, std::string cgroup);
  ~policy_series();
  policy_series(const policy_series &) = delete;
  policy_series &operator=(const policy_series &) = delete;

  void setpoint(double v) { set(metrics_->policy_setpoint(), setpoint_, v); }
  void measured(double v) { set(metrics_->policy_measured(), measured_, v); }
  void output(double v) { set(metrics_->policy_output(), output_, v); } // bytes
  void cpu_setting(double v) { set(metrics_->policy_cpu_setting(), cpu_setting_, v); }
  void io_share(double v) { set(metrics_->policy_io_share(), io_share_, v); }
  void level(double v) { set(metrics_->policy_level(), level_, v); }

  // ballast_policy_decisions_total{policy, action}.
  void decision(const std::string &action) { metrics_->policy_decision(policy_, action); }
  void refused(const std::string &reason) { metrics_->policy_refused(policy_, reason); }

  const std::string &policy() const { return policy_; }
  const std::string &cgroup() const { return cgroup_; }
  agent_metrics &metrics() { return *metrics_; }

private:
  void set(prometheus::Family<prometheus::Gauge> &family, prometheus::Gauge *&g, double v);

  std::shared_ptr<agent_metrics> metrics_;
  std::string policy_;
  std::string cgroup_;
  prometheus::Gauge *setpoint_ = nullptr;
  prometheus::Gauge *measured_ = nullptr;
  prometheus::Gauge *output_ = nullptr;
  prometheus::Gauge *cpu_setting_ = nullptr;
  prometheus::Gauge *io_share_ = nullptr;
  prometheus::Gauge *level_ = nullptr;
};

} // namespace ballast
