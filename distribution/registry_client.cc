#include "distribution/registry_client.h"

#include <curl/curl.h>
#include <openssl/evp.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "base/error.h"
#include "oci/sha256.h"

namespace c2w::distribution {

namespace {

constexpr const char* kManifestAccept =
    "Accept: application/vnd.oci.image.index.v1+json, "
    "application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.docker.distribution.manifest.v2+json";

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string base64_decode(const std::string& in) {
  std::string out(in.size(), '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  if (n < 0) return {};
  size_t pad = in.size() >= 2 ? (in[in.size() - 1] == '=') + (in[in.size() - 2] == '=') : 0;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

std::string base64_encode(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

// Parses `Bearer realm="x",service="y",scope="z"` into scheme + params.
std::map<std::string, std::string> parse_challenge(const std::string& header, std::string* scheme) {
  std::map<std::string, std::string> params;
  size_t sp = header.find(' ');
  *scheme = header.substr(0, sp);
  for (char& c : *scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  size_t pos = sp == std::string::npos ? header.size() : sp + 1;
  while (pos < header.size()) {
    size_t eq = header.find('=', pos);
    if (eq == std::string::npos) break;
    std::string key = header.substr(pos, eq - pos);
    key.erase(0, key.find_first_not_of(" ,"));
    std::string value;
    size_t i = eq + 1;
    if (i < header.size() && header[i] == '"') {
      size_t end = header.find('"', i + 1);
      value = header.substr(i + 1, end == std::string::npos ? std::string::npos : end - i - 1);
      pos = end == std::string::npos ? header.size() : end + 1;
    } else {
      size_t end = header.find(',', i);
      value = header.substr(i, end == std::string::npos ? std::string::npos : end - i);
      pos = end == std::string::npos ? header.size() : end;
    }
    params[key] = value;
    pos = header.find_first_not_of(" ,", pos);
    if (pos == std::string::npos) break;
  }
  return params;
}

std::string url_escape(const std::string& s) {
  char* e = curl_easy_escape(nullptr, s.c_str(), static_cast<int>(s.size()));
  std::string out = e ? e : "";
  curl_free(e);
  return out;
}

bool transient_curl(CURLcode rc) {
  switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

}  // namespace

std::map<std::string, std::string> docker_config_credentials() {
  std::string path;
  if (const char* dir = std::getenv("DOCKER_CONFIG"); dir && *dir)
    path = std::string(dir) + "/config.json";
  else if (const char* home = std::getenv("HOME"); home && *home)
    path = std::string(home) + "/.docker/config.json";
  std::map<std::string, std::string> out;
  std::string text = path.empty() ? "" : read_text(path);
  if (text.empty()) return out;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded())
    throw Error("cannot parse " + path + " (not JSON)", "fix or remove that Docker config file");
  nlohmann::json auths = j.value("auths", nlohmann::json::object());
  for (auto& [key, value] : auths.items()) {
    std::string host = key;
    if (size_t p = host.find("://"); p != std::string::npos) host = host.substr(p + 3);
    host = host.substr(0, host.find('/'));
    if (host == "index.docker.io" || host == "registry-1.docker.io") host = "docker.io";
    std::string userpass;
    if (value.contains("auth"))
      userpass = base64_decode(value["auth"].get<std::string>());
    else if (value.contains("username"))
      userpass = value["username"].get<std::string>() + ":" + value.value("password", "");
    if (!userpass.empty()) out[host] = userpass;
  }
  return out;
}

struct RegistryClient::Response {
  CURLcode curl = CURLE_OK;
  long status = 0;
  std::string body;
  std::string content_type;
  std::string www_authenticate;
  std::string location;
  std::string content_digest;  // Docker-Content-Digest
  std::string curl_error;
};

RegistryClient::RegistryClient(oci::Reference ref, RegistryOptions options, CancelFn cancelled)
    : ref_(std::move(ref)), options_(std::move(options)), cancelled_(std::move(cancelled)) {
  if (!options_.ca_file.empty()) {
    std::string extra = read_text(options_.ca_file);
    if (extra.empty())
      throw Error("cannot read the registry CA file " + options_.ca_file,
                  "pass a PEM certificate to --registry-ca");
    ca_bundle_ = read_text("/etc/ssl/certs/ca-certificates.crt") + "\n" + extra;
  }
}

RegistryClient::~RegistryClient() = default;

std::string RegistryClient::base_url() const {
  bool insecure = options_.insecure_hosts.count(ref_.registry) > 0;
  return std::string(insecure ? "http://" : "https://") + ref_.api_host() + "/v2/" +
         ref_.repository;
}

std::string RegistryClient::where() const {
  return ref_.registry + "/" + ref_.repository;
}

RegistryClient::Response RegistryClient::perform(const std::string& url,
                                                 const std::vector<std::string>& headers,
                                                 cache::BlobWriter* sink, uint64_t range_from,
                                                 const ProgressFn& progress, const Send* send) {
  struct Ctx {
    Response* r;
    cache::BlobWriter* sink;
    bool restarted = false;
    uint64_t base;
    const ProgressFn* progress;
    const CancelFn* cancelled;
    CURL* curl;
  };
  Response r;
  CURL* curl = curl_easy_init();
  Ctx ctx{&r, sink, false, range_from, &progress, &cancelled_, curl};
  curl_slist* list = nullptr;
  for (const std::string& h : headers) list = curl_slist_append(list, h.c_str());
  if (!authorization_.empty()) list = curl_slist_append(list, authorization_.c_str());
  char errbuf[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 30L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "c2w/0.1");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  if (!ca_bundle_.empty()) {
    curl_blob blob{ca_bundle_.data(), ca_bundle_.size(), CURL_BLOB_NOCOPY};
    curl_easy_setopt(curl, CURLOPT_CAINFO_BLOB, &blob);
  }
  if (range_from > 0)
    curl_easy_setopt(curl, CURLOPT_RANGE, (std::to_string(range_from) + "-").c_str());
  // An upload reads its body from a string or a file, from the start on every attempt.
  struct Upload {
    std::string_view data;
    FILE* file = nullptr;
    ~Upload() {
      if (file) std::fclose(file);
    }
  } upload;
  if (send && send->method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (send) {
    curl_off_t upload_size = static_cast<curl_off_t>(send->body.size());
    if (!send->file.empty()) {
      upload.file = std::fopen(send->file.c_str(), "rb");
      if (!upload.file) {
        curl_slist_free_all(list);
        curl_easy_cleanup(curl);
        throw system_error("cannot read " + send->file, errno);
      }
      std::error_code ec;
      upload_size = static_cast<curl_off_t>(std::filesystem::file_size(send->file, ec));
    } else {
      upload.data = send->body;
    }
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, upload_size);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, send->method.c_str());
    curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
    curl_easy_setopt(
        curl, CURLOPT_READFUNCTION, +[](char* buf, size_t size, size_t n, void* p) -> size_t {
          auto* u = static_cast<Upload*>(p);
          if (u->file) return std::fread(buf, 1, size * n, u->file);
          size_t len = std::min(size * n, u->data.size());
          std::memcpy(buf, u->data.data(), len);
          u->data.remove_prefix(len);
          return len;
        });
  }
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &r);
  curl_easy_setopt(
      curl, CURLOPT_HEADERFUNCTION, +[](char* data, size_t size, size_t n, void* p) -> size_t {
        auto* resp = static_cast<Response*>(p);
        std::string line(data, size * n);
        if (line.starts_with("HTTP/")) {  // a new response (after a redirect): forget the old one
          resp->content_type.clear();
          resp->www_authenticate.clear();
          resp->location.clear();
          resp->content_digest.clear();
        }
        size_t colon = line.find(':');
        if (colon != std::string::npos) {
          std::string key = line.substr(0, colon);
          for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          std::string value = line.substr(colon + 1);
          value.erase(0, value.find_first_not_of(' '));
          value.erase(value.find_last_not_of("\r\n ") + 1);
          if (key == "content-type") resp->content_type = value;
          if (key == "www-authenticate") resp->www_authenticate = value;
          if (key == "location") resp->location = value;
          if (key == "docker-content-digest") resp->content_digest = value;
        }
        return size * n;
      });
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &ctx);
  curl_easy_setopt(
      curl, CURLOPT_WRITEFUNCTION, +[](char* data, size_t size, size_t n, void* p) -> size_t {
        auto* c = static_cast<Ctx*>(p);
        long status = 0;
        curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
        if (!c->sink || (status != 200 && status != 206)) {
          if (c->r->body.size() < (1 << 22))
            c->r->body.append(data, size * n);  // errors, manifests
          return size * n;
        }
        if (status == 200 && c->base > 0 && !c->restarted) {  // Range ignored: start over
          c->sink->restart();
          c->base = 0;
          c->restarted = true;
        }
        c->sink->write(data, size * n);
        return size * n;
      });
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &ctx);
  curl_easy_setopt(
      curl, CURLOPT_XFERINFOFUNCTION,
      +[](void* p, curl_off_t dltotal, curl_off_t dlnow, curl_off_t, curl_off_t) -> int {
        auto* c = static_cast<Ctx*>(p);
        if (*c->cancelled && (*c->cancelled)()) return 1;
        if (c->sink && *c->progress)
          (*c->progress)(c->base + static_cast<uint64_t>(dlnow),
                         c->base + static_cast<uint64_t>(dltotal));
        return 0;
      });
  r.curl = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
  r.curl_error = errbuf[0] ? errbuf : curl_easy_strerror(r.curl);
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  if (r.curl == CURLE_ABORTED_BY_CALLBACK) throw Cancelled();
  return r;
}

void RegistryClient::authenticate(const std::string& challenge) {
  std::string scheme;
  auto params = parse_challenge(challenge, &scheme);
  auto creds = options_.credentials.find(ref_.registry);
  bool have_creds = creds != options_.credentials.end();
  if (scheme == "basic") {
    if (!have_creds)
      throw Error(ref_.registry + " requires a login to pull " + ref_.repository,
                  "add credentials to ~/.docker/config.json or pass --creds USER:PASSWORD");
    authorization_ = "Authorization: Basic " + base64_encode(creds->second);
    return;
  }
  if (scheme != "bearer" || !params.count("realm"))
    throw Error(ref_.registry + " asked for an unsupported authentication: " + challenge);
  std::string url = params["realm"];
  url += url.find('?') == std::string::npos ? "?" : "&";
  if (params.count("service")) url += "service=" + url_escape(params["service"]) + "&";
  url += "scope=" + url_escape(params.count("scope") ? params["scope"] : ref_.pull_scope());
  std::vector<std::string> headers;
  if (have_creds) headers.push_back("Authorization: Basic " + base64_encode(creds->second));
  authorization_.clear();
  Response r = perform(url, headers, nullptr, 0, nullptr);
  if (r.curl != CURLE_OK)
    throw Error("cannot get a token from " + params["realm"] + ": " + r.curl_error,
                "check the network and the registry's auth service");
  if (r.status == 401 || r.status == 403)
    throw Error(ref_.registry + " rejected the credentials for " + ref_.repository,
                have_creds ? "check the user and password for " + ref_.registry
                           : "log in: add credentials to ~/.docker/config.json or pass --creds");
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  std::string token;
  if (!j.is_discarded()) token = j.value("token", j.value("access_token", ""));
  if (r.status != 200 || token.empty())
    throw Error("the token service of " + ref_.registry + " answered " + std::to_string(r.status) +
                " without a token");
  authorization_ = "Authorization: Bearer " + token;
}

RegistryClient::Response RegistryClient::perform_with_auth(const std::string& url,
                                                           const std::vector<std::string>& headers,
                                                           cache::BlobWriter* sink,
                                                           const ProgressFn& progress,
                                                           const Send* send) {
  bool authenticated = false;
  for (int attempt = 1;; ++attempt) {
    uint64_t from = sink ? sink->offset() : 0;
    Response r = perform(url, headers, sink, from, progress, send);
    if (r.curl == CURLE_OK && r.status == 401 && !authenticated && !r.www_authenticate.empty()) {
      authenticate(r.www_authenticate);
      authenticated = true;
      --attempt;
      continue;
    }
    if (r.curl == CURLE_OK && r.status == 401)
      throw Error(ref_.registry + " refused access to " + ref_.repository + " (401 Unauthorized)",
                  "check the credentials (~/.docker/config.json or --creds)");
    bool transient = (r.curl != CURLE_OK && transient_curl(r.curl)) ||
                     (r.curl == CURLE_OK && (r.status >= 500 || r.status == 429));
    if (transient && attempt < options_.attempts) {
      std::this_thread::sleep_for(std::chrono::milliseconds(250 << attempt));
      continue;
    }
    if (r.curl != CURLE_OK) {
      std::string hint = "check that the registry is reachable";
      if (r.curl == CURLE_PEER_FAILED_VERIFICATION || r.curl == CURLE_SSL_CACERT_BADFILE)
        hint = "trust its certificate with --registry-ca FILE, or use --insecure-registry " +
               ref_.registry + " for a plain-HTTP registry";
      else if (r.curl == CURLE_SSL_CONNECT_ERROR)
        hint =
            "if " + ref_.registry + " speaks plain HTTP, pass --insecure-registry " + ref_.registry;
      throw Error("cannot reach " + ref_.registry + " (" + url + "): " + r.curl_error, hint);
    }
    return r;
  }
}

FetchedManifest RegistryClient::get_manifest(const std::string& tag_or_digest) {
  Response r = perform_with_auth(base_url() + "/manifests/" + tag_or_digest, {kManifestAccept},
                                 nullptr, nullptr);
  if (r.status == 404)
    throw Error(
        "image " + where() + ":" + tag_or_digest + " not found (404 from " + ref_.registry + ")",
        "check the image name and tag");
  if (r.status != 200)
    throw Error("cannot get the manifest of " + where() + ":" + tag_or_digest + ": HTTP " +
                std::to_string(r.status) + " " + r.body.substr(0, 200));
  FetchedManifest m{r.body, r.content_type.substr(0, r.content_type.find(';')),
                    oci::Sha256::of(r.body)};
  if (tag_or_digest.starts_with("sha256:") && m.digest != tag_or_digest)
    throw Error("manifest of " + where() + " does not match its digest " + tag_or_digest +
                    " (got " + m.digest + ")",
                "the registry or a proxy served wrong data");
  return m;
}

std::string RegistryClient::get_blob(const std::string& digest, uint64_t size,
                                     cache::BlobWriter& writer, const ProgressFn& progress) {
  Response r =
      perform_with_auth(base_url() + "/blobs/" + digest, {}, &writer, [&](uint64_t done, uint64_t) {
        if (progress) progress(done, size);
      });
  if (r.status == 416 && writer.offset() >= size) return writer.commit();  // already complete
  if (r.status == 404)
    throw Error("blob " + digest + " of " + where() + " not found (404)",
                "the image is incomplete on the registry");
  if (r.status != 200 && r.status != 206)
    throw Error("cannot download blob " + digest + " of " + where() + ": HTTP " +
                std::to_string(r.status));
  return writer.commit();
}

}  // namespace c2w::distribution

