#include "init/container.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "init/sys.h"

namespace c2w::init {

using guest_protocol::Mount;
using guest_protocol::RunRequest;

namespace {

[[noreturn]] void fail(int status, const std::string& message) {
  debug_log("container setup failed: " + message);
  write_all(2, "c2w: " + message + "\n");
  _exit(status);
}

void must(bool ok, const std::string& what) {
  if (!ok) fail(125, sys_error(what));
}

void ensure_dir(const std::string& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST)
    fail(125, sys_error("cannot create " + path));
}

// mkdir -p inside the container root: components resolve after chroot, so symlinks in the
// image are followed as the container would see them.
void ensure_dirs(const std::string& path) {
  for (size_t i = 1; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') ensure_dir(path.substr(0, i), 0755);
  }
}

void mount_or_fail(const char* source, const std::string& target, const char* type,
                   unsigned long flags, const char* data) {
  debug_log(std::string("mount ") + (type ? type : "bind") + " " + source + " on " + target);
  if (::mount(source, target.c_str(), type, flags, data) != 0)
    fail(125, sys_error(std::string("cannot mount ") + source + " on " + target));
}

bool g_root_on_disk = false;

// The container's root when its files are on the disk: overlay(image, fresh tmpfs).
void mount_overlay_root() {
  mount_or_fail("tmpfs", kWritableDir, "tmpfs", MS_NOSUID, "mode=755");
  const std::string upper = std::string(kWritableDir) + "/upper";
  const std::string work = std::string(kWritableDir) + "/work";
  ensure_dir(upper, 0755);
  ensure_dir(work, 0755);
  const std::string options =
      std::string("lowerdir=") + kImageDir + ",upperdir=" + upper + ",workdir=" + work;
  mount_or_fail("overlay", kRootfsDir, "overlay", 0, options.c_str());
}

void enter_root() {
  must(::unshare(CLONE_NEWNS | CLONE_NEWUTS) == 0, "unshare mount and uts namespaces");
  // Nothing mounted from here on may leak back to init's namespace.
  must(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0, "make / private");
  if (g_root_on_disk) mount_overlay_root();
  mount_or_fail(kRootfsDir, kRootfsDir, nullptr, MS_BIND | MS_REC, nullptr);
  must(::chdir(kRootfsDir) == 0, std::string("chdir ") + kRootfsDir);
  must(::mount(".", "/", nullptr, MS_MOVE, nullptr) == 0, "move the container root over /");
  must(::chroot(".") == 0, "chroot into the container root");
  must(::chdir("/") == 0, "chdir /");
}

bool empty_dir(const char* path) {
  DIR* dir = ::opendir(path);
  if (!dir) return false;
  bool empty = true;
  while (struct dirent* e = ::readdir(dir)) {
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) {
      empty = false;
      break;
    }
  }
  ::closedir(dir);
  return empty;
}

