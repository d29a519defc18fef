// c2w::cache::FileLock (cache/file_lock.h) between processes: a forked child takes and releases
// locks on command, and the parent checks that exclusive locks exclude everyone, shared locks
// admit each other but not an exclusive one, the blocking constructor waits until the holder
// lets go (or dies by SIGKILL), and try_lock never waits. Also within one process (the solver's
// threads take per-key locks), lock-file creation, errors, release and moves.
#include "cache/file_lock.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "base/error.h"
#include "tests/support/process.h"

namespace {

namespace fs = std::filesystem;
using c2w::cache::FileLock;
using c2w::testing::TempDir;
using Mode = FileLock::Mode;
using namespace std::chrono_literals;

// A forked process that locks `path` when told to. Commands (one byte): 'x' / 's' take an
// exclusive / shared lock with the blocking constructor, 'X' / 'S' the same with try_lock,
// 'r' releases; each is answered with '1' (held) or '0' (not held). Forked before the parent
// takes any lock, so it inherits none of the parent's lock descriptions.
class LockHolder {
 public:
  explicit LockHolder(const fs::path& path) {
    int to[2], from[2];
    EXPECT_EQ(::pipe(to), 0);
    EXPECT_EQ(::pipe(from), 0);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(to[1]);
      ::close(from[0]);
      serve(path, to[0], from[1]);
      _exit(0);
    }
    ::close(to[0]);
    ::close(from[1]);
    to_ = to[1];
    from_ = from[0];
  }
  ~LockHolder() {
    if (pid_ > 0) {
      ::close(to_);  // EOF: the child exits
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::close(from_);
  }
  LockHolder(const LockHolder&) = delete;
  LockHolder& operator=(const LockHolder&) = delete;

  // Sends a command and returns the answer; nullopt when none came within `timeout`.
  std::optional<bool> command(char c, std::chrono::milliseconds timeout = 5s) {
    if (::write(to_, &c, 1) != 1) return std::nullopt;
    return answer(timeout);
  }
  std::optional<bool> answer(std::chrono::milliseconds timeout) {
    pollfd p{from_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return std::nullopt;
    char r = 0;
    if (::read(from_, &r, 1) != 1) return std::nullopt;
    return r == '1';
  }
  // Sends a command without waiting for the answer (for a blocking lock).
  void send(char c) { ASSERT_EQ(::write(to_, &c, 1), 1); }

  void kill9() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    ::close(to_);
    pid_ = -1;
  }

 private:
  static void serve(const fs::path& path, int in, int out) {
    FileLock lock;
    char c;
    while (::read(in, &c, 1) == 1) {
      try {
        switch (c) {
          case 'x':
            lock = FileLock(path, Mode::kExclusive);
            break;
          case 's':
            lock = FileLock(path, Mode::kShared);
            break;
          case 'X':
            lock = FileLock::try_lock(path, Mode::kExclusive);
            break;
          case 'S':
            lock = FileLock::try_lock(path, Mode::kShared);
            break;
          case 'r':
            lock.release();
            break;
          default:
            break;
        }
      } catch (...) {
        lock = FileLock();
      }
      const char r = lock.held() ? '1' : '0';
      if (::write(out, &r, 1) != 1) break;
    }
  }

  pid_t pid_ = -1;
  int to_ = -1, from_ = -1;
};

// Takes a lock with the blocking constructor on another thread. A lock that never came does not
// hang the test: the thread is left to finish (and drop its lock) on its own.
class BlockingLock {
 public:
  BlockingLock(const fs::path& path, Mode mode) : state_(std::make_shared<State>()) {
    thread_ = std::thread([state = state_, path, mode] {
      std::optional<FileLock> lock;
      bool failed = false;
      try {
        lock.emplace(path, mode);
      } catch (...) {
        failed = true;
      }
      std::lock_guard guard(state->mu);
      state->lock = std::move(lock);
      state->done = true;
      state->failed = failed;
      state->cv.notify_all();
    });
  }
  ~BlockingLock() {
    std::unique_lock guard(state_->mu);
    const bool done = state_->done;
    guard.unlock();
    if (done)
      thread_.join();
    else
      thread_.detach();
  }
  BlockingLock(const BlockingLock&) = delete;
  BlockingLock& operator=(const BlockingLock&) = delete;

