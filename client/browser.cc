#include "client/browser.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <thread>

#include "base/error.h"
#include "client/export.h"
#include "web/web_assets.h"

namespace c2w::client {

namespace fs = std::filesystem;

namespace {

void write_file_atomically(const fs::path& to, std::string_view data) {
  fs::path tmp = to;
  tmp += ".c2w-tmp." + std::to_string(getpid());
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f || std::fwrite(data.data(), 1, data.size(), f) != data.size() || std::fclose(f) != 0) {
    const int e = errno;
    std::error_code ec;
    fs::remove(tmp, ec);
    throw system_error("cannot write " + to.string(), e);
  }
  std::error_code ec;
  fs::rename(tmp, to, ec);
  if (ec) throw Error("cannot write " + to.string() + ": " + ec.message());
}

}  // namespace

void export_browser(const fs::path& wasm, const fs::path& dir) {
  if (!web::has_xterm())
    throw Error("this c2w was built without xterm.js, which the browser page needs",
                "run scripts/setup (it installs npm's @xterm/xterm under web/node_modules), "
                "then reconfigure and rebuild c2w");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error("cannot create " + dir.string() + ": " + ec.message());
  for (const web::Asset& a : web::assets()) write_file_atomically(dir / a.name, a.data);
  export_file(wasm, dir / "out.wasm");
}

namespace {

std::string content_type(const fs::path& p) {
  const std::string ext = p.extension().string();
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".wasm") return "application/wasm";
  if (ext == ".json" || ext == ".map") return "application/json";
  if (ext == ".txt") return "text/plain; charset=utf-8";
  if (ext == ".png") return "image/png";
  if (ext == ".svg") return "image/svg+xml";
  return "application/octet-stream";
}

