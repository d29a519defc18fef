#include "daemon/uploads.h"

#include <sys/statvfs.h>

#include "base/error.h"
#include "oci/sha256.h"

namespace c2w::daemon {

namespace {

std::string mib(uint64_t bytes) {
  return std::to_string(bytes >> 20) + " MiB";
}

}  // namespace

grpc::Status missing_blobs(cache::Store& store, const v1::MissingBlobsRequest& req,
                           v1::MissingBlobsResponse& resp) {
  if (req.digests_size() > kMaxDigestsPerQuery)
    return grpc::Status(
        grpc::StatusCode::INVALID_ARGUMENT,
        "too many digests in one query (" + std::to_string(req.digests_size()) + ")");
  for (const std::string& d : req.digests()) {
    if (!oci::is_sha256_digest(d))
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "\"" + d.substr(0, 80) + "\" is not a sha256 digest");
    if (!store.blob(d)) resp.add_missing(d);
  }
  return grpc::Status::OK;
}

grpc::Status put_blob(cache::Store& store, grpc::ServerContext& ctx,
                      grpc::ServerReader<v1::PutBlobRequest>& reader, v1::PutBlobResponse& resp) {
  v1::PutBlobRequest msg;
  if (!reader.Read(&msg))
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "an upload without a header");
  const std::string digest = msg.digest();
  if (!oci::is_sha256_digest(digest))
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "an upload names \"" + digest.substr(0, 80) + "\", not a sha256 digest");
  if (msg.size_bytes() < 0)
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "an upload declares a negative size");
  const auto size = static_cast<uint64_t>(msg.size_bytes());
  if (store.blob(digest)) {  // another client sent it meanwhile: nothing to keep
    resp.set_existed(true);
    return grpc::Status::OK;
  }
  struct statvfs fsinfo {};
  if (::statvfs(store.root().c_str(), &fsinfo) == 0) {
    uint64_t free_bytes = uint64_t(fsinfo.f_bavail) * fsinfo.f_frsize;
    if (size > free_bytes || free_bytes - size < kUploadReserveBytes)
      return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                          "the builder has " + mib(free_bytes) +
                              " free in its cache, too little "
                              "for blob " +
                              digest + " of " + mib(size) +
                              "\n  hint: prune the builder's cache (c2w prune on that machine) or "
                              "give it more disk");
  }
  try {
    cache::BlobWriter w = store.write_blob(digest);
    w.restart();  // an interrupted upload left a partial file: the client sends all bytes again
    uint64_t got = 0;
    if (!msg.data().empty()) {
      got += msg.data().size();
      w.write(msg.data().data(), msg.data().size());
    }
    while (reader.Read(&msg)) {
      if (ctx.IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "client went away");
      got += msg.data().size();
      if (got > size)
        return grpc::Status(
            grpc::StatusCode::INVALID_ARGUMENT,
            "blob " + digest + " has more bytes than the " + std::to_string(size) + " declared");
      w.write(msg.data().data(), msg.data().size());
    }
    if (got != size)
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "blob " + digest + " ended after " + std::to_string(got) + " of the " +
                              std::to_string(size) + " bytes declared");
    if (store.blob(digest)) {
      resp.set_existed(true);
      return grpc::Status::OK;
    }
    try {
      w.commit();
    } catch (const Error&) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "the bytes sent for blob " + digest + " do not match that digest");
    }
  } catch (const Error& e) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                        std::string("the builder cannot store an upload: ") + e.what());
  }
  return grpc::Status::OK;
}

solver::ClientUploads client_uploads(cache::Store& store, const v1::SolveRequest& req,
                                     grpc::Status& status) {
  solver::ClientUploads out;
  auto refuse = [&](const std::string& why) {
    status = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, why);
    return solver::ClientUploads{};
  };
  size_t entries = 0;
  for (const v1::LocalContent& c : req.local_files()) {
    entries += static_cast<size_t>(c.entries_size());
    if (entries > kMaxLocalEntries)
      return refuse("the request's local files have too many entries");
    if (c.content_digest().empty()) return refuse("a local file without its content digest");
    out.files[c.content_digest()] = c;
  }
  for (const v1::LocalImage& i : req.local_images()) {
    if (!oci::is_sha256_digest(i.manifest()))
      return refuse("local image " + i.ref() + " names no sha256 manifest digest");
    if (!store.blob(i.manifest()))
      return refuse("the manifest of local image " + i.ref() + " was not uploaded");
    out.images[solver::ClientUploads::image_key(i.ref(), i.platform())] = i.manifest();
  }
  status = grpc::Status::OK;
  return out;
}

}  // namespace c2w::daemon
