#include "ops/boot/boot_op.h"

#include <deque>
#include <filesystem>
#include <vector>

#include "base/error.h"
#include "base/subprocess.h"
#include "runtime/embedded_runtime.h"

namespace c2w::boot {

namespace fs = std::filesystem;

std::string BootOp::cache_salt(const v1::Op&) const {
  return "boot-v1 runtime=" + runtime::embedded_runtime_digest();
}

cache::Record BootOp::run(const v1::Op& op, solver::OpContext& ctx) {
  const v1::BootOp& spec = op.boot();
  if (ctx.inputs.size() != 2) throw Error("boot needs two inputs: the kernel and the initramfs");
  const fs::path scratch = ctx.store.stage_tree();
  struct Cleanup {
    cache::Store& store;
    fs::path p;
    ~Cleanup() { store.discard(p); }
  } cleanup{ctx.store, scratch};
  const fs::path snapshot = scratch / kOutputName;

  std::vector<std::string> argv = {self_,        "__boot-vm",
                                   "--kernel",   ctx.inputs[0].path.string(),
                                   "--initrd",   ctx.inputs[1].path.string(),
                                   "--memory",   std::to_string(spec.memory_bytes()),
                                   "--snapshot", snapshot.string(),
                                   "--timeout",  std::to_string(static_cast<int>(timeout_s_))};
  if (!spec.append().empty()) argv.insert(argv.end(), {"--append", spec.append()});
  std::deque<std::string> tail;
  ProcessOptions po;
  po.cancelled = [&] { return ctx.cancel.cancelled(); };
  po.on_line = [&](const std::string& line) {
    ctx.progress.log(line);
    tail.push_back(line);
    if (tail.size() > 30) tail.pop_front();
  };
  ctx.progress.log("booting the guest until init is ready");
  const int rc = run_process(argv, po);
  if (rc != 0) {
    std::string lines;
    bool too_small = false;
    for (const std::string& l : tail) {
      lines += "\n    " + l;
      too_small =
          too_small || l.find("Initramfs unpacking failed: write error") != std::string::npos;
    }
    if (too_small)
      throw Error("boot: the image does not fit in the guest's " +
                      std::to_string(spec.memory_bytes() >> 20) +
                      " MiB of RAM (the kernel could not unpack the initramfs)",
                  "give the guest more memory, e.g. --build-arg MEMORY=" +
                      std::to_string(2 * (spec.memory_bytes() >> 20)) + "M");
    const std::string why = rc == 124 ? "the guest did not become ready in time"
                            : rc > 128
                                ? "the emulator was killed by signal " + std::to_string(rc - 128)
                                : "the guest did not become ready";
    throw Error("boot: " + why + " (exit " + std::to_string(rc) +
                    "); last lines of the guest console:" + lines,
                "check that the kernel and the image's init work: --progress=plain shows the "
                "whole boot log; `c2w-vm run --kernel ... --initrd ... --console` reproduces it");
  }
  cache::BlobWriter w = ctx.store.write_blob();
  w.write_file(snapshot);
  cache::Record r;
  r.kind = cache::Record::Kind::kBlob;
  r.size = fs::file_size(snapshot);
  r.content = w.commit();
  r.meta = {{"filename", kOutputName},
            {"memory", spec.memory_bytes()},
            {"runtime", runtime::embedded_runtime_digest()}};
  return r;
}

}  // namespace c2w::boot
