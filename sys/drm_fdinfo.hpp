// DRM client statistics from /proc/PID/fdinfo/FD (the kernel's
// drm-usage-stats format, 5.19 and later, driver-independent): which device
// and client an open DRM fd is, the busy time of each engine and the memory
// of each region. The parser is a pure function over the file's text.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace ballast::sys {

struct drm_engine_time {
  uint64_t ns = 0; // drm-engine-<name>: busy time so far
  // Drivers that count cycles instead (xe): drm-cycles-<name> over
  // drm-total-cycles-<name> is the busy share of the time between two reads.
  uint64_t cycles = 0;
  uint64_t total_cycles = 0;
  bool in_cycles = false;
};

struct drm_client {
  std::string driver; // drm-driver
  std::string pdev;   // drm-pdev: the PCI address ("" for a platform device)
  uint64_t id = 0;    // drm-client-id: unique per device while the file is open
  std::map<std::string, drm_engine_time> engines;
  // Resident bytes by region: drm-resident-<region>, or the older
  // drm-memory-<region> (its deprecated alias) where only that is given.
  std::map<std::string, uint64_t> memory;

  // The device: its PCI address, or the driver for a platform device.
  const std::string &device() const { return pdev.empty() ? driver : pdev; }
};

// The client a DRM fd's fdinfo describes; nullopt for any other fd (no
// drm-driver or drm-client-id). Lines it does not know are skipped, and so
// is a value it cannot read (the rest of the file still counts).
std::optional<drm_client> parse_drm_fdinfo(std::string_view text);

} // namespace ballast::sys
