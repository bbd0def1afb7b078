#include "cli/rollout_view.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/output.h"
#include "rollout/engine.h"

namespace ramp::cli {
namespace {

std::string pad(const std::string& s, size_t width) {
  // Width counts code points, so the icons line up.
  size_t cps = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++cps;
  }
  return cps >= width ? s + " " : s + std::string(width - cps, ' ');
}

int64_t ms(Time t) { return t.time_since_epoch().count(); }

std::string phaseIcon(spec::AnalysisPhase p, bool colour) {
  std::string name = spec::analysisPhaseName(p);
  if (name.empty()) name = "Pending";
  switch (p) {
    case spec::AnalysisPhase::kSuccessful: return paint("✔ " + name, Colour::kGreen, colour);
    case spec::AnalysisPhase::kFailed:
    case spec::AnalysisPhase::kError: return paint("✖ " + name, Colour::kRed, colour);
    case spec::AnalysisPhase::kInconclusive: return paint("⚠ " + name, Colour::kYellow, colour);
    case spec::AnalysisPhase::kRunning: return paint("◌ " + name, Colour::kBlue, colour);
    default: return paint("◷ " + name, Colour::kGrey, colour);
  }
}

std::string shortEvidence(const std::string& evidence) {
  if (evidence.empty()) return "";
  auto j = nlohmann::json::parse(evidence, nullptr, false);
  std::string text = j.is_discarded() ? evidence : j.dump();
  if (text.size() > 120) text = text.substr(0, 117) + "...";
  return text;
}

void renderEvents(std::ostringstream& out, const std::vector<store::Event>& events, Time now,
                  bool colour) {
  if (events.empty()) return;
  out << "\nEvents:\n";
  out << "  " << pad("AGE", 6) << pad("TYPE", 9) << pad("REASON", 26) << pad("BY", 12)
      << "MESSAGE\n";
  for (const store::Event& e : events) {
    bool warn = e.type == store::EventType::kWarning;
    out << "  " << pad(formatAge(ms(now), ms(e.time)), 6)
        << pad(paint(warn ? "Warning" : "Normal", warn ? Colour::kYellow : Colour::kNone, colour),
               9)
        << pad(e.reason, 26) << pad(e.actor.empty() ? "-" : e.actor, 12) << e.message;
    // Repeats the store folded into this event, as kubectl shows them.
    if (e.count > 1) {
      out << paint(
          " (x" + std::to_string(e.count) + " over " + formatAge(ms(now), ms(e.firstTime)) + ")",
          Colour::kGrey, colour);
    }
    out << "\n";
    if (!e.evidence.empty()) {
      out << "  " << std::string(6 + 9 + 26 + 12, ' ') << paint("evidence: ", Colour::kGrey, colour)
          << shortEvidence(e.evidence) << "\n";
    }
  }
}

}  // namespace

std::string replicaStateWithIcon(const std::string& state, bool colour) {
  if (state == "Running") return paint("✔ Running", Colour::kGreen, colour);
  if (state == "CrashLoopBackOff") return paint("✖ CrashLoopBackOff", Colour::kRed, colour);
  if (state == "Starting") return paint("◌ Starting", Colour::kBlue, colour);
  if (state == "Terminating") return paint("◌ Terminating", Colour::kGrey, colour);
  if (state == "Waiting") return paint("◷ Waiting", Colour::kGrey, colour);
  return "? " + state;
}

std::string replicaInfo(const api::ReplicaView& r) {
  std::string info =
      std::string("ready:") + (r.ready ? "1" : "0") + "/1, restarts:" + std::to_string(r.restarts);
  if (!r.lastExit.empty()) info += ", last exit: " + r.lastExit;
  return info;
}

std::string rolloutStatus(const spec::Rollout& r) {
  std::string p = spec::rolloutPhaseName(r.status.phase);
  return p.empty() ? "Progressing" : p;
}

