// The 9P server built for wasm32-wasi, run on a real WASI runtime over a preopened directory:
// the same confinement and errno promises as natively, where the host C library is wasi-libc
// (other errno numbers, no chmod/chown/mkfifo/statvfs, no permission bits).
// argv[1] is the preopened directory; it holds share/ (served) and outside/secret (must stay
// untouched; tests/toolchain/p9-wasi.sh checks that after the run). Prints one line per check
// and exits with the number of failed checks.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <set>
#include <string>

#include "emulators/p9/posix_fs.h"
#include "emulators/p9/server.h"
#include "tests/p9/p9_client.h"

using namespace c2w::p9;
using namespace c2w::p9::test;

namespace {

int failures = 0;

void check(bool ok, const char* what, long got = 0) {
  std::printf("%s %s", ok ? "ok" : "FAIL", what);
  if (!ok) std::printf(" (got %ld)", got);
  std::printf("\n");
  if (!ok) ++failures;
}

#define EXPECT_ERR(expr, want)                   \
  do {                                           \
    int e_ = (expr);                             \
    check(e_ == (want), #expr " == " #want, e_); \
  } while (0)

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::printf("usage: p9_wasi_check PREOPENED_DIR\n");
    return 2;
  }
  std::string root = argv[1];
  std::unique_ptr<PosixFs> fs;
  EXPECT_ERR(PosixFs::create_share((root + "/share").c_str(), &fs), 0);
  if (!fs) return 1;
  Server server(fs.get(), ServerOptions{});
  Client c(server);
  EXPECT_ERR(c.start(), 0);

  // Plain session work and Linux errno numbers (wasi-libc's differ: ENOENT is 44 there).
  EXPECT_ERR(c.walk(0, 1, {"missing"}), kENOENT);
  EXPECT_ERR(c.walk(0, 1, {}), 0);
  EXPECT_ERR(c.lcreate(1, "made", kO_RDWR | kO_CREAT | kO_EXCL, 0644), 0);
  EXPECT_ERR(c.write(1, 0, "from wasm"), 0);
  std::string got;
  EXPECT_ERR(c.read(1, 5, 100, &got), 0);
  check(got == "wasm", "read back what was written");
  EXPECT_ERR(c.walk(0, 2, {}), 0);
  EXPECT_ERR(c.lcreate(2, "made", kO_RDWR | kO_CREAT | kO_EXCL, 0644), kEEXIST);
  EXPECT_ERR(c.mkdir(0, "dir", 0755), 0);
  EXPECT_ERR(c.mkdir(0, "dir", 0755), kEEXIST);
  EXPECT_ERR(c.walk(0, 3, {"made", "x"}), kENOENT);  // partial: made is not a directory
  EXPECT_ERR(c.walk(0, 3, {"made"}), 0);
  EXPECT_ERR(c.walk(3, 4, {"x"}), kENOTDIR);
  Getattr a;
  EXPECT_ERR(c.getattr(3, &a), 0);
  check(a.mode == (kS_IFREG | 0755), "regular file reads as 0755 without WASI permission bits",
        a.mode);
  check(a.size == 9, "size", static_cast<long>(a.size));

  // Readdir across several calls, cookies as positions.
  EXPECT_ERR(c.walk(0, 5, {"many"}), 0);
  EXPECT_ERR(c.lopen(5, kO_RDONLY), 0);
  std::set<std::string> names;
  uint64_t off = 0;
  int calls = 0;
  for (; calls < 200; ++calls) {
    std::vector<Dirent> part;
    if (c.readdir(5, off, 200, &part) != 0 || part.empty()) break;
    for (auto& d : part) names.insert(d.name);
    off = part.back().offset;
  }
  check(names.count("file-0") && names.count("file-29") && calls > 3,
        "readdir over several calls sees every entry", static_cast<long>(names.size()));

