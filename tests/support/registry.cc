#include "tests/support/registry.h"

#include <curl/curl.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace c2w::testing {

namespace fs = std::filesystem;

namespace {

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void must_run(const std::vector<std::string>& argv) {
  CommandResult r = run_command(argv);
  if (r.exit_code != 0)
    throw std::runtime_error(argv[0] + " failed (" + std::to_string(r.exit_code) +
                             "): " + r.output);
}

}  // namespace

void make_self_signed_certificate(const fs::path& dir) {
  fs::create_directories(dir);
  // A certificate for 127.0.0.1 (and localhost) that is its own CA: clients trust server.crt.
  must_run({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
            "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout",
            (dir / "server.key").string(), "-out", (dir / "server.crt").string()});
}

LoopbackRegistry::LoopbackRegistry(Options options)
    : options_(std::move(options)), dir_("c2w-registry") {
  if (!options_.user.empty() && !options_.tls)
    throw std::invalid_argument("basic auth needs tls (the registry refuses it over plain HTTP)");
  int port = free_loopback_port();
  host_ = "127.0.0.1:" + std::to_string(port);
  fs::path dir = dir_.path();
  fs::create_directories(dir / "storage");

  std::ofstream config(dir / "config.yml");
  config << "version: 0.1\n"
         << "log:\n  level: info\n  accesslog:\n    disabled: true\n"
         << "storage:\n  filesystem:\n    rootdirectory: " << (dir / "storage").string() << "\n"
         << "  delete:\n    enabled: true\n"
         << "http:\n  addr: " << host_ << "\n";
  if (options_.tls) {
    make_certificate();
    config << "  tls:\n    certificate: " << (dir / "certs" / "server.crt").string() << "\n"
           << "    key: " << (dir / "certs" / "server.key").string() << "\n";
  }
  if (!options_.user.empty()) {
    CommandResult r = run_command({"htpasswd", "-Bbn", options_.user, options_.password});
    if (r.exit_code != 0) throw std::runtime_error("htpasswd failed: " + r.output);
    std::ofstream(dir / "htpasswd") << r.output;
    config << "auth:\n  htpasswd:\n    realm: c2w-test\n    path: " << (dir / "htpasswd").string()
           << "\n";
  }
  config.close();
  process_ =
      BackgroundProcess({"docker-registry", "serve", (dir / "config.yml").string()}, log_file());
  wait_until_ready();
}

void LoopbackRegistry::make_certificate() {
  make_self_signed_certificate(dir_.path() / "certs");
  // Kept apart from the key: skopeo's cert dir takes every *.key for a client key.
  fs::create_directories(ca_certificate().parent_path());
  fs::copy_file(dir_.path() / "certs" / "server.crt", ca_certificate());
}

void LoopbackRegistry::wait_until_ready() {
  std::string url = base_url() + "/v2/";
  for (int i = 0; i < 100; ++i) {
    if (!process_.running())
      throw std::runtime_error("docker-registry exited: " + read_file(log_file()));
    CURL* curl = curl_easy_init();
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 1000L);
    if (options_.tls) curl_easy_setopt(curl, CURLOPT_CAINFO, ca_certificate().c_str());
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    if (rc == CURLE_OK && (status == 200 || status == 401)) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  throw std::runtime_error("docker-registry did not answer on " + url + ": " +
                           read_file(log_file()));
}

void LoopbackRegistry::push(const fs::path& layout, const std::string& tag,
                            const std::string& repo_and_tag) {
  std::vector<std::string> argv = {"skopeo", "--insecure-policy", "copy", "-q", "--all"};
  if (options_.tls) {
    argv.push_back("--dest-cert-dir=" + ca_certificate().parent_path().string());
  } else {
    argv.push_back("--dest-tls-verify=false");
  }
  if (!options_.user.empty())
    argv.push_back("--dest-creds=" + options_.user + ":" + options_.password);
  argv.push_back("oci:" + layout.string() + ":" + tag);
  argv.push_back("docker://" + host_ + "/" + repo_and_tag);
  must_run(argv);
}

fs::path fixture(const std::string& name) {
  const char* root = std::getenv("C2W_FIXTURES");
  if (!root || !*root)
    throw std::runtime_error("C2W_FIXTURES is not set: run tests through ctest (it builds them)");
  fs::path path = fs::path(root) / name;
  if (!fs::exists(path))
    throw std::runtime_error("fixture " + path.string() + " is missing: run the fixtures test");
  return path;
}

}  // namespace c2w::testing
