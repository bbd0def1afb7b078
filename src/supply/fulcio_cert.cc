#include "supply/fulcio_cert.h"
#include "supply/verify_errors.h"

#include <openssl/ct.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

namespace ramp::supply {
namespace {

constexpr const char* kFulcioIssuerV2Oid = "1.3.6.1.4.1.57264.1.8";
constexpr const char* kFulcioIssuerV1Oid = "1.3.6.1.4.1.57264.1.1";
constexpr const char* kFulcioUsernameOid = "1.3.6.1.4.1.57264.1.7";

std::string asn1String(const ASN1_STRING* s) {
  if (s == nullptr) return "";
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<size_t>(ASN1_STRING_length(s)));
}

// The data of `leaf`'s extension `oid`, or nullopt.
std::optional<std::string> extensionData(const Certificate& leaf, const char* oid) {
  ASN1_OBJECT* obj = OBJ_txt2obj(oid, 1);
  if (obj == nullptr) return std::nullopt;
  int at = X509_get_ext_by_OBJ(leaf.get(), obj, -1);
  ASN1_OBJECT_free(obj);
  if (at < 0) return std::nullopt;
  return asn1String(X509_EXTENSION_get_data(X509_get_ext(leaf.get(), at)));
}

// Owns what X509_verify_cert needs for one certificate authority.
struct ChainCheck {
  X509_STORE* store = X509_STORE_new();
  STACK_OF(X509) * untrusted = sk_X509_new_null();
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  ~ChainCheck() {
    X509_STORE_CTX_free(ctx);
    sk_X509_free(untrusted);  // the certificates belong to the trusted root
    X509_STORE_free(store);
  }
};

}  // namespace

Result<Certificate> verifyFulcioChain(const Certificate& leaf, const TrustedRoot& root,
                                      int64_t time) {
  bool anyAuthority = false;
  bool expired = false;
  std::string reason;
  for (const TrustedAuthority& ca : root.certificateAuthorities) {
    if (!ca.validFor.contains(time) || ca.chain.empty()) continue;
    anyAuthority = true;
    ChainCheck c;
    if (c.store == nullptr || c.untrusted == nullptr || c.ctx == nullptr) {
      return makeError(ErrorCode::kInternal, "untrusted certificate: OpenSSL allocation failed");
    }
    X509_STORE_add_cert(c.store, ca.chain.back().get());
    for (size_t i = 0; i + 1 < ca.chain.size(); ++i) sk_X509_push(c.untrusted, ca.chain[i].get());
    if (X509_STORE_CTX_init(c.ctx, c.store, leaf.get(), c.untrusted) != 1) {
      return makeError(ErrorCode::kInternal, "untrusted certificate: X509_STORE_CTX_init failed");
    }
    X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(c.ctx);
    X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(time));
    // The authority's last certificate is the anchor even when it is not self-signed.
    X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
    if (X509_verify_cert(c.ctx) == 1) {
      STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(c.ctx);
      if (sk_X509_num(chain) < 2) {
        reason = "the certificate is itself an authority of the trusted root";
        continue;
      }
      if ((X509_get_extension_flags(leaf.get()) & EXFLAG_XKUSAGE) == 0 ||
          (X509_get_extended_key_usage(leaf.get()) & XKU_CODE_SIGN) == 0) {
        return failed("untrusted certificate: its extended key usage is not codeSigning");
      }
      X509* issuer = sk_X509_value(chain, 1);
      X509_up_ref(issuer);
      unsigned char* der = nullptr;
      int n = i2d_X509(issuer, &der);
      std::string bytes(reinterpret_cast<char*>(der), n > 0 ? static_cast<size_t>(n) : 0);
      OPENSSL_free(der);
      X509_free(issuer);
      return Certificate::fromDer(bytes);
    }
    int err = X509_STORE_CTX_get_error(c.ctx);
    int depth = X509_STORE_CTX_get_error_depth(c.ctx);
    if (depth == 0 &&
        (err == X509_V_ERR_CERT_HAS_EXPIRED || err == X509_V_ERR_CERT_NOT_YET_VALID)) {
      expired = true;
    }
    reason = std::string(X509_verify_cert_error_string(err)) + " at depth " +
             std::to_string(depth) + " (authority " + ca.uri + " " + ca.subject + ")";
  }
  if (expired) {
    return failed("certificate expired at integrated time: the certificate is valid from " +
                  formatUnixTime(leaf.notBefore()) + " to " + formatUnixTime(leaf.notAfter()) +
                  ", the entry was logged at " + formatUnixTime(time));
  }
  if (!anyAuthority) {
    return failed(
        "untrusted certificate: no certificate authority of the trusted root is valid "
        "at " +
        formatUnixTime(time));
  }
  return failed("untrusted certificate: " + reason);
}

