// client::parse_options and client::parse_size (client/options.h): every flag and alias the
// parser accepts today, in the `--flag value` and `--flag=value` forms, repeated flags, the
// C2W_BUILDER / C2W_BUILDER_TOKEN environment, the subcommands, the --output / --cache-to /
// --cache-from specs, and each UsageError. A safety net for rewriting the parser: what these
// tests pin is what users type today.
#include "client/options.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace {

using c2w::client::Options;
using c2w::client::parse_options;
using c2w::client::parse_size;
using c2w::client::UsageError;

// Keeps C2W_BUILDER and C2W_BUILDER_TOKEN out of (or set in) the parser's environment.
class OptionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"C2W_BUILDER", "C2W_BUILDER_TOKEN"}) {
      if (const char* v = std::getenv(name)) saved_.emplace_back(name, std::string(v));
      ::unsetenv(name);
    }
  }
  void TearDown() override {
    ::unsetenv("C2W_BUILDER");
    ::unsetenv("C2W_BUILDER_TOKEN");
    for (const auto& [k, v] : saved_) ::setenv(k.c_str(), v.c_str(), 1);
  }

  static Options parse(std::vector<std::string> args) {
    args.insert(args.begin(), "c2w");
    std::vector<const char*> argv;
    for (const std::string& a : args) argv.push_back(a.c_str());
    argv.push_back(nullptr);
    return parse_options(static_cast<int>(args.size()), argv.data());
  }

  // The UsageError parse(args) throws ("" message and a failure when it throws none).
  static UsageError usage_error(const std::vector<std::string>& args) {
    try {
      parse(args);
    } catch (const UsageError& e) {
      return e;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "not a UsageError: " << e.what();
      return UsageError("");
    }
    std::string joined;
    for (const std::string& a : args) joined += " " + a;
    ADD_FAILURE() << "no UsageError for c2w" << joined;
    return UsageError("");
  }

  static bool mentions(const UsageError& e, const std::string& what) {
    return std::string(e.what()).find(what) != std::string::npos;
  }

 private:
  std::vector<std::pair<std::string, std::string>> saved_;
};

// ---- defaults and positionals ----

TEST_F(OptionsTest, Defaults) {
  Options o = parse({"busybox"});
  EXPECT_EQ(o.command, "convert");
  EXPECT_EQ(o.image, "busybox");
  EXPECT_EQ(o.output, "");  // out.wasm is the command's default, not the parser's
  EXPECT_EQ(o.recipe_file, "");
  EXPECT_TRUE(o.build_args.empty());
  EXPECT_EQ(o.target_arch, "");
  EXPECT_EQ(o.platform, "");
  EXPECT_EQ(o.target_stage, "");
  EXPECT_EQ(o.output_type, "");
  EXPECT_EQ(o.output_dest, "");
  EXPECT_EQ(o.output_ref, "");
  EXPECT_EQ(o.cache_to.type, "");
  EXPECT_EQ(o.cache_from.type, "");
  EXPECT_EQ(o.cache_dir, "");
  EXPECT_FALSE(o.no_cache);
  EXPECT_FALSE(o.debug_image);
  EXPECT_EQ(o.progress, "auto");
  EXPECT_TRUE(o.insecure_registries.empty());
  EXPECT_EQ(o.registry_ca, "");
  EXPECT_EQ(o.creds, "");
  EXPECT_EQ(o.builder.address, "");
  EXPECT_EQ(o.builder.ca_file, "");
  EXPECT_EQ(o.builder.token, "");
  EXPECT_FALSE(o.to_browser);
  EXPECT_EQ(o.serve_dir, "");
  EXPECT_EQ(o.addr, "127.0.0.1:8080");
  EXPECT_FALSE(o.prune_all);
  EXPECT_EQ(o.keep_storage, 0u);
}

TEST_F(OptionsTest, ImageAndOutput) {
  Options o = parse({"docker.io/library/busybox:1.36", "my.wasm"});
  EXPECT_EQ(o.image, "docker.io/library/busybox:1.36");
  EXPECT_EQ(o.output, "my.wasm");
}

TEST_F(OptionsTest, ImageReferenceForms) {
  for (const char* image : {"127.0.0.1:5000/x@sha256:0123456789abcdef",
                            "oci-layout:/tmp/layout:tag", "docker-archive:/tmp/img.tar", "alpine"})
    EXPECT_EQ(parse({image}).image, image);
}

