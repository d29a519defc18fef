// Graph building: ops and their inputs per stage, ARG substitution, dedupe, digests,
// --target, file loading, metadata and describe().
#include <gtest/gtest.h>

#include <fstream>

#include "frontend_support.h"
#include "graph/digest.h"
#include "tests/support/process.h"

namespace c2w::frontend {
namespace {

using c2w::v1::Op;

// A Definition opened up: ops in order, by digest.
struct Graph {
  std::vector<std::string> digests;
  std::map<std::string, Op> ops;
  c2w::v1::Definition def;
  std::vector<std::string> warnings;

  explicit Graph(BuildResult result) : def(std::move(result.definition)) {
    warnings = std::move(result.warnings);
    for (const std::string& bytes : def.ops()) {
      Op op;
      EXPECT_TRUE(op.ParseFromString(bytes));
      std::string d = c2w::xxh3_digest(bytes);
      EXPECT_EQ(d, graph::op_digest(op)) << "stored bytes are not the deterministic form";
      EXPECT_FALSE(ops.contains(d)) << "op listed twice: " << d;
      digests.push_back(d);
      ops[d] = op;
    }
  }
  size_t count(Op::KindCase kind) const {
    size_t n = 0;
    for (const auto& [d, op] : ops) n += op.kind_case() == kind;
    return n;
  }
  const Op& only(Op::KindCase kind) const {
    EXPECT_EQ(count(kind), 1u);
    for (const auto& [d, op] : ops) {
      if (op.kind_case() == kind) return op;
    }
    throw std::runtime_error("no such op");
  }
  const Op& input(const Op& op, int i) const { return ops.at(op.inputs(i).digest()); }
  const Op& result() const { return ops.at(def.result().digest()); }
  std::string bytes() const { return graph::deterministic_bytes(def); }
};

Graph build(std::string_view text, BuildOptions options = {}, context::MemoryLoader loader = {}) {
  return Graph(build_recipe(text, "recipe", loader, options));
}

const char* kFull = R"(ARG IMAGE=busybox
ARG MEMORY=256M
FROM ${IMAGE} AS image
KERNEL debian:linux-source-6.1=6.1.99-1 CONFIG k.config AS kernel
ROOTFS image AS rootfs
  COPY app /opt/app
  ENV GREETING="hello world" FROM_ARG=${MEMORY}
  ENTRYPOINT ["/opt/app/run"]
  CMD --serve
BOOT kernel rootfs MEMORY ${MEMORY} APPEND "quiet" AS boot
PACK boot TARGET browser AS web
)";

context::MemoryLoader full_loader(std::string config = "CONFIG_VIRTIO=y\n") {
  return context::MemoryLoader{
      {"k.config", config}, {"app/run", "#!/bin/sh\n"}, {"app/lib/x", "x"}};
}

TEST(FrontendBuild, EveryStageBecomesItsOpsWithTheirInputs) {
  Graph g = build(kFull, {}, full_loader());
  ASSERT_EQ(g.digests.size(), 8u);  // source, kernel, fetch, unpack, local, rootfs, boot, pack
  for (size_t i = 0; i < g.digests.size(); ++i) {
    for (const auto& in : g.ops[g.digests[i]].inputs()) {
      auto at = std::find(g.digests.begin(), g.digests.end(), in.digest());
      ASSERT_NE(at, g.digests.end());
      EXPECT_LT(static_cast<size_t>(at - g.digests.begin()), i) << "input listed after its user";
    }
  }

  const Op& pack = g.result();
  ASSERT_EQ(pack.kind_case(), Op::kPack);
  EXPECT_EQ(pack.pack().target(), c2w::v1::PackOp::TARGET_BROWSER);
  const Op& boot = g.input(pack, 0);
  ASSERT_EQ(boot.kind_case(), Op::kBoot);
  EXPECT_EQ(boot.boot().memory_bytes(), 256ull << 20);
  EXPECT_EQ(boot.boot().append(), "quiet");

  const Op& kernel = g.input(boot, 0);
  ASSERT_EQ(kernel.kind_case(), Op::kKernel);
  EXPECT_EQ(kernel.kernel().arch(), "riscv64");
  EXPECT_EQ(kernel.kernel().config_fragment(), "CONFIG_VIRTIO=y\n");
  const Op& source = g.input(kernel, 0);
  EXPECT_EQ(source.source().debian().name(), "linux-source-6.1");
  EXPECT_EQ(source.source().debian().version(), "6.1.99-1");

  const Op& rootfs = g.input(boot, 1);
  ASSERT_EQ(rootfs.kind_case(), Op::kRootfs);
  ASSERT_EQ(rootfs.inputs_size(), 3);
  const Op& unpack = g.input(rootfs, 0);
  ASSERT_EQ(unpack.kind_case(), Op::kUnpack);
  const Op& fetch = g.input(rootfs, 1);
  EXPECT_EQ(fetch.fetch().ref(), "docker.io/library/busybox:latest");
  EXPECT_EQ(fetch.fetch().platform(), "linux/riscv64");
  EXPECT_EQ(unpack.inputs(0).digest(), rootfs.inputs(1).digest());

  const auto& r = rootfs.rootfs();
  ASSERT_EQ(r.copies_size(), 1);
  EXPECT_EQ(r.copies(0).src(), "app");
  EXPECT_EQ(r.copies(0).dst(), "/opt/app");
  EXPECT_EQ(r.copies(0).input(), 2u);
  const Op& local = g.input(rootfs, 2);
  EXPECT_EQ(local.local().name(), "app");
  EXPECT_EQ(local.local().content_digest(), full_loader().digest("app"));
  EXPECT_EQ(std::vector<std::string>(r.env().begin(), r.env().end()),
            (std::vector<std::string>{"GREETING=hello world", "FROM_ARG=256M"}));
  EXPECT_TRUE(r.entrypoint_set());
  EXPECT_EQ(r.entrypoint(0), "/opt/app/run");
  EXPECT_TRUE(r.cmd_set());
  EXPECT_EQ(std::vector<std::string>(r.cmd().begin(), r.cmd().end()),
            (std::vector<std::string>{"/bin/sh", "-c", "--serve"}));
  EXPECT_TRUE(g.warnings.empty());
}

TEST(FrontendBuild, MetadataNamesStageLocationAndStep) {
  Graph g = build("ARG T=3.20\n\nFROM alpine:${T} AS base\n");
  ASSERT_EQ(g.digests.size(), 2u);
  const auto& fetch = g.def.metadata().at(g.digests[0]);
  EXPECT_EQ(fetch.stage(), "base");
  EXPECT_EQ(fetch.description(), "[1/2] FROM docker.io/library/alpine:3.20 (linux/riscv64)");
  EXPECT_EQ(fetch.location().file(), "recipe");
  EXPECT_EQ(fetch.location().line(), 3u);
  EXPECT_EQ(fetch.location().column(), 1u);
  EXPECT_EQ(g.def.metadata().at(g.digests[1]).description(),
            "[2/2] UNPACK docker.io/library/alpine:3.20");
  EXPECT_EQ(g.def.result().digest(), g.digests[1]);  // an image stage's result is its rootfs
}

TEST(FrontendBuild, ArgSubstitutionDefaultsOverridesAndForms) {
  const char* recipe = R"(ARG REG=ghcr.io
ARG NAME=owner/tool
ARG TAG
ARG REF=${REG}/${NAME}
ARG ARCH
FROM $REF:${TAG:-v1} PLATFORM linux/${ARCH:-riscv64} AS a
)";
  EXPECT_EQ(build(recipe).only(Op::kFetch).fetch().ref(), "ghcr.io/owner/tool:v1");