  // No chmod/chown on WASI: recorded and shown back.
  EXPECT_ERR(c.setattr(3, kSetMode | kSetUid, 0600, 1000, 0, 0), 0);
  EXPECT_ERR(c.getattr(3, &a), 0);
  check(a.mode == (kS_IFREG | 0600) && a.uid == 1000, "recorded mode and owner", a.mode);
  EXPECT_ERR(c.setattr(3, kSetSize, 0, 0, 0, 4), 0);
  EXPECT_ERR(c.mknod(0, "fifo", kS_IFIFO | 0644), kEPERM);
  uint32_t type = 0, namelen = 0;
  EXPECT_ERR(c.statfs(0, &type, &namelen), 0);
  check(type == kV9fsMagic && namelen == 255, "statfs without statvfs", namelen);

  // Namespace operations.
  EXPECT_ERR(c.symlink(0, "ln", "made"), 0);
  EXPECT_ERR(c.walk(0, 6, {"ln"}), 0);
  std::string target;
  EXPECT_ERR(c.readlink(6, &target), 0);
  check(target == "made", "readlink");
  EXPECT_ERR(c.link(0, 3, "hard"), 0);
  EXPECT_ERR(c.renameat(0, "hard", 0, "hard2"), 0);
  EXPECT_ERR(c.unlinkat(0, "hard2", 0), 0);
  EXPECT_ERR(c.unlinkat(0, "dir", 0), kEISDIR);
  EXPECT_ERR(c.unlinkat(0, "dir", kAtRemoveDir), 0);

  // Confinement: symlinks made by the host script point outside the share.
  EXPECT_ERR(c.walk(0, 7, {"rel"}), 0);
  EXPECT_ERR(c.lopen(7, kO_RDWR), kELOOP);
  check(c.setattr(7, kSetSize, 0, 0, 0, 0) != 0, "truncate through a symlink refused");
  EXPECT_ERR(c.walk(0, 8, {"reldir", "secret"}), kENOENT);
  EXPECT_ERR(c.walk(0, 8, {"..", "outside", "secret"}), kENOENT);
  EXPECT_ERR(c.renameat(0, "made", 0, "../outside/x"), kEINVAL);
  // A directory swapped for a symlink after the walk (done here through wasi-libc). The
  // runtime refuses symlinks that leave the preopen, so the link points back at the original
  // directory: following it would succeed, so every refusal shows the server did not follow.
  EXPECT_ERR(c.walk(0, 9, {"sub", "secret"}), 0);
  EXPECT_ERR(c.walk(0, 10, {"sub"}), 0);
  std::string share = root + "/share";
  check(rename((share + "/sub").c_str(), (share + "/sub.old").c_str()) == 0, "host rename");
  check(symlink("sub.old", (share + "/sub").c_str()) == 0, "host symlink");
  check(c.lopen(9, kO_RDWR) != 0, "open through swapped dir refused");
  check(c.setattr(9, kSetSize, 0, 0, 0, 0) != 0, "truncate through swapped dir refused");
  check(c.lcreate(10, "planted", kO_RDWR, 0644) != 0, "create through swapped dir refused");
  check(c.unlinkat(10, "secret", 0) != 0, "unlink through swapped dir refused");

  // Snapshot, restore into a new server over a new share object, continue reading.
  EXPECT_ERR(c.walk(0, 11, {"made"}), 0);
  EXPECT_ERR(c.lopen(11, kO_RDONLY), 0);
  std::vector<uint8_t> saved = server.save();
  std::unique_ptr<PosixFs> fs2;
  EXPECT_ERR(PosixFs::create_share(share.c_str(), &fs2), 0);
  Server s2(fs2.get(), ServerOptions{});
  EXPECT_ERR(s2.restore(saved.data(), saved.size()), 0);
  Client c2(s2);
  EXPECT_ERR(c2.read(11, 0, 4, &got), 0);
  check(got == "from", "read after restore");
  EXPECT_ERR(c2.getattr(3, &a), 0);
  check(a.mode == (kS_IFREG | 0600), "recorded mode survives the snapshot", a.mode);

  check(c.problems() == 0 && c2.problems() == 0, "every reply well-formed");
  std::printf("%d failed\n", failures);
  return failures;
}
