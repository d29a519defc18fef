// The container side of guest init: runs in the child that init forked after
// unshare(CLONE_NEWPID), so this process is PID 1 of the container's pid namespace and becomes
// the container process by execve (Docker's model: no extra process in the container).
//
// Steps, in order: own mount and uts namespaces; when the container's files are on a disk
// (mount_disk_image at boot), an overlay over kRootfsDir with the read-only image as its lower
// layer and a fresh tmpfs as the upper one, so writes land in guest RAM and are gone on the
// next start; the container tree (kRootfsDir) bind-mounted and moved over "/" then chroot'ed
// into (the initramfs root is not a mount pivot_root can
// leave, so this is switch_root's way; it hides init and its files from the container's view
// of the filesystem); proc, sysfs (read-only), a Docker-like /dev (tmpfs with null, zero,
// full, random, urandom, tty, a private devpts, shm, fd links), tmpfs on /tmp and /run when
// the image has them empty; the 9p shares; hostname; stdio (pipes, or a pty from the
// container's devpts whose master goes to init over `pty_socket`); user, groups and working
// directory; PATH lookup; execve.
//
// Failures print one line on stderr and exit with Docker's statuses: 127 command not found,
// 126 found but not executable, 125 anything else (bad user, mount failure, ...).
#pragma once

#include "guest_protocol/protocol.h"
#include "init/launch.h"

namespace c2w::init {

inline constexpr const char* kRootfsDir = "/c2w/rootfs";
inline constexpr const char* kConfigFile = "/c2w/config";
inline constexpr const char* kHostname = "c2w";
// The read-only image of the container's files, mounted at boot (before ready, so what the
// boot read of it is in the snapshot's page cache); the writable layer of each run.
inline constexpr const char* kImageDir = "/c2w/image";
inline constexpr const char* kWritableDir = "/c2w/rw";

// The kernel command line's c2w.disk=NAME (e.g. vda): the container's files are the EROFS
// image on /dev/NAME. Mounts it read-only at kImageDir, waiting a while for the device to
// appear; "" on success, else what went wrong. Without c2w.disk nothing happens (the files
// are in the initramfs under kRootfsDir).
std::string mount_disk_image(const std::string& cmdline);

struct ContainerSpec {
  const guest_protocol::RunRequest* request = nullptr;
  Launch launch;
  int stdin_fd = -1;   // read end for the container's stdin; -1: /dev/null
  int stdout_fd = -1;  // write ends of the output pipes
  int stderr_fd = -1;
  int pty_socket = -1;  // terminal mode: unix socket to pass the pty master to init
};

[[noreturn]] void run_container(const ContainerSpec& spec);

}  // namespace c2w::init
