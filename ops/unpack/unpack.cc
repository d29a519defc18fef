#include "ops/unpack/unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>

#include "oci/sha256.h"
#include "ops/unpack/fd.h"
#include "ops/unpack/rootfs.h"

namespace c2w::unpack {

namespace fs = std::filesystem;

namespace {

// Large reads: fewer syscalls and callbacks; 1 MiB also bounds the memory per layer.
constexpr size_t kBlock = 1 << 20;

struct ArchiveFree {
  void operator()(archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveFree>;

// The compressed blob: read in large blocks, hashed and reported as it goes. The first block
// is read ahead so the compression can be sniffed before libarchive sees any byte.
struct BlobSource {
  Fd fd;
  oci::Sha256 hash;
  uint64_t read = 0;
  uint64_t total = 0;
  size_t index = 0;
  const UnpackOptions* options = nullptr;
  std::vector<char> buf = std::vector<char>(kBlock);
  size_t ahead = 0;           // bytes of buf read ahead and not yet handed out
  std::exception_ptr failed;  // thrown by the progress callback (e.g. cancellation)
  std::string error;          // a read error

  // Next block into buf; 0 at the end, -1 on error (recorded, never thrown through libarchive).
  ssize_t next() {
    ssize_t n;
    do n = ::read(fd.get(), buf.data(), buf.size());
    while (n < 0 && errno == EINTR);
    if (n < 0) {
      error = std::string("cannot read the blob: ") + strerror(errno);
      return -1;
    }
    hash.update(buf.data(), static_cast<size_t>(n));
    read += static_cast<uint64_t>(n);
    if (options->progress && n > 0) {
      try {
        options->progress(index, read, total);
      } catch (...) {
        failed = std::current_exception();
        return -1;
      }
    }
    return n;
  }
};

la_ssize_t blob_read(archive* a, void* ctx, const void** out) {
  auto* s = static_cast<BlobSource*>(ctx);
  *out = s->buf.data();
  if (s->ahead > 0) return static_cast<la_ssize_t>(std::exchange(s->ahead, 0));
  ssize_t n = s->next();
  if (n < 0) archive_set_error(a, EIO, "%s", s->error.empty() ? "interrupted" : s->error.c_str());
  return n;
}

// The uncompressed tar stream, pulled from the decompressing raw reader and hashed (diff_id).
struct TarSource {
  archive* raw = nullptr;
  oci::Sha256 hash;
  uint64_t bytes = 0;
  std::vector<char> buf = std::vector<char>(kBlock);
  std::string error;  // the decompressor's error, clearer than the tar reader's
};

la_ssize_t tar_read(archive* a, void* ctx, const void** out) {
  auto* s = static_cast<TarSource*>(ctx);
  la_ssize_t n = archive_read_data(s->raw, s->buf.data(), s->buf.size());
  if (n < 0) {
    s->error = archive_error_string(s->raw) ? archive_error_string(s->raw) : "decompression failed";
    archive_set_error(a, EIO, "%s", s->error.c_str());
    return -1;
  }
  s->hash.update(s->buf.data(), static_cast<size_t>(n));
  s->bytes += static_cast<uint64_t>(n);
  *out = s->buf.data();
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
  [[noreturn]] void fail_stream(archive* a, const char* stage) const;

  const LayerBlob& blob_;
  size_t index_, count_;
  const UnpackOptions& options_;
  BlobSource blob_src_;
  TarSource tar_src_;
  std::string compression_;
};

constexpr const char* kRefetch =
    "the blob is corrupt or truncated: remove it from the cache and fetch the image again";
constexpr const char* kRefuse = "the layer is malformed or malicious; refusing to unpack it";

void LayerApplier::fail_stream(archive* a, const char* stage) const {
  if (blob_src_.failed) std::rethrow_exception(blob_src_.failed);
  std::string why = !blob_src_.error.empty() ? blob_src_.error
                    : !tar_src_.error.empty()
                        ? compression_ + " stream: " + tar_src_.error
                        : (archive_error_string(a) ? archive_error_string(a) : "unknown error");
  fail(std::string(stage) + ": " + why, kRefetch);
}

LayerStats LayerApplier::apply(RootfsWriter& writer) {
  auto start = std::chrono::steady_clock::now();
  if (!oci::is_sha256_digest(blob_.digest))
    fail("digest '" + blob_.digest + "' is not a sha256 digest",
         "only sha256 layer digests are supported");
  blob_src_.fd.reset(::open(blob_.file.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st {};
  if (!blob_src_.fd.valid() || ::fstat(blob_src_.fd.get(), &st) != 0)
    fail("cannot open " + blob_.file.string() + ": " + strerror(errno), "fetch the image again");
  blob_src_.total = static_cast<uint64_t>(st.st_size);
  blob_src_.index = index_;
  blob_src_.options = &options_;

  ssize_t first = blob_src_.next();
  if (first < 0) fail_stream(nullptr, "reading");
  blob_src_.ahead = static_cast<size_t>(first);
  compression_ = sniff_compression(std::string_view(blob_src_.buf.data(), blob_src_.ahead));
  std::string declared = declared_compression(blob_.media_type);
  if (!declared.empty() && declared != compression_)
    fail(
        "media type " + blob_.media_type + " says " + declared + " but the data is " + compression_,
        "the image manifest is wrong; rebuild or re-push the image");

  ArchivePtr raw(archive_read_new());
  archive_read_support_format_raw(raw.get());
  if (compression_ == "gzip") archive_read_support_filter_gzip(raw.get());
  if (compression_ == "zstd") archive_read_support_filter_zstd(raw.get());
  if (compression_ == "xz") archive_read_support_filter_xz(raw.get());
  if (compression_ == "bzip2") archive_read_support_filter_bzip2(raw.get());
  archive_entry* entry = nullptr;
  if (archive_read_open(raw.get(), &blob_src_, nullptr, blob_read, nullptr) != ARCHIVE_OK ||
      archive_read_next_header(raw.get(), &entry) != ARCHIVE_OK)
    fail_stream(raw.get(), "opening");

  tar_src_.raw = raw.get();
  ArchivePtr tar(archive_read_new());
  archive_read_support_format_tar(tar.get());
  if (archive_read_open(tar.get(), &tar_src_, nullptr, tar_read, nullptr) != ARCHIVE_OK)
    fail_stream(tar.get(), "reading the tar");

  LayerStats stats;
  writer.begin_layer(index_);
  for (;;) {
    int rc = archive_read_next_header(tar.get(), &entry);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN) fail_stream(tar.get(), "reading the tar");
    ++stats.entries;
    try {
      writer.apply(tar.get(), entry);
    } catch (const EntryError& err) {
      // Data read errors surface inside apply; they are about the stream, not the entry.
      if (blob_src_.failed || !blob_src_.error.empty() || !tar_src_.error.empty())
        fail_stream(tar.get(), "reading the tar");
      const char* name = archive_entry_pathname(entry);
      fail("entry '" + std::string(name ? name : "?") + "': " + err.what(), kRefuse);
    }
  }
  // The digests cover every byte: the tar's end padding and anything after the compressed
  // stream too.
  const void* unused = nullptr;
  la_ssize_t n;
  while ((n = tar_read(tar.get(), &tar_src_, &unused)) > 0) {
  }
  if (n < 0) fail_stream(tar.get(), "reading the tar");
  ssize_t m;
  while ((m = blob_src_.next()) > 0) {
  }
  if (m < 0) fail_stream(nullptr, "reading");

  stats.digest = blob_.digest;
  std::string actual = blob_src_.hash.digest();
  if (actual != blob_.digest) fail("the blob's sha256 is " + actual + ", not its digest", kRefetch);
  stats.diff_id = tar_src_.hash.digest();
  if (!blob_.diff_id.empty() && stats.diff_id != blob_.diff_id)
    fail("the uncompressed tar's sha256 is " + stats.diff_id + ", not the image config's diff_id " +
             blob_.diff_id,
         "the image config and layer disagree; rebuild or re-push the image");
  stats.compression = compression_;
  stats.compressed_bytes = blob_src_.read;
  stats.uncompressed_bytes = tar_src_.bytes;
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return stats;
}

}  // namespace

std::string sniff_compression(std::string_view head) {
  auto starts = [&](std::string_view magic) { return head.substr(0, magic.size()) == magic; };
  if (starts("\x1f\x8b")) return "gzip";
  if (starts("\x28\xb5\x2f\xfd")) return "zstd";
  if (starts(std::string_view("\xfd"
                              "7zXZ\0",
                              6)))
    return "xz";
  if (starts("BZh")) return "bzip2";
  return "none";
}

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
      std::vector<Entry> entries = writer.finish();
      result.entries = entries.size();
      write_metadata(tmp / "metadata.jsonl", entries);
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
