// ballast-job-shim: the parent of one job's main process (and of its optional
// service sidecar). ballastd starts it inside the job's cgroup; the shim, not
// the agent, reaps the main process, so a job outlives an agent restart. The
// two talk only through files in the job's directory:
//   main.pid     the main process's pid, written once it is forked
//   log, log.1   stdout and stderr of both children, rotated at --log-max
//   status       one JSON line, written when the main process has ended
// libc and the standard library only, single-threaded: everything in a child
// between fork and exec is then safe, and the shim costs little per job.
// If the shim is SIGKILLed nothing is written; the agent handles that case.
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

constexpr int forwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
// After main (and service) ended: a stray background process may hold the
// output pipe open forever, so draining stops after this long.
constexpr int64_t drain_ms = 1000;

struct options {
  std::string dir;
  uint64_t log_max = 0;
  bool has_log_max = false, has_uid = false, has_gid = false;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string cwd, service;
  int64_t service_grace_ms = 5000;
  std::vector<char *> argv; // null-terminated
};

[[noreturn]] void usage(const std::string &why) {
  fprintf(stderr,
          "ballast-job-shim: %s\nusage: ballast-job-shim --dir DIR --log-max BYTES "
          "[--uid UID --gid GID] [--cwd PATH] [--service CMD] [--service-grace-ms N] -- ARGV...\n",
          why.c_str());
  exit(2);
}

template <class T> bool parse_number(std::string_view s, T &out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc() && end == s.data() + s.size();
}

options parse(int argc, char **argv) {
  options o;
  int i = 1;
  for (; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--") {
      ++i;
      break;
    }
    auto value = [&]() -> std::string_view {
      if (i + 1 >= argc)
        usage(std::string(a) + ": missing value");
      return argv[++i];
    };
    auto number = [&](auto &out) {
      if (!parse_number(value(), out))
        usage(std::string(a) + ": not a number");
    };
    if (a == "--dir")
      o.dir = value();
    else if (a == "--log-max")
      number(o.log_max), o.has_log_max = true;
    else if (a == "--uid")
      number(o.uid), o.has_uid = true;
    else if (a == "--gid")
      number(o.gid), o.has_gid = true;
    else if (a == "--cwd")
      o.cwd = value();
    else if (a == "--service")
      o.service = value();
    else if (a == "--service-grace-ms")
      number(o.service_grace_ms);
    else
      usage("unknown option " + std::string(a));
  }
  for (; i < argc; ++i)
    o.argv.push_back(argv[i]);
  o.argv.push_back(nullptr);
  if (o.dir.empty() || !o.has_log_max)
    usage("--dir and --log-max are required");
  if (o.has_uid != o.has_gid)
    usage("--uid and --gid go together");
  if (o.uid == uid_t(-1) || o.gid == gid_t(-1) || o.service_grace_ms < 0)
    usage("bad --uid, --gid or --service-grace-ms");
  if (o.argv.size() < 2)
    usage("no command after --");
  return o;
}

int64_t now_ms(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

bool write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return false;
    p += w;
    n -= size_t(w);
  }
  return true;
}

// Readers never see a half-written main.pid or status.
bool write_atomic(const std::string &dir, const std::string &name, const std::string &text) {
  std::string tmp = dir + "/." + name + ".tmp", path = dir + "/" + name;
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0)
    return false;
  bool ok = write_all(fd, text.data(), text.size());
  ok = close(fd) == 0 && ok && rename(tmp.c_str(), path.c_str()) == 0;
  if (!ok)
    unlink(tmp.c_str());
  return ok;
}

// DIR/log, cut at exactly `max` bytes into DIR/log.1, so at most 2 × max are
// kept. Write errors drop output rather than stall the job on a full pipe.
struct log_sink {
  std::string path, old_path;
  uint64_t max = 0, size = 0;
  int fd = -1;