Status verifyEmbeddedSct(const Certificate& leaf, const Certificate& issuer,
                         const TrustedRoot& root) {
  auto* scts = static_cast<STACK_OF(SCT)*>(
      X509_get_ext_d2i(leaf.get(), NID_ct_precert_scts, nullptr, nullptr));
  if (scts == nullptr || sk_SCT_num(scts) == 0) {
    SCT_LIST_free(scts);
    return failed("sct: the certificate has no embedded SCT");
  }
  CT_POLICY_EVAL_CTX* ctx = CT_POLICY_EVAL_CTX_new();
  CT_POLICY_EVAL_CTX_set1_cert(ctx, leaf.get());
  CT_POLICY_EVAL_CTX_set1_issuer(ctx, issuer.get());
  CT_POLICY_EVAL_CTX_set_shared_CTLOG_STORE(ctx, root.ctlogStore.get());
  // "Now", for OpenSSL's check that an SCT is not from the future: the end of the
  // certificate's validity (an SCT is issued with the certificate).
  CT_POLICY_EVAL_CTX_set_time(ctx, static_cast<uint64_t>(leaf.notAfter()) * 1000 + 999);
  std::string why;
  bool ok = false;
  for (int i = 0; i < sk_SCT_num(scts) && !ok; ++i) {
    SCT* sct = sk_SCT_value(scts, i);
    unsigned char* id = nullptr;
    size_t idLen = SCT_get0_log_id(sct, &id);
    std::string logId(reinterpret_cast<char*>(id), idLen);
    const TrustedLog* log = TrustedRoot::find(root.ctlogs, logId);
    if (log == nullptr) {
      why = "no SCT from a CT log of the trusted root (log id " + hexBytes(logId) + ")";
      continue;
    }
    int rc = SCT_validate(sct, ctx);
    int64_t when = static_cast<int64_t>(SCT_get_timestamp(sct) / 1000);
    if (rc != 1 || SCT_get_validation_status(sct) != SCT_VALIDATION_STATUS_VALID) {
      why = "the SCT of CT log " + log->baseUrl + " does not verify";
    } else if (!log->validFor.contains(when)) {
      why = "the key of CT log " + log->baseUrl + " is not valid at the SCT's time " +
            formatUnixTime(when);
    } else {
      ok = true;
    }
  }
  SCT_LIST_free(scts);
  CT_POLICY_EVAL_CTX_free(ctx);
  if (!ok) return failed("sct: " + why);
  return {};
}

Result<CertificateIdentity> certificateIdentity(const Certificate& leaf) {
  CertificateIdentity id;
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(leaf.get(), NID_subject_alt_name, nullptr, nullptr));
  ASN1_OBJECT* username = OBJ_txt2obj(kFulcioUsernameOid, 1);
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names) && id.subject.empty(); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type == GEN_EMAIL) {
      id.subject = asn1String(n->d.rfc822Name);
    } else if (n->type == GEN_URI) {
      id.subject = asn1String(n->d.uniformResourceIdentifier);
    } else if (n->type == GEN_OTHERNAME && username != nullptr &&
               OBJ_cmp(n->d.otherName->type_id, username) == 0 &&
               n->d.otherName->value->type == V_ASN1_UTF8STRING) {
      id.subject = asn1String(n->d.otherName->value->value.utf8string);
    }
  }
  ASN1_OBJECT_free(username);
  GENERAL_NAMES_free(names);
  if (id.subject.empty()) {
    return failed("untrusted certificate: no email, URI or username subject alternative name");
  }
  if (auto v2 = extensionData(leaf, kFulcioIssuerV2Oid)) {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(v2->data());
    ASN1_UTF8STRING* s = d2i_ASN1_UTF8STRING(nullptr, &p, static_cast<long>(v2->size()));
    if (s == nullptr) {
      return failed(std::string("untrusted certificate: extension ") + kFulcioIssuerV2Oid +
                    " is not a UTF8String");
    }
    id.issuer = asn1String(s);
    ASN1_UTF8STRING_free(s);
  } else if (auto v1 = extensionData(leaf, kFulcioIssuerV1Oid)) {
    id.issuer = *v1;
  }
  if (id.issuer.empty()) {
    return failed(
        "untrusted certificate: no OIDC issuer extension (1.3.6.1.4.1.57264.1.8 or .1.1)");
  }
  return id;
}

}  // namespace ramp::supply
