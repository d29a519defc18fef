#include "frontend/describe.h"

#include <google/protobuf/text_format.h>

#include <map>
#include <stdexcept>

#include "graph/digest.h"

namespace c2w::frontend {
namespace {

std::string fields_of(c2w::v1::Op op) {
  op.clear_inputs();
  if (op.has_kernel()) {
    const std::string& text = op.kernel().config_fragment();
    op.mutable_kernel()->set_config_fragment("<" + std::to_string(text.size()) + " bytes " +
                                             xxh3_digest(text) + ">");
  }
  google::protobuf::TextFormat::Printer printer;
  printer.SetSingleLineMode(true);
  std::string out;
  printer.PrintToString(op, &out);
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace

std::string describe(const c2w::v1::Definition& definition) {
  std::string out;
  std::map<std::string, size_t> number;  // digest -> #n
  for (int i = 0; i < definition.ops_size(); ++i) {
    c2w::v1::Op op;
    if (!op.ParseFromString(definition.ops(i))) {
      throw std::runtime_error("op " + std::to_string(i + 1) + " of the definition is corrupt");
    }
    std::string digest = xxh3_digest(definition.ops(i));
    number[digest] = static_cast<size_t>(i + 1);
    out += "#" + std::to_string(i + 1) + " " + std::string(graph::op_kind_name(op.kind_case())) +
           " " + digest;
    auto meta = definition.metadata().find(digest);
    if (meta == definition.metadata().end()) {
      out += " (no metadata: digest mismatch?)\n";
    } else {
      const auto& m = meta->second;
      out += " stage=" + m.stage() + " at " + m.location().file() + ":" +
             std::to_string(m.location().line()) + ":" + std::to_string(m.location().column()) +
             "\n    " + m.description() + "\n";
    }
    if (op.inputs_size() > 0) {
      out += "    inputs:";
      for (const auto& in : op.inputs()) {
        auto it = number.find(in.digest());
        out += it == number.end() ? " " + in.digest() + "(missing!)"
                                  : " #" + std::to_string(it->second);
      }
      out += "\n";
    }
    out += "    " + fields_of(op) + "\n";
  }
  const std::string& result = definition.result().digest();
  auto it = number.find(result);
  out += "result: " + (it == number.end() ? "(missing) " : "#" + std::to_string(it->second) + " ") +
         result + "\n";
  return out;
}

}  // namespace c2w::frontend