TEST_F(OptionsTest, FlagsMayComeAfterPositionals) {
  Options o = parse({"busybox", "out.wasm", "--no-cache", "--progress", "plain"});
  EXPECT_EQ(o.image, "busybox");
  EXPECT_EQ(o.output, "out.wasm");
  EXPECT_TRUE(o.no_cache);
  EXPECT_EQ(o.progress, "plain");
}

TEST_F(OptionsTest, DashIsAPositional) {
  Options o = parse({"busybox", "-"});
  EXPECT_EQ(o.output, "-");
}

TEST_F(OptionsTest, DoubleDashEndsOptions) {
  Options o = parse({"--no-cache", "--", "--weird-image", "--out"});
  EXPECT_TRUE(o.no_cache);
  EXPECT_EQ(o.image, "--weird-image");
  EXPECT_EQ(o.output, "--out");
}

TEST_F(OptionsTest, NoImageIsAUsageError) {
  UsageError e = usage_error({});
  EXPECT_TRUE(mentions(e, "no image")) << e.what();
  usage_error({"--no-cache"});
}

TEST_F(OptionsTest, TooManyPositionalsIsAUsageError) {
  UsageError e = usage_error({"busybox", "out.wasm", "extra"});
  EXPECT_TRUE(mentions(e, "too many")) << e.what();
}

TEST_F(OptionsTest, NoImageIsFineWithATargetStageOrAnImageBuildArg) {
  Options t = parse({"--target", "kernel"});
  EXPECT_EQ(t.image, "");
  EXPECT_EQ(t.target_stage, "kernel");
  Options b = parse({"--build-arg", "IMAGE=busybox"});
  EXPECT_EQ(b.image, "");
  EXPECT_EQ(b.build_args.at("IMAGE"), "busybox");
}

// ---- every value flag, both forms ----

struct ValueFlag {
  const char* flag;
  std::string Options::*field;
};

TEST_F(OptionsTest, ValueFlagsInBothForms) {
  const ValueFlag flags[] = {
      {"--target-arch", &Options::target_arch},
      {"--platform", &Options::platform},
      {"--recipe", &Options::recipe_file},
      {"--dockerfile", &Options::recipe_file},
      {"--target", &Options::target_stage},
      {"--target-stage", &Options::target_stage},
      {"--cache-dir", &Options::cache_dir},
      {"--progress", &Options::progress},
      {"--registry-ca", &Options::registry_ca},
      {"--creds", &Options::creds},
      {"--addr", &Options::addr},
  };
  for (const ValueFlag& f : flags) {
    SCOPED_TRACE(f.flag);
    const std::string v = "value-for" + std::string(f.flag);
    EXPECT_EQ(parse({f.flag, v, "busybox"}).*f.field, v);
    EXPECT_EQ(parse({std::string(f.flag) + "=" + v, "busybox"}).*f.field, v);
    // The inline form keeps everything after the first '=', and allows an empty value.
    EXPECT_EQ(parse({std::string(f.flag) + "=a=b,c", "busybox"}).*f.field, "a=b,c");
    EXPECT_EQ(parse({std::string(f.flag) + "=", "busybox"}).*f.field, "");
    // The separate form takes the next argument whatever it looks like.
    EXPECT_EQ(parse({f.flag, "", "busybox"}).*f.field, "");
  }
}

TEST_F(OptionsTest, BuilderFlagsInBothForms) {
  Options o = parse({"--builder", "tcp://10.0.0.1:7777", "--builder-ca", "/ca.pem",
                     "--builder-token", "s3cret", "busybox"});
  EXPECT_EQ(o.builder.address, "tcp://10.0.0.1:7777");
  EXPECT_EQ(o.builder.ca_file, "/ca.pem");
  EXPECT_EQ(o.builder.token, "s3cret");
  Options i = parse(
      {"--builder=unix:///run/c2wd.sock", "--builder-ca=/x.pem", "--builder-token=t=k", "busybox"});
  EXPECT_EQ(i.builder.address, "unix:///run/c2wd.sock");
  EXPECT_EQ(i.builder.ca_file, "/x.pem");
  EXPECT_EQ(i.builder.token, "t=k");
}

TEST_F(OptionsTest, ProgressValueIsNotCheckedByTheParser) {
  // make_progress_printer refuses unknown modes later.
  EXPECT_EQ(parse({"--progress=fancy", "busybox"}).progress, "fancy");
}

