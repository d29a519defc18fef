// c2w guest init: PID 1 of the VM (init/README.md).
//
// Boot: mounts /proc, /sys and devtmpfs on /dev for itself, reads /c2w/config, applies the
// manifest's xattrs to the container tree, finds the c2w.* virtio console ports, says `ready`
// on c2w.control and blocks reading the run request: the boot snapshot is taken there, so
// everything after it (clock, mounts, the container) follows the request, not boot time.
// Run: sets the clock from the request, forks the container process into new pid, mount and
// uts namespaces (container.h), relays stdin/stdout/stderr (pipes, or one pty in terminal
// mode), forwards SIGTERM/SIGINT/SIGHUP and the host's `signal` messages to it, applies
// `resize`, reaps every child; when it has exited and its output is drained, reports `exit`
// and powers the machine off.
#include <dirent.h>
#include <fcntl.h>
#include <linux/random.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <ctime>

#include "guest_protocol/protocol.h"
#include "init/container.h"
#include "init/launch.h"
#include "init/sys.h"

namespace c2w::init {

using namespace guest_protocol;  // init is the protocol's other end
namespace {

int g_control = -1;
bool g_control_open = true;     // false once the host hung up or sent garbage
bool g_host_listening = false;  // the host logs our messages once it has sent its request

void log_step(const std::string& text) {
  debug_log(text);
  if (g_debug && g_host_listening) write_all(g_control, encode(Log{text}));
}

[[noreturn]] void power_off() {
  ::sync();
  ::reboot(RB_POWER_OFF);
  _exit(1);  // only reached when not PID 1 (then there is no machine to stop)
}

// Before the host listens there is nobody to tell but the console.
[[noreturn]] void boot_failure(const std::string& message) {
  write_all(g_console_fd >= 0 ? g_console_fd : 2, "c2w-init: boot failed: " + message + "\n");
  power_off();
}

void boot_mounts() {
  struct Fs {
    const char *source, *target, *type;
    unsigned long flags;
  };
  for (Fs f : {Fs{"proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC},
               Fs{"sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC},
               Fs{"devtmpfs", "/dev", "devtmpfs", MS_NOSUID}}) {
    ::mkdir(f.target, 0755);
    if (::mount(f.source, f.target, f.type, f.flags, nullptr) != 0 && errno != EBUSY)
      boot_failure(sys_error(std::string("mount ") + f.target));
  }
}

struct Ports {
  std::string control, in, out, err;  // device paths, "" when the host offers no such port
};

// Port names arrive from the host after the device probed, so they may take a moment.
Ports find_ports() {
  Ports p;
  for (int attempt = 0; attempt < 3000 && (p.control.empty() || p.out.empty() || p.err.empty());
       ++attempt) {
    if (attempt) ::usleep(10000);
    DIR* dir = ::opendir("/sys/class/virtio-ports");
    if (!dir) continue;
    while (struct dirent* e = ::readdir(dir)) {
      if (e->d_name[0] == '.') continue;
      std::string name;
      if (!read_file(std::string("/sys/class/virtio-ports/") + e->d_name + "/name", &name))
        continue;
      while (!name.empty() && name.back() == '\n') name.pop_back();
      std::string dev = std::string("/dev/") + e->d_name;
      if (name == kControlPort) p.control = dev;
      if (name == kStdinPort) p.in = dev;
      if (name == kStdoutPort) p.out = dev;
      if (name == kStderrPort) p.err = dev;
    }
    ::closedir(dir);
  }
  return p;
}

RunRequest wait_for_request(FrameReader& reader) {
  char buf[4096];
  while (true) {
    Decoded d = reader.next();
    if (d.status == DecodeStatus::kError) boot_failure("bad run request: " + d.error);
    if (d.status == DecodeStatus::kOk) {
      if (auto* r = std::get_if<RunRequest>(&d.message)) return std::move(*r);
      debug_log("ignoring a message that is not a run request");
      continue;
    }
    ssize_t n = ::read(g_control, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) boot_failure(sys_error("read the control port"));
    if (n == 0) {
      ::usleep(50000);  // the host is not connected (yet or any more): reads return 0 at once
      continue;
    }
    reader.feed(std::string_view(buf, static_cast<size_t>(n)));
  }
}

ImageConfig read_config() {
  std::string bytes;
  if (!read_file(kConfigFile, &bytes)) boot_failure(sys_error(std::string("read ") + kConfigFile));
  Decoded d = decode_frame(bytes);
  auto* config = std::get_if<ImageConfig>(&d.message);
  if (d.status != DecodeStatus::kOk || d.consumed != bytes.size() || !config)
    boot_failure(std::string(kConfigFile) + " is not an image config: " + d.error);
  return std::move(*config);
}

void apply_xattrs(const ImageConfig& config) {
  for (const Xattr& x : config.xattrs) {
    std::string path = std::string(kRootfsDir) + x.path;
    if (::lsetxattr(path.c_str(), x.name.c_str(), x.value.data(), x.value.size(), 0) != 0)
      debug_log(sys_error("xattr " + x.name + " on " + x.path));
  }
}

int open_port(const std::string& path, int flags) {
  if (path.empty()) return -1;
  int fd = ::open(path.c_str(), flags | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) debug_log(sys_error("open " + path));
  return fd;
}

// Bytes on their way from a source fd to a sink fd that must never block init (a container
// that does not read its stdin must not stop its stdout from flowing).
struct Pump {
  int from = -1, to = -1;
  std::string pending;
  bool eof = false;
};

struct Session {
  pid_t child = -1;
  bool reaped = false;
  int wait_status = 0;
  int out_fd = -1, err_fd = -1;  // pipes from the container (err: early errors in terminal mode)
  int master = -1;               // terminal
  int pty_socket = -1;
  int out_port = -1, err_port = -1;
  Pump input;                   // stdin port -> pipe or master
  uint16_t rows = 0, cols = 0;  // the latest size the host asked for
};

void drain_output(int& fd, int port) {
  char buf[16384];
  ssize_t n = ::read(fd, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) {  // EOF, or EIO from a master whose terminal has no users left
    ::close(fd);
    fd = -1;
    return;
  }
  write_all(port, std::string_view(buf, static_cast<size_t>(n)));
}

void apply_size(const Session& s) {
  struct winsize ws = {};
  ws.ws_row = s.rows;
  ws.ws_col = s.cols;
  if (s.master >= 0 && s.rows && s.cols) ::ioctl(s.master, TIOCSWINSZ, &ws);
}

// Acts on every whole message buffered, including any that came with the run request.
void dispatch_control(Session& s, FrameReader& reader) {
  while (true) {
    Decoded d = reader.next();
    if (d.status == DecodeStatus::kNeedMore) return;
    if (d.status == DecodeStatus::kError) {
      debug_log("control stream unusable: " + d.error);
      g_control_open = false;
      return;
    }
    if (auto* sig = std::get_if<Signal>(&d.message)) {
      log_step("signal " + std::to_string(sig->number) + " from the host");
      if (!s.reaped && sig->number < 65) ::kill(s.child, static_cast<int>(sig->number));
    } else if (auto* z = std::get_if<Resize>(&d.message)) {
      s.rows = z->rows;  // kept for a terminal that is not there yet
      s.cols = z->cols;
      apply_size(s);
    }
  }
}

void on_control(Session& s, FrameReader& reader) {
  char buf[4096];
  ssize_t n = ::read(g_control, buf, sizeof buf);
  if (n <= 0) {
    if (n == 0 || errno != EINTR) g_control_open = false;
    return;
  }
  reader.feed(std::string_view(buf, static_cast<size_t>(n)));
  dispatch_control(s, reader);
}

void on_signal(Session& s, int sigfd) {
  struct signalfd_siginfo info;
  if (::read(sigfd, &info, sizeof info) != sizeof info) return;
  int sig = static_cast<int>(info.ssi_signo);
  if (sig != SIGCHLD) {
    log_step("forwarding signal " + std::to_string(sig));
    if (!s.reaped) ::kill(s.child, sig);
    return;
  }
  // Orphans of init's own namespace land here too; the container's land on its PID 1.
  int status;
  pid_t pid;
  while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
    if (pid == s.child) {
      s.reaped = true;
      s.wait_status = status;
    }
  }
}

void close_input_pipe(Pump& p, bool terminal) {
  if (terminal || !p.eof || !p.pending.empty() || p.to < 0) return;
  ::close(p.to);  // the container sees end of input
  p.to = -1;
}

void pump_in(Session& s, bool terminal) {
  Pump& p = s.input;
  char buf[16384];
  ssize_t n = ::read(p.from, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n > 0) {
    p.pending.append(buf, static_cast<size_t>(n));
    return;
  }
  ::close(p.from);  // the host closed c2w.stdin: end of input
  p.from = -1;
  p.eof = true;
  close_input_pipe(p, terminal);
}

void pump_out(Session& s, bool terminal) {
  Pump& p = s.input;
  ssize_t n = ::write(p.to, p.pending.data(), p.pending.size());
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n < 0) {  // the container closed its stdin: nothing more can be delivered
    p.pending.clear();
    if (p.from >= 0) ::close(p.from);
    p.from = -1;
    p.eof = true;
  } else {
    p.pending.erase(0, static_cast<size_t>(n));
  }
  close_input_pipe(p, terminal);
}

Exit exit_of(int status) {
  Exit e;
  if (WIFSIGNALED(status)) {
    e.kind = Exit::Kind::kSignaled;
    e.value = static_cast<uint32_t>(WTERMSIG(status));
  } else {
    e.value = static_cast<uint32_t>(WEXITSTATUS(status));
  }
  return e;
}

Exit setup_failure(int port, const std::string& message) {
  log_step("failed: " + message);
  write_all(port, "c2w: " + message + "\n");
  return Exit{Exit::Kind::kExited, 125};
}

Exit run(const ImageConfig& config, const RunRequest& request, const Ports& ports, int sigfd,
         FrameReader& control) {
  Session s;
  s.out_port = open_port(ports.out, O_WRONLY);
  if (s.out_port < 0) s.out_port = g_console_fd;
  s.err_port = request.terminal ? s.out_port : open_port(ports.err, O_WRONLY);
  if (s.err_port < 0) s.err_port = g_console_fd;

  ContainerSpec spec;
  spec.request = &request;
  std::string error;
  if (!plan_launch(config, request, &spec.launch, &error)) return setup_failure(s.err_port, error);
  log_step("command: " + spec.launch.argv[0] + " (" + std::to_string(spec.launch.argv.size()) +
           " args), user \"" + spec.launch.user + "\", dir " + spec.launch.working_dir);

  int out[2] = {-1, -1}, err[2], in[2] = {-1, -1}, sock[2] = {-1, -1};
  if (::pipe2(err, O_CLOEXEC) != 0) return setup_failure(s.err_port, sys_error("pipe"));
  if (request.terminal) {
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sock) != 0)
      return setup_failure(s.err_port, sys_error("socketpair"));
  } else if (::pipe2(out, O_CLOEXEC) != 0 || (request.stdin_open && ::pipe2(in, O_CLOEXEC) != 0)) {
    return setup_failure(s.err_port, sys_error("pipe"));
  }
  spec.stdin_fd = in[0];
  spec.stdout_fd = out[1];
  spec.stderr_fd = err[1];
  spec.pty_socket = sock[1];

