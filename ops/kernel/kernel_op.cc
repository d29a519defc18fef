#include "ops/kernel/kernel_op.h"

#include <deque>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "base/error.h"
#include "base/subprocess.h"

namespace c2w::kernel {

namespace fs = std::filesystem;

namespace {

// "CONFIG_X" -> "y", "m", "n" or a value, from .config or fragment lines.
std::map<std::string, std::string> parse_config(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("# CONFIG_") && line.ends_with(" is not set")) {
      out[line.substr(2, line.size() - 2 - 11)] = "n";
    } else if (line.starts_with("CONFIG_")) {
      size_t eq = line.find('=');
      if (eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
    }
  }
  return out;
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string indent(const std::deque<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += "\n    " + l;
  return out;
}

// Runs a build step, logging its output as progress; returns the tail of its log, which
// is also what a failure reports.
std::deque<std::string> step(const std::vector<std::string>& argv, const fs::path& cwd,
                             const std::map<std::string, std::string>& env, solver::OpContext& ctx,
                             const std::string& what) {
  std::deque<std::string> tail;
  ProcessOptions po;
  po.cwd = cwd;
  po.env = env;
  po.cancelled = [&] { return ctx.cancel.cancelled(); };
  po.on_line = [&](const std::string& line) {
    ctx.progress.log(line);
    tail.push_back(line);
    if (tail.size() > 25) tail.pop_front();
  };
  int rc = run_process(argv, po);
  if (rc != 0)
    throw Error(
        what + " failed (exit " + std::to_string(rc) + "); last lines of its log:" + indent(tail),
        "fix the kernel config fragment or the source; the full log is in the progress output "
        "(--progress=plain)");
  return tail;
}

}  // namespace

Toolchain toolchain_for(const std::string& arch) {
  if (arch == "riscv64") return {"riscv", "riscv64-linux-gnu-", "arch/riscv/boot/Image"};
  throw Error("cannot build a kernel for architecture \"" + arch + "\"",
              "c2w builds riscv64 kernels for now");
}

std::vector<std::string> unmet_options(const std::string& fragment, const std::string& dot_config) {
  auto want = parse_config(fragment);
  auto have = parse_config(dot_config);
  std::vector<std::string> out;
  for (const auto& [key, value] : want) {
    auto it = have.find(key);
    std::string got = it == have.end() ? "n" : it->second;
    if (got != value) out.push_back(key + "=" + value + " (got " + got + ")");
  }
  return out;
}

std::string KernelOp::cache_salt(const v1::Op& op) const {
  Toolchain tc = toolchain_for(op.kernel().arch().empty() ? "riscv64" : op.kernel().arch());
  std::string version;
  ProcessOptions po;
  po.on_line = [&](const std::string& line) {
    if (version.empty()) version = line;
  };
  try {
    run_process({tc.cross_prefix + "gcc", "--version"}, po);
  } catch (const Error&) {
    version = "missing";  // the build itself then fails with a clear message
  }
  return "kernel-v1 " + version;
}

cache::Record KernelOp::run(const v1::Op& op, solver::OpContext& ctx) {
  const v1::KernelOp& k = op.kernel();
  Toolchain tc = toolchain_for(k.arch().empty() ? "riscv64" : k.arch());
  if (ctx.inputs.size() != 1) throw Error("kernel needs one input: the kernel source tarball");
  fs::path scratch = ctx.store.stage_tree();
  struct Cleanup {
    cache::Store& store;
    fs::path p;
    ~Cleanup() { store.discard(p); }
  } cleanup{ctx.store, scratch};
  fs::path src = scratch / "src";
  fs::create_directories(src);

  ctx.progress.log("extracting " + ctx.inputs[0].record.content.substr(0, 19));
  step({"tar", "-xf", ctx.inputs[0].path.string(), "-C", src.string(), "--strip-components=1"},
       scratch, {}, ctx, "extracting the kernel source");
  std::ofstream(scratch / "c2w.config") << k.config_fragment();
  unsigned jobs = std::max(1u, std::thread::hardware_concurrency());
  std::map<std::string, std::string> env = {{"ARCH", tc.kernel_arch},
                                            {"CROSS_COMPILE", tc.cross_prefix},
                                            {"KBUILD_BUILD_TIMESTAMP", "1970-01-01"},
                                            {"KBUILD_BUILD_USER", "c2w"},
                                            {"KBUILD_BUILD_HOST", "c2w"}};
  auto merge_tail =
      step({"scripts/kconfig/merge_config.sh", "-n", "kernel/configs/tiny-base.config",
            "kernel/configs/tiny.config", (scratch / "c2w.config").string()},
           src, env, ctx, "merging the kernel config");
  std::string dot_config = read_text(src / ".config");
  if (auto unmet = unmet_options(k.config_fragment(), dot_config); !unmet.empty()) {
    std::string list;
    for (const std::string& u : unmet) list += (list.empty() ? "" : ", ") + u;
    throw Error("the kernel config fragment did not take effect: " + list +
                    "; last lines of the config log:" + indent(merge_tail),
                "those options are unknown to this kernel or their dependencies are off; "
                "add the dependencies to the fragment");
  }
  step({"make", "-j" + std::to_string(jobs), "Image"}, src, env, ctx, "building the kernel");

  fs::path image = src / tc.image_path;
  cache::BlobWriter w = ctx.store.write_blob();
  std::string data = read_text(image);
  if (data.empty()) throw Error("the kernel build made no " + tc.image_path);
  w.write(data.data(), data.size());
  cache::Record r;
  r.content = w.commit();
  r.size = data.size();
  r.meta = {{"arch", k.arch()}, {"config", ctx.store.put_blob(dot_config)}, {"filename", "Image"}};
  return r;
}

}  // namespace c2w::kernel
