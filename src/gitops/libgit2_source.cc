#include "gitops/libgit2_source.h"

#include <arpa/inet.h>
#include <git2.h>
#include <libssh2.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <vector>

#include "common/file_io.h"
#include "common/redact.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

#if defined(__SANITIZE_ADDRESS__)
// Sanitizer builds only. libgit2 1.5 (Debian 12) frees its PCRE2 match data only when a regex
// matches, so every remote it creates or looks up leaks a few hundred bytes per config entry that
// does not match (url.*.insteadOf, remote.*.fetch). The leak is theirs, not ours, and bounded by
// the remotes we open; LeakSanitizer is told to ignore allocations made inside libpcre2, which
// ramp does not use directly. Any binary that links this file talks to libgit2.
extern "C" const char* __lsan_default_suppressions() {  // NOLINT(bugprone-reserved-identifier)
  return "leak:libpcre2-8.so\n";
}
#endif

namespace ramp::gitops {
namespace {

constexpr size_t kMaxTreeBytes = size_t{64} * 1024 * 1024;
constexpr int kMaxCredentialAttempts = 3;
constexpr const char* kRefused = "the server refused the credentials";

bool isSshUrl(const std::string& url) {
  if (url.starts_with("ssh://") || url.starts_with("ssh+git://") || url.starts_with("git+ssh://")) {
    return true;
  }
  return url.find("://") == std::string::npos && url.find(':') != std::string::npos;
}

// Sanitizer builds only. libgit2 1.5's ssh transport leaks on every connection: the known_hosts
// list it loads from ~/.ssh with the two path buffers it builds for it (cleared, never freed),
// and libssh2's list of authentication methods after a refused key. Neither library has frame
// pointers, so LeakSanitizer's stacks end inside them and no suppression can name the functions;
// instead leak detection is off for the duration of one fetch or push over ssh. Elsewhere a no-op.
class SshLeakScope {
 public:
  explicit SshLeakScope(const std::string& url) : on_(isSshUrl(url)) {
#if defined(__SANITIZE_ADDRESS__)
    if (on_) __lsan_disable();
#endif
  }
  ~SshLeakScope() {
#if defined(__SANITIZE_ADDRESS__)
    if (on_) __lsan_enable();
#endif
  }
  SshLeakScope(const SshLeakScope&) = delete;
  SshLeakScope& operator=(const SshLeakScope&) = delete;

