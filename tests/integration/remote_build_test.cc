// Remote builds with everything a client has on its own machine, end to end against real c2wd
// processes: COPY sources and an OCI layout are uploaded once (a rebuild sends nothing, an
// edit sends one blob) and give the bytes of an in-process build; two builders with separate
// caches share one registry cache, the second running no cached vertex; hostile uploads and
// requests for the builder's own files are refused without hurting the daemon.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <map>
#include <regex>
#include <thread>

#include "base/hash.h"
#include "c2w/v1/control.grpc.pb.h"
#include "graph/digest.h"
#include "oci/sha256.h"
#include "tests/support/c2wd.h"
#include "tests/support/copy_context.h"
#include "tests/support/cpio.h"
#include "tests/support/process.h"
#include "tests/support/registry.h"
#include "tests/support/tree_compare.h"

namespace {

namespace fs = std::filesystem;
using c2w::testing::C2wd;
using c2w::testing::CommandResult;
using c2w::testing::fixture;
using c2w::testing::slurp;
using c2w::testing::TempDir;

bool contains(const std::string& s, const std::string& what) {
  return s.find(what) != std::string::npos;
}

CommandResult c2w_run(std::vector<std::string> args) {
  args.insert(args.begin(), C2W_BINARY_PATH);
  return c2w::testing::run_command(args);
}

// "#N NAME" lines of --progress=plain, by N.
std::map<std::string, std::string> vertex_names(const std::string& output) {
  std::map<std::string, std::string> names;
  std::regex start(R"(^#(\d+) (\[.*)$)");
  std::smatch m;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);)
    if (std::regex_match(line, m, start) && !names.count(m[1])) names[m[1]] = m[2];
  return names;
}

// The names of the vertices that ran ("#N DONE"), not served from a cache.
std::vector<std::string> executed(const std::string& output) {
  auto names = vertex_names(output);
  std::vector<std::string> out;
  std::regex done(R"(^#(\d+) DONE .*$)");
  std::smatch m;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);)
    if (std::regex_match(line, m, done)) out.push_back(names[m[1]]);
  return out;
}

std::map<std::string, c2w::testing::CpioEntry> rootfs_files(const fs::path& dir) {
  std::map<std::string, c2w::testing::CpioEntry> by_name;
  for (auto& e : c2w::testing::read_cpio(dir / "rootfs.cpio.zst")) by_name[e.name] = e;
  return by_name;
}