  BuildOptions options;
  options.build_args = {{"TAG", "v2"}, {"NAME", "other/tool"}, {"UNUSED", "1"}, {"ZZ", "2"}};
  Graph g = build(recipe, options);
  // NAME is overridden before REF's default is computed from it.
  EXPECT_EQ(g.only(Op::kFetch).fetch().ref(), "ghcr.io/other/tool:v2");
  EXPECT_EQ(g.warnings, (std::vector<std::string>{
                            "build-arg UNUSED is not declared by any ARG in recipe; it was ignored",
                            "build-arg ZZ is not declared by any ARG in recipe; it was ignored"}));

  // ${ARCH:-...} needs ARCH declared: the default covers a missing value, not a typo.
  EXPECT_EQ(testing::build_error("FROM a PLATFORM linux/${ARCH:-riscv64} AS a\n").message(),
            "undefined variable \"ARCH\"");
}

TEST(FrontendBuild, EmptyArgUsesColonDashDefaultButPlainReferenceGivesEmpty) {
  BuildOptions options;
  options.build_args = {{"V", ""}};
  const char* recipe = "ARG V\nFROM busybox:${V:-1.36} AS a\nROOTFS a AS r\n  ENV X=[$V]\n";
  Graph g = build(recipe, options);
  EXPECT_EQ(g.only(Op::kFetch).fetch().ref(), "docker.io/library/busybox:1.36");
  EXPECT_EQ(g.only(Op::kRootfs).rootfs().env(0), "X=[]");
}

