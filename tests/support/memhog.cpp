// ballast-memhog: a memory workload for the VM tests of memory policies.
//
// It maps a hot set and a cold set (mmap, private anonymous), fills every page
// of both with xorshift output, then touches only the hot set: pass after pass,
// one word (read + write) of every hot page, in a fresh pseudo-random page order
// each pass. The cold set is never touched again, so reclaim can push it out for
// free; pushing out any of the hot set costs real faults on the next pass, which
// is what the per-second throughput (touched_pages_per_s) shows.
//
// Trade-offs: the page contents are random so zram swap has to store them (zero
// pages cost zram nothing and would make swap look free), and the shuffle costs
// 4 bytes of page order per hot page, small next to the 4 KiB page it orders.
// The clock (t, --seconds) starts after the initial fill, which is reported on
// its own line, so a slow fill under qemu TCG does not eat the measured time.
//
// Output: one line a second, and a last line (also written to --report FILE
// as plain key=value pairs, which sh can source):
//   memhog: filled hot_bytes=N cold_bytes=N fill_s=S
//   memhog: t=S touched_pages_per_s=N hot_bytes=N rss=N
//   memhog: done seconds=S touched_pages_per_s=MEDIAN passes=N
// Exit status: 0 when the time is up or on SIGTERM/SIGINT, 1 if memory or the
// report cannot be had, 2 on a bad command line.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

namespace {

constexpr const char *usage = R"(usage: ballast-memhog [options]

Fills memory with poorly-compressible data and keeps touching a hot part of it
in random page order, printing pages touched per second.

options:
  --hot SIZE       working set touched every pass (default 64M)
  --cold SIZE      memory filled once at start, never touched again (default 0)
  --seconds N      run time after the fill (default: until SIGTERM/SIGINT)
  --ramp SECONDS   grow the hot set linearly from 0 to SIZE over that time
                   (default 0: all at once)
  --report FILE    also write the final key=value line to FILE
  --help           this text

SIZE is bytes with an optional K, M or G suffix (powers of 1024).
)";

using Clock = std::chrono::steady_clock;

struct Options {
  std::uint64_t hot = 64ull << 20;
  std::uint64_t cold = 0;
  double seconds = 0; // 0: until a signal
  double ramp = 0;
  const char *report = nullptr;
};

volatile std::sig_atomic_t stop_requested = 0;

extern "C" void on_stop_signal(int) {
  stop_requested = 1;
}

[[noreturn]] void bad_flag(const char *flag, const char *why) {
  std::fprintf(stderr, "ballast-memhog: %s: %s\n", flag, why);
  std::exit(2);
}

bool parse_size(const char *s, std::uint64_t &out) {
  char *end = nullptr;
  if (*s < '0' || *s > '9')
    return false;
  errno = 0;
  std::uint64_t v = std::strtoull(s, &end, 10);
  if (errno != 0)
    return false;
  const int unit = std::toupper(static_cast<unsigned char>(*end));
  const unsigned shift = unit == 'K' ? 10 : unit == 'M' ? 20 : unit == 'G' ? 30 : 0;
  if (shift != 0)
    ++end;
  if (*end != '\0' || v > (UINT64_MAX >> shift))
    return false;
  out = v << shift;
  return true;
}

bool parse_seconds(const char *s, double &out) {
  char *end = nullptr;
  errno = 0;
  double v = std::strtod(s, &end);
  if (end == s || *end != '\0' || errno != 0 || !std::isfinite(v) || v < 0)
    return false;
  out = v;
  return true;
}

Options parse_args(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    if (flag == "--help") {
      std::fputs(usage, stdout);
      std::exit(0);
    }
    if (flag != "--hot" && flag != "--cold" && flag != "--seconds" && flag != "--ramp" &&
        flag != "--report")
      bad_flag(argv[i], "unknown flag (see --help)");
    if (i + 1 >= argc)
      bad_flag(argv[i], "needs a value");
    const char *value = argv[++i];
    if (flag == "--hot" && (!parse_size(value, o.hot) || o.hot == 0))
      bad_flag("--hot", "must be a size above 0, like 64M");
    if (flag == "--cold" && !parse_size(value, o.cold))
      bad_flag("--cold", "must be a size, like 32M");
    if (flag == "--seconds" && (!parse_seconds(value, o.seconds) || o.seconds == 0))
      bad_flag("--seconds", "must be a number of seconds above 0");
    if (flag == "--ramp" && !parse_seconds(value, o.ramp))
      bad_flag("--ramp", "must be a number of seconds, 0 or more");
    if (flag == "--report") {
      if (*value == '\0')
        bad_flag("--report", "must be a file name");
      o.report = value;
    }
  }
  return o;
}

// xorshift64: cheap, never 0 from a non-zero seed, and incompressible enough for lzo.
struct Rng {
  std::uint64_t s = 0x9e3779b97f4a7c15ull;
  std::uint64_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
  // Uniform enough in [0, n) for page orders (Lemire's multiply-shift).
  std::uint32_t below(std::uint32_t n) {
    return static_cast<std::uint32_t>(((next() >> 32) * n) >> 32);
  }
};

const std::size_t page_size = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));

std::uint8_t *map_pages(std::size_t pages, const char *what) {
  if (pages == 0)
    return nullptr;
  void *p =
      mmap(nullptr, pages * page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    std::fprintf(stderr, "ballast-memhog: cannot map %zu pages of %s: %s\n", pages, what,
                 std::strerror(errno));
    std::exit(1);
  }
  return static_cast<std::uint8_t *>(p);
}

