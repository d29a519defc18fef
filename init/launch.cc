#include "init/launch.h"

namespace c2w::init {

using guest_protocol::ImageConfig;
using guest_protocol::merge_env;
using guest_protocol::RunRequest;

namespace {

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t end = text.find(sep, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

// A decimal id that fits in 32 bits, with nothing else around it.
bool parse_id(std::string_view text, uint32_t* out) {
  if (text.empty() || text.size() > 10) return false;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > 0xffffffffu) return false;
  *out = static_cast<uint32_t>(v);
  return true;
}

struct PasswdLine {
  std::string_view name;
  uint32_t uid = 0, gid = 0;
  std::string_view home;
};

// Lines that are not well formed are skipped, as libc does.
std::vector<PasswdLine> parse_passwd(std::string_view text) {
  std::vector<PasswdLine> out;
  for (std::string_view line : split(text, '\n')) {
    auto f = split(line, ':');
    PasswdLine p;
    if (f.size() < 7 || !parse_id(f[2], &p.uid) || !parse_id(f[3], &p.gid)) continue;
    p.name = f[0];
    p.home = f[5];
    out.push_back(p);
  }
  return out;
}

struct GroupLine {
  std::string_view name;
  uint32_t gid = 0;
  std::vector<std::string_view> members;
};

std::vector<GroupLine> parse_group(std::string_view text) {
  std::vector<GroupLine> out;
  for (std::string_view line : split(text, '\n')) {
    auto f = split(line, ':');
    GroupLine g;
    if (f.size() < 4 || !parse_id(f[2], &g.gid)) continue;
    g.name = f[0];
    if (!f[3].empty()) g.members = split(f[3], ',');
    out.push_back(g);
  }
  return out;
}

}  // namespace

bool plan_launch(const ImageConfig& image, const RunRequest& request, Launch* out,
                 std::string* error) {
  Launch l;
  l.argv = request.entrypoint_set ? request.entrypoint : image.entrypoint;
  const std::vector<std::string>& cmd =
      request.args_set ? request.args
                       : (request.entrypoint_set ? std::vector<std::string>{} : image.cmd);
  l.argv.insert(l.argv.end(), cmd.begin(), cmd.end());
  if (l.argv.empty() || l.argv[0].empty()) {
    *error = "no command specified: the image has no Entrypoint or Cmd and none was given";
    return false;
  }
  l.env = image.env;
  if (!env_value(l.env, "PATH")) l.env.insert(l.env.begin(), std::string(kDefaultPath));
  merge_env(l.env, request.env);
  if (request.terminal && !env_value(l.env, "TERM")) l.env.push_back("TERM=xterm");
  l.working_dir = image.working_dir.empty() ? "/" : image.working_dir;
  l.user = image.user;
  *out = std::move(l);
  return true;
}

bool resolve_user(std::string_view spec, std::string_view passwd, std::string_view group, User* out,
                  std::string* error) {
  size_t colon = spec.find(':');
  std::string_view user_part = spec.substr(0, colon);
  std::string_view group_part =
      colon == std::string_view::npos ? std::string_view{} : spec.substr(colon + 1);
  if (user_part.empty()) user_part = "0";

  User u;
  std::string_view name;
  uint32_t id = 0;
  bool numeric = parse_id(user_part, &id);
  bool found = false;
  for (const PasswdLine& p : parse_passwd(passwd)) {
    if (numeric ? p.uid == id : p.name == user_part) {
      u.uid = p.uid;
      u.gid = p.gid;
      u.home = p.home.empty() ? "/" : std::string(p.home);
      name = p.name;
      found = true;
      break;
    }
  }
  if (!found) {
    if (!numeric) {
      *error =
          "unable to find user " + std::string(user_part) + ": no matching entries in passwd file";
      return false;
    }
    u.uid = id;
  }

  std::vector<GroupLine> groups = parse_group(group);
  if (!group_part.empty()) {
    uint32_t gid = 0;
    if (parse_id(group_part, &gid)) {
      u.gid = gid;
    } else {
      bool matched = false;
      for (const GroupLine& g : groups) {
        if (g.name == group_part) {
          u.gid = g.gid;
          matched = true;
          break;
        }
      }
      if (!matched) {
        *error = "unable to find group " + std::string(group_part) +
                 ": no matching entries in group file";
        return false;
      }
    }
  }
  u.groups.push_back(u.gid);
  if (!name.empty()) {
    for (const GroupLine& g : groups) {
      bool member = false;
      for (std::string_view m : g.members) member = member || m == name;
      bool have = false;
      for (gid_t x : u.groups) have = have || x == g.gid;
      if (member && !have) u.groups.push_back(g.gid);
    }
  }
  *out = std::move(u);
  return true;
}

const std::string* env_value(const std::vector<std::string>& env, std::string_view key) {
  for (const std::string& e : env) {
    if (e.size() > key.size() && e.compare(0, key.size(), key) == 0 && e[key.size()] == '=')
      return &e;
  }
  return nullptr;
}

std::string find_in_path(const std::string& name, std::string_view path,
                         const std::function<bool(const std::string&)>& is_executable) {
  if (name.find('/') != std::string::npos) return name;
  for (std::string_view dir : split(path, ':')) {
    // An empty PATH element means the current directory, as in execvp.
    std::string candidate = dir.empty() ? name : std::string(dir) + "/" + name;
    if (is_executable(candidate)) return candidate;
  }
  return {};
}

}  // namespace c2w::init
