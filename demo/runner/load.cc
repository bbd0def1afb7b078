#include "runner/load.h"

#include <curl/curl.h>

#include <cctype>
#include <cstring>

namespace ramp::demo {
namespace {

size_t discardBody(char*, size_t size, size_t n, void*) { return size * n; }

// Captures X-Version from the response headers.
size_t readHeader(char* data, size_t size, size_t n, void* out) {
  const size_t len = size * n;
  static constexpr char kName[] = "x-version:";
  const size_t nameLen = sizeof kName - 1;
  if (len > nameLen && ::strncasecmp(data, kName, nameLen) == 0) {
    std::string v(data + nameLen, len - nameLen);
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.erase(0, 1);
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.pop_back();
    *static_cast<std::string*>(out) = v;
  }
  return len;
}

}  // namespace

LoadGenerator::LoadGenerator(std::string url, double requestsPerSecond, int threads)
    : url_(std::move(url)), rate_(requestsPerSecond), threads_(threads) {}

LoadGenerator::~LoadGenerator() { stop(); }

void LoadGenerator::start() {
  stopping_ = false;
  for (int i = 0; i < threads_; ++i) workers_.emplace_back([this, i] { run(i); });
}

void LoadGenerator::stop() {
  stopping_ = true;
  for (auto& t : workers_) t.join();
  workers_.clear();
}

LoadSnapshot LoadGenerator::snapshot() const {
  std::lock_guard lock(mu_);
  return counts_;
}

void LoadGenerator::record(const std::string& version, long status, bool transportError) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  counts_.requests++;
  if (transportError) {
    counts_.errors++;
    counts_.transportErrors++;
    return;
  }
  auto& v = counts_.byVersion[version];
  v.lastResponse = now;
  if (status == 200) {
    v.ok++;
    return;
  }
  counts_.errors++;
  v.errors++;
  if (!v.firstError) v.firstError = now;
}

void LoadGenerator::run(int index) {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return;
  std::string version;
  curl_easy_setopt(curl, CURLOPT_URL, url_.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 2000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discardBody);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, readHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &version);
  // Each thread sends one request every `period`, offset so the threads interleave.
  const auto period = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(threads_ / rate_));
  auto next = std::chrono::steady_clock::now() + period * index / threads_;
  while (!stopping_) {
    std::this_thread::sleep_until(next);
    next += period;
    // A slow answer must not turn into a burst afterwards.
    const auto now = std::chrono::steady_clock::now();
    if (next < now) next = now;
    version.clear();
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    if (rc == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    record(version, status, rc != CURLE_OK);
  }
  curl_easy_cleanup(curl);
}

}  // namespace ramp::demo