std::string statusWithIcon(const std::string& status, bool colour) {
  if (status == "Healthy") return paint("✔ Healthy", Colour::kGreen, colour);
  if (status == "Degraded") return paint("✖ Degraded", Colour::kRed, colour);
  if (status == "Paused") return paint("॥ Paused", Colour::kYellow, colour);
  if (status == "Progressing") return paint("◌ Progressing", Colour::kBlue, colour);
  return "? " + status;
}

std::string stepText(const spec::Rollout& r) {
  if (!r.spec.strategy.canary) return "";
  size_t n = r.spec.strategy.canary->steps.size();
  int32_t i = r.status.currentStepIndex.value_or(0);  // unset: not started yet
  return std::to_string(i) + "/" + std::to_string(n);
}

bool runBelongsTo(const spec::AnalysisRun& run, const spec::Rollout& rollout) {
  if (run.metadata.namespace_ != rollout.metadata.namespace_) return false;
  const std::string prefix = rollout.metadata.name + "-";
  return run.metadata.name.rfind(prefix, 0) == 0;
}

std::string actualWeightText(const spec::Rollout& r,
                             const std::vector<api::RevisionView>* revisions) {
  if (!r.spec.strategy.canary) return "";
  const spec::CanaryStrategy& c = *r.spec.strategy.canary;
  const int32_t max = spec::maxTrafficWeightOrDefault(c);
  const int32_t index = r.status.currentStepIndex.value_or(0);
  if (c.steps.empty() || index >= static_cast<int32_t>(c.steps.size())) {
    return std::to_string(max);
  }
  if (r.status.availableReplicas <= 0) return "0";
  if (c.trafficRouting) {
    if (!r.status.canary.weights) return std::to_string(rollout::currentSetWeight(r));
    std::string w = std::to_string(r.status.canary.weights->canary.weight);
    if (r.status.canary.weights->verified && !*r.status.canary.weights->verified) {
      w += " (not yet verified)";
    }
    return w;
  }
  const bool updating = r.status.currentPodHash != r.status.stableRS;
  if (revisions != nullptr) {
    for (const api::RevisionView& rev : *revisions) {
      if (updating && rev.podTemplateHash == r.status.currentPodHash) {
        return std::to_string(rev.availableReplicas * max / r.status.availableReplicas);
      }
    }
    return "0";
  }
  if (!updating) return "0";
  int32_t canary = std::min(r.status.updatedReplicas, r.status.availableReplicas);
  return std::to_string(canary * max / r.status.availableReplicas) + " (by updated replicas)";
}

std::vector<ImageTags> runningImages(const spec::Rollout& r,
                                     const std::vector<api::RevisionView>* revisions) {
  std::vector<ImageTags> out;
  auto add = [&](const std::string& image, const std::vector<std::string>& tags) {
    auto it =
        std::find_if(out.begin(), out.end(), [&](const ImageTags& t) { return t.image == image; });
    if (it == out.end()) {
      out.push_back({image, tags});
      return;
    }
    for (const std::string& t : tags) {
      if (std::find(it->tags.begin(), it->tags.end(), t) == it->tags.end()) it->tags.push_back(t);
    }
  };
  const bool blueGreen = r.spec.strategy.blueGreen.has_value();
  const spec::RolloutStatus& st = r.status;
  if (revisions != nullptr) {
    for (const api::RevisionView& rev : *revisions) {
      if (rev.desiredReplicas <= 0) continue;
      std::vector<std::string> tags;
      if (blueGreen) {
        if (rev.podTemplateHash == st.blueGreen.activeSelector) tags.push_back("active");
        if (rev.podTemplateHash == st.blueGreen.previewSelector) tags.push_back("preview");
      } else {
        if (rev.podTemplateHash == st.currentPodHash && st.currentPodHash != st.stableRS) {
          tags.push_back("canary");
        }
        if (rev.podTemplateHash == st.stableRS) tags.push_back("stable");
      }
      for (const std::string& image : rev.images) add(image, tags);
    }
  } else if (r.spec.template_) {
    const bool updating = !st.stableRS.empty() && st.currentPodHash != st.stableRS;
    std::string tag =
        blueGreen ? (updating ? "preview" : "active") : (updating ? "canary" : "stable");
    for (const spec::Container& c : r.spec.template_->spec.containers) add(c.image, {tag});
  }
  for (ImageTags& t : out) std::sort(t.tags.begin(), t.tags.end());
  std::sort(out.begin(), out.end(),
            [](const ImageTags& a, const ImageTags& b) { return a.image < b.image; });
  return out;
}

