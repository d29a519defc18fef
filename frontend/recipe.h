// The parsed recipe (syntax tree) and the parser that checks its shape.
//
// Promise: parse_recipe() either throws a RecipeError pointing at the offending byte or returns
// a Recipe whose stage graph is sound: stage names are unique, every stage reference names an
// earlier stage of the right kind (so the graph has no cycles), every instruction has its
// required parts. Values are kept as Words, unsubstituted: ARGs are applied by the builder,
// per stage, so a stage the build does not need cannot fail the build with a missing ARG.
//
// Syntax (instruction names and keywords are case-insensitive; stage names are lowercased):
//   ARG NAME[=default]
//   FROM <image-ref> [PLATFORM <os/arch>] AS <name>
//   KERNEL <source> [ARCH <arch>] [SHA256 <hex>] CONFIG <fragment-file> AS <name>
//       <source>: debian:<package>[=<version>] | http(s)://<url> (needs SHA256) | <local path>
//   ROOTFS <image-stage> AS <name>
//       followed by any of these lines, which belong to it until the next top-level line:
//       COPY <src> <dst>    ENV K=V [K=V]...    ENTRYPOINT <cmd>    CMD <cmd>
//       (<cmd>: exec form ["prog", "arg"] or shell form, run as /bin/sh -c "<text>")
//   BOOT <kernel-stage> <rootfs-stage> MEMORY <size> [APPEND <kernel-args>] AS <name>
//   PACK <boot-stage> TARGET wasi|browser AS <name>
//   RUN ...   reserved: rejected with "RUN is not supported yet"
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "frontend/lexer.h"

namespace c2w::frontend {

enum class StageKind { kImage, kKernel, kRootfs, kBoot, kPack };

// "image", "kernel", ... for messages.
std::string_view kind_name(StageKind kind);

struct ArgDecl {
  std::string name;
  std::optional<Word> default_value;
  SourcePos pos;  // of the ARG keyword
};

struct StageRef {
  std::string name;  // lowercased
  SourcePos pos;
  size_t index = 0;  // into Recipe::stages, resolved by the parser
};

struct FromBody {
  Word ref;
  std::optional<Word> platform;
};

struct KernelBody {
  Word source;
  Word config;
  std::optional<Word> arch;
  std::optional<Word> sha256;
};

struct CopyLine {
  Word src;
  Word dst;
  SourcePos pos;  // of the COPY keyword
};

struct EnvPair {
  std::string key;
  Word value;
};

// ENTRYPOINT or CMD. Not ARG-substituted, as in Dockerfiles: `$X` there belongs to the
// container's shell at run time (shell form) or is passed as is (exec form).
struct CommandLine {
  std::vector<std::string> argv;  // shell form already wrapped as /bin/sh -c "<text>"
  bool exec_form = false;
  SourcePos pos;  // of the keyword
};

struct RootfsBody {
  StageRef image;
  std::vector<CopyLine> copies;
  std::vector<EnvPair> env;
  std::optional<CommandLine> entrypoint;
  std::optional<CommandLine> cmd;
};

struct BootBody {
  StageRef kernel;
  StageRef rootfs;
  Word memory;
  std::optional<Word> append;
};

struct PackBody {
  StageRef boot;
  Word target;
};

struct Stage {
  std::string name;  // lowercased AS name
  StageKind kind = StageKind::kImage;
  SourcePos pos;  // of the instruction keyword
  SourcePos name_pos;
  size_t args_in_scope = 0;  // how many of Recipe::args precede this stage
  std::variant<FromBody, KernelBody, RootfsBody, BootBody, PackBody> body;
};

struct Recipe {
  std::string file;
  std::vector<ArgDecl> args;
  std::vector<Stage> stages;

  // Index of the stage named `name` (case-insensitive), if any.
  std::optional<size_t> find_stage(std::string_view name) const;
  std::vector<std::string> stage_names() const;
};

// `file` is the name used in errors and locations (e.g. "recipe" or the --recipe path).
Recipe parse_recipe(std::string_view text, const std::string& file);

}  // namespace c2w::frontend