 private:
  bool on_;
};

// RAII for libgit2 objects.
template <class T, void (*Free)(T*)>
struct Owned {
  T* p = nullptr;
  Owned() = default;
  Owned(const Owned&) = delete;
  Owned& operator=(const Owned&) = delete;
  ~Owned() {
    if (p != nullptr) Free(p);
  }
  T** out() { return &p; }
  T* get() const { return p; }
};
using Repo = Owned<git_repository, git_repository_free>;
using Remote = Owned<git_remote, git_remote_free>;
using Object = Owned<git_object, git_object_free>;
using Commit = Owned<git_commit, git_commit_free>;
using Tree = Owned<git_tree, git_tree_free>;
using TreeEntry = Owned<git_tree_entry, git_tree_entry_free>;
using Blob = Owned<git_blob, git_blob_free>;
using Builder = Owned<git_treebuilder, git_treebuilder_free>;
using Signature = Owned<git_signature, git_signature_free>;
using Reference = Owned<git_reference, git_reference_free>;

std::string fnvHex(const std::string& s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string oidHex(const git_oid& oid) {
  char buf[GIT_OID_HEXSZ + 1];
  git_oid_tostr(buf, sizeof buf, &oid);
  return buf;
}

// The port of an ssh URL (ssh://[user@]host[:port]/path; 22 for the scp form user@host:path).
int sshPort(const std::string& url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos) return 22;
  const size_t hostStart = scheme + 3;
  const size_t slash = url.find('/', hostStart);
  std::string authority =
      url.substr(hostStart, slash == std::string::npos ? slash : slash - hostStart);
  if (const size_t at = authority.rfind('@'); at != std::string::npos) {
    authority = authority.substr(at + 1);
  }
  const size_t close = authority.rfind(']');
  const size_t colon = authority.rfind(':');
  if (colon == std::string::npos || (close != std::string::npos && colon < close)) return 22;
  try {
    return std::stoi(authority.substr(colon + 1));
  } catch (const std::exception&) {
    return 22;
  }
}

// "host" for port 22, else OpenSSH's "[host]:port", as known_hosts spells it.
std::string hostPort(const std::string& host, int port) {
  return port == 22 ? host : "[" + host + "]:" + std::to_string(port);
}

std::string base64(const unsigned char* data, size_t size) {
  std::string out(4 * ((size + 2) / 3) + 1, '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
  out.resize(static_cast<size_t>(n));
  return out;
}

// OpenSSH's name of a host key type and libssh2's known_hosts type bits for it.
std::pair<std::string, int> hostKeyType(git_cert_ssh_raw_type_t type) {
  switch (type) {
    case GIT_CERT_SSH_RAW_TYPE_RSA: return {"ssh-rsa", LIBSSH2_KNOWNHOST_KEY_SSHRSA};
    case GIT_CERT_SSH_RAW_TYPE_DSS: return {"ssh-dss", LIBSSH2_KNOWNHOST_KEY_SSHDSS};
    case GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_256:
      return {"ecdsa-sha2-nistp256", LIBSSH2_KNOWNHOST_KEY_ECDSA_256};
    case GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_384:
      return {"ecdsa-sha2-nistp384", LIBSSH2_KNOWNHOST_KEY_ECDSA_384};
    case GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_521:
      return {"ecdsa-sha2-nistp521", LIBSSH2_KNOWNHOST_KEY_ECDSA_521};
    case GIT_CERT_SSH_RAW_TYPE_KEY_ED25519: return {"ssh-ed25519", LIBSSH2_KNOWNHOST_KEY_ED25519};
    default: return {"unknown", LIBSSH2_KNOWNHOST_KEY_UNKNOWN};
  }
}

// Checks a server's host key against the known_hosts file `path` (OpenSSH's format, hashed
// names included, read by libssh2). Returns "" when it is listed for host:port, else why not.
std::string checkKnownHost(const std::string& path, const std::string& host, int port,
                           const git_cert_hostkey& cert) {
  const auto [typeName, typeBits] = hostKeyType(cert.raw_type);
  std::string fingerprint = typeName;
  if ((cert.type & GIT_CERT_SSH_SHA256) != 0) {
    std::string b64 = base64(cert.hash_sha256, sizeof cert.hash_sha256);
    while (!b64.empty() && b64.back() == '=') b64.pop_back();
    fingerprint += " SHA256:" + b64;
  }
  const std::string who = "the ssh host key of " + hostPort(host, port) + " (" + fingerprint + ")";
  if ((cert.type & GIT_CERT_SSH_RAW) == 0 || typeBits == LIBSSH2_KNOWNHOST_KEY_UNKNOWN) {
    return who + " cannot be checked: unknown key type";
  }
  if (path.empty()) {
    return who +
           " is unknown: no known_hosts in the credentials directory, and not in "
           "~/.ssh/known_hosts";
  }
  LIBSSH2_SESSION* session = libssh2_session_init();
  if (session == nullptr) return who + " cannot be checked: libssh2 failed";
  LIBSSH2_KNOWNHOSTS* hosts = libssh2_knownhost_init(session);
  std::string why;
  if (hosts == nullptr ||
      libssh2_knownhost_readfile(hosts, path.c_str(), LIBSSH2_KNOWNHOST_FILE_OPENSSH) < 0) {
    why = who + " cannot be checked: " + path + " is not a readable known_hosts file";
  } else {
    struct libssh2_knownhost* found = nullptr;
    const int check = libssh2_knownhost_checkp(
        hosts, host.c_str(), port, cert.hostkey, cert.hostkey_len,
        LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | typeBits, &found);
    if (check == LIBSSH2_KNOWNHOST_CHECK_MISMATCH) {
      why = who +
            " does not match the one known_hosts has for it: refusing to connect (the "
            "server's key changed, or another server answers)";
    } else if (check == LIBSSH2_KNOWNHOST_CHECK_NOTFOUND) {
      why = who + " is not in known_hosts of the credentials directory";
    } else if (check != LIBSSH2_KNOWNHOST_CHECK_MATCH) {
      why = who + " cannot be checked against " + path;
    }
  }
  if (hosts != nullptr) libssh2_knownhost_free(hosts);
  libssh2_session_free(session);
  return why;
}

// Verifies a server's TLS certificate (DER, the leaf only: libgit2 hands no chain) against the
// PEM certificates in `caFile`, each a trust anchor, and the host name or IP address `host`.
// Returns "" when it is valid, else why not.
std::string verifyCertificate(const std::string& caFile, const std::string& host,
                              const unsigned char* der, size_t size) {
  const std::string who = "the TLS certificate of " + host;
  const unsigned char* p = der;
  X509* leaf = d2i_X509(nullptr, &p, static_cast<long>(size));
  if (leaf == nullptr) return who + " cannot be read";
  X509_STORE* store = X509_STORE_new();
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  std::string why;
  if (store == nullptr || ctx == nullptr || X509_STORE_load_file(store, caFile.c_str()) != 1) {
    why = who + " cannot be checked: " + caFile + " holds no PEM certificate";
  } else if (X509_STORE_CTX_init(ctx, store, leaf, nullptr) != 1) {
    why = who + " cannot be checked";
  } else {
    X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
    X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
    unsigned char addr[16];
    const bool isIp =
        inet_pton(AF_INET, host.c_str(), addr) == 1 || inet_pton(AF_INET6, host.c_str(), addr) == 1;
    if (isIp) {
      X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
    } else {
      X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
    }
    if (X509_verify_cert(ctx) != 1) {
      why = who + " is not trusted by ca.crt of the credentials directory: " +
            X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
    }
  }
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  X509_free(leaf);
  return why;
}

}  // namespace

struct Libgit2Source::Impl {
  std::string cacheDir;
  std::string credentialsDir;
  Redactor redactor;
  int credentialAttempts = 0;
  bool credentialsGiven = false;  // the callback handed the server a secret in this operation
  std::map<std::string, std::string> defaultBranch;  // url -> "main"

