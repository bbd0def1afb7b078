// Fuzzes everything src/kube decodes: the first byte picks a split point so a watch stream is
// fed in two pieces (a line may be cut anywhere); the rest is the input, read as a watch stream,
// a list page, a Status error body and a kubeconfig, and as an Event that store.kubernetes
// lists from the API server (mergeEvents). Each must return a value or an Error, never crash; a
// stream fed in two pieces must give the same events as in one; a list of Events comes out in
// id order and within its limit.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "kube/kubeconfig.h"
#include "kube/wire.h"
#include "store/kubernetes/custom_resources.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  size_t split = text.empty() ? 0 : data[0] % (text.size() + 1);
  using namespace ramp::kube;
  WatchDecoder whole, pieces;
  auto all = whole.feed(text);
  auto first = pieces.feed(text.substr(0, split));
  if (all && first) {
    auto second = pieces.feed(text.substr(split));
    if (second) {
      if (first->size() + second->size() != all->size()) std::abort();
      for (size_t i = 0; i < all->size(); ++i) {
        const WatchEvent& a = (*all)[i];
        const WatchEvent& b = i < first->size() ? (*first)[i] : (*second)[i - first->size()];
        if (a.object != b.object || a.type != b.type) std::abort();
      }
    }
  }
  (void)decodeListPage(text, "rollouts.argoproj.io");
  ramp::Error e = apiError("get", "rollouts.argoproj.io default/x", 400 + (data[0] % 200), text);
  if (e.message.size() > 2000 + 200) std::abort();  // messages are bounded
  auto noFiles = [](const std::string& p) -> ramp::Result<std::string> {
    return ramp::makeError(ramp::ErrorCode::kNotFound, "no file " + p);
  };
  (void)parseKubeconfig(text, "kubeconfig", "", noFiles);
  ramp::store::EventQuery query;
  query.limit = 1 + data[0] % 3;
  auto events = ramp::store::kubernetes::mergeEvents(query, {std::string(text), std::string(text)},
                                                     {}, data[0]);
  if (static_cast<int64_t>(events.size()) > query.limit) std::abort();
  for (size_t i = 1; i < events.size(); ++i) {
    if (events[i - 1].id > events[i].id) std::abort();
  }
  return 0;
}
