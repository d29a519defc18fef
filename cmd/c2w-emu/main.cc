// c2w-emu: runs a riscv64 Linux machine natively, with the SBI console on stdin/stdout.
//
//   c2w-emu --kernel Image [--initrd rootfs.cpio] [--append "..."] [--memory 256M]
//           [--port NAME=PATH|-]... [--snapshot-at TEXT --snapshot FILE] [--restore FILE]
//           [--timeout SECONDS] [--no-rng] [--share TAG=DIR[,ro]]... [--disk FILE]
//
// Ports: virtio console port 0 is a console (hvc1 in the guest) whose output goes to stdout;
// each --port adds a named port (port 1, 2, ...). NAME=- connects it to stdin/stdout in place
// of the SBI console; NAME=PATH sends its output to PATH and, if PATH is a FIFO, socket or
// terminal, feeds what PATH yields to the guest.
// Shares: each --share serves host directory DIR (read-only with ,ro) to the guest as virtio-9p
// mount tag TAG (`mount -t 9p -o trans=virtio,version=9p2000.L TAG /mnt`). A --restore needs
// the same --share flags, in the same order, as the run that wrote the snapshot.
// Disk: --disk FILE attaches a read-only virtio-blk disk (/dev/vda): a chunked image
// (emulators/common/chunked_image.h, recognised by its magic) or raw bytes. A --restore needs
// the same disk (its size is checked). A corrupt chunk is an I/O error in the guest and one
// line on stderr.
// Exit status: the guest's (SBI system reset), 2 on a kernel panic, 3 on an emulator error,
// 124 when --timeout expires, 64 on bad usage.
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/fd.h"
#include "emulators/common/block_source.h"
#include "emulators/common/chunked_image.h"
#include "emulators/common/host.h"
#include "emulators/common/runner_args.h"
#include "emulators/p9/posix_fs.h"
#include "emulators/riscv64/machine.h"
#include "emulators/virtio/p9_device.h"

namespace {

using c2w::riscv64::Machine;
using c2w::riscv64::MachineConfig;
using c2w::riscv64::Stop;

constexpr uint64_t kSlice = 5'000'000;  // instructions between looks at host input (~60 ms)

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "c2w-emu: %s\nusage: c2w-emu --kernel Image [--initrd FILE] [--append ARGS] "
               "[--memory SIZE] [--port NAME=PATH|-]... [--snapshot-at TEXT --snapshot FILE] "
               "[--restore FILE] [--timeout SECONDS] [--no-rng] [--share TAG=DIR[,ro]]... "
               "[--disk FILE]\n",
               why);
  std::exit(64);
}

struct PortBinding {
  std::string name;
  std::string path;
  int out_fd = -1;
  int in_fd = -1;
  int index = -1;  // machine port index
};

struct Share {
  std::string tag, dir;
  bool read_only = false;
};

// --share TAG=DIR[,ro]; a tag given twice is refused.
Share parse_share(std::string v, const std::vector<Share>& earlier) {
  Share sh;
  if (v.size() > 3 && v.compare(v.size() - 3, 3, ",ro") == 0)
    sh.read_only = true, v.resize(v.size() - 3);
  const size_t eq = v.find('=');
  if (eq == std::string::npos || eq + 1 == v.size() ||
      !c2w::virtio::P9Device::valid_tag(v.substr(0, eq)))
    usage("--share wants TAG=DIR[,ro] with a TAG of 1 to 255 bytes");
  sh.tag = v.substr(0, eq);
  sh.dir = v.substr(eq + 1);
  for (const Share& o : earlier)
    if (o.tag == sh.tag) usage(("--share tag " + sh.tag + " given twice").c_str());
  return sh;
}