  std::string url;  // the repository of the current fetch or push (for the ssh port)

  // The path of file `name` in the credentials directory, "" when there is none.
  std::string file(const char* name) const {
    if (credentialsDir.empty()) return "";
    const std::string path = credentialsDir + "/" + name;
    return std::filesystem::exists(path) ? path : "";
  }

  std::optional<std::string> secret(const char* name) {
    if (credentialsDir.empty()) return std::nullopt;
    auto text = readFileIfExists(credentialsDir + "/" + name);
    if (!text || !*text) return std::nullopt;
    std::string value = **text;
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
    redactor.add(value);
    return value;
  }

  // The last libgit2 error as a ramp Error: `what` (naming the repository) and libgit2's message,
  // with every credential masked.
  Error error(int code, const std::string& what) {
    const git_error* e = git_error_last();
    std::string message =
        what + ": " +
        (e != nullptr && e->message != nullptr ? std::string(e->message)
                                               : "libgit2 error " + std::to_string(code));
    ErrorCode c = ErrorCode::kUnavailable;
    if (code == GIT_ENOTFOUND) c = ErrorCode::kNotFound;
    if (code == GIT_EAUTH) {
      c = ErrorCode::kUnauthenticated;
      // libssh2 reports a refused key as whatever failed next ("Failed getting response").
      if (credentialsGiven && message.find(kRefused) == std::string::npos) {
        message = what + ": " + kRefused + " (" + message.substr(what.size() + 2) + ")";
      }
    }
    return Error{c, redactor.redact(message)};
  }

