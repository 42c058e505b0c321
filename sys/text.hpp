// Small allocation-free text helpers for the kernel's text files: splitting
// into lines and whitespace-separated words as string_views, and strict
// number parsing. Shared by the sys/ parsers, which run on every sample.
#pragma once

#include <charconv>
#include <optional>
#include <string_view>
#include <vector>

namespace ballast::sys::text {

// The whole of s as a T, or nullopt (no sign juggling, no trailing bytes).
template <class T> std::optional<T> parse_number(std::string_view s) {
  T value{};
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || end != s.data() + s.size() || s.empty())
    return std::nullopt;
  return value;
}

inline bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// s without leading and trailing whitespace.
inline std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && is_space(s.back()))
    s.remove_suffix(1);
  return s;
}

// Words of s separated by runs of whitespace, appended to out (cleared first).
inline void split_words(std::string_view s, std::vector<std::string_view> &out) {
  out.clear();
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_space(s[i]))
      ++i;
    size_t start = i;
    while (i < s.size() && !is_space(s[i]))
      ++i;
    if (i > start)
      out.push_back(s.substr(start, i - start));
  }
}

// Calls f(line) for each '\n'-separated line (without the newline).
template <class F> void for_each_line(std::string_view s, F &&f) {
  while (!s.empty()) {
    const size_t nl = s.find('\n');
    f(s.substr(0, nl));
    if (nl == std::string_view::npos)
      break;
    s.remove_prefix(nl + 1);
  }
}

} // namespace ballast::sys::text