// Bound virtio-9p devices for the --share flags; false (after a message) if a DIR cannot be
// served.
bool make_shares(const std::vector<Share>& shares,
                 std::vector<std::unique_ptr<c2w::virtio::Device>>* out) {
  for (const Share& s : shares) {
    auto dev = c2w::virtio::P9Device::create(s.tag);
    std::unique_ptr<c2w::p9::PosixFs> fs;
    int err = c2w::p9::PosixFs::create_share(s.dir.c_str(), &fs);
    c2w::p9::ServerOptions opts;
    opts.read_only = s.read_only;
    if (err == 0) err = dev->bind(std::move(fs), opts);
    if (err != 0) {
      std::fprintf(stderr, "c2w-emu: cannot share %s as %s: %s\n", s.dir.c_str(), s.tag.c_str(),
                   std::strerror(err));  // Linux errno values, as on this host
      return false;
    }
    out->push_back(std::move(dev));
  }
  return true;
}

struct EmuArgs {
  c2w::emulators::MachineFlags machine;
  std::string marker, snapshot_path, restore_path;
  bool rng = true;
  std::vector<PortBinding> ports;
  std::vector<Share> shares;
};

EmuArgs parse_args(int argc, char** argv) {
  EmuArgs args;
  args.machine.memory = 256 << 20;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    std::string error;
    const auto taken = c2w::emulators::take_machine_flag(argc, argv, &i, &args.machine, &error);
    if (taken == c2w::emulators::FlagTaken::kBad) usage(error.c_str());
    if (taken == c2w::emulators::FlagTaken::kYes) continue;
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value for " + a).c_str());
      return argv[++i];
    };
    if (a == "--port") {
      const std::string v = value();
      const size_t eq = v.find('=');
      if (eq == std::string::npos || eq == 0) usage("--port wants NAME=PATH or NAME=-");
      args.ports.push_back({v.substr(0, eq), v.substr(eq + 1)});
    } else if (a == "--share") {
      args.shares.push_back(parse_share(value(), args.shares));
    } else if (a == "--snapshot-at") {
      args.marker = value();
    } else if (a == "--snapshot") {
      args.snapshot_path = value();
    } else if (a == "--restore") {
      args.restore_path = value();
    } else if (a == "--no-rng") {
      args.rng = false;
    } else {
      usage(("unknown argument " + a).c_str());
    }
  }
  if (args.marker.empty() != args.snapshot_path.empty())
    usage("--snapshot-at and --snapshot go together");
  if (args.restore_path.empty() && args.machine.kernel.empty())
    usage("--kernel or --restore is required");
  return args;
}

std::unique_ptr<c2w::emulators::BlockSource> open_disk(const std::string& path,
                                                       c2w::emulators::ChunkedImage** image) {
  std::string error;
  auto disk = c2w::emulators::open_disk(path, &error, image);
  if (!disk) std::fprintf(stderr, "c2w-emu: cannot use the disk %s\n", error.c_str());
  return disk;
}

// The machine booted from --kernel or restored from --restore, with the shares, ports and disk
// attached (the disk must outlive the machine); nullptr after a message.
std::unique_ptr<Machine> make_machine(const EmuArgs& args, c2w::emulators::Host& host,
                                      c2w::emulators::BlockSource* disk) {
  std::string error;
  std::unique_ptr<Machine> m;
  std::vector<std::unique_ptr<c2w::virtio::Device>> extra;
  if (!make_shares(args.shares, &extra)) return nullptr;
  if (!args.restore_path.empty()) {
    std::vector<uint8_t> snap;
    if (!c2w::emulators::read_whole_file(args.restore_path, &snap)) {
      std::fprintf(stderr, "c2w-emu: cannot read snapshot %s: %s\n", args.restore_path.c_str(),
                   std::strerror(errno));
      return nullptr;
    }
    m = Machine::restore(snap.data(), snap.size(), host, &error, std::move(extra), nullptr, disk);
  } else {
    MachineConfig config;
    config.ram_size = args.machine.memory;
    config.bootargs = args.machine.append;
    config.rng = args.rng;
    if (!c2w::emulators::read_boot_files(args.machine, &config.kernel, &config.initrd, &error)) {
      std::fprintf(stderr, "c2w-emu: %s\n", error.c_str());
      return nullptr;
    }
    config.ports.push_back({"", true});
    for (const PortBinding& p : args.ports) config.ports.push_back({p.name, false});
    config.extra_devices = std::move(extra);
    config.disk = disk;
    m = Machine::create(std::move(config), host, &error);
  }
  if (!m) std::fprintf(stderr, "c2w-emu: %s\n", error.c_str());
  if (m && !args.marker.empty()) m->set_snapshot_marker(args.marker);
  return m;
}