bool send_all(int fd, std::string_view s) {
  while (!s.empty()) {
    const ssize_t n = ::send(fd, s.data(), s.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    s.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// "/a/b%20c?x" -> "a/b c" (query and fragment dropped, %XX decoded, "." and empty segments
// skipped); false for a target that is not a path or has a ".." segment or a NUL.
bool decode_path(std::string target, std::string* out) {
  target = target.substr(0, target.find_first_of("?#"));
  std::string p;
  for (size_t i = 0; i < target.size(); ++i) {
    if (target[i] == '%' && i + 2 < target.size() && hex(target[i + 1]) >= 0 &&
        hex(target[i + 2]) >= 0) {
      p += static_cast<char>(hex(target[i + 1]) * 16 + hex(target[i + 2]));
      i += 2;
    } else {
      p += target[i];
    }
  }
  if (p.empty() || p[0] != '/' || p.find('\0') != std::string::npos) return false;
  std::string rel;
  size_t pos = 1;
  while (pos <= p.size()) {
    const size_t slash = p.find('/', pos);
    const std::string seg =
        p.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos);
    if (seg == "..") return false;
    if (!seg.empty() && seg != ".") rel += (rel.empty() ? "" : "/") + seg;
    if (slash == std::string::npos) break;
    pos = slash + 1;
  }
  *out = rel;
  return true;
}

// Every response carries these: they make the page cross-origin isolated (SharedArrayBuffer).
constexpr const char* kIsolation =
    "Cross-Origin-Opener-Policy: same-origin\r\n"
    "Cross-Origin-Embedder-Policy: require-corp\r\n"
    "Cross-Origin-Resource-Policy: same-origin\r\n"
    "Cache-Control: no-cache\r\n"
    "Connection: close\r\n";

void respond_error(int fd, int code, const char* reason, bool head) {
  const std::string body = std::to_string(code) + " " + reason + "\n";
  std::string r =
      "HTTP/1.1 " + std::to_string(code) + " " + reason + "\r\n" + kIsolation +
      "Content-Type: text/plain; charset=utf-8\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\n\r\n";
  if (!head) r += body;
  send_all(fd, r);
}

void handle(int fd, fs::path root) {
  std::string req;
  char buf[4096];
  while (req.find("\r\n\r\n") == std::string::npos && req.size() < 16384) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    req.append(buf, static_cast<size_t>(n));
  }
  const size_t sp1 = req.find(' '), sp2 = req.find(' ', sp1 + 1);
  if (sp1 == std::string::npos || sp2 == std::string::npos)
    return respond_error(fd, 400, "Bad Request", false);
  const std::string method = req.substr(0, sp1);
  const bool head = method == "HEAD";
  if (method != "GET" && !head) return respond_error(fd, 405, "Method Not Allowed", false);
  std::string rel;
  if (!decode_path(req.substr(sp1 + 1, sp2 - sp1 - 1), &rel))
    return respond_error(fd, 404, "Not Found", head);
  fs::path path = rel.empty() ? root : root / rel;
  std::error_code ec;
  if (fs::is_directory(path, ec)) path /= "index.html";
  // Symlinks inside the folder may not lead out of it.
  const fs::path real = fs::canonical(path, ec);
  if (ec) return respond_error(fd, 404, "Not Found", head);
  const std::string r = real.string(), base = root.string();
  if (r.compare(0, base.size(), base) != 0 || (r.size() > base.size() && r[base.size()] != '/'))
    return respond_error(fd, 404, "Not Found", head);
  const int file = ::open(real.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (file < 0 || ::fstat(file, &st) != 0 || !S_ISREG(st.st_mode)) {
    if (file >= 0) ::close(file);
    return respond_error(fd, 404, "Not Found", head);
  }
  const std::string header = std::string("HTTP/1.1 200 OK\r\n") + kIsolation +
                             "Content-Type: " + content_type(real) +
                             "\r\nContent-Length: " + std::to_string(st.st_size) + "\r\n\r\n";
  if (send_all(fd, header) && !head) {
    off_t off = 0;
    while (off < st.st_size) {
      const ssize_t n = ::sendfile(fd, file, &off, static_cast<size_t>(st.st_size - off));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
    }
  }
  ::close(file);
}

}  // namespace

int serve(const fs::path& dir, const std::string& addr) {
  std::error_code ec;
  const fs::path root = fs::canonical(dir, ec);
  if (ec || !fs::is_directory(root))
    throw Error("cannot serve " + dir.string() + ": not a directory",
                "give the folder `c2w --to-browser IMAGE DIR` wrote");
  if (!fs::exists(root / "index.html"))
    std::fprintf(stderr, "c2w: warning: %s has no index.html\n", root.c_str());
  const size_t colon = addr.rfind(':');
  if (colon == std::string::npos)
    throw Error("bad --addr \"" + addr + "\"", "write HOST:PORT, e.g. 127.0.0.1:8080");
  std::string host = addr.substr(0, colon);
  const std::string port = addr.substr(colon + 1);
  // [::1]:8080, the form URLs use (and the one this server prints), as well as ::1:8080.
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  // getaddrinfo would keep the low 16 bits of a larger number and listen somewhere else.
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos || std::stoul(port) > 65535)
    throw Error("bad --addr \"" + addr + "\": the port must be a number from 0 to 65535",
                "write HOST:PORT, e.g. 127.0.0.1:8080 (0 picks a free port)");
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  if (const int e =
          ::getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &res))
    throw Error("bad --addr \"" + addr + "\": " + gai_strerror(e),
                "write HOST:PORT, e.g. 127.0.0.1:8080");
  const int s = ::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (s < 0 || ::bind(s, res->ai_addr, res->ai_addrlen) != 0 || ::listen(s, 64) != 0) {
    const int e = errno;
    ::freeaddrinfo(res);
    throw system_error("cannot listen on " + addr, e);
  }
  ::freeaddrinfo(res);
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&bound), &len);
  char name[INET6_ADDRSTRLEN] = "?";
  unsigned bound_port = 0;
  if (bound.ss_family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&bound);
    ::inet_ntop(AF_INET, &a->sin_addr, name, sizeof name);
    bound_port = ntohs(a->sin_port);
  } else if (bound.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&bound);
    ::inet_ntop(AF_INET6, &a->sin6_addr, name, sizeof name);
    bound_port = ntohs(a->sin6_port);
  }
  const std::string shown = bound.ss_family == AF_INET6 ? "[" + std::string(name) + "]" : name;
  std::fprintf(stderr, "c2w: serving %s at http://%s:%u/\n", root.c_str(), shown.c_str(),
               bound_port);
  std::fflush(stderr);
  std::signal(SIGPIPE, SIG_IGN);
  for (;;) {
    const int c = ::accept4(s, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) {
      if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE) continue;
      throw system_error("accept failed", errno);
    }
    std::thread([c, root] {
      handle(c, root);
      ::close(c);
    }).detach();
  }
}

}  // namespace c2w::client
