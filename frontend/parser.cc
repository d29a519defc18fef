// Recipe parser: one logical line at a time, then a pass that resolves stage references.
#include <algorithm>
#include <cctype>
#include <map>

#include "frontend/exec_form.h"
#include "frontend/recipe.h"

namespace c2w::frontend {
namespace {

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

const std::vector<std::string>& instruction_names() {
  static const std::vector<std::string> names = {
      "ARG", "FROM", "KERNEL", "ROOTFS", "BOOT", "PACK", "COPY", "ENV", "ENTRYPOINT", "CMD", "RUN"};
  return names;
}

const std::vector<std::string>& keywords() {
  static const std::vector<std::string> words = {"AS",     "PLATFORM", "CONFIG", "ARCH",
                                                 "SHA256", "MEMORY",   "APPEND", "TARGET"};
  return words;
}

bool is_keyword(const std::string& upper_word) {
  return std::find(keywords().begin(), keywords().end(), upper_word) != keywords().end();
}

bool valid_name(std::string_view s, bool allow_dot_dash) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(), [&](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' ||
           (allow_dot_dash && (c == '-' || c == '.'));
  });
}

// What one stage instruction takes: positional words, keyword options, then AS <name>.
struct Form {
  std::string_view instruction;
  std::vector<std::string_view> positionals;  // names for messages, e.g. "<image-ref>"
  std::vector<std::string_view> options;      // keywords taking one value
  std::vector<std::string_view> required;     // options that must be present
  std::string_view usage;
};

struct Parsed {
  std::vector<Word> positionals;
  std::map<std::string, Word> options;  // by upper-case keyword
  std::string name;
  SourcePos name_pos;
};

class Parser {
 public:
  Parser(std::string_view text, const std::string& file) : text_(text), recipe_{file, {}, {}} {}

  Recipe run() {
    std::vector<Line> lines = split_lines(text_, file());
    if (lines.empty()) {
      throw RecipeError(file(), {1, 1}, "the recipe is empty",
                        "a recipe needs at least one stage, e.g. FROM busybox AS image");
    }
    for (const Line& line : lines) parse_line(line);
    if (recipe_.stages.empty()) {
      throw RecipeError(file(), lines.back().start(), "the recipe defines no stages",
                        "add a stage after the ARGs, e.g. FROM ${IMAGE} AS image");
    }
    resolve_references();
    return std::move(recipe_);
  }

 private:
  const std::string& file() const { return recipe_.file; }

  [[noreturn]] void fail(SourcePos pos, std::string message, std::string hint = {}) const {
    throw RecipeError(file(), pos, std::move(message), std::move(hint));
  }

  void parse_line(const Line& line) {
    size_t length = bare_token_length(line, 0);
    std::string keyword = upper(std::string_view(line.text).substr(0, length));
    SourcePos at = line.start();
    if (keyword == "RUN") {
      fail(at, "RUN is not supported yet",
           "commands inside the guest at build time are planned; prepare the image instead");
    }
    if (keyword == "ENTRYPOINT" || keyword == "CMD") {
      RootfsBody& rootfs = open_rootfs(keyword, at);
      std::optional<CommandLine>& slot = keyword == "CMD" ? rootfs.cmd : rootfs.entrypoint;
      if (slot) {
        fail(at, keyword + " is already set for stage \"" + recipe_.stages.back().name + "\"",
             "it was set at line " + std::to_string(slot->pos.line) + "; keep one of them");
      }
      slot = parse_command(line, length, at, keyword);
      return;
    }
    std::vector<Word> words = split_words(line, length, file());
    if (keyword == "ARG") return parse_arg(words, at, line.end());
    if (keyword == "COPY") return parse_copy(words, at, line.end());
    if (keyword == "ENV") return parse_env(words, at, line.end());
    in_rootfs_block_ = false;
    if (keyword == "FROM") return parse_from(words, at, line.end());
    if (keyword == "KERNEL") return parse_kernel(words, at, line.end());
    if (keyword == "ROOTFS") return parse_rootfs(words, at, line.end());
    if (keyword == "BOOT") return parse_boot(words, at, line.end());
    if (keyword == "PACK") return parse_pack(words, at, line.end());

    std::string shown = line.text.substr(0, length);
    std::string guess = nearest_name(shown, instruction_names());
    fail(at, "unknown instruction \"" + shown + "\"",
         guess.empty() ? "instructions are " + join(instruction_names())
                       : "did you mean " + guess + "?");
  }

