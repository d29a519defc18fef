// The local op: a file or directory from the client's context directory (a recipe's COPY
// source or a local kernel tarball), stored as a blob (file) or a tree (directory). The op
// carries the content digest the frontend computed (frontend/file_loader.h), so its key
// follows the content; the op checks that what it reads still has that digest, so an edit
// between planning and running is an error rather than a wrong cache entry.
//
// Only in-process builds have the context: a builder without one (c2wd) fails the op with a
// hint, since uploading local inputs to a remote builder is not implemented yet.
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
  std::filesystem::path context_;
};

}  // namespace c2w::local