  // Whether the constructor returned within `timeout`.
  bool acquired_within(std::chrono::milliseconds timeout) {
    std::unique_lock guard(state_->mu);
    return state_->cv.wait_for(guard, timeout, [&] { return state_->done; }) && !state_->failed;
  }
  FileLock get() {
    std::lock_guard guard(state_->mu);
    return state_->lock ? std::move(*state_->lock) : FileLock();
  }

 private:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false, failed = false;
    std::optional<FileLock> lock;
  };
  std::shared_ptr<State> state_;
  std::thread thread_;
};

class FileLockTest : public ::testing::Test {
 protected:
  TempDir dir_{"c2w-file-lock"};
  fs::path path_ = dir_.path() / "lock";
};

// ---- one process ----

TEST_F(FileLockTest, DefaultConstructedIsNotHeld) {
  FileLock lock;
  EXPECT_FALSE(lock.held());
  lock.release();  // harmless
  EXPECT_FALSE(lock.held());
}

TEST_F(FileLockTest, ConstructorCreatesTheLockFileAndHoldsIt) {
  ASSERT_FALSE(fs::exists(path_));
  FileLock lock(path_, Mode::kExclusive);
  EXPECT_TRUE(lock.held());
  EXPECT_TRUE(fs::is_regular_file(path_));
}

TEST_F(FileLockTest, TryLockCreatesTheLockFileAndHoldsAFreeLock) {
  FileLock ex = FileLock::try_lock(path_, Mode::kExclusive);
  EXPECT_TRUE(ex.held());
  EXPECT_TRUE(fs::is_regular_file(path_));
  ex.release();
  FileLock sh = FileLock::try_lock(dir_.path() / "other", Mode::kShared);
  EXPECT_TRUE(sh.held());
}

TEST_F(FileLockTest, ExistingLockFileIsLeftAsItIs) {
  {
    std::FILE* f = std::fopen(path_.c_str(), "w");
    std::fputs("keep", f);
    std::fclose(f);
  }
  { FileLock lock(path_, Mode::kExclusive); }
  EXPECT_EQ(fs::file_size(path_), 4u);
}

TEST_F(FileLockTest, LockFileInAMissingDirectoryThrowsError) {
  const fs::path bad = dir_.path() / "no" / "such" / "dir" / "lock";
  EXPECT_THROW(FileLock(bad, Mode::kExclusive), c2w::Error);
  EXPECT_THROW(FileLock(bad, Mode::kShared), c2w::Error);
  EXPECT_THROW(FileLock::try_lock(bad, Mode::kExclusive), c2w::Error);
  EXPECT_THROW(FileLock::try_lock(bad, Mode::kShared), c2w::Error);
}

TEST_F(FileLockTest, ErrorNamesTheLockFile) {
  const fs::path bad = dir_.path() / "missing" / "lock";
  try {
    FileLock lock(bad, Mode::kExclusive);
    FAIL() << "no error";
  } catch (const c2w::Error& e) {
    EXPECT_NE(std::string(e.what()).find(bad.string()), std::string::npos) << e.what();
  }
}

// The solver's worker threads take per-key locks in one process: two FileLocks on one path
// exclude each other there too.
TEST_F(FileLockTest, ExclusiveExcludesWithinOneProcess) {
  FileLock a(path_, Mode::kExclusive);
  EXPECT_FALSE(FileLock::try_lock(path_, Mode::kExclusive).held());
  EXPECT_FALSE(FileLock::try_lock(path_, Mode::kShared).held());
  a.release();
  EXPECT_FALSE(a.held());
  EXPECT_TRUE(FileLock::try_lock(path_, Mode::kExclusive).held());
}

