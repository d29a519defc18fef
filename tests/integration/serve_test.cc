// `c2w serve DIR --addr HOST:PORT` (client/browser.h) as a browser sees it: the real c2w binary
// on 127.0.0.1, requests through libcurl. Types of the page's files, the cross-origin isolation
// headers on every response, 404 for what is not there, no way out of DIR (.., percent-encoded
// .., symlinks), HEAD, other methods refused, concurrent clients, and clear failures for a busy
// port, a bad --addr and a missing folder. Only HTTP behaviour is checked, so the tests hold
// for any server implementation.
#include <arpa/inet.h>
#include <curl/curl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "base/error.h"
#include "base/subprocess.h"
#include "tests/support/process.h"

namespace {

namespace fs = std::filesystem;
using c2w::testing::BackgroundProcess;
using c2w::testing::TempDir;
using namespace std::chrono_literals;

const std::string kC2w = C2W_BINARY_PATH;
const std::string kSecret = "TOP-SECRET-OUTSIDE-THE-SERVED-FOLDER";

void write_file(const fs::path& p, const std::string& data) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << data;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// ---- HTTP through libcurl ----

struct Response {
  long status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string error;  // curl's, when the request failed

  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

size_t on_body(char* data, size_t size, size_t n, void* user) {
  static_cast<Response*>(user)->body.append(data, size * n);
  return size * n;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  std::string line(data, size * n);
  const size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    value.erase(value.find_last_not_of(" \t\r\n") + 1);
    static_cast<Response*>(user)->headers[name] = value;
  }
  return size * n;
}

// `path` goes on the wire as it is (no normalisation of "..", no re-encoding).
Response request(int port, const std::string& path, const std::string& method = "GET") {
  Response r;
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + path;
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, 10L);
  curl_easy_setopt(curl.get(), CURLOPT_NOPROXY, "*");
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &r);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERDATA, &r);
  if (method == "HEAD") {
    curl_easy_setopt(curl.get(), CURLOPT_NOBODY, 1L);
  } else if (method != "GET") {
    curl_easy_setopt(curl.get(), CURLOPT_CUSTOMREQUEST, method.c_str());
    if (method == "POST" || method == "PUT") {
      curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, "x=1");
    }
  }
  const CURLcode rc = curl_easy_perform(curl.get());
  if (rc != CURLE_OK) r.error = curl_easy_strerror(rc);
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &r.status);
  return r;
}

// Sends `raw` on a fresh connection and returns everything the server answers.
std::string raw_request(int port, const std::string& raw) {
  const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(s);
    return "";
  }
  timeval tv{5, 0};
  ::setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  (void)!::send(s, raw.data(), raw.size(), MSG_NOSIGNAL);
  ::shutdown(s, SHUT_WR);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::recv(s, buf, sizeof buf, 0)) > 0;) out.append(buf, static_cast<size_t>(n));
  ::close(s);
  return out;
}

// ---- the server ----

// A `c2w serve` process; the port is read from its "serving DIR at http://HOST:PORT/" line.
class Server {
 public:
  Server(const fs::path& dir, const std::string& addr, const fs::path& log) : log_(log) {
    process_ = BackgroundProcess({kC2w, "serve", dir.string(), "--addr", addr}, log);
    const std::regex serving("c2w: serving (.*) at http://([^/]+):([0-9]+)/");
    const auto start = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - start < 15s) {
      const std::string text = read_file(log);
      std::smatch m;
      if (std::regex_search(text, m, serving)) {
        served_dir_ = m[1];
        host_ = m[2];
        port_ = std::stoi(m[3]);
        return;
      }
      if (!process_.running()) break;
      std::this_thread::sleep_for(20ms);
    }
    ADD_FAILURE() << "c2w serve did not start; its output:\n" << read_file(log);
  }
  int port() const { return port_; }
  const std::string& host() const { return host_; }
  const std::string& served_dir() const { return served_dir_; }
  bool running() { return process_.running(); }
  std::string output() const { return read_file(log_); }

 private:
  fs::path log_;
  BackgroundProcess process_;
  int port_ = 0;
  std::string host_, served_dir_;
};