  // The next child is PID 1 of a new pid namespace: the container process itself.
  if (::unshare(CLONE_NEWPID) != 0) return setup_failure(s.err_port, sys_error("unshare pid"));
  s.child = ::fork();
  if (s.child < 0) return setup_failure(s.err_port, sys_error("fork"));
  if (s.child == 0) run_container(spec);

  for (int fd : {in[0], out[1], err[1], sock[1]})
    if (fd >= 0) ::close(fd);
  s.out_fd = out[0];
  s.err_fd = err[0];
  s.pty_socket = sock[0];
  if (request.stdin_open) {
    s.input.from = open_port(ports.in, O_RDONLY | O_NONBLOCK);
    s.input.to = in[1];
    if (s.input.to >= 0) ::fcntl(s.input.to, F_SETFL, O_NONBLOCK);
  }
  log_step("container process " + std::to_string(s.child) + " started");
  dispatch_control(s, control);

  while (!s.reaped || s.out_fd >= 0 || s.err_fd >= 0 || s.master >= 0 || s.pty_socket >= 0) {
    if (s.reaped && s.input.from >= 0) {  // input for a process that is gone goes nowhere
      ::close(s.input.from);
      s.input.from = -1;
    }
    if (request.terminal) s.input.to = s.master;  // input goes to the terminal while it lives
    enum Slot { kSig, kCtl, kOut, kErr, kMaster, kSock, kInFrom, kInTo, kSlots };
    struct pollfd fds[kSlots];
    int slot_fd[kSlots] = {sigfd,
                           g_control_open ? g_control : -1,
                           s.out_fd,
                           s.err_fd,
                           s.master,
                           s.pty_socket,
                           s.input.pending.empty() ? s.input.from : -1,
                           s.input.pending.empty() ? -1 : s.input.to};
    for (int i = 0; i < kSlots; ++i) {
      fds[i].fd = slot_fd[i];  // poll skips negative fds
      fds[i].events = i == kInTo ? POLLOUT : POLLIN;
      fds[i].revents = 0;
    }
    if (::poll(fds, kSlots, -1) < 0) {
      if (errno == EINTR) continue;
      return setup_failure(s.err_port, sys_error("poll"));
    }
    auto ready = [&](int i) { return fds[i].fd >= 0 && fds[i].revents != 0; };
    if (ready(kSig)) on_signal(s, sigfd);
    if (ready(kCtl)) on_control(s, control);
    if (ready(kOut)) drain_output(s.out_fd, s.out_port);
    if (ready(kErr)) drain_output(s.err_fd, s.err_port);
    if (ready(kMaster)) drain_output(s.master, s.out_port);
    if (ready(kSock)) {
      int master = recv_fd(s.pty_socket);
      ::close(s.pty_socket);
      s.pty_socket = -1;
      if (master >= 0) {
        s.master = master;
        ::fcntl(master, F_SETFL, O_NONBLOCK);
        apply_size(s);  // a resize may have come before the terminal
      }
    }
    if (ready(kInFrom)) pump_in(s, request.terminal);
    if (ready(kInTo)) pump_out(s, request.terminal);
  }
  if (!request.terminal && s.input.to >= 0) ::close(s.input.to);
  return exit_of(s.wait_status);
}

