// The jobs' metrics: how many jobs in each state, starts, refusals by
// reason, actions by kind and by who asked, and each job's memory and CPU (labelled
// by job ID only while the job exists: remove takes its series away).
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <string>

namespace ballast {

class job_metrics {
public:
  explicit job_metrics(prometheus::Registry &registry);

  // ballast_jobs{state}: running, exited, killed, failed, lost.
  void state_changed(const std::string &from, const std::string &to);
  void started() { starts_.Increment(); }
  // ballast_job_refusals_total{reason}: a pressure ("memory.some"), or
  // "request" (checks, IDs, paths, controllers, users).
  void refused(const std::string &reason) { refusals_.Add({{"reason", reason}}).Increment(); }
  // ballast_job_actions_total{action, by}: kill, freeze, thaw, remove,
  // demote, restore; by operator or response.
  void action(const std::string &what, const std::string &by) {
    actions_.Add({{"action", what}, {"by", by}}).Increment();
  }

  prometheus::Family<prometheus::Gauge> &memory; // {job}
  prometheus::Family<prometheus::Counter> &cpu;  // {job}

private:
  prometheus::Family<prometheus::Gauge> &jobs_;
  prometheus::Counter &starts_;
  prometheus::Family<prometheus::Counter> &refusals_;
  prometheus::Family<prometheus::Counter> &actions_;
};

} // namespace ballast
