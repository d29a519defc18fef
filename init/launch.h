// What guest init runs, decided without side effects so it is unit-tested natively:
// - plan_launch: image config + run request -> argv, env, working dir, user spec, with c2w's
//   (Docker's) semantics: args replace Cmd; an entrypoint override replaces Entrypoint and drops
//   the image's Cmd; request env overrides or extends the image Env by key; PATH defaults to
//   Docker's when the image has none; TERM=xterm with a terminal unless set.
// - resolve_user: a Docker user spec (name | uid | name:group | uid:gid | ...) against the
//   container's /etc/passwd and /etc/group text, as runc does: a numeric uid needs no passwd
//   entry (then gid 0, home "/"); a name must have one; supplementary groups are the primary
//   gid plus every group listing the user's name.
// - find_in_path: the command as execve should see it, looked up in the container's PATH.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "guest_protocol/protocol.h"

namespace c2w::init {

inline constexpr std::string_view kDefaultPath =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

struct Launch {
  std::vector<std::string> argv;
  std::vector<std::string> env;
  std::string working_dir;  // "/" when the image names none
  std::string user;         // spec as written; "" means root
};

// False with `error` set when there is nothing to run.
bool plan_launch(const guest_protocol::ImageConfig& image,
                 const guest_protocol::RunRequest& request, Launch* out, std::string* error);

struct User {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary, including gid
  std::string home = "/";
};

// False with a Docker-worded `error` ("unable to find user x: no matching entries in passwd
// file") when a name cannot be resolved.
bool resolve_user(std::string_view spec, std::string_view passwd, std::string_view group, User* out,
                  std::string* error);

// The KEY=VALUE entry for KEY in an env list, or nullptr.
const std::string* env_value(const std::vector<std::string>& env, std::string_view key);

// `name` itself when it contains '/', else the first PATH entry holding an executable file of
// that name according to `is_executable` (injected for tests); "" when none does.
std::string find_in_path(const std::string& name, std::string_view path,
                         const std::function<bool(const std::string&)>& is_executable);

}  // namespace c2w::init