// Every module starts from the same boot snapshot, which was booted with reproducible entropy,
// so the kernel's random state would be the same in every run: mix bytes from virtio-rng (the
// real host's entropy, read after the restore) into the pool and reseed the CRNG at once.
void reseed_random() {
  const int rng = ::open("/dev/hwrng", O_RDONLY | O_CLOEXEC);
  if (rng < 0) return log_step(sys_error("open /dev/hwrng (random state not reseeded)"));
  constexpr size_t kSeed = 64;
  alignas(rand_pool_info) uint8_t raw[sizeof(rand_pool_info) + kSeed] = {};
  auto* info = reinterpret_cast<rand_pool_info*>(raw);
  auto* bytes = raw + sizeof(rand_pool_info);
  size_t got = 0;
  while (got < kSeed) {
    const ssize_t n = ::read(rng, bytes + got, kSeed - got);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(rng);
  const int urandom = ::open("/dev/urandom", O_WRONLY | O_CLOEXEC);
  if (urandom < 0 || got == 0) return log_step("no host entropy for the random pool");
  info->entropy_count = static_cast<int>(got * 8);
  info->buf_size = static_cast<int>(got);
  if (::ioctl(urandom, RNDADDENTROPY, info) != 0 || ::ioctl(urandom, RNDRESEEDCRNG) != 0)
    log_step(sys_error("reseed the random pool"));
  ::close(urandom);
}

}  // namespace
}  // namespace c2w::init