TEST_F(OptionsTest, EveryValueFlagWithoutAValueIsAUsageError) {
  for (const char* flag : {"--target-arch",
                           "--platform",
                           "--build-arg",
                           "--recipe",
                           "--dockerfile",
                           "--target",
                           "--target-stage",
                           "--output",
                           "-o",
                           "--cache-to",
                           "--cache-from",
                           "--cache-dir",
                           "--progress",
                           "--insecure-registry",
                           "--registry-ca",
                           "--creds",
                           "--builder",
                           "--builder-ca",
                           "--builder-token",
                           "--addr",
                           "--keep-storage"}) {
    SCOPED_TRACE(flag);
    UsageError e = usage_error({"busybox", flag});
    EXPECT_TRUE(mentions(e, flag)) << e.what();
    EXPECT_TRUE(mentions(e, "needs a value")) << e.what();
  }
}

TEST_F(OptionsTest, LastValueWins) {
  Options o = parse({"--platform", "linux/amd64", "--platform=linux/riscv64", "--progress", "tty",
                     "--progress", "json", "busybox"});
  EXPECT_EQ(o.platform, "linux/riscv64");
  EXPECT_EQ(o.progress, "json");
}

// ---- switches ----

TEST_F(OptionsTest, Switches) {
  Options o = parse({"--no-cache", "--debug-image", "busybox"});
  EXPECT_TRUE(o.no_cache);
  EXPECT_TRUE(o.debug_image);
  EXPECT_FALSE(o.to_browser);
  EXPECT_TRUE(parse({"--to-browser", "busybox"}).to_browser);
  EXPECT_TRUE(parse({"--to-js", "busybox"}).to_browser);
}

TEST_F(OptionsTest, SwitchWithAnInlineValueIsAUsageError) {
  for (const char* flag : {"--no-cache", "--debug-image", "--to-browser", "--to-js", "--all",
                           "--help", "--version", "--show-recipe", "--show-dockerfile"}) {
    SCOPED_TRACE(flag);
    UsageError e = usage_error({std::string(flag) + "=1", "busybox"});
    EXPECT_TRUE(mentions(e, flag)) << e.what();
    EXPECT_TRUE(mentions(e, "takes no value")) << e.what();
  }
}

TEST_F(OptionsTest, UnknownOptionIsAUsageError) {
  for (const char* flag : {"--frobnicate", "-x", "--dockerfiles", "--no-cache-please", "-O",
                           "---no-cache", "--build-args"}) {
    SCOPED_TRACE(flag);
    UsageError e = usage_error({flag, "busybox"});
    EXPECT_TRUE(mentions(e, "unknown option")) << e.what();
    EXPECT_TRUE(mentions(e, flag)) << e.what();
  }
  // An unknown flag in the inline form is named without its value.
  UsageError e = usage_error({"--colour=always", "busybox"});
  EXPECT_TRUE(mentions(e, "--colour")) << e.what();
}

TEST_F(OptionsTest, ShortOptionsHaveNoInlineForm) {
  // Only "--" flags split at '=': "-o=..." is an unknown option, not -o with a value.
  UsageError e = usage_error({"-o=type=local,dest=out", "busybox"});
  EXPECT_TRUE(mentions(e, "unknown option")) << e.what();
}

// ---- informational commands ----

TEST_F(OptionsTest, HelpAndVersion) {
  EXPECT_EQ(parse({"--help"}).command, "help");
  EXPECT_EQ(parse({"-h"}).command, "help");
  EXPECT_EQ(parse({"--version"}).command, "version");
  EXPECT_EQ(parse({"-v"}).command, "version");
  EXPECT_EQ(parse({"--show-recipe"}).command, "show-recipe");
  EXPECT_EQ(parse({"--show-dockerfile"}).command, "show-recipe");
}

TEST_F(OptionsTest, InformationalCommandsNeedNoImageAndIgnorePositionals) {
  EXPECT_EQ(parse({"--help", "a", "b", "c"}).command, "help");
  EXPECT_EQ(parse({"--version", "du"}).command, "version");
  EXPECT_EQ(parse({"busybox", "--show-recipe"}).command, "show-recipe");
}

TEST_F(OptionsTest, UnknownFlagIsAnErrorEvenWithHelp) {
  usage_error({"--help", "--bogus"});
}

// ---- --build-arg and --insecure-registry repeat ----

TEST_F(OptionsTest, BuildArgsRepeatInBothForms) {
  Options o = parse({"--build-arg", "A=1", "--build-arg=B=two=2", "--build-arg",
                     "EMPTY=", "--build-arg", "A=again", "busybox"});
  EXPECT_EQ(o.build_args,
            (std::map<std::string, std::string>{{"A", "again"}, {"B", "two=2"}, {"EMPTY", ""}}));
}

