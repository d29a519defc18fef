// The local op on a builder: a client's uploaded file or tree, checked and stored.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>

#include "base/error.h"
#include "base/fd.h"
#include "context/loader.h"
#include "oci/sha256.h"
#include "ops/local/local_op.h"

namespace c2w::local {

namespace {

namespace fs = std::filesystem;
using Entry = v1::LocalEntry;

Error bad_upload(const std::string& name, const std::string& why) {
  return Error("the client's upload of " + name + " is refused: " + why,
               "the client and the builder disagree; update both to the same c2w version");
}

std::string parent_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

// Checks the entries' shape; returns them by path. Every path is normalized and relative,
// every entry below the root has a directory entry as its parent, so creating them in path
// order never goes through a symlink or leaves the tree.
std::map<std::string, const Entry*> checked_entries(const std::string& name,
                                                    const v1::LocalContent& content,
                                                    cache::Store& store) {
  std::map<std::string, const Entry*> by_path;
  for (const Entry& e : content.entries()) {
    std::string normal;
    try {
      normal = context::normalize_context_path(e.path());
    } catch (const std::exception& ex) {
      throw bad_upload(name, std::string("entry path ") + ex.what());
    }
    if (normal != e.path()) throw bad_upload(name, "entry path \"" + e.path() + "\" is not normal");
    if (e.mode() > 07777)
      throw bad_upload(name, "entry " + e.path() + " has mode bits beyond 07777");
    if (!Entry::Kind_IsValid(e.kind()))
      throw bad_upload(name, "entry " + e.path() + " has an unknown kind");
    if (e.kind() == Entry::KIND_FILE && (!oci::is_sha256_digest(e.blob()) || !store.blob(e.blob())))
      throw bad_upload(name, "the content of " + e.path() + " (" + e.blob() + ") was not uploaded");
    if (!by_path.emplace(e.path(), &e).second)
      throw bad_upload(name, "entry " + e.path() + " appears twice");
  }
  auto root = by_path.find(".");
  if (root == by_path.end()) throw bad_upload(name, "it has no root entry");
  if (root->second->kind() == Entry::KIND_SYMLINK) throw bad_upload(name, "its root is a symlink");
  if (root->second->kind() == Entry::KIND_FILE && by_path.size() != 1)
    throw bad_upload(name, "its root is a file, yet it has more entries");
  for (const auto& [path, e] : by_path) {
    if (path == ".") continue;
    auto parent = by_path.find(parent_of(path));
    if (parent == by_path.end() || parent->second->kind() != Entry::KIND_DIRECTORY)
      throw bad_upload(name, "the parent of " + path + " is not a directory entry");
  }
  return by_path;
}

void copy_new_file(const fs::path& from, const fs::path& to, uint32_t mode) {
  Fd out(::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!out.valid()) throw system_error("cannot create " + to.string(), errno);
  std::ifstream in(from, std::ios::binary);
  std::string buf(1 << 20, '\0');
  bool ok = static_cast<bool>(in);
  while (ok && in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    ok = write_all(out.get(), std::string_view(buf.data(), static_cast<size_t>(in.gcount())));
  }
  if (ok) ok = ::fchmod(out.get(), mode) == 0;
  if (!ok) throw system_error("cannot write " + to.string(), errno);
}

}  // namespace

cache::Record from_upload(const v1::LocalOp& spec, const v1::LocalContent& content,
                          solver::OpContext& ctx) {
  const std::string& name = spec.name();
  auto by_path = checked_entries(name, content, ctx.store);

  // The digest the frontend planned with, recomputed from what actually arrived.
  std::vector<context::TreeEntry> tree;
  for (const auto& [path, e] : by_path) {
    ctx.cancel.throw_if_cancelled();
    switch (e->kind()) {
      case Entry::KIND_FILE:
        tree.push_back(
            {'f', path, e->mode(), context::file_content_digest(*ctx.store.blob(e->blob()))});
        break;
      case Entry::KIND_DIRECTORY:
        tree.push_back({'d', path, e->mode(), ""});
        break;
      default:
        tree.push_back({'l', path, 0, e->target()});
    }
  }
  const std::string digest = context::tree_digest(tree);
  if (digest != spec.content_digest() || digest != content.content_digest())
    throw bad_upload(name, "its content gives " + digest + ", not " + spec.content_digest());

  cache::Record r;
  r.meta = {{"name", name}, {"digest", digest}};
  const Entry& root = *by_path.at(".");
  if (root.kind() == Entry::KIND_FILE) {
    r.kind = cache::Record::Kind::kBlob;
    r.content = root.blob();  // already in the store, checked on the way in
    r.size = fs::file_size(*ctx.store.blob(root.blob()));
    r.meta["filename"] = fs::path(name).filename().string();
    return r;
  }
  const fs::path staged = ctx.store.stage_tree();
  const fs::path top = staged / "content";
  try {
    for (const auto& [path, e] : by_path) {  // parents sort before their children
      ctx.cancel.throw_if_cancelled();
      const fs::path at = path == "." ? top : top / path;
      if (e->kind() == Entry::KIND_DIRECTORY) {
        if (::mkdir(at.c_str(), 0700) != 0)
          throw system_error("cannot create " + at.string(), errno);
      } else if (e->kind() == Entry::KIND_FILE) {
        copy_new_file(*ctx.store.blob(e->blob()), at, e->mode());
      } else if (::symlink(e->target().c_str(), at.c_str()) != 0) {
        throw system_error("cannot create " + at.string(), errno);
      }
    }
    // Directory modes last, deepest first, so a read-only directory is filled before it closes.
    for (auto it = by_path.rbegin(); it != by_path.rend(); ++it)
      if (it->second->kind() == Entry::KIND_DIRECTORY) {
        const fs::path at = it->first == "." ? top : top / it->first;
        if (::chmod(at.c_str(), it->second->mode()) != 0)
          throw system_error("cannot set the mode of " + at.string(), errno);
      }
  } catch (...) {
    ctx.store.discard(staged);
    throw;
  }
  const fs::path committed = ctx.store.commit_tree(top, digest);
  ctx.store.discard(staged);
  r.kind = cache::Record::Kind::kTree;
  r.content = digest;
  r.size = cache::disk_size(committed);
  return r;
}

}  // namespace c2w::local
