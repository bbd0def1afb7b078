// The signature gate in the core (docs/supply-chain.md): a revision is created only when the
// shell's image verifier allowed every image of its template, and with each image pinned to the
// digest that was verified. The verdicts come in through Observed::imageCheck; nothing here does
// I/O.

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "rollout/context.h"

namespace ramp::rollout {
namespace internal {
namespace {

constexpr const char* kReasonImageVerified = "ImageVerified";
constexpr const char* kReasonImageAllowed = "ImageAllowed";
constexpr const char* kReasonImageNotVerified = "ImageNotVerified";
constexpr const char* kReasonImagePolicyWarning = "ImagePolicyWarning";

// What one verdict is evidence of (each verdict is a decision in the audit log).
std::map<std::string, std::string> verdictEvidence(const Context& c,
                                                   const supply::ImageVerdict& v) {
  std::map<std::string, std::string> e = {{"image", v.image},
                                          {"allowed", v.allowed ? "true" : "false"},
                                          {"podTemplateHash", c.podHash}};
  if (!v.pinnedImage.empty()) e["pinnedImage"] = v.pinnedImage;
  if (!v.digest.empty()) e["digest"] = v.digest;
  if (!v.policy.empty()) e["policy"] = v.policy;
  if (!v.authority.empty()) e["authority"] = v.authority;
  if (v.warnOnly) e["mode"] = "warn";
  for (size_t i = 0; i < v.warnings.size(); ++i) {
    e["warnings[" + std::to_string(i) + "]"] = v.warnings[i];
  }
  for (size_t i = 0; i < v.attestations.size(); ++i) {
    e["attestations[" + std::to_string(i) + "]"] = v.attestations[i];
  }
  if (v.provenance) {
    const supply::ProvenanceEvidence& p = *v.provenance;
    e["provenance.builderId"] = p.builderId;
    e["provenance.location"] = p.location;
    if (!p.source.empty()) e["provenance.source"] = p.source;
    if (!p.sourceDigest.empty()) e["provenance.sourceDigest"] = p.sourceDigest;
    if (!p.invocationId.empty()) e["provenance.invocationId"] = p.invocationId;
  }
  for (size_t i = 0; i < v.sboms.size(); ++i) {
    std::string k = "sboms[" + std::to_string(i) + "].";
    e[k + "format"] = v.sboms[i].format;
    e[k + "location"] = v.sboms[i].location;
    if (v.sboms[i].components >= 0) e[k + "components"] = std::to_string(v.sboms[i].components);
  }
  return e;
}

// The verdicts of `check` for the images of `tmpl`, in templateImages order; empty when the
// check is about another revision or does not cover exactly those images.
std::vector<const supply::ImageVerdict*> verdictsFor(const ImageCheck& check,
                                                     const std::string& hash,
                                                     const spec::PodTemplateSpec& tmpl) {
  if (check.podTemplateHash != hash) return {};
  std::vector<const supply::ImageVerdict*> out;
  for (const std::string& image : templateImages(tmpl)) {
    auto it = std::find_if(check.verdicts.begin(), check.verdicts.end(),
                           [&](const supply::ImageVerdict& v) { return v.image == image; });
    if (it == check.verdicts.end()) return {};
    out.push_back(&*it);
  }
  return out;
}

// Sets `cond`, replacing the condition of its type also when only its message changed; the
// transition time is kept while the status stays. False when the same condition was there.
bool putCondition(spec::RolloutStatus& s, spec::RolloutCondition cond) {
  const spec::RolloutCondition* before = getCondition(s, cond.type);
  if (before != nullptr && before->status == cond.status && before->reason == cond.reason &&
      before->message == cond.message) {
    return false;
  }
  if (before != nullptr && before->status == cond.status) {
    cond.lastTransitionTime = before->lastTransitionTime;
  }
  removeCondition(s, cond.type);
  s.conditions.push_back(std::move(cond));
  return true;
}

void refuse(Context& c, const std::vector<const supply::ImageVerdict*>& refused,
            const std::string& missing) {
  std::string message = missing;
  for (const supply::ImageVerdict* v : refused) {
    message += (message.empty() ? "" : "; ") + v->reason;
  }
  auto& next = c.next;
  const bool paused = imagePaused(c.old);
  const bool changed = putCondition(next, newCondition(kConditionImageVerified, "False",
                                                       kReasonImageNotVerified, message, c.now));
  const bool news = changed || !paused;
  if (!paused) {
    next.pauseConditions.push_back(spec::PauseCondition{kPauseReasonImageNotVerified, c.now});
    next.controllerPause = true;
  }
  next.observedGeneration = std::to_string(c.rollout.metadata.generation);
  next.phase = phaseOf(c.spec, next, next.message);
  if (next.phase == spec::RolloutPhase::kPaused && !c.spec.paused) {
    next.message = std::string(kPauseReasonImageNotVerified) + ": " + message;
  }
  if (!news) return;
  if (!missing.empty()) {
    c.event("Warning", kReasonImageNotVerified, missing, {{"podTemplateHash", c.podHash}});
  }
  for (const supply::ImageVerdict* v : refused) {
    c.event("Warning", kReasonImageNotVerified, v->reason, verdictEvidence(c, *v));
  }
}

}  // namespace

bool imagePaused(const spec::RolloutStatus& s) {
  return std::any_of(
      s.pauseConditions.begin(), s.pauseConditions.end(),
      [](const spec::PauseCondition& p) { return p.reason == kPauseReasonImageNotVerified; });
}

void liftImagePause(spec::RolloutStatus& s) {
  std::erase_if(s.pauseConditions, [](const spec::PauseCondition& p) {
    return p.reason == kPauseReasonImageNotVerified;
  });
  if (s.pauseConditions.empty()) s.controllerPause = false;
  const spec::RolloutCondition* cond = getCondition(s, kConditionImageVerified);
  if (cond != nullptr && cond->status == "False") removeCondition(s, kConditionImageVerified);
}

bool gateRevision(Context& c, bool creates, bool announce,
                  std::optional<spec::PodTemplateSpec>& pinned) {
  pinned.reset();
  if (!creates) return true;
  const spec::PodTemplateSpec& tmpl = *c.spec.template_;
  if (!c.observed.imageCheck) {
    // No verifier: the revision runs as written, and a condition about an earlier one is stale.
    removeCondition(c.next, kConditionImageVerified);
    return true;
  }
  std::vector<const supply::ImageVerdict*> verdicts =
      verdictsFor(*c.observed.imageCheck, c.podHash, tmpl);
  if (verdicts.empty() && !templateImages(tmpl).empty()) {
    refuse(c, {},
           "no signature verdict for the images of revision " + c.podHash +
               " (the image verifier was not asked about them)");
    return false;
  }
  std::vector<const supply::ImageVerdict*> refused;
  for (const supply::ImageVerdict* v : verdicts) {
    if (!v->allowed) refused.push_back(v);
  }
  if (!refused.empty()) {
    refuse(c, refused, "");
    return false;
  }
  std::vector<supply::ImageVerdict> allowed;
  std::string message;
  bool allPinned = true;
  for (const supply::ImageVerdict* v : verdicts) {
    allowed.push_back(*v);
    allPinned = allPinned && !v->pinnedImage.empty();
    message += (message.empty() ? "" : "; ") + v->reason;
    if (!announce) continue;
    if (v->warnOnly || !v->warnings.empty()) {
      std::string text = v->reason;
      for (const std::string& w : v->warnings) {
        if (text.find(w) == std::string::npos) text += "; " + w;
      }
      c.event("Warning", kReasonImagePolicyWarning, text, verdictEvidence(c, *v));
    } else {
      c.event("Normal", v->pinnedImage.empty() ? kReasonImageAllowed : kReasonImageVerified,
              v->reason, verdictEvidence(c, *v));
    }
  }
  putCondition(
      c.next, newCondition(kConditionImageVerified, "True",
                           allPinned ? kReasonImageVerified : kReasonImageAllowed, message, c.now));
  pinned = pinImages(tmpl, allowed);
  return true;
}

}  // namespace internal

std::vector<std::string> templateImages(const spec::PodTemplateSpec& tmpl) {
  std::vector<std::string> out;
  const auto add = [&](const std::vector<spec::Container>& containers) {
    for (const spec::Container& c : containers) {
      if (std::find(out.begin(), out.end(), c.image) == out.end()) out.push_back(c.image);
    }
  };
  add(tmpl.spec.initContainers);
  add(tmpl.spec.containers);
  return out;
}

spec::PodTemplateSpec pinImages(const spec::PodTemplateSpec& tmpl,
                                const std::vector<supply::ImageVerdict>& verdicts) {
  spec::PodTemplateSpec out = tmpl;
  const auto pin = [&](std::vector<spec::Container>& containers) {
    for (spec::Container& c : containers) {
      for (const supply::ImageVerdict& v : verdicts) {
        if (v.allowed && v.image == c.image && !v.pinnedImage.empty()) {
          c.image = v.pinnedImage;
          break;
        }
      }
    }
  };
  pin(out.spec.initContainers);
  pin(out.spec.containers);
  return out;
}

bool imageRecheckRequested(const spec::RolloutStatus& status) {
  const spec::RolloutCondition* cond = internal::getCondition(status, kConditionImageVerified);
  return cond != nullptr && cond->status == "False" && !internal::imagePaused(status);
}

}  // namespace ramp::rollout