TEST_F(OptionsTest, BuildArgWithoutNameOrEqualsIsAUsageError) {
  for (const char* bad : {"NOEQUALS", "=value", ""}) {
    SCOPED_TRACE(bad);
    UsageError e = usage_error({"--build-arg", bad, "busybox"});
    EXPECT_TRUE(mentions(e, "--build-arg")) << e.what();
    EXPECT_TRUE(mentions(e, "NAME=VALUE")) << e.what();
  }
  usage_error({"--build-arg=NOEQUALS", "busybox"});
}

TEST_F(OptionsTest, InsecureRegistriesRepeatInOrder) {
  Options o = parse({"--insecure-registry", "127.0.0.1:5000", "--insecure-registry=reg.local",
                     "--insecure-registry", "127.0.0.1:5000", "busybox"});
  EXPECT_EQ(o.insecure_registries,
            (std::vector<std::string>{"127.0.0.1:5000", "reg.local", "127.0.0.1:5000"}));
}

// ---- environment ----

TEST_F(OptionsTest, BuilderFromTheEnvironment) {
  ::setenv("C2W_BUILDER", "tcp://builder:7777", 1);
  ::setenv("C2W_BUILDER_TOKEN", "envtoken", 1);
  Options o = parse({"busybox"});
  EXPECT_EQ(o.builder.address, "tcp://builder:7777");
  EXPECT_EQ(o.builder.token, "envtoken");
  EXPECT_EQ(o.builder.ca_file, "");
}

TEST_F(OptionsTest, FlagsOverrideTheEnvironment) {
  ::setenv("C2W_BUILDER", "tcp://builder:7777", 1);
  ::setenv("C2W_BUILDER_TOKEN", "envtoken", 1);
  Options o = parse({"--builder", "unix:///sock", "--builder-token=flagtoken", "busybox"});
  EXPECT_EQ(o.builder.address, "unix:///sock");
  EXPECT_EQ(o.builder.token, "flagtoken");
}

TEST_F(OptionsTest, EmptyEnvironmentVariablesAreIgnored) {
  ::setenv("C2W_BUILDER", "", 1);
  ::setenv("C2W_BUILDER_TOKEN", "", 1);
  Options o = parse({"busybox"});
  EXPECT_EQ(o.builder.address, "");
  EXPECT_EQ(o.builder.token, "");
}

TEST_F(OptionsTest, EnvironmentAppliesToSubcommandsToo) {
  ::setenv("C2W_BUILDER", "tcp://b:1", 1);
  EXPECT_EQ(parse({"du"}).builder.address, "tcp://b:1");
}

// ---- subcommands ----

TEST_F(OptionsTest, Du) {
  Options o = parse({"du"});
  EXPECT_EQ(o.command, "du");
  EXPECT_EQ(o.image, "");
  Options d = parse({"du", "--cache-dir", "/tmp/cache"});
  EXPECT_EQ(d.command, "du");
  EXPECT_EQ(d.cache_dir, "/tmp/cache");
  EXPECT_EQ(parse({"--cache-dir=/c", "du"}).command, "du");
}

TEST_F(OptionsTest, DuTakesNoArguments) {
  UsageError e = usage_error({"du", "extra"});
  EXPECT_TRUE(mentions(e, "du")) << e.what();
}

TEST_F(OptionsTest, Prune) {
  Options o = parse({"prune"});
  EXPECT_EQ(o.command, "prune");
  EXPECT_FALSE(o.prune_all);
  EXPECT_EQ(o.keep_storage, 0u);
  Options a = parse({"prune", "--all", "--keep-storage", "10GB", "--cache-dir", "/c"});
  EXPECT_TRUE(a.prune_all);
  EXPECT_EQ(a.keep_storage, 10ull << 30);
  EXPECT_EQ(a.cache_dir, "/c");
  EXPECT_EQ(parse({"prune", "--keep-storage=512MiB"}).keep_storage, 512u * 1024 * 1024);
}

TEST_F(OptionsTest, PruneTakesNoArguments) {
  UsageError e = usage_error({"prune", "old"});
  EXPECT_TRUE(mentions(e, "prune")) << e.what();
}

TEST_F(OptionsTest, BadKeepStorageIsAUsageError) {
  usage_error({"prune", "--keep-storage", "lots"});
  usage_error({"prune", "--keep-storage=10XB"});
}