  // COPY/ENV/ENTRYPOINT/CMD attach to the ROOTFS stage whose block they are in.
  RootfsBody& open_rootfs(const std::string& keyword, SourcePos at) {
    if (!in_rootfs_block_) {
      fail(at, keyword + " must follow a ROOTFS line",
           "put it on the lines after ROOTFS <image-stage> AS <name>, before the next stage");
    }
    return std::get<RootfsBody>(recipe_.stages.back().body);
  }

  void parse_arg(const std::vector<Word>& words, SourcePos at, SourcePos end) {
    in_rootfs_block_ = false;
    if (words.empty()) fail(end, "ARG needs a name", "write ARG NAME or ARG NAME=default");
    if (words.size() > 1) {
      fail(words[1].start, "unexpected \"" + words[1].text + "\" after the ARG",
           "declare one ARG per line; quote a default that contains blanks");
    }
    const Word& word = words[0];
    size_t eq = word.text.find('=');
    ArgDecl decl{word.text.substr(0, eq), std::nullopt, at};
    if (!valid_name(decl.name, false)) {
      fail(word.start, "bad ARG name \"" + decl.name + "\"",
           "ARG names use letters, digits and _, and do not start with a digit");
    }
    for (const ArgDecl& other : recipe_.args) {
      if (other.name == decl.name) {
        fail(word.start, "ARG " + decl.name + " is declared twice",
             "the first declaration is at line " + std::to_string(other.pos.line));
      }
    }
    if (eq != std::string::npos) decl.default_value = word.tail(eq + 1);
    recipe_.args.push_back(std::move(decl));
  }

  Parsed parse_form(const Form& form, const std::vector<Word>& words, SourcePos end) {
    Parsed out;
    std::string instruction(form.instruction);
    auto usage = [&] { return "write " + std::string(form.usage); };
    bool named = false;
    for (size_t i = 0; i < words.size(); ++i) {
      const Word& w = words[i];
      std::string key = w.quoted ? std::string() : upper(w.text);
      if (key == "AS") {
        if (i + 1 >= words.size()) fail(end, "AS needs a stage name", usage());
        const Word& name = words[i + 1];
        if (!valid_name(name.text, true)) {
          fail(name.start, "bad stage name \"" + name.text + "\"",
               "stage names start with a letter and use letters, digits, '_', '-' and '.'");
        }
        // A stage named like a keyword could not be referred to unquoted ("ROOTFS as AS r").
        if (is_keyword(upper(name.text))) {
          fail(name.start, "stage name \"" + name.text + "\" is a keyword",
               "pick a name that is not one of " + join(keywords()));
        }
        out.name = lower(name.text);
        out.name_pos = name.start;
        if (i + 2 < words.size()) {
          fail(words[i + 2].start, "unexpected \"" + words[i + 2].text + "\" after the stage name",
               "AS <name> ends the instruction; " + usage());
        }
        named = true;
        break;
      }
      if (!key.empty() &&
          std::find(form.options.begin(), form.options.end(), key) != form.options.end()) {
        if (i + 1 >= words.size()) fail(end, key + " needs a value", usage());
        if (out.options.contains(key)) fail(w.start, key + " is given twice", usage());
        out.options.emplace(key, words[++i]);
        continue;
      }
      if (out.positionals.size() == form.positionals.size()) {
        fail(w.start, "unexpected \"" + w.text + "\" in " + instruction, usage());
      }
      out.positionals.push_back(w);
    }
    if (out.positionals.size() < form.positionals.size()) {
      fail(end, instruction + " needs " + std::string(form.positionals[out.positionals.size()]),
           usage());
    }
    for (std::string_view key : form.required) {
      if (!out.options.contains(std::string(key))) {
        fail(end, instruction + " needs " + std::string(key) + " <value>", usage());
      }
    }
    if (!named) {
      fail(end, instruction + " needs AS <name>", "every stage is named; " + usage());
    }
    return out;
  }

  Stage& add_stage(StageKind kind, SourcePos at, Parsed& parsed) {
    for (const Stage& other : recipe_.stages) {
      if (other.name == parsed.name) {
        fail(parsed.name_pos, "duplicate stage name \"" + parsed.name + "\"",
             "\"" + parsed.name + "\" is already defined at line " +
                 std::to_string(other.pos.line) + "; pick another name");
      }
    }
    Stage& stage = recipe_.stages.emplace_back();
    stage.name = parsed.name;
    stage.kind = kind;
    stage.pos = at;
    stage.name_pos = parsed.name_pos;
    stage.args_in_scope = recipe_.args.size();
    return stage;
  }

