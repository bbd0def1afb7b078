#pragma once

// A Sigstore trusted root (`trusted_root.json`, media type
// application/vnd.dev.sigstore.trustedroot+json;version=0.1, the protobuf JSON of
// dev.sigstore.trustroot.v1.TrustedRoot) as keyless verification uses it, pinned: read from a
// file the operator gives, never refreshed from TUF or anything on the network.
//
//   tlogs[]                  transparency logs (Rekor): baseUrl, hashAlgorithm, publicKey
//                            {rawBytes (DER SubjectPublicKeyInfo), keyDetails, validFor
//                            {start, end?}}, logId {keyId (base64)}
//   certificateAuthorities[] Fulcio: subject, uri, certChain {certificates [{rawBytes}]} (the
//                            issuing certificate first, the root last), validFor
//   ctlogs[]                 certificate transparency logs, as tlogs
//   timestampAuthorities[]   read past: RFC 3161 timestamps are not verified (the time of a
//                            signature is the transparency log's signed integrated time)
//
// Parsing checks every key and certificate (OpenSSL must read them) and reports the first
// problem as kParse "trusted root: <field path>: <what>", e.g. "trusted root:
// tlogs[0].publicKey.rawBytes: not a DER public key". Unknown fields are ignored (the format
// grows). The CT logs are also loaded into an OpenSSL CTLOG_STORE for SCT validation; OpenSSL
// has no call that adds one log to a store, so they pass through a private temporary file in
// $TMPDIR (or /tmp), removed at once.
//
// Thread safety: a TrustedRoot is immutable once parsed and may be shared between threads.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ramp/error.h"
#include "supply/sigstore_crypto.h"

typedef struct ctlog_store_st CTLOG_STORE;

namespace ramp::supply {

inline constexpr std::string_view kTrustedRootMediaTypePrefix =
    "application/vnd.dev.sigstore.trustedroot";

// A time window [start, end]; end absent means open-ended. Seconds since the epoch.
struct ValidFor {
  int64_t start = 0;
  std::optional<int64_t> end;
  bool contains(int64_t t) const { return t >= start && (!end || t <= *end); }
};

// A transparency or CT log of the root.
struct TrustedLog {
  std::string baseUrl;
  std::string logId;  // raw bytes of logId.keyId (SHA-256 of the key's DER for Rekor and CT)
  std::string keyDetails;
  ValidFor validFor;
  std::shared_ptr<const PublicKey> key;
};

struct TrustedAuthority {
  std::string uri;
  std::string subject;             // "organization/commonName", for messages
  std::vector<Certificate> chain;  // issuing certificate first, self-signed root last
  ValidFor validFor;
};

struct TrustedRoot {
  std::string mediaType;
  std::vector<TrustedLog> tlogs;
  std::vector<TrustedAuthority> certificateAuthorities;
  std::vector<TrustedLog> ctlogs;
  size_t ignoredTimestampAuthorities = 0;
  std::shared_ptr<CTLOG_STORE> ctlogStore;  // the ctlogs, for OpenSSL's SCT validation

  // The log of `logs` whose logId is `logId` (raw bytes), or null.
  static const TrustedLog* find(const std::vector<TrustedLog>& logs, std::string_view logId);
};

// Parses a trusted_root.json. Errors: kParse "trusted root: <field path>: …"; kInternal when
// the CT log store cannot be built.
Result<std::shared_ptr<const TrustedRoot>> parseTrustedRoot(std::string_view json);

// Reads and parses the file at `path`. Errors: kNotFound naming it; parseTrustedRoot's, with
// the file named first ("<path>: trusted root: …").
Result<std::shared_ptr<const TrustedRoot>> loadTrustedRoot(const std::string& path);

}  // namespace ramp::supply