std::string renderRollout(const RolloutView& v) {
  const spec::Rollout& r = v.rollout;
  std::ostringstream out;
  std::string status = rolloutStatus(r);
  auto row = [&](const std::string& k, const std::string& val) {
    out << pad(k + ":", 17) << val << "\n";
  };
  row("Name", r.metadata.name);
  row("Namespace", r.metadata.namespace_);
  row("Status", statusWithIcon(status, v.colour));
  std::string message = r.status.message;
  if (message.empty() && !r.status.pauseConditions.empty()) {
    message = r.status.pauseConditions.front().reason;
  }
  if (r.status.abort && message.empty()) message = "aborted";
  if (!message.empty()) row("Message", message);
  if (r.spec.strategy.canary) {
    row("Strategy", "Canary");
    out << pad("  Step:", 17) << stepText(r) << "\n";
    out << pad("  SetWeight:", 17) << rollout::currentSetWeight(r) << "\n";
    out << pad("  ActualWeight:", 17)
        << actualWeightText(r, v.haveRevisions ? &v.revisions : nullptr) << "\n";
  } else if (r.spec.strategy.blueGreen) {
    row("Strategy", "BlueGreen");
  }
  std::string images;
  for (const ImageTags& t : runningImages(r, v.haveRevisions ? &v.revisions : nullptr)) {
    if (!images.empty()) images += "\n" + std::string(17, ' ');
    images += t.image;
    if (!t.tags.empty()) {
      std::string tags;
      for (const std::string& tag : t.tags) tags += (tags.empty() ? "" : ", ") + tag;
      images += " (" + tags + ")";
    }
  }
  row("Images", images.empty() ? "-" : images);
  out << "Replicas:\n";
  out << pad("  Desired:", 17) << spec::replicasOrDefault(r.spec) << "\n";
  out << pad("  Current:", 17) << r.status.replicas << "\n";
  out << pad("  Updated:", 17) << r.status.updatedReplicas << "\n";
  out << pad("  Ready:", 17) << r.status.readyReplicas << "\n";
  out << pad("  Available:", 17) << r.status.availableReplicas << "\n";

  out << "\n"
      << pad("NAME", 44) << pad("KIND", 13) << pad("STATUS", 16) << pad("AGE", 6) << "INFO\n";
  std::string age =
      r.metadata.creationTimestamp ? formatAge(ms(v.now), ms(*r.metadata.creationTimestamp)) : "-";
  out << pad("⟳ " + r.metadata.name, 44) << pad("Rollout", 13)
      << pad(statusWithIcon(status, v.colour), 16) << pad(age, 6) << "\n";
  // Children: revisions (newest first), then AnalysisRuns.
  struct Child {
    Child(std::string n, std::string k, std::string s, std::string i, std::string a = "")
        : name(std::move(n)),
          kind(std::move(k)),
          status(std::move(s)),
          info(std::move(i)),
          age(std::move(a)) {}
    std::string name, kind, status, info;
    std::string age;
    std::vector<Child> replicas;  // a revision's replicas, drawn one level down
  };
  std::vector<Child> children;
  if (v.haveRevisions) {
    for (const api::RevisionView& rev : v.revisions) {
      std::string role;
      if (rev.podTemplateHash == r.status.stableRS) role = "stable";
      if (rev.podTemplateHash == r.status.currentPodHash &&
          r.status.currentPodHash != r.status.stableRS) {
        role = "canary";
      }
      std::string st = rev.desiredReplicas == 0                       ? "• ScaledDown"
                       : rev.availableReplicas >= rev.desiredReplicas ? "✔ Healthy"
                                                                      : "◌ Progressing";
      std::string info =
          "ready:" + std::to_string(rev.readyReplicas) + "/" + std::to_string(rev.desiredReplicas);
      if (!role.empty()) info = role + ", " + info;
      for (const std::string& img : rev.images) info += ", " + img;
      Child child{"# revision:" + std::to_string(rev.revision) + " " + rev.podTemplateHash,
                  "Revision", st, info};
      for (const api::ReplicaView& rep : v.replicas) {
        if (rep.podTemplateHash != rev.podTemplateHash) continue;
        child.replicas.push_back({"□ " + rep.name, "Replica",
                                  replicaStateWithIcon(rep.state, v.colour), replicaInfo(rep),
                                  rep.startedAt ? formatAge(ms(v.now), ms(*rep.startedAt)) : ""});
      }
      children.push_back(std::move(child));
    }
  } else if (!r.status.currentPodHash.empty()) {
    std::string info = r.status.currentPodHash == r.status.stableRS ? "stable" : "canary";
    children.push_back({"# " + r.status.currentPodHash, "Revision", "", info});
    if (!r.status.stableRS.empty() && r.status.stableRS != r.status.currentPodHash) {
      children.push_back({"# " + r.status.stableRS, "Revision", "", "stable"});
    }
  }
  for (const spec::AnalysisRun& run : v.runs) {
    // Measurements, as Argo's tree counts them (summed over the metrics), not metrics.
    int32_t ok = 0, bad = 0, inconclusive = 0;
    for (const spec::MetricResult& m : run.status.metricResults) {
      ok += m.successful;
      bad += m.failed + m.error;
      inconclusive += m.inconclusive;
    }
    std::string info = "✔ " + std::to_string(ok) + ", ✖ " + std::to_string(bad) +
                       (inconclusive ? ", ⚠ " + std::to_string(inconclusive) : "");
    children.push_back(
        {"α " + run.metadata.name, "AnalysisRun", phaseIcon(run.status.phase, v.colour), info});
  }
  for (size_t i = 0; i < children.size(); ++i) {
    const Child& c = children[i];
    bool last = i + 1 == children.size();
    out << pad((last ? "└──" : "├──") + c.name, 44) << pad(c.kind, 13) << pad(c.status, 16)
        << pad(c.age, 6) << c.info << "\n";
    for (size_t j = 0; j < c.replicas.size(); ++j) {
      const Child& k = c.replicas[j];
      std::string branch =
          std::string(last ? "   " : "│  ") + (j + 1 == c.replicas.size() ? "└──" : "├──");
      out << pad(branch + k.name, 44) << pad(k.kind, 13) << pad(k.status, 16) << pad(k.age, 6)
          << k.info << "\n";
    }
  }
  renderEvents(out, v.events, v.now, v.colour);
  return out.str();
}