TEST_F(FileLockTest, SharedAdmitsSharedButNotExclusiveWithinOneProcess) {
  FileLock a(path_, Mode::kShared);
  FileLock b = FileLock::try_lock(path_, Mode::kShared);
  EXPECT_TRUE(b.held());
  EXPECT_FALSE(FileLock::try_lock(path_, Mode::kExclusive).held());
  a.release();
  EXPECT_FALSE(FileLock::try_lock(path_, Mode::kExclusive).held());  // b still holds it
  b.release();
  EXPECT_TRUE(FileLock::try_lock(path_, Mode::kExclusive).held());
}

TEST_F(FileLockTest, BlockingConstructorWaitsForAnotherThreadsLock) {
  auto held = std::make_unique<FileLock>(path_, Mode::kExclusive);
  BlockingLock waiter(path_, Mode::kExclusive);
  EXPECT_FALSE(waiter.acquired_within(300ms));
  held.reset();  // the destructor releases
  ASSERT_TRUE(waiter.acquired_within(5s));
  EXPECT_TRUE(waiter.get().held());
}

TEST_F(FileLockTest, MoveTransfersTheLock) {
  FileLock a(path_, Mode::kExclusive);
  FileLock b(std::move(a));
  EXPECT_FALSE(a.held());  // NOLINT(bugprone-use-after-move): moved-from is documented empty
  EXPECT_TRUE(b.held());
  EXPECT_FALSE(FileLock::try_lock(path_, Mode::kExclusive).held());
  a.release();  // releasing the moved-from one does not release b's
  EXPECT_FALSE(FileLock::try_lock(path_, Mode::kExclusive).held());
  b.release();
  EXPECT_TRUE(FileLock::try_lock(path_, Mode::kExclusive).held());
}

TEST_F(FileLockTest, MoveAssignmentReleasesTheLockItReplaces) {
  const fs::path other = dir_.path() / "other";
  FileLock a(path_, Mode::kExclusive);
  a = FileLock(other, Mode::kExclusive);
  EXPECT_TRUE(a.held());
  EXPECT_TRUE(FileLock::try_lock(path_, Mode::kExclusive).held()) << "old lock not released";
  EXPECT_FALSE(FileLock::try_lock(other, Mode::kExclusive).held());
}

TEST_F(FileLockTest, MoveAssignmentFromAnEmptyLockReleases) {
  FileLock a(path_, Mode::kExclusive);
  a = FileLock();
  EXPECT_FALSE(a.held());
  EXPECT_TRUE(FileLock::try_lock(path_, Mode::kExclusive).held());
}

TEST_F(FileLockTest, DestructorReleases) {
  { FileLock a(path_, Mode::kExclusive); }
  EXPECT_TRUE(FileLock::try_lock(path_, Mode::kExclusive).held());
}

// ---- between processes ----

TEST_F(FileLockTest, ExclusiveInAnotherProcessExcludesTryLock) {
  LockHolder child(path_);
  ASSERT_EQ(child.command('x'), true);
  EXPECT_FALSE(FileLock::try_lock(path_, Mode::kExclusive).held());
  EXPECT_FALSE(FileLock::try_lock(path_, Mode::kShared).held());
}

TEST_F(FileLockTest, TryLockDoesNotWait) {
  LockHolder child(path_);
  ASSERT_EQ(child.command('x'), true);
  const auto start = std::chrono::steady_clock::now();
  FileLock l = FileLock::try_lock(path_, Mode::kExclusive);
  EXPECT_FALSE(l.held());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
}

TEST_F(FileLockTest, OtherProcessTryLockFailsWhileWeHoldExclusive) {
  LockHolder child(path_);
  FileLock mine(path_, Mode::kExclusive);
  EXPECT_EQ(child.command('X'), false);
  EXPECT_EQ(child.command('S'), false);
  mine.release();
  EXPECT_EQ(child.command('X'), true);
}