struct Exit {
  int status = -1;
  std::string output;
  bool timed_out = false;
};

// Runs c2w with `args`; a process that has not exited after `timeout` is killed.
Exit run_c2w(const std::vector<std::string>& args, std::chrono::seconds timeout = 10s) {
  Exit e;
  std::vector<std::string> argv{kC2w};
  argv.insert(argv.end(), args.begin(), args.end());
  c2w::ProcessOptions o;
  o.on_line = [&](const std::string& l) { e.output += l + "\n"; };
  const auto start = std::chrono::steady_clock::now();
  o.cancelled = [&] { return std::chrono::steady_clock::now() - start > timeout; };
  try {
    e.status = c2w::run_process(argv, o);
  } catch (const c2w::Cancelled&) {
    e.timed_out = true;
  }
  return e;
}

// One server for the suite over a folder like the one `c2w --to-browser` writes, plus files
// next to the folder that must stay out of reach.
class ServeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    tmp_ = new TempDir("c2w-serve");
    const fs::path root = tmp_->path();
    www_ = root / "www";
    write_file(root / "secret.txt", kSecret + "\n");
    write_file(root / "www2" / "secret.txt", kSecret + " (sibling)\n");
    write_file(www_ / "index.html",
               "<!doctype html><title>c2w</title><script src=app.js></script>");
    // A binary module: every byte value, NULs included, and more than one socket buffer.
    std::string wasm("\0asm\x01\0\0\0", 8);
    for (int i = 0; i < 300'000; ++i) wasm.push_back(static_cast<char>((i * 131 + 7) & 0xff));
    write_file(www_ / "out.wasm", wasm);
    write_file(www_ / "app.js", "console.log('c2w');\n");
    write_file(www_ / "worker.mjs", "export {};\n");
    write_file(www_ / "xterm.css", ".xterm{}\n");
    write_file(www_ / "meta.json", "{\"a\":1}\n");
    write_file(www_ / "notes.txt", "notes\n");
    write_file(www_ / "blob.bin", "\x01\x02");
    write_file(www_ / "a b.txt", "space\n");
    write_file(www_ / "sub" / "index.html", "<p>sub</p>");
    write_file(www_ / "sub" / "deep.js", "1;\n");
    fs::create_directories(www_ / "empty");
    fs::create_symlink("../secret.txt", www_ / "escape.txt");
    fs::create_symlink("../www2/secret.txt", www_ / "sibling.txt");
    fs::create_symlink(root, www_ / "up");
    fs::create_symlink("app.js", www_ / "alias.js");  // inside the folder: fine
    server_ = new Server(www_, "127.0.0.1:0", root / "serve.log");
  }
  static void TearDownTestSuite() {
    delete server_;
    delete tmp_;
    curl_global_cleanup();
  }
  void SetUp() override { ASSERT_GT(server_->port(), 0) << server_->output(); }

  static Response get(const std::string& path, const std::string& method = "GET") {
    return request(server_->port(), path, method);
  }
  static std::string file(const std::string& rel) { return read_file(www_ / rel); }

  static TempDir* tmp_;
  static fs::path www_;
  static Server* server_;
};

TempDir* ServeTest::tmp_ = nullptr;
fs::path ServeTest::www_;
Server* ServeTest::server_ = nullptr;

void expect_isolation_headers(const Response& r, const std::string& what) {
  EXPECT_EQ(r.header("cross-origin-opener-policy"), "same-origin") << what;
  EXPECT_EQ(r.header("cross-origin-embedder-policy"), "require-corp") << what;
  // The header promises CORP too: workers and the module are same-origin resources.
  EXPECT_EQ(r.header("cross-origin-resource-policy"), "same-origin") << what;
}