// Opens the host end of every --port; 0 when all are open, else the exit status.
int open_ports(const Machine& m, std::vector<PortBinding>* ports, int* stdin_port) {
  for (PortBinding& p : *ports) {
    p.index = m.find_port(p.name);
    if (p.index < 0) {
      std::fprintf(stderr, "c2w-emu: the machine has no port named %s\n", p.name.c_str());
      return 64;
    }
    if (p.path == "-") {
      p.out_fd = 1;
      p.in_fd = 0;
      *stdin_port = p.index;
      continue;
    }
    p.out_fd = open(p.path.c_str(), O_RDWR | O_CREAT | O_NONBLOCK | O_CLOEXEC, 0644);
    if (p.out_fd < 0) {
      std::fprintf(stderr, "c2w-emu: cannot open %s: %s\n", p.path.c_str(), std::strerror(errno));
      return 3;
    }
    struct stat st {};
    if (fstat(p.out_fd, &st) == 0 && S_ISREG(st.st_mode)) {
      if (ftruncate(p.out_fd, 0) != 0) {
        std::fprintf(stderr, "c2w-emu: cannot truncate %s\n", p.path.c_str());
        return 3;
      }
    } else {
      p.in_fd = p.out_fd;
    }
  }
  return 0;
}

// The run loop's state between slices.
class Runner {
 public:
  Runner(Machine& m, const EmuArgs& args, int stdin_port, c2w::emulators::ChunkedImage* image)
      : m_(m),
        args_(args),
        stdin_port_(stdin_port),
        image_(image),
        start_ns_(clock_.monotonic_ns()) {}

  int run() {
    for (;;) {
      const c2w::riscv64::RunResult r = m_.run(kSlice);
      pump_output();
      report_disk_errors();
      if (const std::optional<int> status = finished(r)) return *status;
      wait_for_input(r);
    }
  }

 private:
  void pump_output() {
    const std::string out = m_.take_console_output();
    if (!out.empty()) {
      c2w::write_all(1, out);
      console_tail_ += out;
      if (!panic_ns_ && console_tail_.find("Kernel panic - not syncing") != std::string::npos)
        panic_ns_ = clock_.monotonic_ns();
      if (console_tail_.size() > 4096) console_tail_.erase(0, console_tail_.size() - 64);
    }
    c2w::write_all(1, m_.take_port_output(0));
    for (const PortBinding& p : args_.ports) c2w::write_all(p.out_fd, m_.take_port_output(p.index));
  }

  // The first time the disk failed to produce bytes, one line saying why (the guest got EIO).
  void report_disk_errors() {
    if (disk_reported_ || m_.disk_errors() == 0) return;
    disk_reported_ = true;
    std::fprintf(stderr, "c2w-emu: disk read failed (the guest got an I/O error): %s\n",
                 image_ ? image_->error().c_str() : "the disk file could not be read");
  }

  // The exit status once the machine stopped, panicked, wrote its snapshot or timed out.
  std::optional<int> finished(const c2w::riscv64::RunResult& r) {
    const uint64_t now = clock_.monotonic_ns();
    if (r.stop == Stop::kHalted) {
      if (m_.rebooted()) std::fprintf(stderr, "c2w-emu: the guest asked for a reboot; exiting\n");
      return m_.exit_status();
    }
    if (r.stop == Stop::kError) {
      std::fprintf(stderr, "c2w-emu: emulator error: %s\n", m_.error().c_str());
      return 3;
    }
    if (r.stop == Stop::kMarker) return write_snapshot();
    // Let a panicking kernel print its last lines for a moment, then report it.
    if (panic_ns_ && now - panic_ns_ > 500'000'000) {
      std::fprintf(stderr, "c2w-emu: the guest kernel panicked\n");
      return 2;
    }
    const double timeout_s = args_.machine.timeout_s;
    if (timeout_s > 0 && now - start_ns_ > static_cast<uint64_t>(timeout_s * 1e9)) {
      std::fprintf(stderr, "c2w-emu: the guest did not finish within %.0f s\n", timeout_s);
      return 124;
    }
    return std::nullopt;
  }