TEST(FrontendBuild, QuotingAndEscapesKeepDollarsLiteral) {
  const char* recipe = R"(ARG A=sub
FROM busybox AS a
ROOTFS a AS r
  ENV S='$A' D="$A" E=\$A F="\$A-${A}" G=$5 H=a$
  CMD ["echo", "$A"]
)";
  Graph g = build(recipe);
  const auto& r = g.only(Op::kRootfs).rootfs();
  EXPECT_EQ(std::vector<std::string>(r.env().begin(), r.env().end()),
            (std::vector<std::string>{"S=$A", "D=sub", "E=$A", "F=$A-sub", "G=$5", "H=a$"}));
  // Like Dockerfiles: ENTRYPOINT/CMD are the container's, not substituted at build time.
  EXPECT_EQ(r.cmd(1), "$A");
}

TEST(FrontendBuild, StagesSharingAnImageShareItsVertices) {
  const char* recipe = R"(FROM busybox AS one
FROM docker.io/library/busybox:latest AS two
ROOTFS one AS r1
  ENV WHO=one
ROOTFS two AS r2
  ENV WHO=two
KERNEL debian:linux-source-6.1 CONFIG k.config AS kernel
BOOT kernel r1 MEMORY 256M AS b1
BOOT kernel r2 MEMORY 256M AS b2
)";
  context::MemoryLoader loader{{"k.config", "y"}};
  Graph g2 = build(recipe, {}, loader);
  BuildOptions to_b1;
  to_b1.target = "b1";
  Graph g1 = build(recipe, to_b1, loader);
  // b2 alone: source, kernel, fetch, unpack, rootfs, boot.
  EXPECT_EQ(g2.digests.size(), 6u);
  EXPECT_EQ(g2.count(Op::kFetch), 1u);
  EXPECT_EQ(g2.def.metadata().at(g2.digests[2]).stage(), "two");
  // The two ROOTFS differ, their FROM vertices are the same.
  EXPECT_EQ(g1.only(Op::kFetch).fetch().ref(), g2.only(Op::kFetch).fetch().ref());
  EXPECT_EQ(g1.digests[2], g2.digests[2]);
  EXPECT_EQ(g1.digests[3], g2.digests[3]);
  EXPECT_NE(g1.digests[4], g2.digests[4]);
}

TEST(FrontendBuild, DedupeWithinOneGraph) {
  // One file as the kernel tarball and as two COPY sources: one LocalOp vertex, used thrice.
  const char* recipe = R"(FROM busybox AS a
ROOTFS a AS r
  COPY linux.tar /boot/linux.tar
  COPY files /etc/files
  COPY ./files/ /srv/files
KERNEL linux.tar CONFIG k.config AS kernel
BOOT kernel r MEMORY 256M AS boot
)";
  Graph g = build(recipe, {},
                  context::MemoryLoader{{"k.config", "y"}, {"linux.tar", "tar"}, {"files/a", "a"}});
  // local(linux.tar), kernel, fetch, unpack, local(files), rootfs, boot
  EXPECT_EQ(g.def.ops_size(), 7) << describe(g.def);
  EXPECT_EQ(g.count(Op::kLocal), 2u);
  const Op& rootfs = g.only(Op::kRootfs);
  ASSERT_EQ(rootfs.inputs_size(), 5);
  EXPECT_EQ(rootfs.inputs(3).digest(), rootfs.inputs(4).digest());
  EXPECT_EQ(rootfs.inputs(2).digest(), g.only(Op::kKernel).inputs(0).digest());
  EXPECT_EQ(rootfs.rootfs().copies(2).input(), 4u);
  EXPECT_EQ(rootfs.rootfs().copies(2).src(), "files");
  // The vertex is named after the first stage that needed it (BOOT builds the kernel first).
  EXPECT_EQ(g.def.metadata().at(rootfs.inputs(2).digest()).stage(), "kernel");
}