void mount_dev() {
  ensure_dir("/dev", 0755);
  mount_or_fail("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k");
  struct Node {
    const char* name;
    unsigned major, minor;
  };
  for (Node n : {Node{"null", 1, 3}, Node{"zero", 1, 5}, Node{"full", 1, 7}, Node{"random", 1, 8},
                 Node{"urandom", 1, 9}, Node{"tty", 5, 0}}) {
    std::string path = std::string("/dev/") + n.name;
    must(::mknod(path.c_str(), S_IFCHR | 0666, makedev(n.major, n.minor)) == 0, "mknod " + path);
  }
  ensure_dir("/dev/pts", 0755);
  mount_or_fail("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                "newinstance,ptmxmode=0666,mode=0620,gid=5");
  ensure_dir("/dev/shm", 01777);
  mount_or_fail("shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                "mode=1777,size=65536k");
  for (auto [link, target] : {std::pair{"/dev/ptmx", "pts/ptmx"},
                              {"/dev/fd", "/proc/self/fd"},
                              {"/dev/stdin", "/proc/self/fd/0"},
                              {"/dev/stdout", "/proc/self/fd/1"},
                              {"/dev/stderr", "/proc/self/fd/2"}})
    must(::symlink(target, link) == 0, std::string("symlink ") + link);
}

void mount_filesystems(const RunRequest& request) {
  ensure_dir("/proc", 0555);
  mount_or_fail("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
  ensure_dir("/sys", 0555);
  mount_or_fail("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, nullptr);
  mount_dev();
  // A tmpfs over an image directory that has content would hide it, so only empty ones.
  for (const char* dir : {"/tmp", "/run"}) {
    struct stat st;
    if (::lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || !empty_dir(dir)) continue;
    char options[64];
    std::snprintf(options, sizeof options, "mode=%o", st.st_mode & 07777);
    mount_or_fail("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, options);
    must(::chown(dir, st.st_uid, st.st_gid) == 0, std::string("chown ") + dir);
  }
  for (const Mount& m : request.mounts) {
    if (m.path.empty() || m.path[0] != '/')
      fail(125, "mount path \"" + m.path + "\" is not absolute");
    ensure_dirs(m.path);
    mount_or_fail(m.tag.c_str(), m.path, "9p", m.read_only ? MS_RDONLY : 0,
                  "trans=virtio,version=9p2000.L,msize=262144");
  }
}

// The pty comes from the container's own devpts so that ttyname() and /dev/console work in it.
void attach_terminal(const ContainerSpec& spec) {
  int master = ::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  must(master >= 0, "open /dev/ptmx");
  must(::unlockpt(master) == 0, "unlockpt");
  char name[64];
  must(::ptsname_r(master, name, sizeof name) == 0, "ptsname");
  struct winsize ws = {};
  ws.ws_row = spec.request->rows;
  ws.ws_col = spec.request->cols;
  if (ws.ws_row && ws.ws_col) ::ioctl(master, TIOCSWINSZ, &ws);
  int slave = ::open(name, O_RDWR | O_NOCTTY);
  must(slave >= 0, std::string("open ") + name);
  must(send_fd(spec.pty_socket, master), "pass the terminal to init");
  ::close(master);
  int console = ::open("/dev/console", O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
  must(console >= 0, "create /dev/console");
  ::close(console);
  mount_or_fail(name, "/dev/console", nullptr, MS_BIND, nullptr);
  must(::ioctl(slave, TIOCSCTTY, 0) == 0, "make the terminal the controlling tty");
  for (int fd = 0; fd < 3; ++fd) must(::dup2(slave, fd) == fd, "dup2 terminal");
  if (slave > 2) ::close(slave);
}

void attach_stdio(const ContainerSpec& spec) {
  int in = spec.stdin_fd >= 0 ? spec.stdin_fd : ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  must(in >= 0 && ::dup2(in, 0) == 0, "stdin");
  must(::dup2(spec.stdout_fd, 1) == 1, "stdout");
  must(::dup2(spec.stderr_fd, 2) == 2, "stderr");
}

User switch_user(const std::string& spec, std::vector<std::string>& env) {
  std::string passwd, group;
  read_file("/etc/passwd", &passwd);  // absent files mean no names, as with runc
  read_file("/etc/group", &group);
  User user;
  std::string error;
  if (!resolve_user(spec, passwd, group, &user, &error)) fail(125, error);
  if (!env_value(env, "HOME")) env.push_back("HOME=" + user.home);
  must(::setgroups(user.groups.size(), user.groups.data()) == 0, "setgroups");
  must(::setgid(user.gid) == 0, "setgid " + std::to_string(user.gid));
  must(::setuid(user.uid) == 0, "setuid " + std::to_string(user.uid));
  return user;
}

bool executable(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

}  // namespace

std::string mount_disk_image(const std::string& cmdline) {
  const size_t at = cmdline.find("c2w.disk=");
  if (at == std::string::npos) return "";
  const size_t start = at + std::strlen("c2w.disk=");
  const std::string name = cmdline.substr(start, cmdline.find_first_of(" \n", start) - start);
  if (name.empty() || name.find('/') != std::string::npos) return "bad c2w.disk=" + name;
  const std::string device = "/dev/" + name;
  // devtmpfs shows the disk once the virtio driver probed it, which may take a moment.
  struct stat st;
  for (int attempt = 0; ::stat(device.c_str(), &st) != 0; ++attempt) {
    if (attempt == 1000) return "no disk " + device + " appeared (is the machine's disk attached?)";
    ::usleep(10000);
  }
  if (::mkdir(kImageDir, 0755) != 0 && errno != EEXIST) return sys_error("mkdir image dir");
  if (::mkdir(kWritableDir, 0755) != 0 && errno != EEXIST) return sys_error("mkdir rw dir");
  debug_log("mount erofs " + device + " on " + kImageDir);
  if (::mount(device.c_str(), kImageDir, "erofs", MS_RDONLY, nullptr) != 0)
    return sys_error("mount the image on " + device + " (erofs)");
  g_root_on_disk = true;
  return "";
}

void run_container(const ContainerSpec& spec) {
  ::umask(0);  // modes below are meant exactly
  if (spec.pty_socket >= 0) {
    must(::dup2(spec.stderr_fd, 1) == 1 && ::dup2(spec.stderr_fd, 2) == 2, "early stderr");
  } else {
    attach_stdio(spec);
  }
  enter_root();
  mount_filesystems(*spec.request);
  must(::sethostname(kHostname, std::strlen(kHostname)) == 0, "sethostname");
  must(::setsid() >= 0, "setsid");
  if (spec.pty_socket >= 0) attach_terminal(spec);

  Launch launch = spec.launch;
  if (!env_value(launch.env, "HOSTNAME"))
    launch.env.push_back(std::string("HOSTNAME=") + kHostname);
  // Docker creates a missing working directory (as root) before dropping privileges.
  ensure_dirs(launch.working_dir);
  switch_user(launch.user, launch.env);
  if (::chdir(launch.working_dir.c_str()) != 0)
    fail(errno == EACCES ? 126 : 125, sys_error("chdir to " + launch.working_dir));

  const std::string* path = env_value(launch.env, "PATH");
  std::string command = find_in_path(launch.argv[0], path ? path->substr(5) : "", executable);
  if (command.empty())
    fail(127, "exec: \"" + launch.argv[0] + "\": executable file not found in $PATH");

  std::vector<char*> argv, envp;
  for (std::string& a : launch.argv) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (std::string& e : launch.env) envp.push_back(e.data());
  envp.push_back(nullptr);
  debug_log("exec " + command);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  std::signal(SIGPIPE, SIG_DFL);  // init ignores it; ignored dispositions survive execve
  ::umask(022);
  ::execve(command.c_str(), argv.data(), envp.data());
  int err = errno;
  fail(err == ENOENT ? 127 : 126, "exec " + command + ": " + std::strerror(err));
}

}  // namespace c2w::init