  static std::optional<Word> take(Parsed& parsed, const std::string& key) {
    auto it = parsed.options.find(key);
    if (it == parsed.options.end()) return std::nullopt;
    return it->second;
  }

  static StageRef ref(const Word& w) { return StageRef{lower(w.text), w.start, 0}; }

  void parse_from(const std::vector<Word>& words, SourcePos at, SourcePos end) {
    static const Form form{"FROM",
                           {"<image-ref>"},
                           {"PLATFORM"},
                           {},
                           "FROM <image-ref> [PLATFORM <os/arch>] AS <name>"};
    Parsed p = parse_form(form, words, end);
    add_stage(StageKind::kImage, at, p).body = FromBody{p.positionals[0], take(p, "PLATFORM")};
  }

  void parse_kernel(const std::vector<Word>& words, SourcePos at, SourcePos end) {
    static const Form form{
        "KERNEL",
        {"<source>"},
        {"CONFIG", "ARCH", "SHA256"},
        {"CONFIG"},
        "KERNEL <source> [ARCH <arch>] [SHA256 <hex>] CONFIG <fragment-file> AS <name>"};
    Parsed p = parse_form(form, words, end);
    add_stage(StageKind::kKernel, at, p).body =
        KernelBody{p.positionals[0], *take(p, "CONFIG"), take(p, "ARCH"), take(p, "SHA256")};
  }

  void parse_rootfs(const std::vector<Word>& words, SourcePos at, SourcePos end) {
    static const Form form{"ROOTFS", {"<image-stage>"}, {}, {}, "ROOTFS <image-stage> AS <name>"};
    Parsed p = parse_form(form, words, end);
    add_stage(StageKind::kRootfs, at, p).body = RootfsBody{ref(p.positionals[0]), {}, {}, {}, {}};
    in_rootfs_block_ = true;
  }

  void parse_boot(const std::vector<Word>& words, SourcePos at, SourcePos end) {
    static const Form form{
        "BOOT",
        {"<kernel-stage>", "<rootfs-stage>"},
        {"MEMORY", "APPEND"},
        {"MEMORY"},
        "BOOT <kernel-stage> <rootfs-stage> MEMORY <size> [APPEND <kernel-args>] AS <name>"};
    Parsed p = parse_form(form, words, end);
    add_stage(StageKind::kBoot, at, p).body = BootBody{ref(p.positionals[0]), ref(p.positionals[1]),
                                                       *take(p, "MEMORY"), take(p, "APPEND")};
  }

  void parse_pack(const std::vector<Word>& words, SourcePos at, SourcePos end) {
    static const Form form{"PACK",
                           {"<boot-stage>"},
                           {"TARGET"},
                           {"TARGET"},
                           "PACK <boot-stage> TARGET wasi|browser AS <name>"};
    Parsed p = parse_form(form, words, end);
    add_stage(StageKind::kPack, at, p).body = PackBody{ref(p.positionals[0]), *take(p, "TARGET")};
  }

  void parse_copy(const std::vector<Word>& words, SourcePos at, SourcePos end) {
    RootfsBody& rootfs = open_rootfs("COPY", at);
    if (words.size() != 2) {
      fail(words.size() < 2 ? end : words[2].start,
           "COPY takes a source and a destination, got " + std::to_string(words.size()) +
               " argument" + (words.size() == 1 ? "" : "s"),
           "write COPY <src> <dst>, one source per line; quote paths that contain blanks");
    }
    rootfs.copies.push_back(CopyLine{words[0], words[1], at});
  }

  void parse_env(const std::vector<Word>& words, SourcePos at, SourcePos end) {
    RootfsBody& rootfs = open_rootfs("ENV", at);
    if (words.empty()) fail(end, "ENV needs KEY=VALUE", "write ENV KEY=VALUE [KEY=VALUE]...");
    for (const Word& w : words) {
      size_t eq = w.text.find('=');
      std::string key = w.text.substr(0, eq);
      if (eq == std::string::npos || !valid_name(key, false)) {
        fail(w.start, "bad ENV entry \"" + w.text + "\"",
             "write ENV KEY=VALUE; keys use letters, digits and _; quote values with blanks");
      }
      rootfs.env.push_back(EnvPair{key, w.tail(eq + 1)});
    }
  }

