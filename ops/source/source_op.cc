#include "ops/source/source_op.h"

#include <curl/curl.h>
#include <sys/stat.h>

#include <fstream>

#include "base/error.h"
#include "base/hash.h"
#include "base/subprocess.h"
#include "oci/sha256.h"

namespace c2w::source {

namespace fs = std::filesystem;

namespace {

std::string stat_key(const char* kind, const fs::path& file, const struct stat& st);

// The sha256 of a local file, remembered in the action cache by path + stat data, so a
// 140 MB tarball is hashed once, not on every build.
std::string file_digest(const fs::path& file, cache::Store& store) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) throw system_error("cannot read " + file.string(), errno);
  std::string key = stat_key("stat-v1", file, st);
  if (auto hit = store.get_action(key)) return hit->content;
  std::string digest = oci::Sha256::of_file(file);
  if (!store.blob(digest)) {
    cache::BlobWriter w = store.write_blob(digest);
    w.restart();
    std::ifstream in(file, std::ios::binary);
    std::vector<char> buf(1 << 20);
    while (in) {
      in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
      w.write(buf.data(), static_cast<size_t>(in.gcount()));
    }
    w.commit();
  }
  cache::Record r;
  r.content = digest;
  r.size = static_cast<uint64_t>(st.st_size);
  r.description = "stat cache: " + file.string();
  store.put_action(key, r);
  return digest;
}

std::string stat_key(const char* kind, const fs::path& file, const struct stat& st) {
  return xxh3_key({kind, file.string(), std::to_string(st.st_size),
                   std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec),
                   std::to_string(st.st_ino), std::to_string(st.st_dev)});
}

std::string query_installed_version(const std::string& package) {
  std::string out;
  ProcessOptions po;
  po.on_line = [&](const std::string& line) { out += line; };
  int rc = run_process({"dpkg-query", "-W", "-f=${Status}|${Version}", package}, po);
  if (rc != 0 || !out.starts_with("install ok installed|")) return {};
  return out.substr(out.find('|') + 1);
}

// The installed version of `package` ("" when not installed), remembered in the action cache
// by the stat data of dpkg's status file (dpkg rewrites it on every change): dpkg-query takes
// longer than the rest of a fully cached build.
std::string installed_version(const std::string& package, cache::Store& store) {
  const fs::path status = "/var/lib/dpkg/status";
  struct stat st {};
  if (::stat(status.c_str(), &st) != 0) return query_installed_version(package);
  std::string key = stat_key(("dpkg-version-v1\n" + package).c_str(), status, st);
  if (auto hit = store.get_action(key)) return store.read_blob(hit->content);
  std::string version = query_installed_version(package);
  cache::Record r;
  r.content = store.put_blob(version);
  r.size = version.size();
  r.description = "dpkg cache: " + package;
  store.put_action(key, r);
  return version;
}

fs::path find_tarball(const fs::path& root, const std::string& package) {
  for (const char* ext : {".tar.xz", ".tar.gz", ".tar.bz2", ".tar.zst", ".tar"}) {
    fs::path p = root / "usr" / "src" / (package + ext);
    if (fs::exists(p)) return p;
  }
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root / "usr" / "src", ec))
    if (e.is_regular_file() && e.path().filename().string().find(".tar") != std::string::npos)
      return e.path();
  return {};
}

cache::Record debian_source(const v1::SourceOp::DebianPackage& pkg, solver::OpContext& ctx) {
  std::string version = installed_version(pkg.name(), ctx.store);
  fs::path tarball;
  fs::path scratch;
  if (!version.empty() && (pkg.version().empty() || pkg.version() == version)) {
    tarball = find_tarball("/", pkg.name());
    if (tarball.empty())
      throw Error(
          "Debian package " + pkg.name() + " is installed but has no tarball under /usr/src",
          "KERNEL debian:NAME expects a linux-source style package");
    ctx.progress.log("using installed " + pkg.name() + " " + version + ": " + tarball.string());
  } else {
    scratch = ctx.store.stage_tree();
    std::string spec = pkg.name() + (pkg.version().empty() ? "" : "=" + pkg.version());
    ctx.progress.log("downloading Debian package " + spec);
    std::string log;
    ProcessOptions po;
    po.cwd = scratch;
    po.on_line = [&](const std::string& l) { log += l + "\n"; };
    po.cancelled = [&] { return ctx.cancel.cancelled(); };
    if (run_process({"apt-get", "download", spec}, po) != 0) {
      fs::remove_all(scratch);
      throw Error("cannot download Debian package " + spec + ": " + log.substr(0, 300),
                  "install it (apt-get install " + pkg.name() + ") or check its name and version");
    }
    fs::path deb;
    for (const auto& e : fs::directory_iterator(scratch))
      if (e.path().extension() == ".deb") deb = e.path();
    if (deb.empty() ||
        run_process({"dpkg-deb", "-x", deb.string(), (scratch / "x").string()}, po) != 0) {
      fs::remove_all(scratch);
      throw Error("cannot unpack the Debian package " + spec);
    }
    tarball = find_tarball(scratch / "x", pkg.name());
    version = pkg.version();
  }
  cache::Record r;
  r.content = file_digest(tarball, ctx.store);
  r.size = fs::file_size(tarball);
  r.meta = {{"package", pkg.name()}, {"version", version}, {"file", tarball.filename().string()}};
  if (!scratch.empty()) fs::remove_all(scratch);
  return r;
}

cache::Record http_source(const v1::SourceOp::Http& http, solver::OpContext& ctx) {
  std::string digest = "sha256:" + http.sha256();
  if (!oci::is_sha256_digest(digest))
    throw Error("the source " + http.url() + " needs a pinned SHA256 (64 hex digits)");
  if (!ctx.store.blob(digest)) {
    cache::BlobWriter w = ctx.store.write_blob(digest);
    w.restart();
    CURL* curl = curl_easy_init();
    struct Ctx {
      cache::BlobWriter* w;
      solver::OpContext* ctx;
    } c{&w, &ctx};
    curl_easy_setopt(curl, CURLOPT_URL, http.url().c_str());
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &c);
    curl_easy_setopt(
        curl, CURLOPT_WRITEFUNCTION, +[](char* data, size_t size, size_t n, void* p) -> size_t {
          static_cast<Ctx*>(p)->w->write(data, size * n);
          return size * n;
        });
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &c);
    curl_easy_setopt(
        curl, CURLOPT_XFERINFOFUNCTION,
        +[](void* p, curl_off_t total, curl_off_t now, curl_off_t, curl_off_t) -> int {
          auto* cc = static_cast<Ctx*>(p);
          if (cc->ctx->cancel.cancelled()) return 1;
          cc->ctx->progress.counter("download", "downloading", now, total);
          return 0;
        });
    CURLcode rc = curl_easy_perform(curl);
    curl_easy_cleanup(curl);
    if (rc == CURLE_ABORTED_BY_CALLBACK) throw Cancelled();
    if (rc != CURLE_OK)
      throw Error("cannot download " + http.url() + ": " + curl_easy_strerror(rc));
    w.commit();  // checks the pinned digest
  }
  cache::Record r;
  r.content = digest;
  r.meta = {{"url", http.url()}};
  return r;
}

}  // namespace

cache::Record SourceOp::run(const v1::Op& op, solver::OpContext& ctx) {
  const v1::SourceOp& s = op.source();
  if (s.has_debian()) return debian_source(s.debian(), ctx);
  if (s.has_http()) return http_source(s.http(), ctx);
  throw Error("a source op names neither a Debian package nor a URL");
}

}  // namespace c2w::source
