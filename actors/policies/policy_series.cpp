#include "actors/policies/policy_series.hpp"

namespace ballast {

policy_series::policy_series(std::shared_ptr<agent_metrics> metrics, std::string policy,
                             std::string cgroup)
    : metrics_(std::move(metrics)), policy_(std::move(policy)), cgroup_(std::move(cgroup)) {}

policy_series::~policy_series() {
  metrics_->remove_series(metrics_->policy_setpoint(), setpoint_);
  metrics_->remove_series(metrics_->policy_measured(), measured_);
  metrics_->remove_series(metrics_->policy_output(), output_);
  metrics_->remove_series(metrics_->policy_cpu_setting(), cpu_setting_);
  metrics_->remove_series(metrics_->policy_io_share(), io_share_);
  metrics_->remove_series(metrics_->policy_level(), level_);
}

void policy_series::set(prometheus::Family<prometheus::Gauge> &family, prometheus::Gauge *&g,
                        double v) {
  if (!g)
    g = &metrics_->add_series(family, {{"policy", policy_}, {"cgroup", cgroup_}});
  g->Set(v);
}

} // namespace ballast
