#include "client/uploads.h"

#include <cstdio>
#include <fstream>
#include <set>

#include "base/error.h"
#include "client/progress_printer.h"
#include "context/loader.h"
#include "distribution/image_source.h"
#include "oci/reference.h"
#include "oci/sha256.h"

namespace c2w::client {

namespace fs = std::filesystem;

namespace {

v1::LocalContent local_content(const v1::LocalOp& spec, const fs::path& context,
                               std::map<std::string, fs::path>& blobs) {
  if (context.empty())
    throw Error("the graph names local file " + spec.name() + " but there is no recipe directory");
  context::DirectoryLoader loader(context);
  std::vector<context::DirectoryLoader::LocatedEntry> located;
  try {
    located = loader.entries(spec.name());
  } catch (const std::exception& e) {
    throw Error(std::string("cannot read local file: ") + e.what());
  }
  v1::LocalContent content;
  content.set_content_digest(spec.content_digest());
  std::vector<context::TreeEntry> tree;
  for (const auto& [entry, source] : located) {
    v1::LocalEntry* e = content.add_entries();
    e->set_path(entry.path);
    e->set_mode(entry.mode);
    if (entry.kind == 'f') {
      e->set_kind(v1::LocalEntry::KIND_FILE);
      e->set_blob(oci::Sha256::of_file(source));
      blobs[e->blob()] = source;
    } else if (entry.kind == 'd') {
      e->set_kind(v1::LocalEntry::KIND_DIRECTORY);
    } else {
      e->set_kind(v1::LocalEntry::KIND_SYMLINK);
      e->set_target(entry.content);
    }
    tree.push_back(entry);
  }
  if (context::tree_digest(tree) != spec.content_digest())
    throw Error(spec.name() + " changed while the build was starting",
                "run the build again once the file is stable");
  return content;
}

v1::LocalImage local_image(const v1::FetchOp& spec, cache::Store& store,
                           solver::VertexProgress& progress, const solver::CancelToken& cancel,
                           std::map<std::string, fs::path>& blobs) {
  oci::Reference ref = oci::parse_reference(spec.ref());
  distribution::FetchHooks hooks;
  hooks.cancelled = [&] { return cancel.cancelled(); };
  hooks.progress = [&](const std::string& id, const std::string& name, uint64_t done,
                       uint64_t total) {
    progress.counter(id, name, static_cast<int64_t>(done), static_cast<int64_t>(total));
  };
  hooks.log = [&](const std::string& line) { progress.log(line); };
  distribution::Platform platform =
      distribution::Platform::parse(spec.platform().empty() ? "linux/riscv64" : spec.platform());
  distribution::Image image = distribution::fetch_image(ref, platform, {}, store, hooks);
  std::vector<std::string> digests = {image.manifest, image.config};
  for (const auto& l : image.layers) digests.push_back(l.value("digest", ""));
  for (const std::string& d : digests) {
    auto path = store.blob(d);
    if (!path)
      throw Error("blob " + d + " of " + spec.ref() + " vanished from " + store.root().string() +
                  " while the build was starting");
    blobs[d] = *path;
  }
  v1::LocalImage out;
  out.set_ref(spec.ref());
  out.set_platform(spec.platform());
  out.set_manifest(image.manifest);
  return out;
}

}  // namespace

LocalInputs gather_local_inputs(const v1::Definition& definition, const fs::path& context,
                                cache::Store& store, solver::VertexProgress& progress,
                                const solver::CancelToken& cancel) {
  LocalInputs in;
  std::set<std::string> seen;
  for (const std::string& bytes : definition.ops()) {
    cancel.throw_if_cancelled();
    v1::Op op;
    if (!op.ParseFromString(bytes)) continue;  // the builder names it
    if (op.has_local()) {
      if (seen.insert("local\n" + op.local().content_digest()).second)
        in.files.push_back(local_content(op.local(), context, in.blobs));
    } else if (op.has_fetch()) {
      oci::Reference ref = oci::parse_reference(op.fetch().ref());
      if (ref.kind == oci::Reference::Kind::kRegistry) continue;  // the builder pulls it
      if (seen.insert("image\n" + op.fetch().ref() + "\n" + op.fetch().platform()).second)
        in.images.push_back(local_image(op.fetch(), store, progress, cancel, in.blobs));
    }
  }
  return in;
}

UploadSummary send_local_inputs(v1::Control::Stub& stub, const BuilderOptions& builder,
                                const LocalInputs& inputs, solver::VertexProgress& progress,
                                const solver::CancelToken& cancel) {
  UploadSummary sum;
  sum.blobs = inputs.blobs.size();
  if (inputs.blobs.empty()) return sum;
  const int64_t start = solver::now_unix_nanos();
  v1::MissingBlobsRequest query;
  for (const auto& [digest, path] : inputs.blobs) {
    query.add_digests(digest);
    sum.bytes += fs::file_size(path);
  }
  v1::MissingBlobsResponse missing;
  {
    grpc::ClientContext ctx;
    authorize(ctx, builder);
    grpc::Status st = stub.MissingBlobs(&ctx, query, &missing);
    if (!st.ok()) throw_remote_error(st, builder);
  }
  uint64_t total = 0;
  for (const std::string& d : missing.missing()) {
    auto it = inputs.blobs.find(d);
    if (it == inputs.blobs.end()) throw Error("the builder asked for a blob that was not offered");
    total += fs::file_size(it->second);
  }
  std::string buf(256 << 10, '\0');  // like c2wd's downloads: faster than 1 MiB messages
  for (const std::string& digest : missing.missing()) {
    const fs::path& path = inputs.blobs.at(digest);
    std::ifstream file(path, std::ios::binary);
    if (!file) throw Error("cannot read " + path.string());
    grpc::ClientContext ctx;
    authorize(ctx, builder);
    v1::PutBlobResponse resp;
    auto writer = stub.PutBlob(&ctx, &resp);
    v1::PutBlobRequest header;
    header.set_digest(digest);
    header.set_size_bytes(static_cast<int64_t>(fs::file_size(path)));
    bool open = writer->Write(header);
    while (open && file) {
      if (cancel.cancelled()) {
        ctx.TryCancel();
        break;
      }
      file.read(buf.data(), static_cast<std::streamsize>(buf.size()));
      if (file.gcount() == 0) break;
      v1::PutBlobRequest chunk;
      chunk.set_data(buf.data(), static_cast<size_t>(file.gcount()));
      open = writer->Write(chunk);
      sum.sent_bytes += static_cast<uint64_t>(file.gcount());
      progress.counter("upload", "sending", static_cast<int64_t>(sum.sent_bytes),
                       static_cast<int64_t>(total));
    }
    if (open) writer->WritesDone();
    grpc::Status st = writer->Finish();
    cancel.throw_if_cancelled();
    if (!st.ok()) throw_remote_error(st, builder);
    ++sum.sent_blobs;
  }
  sum.seconds = double(solver::now_unix_nanos() - start) / 1e9;
  return sum;
}

void attach_local_inputs(v1::Control::Stub& stub, const BuilderOptions& builder,
                         const fs::path& context, cache::Store& store,
                         solver::ProgressSink& progress, const solver::CancelToken& cancel,
                         v1::SolveRequest& request) {
  bool any = false;
  for (const std::string& bytes : request.definition().ops()) {
    v1::Op op;
    if (!op.ParseFromString(bytes)) continue;
    any = any || op.has_local() ||
          (op.has_fetch() &&
           oci::parse_reference(op.fetch().ref()).kind != oci::Reference::Kind::kRegistry);
  }
  if (!any) return;
  const std::string vertex = "client:local-inputs";
  auto emit = [&](bool completed, bool cached, const std::string& error) {
    v1::SolveStatus st;
    v1::Vertex* v = st.add_vertexes();
    v->set_digest(vertex);
    v->set_name("[client] local inputs to " + builder.address);
    v->set_started_unix_nanos(solver::now_unix_nanos());
    if (completed) v->set_completed_unix_nanos(solver::now_unix_nanos());
    v->set_cached(cached);
    v->set_error(error);
    progress.write(st);
  };
  emit(false, false, "");
  solver::VertexProgress vp(progress, vertex);
  try {
    LocalInputs inputs = gather_local_inputs(request.definition(), context, store, vp, cancel);
    UploadSummary sum = send_local_inputs(stub, builder, inputs, vp, cancel);
    for (auto& f : inputs.files) *request.add_local_files() = std::move(f);
    for (auto& i : inputs.images) *request.add_local_images() = std::move(i);
    std::string line = "sent " + std::to_string(sum.sent_blobs) + " of " +
                       std::to_string(sum.blobs) + " blobs (" +
                       human_bytes(static_cast<int64_t>(sum.sent_bytes)) + " of " +
                       human_bytes(static_cast<int64_t>(sum.bytes)) + ")";
    if (sum.sent_blobs < sum.blobs) line += "; the builder had the others";
    if (sum.sent_bytes > 0 && sum.seconds > 0) {
      char rate[64];
      std::snprintf(rate, sizeof rate, " in %.2fs, %.1f MB/s", sum.seconds,
                    double(sum.sent_bytes) / 1e6 / sum.seconds);
      line += rate;
    }
    vp.log(line);
    emit(true, sum.sent_blobs == 0, "");
  } catch (const Cancelled&) {
    emit(true, false, "cancelled");
    throw;
  } catch (const std::exception& e) {
    emit(true, false, e.what());
    throw;
  }
}

}  // namespace c2w::client