// Fills pages [from, to) of base with random words; stops early on a signal.
void fill_pages(std::uint8_t *base, std::size_t from, std::size_t to, Rng &rng) {
  const std::size_t words = page_size / sizeof(std::uint64_t);
  for (std::size_t p = from; p < to && !stop_requested; ++p) {
    auto *w = reinterpret_cast<std::uint64_t *>(base + p * page_size);
    for (std::size_t i = 0; i < words; ++i)
      w[i] = rng.next();
  }
}

std::uint64_t rss_bytes() {
  std::FILE *f = std::fopen("/proc/self/statm", "r");
  unsigned long long size = 0, resident = 0;
  if (f) {
    if (std::fscanf(f, "%llu %llu", &size, &resident) != 2)
      resident = 0;
    std::fclose(f);
  }
  return resident * page_size;
}

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

double median(std::vector<double> v) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Hot pages the ramp allows at elapsed time t.
std::size_t ramp_target(const Options &o, std::size_t hot_pages, double t) {
  if (o.ramp <= 0 || t >= o.ramp)
    return hot_pages;
  return static_cast<std::size_t>(static_cast<double>(hot_pages) * (t / o.ramp));
}

// The touch loop's state and its once-in-a-while chores (clock, ramp, report).
struct Run {
  const Options &o;
  std::uint8_t *hot;
  std::size_t hot_pages;
  std::size_t active; // hot pages filled and in the passes so far
  Rng &rng;
  Clock::time_point start = Clock::now();
  Clock::time_point last_report = start;
  std::uint64_t touched = 0, touched_at_report = 0, passes = 0;
  std::vector<double> rates{};

  // Grows the hot set, prints the second's line when one is due; false when
  // the time is up or a signal came.
  bool tick() {
    const auto now = Clock::now();
    const double t = seconds_between(start, now);
    if (stop_requested || (o.seconds > 0 && t >= o.seconds))
      return false;
    const std::size_t target = ramp_target(o, hot_pages, t);
    if (target > active) {
      fill_pages(hot, active, target, rng);
      active = target;
    }
    const double interval = seconds_between(last_report, now);
    if (interval >= 1.0) {
      const double rate = static_cast<double>(touched - touched_at_report) / interval;
      rates.push_back(rate);
      std::printf("memhog: t=%.1f touched_pages_per_s=%.0f hot_bytes=%zu rss=%llu\n", t, rate,
                  active * page_size, static_cast<unsigned long long>(rss_bytes()));
      std::fflush(stdout);
      last_report = now;
      touched_at_report = touched;
    }
    return true;
  }

  // One pass over the active hot pages in a fresh Fisher-Yates order (shuffling
  // only the prefix keeps it a permutation of 0..active-1); false if cut short.
  bool pass(std::vector<std::uint32_t> &order) {
    constexpr std::size_t pages_between_ticks = 64;
    const std::size_t n = active;
    if (n == 0) { // ramping up from nothing: wait for the first pages
      usleep(1000);
      return tick();
    }
    for (std::size_t i = n; i > 1; --i)
      std::swap(order[i - 1], order[rng.below(static_cast<std::uint32_t>(i))]);
    const std::size_t word = passes % (page_size / sizeof(std::uint64_t));
    for (std::size_t i = 0; i < n; ++i) {
      auto *w = reinterpret_cast<volatile std::uint64_t *>(hot + order[i] * page_size);
      w[word] = w[word] * 3 + 1;
      ++touched;
      if (i % pages_between_ticks == pages_between_ticks - 1 && !tick())
        return false;
    }
    ++passes;
    return tick();
  }
};

} // namespace

int main(int argc, char **argv) {
  const Options o = parse_args(argc, argv);

  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);

  const std::size_t hot_pages = (o.hot + page_size - 1) / page_size;
  const std::size_t cold_pages = (o.cold + page_size - 1) / page_size;
  std::uint8_t *hot = map_pages(hot_pages, "hot set");
  std::uint8_t *cold = map_pages(cold_pages, "cold set");
  std::vector<std::uint32_t> order(hot_pages);
  for (std::size_t i = 0; i < hot_pages; ++i)
    order[i] = static_cast<std::uint32_t>(i);

  Rng rng;
  const auto fill_start = Clock::now();
  fill_pages(cold, 0, cold_pages, rng);
  const std::size_t active = ramp_target(o, hot_pages, 0);
  fill_pages(hot, 0, active, rng);
  std::printf("memhog: filled hot_bytes=%zu cold_bytes=%zu fill_s=%.2f\n", active * page_size,
              cold_pages * page_size, seconds_between(fill_start, Clock::now()));
  std::fflush(stdout);

  Run run{o, hot, hot_pages, active, rng};
  while (!stop_requested && run.pass(order)) {
  }

  const double elapsed = seconds_between(run.start, Clock::now());
  // Too short a run for a per-second rate: fall back to the overall one.
  const double rate = !run.rates.empty() ? median(run.rates)
                      : elapsed > 0      ? static_cast<double>(run.touched) / elapsed
                                         : 0;
  char line[160];
  std::snprintf(line, sizeof line, "seconds=%.1f touched_pages_per_s=%.0f passes=%llu", elapsed,
                rate, static_cast<unsigned long long>(run.passes));
  std::printf("memhog: done %s\n", line);
  std::fflush(stdout);
  if (o.report) {
    std::FILE *f = std::fopen(o.report, "w");
    bool ok = f && std::fprintf(f, "%s\n", line) > 0;
    ok = (f && std::fclose(f) == 0) && ok;
    if (!ok) {
      std::fprintf(stderr, "ballast-memhog: cannot write --report %s: %s\n", o.report,
                   std::strerror(errno));
      return 1;
    }
  }
  return 0;
}