  static int credentials(git_credential** out, const char* url, const char* userFromUrl,
                         unsigned int allowed, void* payload) {
    auto* self = static_cast<Impl*>(payload);
    if (++self->credentialAttempts > kMaxCredentialAttempts) {
      git_error_set_str(GIT_ERROR_NET, kRefused);
      return GIT_EAUTH;
    }
    if ((allowed & GIT_CREDENTIAL_USERNAME) != 0) {
      // ssh without a user in the URL: `username`, else "git" (the user of Git hosts).
      auto user = self->secret("username");
      return git_credential_username_new(out, user ? user->c_str() : "git");
    }
    if ((allowed & GIT_CREDENTIAL_SSH_KEY) != 0) {
      if (auto key = self->secret("ssh-privatekey")) {
        auto pub = self->secret("ssh-publickey");
        auto pass = self->secret("ssh-passphrase");
        self->credentialsGiven = true;
        return git_credential_ssh_key_memory_new(
            out, userFromUrl != nullptr ? userFromUrl : "git", pub ? pub->c_str() : nullptr,
            (*key + "\n").c_str(), pass ? pass->c_str() : nullptr);
      }
    }
    if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) != 0) {
      auto user = self->secret("username");
      auto password = self->secret("password");
      if (password) {
        self->credentialsGiven = true;
        return git_credential_userpass_plaintext_new(
            out, user ? user->c_str() : (userFromUrl != nullptr ? userFromUrl : "git"),
            password->c_str());
      }
    }
    (void)url;
    git_error_set_str(GIT_ERROR_NET, "the server asks for credentials and none are configured");
    return GIT_EAUTH;
  }

  // libgit2's certificate check: what libgit2 validated (the system's CAs for TLS,
  // ~/.ssh/known_hosts for ssh) passes; otherwise ca.crt (TLS) or known_hosts (ssh) of the
  // credentials directory decides. A refusal is GIT_ECERTIFICATE with the reason.
  static int certificateCheck(git_cert* cert, int valid, const char* host, void* payload) {
    auto* self = static_cast<Impl*>(payload);
    if (valid != 0) return 0;
    std::string why;
    if (cert->cert_type == GIT_CERT_X509) {
      const auto* x509 = reinterpret_cast<const git_cert_x509*>(cert);
      const std::string ca = self->file("ca.crt");
      why = ca.empty() ? "the TLS certificate of " + std::string(host) +
                             " is not trusted by the system's CAs, and the credentials directory "
                             "has no ca.crt"
                       : verifyCertificate(ca, host, static_cast<const unsigned char*>(x509->data),
                                           x509->len);
    } else if (cert->cert_type == GIT_CERT_HOSTKEY_LIBSSH2) {
      why = checkKnownHost(self->file("known_hosts"), host, sshPort(self->url),
                           *reinterpret_cast<const git_cert_hostkey*>(cert));
    } else {
      why = "the server of " + displayUrl(self->url) + " cannot be authenticated";
    }
    if (why.empty()) return 0;
    git_error_set_str(GIT_ERROR_NET, why.c_str());
    return GIT_ECERTIFICATE;
  }

  git_remote_callbacks callbacks(const std::string& repoUrl) {
    git_remote_callbacks cb = GIT_REMOTE_CALLBACKS_INIT;
    cb.credentials = &Impl::credentials;
    cb.certificate_check = &Impl::certificateCheck;
    cb.payload = this;
    credentialAttempts = 0;
    credentialsGiven = false;
    url = repoUrl;
    return cb;
  }

  Result<void> open(const std::string& url, Repo& repo) {
    const std::string dir = cacheDir + "/" + fnvHex(url) + ".git";
    if (std::filesystem::exists(dir + "/HEAD")) {
      if (int rc = git_repository_open_bare(repo.out(), dir.c_str()); rc < 0) {
        return std::unexpected(error(rc, "cannot open the mirror of " + displayUrl(url)));
      }
      return {};
    }
    std::error_code ec;
    std::filesystem::create_directories(cacheDir, ec);
    if (int rc = git_repository_init(repo.out(), dir.c_str(), 1); rc < 0) {
      return std::unexpected(error(rc, "cannot create the mirror of " + displayUrl(url)));
    }
    Remote remote;
    if (int rc = git_remote_create(remote.out(), repo.get(), "origin", url.c_str()); rc < 0) {
      return std::unexpected(error(rc, "repository " + displayUrl(url)));
    }
    return {};
  }