std::string renderAnalysisRun(const spec::AnalysisRun& run, const std::vector<store::Event>& events,
                              Time now, bool colour) {
  std::ostringstream out;
  auto row = [&](const std::string& k, const std::string& val) {
    out << pad(k + ":", 17) << val << "\n";
  };
  row("Name", run.metadata.name);
  row("Namespace", run.metadata.namespace_);
  row("Status", phaseIcon(run.status.phase, colour));
  if (!run.status.message.empty()) row("Message", run.status.message);
  if (run.spec.terminate) row("Terminate", "requested");
  const spec::RunSummary& s = run.status.runSummary;
  row("Summary", "✔ " + std::to_string(s.successful) + "  ✖ " + std::to_string(s.failed) +
                     "  error " + std::to_string(s.error) + "  ⚠ " +
                     std::to_string(s.inconclusive) + "  (of " + std::to_string(s.count) + ")");
  out << "\n"
      << pad("METRIC", 28) << pad("STATUS", 18) << pad("✔", 5) << pad("✖", 5) << pad("ERR", 5)
      << "LAST VALUE\n";
  for (const spec::Metric& m : run.spec.metrics) {
    const spec::MetricResult* res = nullptr;
    for (const spec::MetricResult& r : run.status.metricResults) {
      if (r.name == m.name) res = &r;
    }
    std::string last = "-";
    if (res != nullptr && !res->measurements.empty()) {
      const spec::Measurement& lm = res->measurements.back();
      last = lm.value.empty() ? lm.message : lm.value;
    }
    out << pad(m.name, 28)
        << pad(phaseIcon(res ? res->phase : spec::AnalysisPhase::kPending, colour), 18)
        << pad(std::to_string(res ? res->successful : 0), 5)
        << pad(std::to_string(res ? res->failed : 0), 5)
        << pad(std::to_string(res ? res->error : 0), 5) << last << "\n";
  }
  renderEvents(out, events, now, colour);
  return out.str();
}