  void open_new(int extra_flags) {
    fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | extra_flags, 0640);
    struct stat st;
    size = fd >= 0 && fstat(fd, &st) == 0 ? uint64_t(st.st_size) : 0;
  }
  void write(const char *p, size_t n) {
    while (max > 0 && n > 0) {
      if (fd < 0)
        open_new(0);
      if (fd < 0)
        return;
      if (size >= max) {
        close(fd);
        rename(path.c_str(), old_path.c_str());
        open_new(O_TRUNC); // if the rename failed, start over in place
        continue;
      }
      size_t chunk = size_t(std::min<uint64_t>(n, max - size));
      write_all(fd, p, chunk);
      size += chunk, p += chunk, n -= chunk;
    }
  }
};

// What every child gets: set up before fork, so the child only makes syscalls.
struct launch {
  int null_fd = -1, out_fd = -1;
  bool drop = false;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
  const char *cwd = nullptr;
};

enum class step : int { setpgid, dup2, setgroups, setgid, setuid, chdir, exec };
struct child_error {
  int err;
  step at;
};

[[noreturn]] void child_failed(int err_fd, step at) {
  child_error e{errno, at};
  (void)!write(err_fd, &e, sizeof e);
  _exit(at == step::exec && e.err == ENOENT ? 127 : 126); // 127 as shells do
}

[[noreturn]] void run_child(const launch &l, char *const *argv, int err_fd) {
  // Its own group, so a signal forwarded to the group reaches its children.
  if (setpgid(0, 0) != 0)
    child_failed(err_fd, step::setpgid);
  if (dup2(l.null_fd, 0) < 0 || dup2(l.out_fd, 1) < 0 || dup2(l.out_fd, 2) < 0)
    child_failed(err_fd, step::dup2);
  // Ignored signals and the mask survive exec: undo the shim's SIGPIPE ignore
  // and blocked set, and whatever the agent's thread had.
  for (int sig = 1; sig < NSIG; ++sig)
    signal(sig, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  if (l.drop) {
    if (setgroups(l.groups.size(), l.groups.data()) != 0)
      child_failed(err_fd, step::setgroups);
    if (setgid(l.gid) != 0)
      child_failed(err_fd, step::setgid);
    if (setuid(l.uid) != 0)
      child_failed(err_fd, step::setuid);
  }
  // After dropping privileges, so the user's own access applies.
  if (l.cwd && chdir(l.cwd) != 0)
    child_failed(err_fd, step::chdir);
  execvp(argv[0], argv);
  child_failed(err_fd, step::exec);
}

// Forks a child; err_r gets the read end of its error pipe, which sees EOF
// at a successful exec. Returns -1 (and says why in `error`) if fork failed.
pid_t spawn(const launch &l, char *const *argv, int &err_r, std::string &error) {
  int ep[2];
  if (pipe2(ep, O_CLOEXEC) != 0) {
    error = std::string("pipe: ") + strerror(errno);
    return -1;
  }
  pid_t pid = fork();
  if (pid == 0) {
    close(ep[0]);
    run_child(l, argv, ep[1]);
  }
  int fork_errno = errno;
  close(ep[1]);
  err_r = ep[0];
  if (pid < 0) {
    close(ep[0]);
    error = std::string("fork: ") + strerror(fork_errno);
    return -1;
  }
  setpgid(pid, pid); // here too, so a signal forwarded at once finds the group
  return pid;
}

// The child's failure report, empty if it reached exec.
std::string child_failure(int err_r, const launch &l, const char *cmd) {
  child_error e{};
  ssize_t n;
  do
    n = read(err_r, &e, sizeof e);
  while (n < 0 && errno == EINTR);
  close(err_r);
  if (n != sizeof e)
    return "";
  std::string what[] = {"setpgid",
                        "dup2",
                        "setgroups",
                        "setgid " + std::to_string(l.gid),
                        "setuid " + std::to_string(l.uid),
                        std::string("chdir ") + (l.cwd ? l.cwd : ""),
                        std::string("exec ") + cmd};
  return what[int(e.at)] + ": " + strerror(e.err);
}

// Length of the valid UTF-8 sequence at s[i], or 0. The agent's JSON parser
// rejects invalid UTF-8, and a path in an error message may hold any bytes.
size_t utf8_length(std::string_view s, size_t i) {
  unsigned char c = s[i];
  size_t n = c < 0x80 ? 1 : c >> 5 == 6 ? 2 : c >> 4 == 14 ? 3 : c >> 3 == 30 ? 4 : 0;
  if (n == 0 || i + n > s.size())
    return 0;
  uint32_t cp = n == 1 ? c : c & (0x7f >> n);
  for (size_t k = 1; k < n; ++k) {
    unsigned char d = s[i + k];
    if (d >> 6 != 2)
      return 0;
    cp = cp << 6 | (d & 0x3f);
  }
  constexpr uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
  bool bad = cp < least[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff);
  return bad ? 0 : n;
}

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    unsigned char c = s[i];
    size_t n = utf8_length(s, i);
    if (n == 0) {
      out += "\\ufffd", ++i;
      continue;
    }
    if (c == '"' || c == '\\') {
      out += '\\', out += char(c);
    } else if (c < 0x20) {
      char esc[8];
      snprintf(esc, sizeof esc, "\\u%04x", c);
      out += esc;
    } else {
      out.append(s.substr(i, n));
    }
    i += n;
  }
  return out + "\"";
}

