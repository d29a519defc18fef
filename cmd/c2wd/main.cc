// c2wd: a c2w builder. Serves the Control service (Solve, Status, DiskUsage, Prune, Info,
// ReadResult) over gRPC on a unix socket (default) or TCP with TLS, optionally requiring a
// bearer token. SIGTERM/SIGINT cancel running solves and stop the server; the cache stays
// consistent (every cache write is atomic).
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>
#include <thread>

#include "absl/strings/numbers.h"
#include "base/error.h"
#include "base/flags.h"
#include "cache/store.h"
#include "daemon/control_service.h"
#include "distribution/registry_client.h"
#include "ops/registry.h"
#include "proto/limits.h"
#include "runtime/boot.h"
#include "solver/solver.h"

namespace {

namespace fs = std::filesystem;

struct Flags {
  std::string addr;
  std::string tls_cert, tls_key, tls_client_ca;
  std::string token;
  std::string cache_dir;
  unsigned max_solves = 4;
  c2w::distribution::RegistryOptions registry;
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(
      stderr,
      "c2wd: %s\nusage: c2wd [--addr unix:///PATH | tcp://HOST:PORT] [--tls-cert F --tls-key F "
      "[--tls-client-ca F]]\n            [--token T | --token-file F] [--cache-dir D] "
      "[--max-solves N]\n"
      "            [--insecure-registry HOST] [--registry-ca F]\n",
      why.c_str());
  std::exit(2);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw c2w::Error("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Flags parse(int argc, char** argv) {
  Flags f;
  const std::vector<c2w::FlagSpec> table = {
      c2w::text_flag({"--addr"}, &f.addr),
      c2w::text_flag({"--tls-cert"}, &f.tls_cert),
      c2w::text_flag({"--tls-key"}, &f.tls_key),
      c2w::text_flag({"--tls-client-ca"}, &f.tls_client_ca),
      c2w::text_flag({"--token"}, &f.token),
      {{"--token-file"},
       true,
       [&f](const std::string&, const std::string& v) {
         f.token = read_file(v);
         f.token.erase(f.token.find_last_not_of("\r\n ") + 1);
       }},
      c2w::text_flag({"--cache-dir"}, &f.cache_dir),
      {{"--max-solves"},
       true,
       [&f](const std::string& name, const std::string& v) {
         if (!absl::SimpleAtoi(v, &f.max_solves) || f.max_solves == 0)
           throw c2w::UsageError(name + " needs a number of at least 1, got \"" + v + "\"");
       }},
      {{"--insecure-registry"},
       true,
       [&f](const std::string&, const std::string& v) { f.registry.insecure_hosts.insert(v); }},
      c2w::text_flag({"--registry-ca"}, &f.registry.ca_file),
  };
  try {
    const std::vector<std::string> rest =
        c2w::parse_flags(table, argc, argv, 1, "see the usage below");
    if (!rest.empty()) usage("unexpected argument " + rest[0]);
  } catch (const c2w::UsageError& e) {
    usage(e.what());
  }
  if (f.addr.empty()) {
    const char* run = std::getenv("XDG_RUNTIME_DIR");
    f.addr = std::string("unix://") + (run && *run ? run : "/run") + "/c2wd.sock";
  }
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  // The boot op runs the emulator in a child of this same program.
  if (argc > 1 && std::string_view(argv[1]) == "__boot-vm")
    return c2w::runtime::boot_vm_main(argc - 1, argv + 1);
  try {
    Flags f = parse(argc, argv);
    // Signals go to a waiting thread, so handling them is ordinary code.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);

    c2w::cache::Store store(c2w::cache::Store::root_or_default(f.cache_dir));
    f.registry.credentials = c2w::distribution::docker_config_credentials();
    c2w::solver::Solver solver(store, {}, c2w::ops::builder_ops(f.registry));
    c2w::daemon::ControlService service(store, solver,
                                        {f.token, f.max_solves, C2W_VERSION, f.registry});

    grpc::ServerBuilder builder;
    builder.SetMaxReceiveMessageSize(c2w::v1::kMaxMessageBytes);
    std::string listen;
    if (f.addr.starts_with("unix://")) {
      fs::path sock = f.addr.substr(7);
      fs::create_directories(sock.parent_path());
      fs::remove(sock);
      listen = f.addr;
      builder.AddListeningPort(listen, grpc::InsecureServerCredentials());
    } else if (f.addr.starts_with("tcp://")) {
      if (f.tls_cert.empty() || f.tls_key.empty())
        usage(
            "tcp:// needs --tls-cert and --tls-key (a builder on the network must not speak plain "
            "text)");
      grpc::SslServerCredentialsOptions ssl(
          f.tls_client_ca.empty() ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                                  : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
      ssl.pem_key_cert_pairs.push_back({read_file(f.tls_key), read_file(f.tls_cert)});
      if (!f.tls_client_ca.empty()) ssl.pem_root_certs = read_file(f.tls_client_ca);
      listen = f.addr.substr(6);
      builder.AddListeningPort(listen, grpc::SslServerCredentials(ssl));
    } else {
      usage("--addr must be unix:///PATH or tcp://HOST:PORT");
    }
    builder.RegisterService(&service);
    std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
    if (!server)
      throw c2w::Error("cannot listen on " + f.addr,
                       "is the address in use or the directory missing?");
    if (f.addr.starts_with("unix://"))
      ::chmod(f.addr.substr(7).c_str(), 0600);  // only its owner may build
    std::fprintf(stderr, "c2wd: serving on %s (cache %s)\n", f.addr.c_str(), store.root().c_str());

    std::thread signals([&] {
      int sig = 0;
      sigwait(&set, &sig);
      std::fprintf(stderr, "c2wd: %s, cancelling running solves\n",
                   sig == SIGTERM ? "SIGTERM" : "SIGINT");
      service.cancel_all();
      server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(10));
    });
    server->Wait();
    signals.join();
    return 0;
  } catch (const c2w::Error& e) {
    std::fprintf(stderr, "c2wd: error: %s\n", e.what());
    if (!e.hint().empty()) std::fprintf(stderr, "  hint: %s\n", e.hint().c_str());
    return 1;
  }
}