void expect_not_served(const Response& r, const std::string& what) {
  EXPECT_TRUE(r.error.empty()) << what << ": " << r.error;
  EXPECT_GE(r.status, 400) << what;
  EXPECT_LT(r.status, 500) << what;
  EXPECT_EQ(r.body.find(kSecret), std::string::npos) << what << " leaked " << r.body;
}

TEST_F(ServeTest, AnnouncesTheFolderAndAddress) {
  EXPECT_EQ(server_->host(), "127.0.0.1");
  EXPECT_EQ(fs::path(server_->served_dir()), fs::canonical(www_));
  EXPECT_TRUE(server_->running());
}

TEST_F(ServeTest, RootServesIndexHtml) {
  Response r = get("/");
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.header("content-type").starts_with("text/html")) << r.header("content-type");
  EXPECT_EQ(r.body, file("index.html"));
}

TEST_F(ServeTest, IndexHtmlByName) {
  Response r = get("/index.html");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.header("content-type").starts_with("text/html")) << r.header("content-type");
  EXPECT_EQ(r.body, file("index.html"));
  EXPECT_EQ(r.header("content-length"), std::to_string(file("index.html").size()));
}

TEST_F(ServeTest, WasmIsApplicationWasmAndByteExact) {
  Response r = get("/out.wasm");
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.status, 200);
  // WebAssembly.instantiateStreaming refuses any other type.
  EXPECT_EQ(r.header("content-type"), "application/wasm");
  EXPECT_EQ(r.header("content-length"), std::to_string(fs::file_size(www_ / "out.wasm")));
  EXPECT_TRUE(r.body == file("out.wasm")) << "body differs (" << r.body.size() << " bytes)";
}

TEST_F(ServeTest, ScriptsAreJavaScript) {
  for (const char* path : {"/app.js", "/worker.mjs", "/sub/deep.js"}) {
    Response r = get(path);
    EXPECT_EQ(r.status, 200) << path;
    const std::string type = r.header("content-type");
    EXPECT_TRUE(type.starts_with("text/javascript") || type.starts_with("application/javascript"))
        << path << ": " << type;
  }
  EXPECT_EQ(get("/app.js").body, file("app.js"));
}

TEST_F(ServeTest, OtherTypes) {
  EXPECT_TRUE(get("/xterm.css").header("content-type").starts_with("text/css"));
  EXPECT_TRUE(get("/meta.json").header("content-type").starts_with("application/json"));
  EXPECT_TRUE(get("/notes.txt").header("content-type").starts_with("text/plain"));
  EXPECT_EQ(get("/blob.bin").header("content-type"), "application/octet-stream");
}

TEST_F(ServeTest, EveryResponseIsCrossOriginIsolated) {
  struct Case {
    const char* path;
    const char* method;
  };
  for (const Case& c : std::vector<Case>{{"/", "GET"},
                                         {"/index.html", "GET"},
                                         {"/out.wasm", "GET"},
                                         {"/app.js", "GET"},
                                         {"/worker.mjs", "GET"},
                                         {"/xterm.css", "GET"},
                                         {"/sub/", "GET"},
                                         {"/out.wasm", "HEAD"},
                                         {"/missing.js", "GET"},
                                         {"/missing.js", "HEAD"},
                                         {"/../secret.txt", "GET"},
                                         {"/escape.txt", "GET"},
                                         {"/", "POST"},
                                         {"/", "DELETE"}}) {
    const std::string what = std::string(c.method) + " " + c.path;
    Response r = get(c.path, c.method);
    ASSERT_TRUE(r.error.empty()) << what << ": " << r.error;
    expect_isolation_headers(r, what);
  }
}

TEST_F(ServeTest, MissingFileIs404) {
  for (const char* path : {"/missing.html", "/sub/missing.js", "/nodir/x.wasm", "/out.wasm/x"}) {
    Response r = get(path);
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_EQ(r.body.find("asm"), std::string::npos) << path;
  }
}

