#include "ops/rootfs/image_config.h"

#include <stdexcept>

namespace c2w::rootfs {

namespace {

using nlohmann::json;

std::vector<std::string> strings(const json& config, const char* field) {
  std::vector<std::string> out;
  auto it = config.find(field);
  if (it == config.end() || it->is_null()) return out;
  if (!it->is_array())
    throw std::runtime_error(std::string("image config ") + field + " is not a list");
  for (const json& s : *it) {
    if (!s.is_string())
      throw std::runtime_error(std::string("image config ") + field + " holds a non-string");
    out.push_back(s.get<std::string>());
  }
  return out;
}

std::string text(const json& config, const char* field) {
  auto it = config.find(field);
  if (it == config.end() || it->is_null()) return {};
  if (!it->is_string())
    throw std::runtime_error(std::string("image config ") + field + " is not a string");
  return it->get<std::string>();
}

}  // namespace

guest_protocol::ImageConfig merge_image_config(const json& oci_config, const v1::RootfsOp& op) {
  static const json kEmpty = json::object();
  const json* config = &kEmpty;
  if (oci_config.is_object()) {
    auto it = oci_config.find("config");
    if (it != oci_config.end() && it->is_object()) config = &*it;
  }
  guest_protocol::ImageConfig c;
  c.entrypoint = strings(*config, "Entrypoint");
  c.cmd = strings(*config, "Cmd");
  c.env = strings(*config, "Env");
  c.working_dir = text(*config, "WorkingDir");
  c.user = text(*config, "User");
  if (op.entrypoint_set()) {
    c.entrypoint.assign(op.entrypoint().begin(), op.entrypoint().end());
    if (!op.cmd_set()) c.cmd.clear();
  }
  if (op.cmd_set()) c.cmd.assign(op.cmd().begin(), op.cmd().end());
  guest_protocol::merge_env(c.env, {op.env().begin(), op.env().end()});
  return c;
}

}  // namespace c2w::rootfs
