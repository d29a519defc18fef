#include "tests/support/guest_vm.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "tests/support/process.h"

namespace c2w::testing {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// qemu creates its listening sockets a moment after it starts.
int connect_unix(const fs::path& path, Clock::time_point deadline) {
  while (true) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr = {};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) return fd;
    ::close(fd);
    if (Clock::now() > deadline) throw std::runtime_error("cannot connect to " + path.string());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void write_all(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n <= 0) throw std::runtime_error("write to the guest failed");
    done += static_cast<size_t>(n);
  }
}

class QemuVm : public GuestVm {
 public:
  QemuVm(const VmConfig& config, const fs::path& dir) : dir_(dir) {
    std::vector<std::string> argv = {"qemu-system-riscv64",
                                     "-M",
                                     "virt",
                                     "-bios",
                                     "default",
                                     "-m",
                                     config.memory,
                                     "-smp",
                                     "1",
                                     "-nographic",
                                     "-no-reboot",
                                     "-kernel",
                                     config.kernel.string(),
                                     "-initrd",
                                     config.initrd.string(),
                                     "-append",
                                     "console=hvc0 earlycon=sbi panic=-1 quiet " +
                                         std::string(config.disk.empty() ? "" : "c2w.disk=vda ") +
                                         config.append,
                                     "-device",
                                     "virtio-serial-device"};
    const char* names[] = {"c2w.control", "c2w.stdin", "c2w.stdout", "c2w.stderr"};
    for (int i = 0; i < 4; ++i) {
      std::string id = "port" + std::to_string(i);
      argv.insert(argv.end(),
                  {"-chardev", "socket,path=" + socket(i).string() + ",server=on,wait=off,id=" + id,
                   "-device", std::string("virtserialport,chardev=") + id + ",name=" + names[i]});
    }
    for (size_t i = 0; i < config.shares.size(); ++i) {
      std::string id = "fs" + std::to_string(i);
      argv.insert(
          argv.end(),
          {"-fsdev",
           "local,id=" + id + ",path=" + config.shares[i].second.string() + ",security_model=none",
           "-device", "virtio-9p-device,fsdev=" + id + ",mount_tag=" + config.shares[i].first});
    }
    if (!config.disk.empty())
      argv.insert(
          argv.end(),
          {"-drive", "file=" + config.disk.string() + ",if=none,format=raw,readonly=on,id=disk0",
           "-device", "virtio-blk-device,drive=disk0"});
    qemu_ = BackgroundProcess(argv, dir_ / "console.log");
    auto deadline = Clock::now() + std::chrono::seconds(20);
    for (int i = 0; i < 4; ++i) fds_[i] = connect_unix(socket(i), deadline);
  }
  ~QemuVm() override {
    for (int fd : fds_)
      if (fd >= 0) ::close(fd);
  }
  int control() override { return fds_[0]; }
  int stdin_fd() override { return fds_[1]; }
  int stdout_fd() override { return fds_[2]; }
  int stderr_fd() override { return fds_[3]; }
  void close_stdin() override {
    if (fds_[1] >= 0) ::close(fds_[1]);  // qemu then closes the port for the guest
    fds_[1] = -1;
  }
  bool wait_stopped(std::chrono::milliseconds timeout) override {
    auto deadline = Clock::now() + timeout;
    while (qemu_.running()) {
      if (Clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
  }
  std::string console() override {
    std::ifstream in(dir_ / "console.log", std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  fs::path socket(int i) const { return dir_ / ("port" + std::to_string(i) + ".sock"); }
  fs::path dir_;
  BackgroundProcess qemu_;
  int fds_[4] = {-1, -1, -1, -1};
};

}  // namespace

std::optional<fs::path> guest_kernel() {
  const char* env = std::getenv("C2W_KERNEL");
  // Default: the kernel the `kernel.build` test fixture made with c2w's kernel op.
  fs::path p = env && *env ? fs::path(env) : fs::path(C2W_KERNEL_IMAGE);
  if (fs::exists(p)) return p;
  return std::nullopt;
}

std::unique_ptr<GuestVm> start_qemu(const VmConfig& config, const fs::path& workdir) {
  return std::make_unique<QemuVm>(config, workdir);
}

bool Driver::wait_ready(std::chrono::milliseconds timeout) {
  return pump_until([&] { return ready; }, timeout);
}

void Driver::send(const guest_protocol::Message& message) {
  write_all(vm_.control(), guest_protocol::encode(message));
}

void Driver::write_stdin(const std::string& data) {
  write_all(vm_.stdin_fd(), data);
}

bool Driver::pump_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  int fds[3] = {vm_.control(), vm_.stdout_fd(), vm_.stderr_fd()};
  std::string* sinks[3] = {nullptr, &out, &err};
  while (!done()) {
    if (ended_[0] && ended_[1] && ended_[2]) return done();
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return done();
    pollfd p[3];
    for (int i = 0; i < 3; ++i) p[i] = {ended_[i] ? -1 : fds[i], POLLIN, 0};
    if (::poll(p, 3, static_cast<int>(std::min<int64_t>(left.count(), 100))) < 0) continue;
    for (int i = 0; i < 3; ++i) {
      if (p[i].fd < 0 || !p[i].revents) continue;
      char buf[8192];
      ssize_t n = ::read(fds[i], buf, sizeof buf);
      if (n <= 0) {
        ended_[i] = true;
        continue;
      }
      if (sinks[i]) {
        sinks[i]->append(buf, static_cast<size_t>(n));
        continue;
      }
      control_.feed(std::string_view(buf, static_cast<size_t>(n)));
      for (guest_protocol::Decoded d = control_.next();
           d.status != guest_protocol::DecodeStatus::kNeedMore; d = control_.next()) {
        if (d.status == guest_protocol::DecodeStatus::kError) {
          protocol_error = d.error;
          ended_[0] = true;
          break;
        }
        if (std::holds_alternative<guest_protocol::Ready>(d.message)) ready = true;
        if (auto* e = std::get_if<guest_protocol::Exit>(&d.message)) exit = *e;
        if (auto* l = std::get_if<guest_protocol::Log>(&d.message)) logs.push_back(l->text);
      }
    }
  }
  return true;
}

bool Driver::finish(std::chrono::milliseconds timeout) {
  auto start = Clock::now();
  pump_until([] { return false; }, timeout);
  auto left = timeout - std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  return vm_.wait_stopped(std::max(left, std::chrono::milliseconds(1000)));
}

}  // namespace c2w::testing