namespace c2w::distribution {

std::string RegistryClient::origin() const {
  bool insecure = options_.insecure_hosts.count(ref_.registry) > 0;
  return std::string(insecure ? "http://" : "https://") + ref_.api_host();
}

bool RegistryClient::has_blob(const std::string& digest) {
  Send head{"HEAD", {}, {}};
  Response r = perform_with_auth(base_url() + "/blobs/" + digest, {}, nullptr, nullptr, &head);
  if (r.status == 200) return true;
  if (r.status == 404) return false;
  if (r.status == 403)
    throw Error(ref_.registry + " refused access to " + ref_.repository + " (403 Forbidden)",
                "check that the credentials (~/.docker/config.json or --creds) may push there");
  throw Error("cannot check blob " + digest + " on " + where() + ": HTTP " +
              std::to_string(r.status));
}

void RegistryClient::put_blob(const std::string& digest, const std::string& path) {
  if (has_blob(digest)) return;
  Send post{"POST", {}, {}};
  Response start =
      perform_with_auth(base_url() + "/blobs/uploads/", {"Content-Type:"}, nullptr, nullptr, &post);
  if (start.status == 401 || start.status == 403)
    throw Error(ref_.registry + " refused a push to " + ref_.repository + " (HTTP " +
                    std::to_string(start.status) + ")",
                "check that the credentials (~/.docker/config.json or --creds) may push there");
  if (start.status != 202 || start.location.empty())
    throw Error("cannot start a blob upload to " + where() + ": HTTP " +
                std::to_string(start.status) + " " + start.body.substr(0, 200));
  std::string url = start.location;
  if (url.starts_with("/")) url = origin() + url;
  url += (url.find('?') == std::string::npos ? "?" : "&") + std::string("digest=") +
         url_escape(digest);
  Send put{"PUT", {}, path};
  Response done =
      perform_with_auth(url, {"Content-Type: application/octet-stream"}, nullptr, nullptr, &put);
  if (done.status != 201)
    throw Error("cannot upload blob " + digest + " to " + where() + ": HTTP " +
                std::to_string(done.status) + " " + done.body.substr(0, 200));
}

std::string RegistryClient::put_manifest(const std::string& tag, const std::string& bytes,
                                         const std::string& media_type) {
  Send put{"PUT", bytes, {}};
  Response r = perform_with_auth(base_url() + "/manifests/" + tag, {"Content-Type: " + media_type},
                                 nullptr, nullptr, &put);
  if (r.status == 401 || r.status == 403)
    throw Error(ref_.registry + " refused a push to " + ref_.repository + " (HTTP " +
                    std::to_string(r.status) + ")",
                "check that the credentials (~/.docker/config.json or --creds) may push there");
  if (r.status != 201)
    throw Error("cannot push the manifest " + where() + ":" + tag + ": HTTP " +
                    std::to_string(r.status) + " " + r.body.substr(0, 300),
                "the registry may not accept OCI artifacts (manifests with an artifactType)");
  std::string digest = oci::Sha256::of(bytes);
  if (!r.content_digest.empty() && r.content_digest != digest)
    throw Error("the registry stored the manifest of " + where() + ":" + tag + " as " +
                r.content_digest + ", not " + digest);
  return digest;
}

}  // namespace c2w::distribution