std::string status_line(int wstatus, int64_t ended_ms, const std::string &error) {
  std::string s = "{";
  if (WIFSIGNALED(wstatus))
    s += "\"signal\":" + std::to_string(WTERMSIG(wstatus)) +
         ",\"core\":" + (WCOREDUMP(wstatus) ? "true" : "false");
  else
    s += "\"exit\":" + std::to_string(WEXITSTATUS(wstatus));
  s += ",\"ended_unix_ms\":" + std::to_string(ended_ms);
  if (!error.empty())
    s += ",\"error\":" + json_string(error);
  return s + "}\n";
}

// Setup failed before any child ran: report it as the job failing to start.
[[noreturn]] void fail_to_start(const options &o, const std::string &error) {
  fprintf(stderr, "ballast-job-shim: %s\n", error.c_str());
  write_atomic(o.dir, "status", status_line(126 << 8, now_ms(CLOCK_REALTIME), error));
  exit(126);
}

struct child_state {
  pid_t pid = -1;
  bool done = true;
  int status = 0;
  int64_t ended_ms = 0;
};

void reap(child_state &job, child_state &svc) {
  int st;
  pid_t p;
  while ((p = waitpid(-1, &st, WNOHANG)) > 0)
    for (child_state *c : {&job, &svc})
      if (p == c->pid)
        *c = {p, true, st, now_ms(CLOCK_REALTIME)};
}

// Undoes what the agent's process may have left us, and returns a signalfd
// for SIGCHLD and the forwarded signals. They are added to the blocked set,
// never removed: an agent that starts the shim with them blocked closes the
// window before this runs, and a signal pending from then is still forwarded.
int take_over_process(const options &o) {
  // Nothing the agent left open belongs to the job; and fds 0-2 must be taken
  // so the pipes below never land there and get clobbered by dup2.
  close_range(3, ~0U, 0);
  int fd;
  while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2) {
  }
  if (fd > 2)
    close(fd);
  signal(SIGPIPE, SIG_IGN);
  signal(SIGCHLD, SIG_DFL); // an inherited ignore would let the kernel reap main
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  for (int sig : forwarded)
    sigaddset(&mask, sig);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0)
    fail_to_start(o, std::string("signalfd: ") + strerror(errno));
  return sfd;
}