  Result<void> fetch(const std::string& url, git_repository* repo) {
    Remote remote;
    if (int rc = git_remote_lookup(remote.out(), repo, "origin"); rc < 0) {
      return std::unexpected(error(rc, "repository " + displayUrl(url)));
    }
    git_fetch_options opts = GIT_FETCH_OPTIONS_INIT;
    opts.callbacks = callbacks(url);
    opts.prune = GIT_FETCH_PRUNE;
    opts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
    char heads[] = "+refs/heads/*:refs/remotes/origin/*";
    char tags[] = "+refs/tags/*:refs/tags/*";
    char* specs[] = {heads, tags};
    git_strarray refspecs{specs, 2};
    SshLeakScope leaks(url);
    if (int rc = git_remote_fetch(remote.get(), &refspecs, &opts, nullptr); rc < 0) {
      // The server answered but refused us, or we refused it: not "unreachable".
      const bool refused = rc == GIT_EAUTH || rc == GIT_ECERTIFICATE;
      Error e = error(rc, "repository " + displayUrl(url) + (refused ? "" : " unreachable"));
      if (e.code == ErrorCode::kNotFound) e.code = ErrorCode::kUnavailable;
      return std::unexpected(e);
    }
    git_buf buf = GIT_BUF_INIT;
    if (git_remote_default_branch(&buf, remote.get()) == 0) {
      std::string ref(buf.ptr, buf.size);
      if (ref.starts_with("refs/heads/")) defaultBranch[url] = ref.substr(11);
    }
    git_buf_dispose(&buf);
    return {};
  }

  Result<std::string> resolveIn(const std::string& url, git_repository* repo,
                                const std::string& revision) {
    std::vector<std::string> candidates;
    if (revision.empty() || revision == "HEAD") {
      auto it = defaultBranch.find(url);
      if (it == defaultBranch.end()) {
        return makeError(ErrorCode::kNotFound,
                         "repository " + displayUrl(url) + " has no default branch");
      }
      candidates.push_back("refs/remotes/origin/" + it->second);
    } else {
      candidates = {"refs/remotes/origin/" + revision, "refs/tags/" + revision, revision};
    }
    for (const std::string& spec : candidates) {
      Object obj;
      if (git_revparse_single(obj.out(), repo, spec.c_str()) < 0) continue;
      Object commit;
      if (git_object_peel(commit.out(), obj.get(), GIT_OBJECT_COMMIT) < 0) continue;
      return oidHex(*git_object_id(commit.get()));
    }
    return makeError(ErrorCode::kNotFound, "revision \"" + revision + "\" not found in " +
                                               displayUrl(url) + " (not a branch, tag or commit)");
  }

  Result<void> commitTree(const std::string& url, git_repository* repo, const std::string& sha,
                          Tree& tree) {
    git_oid oid;
    if (git_oid_fromstr(&oid, sha.c_str()) < 0) {
      return makeError(ErrorCode::kInvalidArgument, "\"" + sha + "\" is not a commit id");
    }
    Commit commit;
    if (int rc = git_commit_lookup(commit.out(), repo, &oid); rc < 0) {
      return std::unexpected(error(rc, "commit " + sha + " of " + displayUrl(url)));
    }
    if (int rc = git_commit_tree(tree.out(), commit.get()); rc < 0) {
      return std::unexpected(error(rc, "commit " + sha + " of " + displayUrl(url)));
    }
    return {};
  }
};

