// Admission of a job by host pressure: the band of its priority, and the
// first of the band's limits that the host is over.
#pragma once

#include "config/config.hpp"
#include "sys/psi.hpp"

#include <map>
#include <optional>
#include <string>

namespace ballast::jobs {

// /proc/pressure/{cpu,memory,io} read now, by resource: "memory.some",
// "memory.full", "cpu.some", ...; a file that cannot be read is left out.
std::map<std::string, sys::psi_line> read_host_psi(const std::string &proc_root);

// avg10 (%) by resource.
using host_pressure = std::map<std::string, double>;

// The avg10s of read_host_psi (a host without PSI admits every job).
host_pressure read_host_pressure(const std::string &proc_root);

// Why a job of this priority is refused now ("memory.some avg10 31.20 %
// is above 20.00 % (jobs of priority <= 49)"), or nothing if admitted.
std::optional<std::string> refusal(const std::vector<config::admission_band> &bands,
                                   int32_t priority, const host_pressure &now);

} // namespace ballast::jobs