TEST(FrontendBuild, DefinitionIsStableAcrossRuns) {
  Graph a = build(kFull, {}, full_loader());
  Graph b = build(kFull, {}, full_loader());
  EXPECT_EQ(a.bytes(), b.bytes());
  EXPECT_EQ(a.def.result().digest(), b.def.result().digest());
}

TEST(FrontendBuild, AnyParameterChangeChangesTheResultDigest) {
  std::string base_digest = build(kFull, {}, full_loader()).def.result().digest();
  std::set<std::string> seen = {base_digest};
  auto changed = [&](std::string recipe, BuildOptions options, context::MemoryLoader loader,
                     const char* what) {
    std::string d = build(recipe, options, loader).def.result().digest();
    EXPECT_TRUE(seen.insert(d).second) << what << " did not change the result digest";
  };
  auto with_arg = [](const char* k, const char* v) {
    BuildOptions o;
    o.build_args[k] = v;
    return o;
  };
  auto replace = [](std::string s, const std::string& from, const std::string& to) {
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  changed(kFull, with_arg("IMAGE", "alpine"), full_loader(), "IMAGE");
  changed(kFull, with_arg("MEMORY", "512M"), full_loader(), "MEMORY");
  changed(kFull, {}, full_loader("CONFIG_VIRTIO=n\n"), "config fragment content");
  context::MemoryLoader other_app = full_loader();
  other_app.add("app/run", "#!/bin/sh\nexit 1\n");
  changed(kFull, {}, other_app, "COPY content");
  changed(replace(kFull, "TARGET browser", "TARGET wasi"), {}, full_loader(), "TARGET");
  changed(replace(kFull, "\"quiet\"", "\"debug\""), {}, full_loader(), "APPEND");
  changed(replace(kFull, "hello world", "hello"), {}, full_loader(), "ENV");
  changed(replace(kFull, "/opt/app/run", "/opt/app/start"), {}, full_loader(), "ENTRYPOINT");
  changed(replace(kFull, "CMD --serve", "CMD --serve2"), {}, full_loader(), "CMD");
  changed(replace(kFull, "/opt/app\n", "/srv/app\n"), {}, full_loader(), "COPY destination");
  changed(replace(kFull, "=6.1.99-1", ""), {}, full_loader(), "kernel source version");
  changed(replace(kFull, "CONFIG k.config", "ARCH arm64 CONFIG k.config"), {}, full_loader(),
          "ARCH");
  changed(replace(kFull, "AS image", "PLATFORM linux/amd64 AS image"), {}, full_loader(),
          "PLATFORM");
  // Renaming the stages or the config file with the same content changes nothing.
  context::MemoryLoader renamed = full_loader();
  renamed.add("other.config", "CONFIG_VIRTIO=y\n");
  EXPECT_EQ(
      build(replace(replace(kFull, "k.config", "other.config"), "AS web", "AS site"), {}, renamed)
          .def.result()
          .digest(),
      base_digest);
}

TEST(FrontendBuild, TargetPicksAStageAndBuildsOnlyWhatItNeeds) {
  BuildOptions options;
  options.target = "ROOTFS";  // stage names are case-insensitive
  options.build_args = {{"MEMORY", "not-a-size"}};
  // No k.config in the loader and a bad MEMORY: neither matters for the rootfs stage.
  Graph g = build(kFull, options, context::MemoryLoader{{"app/run", "x"}});
  EXPECT_EQ(g.result().kind_case(), Op::kRootfs);
  EXPECT_EQ(g.def.ops_size(), 4);
  EXPECT_EQ(g.count(Op::kKernel), 0u);

  options.target = "kernel";
  Graph k = build(kFull, options, full_loader());
  EXPECT_EQ(k.result().kind_case(), Op::kKernel);
  EXPECT_EQ(k.def.ops_size(), 2);
}

TEST(FrontendBuild, KernelSources) {
  const char* url =
      "KERNEL https://cdn.kernel.org/linux-6.1.tar.xz SHA256 "
      "ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789 CONFIG k.config AS k\n";
  context::MemoryLoader loader{{"k.config", "y"}, {"src/linux.tar.xz", "tarball bytes"}};
  Graph g = build(url, {}, loader);
  const Op& http = g.input(g.result(), 0);
  EXPECT_EQ(http.source().http().url(), "https://cdn.kernel.org/linux-6.1.tar.xz");
  EXPECT_EQ(http.source().http().sha256(),
            "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");

  Graph local = build("KERNEL ./src//linux.tar.xz CONFIG k.config AS k\n", {}, loader);
  const Op& tarball = local.input(local.result(), 0);
  EXPECT_EQ(tarball.local().name(), "src/linux.tar.xz");
  EXPECT_EQ(tarball.local().content_digest(), loader.digest("src/linux.tar.xz"));
}

TEST(FrontendBuild, DescribeListsOpsInputsAndResult) {
  Graph g = build("FROM busybox AS image\nROOTFS image AS rootfs\n  ENV A=1\n");
  std::string text = describe(g.def);
  std::string expected = "#1 fetch " + g.digests[0] +
                         " stage=image at recipe:1:1\n"
                         "    [1/3] FROM docker.io/library/busybox:latest (linux/riscv64)\n"
                         "    fetch { ref: \"docker.io/library/busybox:latest\" platform: "
                         "\"linux/riscv64\" }\n"
                         "#2 unpack " +
                         g.digests[1] +
                         " stage=image at recipe:1:1\n"
                         "    [2/3] UNPACK docker.io/library/busybox:latest\n"
                         "    inputs: #1\n"
                         "    unpack { }\n"
                         "#3 rootfs " +
                         g.digests[2] +
                         " stage=rootfs at recipe:2:1\n"
                         "    [3/3] ROOTFS image\n"
                         "    inputs: #2 #1\n"
                         "    rootfs { env: \"A=1\" }\n"
                         "result: #3 " +
                         g.digests[2] + "\n";
  EXPECT_EQ(text, expected);
}

TEST(FrontendBuild, NormalizesImageRefs) {
  EXPECT_EQ(normalize_image_ref("busybox"), "docker.io/library/busybox:latest");
  EXPECT_EQ(normalize_image_ref("index.docker.io/library/busybox:1"),
            "docker.io/library/busybox:1");
  EXPECT_EQ(normalize_image_ref("user/app"), "docker.io/user/app:latest");
  EXPECT_EQ(normalize_image_ref("localhost:5000/app"), "localhost:5000/app:latest");
  const std::string digest = "sha256:" + std::string(64, 'a');
  EXPECT_EQ(normalize_image_ref("ghcr.io/o/r@" + digest), "ghcr.io/o/r@" + digest);
  EXPECT_EQ(normalize_image_ref("ghcr.io/o/r:t@" + digest), "ghcr.io/o/r@" + digest);
  EXPECT_THROW(normalize_image_ref("ghcr.io/o/r@sha256:abcd"), std::invalid_argument);
  EXPECT_EQ(normalize_image_ref("docker://alpine:3.20"), "docker.io/library/alpine:3.20");
  EXPECT_EQ(normalize_image_ref("oci-layout:/tmp/x:tag"), "oci-layout:/tmp/x:tag");
  EXPECT_THROW(normalize_image_ref(""), std::invalid_argument);
  EXPECT_THROW(normalize_image_ref("a:b:c"), std::invalid_argument);
  EXPECT_THROW(normalize_image_ref("a@sha256"), std::invalid_argument);
  EXPECT_THROW(normalize_image_ref("a//b"), std::invalid_argument);
}

TEST(FrontendBuild, ParsesMemorySizes) {
  EXPECT_EQ(parse_memory_size("256M"), 256ull << 20);
  EXPECT_EQ(parse_memory_size("1g"), 1ull << 30);
  EXPECT_EQ(parse_memory_size("512MiB"), 512ull << 20);
  EXPECT_EQ(parse_memory_size("65536K"), 64ull << 20);
  EXPECT_EQ(parse_memory_size("2GB"), 2ull << 30);
  EXPECT_EQ(parse_memory_size("268435456"), 256ull << 20);
  EXPECT_FALSE(parse_memory_size("256"));  // not whole pages
  EXPECT_FALSE(parse_memory_size("M"));
  // base/size.h's syntax: a fraction that gives whole pages is a size; the range is the
  // builder's own check (MEMORY between 16M and 3G).
  EXPECT_EQ(parse_memory_size("1.5G"), 1536ull << 20);
  EXPECT_EQ(parse_memory_size("12T"), 12ull << 40);
  EXPECT_FALSE(parse_memory_size("1.0001G"));  // not whole pages
  EXPECT_FALSE(parse_memory_size("-1G"));
  EXPECT_FALSE(parse_memory_size("99999999999999G"));
}

TEST(FrontendBuild, DirectoryLoaderReadsDigestsAndConfines) {
  c2w::testing::TempDir dir;
  auto write = [&](const std::string& rel, const std::string& text) {
    std::filesystem::create_directories((dir.path() / rel).parent_path());
    std::ofstream(dir.path() / rel) << text;
  };
  write("ctx/kernel/riscv64.config", "CONFIG_A=y\n");
  write("ctx/app/bin/run", "run");
  write("ctx/app/etc/conf", "conf");
  write("secret", "s");
  std::filesystem::create_symlink("../secret", dir.path() / "ctx/escape");
  context::DirectoryLoader loader(dir.path() / "ctx");
  EXPECT_EQ(loader.read_text("kernel/riscv64.config"), "CONFIG_A=y\n");
  EXPECT_EQ(loader.read_text("./kernel/../kernel/riscv64.config"), "CONFIG_A=y\n");
  std::string tree = loader.digest("app");
  EXPECT_TRUE(graph::is_digest(tree));
  EXPECT_EQ(loader.digest("app/"), tree);
  write("ctx/app/etc/conf", "changed");
  EXPECT_NE(loader.digest("app"), tree);
  std::filesystem::rename(dir.path() / "ctx/app/etc/conf", dir.path() / "ctx/app/etc/conf2");
  std::string renamed = loader.digest("app");
  write("ctx/app/etc/conf2", "changed");
  EXPECT_EQ(loader.digest("app"), renamed);
  EXPECT_NE(loader.digest("app/bin/run"), loader.digest("app/etc/conf2"));
  EXPECT_THROW(loader.read_text("../secret"), std::invalid_argument);
  EXPECT_THROW(loader.read_text("/etc/passwd"), std::invalid_argument);
  EXPECT_THROW(loader.read_text("escape"), std::runtime_error);
  EXPECT_THROW(loader.digest("missing"), std::runtime_error);
  context::DirectoryLoader with_slash(dir.path().string() + "/ctx/");
  EXPECT_EQ(with_slash.read_text("kernel/riscv64.config"), "CONFIG_A=y\n");

  // The same content digests the same in memory as on disk (client and remote builder agree).
  namespace fs = std::filesystem;
  for (const char* d : {"ctx/app", "ctx/app/bin", "ctx/app/etc"}) {
    fs::permissions(dir.path() / d, static_cast<fs::perms>(0755));
  }
  for (const char* f : {"ctx/app/bin/run", "ctx/app/etc/conf2"}) {
    fs::permissions(dir.path() / f, static_cast<fs::perms>(0644));
  }
  context::MemoryLoader memory{{"app/bin/run", "run"}, {"app/etc/conf2", "changed"}};
  EXPECT_EQ(memory.digest("app"), loader.digest("app"));
  EXPECT_EQ(memory.digest("app/bin/run"), loader.digest("app/bin/run"));
  fs::permissions(dir.path() / "ctx/app/bin/run", static_cast<fs::perms>(0755));
  EXPECT_NE(memory.digest("app"), loader.digest("app"));  // the mode is content too
  memory.add("app/bin/run", "run", 0755);
  EXPECT_EQ(memory.digest("app"), loader.digest("app"));

  // The builder reports loader failures at the recipe line that named the path.
  std::string recipe = "KERNEL debian:linux-source-6.1 CONFIG escape AS k\n";
  try {
    build_recipe(recipe, "r", loader, {});
    FAIL() << "no error";
  } catch (const RecipeError& e) {
    EXPECT_EQ(e.column(), 39u);
    EXPECT_NE(e.message().find("resolves outside the context"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace c2w::frontend
