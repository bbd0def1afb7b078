#include "spec/string_walk.h"

#include <initializer_list>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

#include "spec/fields.h"

namespace ramp::spec {
namespace {

using Visit = std::function<void(std::string&, StringForm)>;

// A fields() visitor (spec/fields.h) that hands every string it reaches to `visit`.
class StringWalker {
 public:
  explicit StringWalker(const Visit& visit) : visit_(visit) {}

  template <class T>
  StringWalker& operator()(std::string_view, T& member) {
    walk(member);
    return *this;
  }
  template <class T>
  StringWalker& keep(std::string_view, T& member) {
    walk(member);
    return *this;
  }
  template <class T>
  StringWalker& presence(std::string_view, T&) {
    return *this;
  }
  void ignore(std::initializer_list<std::string_view>) {}
  template <class Map, class Known>
  void extra(Map& map, const Known&) {
    walk(map);
  }

  void walk(std::string& s) { visit_(s, StringForm::kText); }
  void walk(RawJson& j) { visit_(j.text, StringForm::kJson); }
  void walk(IntOrString& v) {
    if (!v.isInt()) visit_(std::get<std::string>(v.value), StringForm::kText);
  }
  template <class T>
  void walk(std::optional<T>& o) {
    if (o) walk(*o);
  }
  template <class T>
  void walk(std::vector<T>& items) {
    for (T& item : items) walk(item);
  }
  template <class K, class T, class C>
  void walk(std::map<K, T, C>& map) {
    for (auto& [key, value] : map) walk(value);
  }
  // The codec reads a Job from Kubernetes' JobSpec rather than through fields(): the JobSpec as
  // written, and what ramp takes out of its first container.
  void walk(JobMetric& j) {
    walk(j.metadata);
    walk(j.raw);
    walk(j.command);
    walk(j.args);
    walk(j.env);
    walk(j.workingDir);
  }
  template <class T>
  requires requires(StringWalker& w, T& t) { internal::fields(w, t); }
  void walk(T& t) { internal::fields(*this, t); }
  // Numbers, booleans, enums and times hold no string.
  template <class T>
  void walk(T&) {}

 private:
  const Visit& visit_;
};

}  // namespace

void forEachString(Metric& metric, const Visit& visit) {
  StringWalker walker(visit);
  walker.walk(metric);
}

}  // namespace ramp::spec