TEST_F(ServeTest, DirectoryServesItsIndexHtml) {
  Response r = get("/sub/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, file("sub/index.html"));
  EXPECT_TRUE(r.header("content-type").starts_with("text/html"));
}

TEST_F(ServeTest, DirectoryWithoutIndexIsNotListed) {
  Response r = get("/empty/");
  EXPECT_EQ(r.status, 404);
}

TEST_F(ServeTest, QueryAndFragmentAreIgnored) {
  Response r = get("/app.js?v=123&x=../../secret.txt");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, file("app.js"));
}

TEST_F(ServeTest, PercentEncodedNamesAreDecoded) {
  Response r = get("/a%20b.txt");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "space\n");
  EXPECT_EQ(get("/%61pp.js").body, file("app.js"));
}

TEST_F(ServeTest, DotDotCannotLeaveTheFolder) {
  for (const char* path :
       {"/../secret.txt", "/sub/../../secret.txt", "/./../secret.txt", "//../secret.txt",
        "/..//secret.txt", "/%2e%2e/secret.txt", "/%2E%2E/secret.txt", "/.%2e/secret.txt",
        "/%2e%2e%2fsecret.txt", "/..%2Fsecret.txt", "/sub%2F..%2F..%2Fsecret.txt",
        "/../www2/secret.txt", "/..\\secret.txt", "/%2e%2e%5csecret.txt",
        "/../../../../../../../../etc/passwd", "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd"}) {
    Response r = get(path);
    expect_not_served(r, path);
    EXPECT_EQ(r.body.find("root:"), std::string::npos) << path;
  }
}

TEST_F(ServeTest, DoubleEncodingIsDecodedOnce) {
  // "%252e%252e" is the literal name "%2e%2e", which does not exist.
  expect_not_served(get("/%252e%252e/secret.txt"), "double-encoded");
}

TEST_F(ServeTest, EncodedNulIsRefused) {
  expect_not_served(get("/app.js%00.html"), "%00");
}

TEST_F(ServeTest, SymlinksCannotLeadOutOfTheFolder) {
  expect_not_served(get("/escape.txt"), "symlink to ../secret.txt");
  // A sibling folder whose name starts with the served one's (www2 vs www).
  expect_not_served(get("/sibling.txt"), "symlink to ../www2/secret.txt");
  expect_not_served(get("/up/secret.txt"), "through a symlinked directory");
}

TEST_F(ServeTest, SymlinkInsideTheFolderIsServed) {
  Response r = get("/alias.js");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, file("app.js"));
}

TEST_F(ServeTest, AbsoluteUrlTargetDoesNotEscape) {
  // A request target that is not a path.
  const std::string reply = raw_request(server_->port(),
                                        "GET http://127.0.0.1/../secret.txt HTTP/1.1\r\n"
                                        "Host: 127.0.0.1\r\n\r\n");
  EXPECT_EQ(reply.find(kSecret), std::string::npos) << reply;
  EXPECT_TRUE(reply.starts_with("HTTP/1.1 4") || reply.starts_with("HTTP/1.0 4") ||
              reply.starts_with("HTTP/1.1 200"))
      << reply;
}

TEST_F(ServeTest, HeadGivesHeadersWithoutBody) {
  Response r = get("/out.wasm", "HEAD");
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "application/wasm");
  EXPECT_EQ(r.header("content-length"), std::to_string(fs::file_size(www_ / "out.wasm")));
  EXPECT_TRUE(r.body.empty());
  // On the wire too: nothing after the header block.
  const std::string raw =
      raw_request(server_->port(), "HEAD /app.js HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  ASSERT_NE(raw.find("\r\n\r\n"), std::string::npos) << raw;
  EXPECT_EQ(raw.substr(raw.find("\r\n\r\n") + 4), "");
  EXPECT_TRUE(raw.starts_with("HTTP/1.1 200")) << raw;
}

