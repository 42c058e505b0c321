// ballast-schedload: scheduler workloads for the sched source's host and VM
// tests and its benchmarks (standard library and POSIX only).
//
//   ballast-schedload spin SECONDS      one thread on the CPU the whole time
//   ballast-schedload pingpong SECONDS  two processes passing a byte over two
//                                       pipes: a wakeup (and a run-queue
//                                       wait) per hop; prints round trips/s
//                                       and the round trip's p50_us, p99_us
//   ballast-schedload futex SECONDS     four threads contending one mutex:
//                                       futex waits
//   ballast-schedload fanout SECONDS    hackbench-like: 8 senders, 8
//                                       receivers over socketpairs; prints
//                                       messages/s
//   ballast-schedload read SECONDS DEVICE THREADS THINK_MS
//                                       THREADS threads reading 4 KiB with
//                                       O_DIRECT at random offsets of the
//                                       device's first 64 MiB, each sleeping
//                                       THINK_MS between reads
// The last line is "schedload: MODE ops_per_s=N" (N: round trips, lock
// acquisitions, messages or reads per second; the spin loop's iterations),
// and for pingpong and read " p50_us=A p99_us=B" (round trips, reads).
// Exit status 0 when the time is up, 2 on a bad command line.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <random>
#include <string>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

uint64_t spin(double seconds) {
  auto t0 = clock_type::now();
  uint64_t n = 0;
  volatile uint64_t sink = 0;
  while (seconds_since(t0) < seconds)
    for (int i = 0; i < 10000; ++i, ++n)
      sink = sink + uint64_t(i);
  return n;
}

// The round trips' p50 and p99, µs, as " p50_us=A p99_us=B".
std::string round_trip_quantiles(std::vector<uint32_t> &ns) {
  if (ns.empty())
    return "";
  auto at = [&](double q) {
    auto nth = ns.begin() + ptrdiff_t(q * double(ns.size() - 1));
    std::nth_element(ns.begin(), nth, ns.end());
    return double(*nth) / 1000;
  };
  char out[64];
  std::snprintf(out, sizeof out, " p50_us=%.1f p99_us=%.1f", at(0.5), at(0.99));
  return out;
}

// The parent writes a byte to `ping`, the child echoes it back on `pong`;
// each round trip's time goes to `round_trips_ns`.
uint64_t pingpong(double seconds, std::vector<uint32_t> &round_trips_ns) {
  int ping[2], pong[2];
  if (pipe(ping) != 0 || pipe(pong) != 0)
    return 0;
  pid_t child = fork();
  if (child == 0) {
    close(ping[1]); // so that the parent's exit is an EOF here
    close(pong[0]);
    char c;
    while (read(ping[0], &c, 1) == 1)
      if (write(pong[1], &c, 1) != 1)
        break;
    _exit(0);
  }
  close(ping[0]);
  close(pong[1]);
  auto t0 = clock_type::now();
  uint64_t n = 0;
  char c = 'x';
  for (auto sent = t0; sent - t0 < std::chrono::duration<double>(seconds);) {
    if (write(ping[1], &c, 1) != 1 || read(pong[0], &c, 1) != 1)
      break;
    auto back = clock_type::now();
    round_trips_ns.push_back(uint32_t(std::min<int64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(back - sent).count(), UINT32_MAX)));
    sent = back;
    ++n;
  }
  close(ping[1]);
  waitpid(child, nullptr, 0);
  return n;
}

uint64_t futex(double seconds) {
  std::mutex m;
  std::atomic<uint64_t> n{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      while (!stop) {
        std::lock_guard g{m};
        ++n;
        std::this_thread::sleep_for(std::chrono::microseconds(50)); // hold it: others wait
      }
    });
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto &t : threads)
    t.join();
  return n;
}

// 8 pairs of socketpairs; each sender writes 100-byte messages as fast as the
// receiver reads them (blocking both ways).
uint64_t fanout(double seconds) {
  constexpr int pairs = 8;
  std::atomic<uint64_t> received{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  std::vector<int> fds;
  for (int p = 0; p < pairs; ++p) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
      return 0;
    fds.insert(fds.end(), {sv[0], sv[1]});
    threads.emplace_back([&stop, fd = sv[0]] {
      char msg[100] = {};
      while (!stop && write(fd, msg, sizeof msg) == ssize_t(sizeof msg)) {
      }
      shutdown(fd, SHUT_WR);
    });
    threads.emplace_back([&received, fd = sv[1]] {
      char msg[100];
      while (read(fd, msg, sizeof msg) > 0)
        ++received;
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto &t : threads)
    t.join();
  for (int fd : fds)
    close(fd);
  return received;
}

// Each thread's reads, timed into `read_ns` (all threads, under a lock).
uint64_t read_device(double seconds, const char *device, int threads, double think_ms,
                     std::vector<uint32_t> &read_ns) {
  std::mutex m;
  std::vector<std::thread> readers;
  auto t0 = clock_type::now();
  for (int t = 0; t < threads; ++t)
    readers.emplace_back([&, t] {
      int fd = open(device, O_RDONLY | O_DIRECT);
      void *buf = nullptr;
      if (fd < 0 || posix_memalign(&buf, 4096, 4096) != 0)
        return;
      std::mt19937_64 rng(uint64_t(t) + 1);
      std::vector<uint32_t> mine;
      while (seconds_since(t0) < seconds) {
        auto sent = clock_type::now();
        if (pread(fd, buf, 4096, off_t(rng() % (64 * 256)) * 4096) != 4096)
          break;
        mine.push_back(uint32_t(std::min<int64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now() - sent).count(),
            UINT32_MAX)));
        if (think_ms > 0)
          std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(think_ms));
      }
      free(buf);
      close(fd);
      std::lock_guard g{m};
      read_ns.insert(read_ns.end(), mine.begin(), mine.end());
    });
  for (auto &r : readers)
    r.join();
  return read_ns.size();
}

} // namespace

int main(int argc, char **argv) {
  bool read_mode = argc == 6 && std::string(argv[1]) == "read";
  if (argc != 3 && !read_mode) {
    std::fprintf(stderr,
                 "usage: %s spin|pingpong|futex|fanout SECONDS\n"
                 "       %s read SECONDS DEVICE THREADS THINK_MS\n",
                 argv[0], argv[0]);
    return 2;
  }
  std::string mode = argv[1];
  double seconds = std::atof(argv[2]);
  uint64_t ops = 0;
  std::vector<uint32_t> round_trips_ns;
  auto t0 = clock_type::now();
  if (mode == "spin")
    ops = spin(seconds);
  else if (mode == "pingpong")
    ops = pingpong(seconds, round_trips_ns);
  else if (mode == "futex")
    ops = futex(seconds);
  else if (mode == "fanout")
    ops = fanout(seconds);
  else if (read_mode)
    ops = read_device(seconds, argv[3], std::atoi(argv[4]), std::atof(argv[5]), round_trips_ns);
  else {
    std::fprintf(stderr, "unknown mode %s\n", argv[1]);
    return 2;
  }
  std::printf("schedload: %s ops_per_s=%.0f%s\n", mode.c_str(), double(ops) / seconds_since(t0),
              round_trip_quantiles(round_trips_ns).c_str());
  return 0;
}