namespace {

struct Walk {
  git_repository* repo;
  std::string prefix;  // the directory read, with a trailing '/' ("" for the root)
  std::map<std::string, std::string>* files;
  size_t bytes = 0;
  bool tooBig = false;
};

int collect(const char* root, const git_tree_entry* entry, void* payload) {
  auto* w = static_cast<Walk*>(payload);
  if (git_tree_entry_type(entry) != GIT_OBJECT_BLOB) return 0;
  Blob blob;
  if (git_blob_lookup(blob.out(), w->repo, git_tree_entry_id(entry)) < 0) return -1;
  const auto size = static_cast<size_t>(git_blob_rawsize(blob.get()));
  w->bytes += size;
  if (w->bytes > kMaxTreeBytes) {
    w->tooBig = true;
    return -1;
  }
  (*w->files)[w->prefix + root + git_tree_entry_name(entry)] =
      std::string(static_cast<const char*>(git_blob_rawcontent(blob.get())), size);
  return 0;
}

std::vector<std::string> components(const std::string& path) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    std::string part =
        path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (!part.empty() && part != ".") out.push_back(part);
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return out;
}

// The id of `base` (may be null) with the entry at parts[i…] replaced by tree `subtree`.
int replaceAt(git_repository* repo, const git_tree* base, const std::vector<std::string>& parts,
              size_t i, const git_oid& subtree, git_oid* out) {
  Builder builder;
  if (int rc = git_treebuilder_new(builder.out(), repo, base); rc < 0) return rc;
  git_oid child = subtree;
  if (i + 1 < parts.size()) {
    Tree next;
    if (base != nullptr) {
      const git_tree_entry* e = git_tree_entry_byname(base, parts[i].c_str());
      if (e != nullptr && git_tree_entry_type(e) == GIT_OBJECT_TREE) {
        if (int rc = git_tree_lookup(next.out(), repo, git_tree_entry_id(e)); rc < 0) return rc;
      }
    }
    if (int rc = replaceAt(repo, next.get(), parts, i + 1, subtree, &child); rc < 0) return rc;
  }
  if (int rc = git_treebuilder_insert(nullptr, builder.get(), parts[i].c_str(), &child,
                                      GIT_FILEMODE_TREE);
      rc < 0) {
    return rc;
  }
  return git_treebuilder_write(out, builder.get());
}

int rejected(const char* refname, const char* status, void* payload) {
  if (status != nullptr) *static_cast<std::string*>(payload) = std::string(refname) + ": " + status;
  return 0;
}

}  // namespace

Libgit2Source::Libgit2Source(std::string cacheDir, std::string credentialsDir)
    : impl_(std::make_unique<Impl>()) {
  git_libgit2_init();
  impl_->cacheDir = std::move(cacheDir);
  impl_->credentialsDir = std::move(credentialsDir);
}

Libgit2Source::~Libgit2Source() {
  impl_.reset();
  git_libgit2_shutdown();
}

Result<std::string> Libgit2Source::resolve(const std::string& repoURL,
                                           const std::string& revision) {
  Repo repo;
  if (auto ok = impl_->open(repoURL, repo); !ok) return std::unexpected(ok.error());
  if (auto ok = impl_->fetch(repoURL, repo.get()); !ok) return std::unexpected(ok.error());
  return impl_->resolveIn(repoURL, repo.get(), revision);
}

Result<std::map<std::string, std::string>> Libgit2Source::readTree(const std::string& repoURL,
                                                                   const std::string& sha,
                                                                   const std::string& path) {
  Repo repo;
  if (auto ok = impl_->open(repoURL, repo); !ok) return std::unexpected(ok.error());
  Tree tree;
  if (auto ok = impl_->commitTree(repoURL, repo.get(), sha, tree); !ok) {
    return std::unexpected(ok.error());
  }
  std::string prefix;
  for (const std::string& part : components(path)) prefix += part + "/";
  Tree sub;
  const git_tree* walkFrom = tree.get();
  if (!prefix.empty()) {
    const std::string dir = prefix.substr(0, prefix.size() - 1);
    TreeEntry entry;
    if (git_tree_entry_bypath(entry.out(), tree.get(), dir.c_str()) < 0 ||
        git_tree_entry_type(entry.get()) != GIT_OBJECT_TREE) {
      return makeError(ErrorCode::kNotFound, "path " + dir + " does not exist in " +
                                                 displayUrl(repoURL) + " at " + sha.substr(0, 7));
    }
    if (int rc = git_tree_lookup(sub.out(), repo.get(), git_tree_entry_id(entry.get())); rc < 0) {
      return std::unexpected(impl_->error(rc, "repository " + displayUrl(repoURL)));
    }
    walkFrom = sub.get();
  }
  std::map<std::string, std::string> files;
  Walk walk{repo.get(), prefix, &files};
  if (int rc = git_tree_walk(walkFrom, GIT_TREEWALK_PRE, collect, &walk); rc < 0) {
    if (walk.tooBig) {
      return makeError(ErrorCode::kUnavailable, "path " + path + " of " + displayUrl(repoURL) +
                                                    " holds more than " +
                                                    std::to_string(kMaxTreeBytes >> 20) + " MiB");
    }
    return std::unexpected(impl_->error(rc, "repository " + displayUrl(repoURL)));
  }
  return files;
}

