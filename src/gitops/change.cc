#include "gitops/change.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

namespace ramp::gitops {
namespace {

std::string trim(std::string_view s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  const size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

std::vector<std::string_view> lines(std::string_view text) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// The digits at the start of `s` ("" when none).
std::string_view digitsAt(std::string_view s) {
  size_t n = 0;
  while (n < s.size() && n < 20 && std::isdigit(static_cast<unsigned char>(s[n]))) ++n;
  return s.substr(0, n);
}

std::string lowered(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// A plain scan (no std::regex: libstdc++'s recurses per character and a long message could
// exhaust the stack).
std::string pullRequestOf(std::string_view message) {
  const std::string subject = lowered(message.substr(0, message.find('\n')));
  for (size_t at = subject.find("pull request #"); at != std::string::npos;
       at = subject.find("pull request #", at + 1)) {
    if (auto n = digitsAt(std::string_view(subject).substr(at + 14)); !n.empty()) {
      return std::string(n);
    }
  }
  for (size_t at = subject.find("(#"); at != std::string::npos; at = subject.find("(#", at + 1)) {
    std::string_view rest = std::string_view(subject).substr(at + 2);
    std::string_view n = digitsAt(rest);
    if (!n.empty() && rest.size() > n.size() && rest[n.size()] == ')') return std::string(n);
  }
  constexpr std::string_view kMergeRequest = "See merge request ";
  for (std::string_view line : lines(message)) {
    const size_t at = line.find(kMergeRequest);
    if (at == std::string_view::npos) continue;
    std::string_view ref = line.substr(at + kMergeRequest.size());
    ref = ref.substr(0, ref.find_first_of(" \t\r"));
    const size_t bang = ref.rfind('!');
    if (bang != std::string_view::npos && bang > 0 && ref.size() <= 256 &&
        digitsAt(ref.substr(bang + 1)).size() == ref.size() - bang - 1 && bang + 1 < ref.size()) {
      return std::string(ref);
    }
  }
  return "";
}

// The trailers of the message's last paragraph (when it has more than one) named by kKeys.
std::vector<std::string> approversOf(std::string_view message) {
  static constexpr std::string_view kKeys[] = {"approved-by", "reviewed-by", "acked-by"};
  std::vector<std::string_view> all = lines(message);
  while (!all.empty() && trim(all.back()).empty()) all.pop_back();
  size_t start = all.size();
  while (start > 0 && !trim(all[start - 1]).empty()) --start;
  std::vector<std::string> out;
  if (start == 0) return out;  // one paragraph: the subject has no trailers
  for (size_t i = start; i < all.size(); ++i) {
    std::string_view line = all[i];
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string key = lowered(trim(line.substr(0, colon)));
    if (std::find(std::begin(kKeys), std::end(kKeys), key) == std::end(kKeys)) continue;
    std::string who = trim(line.substr(colon + 1));
    if (!who.empty() && std::find(out.begin(), out.end(), who) == out.end()) out.push_back(who);
  }
  return out;
}

}  // namespace

ReviewFacts reviewFacts(std::string_view message) {
  return ReviewFacts{pullRequestOf(message), approversOf(message)};
}

std::string displayUrl(const std::string& url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  const size_t hostStart = scheme + 3;
  const size_t slash = url.find('/', hostStart);
  const size_t at = url.rfind('@', slash == std::string::npos ? url.size() : slash);
  if (at == std::string::npos || at < hostStart) return url;
  return url.substr(0, hostStart) + url.substr(at + 1);
}

std::string changeRecord(const spec::Application& app, const GitCommitInfo& commit,
                         const std::string& windowOverride) {
  nlohmann::ordered_json j;
  j["repo"] = displayUrl(app.spec.source.repoURL);
  j["revision"] = commit.sha;
  j["path"] = app.spec.source.path;
  j["application"] = app.metadata.namespace_ + "/" + app.metadata.name;
  if (!commit.author.empty()) j["author"] = commit.author;
  const std::string& text = commit.body.empty() ? commit.message : commit.body;
  if (!text.empty()) j["subject"] = trim(text.substr(0, text.find('\n')));
  ReviewFacts review = reviewFacts(text);
  if (!review.pullRequest.empty()) j["pullRequest"] = review.pullRequest;
  if (!review.approvers.empty()) j["approvers"] = review.approvers;
  if (!windowOverride.empty()) j["syncWindowOverride"] = windowOverride;
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace ramp::gitops
