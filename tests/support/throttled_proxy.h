// A TCP proxy on 127.0.0.1 that forwards to a target at a limited rate, so tests can
// interrupt a download half way (Ctrl-C) and check that the next run resumes it.
#pragma once

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace c2w::testing {

class ThrottledProxy {
 public:
  ThrottledProxy(std::string target_host, int target_port, size_t bytes_per_second);
  ~ThrottledProxy();
  ThrottledProxy(const ThrottledProxy&) = delete;
  ThrottledProxy& operator=(const ThrottledProxy&) = delete;
  // "127.0.0.1:PORT"
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  void accept_loop();
  void pump(int client);

  std::string target_host_;
  int target_port_;
  size_t rate_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  std::vector<std::thread> workers_;
};

}  // namespace c2w::testing
