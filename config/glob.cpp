// glob_match: shell-like globs over cgroup paths, compared component by
// component. '*' and '?' never cross a '/', while a component that is exactly
// "**" spans any number of components, including none. Empty components
// (the leading '/', a trailing or doubled '/') are ignored, so "/" is the path
// with no components. Matching is a small dynamic programme over components,
// so patterns with several "**" stay polynomial.
#include <utility>
#include <vector>

#include "config/config.hpp"

namespace ballast::config {
namespace {

std::vector<std::string_view> components(std::string_view path) {
  std::vector<std::string_view> parts;
  while (!path.empty()) {
    const size_t slash = path.find('/');
    const std::string_view part = path.substr(0, slash);
    if (!part.empty())
      parts.push_back(part);
    path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash + 1);
  }
  return parts;
}

// '*' (any run of characters) and '?' (one character) within one component;
// the classic greedy match that backtracks only to the last '*'.
bool component_match(std::string_view pattern, std::string_view name) {
  size_t p = 0, n = 0;
  size_t star = std::string_view::npos, resume = 0;
  while (n < name.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == name[n])) {
      ++p;
      ++n;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = n;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      n = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*')
    ++p;
  return p == pattern.size();
}

} // namespace

bool glob_match(std::string_view pattern, std::string_view path) {
  const auto pat = components(pattern);
  const auto parts = components(path);
  // tail[j]: pat[i..] matches parts[j..], filled from the last pattern
  // component backwards; only the previous row is needed.
  std::vector<bool> tail(parts.size() + 1, false);
  tail[parts.size()] = true; // empty pattern matches only the empty tail
  for (size_t i = pat.size(); i-- > 0;) {
    std::vector<bool> row(parts.size() + 1, false);
    for (size_t j = parts.size() + 1; j-- > 0;) {
      if (pat[i] == "**")
        row[j] = tail[j] || (j < parts.size() && row[j + 1]);
      else
        row[j] = j < parts.size() && tail[j + 1] && component_match(pat[i], parts[j]);
    }
    tail = std::move(row);
  }
  return tail[0];
}

} // namespace ballast::config
