#include "graph/digest.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <stdexcept>

namespace c2w::graph {

std::string deterministic_bytes(const google::protobuf::Message& message) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    if (!message.SerializeToCodedStream(&coded)) {
      throw std::runtime_error("cannot serialize " + message.GetTypeName());
    }
  }  // the coded stream flushes into `out` when it goes away
  return out;
}

std::string op_digest(const c2w::v1::Op& op) {
  return xxh3_digest(deterministic_bytes(op));
}

bool is_digest(std::string_view text) {
  if (!text.starts_with(kXxh3Prefix)) return false;
  text.remove_prefix(kXxh3Prefix.size());
  if (text.size() != 32) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string_view op_kind_name(c2w::v1::Op::KindCase kind) {
  switch (kind) {
    case c2w::v1::Op::kFetch:
      return "fetch";
    case c2w::v1::Op::kUnpack:
      return "unpack";
    case c2w::v1::Op::kSource:
      return "source";
    case c2w::v1::Op::kLocal:
      return "local";
    case c2w::v1::Op::kKernel:
      return "kernel";
    case c2w::v1::Op::kRootfs:
      return "rootfs";
    case c2w::v1::Op::kBoot:
      return "boot";
    case c2w::v1::Op::kPack:
      return "pack";
    case c2w::v1::Op::KIND_NOT_SET:
      break;
  }
  return "unknown";
}

}  // namespace c2w::graph