TEST_F(OptionsTest, Serve) {
  Options o = parse({"serve", "out-browser"});
  EXPECT_EQ(o.command, "serve");
  EXPECT_EQ(o.serve_dir, "out-browser");
  EXPECT_EQ(o.addr, "127.0.0.1:8080");
  EXPECT_EQ(o.image, "");
  Options a = parse({"serve", "dir", "--addr", "0.0.0.0:9000"});
  EXPECT_EQ(a.serve_dir, "dir");
  EXPECT_EQ(a.addr, "0.0.0.0:9000");
  Options b = parse({"--addr=[::1]:0", "serve", "dir"});
  EXPECT_EQ(b.command, "serve");
  EXPECT_EQ(b.addr, "[::1]:0");
}

TEST_F(OptionsTest, ServeTakesExactlyOneFolder) {
  UsageError none = usage_error({"serve"});
  EXPECT_TRUE(mentions(none, "serve")) << none.what();
  usage_error({"serve", "a", "b"});
  usage_error({"serve", "--addr", "127.0.0.1:1"});
}

TEST_F(OptionsTest, ASubcommandNameLaterIsAPositional) {
  Options o = parse({"busybox", "du"});
  EXPECT_EQ(o.command, "convert");
  EXPECT_EQ(o.image, "busybox");
  EXPECT_EQ(o.output, "du");
  Options s = parse({"serve-image", "prune"});
  EXPECT_EQ(s.command, "convert");
  EXPECT_EQ(s.image, "serve-image");
}

// ---- --to-browser / --to-js ----

TEST_F(OptionsTest, ToBrowserTakesImageAndFolder) {
  Options o = parse({"--to-browser", "busybox", "site"});
  EXPECT_TRUE(o.to_browser);
  EXPECT_EQ(o.image, "busybox");
  EXPECT_EQ(o.output, "site");
  Options j = parse({"busybox", "--to-js"});
  EXPECT_TRUE(j.to_browser);
  EXPECT_EQ(j.output, "");
}

TEST_F(OptionsTest, ToBrowserDoesNotCombineWithOutput) {
  UsageError e = usage_error({"--to-browser", "--output", "type=local,dest=d", "busybox"});
  EXPECT_TRUE(mentions(e, "--to-browser")) << e.what();
  usage_error({"--to-js", "--output=type=registry,ref=r/x:1", "busybox"});
}

TEST_F(OptionsTest, ToBrowserStillNeedsAnImage) {
  usage_error({"--to-browser"});
}

// ---- --output ----

TEST_F(OptionsTest, OutputLocal) {
  Options o = parse({"--output", "type=local,dest=out", "busybox"});
  EXPECT_EQ(o.output_type, "local");
  EXPECT_EQ(o.output_dest, "out");
  EXPECT_EQ(o.output_ref, "");
  Options i = parse({"--output=type=local,dest=/a=b", "busybox"});
  EXPECT_EQ(i.output_dest, "/a=b");
  Options s = parse({"-o", "dest=x,type=local", "busybox"});  // any order; -o alias
  EXPECT_EQ(s.output_type, "local");
  EXPECT_EQ(s.output_dest, "x");
}

TEST_F(OptionsTest, OutputRegistry) {
  Options o = parse({"--output", "type=registry,ref=127.0.0.1:5000/c2w/out:1", "busybox"});
  EXPECT_EQ(o.output_type, "registry");
  EXPECT_EQ(o.output_ref, "127.0.0.1:5000/c2w/out:1");
  EXPECT_EQ(o.output_dest, "");
  EXPECT_EQ(parse({"--output=type=registry,ref=r/x@sha256:ab", "busybox"}).output_ref,
            "r/x@sha256:ab");
}

TEST_F(OptionsTest, OutputAloneNeedsAnImage) {
  usage_error({"--output", "type=local,dest=out"});
  EXPECT_EQ(parse({"--output", "type=local,dest=out", "--target", "kernel"}).output_dest, "out");
}

TEST_F(OptionsTest, LastOutputWinsWhole) {
  Options o =
      parse({"--output", "type=local,dest=a", "--output", "type=registry,ref=r/x:1", "busybox"});
  EXPECT_EQ(o.output_type, "registry");
  EXPECT_EQ(o.output_ref, "r/x:1");
  EXPECT_EQ(o.output_dest, "");
}