  int write_snapshot() {
    const std::vector<uint8_t> snap = m_.save();
    std::ofstream f(args_.snapshot_path, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(snap.data()), static_cast<std::streamsize>(snap.size()));
    f.close();
    if (!f) {
      std::fprintf(stderr, "c2w-emu: cannot write snapshot %s\n", args_.snapshot_path.c_str());
      return 3;
    }
    std::fprintf(stderr, "c2w-emu: snapshot written to %s (%zu bytes)\n",
                 args_.snapshot_path.c_str(), snap.size());
    return 0;
  }

  // Waits for input or, when the guest is idle, for its next timer, and hands input over.
  void wait_for_input(const c2w::riscv64::RunResult& r) {
    const uint64_t now = clock_.monotonic_ns();
    int wait_ms = 0;
    if (r.stop == Stop::kIdle) {
      const uint64_t d = r.deadline_ns;
      wait_ms = d == UINT64_MAX ? 1000
                : d <= now      ? 0
                                : static_cast<int>((d - now + 999'999) / 1'000'000);
      if (wait_ms > 1000) wait_ms = 1000;  // also bounds how late the timeout is noticed
    }
    std::vector<pollfd> fds;
    std::vector<int> targets;  // -1: SBI console, else port index
    if (stdin_open_) {
      fds.push_back({0, POLLIN, 0});
      targets.push_back(stdin_port_);  // -1 unless a port took stdin
    }
    for (const PortBinding& p : args_.ports)
      if (p.in_fd > 0) fds.push_back({p.in_fd, POLLIN, 0}), targets.push_back(p.index);
    if (fds.empty()) {
      if (wait_ms) usleep(static_cast<useconds_t>(wait_ms) * 1000);
      return;
    }
    if (poll(fds.data(), fds.size(), wait_ms) <= 0) return;
    for (size_t i = 0; i < fds.size(); ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP))) continue;
      char buf[4096];
      const ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        if (fds[i].fd == 0 && (n == 0 || errno != EAGAIN)) stdin_open_ = false;
        continue;
      }
      const auto* data = reinterpret_cast<const uint8_t*>(buf);
      if (targets[i] < 0)
        m_.console_input(data, static_cast<uint64_t>(n));
      else
        m_.port_input(static_cast<unsigned>(targets[i]), data, static_cast<uint32_t>(n));
    }
  }

  Machine& m_;
  const EmuArgs& args_;
  const int stdin_port_;
  c2w::emulators::ChunkedImage* const image_;  // the disk, when it is a chunked image
  bool disk_reported_ = false;
  c2w::emulators::PosixHost clock_;
  const uint64_t start_ns_;
  std::string console_tail_;
  uint64_t panic_ns_ = 0;
  bool stdin_open_ = true;
};

}  // namespace

int main(int argc, char** argv) {
  EmuArgs args = parse_args(argc, argv);
  c2w::emulators::PosixHost host;
  std::unique_ptr<c2w::emulators::BlockSource> disk;  // outlives the machine
  c2w::emulators::ChunkedImage* image = nullptr;      // the disk, if it is a chunked image
  if (!args.machine.disk.empty() && !(disk = open_disk(args.machine.disk, &image))) return 3;
  std::unique_ptr<Machine> m = make_machine(args, host, disk.get());
  if (!m) return 3;
  int stdin_port = -1;  // stdin feeds the SBI console unless a port takes it
  if (const int status = open_ports(*m, &args.ports, &stdin_port)) return status;
  return Runner(*m, args, stdin_port, image).run();
}
