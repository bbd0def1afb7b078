#include "gitops/change.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <regex>

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

std::string pullRequestOf(std::string_view message) {
  const std::string subject(message.substr(0, message.find('\n')));
  static const std::regex kPullRequest(R"(pull request #([0-9]+))", std::regex::icase);
  static const std::regex kParenthesized(R"(\(#([0-9]+)\))");
  static const std::regex kMergeRequest(R"(See merge request ([A-Za-z0-9_.\-/]+![0-9]+))");
  std::smatch m;
  if (std::regex_search(subject, m, kPullRequest)) return m[1];
  if (std::regex_search(subject, m, kParenthesized)) return m[1];
  const std::string whole(message);
  if (std::regex_search(whole, m, kMergeRequest)) return m[1];
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
    std::string key = trim(line.substr(0, colon));
    std::transform(key.begin(), key.end(), key.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
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
