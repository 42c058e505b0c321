// One request to many actors: each answer collected, one finish once all have
// answered (an actor that failed or died counts as answered). Shared by the
// registry (its cgroup actors) and the job supervisor (its jobs).
#pragma once

#include <caf/all.hpp>

#include <memory>

namespace ballast {

template <class Reply, class Self, class Targets, class Request, class Collect, class Finish>
void fan_out(Self self, const Targets &targets, Request request, Collect collect, Finish finish) {
  auto pending = std::make_shared<size_t>(std::size(targets));
  auto fin = std::make_shared<Finish>(std::move(finish));
  if (*pending == 0) {
    (*fin)();
    return;
  }
  auto one_done = [=] {
    if (--*pending == 0)
      (*fin)();
  };
  for (auto &target : targets)
    self->request(target, caf::infinite, request)
        .then(
            [=](Reply &r) {
              collect(r);
              one_done();
            },
            [=](caf::error &) { one_done(); });
}

} // namespace ballast
