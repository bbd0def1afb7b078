#include "supply/trusted_root.h"

#include <openssl/ct.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "common/file_io.h"
#include "spec/values.h"

namespace ramp::supply {
namespace {

using Json = nlohmann::json;

std::unexpected<Error> bad(const std::string& path, const std::string& what) {
  return makeError(ErrorCode::kParse, "trusted root: " + path + ": " + what);
}

// The object at `key` of `j` (required), or an error naming `path.key`.
Result<const Json*> object(const Json& j, const char* key, const std::string& path) {
  std::string p = path.empty() ? key : path + "." + key;
  auto it = j.find(key);
  if (it == j.end()) return bad(p, "missing");
  if (!it->is_object()) return bad(p, "not an object");
  return &*it;
}

Result<std::string> string(const Json& j, const char* key, const std::string& path, bool required) {
  std::string p = path.empty() ? key : path + "." + key;
  auto it = j.find(key);
  if (it == j.end()) {
    if (required) return bad(p, "missing");
    return std::string();
  }
  if (!it->is_string()) return bad(p, "not a string");
  return it->get<std::string>();
}

Result<std::string> bytes(const Json& j, const char* key, const std::string& path) {
  auto s = string(j, key, path, true);
  if (!s) return std::unexpected(s.error());
  auto b = decodeBase64(*s);
  if (!b || b->empty()) return bad(path + "." + key, "not base64");
  return *b;
}

Result<int64_t> timestamp(const Json& j, const char* key, const std::string& path) {
  auto s = string(j, key, path, true);
  if (!s) return std::unexpected(s.error());
  auto t = spec::parseRfc3339(*s);
  if (!t) return bad(path + "." + key, "not an RFC 3339 time: \"" + s->substr(0, 40) + "\"");
  return std::chrono::duration_cast<std::chrono::seconds>(t->time_since_epoch()).count();
}

Result<ValidFor> validFor(const Json& j, const std::string& path) {
  auto v = object(j, "validFor", path);
  if (!v) return std::unexpected(v.error());
  ValidFor out;
  auto start = timestamp(**v, "start", path + ".validFor");
  if (!start) return std::unexpected(start.error());
  out.start = *start;
  if ((*v)->contains("end")) {
    auto end = timestamp(**v, "end", path + ".validFor");
    if (!end) return std::unexpected(end.error());
    out.end = *end;
  }
  return out;
}

Result<std::vector<TrustedLog>> logs(const Json& j, const char* key) {
  std::vector<TrustedLog> out;
  auto it = j.find(key);
  if (it == j.end()) return out;
  if (!it->is_array()) return bad(key, "not a list");
  for (size_t i = 0; i < it->size(); ++i) {
    const Json& e = (*it)[i];
    std::string path = std::string(key) + "[" + std::to_string(i) + "]";
    if (!e.is_object()) return bad(path, "not an object");
    TrustedLog log;
    auto url = string(e, "baseUrl", path, false);
    if (!url) return std::unexpected(url.error());
    log.baseUrl = *url;
    auto pk = object(e, "publicKey", path);
    if (!pk) return std::unexpected(pk.error());
    std::string pkPath = path + ".publicKey";
    auto raw = bytes(**pk, "rawBytes", pkPath);
    if (!raw) return std::unexpected(raw.error());
    auto parsed = PublicKey::fromDer(*raw);
    if (!parsed) return bad(pkPath + ".rawBytes", parsed.error().message);
    log.key = std::make_shared<const PublicKey>(std::move(*parsed));
    auto details = string(**pk, "keyDetails", pkPath, false);
    if (!details) return std::unexpected(details.error());
    log.keyDetails = *details;
    auto window = validFor(**pk, pkPath);
    if (!window) return std::unexpected(window.error());
    log.validFor = *window;
    auto id = object(e, "logId", path);
    if (!id) return std::unexpected(id.error());
    auto keyId = bytes(**id, "keyId", path + ".logId");
    if (!keyId) return std::unexpected(keyId.error());
    log.logId = *keyId;
    out.push_back(std::move(log));
  }
  return out;
}

Result<std::vector<TrustedAuthority>> authorities(const Json& j) {
  std::vector<TrustedAuthority> out;
  auto it = j.find("certificateAuthorities");
  if (it == j.end()) return out;
  if (!it->is_array()) return bad("certificateAuthorities", "not a list");
  for (size_t i = 0; i < it->size(); ++i) {
    const Json& e = (*it)[i];
    std::string path = "certificateAuthorities[" + std::to_string(i) + "]";
    if (!e.is_object()) return bad(path, "not an object");
    TrustedAuthority ca;
    auto uri = string(e, "uri", path, false);
    if (!uri) return std::unexpected(uri.error());
    ca.uri = *uri;
    if (auto s = e.find("subject"); s != e.end() && s->is_object()) {
      for (const char* k : {"organization", "commonName"}) {
        auto v = s->find(k);
        if (v != s->end() && v->is_string()) {
          ca.subject += (ca.subject.empty() ? "" : "/") + v->get<std::string>();
        }
      }
    }
    auto chain = object(e, "certChain", path);
    if (!chain) return std::unexpected(chain.error());
    auto certs = (*chain)->find("certificates");
    std::string cPath = path + ".certChain.certificates";
    if (certs == (*chain)->end() || !certs->is_array() || certs->empty()) {
      return bad(cPath, "missing or empty");
    }
    for (size_t k = 0; k < certs->size(); ++k) {
      std::string kPath = cPath + "[" + std::to_string(k) + "]";
      if (!(*certs)[k].is_object()) return bad(kPath, "not an object");
      auto raw = bytes((*certs)[k], "rawBytes", kPath);
      if (!raw) return std::unexpected(raw.error());
      auto cert = Certificate::fromDer(*raw);
      if (!cert) return bad(kPath + ".rawBytes", cert.error().message);
      ca.chain.push_back(std::move(*cert));
    }
    auto window = validFor(e, path);
    if (!window) return std::unexpected(window.error());
    ca.validFor = *window;
    out.push_back(std::move(ca));
  }
  return out;
}

// OpenSSL's CT log list (ct_log_list.cnf format) for `ctlogs`, loaded through a temporary file.
Result<std::shared_ptr<CTLOG_STORE>> ctlogStore(const std::vector<TrustedLog>& ctlogs) {
  std::shared_ptr<CTLOG_STORE> store(CTLOG_STORE_new(), CTLOG_STORE_free);
  if (!store) return makeError(ErrorCode::kInternal, "trusted root: CTLOG_STORE_new failed");
  if (ctlogs.empty()) return store;
  std::string conf = "enabled_logs = ";
  for (size_t i = 0; i < ctlogs.size(); ++i) conf += (i ? ",log" : "log") + std::to_string(i);
  conf += "\n";
  for (size_t i = 0; i < ctlogs.size(); ++i) {
    conf += "[log" + std::to_string(i) + "]\ndescription = ctlogs" + std::to_string(i) +
            "\nkey = " + encodeBase64(ctlogs[i].key->der()) + "\n";
  }
  const char* dir = std::getenv("TMPDIR");
  std::string path = std::string(dir && *dir ? dir : "/tmp") + "/ramp-ctlogs-XXXXXX";
  int fd = mkstemp(path.data());
  if (fd < 0) return makeError(ErrorCode::kInternal, "trusted root: cannot create " + path);
  bool written = ::write(fd, conf.data(), conf.size()) == static_cast<ssize_t>(conf.size());
  ::close(fd);
  int loaded = written ? CTLOG_STORE_load_file(store.get(), path.c_str()) : 0;
  ::unlink(path.c_str());
  if (loaded != 1) {
    return makeError(ErrorCode::kInternal, "trusted root: OpenSSL did not load the CT log keys");
  }
  return store;
}

}  // namespace

const TrustedLog* TrustedRoot::find(const std::vector<TrustedLog>& logs, std::string_view logId) {
  for (const TrustedLog& l : logs) {
    if (l.logId == logId) return &l;
  }
  return nullptr;
}

Result<std::shared_ptr<const TrustedRoot>> parseTrustedRoot(std::string_view json) {
  Json j = Json::parse(json, nullptr, false);
  if (j.is_discarded()) return bad("(document)", "not JSON");
  if (!j.is_object()) return bad("(document)", "not a JSON object");
  auto root = std::make_shared<TrustedRoot>();
  auto media = string(j, "mediaType", "", true);
  if (!media) return std::unexpected(media.error());
  if (!media->starts_with(kTrustedRootMediaTypePrefix)) {
    return bad("mediaType", "\"" + media->substr(0, 80) + "\" is not a Sigstore trusted root");
  }
  root->mediaType = *media;
  auto tlogs = logs(j, "tlogs");
  if (!tlogs) return std::unexpected(tlogs.error());
  root->tlogs = std::move(*tlogs);
  auto ctlogs = logs(j, "ctlogs");
  if (!ctlogs) return std::unexpected(ctlogs.error());
  root->ctlogs = std::move(*ctlogs);
  auto cas = authorities(j);
  if (!cas) return std::unexpected(cas.error());
  root->certificateAuthorities = std::move(*cas);
  if (auto t = j.find("timestampAuthorities"); t != j.end() && t->is_array()) {
    root->ignoredTimestampAuthorities = t->size();
  }
  auto store = ctlogStore(root->ctlogs);
  if (!store) return std::unexpected(store.error());
  root->ctlogStore = std::move(*store);
  return std::shared_ptr<const TrustedRoot>(std::move(root));
}

Result<std::shared_ptr<const TrustedRoot>> loadTrustedRoot(const std::string& path) {
  auto text = readFileIfExists(path);
  if (!text) return std::unexpected(text.error());
  if (!*text) return makeError(ErrorCode::kNotFound, path + ": no such trusted root file");
  auto root = parseTrustedRoot(**text);
  if (!root) return makeError(root.error().code, path + ": " + root.error().message);
  return root;
}

}  // namespace ramp::supply