int main() {
  using namespace c2w::init;
  using c2w::write_all;
  sigset_t mask;
  sigemptyset(&mask);
  for (int sig : {SIGCHLD, SIGTERM, SIGINT, SIGHUP}) sigaddset(&mask, sig);
  ::sigprocmask(SIG_BLOCK, &mask, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a closed pipe is an error return, never a death of init

  boot_mounts();
  g_console_fd = ::open("/dev/console", O_WRONLY | O_CLOEXEC | O_NOCTTY);
  std::string cmdline;
  if (read_file("/proc/cmdline", &cmdline))
    g_debug = cmdline.find("c2w.debug") != std::string::npos;
  if (const std::string failed = mount_disk_image(cmdline); !failed.empty()) boot_failure(failed);
  debug_log("booted; reading " + std::string(kConfigFile));
  ImageConfig config = read_config();
  apply_xattrs(config);
  Ports ports = find_ports();
  if (ports.control.empty())
    boot_failure("the host offers no virtio console port named c2w.control");
  g_control = open_port(ports.control, O_RDWR);
  if (g_control < 0) boot_failure(sys_error("open " + ports.control));
  // Writing blocks until the host is connected to the port, so ready is never lost.
  if (!write_all(g_control, encode(Ready{}))) boot_failure(sys_error("send ready"));
  debug_log("ready; waiting for the run request");
  FrameReader control;
  RunRequest request = wait_for_request(control);
  g_debug = g_debug || request.debug;
  g_host_listening = true;
  if (request.time_sec != 0) {
    struct timespec now = {static_cast<time_t>(request.time_sec),
                           static_cast<long>(request.time_nsec)};
    if (::clock_settime(CLOCK_REALTIME, &now) != 0) log_step(sys_error("set the clock"));
  }
  reseed_random();
  log_step("run request: " + std::to_string(request.mounts.size()) + " mounts, stdin " +
           (request.stdin_open ? "on" : "off") + ", terminal " + (request.terminal ? "on" : "off"));
  int sigfd = ::signalfd(-1, &mask, SFD_CLOEXEC);
  if (sigfd < 0) boot_failure(sys_error("signalfd"));
  Exit exit = run(config, request, ports, sigfd, control);
  log_step(exit.kind == Exit::Kind::kExited ? "exited with " + std::to_string(exit.value)
                                            : "killed by signal " + std::to_string(exit.value));
  write_all(g_control, encode(exit));
  power_off();
}