TEST_F(OptionsTest, BadOutputSpecsAreUsageErrors) {
  struct Case {
    const char* spec;
    const char* mentions;
  };
  const Case cases[] = {
      {"dest=out", "type=local or type=registry"},            // no type
      {"type=tar,dest=out", "type=local or type=registry"},   // unknown type
      {"type=local", "dest=DIR"},                             // local without dest
      {"type=local,dest=", "dest=DIR"},                       // empty dest
      {"type=local,dest=d,ref=r/x:1", "dest=DIR"},            // local with ref
      {"type=registry", "ref="},                              // registry without ref
      {"type=registry,ref=r/x:1,dest=d", "ref="},             // registry with dest
      {"type=local,dest=d,compression=zstd", "compression"},  // unknown key
      {"type=local,,dest=d", "key \"\""},                     // empty part
      {"", "key \"\""},                                       // empty spec
      {"local", "\"local\""},                                 // a bare word is a key
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.spec);
    UsageError e = usage_error({"--output", c.spec, "busybox"});
    EXPECT_TRUE(mentions(e, "--output")) << e.what();
    EXPECT_TRUE(mentions(e, c.mentions)) << e.what();
    EXPECT_FALSE(e.hint().empty());
  }
}

// ---- --cache-to / --cache-from ----

TEST_F(OptionsTest, CacheToRegistry) {
  Options o = parse({"--cache-to", "type=registry,ref=127.0.0.1:5000/cache:v1", "busybox"});
  EXPECT_EQ(o.cache_to.type, "registry");
  EXPECT_EQ(o.cache_to.ref, "127.0.0.1:5000/cache:v1");
  EXPECT_EQ(o.cache_to.dir, "");
  EXPECT_EQ(o.cache_to.tag, "");
  EXPECT_EQ(o.cache_from.type, "");
}

TEST_F(OptionsTest, CacheToLocalUsesDestAndTagDefaultsToLatest) {
  Options o = parse({"--cache-to=type=local,dest=/tmp/c", "busybox"});
  EXPECT_EQ(o.cache_to.type, "local");
  EXPECT_EQ(o.cache_to.dir, "/tmp/c");
  EXPECT_EQ(o.cache_to.tag, "latest");
  EXPECT_EQ(o.cache_to.ref, "");
  EXPECT_EQ(parse({"--cache-to", "type=local,dest=/c,tag=v2", "busybox"}).cache_to.tag, "v2");
}

TEST_F(OptionsTest, CacheFromLocalUsesSrc) {
  Options o = parse({"--cache-from", "type=local,src=/tmp/c,tag=v3", "busybox"});
  EXPECT_EQ(o.cache_from.type, "local");
  EXPECT_EQ(o.cache_from.dir, "/tmp/c");
  EXPECT_EQ(o.cache_from.tag, "v3");
  EXPECT_EQ(o.cache_to.type, "");
  EXPECT_EQ(parse({"--cache-from=type=local,src=/c", "busybox"}).cache_from.tag, "latest");
}

TEST_F(OptionsTest, CacheFromRegistry) {
  Options o = parse({"--cache-from=type=registry,ref=r/cache:1", "busybox"});
  EXPECT_EQ(o.cache_from.type, "registry");
  EXPECT_EQ(o.cache_from.ref, "r/cache:1");
}

TEST_F(OptionsTest, CacheToAndCacheFromTogether) {
  Options o = parse(
      {"--cache-from", "type=local,src=/in", "--cache-to", "type=local,dest=/out", "busybox"});
  EXPECT_EQ(o.cache_from.dir, "/in");
  EXPECT_EQ(o.cache_to.dir, "/out");
}

TEST_F(OptionsTest, CacheToOrFromTwiceIsAUsageError) {
  for (const char* flag : {"--cache-to", "--cache-from"}) {
    SCOPED_TRACE(flag);
    const std::string dir = std::string(flag) == "--cache-to" ? "dest" : "src";
    UsageError e = usage_error(
        {flag, "type=local," + dir + "=/a", flag, "type=registry,ref=r/x:1", "busybox"});
    EXPECT_TRUE(mentions(e, "twice")) << e.what();
  }
}