TEST(RemoteBuild, LocalInputsAreSentOnceAndGiveTheBytesOfAnInProcessBuild) {
  TempDir dir;
  const fs::path ctx = dir.path() / "ctx";
  c2w::testing::make_copy_context(ctx);
  fs::permissions(ctx / "app" / "lib", fs::perms(0750));
  fs::create_symlink("lib/x", ctx / "app" / "x-link");
  auto build = [&](const std::string& out, std::vector<std::string> extra) {
    std::vector<std::string> args = {"--cache-dir",
                                     (dir.path() / "client-cache").string(),
                                     "--progress=plain",
                                     "--recipe",
                                     (ctx / "recipe").string(),
                                     "--target",
                                     "rootfs",
                                     "--output",
                                     "type=local,dest=" + (dir.path() / out).string(),
                                     "oci-layout:" + (fixture("hello") / "layout").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return c2w_run(args);
  };
  CommandResult local = build("in-process", {});
  ASSERT_EQ(local.exit_code, 0) << local.output;

  C2wd d(dir.path() / "builder-cache");
  CommandResult first = build("remote1", {"--builder", d.address});
  ASSERT_EQ(first.exit_code, 0) << first.output << d.log();
  EXPECT_TRUE(contains(first.output, "[client] local inputs to " + d.address)) << first.output;
  std::smatch sent;
  ASSERT_TRUE(std::regex_search(first.output, sent, std::regex(R"(sent (\d+) of (\d+) blobs)")))
      << first.output;
  EXPECT_EQ(sent[1], sent[2]) << "an empty builder needs every blob";
  EXPECT_GE(std::stoi(sent[1]), 6) << "manifest, config, layer, run, x, motd";
  EXPECT_EQ(slurp(dir.path() / "remote1" / "rootfs.cpio.zst"),
            slurp(dir.path() / "in-process" / "rootfs.cpio.zst"));
  auto files = rootfs_files(dir.path() / "remote1");
  EXPECT_EQ(files["c2w/rootfs/opt/app/run"].perm, 0755u);
  EXPECT_EQ(files["c2w/rootfs/opt/app/lib"].perm, 0750u);
  EXPECT_EQ(files["c2w/rootfs/opt/app/x-link"].symlink, "lib/x");

  // Unchanged inputs: nothing travels, the upload step reads as CACHED.
  CommandResult second = build("remote2", {"--builder", d.address});
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_TRUE(contains(second.output, "sent 0 of " + std::string(sent[2]) + " blobs"))
      << second.output;
  EXPECT_TRUE(contains(second.output, "#1 CACHED")) << second.output;

  // One edited file: one blob travels and the rootfs has the new bytes.
  std::ofstream(ctx / "motd") << "changed\n";
  CommandResult third = build("remote3", {"--builder", d.address});
  ASSERT_EQ(third.exit_code, 0) << third.output;
  EXPECT_TRUE(contains(third.output, "sent 1 of " + std::string(sent[2]) + " blobs"))
      << third.output;
  EXPECT_EQ(rootfs_files(dir.path() / "remote3")["c2w/rootfs/etc/motd"].data, "changed\n");
}

TEST(RemoteBuild, ADockerArchiveIsUploadedToo) {
  TempDir dir;
  C2wd d(dir.path() / "builder-cache");
  auto build = [&](const std::string& out, std::vector<std::string> extra) {
    std::vector<std::string> args = {
        "--cache-dir",
        (dir.path() / out / "cache").string(),
        "--progress=plain",
        "--target",
        "rootfs",
        "--output",
        "type=local,dest=" + (dir.path() / out / "o").string(),
        "docker-archive:" + (fixture("busybox") / "busybox.tar").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return c2w_run(args);
  };
  CommandResult remote = build("remote", {"--builder", d.address});
  ASSERT_EQ(remote.exit_code, 0) << remote.output << d.log();
  EXPECT_TRUE(contains(remote.output, "from the client's upload")) << remote.output;
  CommandResult local = build("local", {});
  ASSERT_EQ(local.exit_code, 0) << local.output;
  EXPECT_EQ(slurp(dir.path() / "remote" / "o" / "rootfs.cpio.zst"),
            slurp(dir.path() / "local" / "o" / "rootfs.cpio.zst"));
}

// A tree result (the unpacked rootfs) comes through as a tar stream and exports like one built
// in process: same names, contents, modes, mtimes and hard links.
TEST(RemoteBuild, ATreeResultArrivesWhole) {
  TempDir dir;
  C2wd d(dir.path() / "builder-cache");
  const std::string image = "oci-layout:" + (fixture("busybox") / "layout").string();
  auto build = [&](const std::string& out, std::vector<std::string> extra) {
    std::vector<std::string> args = {"--cache-dir",
                                     (dir.path() / out / "cache").string(),
                                     "--progress=plain",
                                     "--target",
                                     "image",
                                     "--output",
                                     "type=local,dest=" + (dir.path() / out / "o").string(),
                                     image};
    args.insert(args.end(), extra.begin(), extra.end());
    return c2w_run(args);
  };
  CommandResult remote = build("remote", {"--builder", d.address});
  ASSERT_EQ(remote.exit_code, 0) << remote.output << d.log();
  CommandResult local = build("local", {});
  ASSERT_EQ(local.exit_code, 0) << local.output;
  auto listing = [](const fs::path& root) {
    std::map<std::string, std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
      struct stat st {};
      ::lstat(e.path().c_str(), &st);
      const std::string name = e.path().lexically_relative(root).string();
      // The unpack op writes its manifest when it runs: two unpacks, two times.
      const std::string mtime = name == "metadata.jsonl" ? ""
                                                         : std::to_string(st.st_mtim.tv_sec) + "." +
                                                               std::to_string(st.st_mtim.tv_nsec);
      std::string what =
          std::to_string(st.st_mode) + " " + mtime + " " + std::to_string(st.st_nlink);
      if (S_ISREG(st.st_mode)) what += " " + c2w::oci::Sha256::of_file(e.path());
      if (S_ISLNK(st.st_mode)) what += " -> " + fs::read_symlink(e.path()).string();
      out[name] = what;
    }
    return out;
  };
  auto want = listing(dir.path() / "local" / "o");
  EXPECT_GT(want.size(), 100u);
  EXPECT_EQ(listing(dir.path() / "remote" / "o"), want);
}

// Eight clients with their own caches ask one empty builder for the same rootfs at once: they
// all upload the same image, each step runs once on the builder, and all get the same bytes.
TEST(RemoteBuild, EightClientsAtOnceRunEachStepOnce) {
  TempDir dir;
  C2wd d(dir.path() / "builder-cache");
  const std::string image = "oci-layout:" + (fixture("busybox") / "layout").string();
  std::vector<CommandResult> results(8);
  std::vector<std::thread> clients;
  for (size_t i = 0; i < results.size(); ++i)
    clients.emplace_back([&, i] {
      const fs::path mine = dir.path() / ("client" + std::to_string(i));
      results[i] = c2w_run({"--builder", d.address, "--cache-dir", (mine / "cache").string(),
                            "--progress=plain", "--target", "rootfs", "--output",
                            "type=local,dest=" + (mine / "o").string(), image});
    });
  for (auto& c : clients) c.join();
  int unpacks = 0, rootfs = 0;  // how many clients saw the step run (not CACHED)
  for (const CommandResult& r : results) {
    ASSERT_EQ(r.exit_code, 0) << r.output << d.log();
    for (const std::string& name : executed(r.output)) {
      unpacks += contains(name, "] UNPACK ");
      rootfs += contains(name, "] ROOTFS ");
    }
  }
  EXPECT_EQ(unpacks, 1);
  EXPECT_EQ(rootfs, 1);
  const std::string want = slurp(dir.path() / "client0" / "o" / "rootfs.cpio.zst");
  ASSERT_FALSE(want.empty());
  for (size_t i = 1; i < results.size(); ++i)
    EXPECT_EQ(slurp(dir.path() / ("client" + std::to_string(i)) / "o" / "rootfs.cpio.zst"), want);
}

TEST(RemoteBuild, TwoBuildersWithSeparateCachesShareOneRegistry) {
  c2w::testing::LoopbackRegistry registry;
  TempDir dir;
  // Builder A has the kernel (a copy of the fixture cache); builder B starts empty.
  ASSERT_TRUE(c2w::testing::copy_cache(fixture("c2w-cache"), dir.path() / "cache-a"));
  C2wd a(dir.path() / "cache-a", {"--insecure-registry", registry.host()});
  C2wd b(dir.path() / "cache-b", {"--insecure-registry", registry.host()});
  const std::string ref = registry.host() + "/c2w/cache:busybox";
  const std::string image = "oci-layout:" + (fixture("busybox") / "layout").string();
  auto build = [&](const C2wd& d, const std::string& out, const std::string& cache_flag) {
    return c2w_run({"--builder", d.address, "--cache-dir", (dir.path() / "client").string(),
                    "--progress=plain", cache_flag, "type=registry,ref=" + ref, image,
                    (dir.path() / out).string()});
  };
  CommandResult first = build(a, "a.wasm", "--cache-to");
  ASSERT_EQ(first.exit_code, 0) << first.output << a.log();
  EXPECT_TRUE(contains(first.output, "exported the cache (")) << first.output;
  EXPECT_TRUE(contains(first.output, "to " + ref)) << first.output;

  CommandResult second = build(b, "b.wasm", "--cache-from");
  ASSERT_EQ(second.exit_code, 0) << second.output << b.log();
  // Only what always runs (the volatile source and fetch steps, and the client's upload) ran;
  // kernel, unpack, rootfs, boot and pack came from the registry.
  for (const std::string& name : executed(second.output))
    EXPECT_TRUE(name.starts_with("[client]") || contains(name, "FROM ") ||
                contains(name, "KERNEL source"))
        << name << " ran on builder B\n"
        << second.output;
  std::regex cached(R"(^#\d+ CACHED$)", std::regex::multiline);
  EXPECT_GE(std::distance(std::sregex_iterator(second.output.begin(), second.output.end(), cached),
                          std::sregex_iterator()),
            5)
      << second.output;
  EXPECT_TRUE(contains(second.output, "from the shared cache")) << second.output;
  const std::string bytes = slurp(dir.path() / "a.wasm");
  ASSERT_GT(bytes.size(), 1u << 20);
  EXPECT_EQ(slurp(dir.path() / "b.wasm"), bytes);

  // A type=local cache with --builder is the builder's directory, not ours: refused.
  CommandResult refused = c2w_run(
      {"--builder", b.address, "--cache-dir", (dir.path() / "client").string(), "--cache-to",
       "type=local,dest=" + (dir.path() / "c").string(), image, (dir.path() / "c.wasm").string()});
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
}

// ---- hostile requests, straight over gRPC ----

struct Stub {
  std::unique_ptr<c2w::v1::Control::Stub> stub;
  explicit Stub(const std::string& address)
      : stub(c2w::v1::Control::NewStub(
            grpc::CreateChannel(address, grpc::InsecureChannelCredentials()))) {}

  grpc::Status put(const std::string& digest, int64_t size, const std::vector<std::string>& chunks,
                   c2w::v1::PutBlobResponse* resp = nullptr) {
    grpc::ClientContext ctx;
    c2w::v1::PutBlobResponse r;
    auto w = stub->PutBlob(&ctx, &r);
    c2w::v1::PutBlobRequest header;
    header.set_digest(digest);
    header.set_size_bytes(size);
    bool open = w->Write(header);
    for (const std::string& c : chunks) {
      c2w::v1::PutBlobRequest m;
      m.set_data(c);
      open = open && w->Write(m);
    }
    if (open) w->WritesDone();
    grpc::Status st = w->Finish();
    if (resp) *resp = r;
    return st;
  }

  // Solves a graph whose result is `op`, with `extra` filled into the request; the final status.
  grpc::Status solve(const c2w::v1::Op& op, const c2w::v1::SolveRequest& extra) {
    c2w::v1::SolveRequest req = extra;
    std::string bytes = c2w::graph::deterministic_bytes(op);
    req.mutable_definition()->add_ops(bytes);
    req.mutable_definition()->mutable_result()->set_digest(c2w::graph::op_digest(op));
    grpc::ClientContext ctx;
    auto reader = stub->Solve(&ctx, req);
    c2w::v1::SolveResponse resp;
    while (reader->Read(&resp)) {
    }
    return reader->Finish();
  }
};

TEST(RemoteBuild, HostileUploadsAndRequestsAreRefused) {
  TempDir dir;
  C2wd d(dir.path() / "cache");
  Stub s(d.address);
  const std::string hello = c2w::oci::Sha256::of("hello");

  grpc::Status st = s.put(hello, 5, {"hellx"});
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(contains(st.error_message(), "do not match")) << st.error_message();
  st = s.put(hello, int64_t(1) << 60, {"hello"});
  EXPECT_EQ(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << st.error_message();
  EXPECT_TRUE(contains(st.error_message(), "free")) << st.error_message();
  st = s.put(hello, 3, {"hel", "lo"});
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(contains(st.error_message(), "more bytes than")) << st.error_message();
  st = s.put(hello, 9, {"hello"});
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(contains(st.error_message(), "ended after 5")) << st.error_message();
  st = s.put("sha256:../../etc/passwd", 5, {"hello"});
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  {
    grpc::ClientContext ctx;
    c2w::v1::MissingBlobsRequest q;
    q.add_digests(hello);
    c2w::v1::MissingBlobsResponse r;
    ASSERT_TRUE(s.stub->MissingBlobs(&ctx, q, &r).ok());
    ASSERT_EQ(r.missing_size(), 1) << "nothing bad was kept";
  }
  c2w::v1::PutBlobResponse put;
  ASSERT_TRUE(s.put(hello, 5, {"he", "llo"}, &put).ok());
  EXPECT_FALSE(put.existed());
  ASSERT_TRUE(s.put(hello, 5, {"hello"}, &put).ok());
  EXPECT_TRUE(put.existed());
  {
    grpc::ClientContext ctx;
    c2w::v1::MissingBlobsRequest q;
    q.add_digests(hello);
    q.add_digests("not-a-digest");
    c2w::v1::MissingBlobsResponse r;
    EXPECT_EQ(s.stub->MissingBlobs(&ctx, q, &r).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }

  // A local file whose tree would write outside its directory, through a symlink or `..`.
  auto local_op = [](const std::string& digest) {
    c2w::v1::Op op;
    op.mutable_local()->set_name("app");
    op.mutable_local()->set_content_digest(digest);
    return op;
  };
  auto with_entries =
      [&](const std::string& digest,
          std::vector<std::tuple<c2w::v1::LocalEntry::Kind, std::string, std::string>> entries) {
        c2w::v1::SolveRequest req;
        auto* f = req.add_local_files();
        f->set_content_digest(digest);
        for (auto& [kind, path, value] : entries) {
          auto* e = f->add_entries();
          e->set_kind(kind);
          e->set_path(path);
          e->set_mode(0644);
          (kind == c2w::v1::LocalEntry::KIND_FILE ? e->mutable_blob() : e->mutable_target())
              ->assign(value);
        }
        return req;
      };
  using K = c2w::v1::LocalEntry;
  const std::string digest = "xxh3:0123456789abcdef0123456789abcdef";
  st = s.solve(local_op(digest), with_entries(digest, {{K::KIND_DIRECTORY, ".", ""},
                                                       {K::KIND_SYMLINK, "etc", "/etc"},
                                                       {K::KIND_FILE, "etc/passwd", hello}}));
  EXPECT_FALSE(st.ok());
  EXPECT_TRUE(contains(st.error_message(), "the parent of etc/passwd is not a directory entry"))
      << st.error_message();
  st = s.solve(local_op(digest), with_entries(digest, {{K::KIND_DIRECTORY, ".", ""},
                                                       {K::KIND_FILE, "../escape", hello}}));
  EXPECT_TRUE(contains(st.error_message(), "leaves the context")) << st.error_message();
  st = s.solve(local_op(digest), with_entries(digest, {{K::KIND_FILE, ".", hello}}));
  EXPECT_TRUE(contains(st.error_message(), "its content gives")) << st.error_message();
  EXPECT_FALSE(fs::exists("/escape"));

  // A local image the client did not send: the builder does not read its own disk for it.
  c2w::v1::Op fetch;
  fetch.mutable_fetch()->set_ref("oci-layout:" + (fixture("busybox") / "layout").string());
  fetch.mutable_fetch()->set_platform("linux/riscv64");
  st = s.solve(fetch, {});
  EXPECT_TRUE(contains(st.error_message(), "is on the client's machine")) << st.error_message();
  c2w::v1::SolveRequest unsent;
  unsent.add_local_images()->set_ref(fetch.fetch().ref());
  unsent.mutable_local_images(0)->set_manifest(c2w::oci::Sha256::of("no such manifest"));
  st = s.solve(fetch, unsent);
  EXPECT_TRUE(contains(st.error_message(), "was not uploaded")) << st.error_message();

  // An op kind this daemon does not know.
  st = s.solve(c2w::v1::Op{}, {});
  EXPECT_FALSE(st.ok());
  EXPECT_TRUE(contains(st.error_message(), "does not have")) << st.error_message();

  grpc::ClientContext ictx;
  c2w::v1::InfoResponse info;
  ASSERT_TRUE(s.stub->Info(&ictx, {}, &info).ok()) << "the daemon survives\n" << d.log();
}

}  // namespace