std::string renderRolloutTable(const std::vector<spec::Rollout>& rollouts, bool allNamespaces,
                               bool colour) {
  std::ostringstream out;
  if (allNamespaces) out << pad("NAMESPACE", 16);
  out << pad("NAME", 28) << pad("STRATEGY", 11) << pad("STATUS", 16) << pad("STEP", 7)
      << pad("SET-WEIGHT", 12) << pad("READY", 8) << pad("DESIRED", 9) << pad("UP-TO-DATE", 12)
      << "AVAILABLE\n";
  for (const spec::Rollout& r : rollouts) {
    if (allNamespaces) out << pad(r.metadata.namespace_, 16);
    std::string strategy = r.spec.strategy.canary      ? "Canary"
                           : r.spec.strategy.blueGreen ? "BlueGreen"
                                                       : "-";
    std::string step = stepText(r);
    out << pad(r.metadata.name, 28) << pad(strategy, 11)
        << pad(statusWithIcon(rolloutStatus(r), colour), 16) << pad(step.empty() ? "-" : step, 7)
        << pad(r.spec.strategy.canary ? std::to_string(rollout::currentSetWeight(r)) : "-", 12)
        << pad(std::to_string(r.status.readyReplicas) + "/" + std::to_string(r.status.replicas), 8)
        << pad(std::to_string(spec::replicasOrDefault(r.spec)), 9)
        << pad(std::to_string(r.status.updatedReplicas), 12) << r.status.availableReplicas << "\n";
  }
  return out.str();
}

std::string renderObjectTable(const std::vector<std::string>& itemsJson, bool withStatus,
                              bool allNamespaces) {
  std::ostringstream out;
  if (allNamespaces) out << pad("NAMESPACE", 16);
  out << (withStatus ? pad("NAME", 40) + "STATUS" : std::string("NAME")) << "\n";
  for (const std::string& item : itemsJson) {
    auto j = nlohmann::json::parse(item, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("metadata") ||
        !j["metadata"].is_object()) {
      continue;
    }
    const nlohmann::json& meta = j["metadata"];
    if (allNamespaces) out << pad(meta.value("namespace", ""), 16);
    std::string name = meta.value("name", "");
    if (!withStatus) {
      out << name << "\n";
      continue;
    }
    std::string phase;
    if (j.contains("status") && j["status"].is_object()) phase = j["status"].value("phase", "");
    out << pad(name, 40) << (phase.empty() ? "-" : phase) << "\n";
  }
  return out.str();
}

std::string noResourcesMessage(const std::string& ns) {
  return ns.empty() ? "No resources found\n" : "No resources found in " + ns + " namespace.\n";
}

}  // namespace ramp::cli