  CommandLine parse_command(const Line& line, size_t offset, SourcePos at,
                            const std::string& keyword) {
    CommandLine command;
    command.pos = at;
    if (auto argv = parse_exec_form(line, offset, file())) {
      command.argv = std::move(*argv);
      command.exec_form = true;
      return command;
    }
    std::string_view rest = std::string_view(line.text).substr(offset);
    while (!rest.empty() && is_blank(rest.front())) rest.remove_prefix(1);
    while (!rest.empty() && is_blank(rest.back())) rest.remove_suffix(1);
    if (rest.empty()) {
      fail(line.end(), keyword + " needs a command",
           "write " + keyword + " [\"prog\", \"arg\"] or " + keyword + " <shell command>");
    }
    command.argv = {"/bin/sh", "-c", std::string(rest)};
    return command;
  }

  // Every reference must name an earlier stage of the kind its instruction needs; with only
  // backward references allowed the stage graph cannot have a cycle.
  void resolve_references() {
    for (size_t i = 0; i < recipe_.stages.size(); ++i) {
      Stage& stage = recipe_.stages[i];
      std::visit(
          [&](auto& body) {
            using Body = std::decay_t<decltype(body)>;
            if constexpr (std::is_same_v<Body, RootfsBody>) {
              resolve(i, body.image, StageKind::kImage, "ROOTFS");
            } else if constexpr (std::is_same_v<Body, BootBody>) {
              resolve(i, body.kernel, StageKind::kKernel, "BOOT");
              resolve(i, body.rootfs, StageKind::kRootfs, "BOOT");
            } else if constexpr (std::is_same_v<Body, PackBody>) {
              resolve(i, body.boot, StageKind::kBoot, "PACK");
            }
          },
          stage.body);
    }
  }

  void resolve(size_t user, StageRef& r, StageKind want, const std::string& instruction) {
    std::optional<size_t> found = recipe_.find_stage(r.name);
    if (!found) {
      std::vector<std::string> earlier;
      for (size_t i = 0; i < user; ++i) earlier.push_back(recipe_.stages[i].name);
      std::string guess = nearest_name(r.name, earlier);
      std::string hint = earlier.empty() ? "no stage is defined before this line"
                                         : "defined stages: " + join(earlier);
      if (!guess.empty()) hint = "did you mean " + guess + "? " + hint;
      fail(r.pos, "undefined stage \"" + r.name + "\"", hint);
    }
    const Stage& target = recipe_.stages[*found];
    if (*found == user) {
      fail(r.pos, "stage \"" + r.name + "\" refers to itself",
           "a stage cannot be its own input (that is a cycle); name an earlier stage");
    }
    if (*found > user) {
      fail(r.pos,
           "stage \"" + r.name + "\" is used before it is defined (line " +
               std::to_string(target.pos.line) + ")",
           "move it above this line: stages may only use earlier stages, so the graph has no "
           "cycles");
    }
    if (target.kind != want) {
      fail(r.pos,
           instruction + " needs " + article(want) + " stage here, but \"" + r.name + "\" is " +
               article(target.kind) + " stage (line " + std::to_string(target.pos.line) + ")",
           std::string(kind_name(want)) + " stages are made by " + maker(want));
    }
    r.index = *found;
  }

  static std::string article(StageKind kind) {
    std::string name(kind_name(kind));
    return (name[0] == 'i' ? "an " : "a ") + name;
  }

  static std::string maker(StageKind kind) {
    switch (kind) {
      case StageKind::kImage:
        return "FROM";
      case StageKind::kKernel:
        return "KERNEL";
      case StageKind::kRootfs:
        return "ROOTFS";
      case StageKind::kBoot:
        return "BOOT";
      case StageKind::kPack:
        return "PACK";
    }
    return "";
  }

  std::string_view text_;
  Recipe recipe_;
  bool in_rootfs_block_ = false;
};

}  // namespace

std::string_view kind_name(StageKind kind) {
  switch (kind) {
    case StageKind::kImage:
      return "image";
    case StageKind::kKernel:
      return "kernel";
    case StageKind::kRootfs:
      return "rootfs";
    case StageKind::kBoot:
      return "boot";
    case StageKind::kPack:
      return "pack";
  }
  return "?";
}

std::optional<size_t> Recipe::find_stage(std::string_view name) const {
  std::string wanted = lower(name);
  for (size_t i = 0; i < stages.size(); ++i) {
    if (stages[i].name == wanted) return i;
  }
  return std::nullopt;
}

std::vector<std::string> Recipe::stage_names() const {
  std::vector<std::string> names;
  for (const Stage& s : stages) names.push_back(s.name);
  return names;
}

Recipe parse_recipe(std::string_view text, const std::string& file) {
  return Parser(text, file).run();
}

}  // namespace c2w::frontend
