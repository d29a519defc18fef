#include "tests/support/throttled_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>

namespace c2w::testing {

ThrottledProxy::ThrottledProxy(std::string target_host, int target_port, size_t bytes_per_second)
    : target_host_(std::move(target_host)), target_port_(target_port), rate_(bytes_per_second) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 16) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    throw std::runtime_error("proxy: cannot listen");
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

ThrottledProxy::~ThrottledProxy() {
  stop_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  ::close(listen_fd_);
  acceptor_.join();
  for (auto& w : workers_) w.join();
}

void ThrottledProxy::accept_loop() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    workers_.emplace_back([this, client] { pump(client); });
  }
}

// Copies both ways; the server-to-client direction is paced to `rate_` bytes per second.
void ThrottledProxy::pump(int client) {
  int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(target_port_));
  ::inet_pton(AF_INET, target_host_.c_str(), &addr.sin_addr);
  if (::connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(server);
    ::close(client);
    return;
  }
  char buf[16384];
  size_t chunk = std::max<size_t>(1024, rate_ / 20);  // 20 slices a second
  while (!stop_) {
    pollfd fds[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
    if (::poll(fds, 2, 100) <= 0) continue;
    if (fds[0].revents & (POLLIN | POLLHUP)) {
      ssize_t n = ::read(client, buf, sizeof buf);
      if (n <= 0 || ::write(server, buf, size_t(n)) != n) break;
    }
    if (fds[1].revents & (POLLIN | POLLHUP)) {
      ssize_t n = ::read(server, buf, std::min(sizeof buf, chunk));
      if (n <= 0 || ::write(client, buf, size_t(n)) != n) break;
      std::this_thread::sleep_for(std::chrono::microseconds(1'000'000 * n / long(rate_)));
    }
  }
  ::close(server);
  ::close(client);
}

}  // namespace c2w::testing
