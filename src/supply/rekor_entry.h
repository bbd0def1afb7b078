#pragma once

// Offline checks of one Rekor v1 transparency log entry against the log's key from a pinned
// trusted root (trusted_root.h), and of what the entry records against the bundle it came with:
//
//  - the SET (inclusionPromise): the log's signature over the canonical JSON (RFC 8785) of
//    {"body": base64 canonicalizedBody, "integratedTime", "logID": hex, "logIndex"}, which is
//    what makes the integrated time a trusted time; the log key must be valid then;
//  - the inclusion proof: RFC 6962 (audit/merkle.h) from SHA-256(0x00 || body) at
//    proof.logIndex to proof.rootHash in a tree of proof.treeSize, and the checkpoint: a C2SP
//    signed note whose signature line with the log's key hint (the first 4 bytes of its log id)
//    verifies with the log's key over the note text, and whose size and root hash are the
//    proof's (the signer's name is not compared: Rekor names it after its host);
//  - the body binds the bundle: hashedrekord 0.0.1 (signature, certificate, SHA-256 of the
//    artifact), dsse 0.0.1 (SHA-256 of the payload, a signature and verifier equal to the
//    bundle's), intoto 0.0.2 (payload hash, the envelope's signature and public key). The
//    envelopeHash of dsse and the hash of intoto (Rekor's own re-serialisation) are not
//    recomputed; the payload hash and signature already bind the content.
//
// Errors are kFailedPrecondition with messages starting "tlog: SET …", "tlog: inclusion proof
// …", "tlog: checkpoint signature …", "tlog: body …", or kUnsupported "tlog: unsupported …".
//
// Thread safety: pure functions.

#include <string>
#include <string_view>

#include "ramp/error.h"
#include "supply/sigstore_bundle.h"
#include "supply/trusted_root.h"

namespace ramp::supply {

// The canonical JSON a SET signs for `entry`.
std::string setPayload(const TlogEntry& entry);

// Verifies `entry`'s SET with `log`'s key, and that the key is valid at the integrated time.
Status verifySet(const TlogEntry& entry, const TrustedLog& log);

// Verifies `entry`'s inclusion proof and its checkpoint (when the proof carries one) with
// `log`'s key. Precondition: entry.inclusionProof is set.
Status verifyInclusion(const TlogEntry& entry, const TrustedLog& log);

// Checks that `entry`'s body records the signature, certificate (`leafDer`) and content of
// `bundle`. Errors: "tlog: body …" naming the field that differs; kUnsupported for other kinds.
Status checkBodyBindsBundle(const TlogEntry& entry, const KeylessBundle& bundle,
                            std::string_view leafDer);

}  // namespace ramp::supply