TEST_F(ServeTest, HeadOfAMissingFileIs404) {
  Response r = get("/missing.wasm", "HEAD");
  EXPECT_EQ(r.status, 404);
  EXPECT_TRUE(r.body.empty());
}

TEST_F(ServeTest, OtherMethodsAreRefused) {
  for (const char* method : {"POST", "PUT", "DELETE", "PATCH"}) {
    Response r = get("/index.html", method);
    ASSERT_TRUE(r.error.empty()) << method << ": " << r.error;
    EXPECT_GE(r.status, 400) << method;
    EXPECT_LT(r.status, 500) << method;
    EXPECT_NE(r.body, file("index.html")) << method;
  }
  // The files are untouched.
  EXPECT_EQ(get("/index.html").status, 200);
}

TEST_F(ServeTest, GarbageRequestGetsAnErrorAndTheServerSurvives) {
  const std::string reply = raw_request(server_->port(), "NONSENSE\r\n\r\n");
  EXPECT_TRUE(reply.starts_with("HTTP/1.1 4") || reply.starts_with("HTTP/1.0 4") || reply.empty())
      << reply;
  raw_request(server_->port(), "");  // connect and hang up
  raw_request(server_->port(), std::string(20000, 'A'));
  EXPECT_TRUE(server_->running());
  EXPECT_EQ(get("/").status, 200);
}

TEST_F(ServeTest, ServesConcurrentClients) {
  const std::string wasm = file("out.wasm");
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 4; ++i) {
        Response r = get("/out.wasm");
        if (r.status == 200 && r.body == wasm) ++ok;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 32);
}

TEST_F(ServeTest, ChangedFilesAreServedFresh) {
  // No caching in the server: a rebuilt out.wasm is what the next load gets.
  write_file(www_ / "changing.txt", "one\n");
  EXPECT_EQ(get("/changing.txt").body, "one\n");
  write_file(www_ / "changing.txt", "two, longer\n");
  EXPECT_EQ(get("/changing.txt").body, "two, longer\n");
}

// ---- starting and failing ----

TEST(Serve, ListensOnTheGivenPort) {
  TempDir dir("c2w-serve");
  write_file(dir.path() / "www" / "index.html", "hello");
  const int port = c2w::testing::free_loopback_port();
  Server server(dir.path() / "www", "127.0.0.1:" + std::to_string(port), dir.path() / "log");
  EXPECT_EQ(server.port(), port);
  Response r = request(port, "/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello");
}

TEST(Serve, BusyPortIsAClearError) {
  TempDir dir("c2w-serve");
  write_file(dir.path() / "index.html", "x");
  // Someone else listens on the port.
  const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(s, 1), 0);
  socklen_t len = sizeof addr;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len);
  const std::string port = std::to_string(ntohs(addr.sin_port));

  Exit e = run_c2w({"serve", dir.path().string(), "--addr", "127.0.0.1:" + port}, 10s);
  ::close(s);
  ASSERT_FALSE(e.timed_out) << "c2w serve kept running on a busy port:\n" << e.output;
  EXPECT_NE(e.status, 0) << e.output;
  EXPECT_NE(e.output.find("127.0.0.1:" + port), std::string::npos) << e.output;
  EXPECT_TRUE(e.output.find("in use") != std::string::npos ||
              e.output.find("cannot listen") != std::string::npos)
      << e.output;
}

TEST(Serve, SecondServerOnTheSamePortFails) {
  TempDir dir("c2w-serve");
  write_file(dir.path() / "www" / "index.html", "first");
  Server first(dir.path() / "www", "127.0.0.1:0", dir.path() / "log");
  ASSERT_GT(first.port(), 0);
  const std::string addr = "127.0.0.1:" + std::to_string(first.port());
  Exit e = run_c2w({"serve", (dir.path() / "www").string(), "--addr", addr}, 10s);
  ASSERT_FALSE(e.timed_out) << e.output;
  EXPECT_NE(e.status, 0) << e.output;
  EXPECT_NE(e.output.find(addr), std::string::npos) << e.output;
  // The first one still serves.
  EXPECT_EQ(request(first.port(), "/").body, "first");
}

