// The local op: a file or directory from the client's context directory (a recipe's COPY
// source or a local kernel tarball), stored as a blob (file) or a tree (directory). The op
// carries the content digest the frontend computed (context/loader.h), so its key
// follows the content; the op checks that what it stores still has that digest, so an edit
// between planning and running, or an upload that does not match, is an error rather than a
// wrong cache entry.
//
// In process the op reads the context directory. On a builder (c2wd) it has none: it builds
// the file or tree from what the client uploaded with the solve (solver::ClientUploads), and
// refuses an upload whose entries could write outside the tree (absolute or `..` paths, a
// parent that is not a directory entry) or whose content does not give the digest.
#pragma once

#include <filesystem>

#include "solver/op.h"

namespace c2w::local {

class LocalOp : public solver::OpImpl {
 public:
  // `context`: the directory recipe paths are relative to; empty: none (remote builder).
  explicit LocalOp(std::filesystem::path context) : context_(std::move(context)) {}
  cache::Record run(const v1::Op& op, solver::OpContext& ctx) override;

 private:
  cache::Record from_context(const v1::LocalOp& spec, solver::OpContext& ctx);
  std::filesystem::path context_;
};

// Builds the record of `spec` from a client's upload (c2wd). Exposed for tests.
cache::Record from_upload(const v1::LocalOp& spec, const v1::LocalContent& content,
                          solver::OpContext& ctx);

}  // namespace c2w::local
