#include "ops/local/local_op.h"

#include "base/error.h"
#include "context/loader.h"

namespace c2w::local {

namespace fs = std::filesystem;

cache::Record LocalOp::run(const v1::Op& op, solver::OpContext& ctx) {
  const v1::LocalOp& spec = op.local();
  if (ctx.uploads) {
    auto it = ctx.uploads->files.find(spec.content_digest());
    if (it == ctx.uploads->files.end())
      throw Error("local file " + spec.name() + " was not sent by the client",
                  "c2w --builder sends every local file the recipe names; run the build again");
    return from_upload(spec, it->second, ctx);
  }
  if (context_.empty())
    throw Error("local file " + spec.name() + " is not available on this builder",
                "the client sends local files with its solve; this request carried none");
  return from_context(spec, ctx);
}

cache::Record LocalOp::from_context(const v1::LocalOp& spec, solver::OpContext& ctx) {
  // The loader confines the path to the context (no absolute paths, `..` or escaping
  // symlinks) and digests it the way the frontend did.
  context::DirectoryLoader loader(context_);
  std::string digest;
  try {
    digest = loader.digest(spec.name());
  } catch (const std::exception& e) {
    throw Error(std::string("cannot read local file: ") + e.what());
  }
  if (digest != spec.content_digest())
    throw Error(spec.name() + " changed while the build was running",
                "run the build again once the file is stable");
  const fs::path src = fs::canonical(context_ / spec.name());

  cache::Record r;
  r.meta = {{"name", spec.name()}, {"digest", digest}};
  if (fs::is_directory(src)) {
    const fs::path staged = ctx.store.stage_tree();
    fs::copy(src, staged / "content",
             fs::copy_options::recursive | fs::copy_options::copy_symlinks);
    const fs::path tree = ctx.store.commit_tree(staged / "content", digest);
    ctx.store.discard(staged);
    r.kind = cache::Record::Kind::kTree;
    r.content = digest;
    r.size = cache::disk_size(tree);
    return r;
  }
  cache::BlobWriter w = ctx.store.write_blob();
  w.write_file(src);
  r.kind = cache::Record::Kind::kBlob;
  r.content = w.commit();
  r.size = fs::file_size(src);
  r.meta["filename"] = src.filename().string();
  return r;
}

}  // namespace c2w::local
