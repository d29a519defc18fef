#include "ops/unpack/unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>

#include "base/error.h"
#include "base/fd.h"
#include "oci/sha256.h"
#include "ops/unpack/rootfs.h"
#include "ops/unpack/stream.h"

namespace c2w::unpack {

namespace fs = std::filesystem;

namespace {

constexpr size_t kTarBlock = 1 << 20;
constexpr const char* kRefetch =
    "the blob is corrupt or truncated: remove it from the cache and fetch the image again";
constexpr const char* kRefuse = "the layer is malformed or malicious; refusing to unpack it";
constexpr const char* kHost =
    "the host refused it: check free space and permissions where the image is unpacked";

struct ArchiveFree {
  void operator()(archive* a) const { archive_read_free(a); }
};

struct TarInput {
  LayerStream* stream;
  std::vector<char> buf = std::vector<char>(kTarBlock);
};

la_ssize_t tar_read(archive* a, void* ctx, const void** out) {
  auto* in = static_cast<TarInput*>(ctx);
  *out = in->buf.data();
  ssize_t n = in->stream->read(in->buf.data(), in->buf.size());
  if (n < 0)
    archive_set_error(a, EIO, "%s",
                      in->stream->error().empty() ? "cancelled" : in->stream->error().c_str());
  return n;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// OCI media types that name a compression must be right; Docker's gzip type is known to be
// put on other compressions in the wild, and plain or unknown types are sniffed anyway.
std::string declared_compression(std::string_view media_type) {
  if (ends_with(media_type, "+gzip")) return "gzip";
  if (ends_with(media_type, "+zstd")) return "zstd";
  return "";
}

class LayerApplier {
 public:
  LayerApplier(const LayerBlob& blob, size_t index, size_t count, const UnpackOptions& options)
      : blob_(blob), index_(index), count_(count), options_(options) {}

  LayerStats apply(RootfsWriter& writer);

 private:
  [[noreturn]] void fail(const std::string& what, const std::string& todo) const {
    throw UnpackError("unpack: layer " + std::to_string(index_ + 1) + "/" + std::to_string(count_) +
                      " " + blob_.digest + ": " + what + "; " + todo);
  }

  const LayerBlob& blob_;
  size_t index_, count_;
  const UnpackOptions& options_;
};

LayerStats LayerApplier::apply(RootfsWriter& writer) {
  auto start = std::chrono::steady_clock::now();
  if (!oci::is_sha256_digest(blob_.digest))
    fail("digest '" + blob_.digest + "' is not a sha256 digest",
         "only sha256 layer digests are supported");
  std::unique_ptr<LayerStream> stream;
  try {
    LayerStream::Progress progress;
    if (options_.progress)
      progress = [this](uint64_t read, uint64_t total) { options_.progress(index_, read, total); };
    stream = std::make_unique<LayerStream>(blob_.file, std::move(progress));
  } catch (const Cancelled&) {
    throw;  // the caller's cancellation, not a broken layer
  } catch (const std::runtime_error& err) {
    fail(err.what(), "fetch the image again");
  }
  std::string declared = declared_compression(blob_.media_type);
  if (!declared.empty() && declared != stream->compression())
    fail("media type " + blob_.media_type + " says " + declared + " but the data is " +
             stream->compression(),
         "the image manifest is wrong; rebuild or re-push the image");

  LayerStats stats;
  std::string problem;  // the first failure; its root cause is known only after the drain
  const char* todo = kRefetch;
  TarInput input{stream.get()};
  std::unique_ptr<archive, ArchiveFree> tar(archive_read_new());
  archive_read_support_format_tar(tar.get());
  auto tar_error = [&] {
    const char* why = archive_error_string(tar.get());
    problem = std::string("reading the tar: ") + (why ? why : "failed");
    todo = "the layer is not a valid tar; rebuild the image";
  };
  if (archive_read_open(tar.get(), &input, nullptr, tar_read, nullptr) != ARCHIVE_OK) {
    tar_error();
  } else {
    writer.begin_layer(index_);
    archive_entry* entry = nullptr;
    for (;;) {
      int rc = archive_read_next_header(tar.get(), &entry);
      if (rc == ARCHIVE_EOF) break;
      if (rc < ARCHIVE_WARN) {
        tar_error();
        break;
      }
      ++stats.entries;
      try {
        writer.apply(tar.get(), entry);
      } catch (const EntryError& err) {
        const char* name = archive_entry_pathname(entry);
        problem = "entry '" + std::string(name ? name : "?") + "': " + err.what();
        todo = dynamic_cast<const HostError*>(&err) ? kHost : kRefuse;
        break;
      }
    }
  }
  // The digests cover every byte, and after a failure the rest of the data tells whether the
  // blob itself is corrupt: a bad entry or tar header may only be a symptom of that.
  stream->drain();
  if (stream->failure()) std::rethrow_exception(stream->failure());
  std::string actual = stream->blob_digest();
  if (actual != blob_.digest)
    fail("the blob's sha256 is " + actual + ", not its digest" +
             (problem.empty() ? "" : " (" + problem + ")"),
         kRefetch);
  if (!stream->error().empty()) fail(stream->error(), kRefetch);
  if (!problem.empty()) fail(problem, todo);

  stats.digest = blob_.digest;
  stats.diff_id = stream->diff_id();
  if (!blob_.diff_id.empty() && stats.diff_id != blob_.diff_id)
    fail("the uncompressed tar's sha256 is " + stats.diff_id + ", not the image config's diff_id " +
             blob_.diff_id,
         "the image config and layer disagree; rebuild or re-push the image");
  stats.compression = stream->compression();
  stats.compressed_bytes = stream->compressed_bytes();
  stats.uncompressed_bytes = stream->uncompressed_bytes();
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return stats;
}

}  // namespace

UnpackResult unpack_layers(const std::vector<LayerBlob>& layers, const fs::path& dest,
                           const UnpackOptions& options) {
  struct stat st {};
  if (::lstat(dest.c_str(), &st) == 0)
    throw UnpackError("unpack: destination " + dest.string() +
                      " already exists; unpack only into a new path");
  fs::path parent = dest.has_parent_path() ? dest.parent_path() : fs::path(".");
  std::string pattern = (parent / (dest.filename().string() + ".tmp-XXXXXX")).string();
  if (!::mkdtemp(pattern.data()))
    throw UnpackError("unpack: cannot create a directory beside " + dest.string() + ": " +
                      strerror(errno) + "; check that its parent exists and is writable");
  fs::path tmp = pattern;
  try {
    UnpackResult result;
    if (::mkdir((tmp / "rootfs").c_str(), 0755) != 0)
      throw UnpackError("unpack: cannot create " + (tmp / "rootfs").string() + ": " +
                        strerror(errno));
    RootfsWriter writer(tmp / "rootfs");
    for (size_t i = 0; i < layers.size(); ++i) {
      LayerApplier applier(layers[i], i, layers.size(), options);
      result.layers.push_back(applier.apply(writer));
      const std::string& diff_id = result.layers.back().diff_id;
      result.chain_id = i == 0 ? diff_id : oci::Sha256::of(result.chain_id + " " + diff_id);
    }
    try {
      std::vector<ownership::Entry> entries = writer.finish();
      result.entries = entries.size();
      ownership::write_metadata(tmp / "metadata.jsonl", entries);
    } catch (const std::exception& err) {
      throw UnpackError("unpack: cannot finish " + dest.string() + ": " + err.what() +
                        "; check free space and permissions");
    }
    if (options.sync) {
      Fd fd(::open(tmp.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (!fd.valid() || ::syncfs(fd.get()) != 0)
        throw UnpackError("unpack: cannot sync " + tmp.string() + ": " + strerror(errno));
    }
    if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, dest.c_str(), RENAME_NOREPLACE) != 0)
      throw UnpackError("unpack: cannot rename " + tmp.string() + " to " + dest.string() + ": " +
                        strerror(errno) + "; was the destination created meanwhile?");
    result.rootfs = dest / "rootfs";
    result.metadata = dest / "metadata.jsonl";
    return result;
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(tmp, ignored);
    throw;
  }
}

}  // namespace c2w::unpack