TEST_F(OptionsTest, BadCacheSpecsAreUsageErrors) {
  struct Case {
    const char* flag;
    const char* spec;
    const char* mentions;
  };
  const Case cases[] = {
      {"--cache-to", "ref=r/x:1", "needs type=registry or type=local"},
      {"--cache-to", "type=s3,ref=r", "needs type=registry or type=local"},
      {"--cache-to", "type=registry", "ref="},
      {"--cache-to", "type=registry,ref=", "ref="},
      {"--cache-to", "type=registry,ref=r/x:1,tag=v", "tag="},
      {"--cache-to", "type=registry,ref=r/x:1,dest=/d", "dest="},
      {"--cache-to", "type=local", "dest=DIR"},
      {"--cache-to", "type=local,dest=/d,ref=r/x:1", "ref="},
      {"--cache-to", "type=local,src=/d", "key \"src\""},      // --cache-to writes to dest=
      {"--cache-from", "type=local,dest=/d", "key \"dest\""},  // --cache-from reads src=
      {"--cache-from", "type=local", "src=DIR"},
      {"--cache-from", "type=registry,ref=r/x:1,src=/d", "src="},
      {"--cache-from", "type=local,src=/d,mode=max", "key \"mode\""},
      {"--cache-from", "", "key \"\""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.flag) + " " + c.spec);
    UsageError e = usage_error({c.flag, c.spec, "busybox"});
    EXPECT_TRUE(mentions(e, c.flag)) << e.what();
    EXPECT_TRUE(mentions(e, c.mentions)) << e.what();
    EXPECT_FALSE(e.hint().empty());
  }
}

// ---- everything at once ----

TEST_F(OptionsTest, AFullCommandLine) {
  Options o = parse({"--target-arch=riscv64",
                     "--platform",
                     "linux/riscv64",
                     "--build-arg",
                     "MEMORY=512M",
                     "--recipe",
                     "my.recipe",
                     "--target",
                     "pack",
                     "--cache-dir",
                     "/c",
                     "--no-cache",
                     "--progress=plain",
                     "--insecure-registry",
                     "127.0.0.1:5000",
                     "--registry-ca",
                     "/ca.pem",
                     "--creds",
                     "u:p:w",
                     "--debug-image",
                     "--cache-to",
                     "type=local,dest=/ct",
                     "--cache-from",
                     "type=registry,ref=r/c:1",
                     "--builder",
                     "tcp://h:1",
                     "--builder-ca",
                     "/bca.pem",
                     "--builder-token",
                     "tok",
                     "127.0.0.1:5000/img:1",
                     "x.wasm"});
  EXPECT_EQ(o.command, "convert");
  EXPECT_EQ(o.target_arch, "riscv64");
  EXPECT_EQ(o.platform, "linux/riscv64");
  EXPECT_EQ(o.build_args.at("MEMORY"), "512M");
  EXPECT_EQ(o.recipe_file, "my.recipe");
  EXPECT_EQ(o.target_stage, "pack");
  EXPECT_EQ(o.cache_dir, "/c");
  EXPECT_TRUE(o.no_cache);
  EXPECT_EQ(o.progress, "plain");
  EXPECT_EQ(o.insecure_registries, std::vector<std::string>{"127.0.0.1:5000"});
  EXPECT_EQ(o.registry_ca, "/ca.pem");
  EXPECT_EQ(o.creds, "u:p:w");
  EXPECT_TRUE(o.debug_image);
  EXPECT_EQ(o.cache_to.dir, "/ct");
  EXPECT_EQ(o.cache_from.ref, "r/c:1");
  EXPECT_EQ(o.builder.address, "tcp://h:1");
  EXPECT_EQ(o.builder.ca_file, "/bca.pem");
  EXPECT_EQ(o.builder.token, "tok");
  EXPECT_EQ(o.image, "127.0.0.1:5000/img:1");
  EXPECT_EQ(o.output, "x.wasm");
}

TEST_F(OptionsTest, UsageErrorIsAnError) {
  // The CLI maps UsageError to exit 2 and other c2w::Errors to 1: it must stay a subclass.
  try {
    parse({"--frobnicate"});
    FAIL();
  } catch (const c2w::Error& e) {
    EXPECT_NE(dynamic_cast<const UsageError*>(&e), nullptr);
  }
}

TEST_F(OptionsTest, UsageTextNamesEveryFlag) {
  const std::string text = c2w::client::usage_text();
  for (const char* flag : {"--target-arch",   "--platform",    "--build-arg", "--recipe",
                           "--show-recipe",   "--target",      "--output",    "--cache-to",
                           "--cache-from",    "--to-browser",  "--to-js",     "--addr",
                           "--cache-dir",     "--no-cache",    "--progress",  "--insecure-registry",
                           "--registry-ca",   "--creds",       "--builder",   "--builder-ca",
                           "--builder-token", "--debug-image", "--version",   "--help",
                           "--keep-storage",  "--all",         "c2w du",      "c2w prune",
                           "c2w serve"})
    EXPECT_NE(text.find(flag), std::string::npos) << flag;
}