TEST(Serve, MissingFolderIsAnError) {
  Exit e = run_c2w({"serve", "/nonexistent/c2w-serve-test", "--addr", "127.0.0.1:0"});
  ASSERT_FALSE(e.timed_out) << e.output;
  EXPECT_NE(e.status, 0);
  EXPECT_NE(e.output.find("/nonexistent/c2w-serve-test"), std::string::npos) << e.output;
}

TEST(Serve, AFileIsNotAFolder) {
  TempDir dir("c2w-serve");
  write_file(dir.path() / "f", "x");
  Exit e = run_c2w({"serve", (dir.path() / "f").string(), "--addr", "127.0.0.1:0"});
  ASSERT_FALSE(e.timed_out) << e.output;
  EXPECT_NE(e.status, 0);
}

TEST(Serve, BadAddrIsAnError) {
  TempDir dir("c2w-serve");
  write_file(dir.path() / "index.html", "x");
  for (const char* addr : {"nonsense", "127.0.0.1", "127.0.0.1:notaport"}) {
    Exit e = run_c2w({"serve", dir.path().string(), "--addr", addr});
    ASSERT_FALSE(e.timed_out) << addr << ": kept running\n" << e.output;
    EXPECT_NE(e.status, 0) << addr;
    EXPECT_NE(e.output.find(addr), std::string::npos) << addr << ": " << e.output;
  }
}

// A port beyond 65535 is refused (getaddrinfo alone would keep its low 16 bits and listen on
// 34463 for 99999).
TEST(Serve, PortOutOfRangeIsAnError) {
  TempDir dir("c2w-serve");
  write_file(dir.path() / "index.html", "x");
  Exit e = run_c2w({"serve", dir.path().string(), "--addr", "127.0.0.1:99999"}, 3s);
  EXPECT_FALSE(e.timed_out) << "c2w serve started on another port:\n" << e.output;
  EXPECT_NE(e.status, 0) << e.output;
}

TEST(Serve, ServeWithoutAFolderIsAUsageError) {
  Exit e = run_c2w({"serve"});
  ASSERT_FALSE(e.timed_out);
  EXPECT_EQ(e.status, 2) << e.output;
}

TEST(Serve, FolderWithoutIndexHtmlWarnsButServes) {
  TempDir dir("c2w-serve");
  write_file(dir.path() / "www" / "out.wasm", std::string("\0asm", 4));
  Server server(dir.path() / "www", "127.0.0.1:0", dir.path() / "log");
  ASSERT_GT(server.port(), 0);
  EXPECT_NE(server.output().find("index.html"), std::string::npos) << server.output();
  EXPECT_EQ(request(server.port(), "/out.wasm").status, 200);
  EXPECT_EQ(request(server.port(), "/").status, 404);
}

TEST(Serve, Ipv6LoopbackWithoutBrackets) {
  TempDir dir("c2w-serve");
  write_file(dir.path() / "index.html", "v6");
  Server server(dir.path(), "::1:0", dir.path() / "log");
  ASSERT_GT(server.port(), 0) << server.output();
  EXPECT_EQ(server.host(), "[::1]");
}

// An IPv6 address in the bracketed form, the one c2w prints in its "serving ... at
// http://[::1]:PORT/" line, works as well as "::1:0".
TEST(Serve, Ipv6LoopbackInBrackets) {
  TempDir dir("c2w-serve");
  write_file(dir.path() / "index.html", "v6");
  Server server(dir.path(), "[::1]:0", dir.path() / "log");
  ASSERT_GT(server.port(), 0) << server.output();
  EXPECT_EQ(server.host(), "[::1]");
}

}  // namespace