Result<GitCommitInfo> Libgit2Source::commitInfo(const std::string& repoURL,
                                                const std::string& sha) {
  Repo repo;
  if (auto ok = impl_->open(repoURL, repo); !ok) return std::unexpected(ok.error());
  git_oid oid;
  if (git_oid_fromstr(&oid, sha.c_str()) < 0) {
    return makeError(ErrorCode::kInvalidArgument, "\"" + sha + "\" is not a commit id");
  }
  Commit commit;
  if (int rc = git_commit_lookup(commit.out(), repo.get(), &oid); rc < 0) {
    return std::unexpected(impl_->error(rc, "commit " + sha + " of " + displayUrl(repoURL)));
  }
  const git_signature* author = git_commit_author(commit.get());
  const char* body = git_commit_message(commit.get());
  GitCommitInfo info;
  info.sha = sha;
  info.body = body ? body : "";
  info.message = info.body.substr(0, info.body.find('\n'));
  if (author && author->name) {
    info.author = author->name;
    if (author->email && *author->email) info.author += std::string(" <") + author->email + ">";
  }
  return info;
}

Result<GitCommitInfo> Libgit2Source::revertPath(const std::string& repoURL,
                                                const std::string& branchName,
                                                const std::string& path, const std::string& target,
                                                const std::string& author,
                                                const std::string& message) {
  Repo repo;
  if (auto ok = impl_->open(repoURL, repo); !ok) return std::unexpected(ok.error());
  if (auto ok = impl_->fetch(repoURL, repo.get()); !ok) return std::unexpected(ok.error());
  std::string branch = branchName;
  if (branch.empty() || branch == "HEAD") {
    auto it = impl_->defaultBranch.find(repoURL);
    if (it == impl_->defaultBranch.end()) {
      return makeError(ErrorCode::kNotFound,
                       "repository " + displayUrl(repoURL) + " has no default branch");
    }
    branch = it->second;
  }
  // Only a branch can take a commit: a tag or a commit id would be pushed as a new branch.
  Reference remoteBranch;
  if (git_reference_lookup(remoteBranch.out(), repo.get(),
                           ("refs/remotes/origin/" + branch).c_str()) < 0) {
    return makeError(ErrorCode::kFailedPrecondition,
                     "\"" + branch + "\" is not a branch of " + displayUrl(repoURL) +
                         ": a revert commit needs a branch to be pushed to");
  }
  auto headSha = impl_->resolveIn(repoURL, repo.get(), branch);
  if (!headSha) return std::unexpected(headSha.error());
  Tree headTree, targetTree;
  if (auto ok = impl_->commitTree(repoURL, repo.get(), *headSha, headTree); !ok) {
    return std::unexpected(ok.error());
  }
  if (auto ok = impl_->commitTree(repoURL, repo.get(), target, targetTree); !ok) {
    return std::unexpected(ok.error());
  }
  const std::vector<std::string> parts = components(path);
  git_oid newTree;
  if (parts.empty()) {
    git_oid_cpy(&newTree, git_tree_id(targetTree.get()));
  } else {
    TreeEntry entry;
    std::string dir;
    for (const std::string& p : parts) dir += (dir.empty() ? "" : "/") + p;
    if (git_tree_entry_bypath(entry.out(), targetTree.get(), dir.c_str()) < 0 ||
        git_tree_entry_type(entry.get()) != GIT_OBJECT_TREE) {
      return makeError(ErrorCode::kNotFound,
                       "path " + dir + " does not exist at " + target.substr(0, 7));
    }
    if (int rc = replaceAt(repo.get(), headTree.get(), parts, 0, *git_tree_entry_id(entry.get()),
                           &newTree);
        rc < 0) {
      return std::unexpected(impl_->error(rc, "repository " + displayUrl(repoURL)));
    }
  }
  if (git_oid_equal(&newTree, git_tree_id(headTree.get()))) {
    return makeError(ErrorCode::kAlreadyExists,
                     branch + " already has the files of " + target.substr(0, 7) + " under " +
                         (path.empty() ? "the root" : path) + ": nothing to revert");
  }
  Tree tree;
  Commit parent;
  Signature sig;
  git_oid headOid, commitOid;
  git_oid_fromstr(&headOid, headSha->c_str());
  if (git_tree_lookup(tree.out(), repo.get(), &newTree) < 0 ||
      git_commit_lookup(parent.out(), repo.get(), &headOid) < 0 ||
      git_signature_now(sig.out(), author.c_str(), (author + "@ramp").c_str()) < 0) {
    return std::unexpected(impl_->error(-1, "cannot write the revert commit"));
  }
  const git_commit* parents[] = {parent.get()};
  if (int rc = git_commit_create(&commitOid, repo.get(), nullptr, sig.get(), sig.get(), nullptr,
                                 message.c_str(), tree.get(), 1, parents);
      rc < 0) {
    return std::unexpected(impl_->error(rc, "cannot write the revert commit"));
  }
  const std::string localRef = "refs/heads/" + branch;
  Reference ref;
  if (int rc = git_reference_create(ref.out(), repo.get(), localRef.c_str(), &commitOid, 1,
                                    "ramp revert");
      rc < 0) {
    return std::unexpected(impl_->error(rc, "cannot write the revert commit"));
  }
  Remote remote;
  if (int rc = git_remote_lookup(remote.out(), repo.get(), "origin"); rc < 0) {
    return std::unexpected(impl_->error(rc, "repository " + displayUrl(repoURL)));
  }
  git_push_options opts = GIT_PUSH_OPTIONS_INIT;
  opts.callbacks = impl_->callbacks(repoURL);
  std::string refusal;
  // The credentials and push_update_reference callbacks share one payload.
  struct Payload {
    Impl* impl;
    std::string* refusal;
  };
  Payload payload{impl_.get(), &refusal};
  opts.callbacks.payload = &payload;
  opts.callbacks.credentials = [](git_credential** out, const char* url, const char* user,
                                  unsigned int allowed, void* p) {
    return Impl::credentials(out, url, user, allowed, static_cast<Payload*>(p)->impl);
  };
  opts.callbacks.certificate_check = [](git_cert* cert, int valid, const char* host, void* p) {
    return Impl::certificateCheck(cert, valid, host, static_cast<Payload*>(p)->impl);
  };
  opts.callbacks.push_update_reference = [](const char* refname, const char* status, void* p) {
    return rejected(refname, status, static_cast<Payload*>(p)->refusal);
  };
  const std::string spec = localRef + ":" + localRef;
  char* specs[] = {const_cast<char*>(spec.c_str())};
  git_strarray refspecs{specs, 1};
  SshLeakScope leaks(repoURL);
  if (int rc = git_remote_push(remote.get(), &refspecs, &opts); rc < 0) {
    return std::unexpected(impl_->error(rc, "push to " + displayUrl(repoURL) + " failed"));
  }
  if (!refusal.empty()) {
    return makeError(
        ErrorCode::kFailedPrecondition,
        impl_->redactor.redact("push to " + displayUrl(repoURL) + " refused: " + refusal));
  }
  return GitCommitInfo{oidHex(commitOid), message.substr(0, message.find('\n')), author, message};
}

}  // namespace ramp::gitops