// ---- parse_size ----

TEST(ParseSize, PlainBytes) {
  EXPECT_EQ(parse_size("0"), 0u);
  EXPECT_EQ(parse_size("1234"), 1234u);
  EXPECT_EQ(parse_size("1000000"), 1'000'000u);
  EXPECT_EQ(parse_size("12b"), 12u);
  EXPECT_EQ(parse_size("12B"), 12u);
}

// One size syntax everywhere (base/size.h): K, M, G, T are powers of 1024 with or without "B",
// as in Docker's --memory 512m and --keep-storage 10GB.
TEST(ParseSize, UnitsArePowersOf1024) {
  constexpr uint64_t kKi = 1024, kMi = kKi * 1024, kGi = kMi * 1024, kTi = kGi * 1024;
  EXPECT_EQ(parse_size("10GB"), 10 * kGi);
  EXPECT_EQ(parse_size("512MB"), 512 * kMi);
  EXPECT_EQ(parse_size("100m"), 100 * kMi);
  EXPECT_EQ(parse_size("3k"), 3 * kKi);
  EXPECT_EQ(parse_size("3kB"), 3 * kKi);
  EXPECT_EQ(parse_size("2g"), 2 * kGi);
  EXPECT_EQ(parse_size("2T"), 2 * kTi);
  EXPECT_EQ(parse_size("1tb"), kTi);
}

TEST(ParseSize, UnitsIgnoreCase) {
  EXPECT_EQ(parse_size("10gb"), 10ull << 30);
  EXPECT_EQ(parse_size("10Gb"), 10ull << 30);
  EXPECT_EQ(parse_size("1MIB"), 1024u * 1024);
  EXPECT_EQ(parse_size("1mib"), 1024u * 1024);
}

TEST(ParseSize, IecSpellingsMeanTheSame) {
  EXPECT_EQ(parse_size("1KiB"), 1024u);
  EXPECT_EQ(parse_size("1MiB"), 1024u * 1024);
  EXPECT_EQ(parse_size("512MiB"), 512u * 1024 * 1024);
  EXPECT_EQ(parse_size("2GiB"), 2ull * 1024 * 1024 * 1024);
  EXPECT_EQ(parse_size("2GiB"), parse_size("2G"));
}

TEST(ParseSize, Fractions) {
  EXPECT_EQ(parse_size("1.5G"), 1536ull * 1024 * 1024);
  EXPECT_EQ(parse_size("0.5MiB"), 512u * 1024);
  EXPECT_EQ(parse_size("2.5kb"), 2'560u);
  EXPECT_EQ(parse_size("1.9"), 1u);  // fractions of a byte are dropped
  EXPECT_EQ(parse_size(".5k"), 512u);
}

TEST(ParseSize, BadInputIsAUsageError) {
  for (const char* bad : {"", "lots", "GB", "-1", "-1GB", "+5", "10 GB", " 10", "10XB", "10GiBs",
                          "10Ki", "10kiB ", "1e9", "0x10", "10PB", "10EiB", "TB10"}) {
    SCOPED_TRACE(std::string("\"") + bad + "\"");
    EXPECT_THROW(parse_size(bad), UsageError);
  }
}

TEST(ParseSize, ErrorNamesTheInput) {
  try {
    parse_size("10XB");
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("10XB"), std::string::npos) << e.what();
    EXPECT_FALSE(e.hint().empty());
  }
}

// A size made only of dots is a usage error (it once reached std::stod and ended in "stod").
TEST(ParseSize, DotsAloneAreAUsageError) {
  EXPECT_THROW(parse_size("."), UsageError);
  EXPECT_THROW(parse_size("..GB"), UsageError);
}

// A malformed number is refused, not read up to where it stops making sense.
TEST(ParseSize, MalformedNumbersAreRefused) {
  EXPECT_THROW(parse_size("1.2.3GB"), UsageError);
  EXPECT_THROW(parse_size("1..5G"), UsageError);
}

// Sizes beyond 2^64 bytes are refused, not wrapped.
TEST(ParseSize, TooLargeIsAUsageError) {
  EXPECT_THROW(parse_size("100000000TB"), UsageError);
  EXPECT_THROW(parse_size("99999999999999999999999"), UsageError);
}

}  // namespace
