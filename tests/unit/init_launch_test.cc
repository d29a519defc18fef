// What guest init decides to run (init/launch.h): Docker's Entrypoint/Cmd/Env rules,
// user specs against passwd/group text, and PATH lookup.
#include <gtest/gtest.h>

#include <set>

#include "init/launch.h"

namespace {

using namespace c2w::init;
using namespace c2w::guest_protocol;
using Strings = std::vector<std::string>;

ImageConfig hello_image() {
  ImageConfig c;
  c.entrypoint = {"/usr/bin/hello"};
  c.cmd = {"--greet", "world"};
  c.env = {"PATH=/usr/local/bin:/usr/bin:/bin", "HELLO_ENV=from-image"};
  c.working_dir = "/work";
  c.user = "hello";
  return c;
}

Launch plan(const ImageConfig& image, const RunRequest& request) {
  Launch l;
  std::string error;
  EXPECT_TRUE(plan_launch(image, request, &l, &error)) << error;
  return l;
}

TEST(GuestLaunch, ImageDefaults) {
  Launch l = plan(hello_image(), RunRequest{});
  EXPECT_EQ(l.argv, (Strings{"/usr/bin/hello", "--greet", "world"}));
  EXPECT_EQ(l.env, (Strings{"PATH=/usr/local/bin:/usr/bin:/bin", "HELLO_ENV=from-image"}));
  EXPECT_EQ(l.working_dir, "/work");
  EXPECT_EQ(l.user, "hello");
}

TEST(GuestLaunch, ArgsReplaceCmdAndEntrypointDropsCmd) {
  RunRequest args;
  args.args_set = true;
  args.args = {"a", "b"};
  EXPECT_EQ(plan(hello_image(), args).argv, (Strings{"/usr/bin/hello", "a", "b"}));

  RunRequest entry;
  entry.entrypoint_set = true;
  entry.entrypoint = {"echo"};
  EXPECT_EQ(plan(hello_image(), entry).argv, (Strings{"echo"}));  // Docker drops the image Cmd
  entry.args_set = true;
  entry.args = {"hi"};
  EXPECT_EQ(plan(hello_image(), entry).argv, (Strings{"echo", "hi"}));

  // An empty entrypoint override means "no entrypoint": the args are the command.
  RunRequest empty_entry;
  empty_entry.entrypoint_set = true;
  empty_entry.args_set = true;
  empty_entry.args = {"sh"};
  EXPECT_EQ(plan(hello_image(), empty_entry).argv, (Strings{"sh"}));

  Launch l;
  std::string error;
  RunRequest nothing;
  nothing.entrypoint_set = true;
  EXPECT_FALSE(plan_launch(hello_image(), nothing, &l, &error));
  EXPECT_NE(error.find("no command"), std::string::npos) << error;
}

TEST(GuestLaunch, EnvOverridesAndDefaults) {
  RunRequest r;
  r.env = {"HELLO_ENV=from-host", "EXTRA_ENV=1"};
  r.terminal = true;
  Launch l = plan(hello_image(), r);
  EXPECT_EQ(l.env, (Strings{"PATH=/usr/local/bin:/usr/bin:/bin", "HELLO_ENV=from-host",
                            "EXTRA_ENV=1", "TERM=xterm"}));
  ImageConfig bare;
  bare.cmd = {"sh"};
  Launch b = plan(bare, RunRequest{});
  EXPECT_EQ(b.env, (Strings{std::string(kDefaultPath)}));
  EXPECT_EQ(b.working_dir, "/");
  ASSERT_NE(env_value(b.env, "PATH"), nullptr);
  EXPECT_EQ(env_value(b.env, "PAT"), nullptr);
}

const char* kPasswd =
    "root:x:0:0:root:/root:/bin/sh\n"
    "daemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n"
    "broken line\n"
    "hello:x:1000:1000:Hello:/home/hello:/bin/sh\n"
    "nohome:x:1001:100:::/bin/sh\n";
const char* kGroup =
    "root:x:0:\n"
    "tty:x:5:hello\n"
    "users:x:100:\n"
    "hello:x:1000:\n"
    "audio:x:29:daemon,hello\n";

User resolve(std::string_view spec) {
  User u;
  std::string error;
  EXPECT_TRUE(resolve_user(spec, kPasswd, kGroup, &u, &error)) << spec << ": " << error;
  return u;
}

TEST(GuestLaunch, ResolvesUsersLikeRunc) {
  User root = resolve("");
  EXPECT_EQ(root.uid, 0u);
  EXPECT_EQ(root.home, "/root");
  User hello = resolve("hello");
  EXPECT_EQ(hello.uid, 1000u);
  EXPECT_EQ(hello.gid, 1000u);
  EXPECT_EQ(hello.home, "/home/hello");
  EXPECT_EQ(std::set<gid_t>(hello.groups.begin(), hello.groups.end()),
            (std::set<gid_t>{1000, 5, 29}));
  EXPECT_EQ(resolve("1000").uid, 1000u);  // numeric uid still picks up the passwd entry
  User group_override = resolve("hello:users");
  EXPECT_EQ(group_override.gid, 100u);
  User numeric = resolve("4242:77");
  EXPECT_EQ(numeric.uid, 4242u);
  EXPECT_EQ(numeric.gid, 77u);
  EXPECT_EQ(numeric.home, "/");
  EXPECT_EQ(numeric.groups, (std::vector<gid_t>{77}));
  EXPECT_EQ(resolve("4242").gid, 0u);
  EXPECT_EQ(resolve("nohome").home, "/");
  EXPECT_EQ(resolve(":tty").gid, 5u);
}

TEST(GuestLaunch, UnknownNamesAreDockerWordedErrors) {
  User u;
  std::string error;
  EXPECT_FALSE(resolve_user("nosuch", kPasswd, kGroup, &u, &error));
  EXPECT_EQ(error, "unable to find user nosuch: no matching entries in passwd file");
  EXPECT_FALSE(resolve_user("hello:nogroup", kPasswd, kGroup, &u, &error));
  EXPECT_EQ(error, "unable to find group nogroup: no matching entries in group file");
  EXPECT_FALSE(resolve_user("hello", "", "", &u, &error));
  EXPECT_FALSE(resolve_user("99999999999", kPasswd, kGroup, &u, &error));  // over 32 bits
}

TEST(GuestLaunch, FindsCommandsInPath) {
  std::set<std::string> files = {"/bin/sh", "/usr/bin/env", "/usr/local/bin/env", "tool"};
  auto exists = [&](const std::string& p) { return files.count(p) > 0; };
  EXPECT_EQ(find_in_path("sh", "/usr/bin:/bin", exists), "/bin/sh");
  EXPECT_EQ(find_in_path("env", "/usr/local/bin:/usr/bin", exists), "/usr/local/bin/env");
  EXPECT_EQ(find_in_path("nope", "/usr/bin:/bin", exists), "");
  EXPECT_EQ(find_in_path("./x", "", exists), "./x");          // paths are not looked up
  EXPECT_EQ(find_in_path("tool", "/bin::", exists), "tool");  // empty element: current dir
}

}  // namespace