TEST_F(FileLockTest, SharedInAnotherProcessAdmitsSharedNotExclusive) {
  LockHolder child(path_);
  ASSERT_EQ(child.command('s'), true);
  FileLock shared = FileLock::try_lock(path_, Mode::kShared);
  EXPECT_TRUE(shared.held());
  EXPECT_FALSE(FileLock::try_lock(path_, Mode::kExclusive).held());
  // A blocking shared lock does not wait either.
  BlockingLock second(path_, Mode::kShared);
  EXPECT_TRUE(second.acquired_within(2s));
}

TEST_F(FileLockTest, ExclusiveWaitsUntilTheOtherProcessReleases) {
  LockHolder child(path_);
  ASSERT_EQ(child.command('x'), true);
  BlockingLock waiter(path_, Mode::kExclusive);
  EXPECT_FALSE(waiter.acquired_within(300ms)) << "did not wait for the holder";
  ASSERT_EQ(child.command('r'), false);
  ASSERT_TRUE(waiter.acquired_within(5s));
  FileLock mine = waiter.get();
  EXPECT_TRUE(mine.held());
  EXPECT_EQ(child.command('X'), false);  // and now we exclude the child
}

TEST_F(FileLockTest, SharedWaitsForAnExclusiveHolder) {
  LockHolder child(path_);
  ASSERT_EQ(child.command('x'), true);
  BlockingLock waiter(path_, Mode::kShared);
  EXPECT_FALSE(waiter.acquired_within(300ms));
  ASSERT_EQ(child.command('r'), false);
  ASSERT_TRUE(waiter.acquired_within(5s));
  EXPECT_TRUE(waiter.get().held());
}

TEST_F(FileLockTest, ExclusiveWaitsForEverySharedHolder) {
  // prune (exclusive) runs only when no solve (shared) uses the cache.
  LockHolder a(path_), b(path_);
  ASSERT_EQ(a.command('s'), true);
  ASSERT_EQ(b.command('s'), true);
  BlockingLock prune(path_, Mode::kExclusive);
  EXPECT_FALSE(prune.acquired_within(300ms));
  ASSERT_EQ(a.command('r'), false);
  EXPECT_FALSE(prune.acquired_within(300ms)) << "took the lock while b still shares it";
  ASSERT_EQ(b.command('r'), false);
  ASSERT_TRUE(prune.acquired_within(5s));
  EXPECT_TRUE(prune.get().held());
}

TEST_F(FileLockTest, OtherProcessBlocksUntilWeRelease) {
  LockHolder child(path_);
  auto mine = std::make_unique<FileLock>(path_, Mode::kExclusive);
  child.send('x');
  EXPECT_EQ(child.answer(300ms), std::nullopt) << "the child did not wait";
  mine.reset();
  EXPECT_EQ(child.answer(5s), true);
}

TEST_F(FileLockTest, KilledHolderReleasesTheLock) {
  LockHolder child(path_);
  ASSERT_EQ(child.command('x'), true);
  BlockingLock waiter(path_, Mode::kExclusive);
  EXPECT_FALSE(waiter.acquired_within(300ms));
  child.kill9();
  ASSERT_TRUE(waiter.acquired_within(5s)) << "lock not released when its holder was killed";
  EXPECT_TRUE(waiter.get().held());
}

TEST_F(FileLockTest, KilledSharedHolderReleasesTheLock) {
  LockHolder child(path_);
  ASSERT_EQ(child.command('s'), true);
  EXPECT_FALSE(FileLock::try_lock(path_, Mode::kExclusive).held());
  child.kill9();
  const auto start = std::chrono::steady_clock::now();
  bool got = false;
  while (!got && std::chrono::steady_clock::now() - start < 5s) {
    got = FileLock::try_lock(path_, Mode::kExclusive).held();
    if (!got) std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(got);
}

TEST_F(FileLockTest, LocksOnDifferentFilesAreIndependent) {
  LockHolder child(path_);
  ASSERT_EQ(child.command('x'), true);
  EXPECT_TRUE(FileLock::try_lock(dir_.path() / "another", Mode::kExclusive).held());
}

}  // namespace
