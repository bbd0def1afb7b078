#include "common/metrics_page.h"

#include "ramp/value.h"

namespace ramp {
namespace {

// [a-zA-Z_:][a-zA-Z0-9_:]* for metric names; label names exclude ':'.
bool validName(std::string_view name, bool colon) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                    (colon && c == ':') || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

std::string_view typeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter: return "counter";
    case MetricType::kGauge: return "gauge";
    case MetricType::kHistogram: return "histogram";
  }
  return "untyped";
}

// The text format's escapes: backslash and newline always, double quote in label values (not in
// HELP text).
std::string escape(std::string_view text, bool quote) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\' || (quote && c == '"')) {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string escapeLabelValue(std::string_view value) { return escape(value, true); }

std::string formatSampleValue(double value) { return formatValue(Value::floating(value)); }

MetricsPage::Family::Family(MetricsPage* page, std::string name, MetricType type, std::string help,
                            std::vector<std::string> labelNames)
    : page_(page),
      name_(std::move(name)),
      type_(type),
      help_(std::move(help)),
      labelNames_(std::move(labelNames)) {}

void MetricsPage::Family::sample(std::string_view suffix,
                                 std::initializer_list<std::string_view> labelValues,
                                 std::string_view extraName, std::string_view extraValue,
                                 std::string_view value) {
  if (dropped_) return;
  if (labelValues.size() != labelNames_.size()) {
    page_->errors_.push_back("metric " + name_ + ": a sample has " +
                             std::to_string(labelValues.size()) + " label values for " +
                             std::to_string(labelNames_.size()) + " label names");
    return;
  }
  samples_ += name_;
  samples_ += suffix;
  if (labelValues.size() > 0 || !extraName.empty()) {
    samples_ += '{';
    size_t i = 0;
    for (std::string_view v : labelValues) {
      if (i > 0) samples_ += ',';
      samples_ += labelNames_[i++];
      samples_ += "=\"";
      samples_ += escapeLabelValue(v);
      samples_ += '"';
    }
    if (!extraName.empty()) {
      if (i > 0) samples_ += ',';
      samples_ += extraName;
      samples_ += "=\"";
      samples_ += extraValue;
      samples_ += '"';
    }
    samples_ += '}';
  }
  samples_ += ' ';
  samples_ += value;
  samples_ += '\n';
}

void MetricsPage::Family::add(std::initializer_list<std::string_view> labelValues, double value) {
  if (type_ == MetricType::kHistogram) {
    page_->errors_.push_back("metric " + name_ + ": a histogram takes addHistogram()");
    return;
  }
  sample("", labelValues, "", "", formatSampleValue(value));
}

void MetricsPage::Family::add(std::initializer_list<std::string_view> labelValues, int64_t value) {
  if (type_ == MetricType::kHistogram) {
    page_->errors_.push_back("metric " + name_ + ": a histogram takes addHistogram()");
    return;
  }
  sample("", labelValues, "", "", std::to_string(value));
}

void MetricsPage::Family::addHistogram(std::initializer_list<std::string_view> labelValues,
                                       std::span<const double> bounds,
                                       std::span<const int64_t> counts, double sum) {
  if (type_ != MetricType::kHistogram || counts.size() != bounds.size() + 1) {
    page_->errors_.push_back("metric " + name_ +
                             ": addHistogram() needs a histogram and one count per bound and "
                             "one above the last");
    return;
  }
  int64_t cumulative = 0;
  for (size_t i = 0; i < bounds.size(); ++i) {
    cumulative += counts[i];
    sample("_bucket", labelValues, "le", formatSampleValue(bounds[i]), std::to_string(cumulative));
  }
  cumulative += counts.back();
  sample("_bucket", labelValues, "le", "+Inf", std::to_string(cumulative));
  sample("_sum", labelValues, "", "", formatSampleValue(sum));
  sample("_count", labelValues, "", "", std::to_string(cumulative));
}

MetricsPage::Family& MetricsPage::family(std::string_view name, MetricType type,
                                         std::string_view help,
                                         std::vector<std::string> labelNames) {
  std::string problem;
  if (!validName(name, true)) {
    problem = "is not a valid metric name";
  } else if (index_.contains(name)) {
    problem = "is declared twice on one page";
  } else if (type == MetricType::kCounter && !std::string_view(name).ends_with("_total")) {
    problem = "is a counter whose name does not end in _total";
  } else {
    for (const std::string& label : labelNames) {
      if (!validName(label, false) || label.starts_with("__") ||
          (type == MetricType::kHistogram && label == "le")) {
        problem = "has an invalid label name \"" + label + "\"";
      }
    }
  }
  families_.push_back(
      Family(this, std::string(name), type, std::string(help), std::move(labelNames)));
  Family& f = families_.back();
  if (!problem.empty()) {
    errors_.push_back("metric " + std::string(name) + " " + problem);
    f.dropped_ = true;
    return f;
  }
  index_.emplace(std::string(name), families_.size() - 1);
  return f;
}

std::string MetricsPage::text() const {
  size_t size = 0;
  for (const Family& f : families_) size += f.samples_.size() + f.help_.size() + 64;
  std::string out;
  out.reserve(size);
  for (const Family& f : families_) {
    if (f.dropped_) continue;
    out += "# HELP ";
    out += f.name_;
    out += ' ';
    out += escape(f.help_, false);
    out += "\n# TYPE ";
    out += f.name_;
    out += ' ';
    out += typeName(f.type_);
    out += '\n';
    out += f.samples_;
  }
  return out;
}

}  // namespace ramp