launch prepare_launch(const options &o, int out_w) {
  launch l;
  if ((l.null_fd = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
    fail_to_start(o, std::string("open /dev/null: ") + strerror(errno));
  l.out_fd = out_w;
  l.cwd = o.cwd.empty() ? nullptr : o.cwd.c_str();
  l.uid = o.uid;
  l.gid = o.gid;
  l.drop = o.has_uid && (o.uid != geteuid() || o.gid != getegid());
  if (l.drop) // what initgroups would do, but without NSS after fork
    if (passwd *pw = getpwuid(o.uid)) {
      int n = 32;
      for (l.groups.resize(n); getgrouplist(pw->pw_name, o.gid, l.groups.data(), &n) < 0;)
        l.groups.resize(n);
      l.groups.resize(n);
    }
  return l;
}

// Copies output to the log, forwards signals to main's group and reaps, until
// main has ended, the service has been stopped and the pipe is drained (or
// drain_ms has passed).
void supervise(const options &o, int sfd, int out_fd, log_sink &log, child_state &job,
               child_state &svc) {
  int64_t stop_at = -1, drain_until = -1;
  bool killed = false;
  static char buf[65536];
  for (;;) {
    int64_t now = now_ms(CLOCK_MONOTONIC), timeout = -1;
    if (job.done && !svc.done) {
      if (stop_at < 0) {
        kill(-svc.pid, SIGTERM);
        stop_at = now + o.service_grace_ms;
      }
      if (!killed && now >= stop_at) {
        kill(-svc.pid, SIGKILL);
        killed = true;
      }
      if (!killed)
        timeout = stop_at - now;
    } else if (job.done) {
      if (drain_until < 0)
        drain_until = now + drain_ms;
      if (out_fd < 0 || now >= drain_until)
        return;
      timeout = drain_until - now;
    }
    pollfd fds[2] = {{sfd, POLLIN, 0}, {out_fd, POLLIN, 0}}; // poll skips fd -1
    if (poll(fds, 2, int(std::min<int64_t>(timeout, INT_MAX))) < 0) {
      if (errno == EINTR)
        continue;
      perror("ballast-job-shim: poll");
      exit(1); // like being killed: no status, the agent handles it
    }
    if (fds[1].revents) {
      ssize_t n = read(out_fd, buf, sizeof buf);
      if (n > 0) {
        log.write(buf, size_t(n));
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        close(out_fd);
        out_fd = -1;
      }
    }
    signalfd_siginfo si;
    while (fds[0].revents && read(sfd, &si, sizeof si) == sizeof si) {
      if (si.ssi_signo == SIGCHLD)
        reap(job, svc);
      else if (!job.done) // once main is reaped its pid may be reused
        kill(-job.pid, int(si.ssi_signo));
    }
  }
}

} // namespace

int main(int argc, char **argv) {
  options o = parse(argc, argv);
  int sfd = take_over_process(o);
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0)
    fail_to_start(o, std::string("pipe: ") + strerror(errno));
  fcntl(out[0], F_SETFL, O_NONBLOCK);
  launch l = prepare_launch(o, out[1]);
  log_sink log{o.dir + "/log", o.dir + "/log.1", o.log_max};
  if (o.log_max > 0)
    log.open_new(0);

  child_state job, svc;
  int err_r = -1;
  std::string error;
  if (!o.service.empty()) {
    char *sh[] = {const_cast<char *>("/bin/sh"), const_cast<char *>("-c"), o.service.data(),
                  nullptr};
    svc.pid = spawn(l, sh, err_r, error);
    svc.done = svc.pid < 0;
    if (svc.pid > 0)
      error = child_failure(err_r, l, "/bin/sh");
    if (!error.empty()) { // the status is about main; the log is where users look
      std::string line = "ballast-job-shim: service: " + error + "\n";
      fputs(line.c_str(), stderr);
      log.write(line.data(), line.size());
    }
  }

  error.clear();
  job.pid = spawn(l, o.argv.data(), err_r, error);
  if (job.pid > 0) {
    job.done = false;
    if (!write_atomic(o.dir, "main.pid", std::to_string(job.pid) + "\n"))
      fprintf(stderr, "ballast-job-shim: writing main.pid: %s\n", strerror(errno));
    error = child_failure(err_r, l, o.argv[0]);
  } else { // fork failed: as if main could not start
    job.status = 126 << 8;
    job.ended_ms = now_ms(CLOCK_REALTIME);
  }
  close(l.out_fd); // EOF on the pipe comes when the last child's copy closes
  close(l.null_fd);

  supervise(o, sfd, out[0], log, job, svc);
  if (!write_atomic(o.dir, "status", status_line(job.status, job.ended_ms, error)))
    fprintf(stderr, "ballast-job-shim: writing status: %s\n", strerror(errno));
  return WIFSIGNALED(job.status) ? 128 + WTERMSIG(job.status) : WEXITSTATUS(job.status);
}
