#include "sys/io_stat.hpp"

#include "sys/text.hpp"

#include <vector>

namespace ballast::sys {

std::map<std::string, io_counters> parse_io_stat(std::string_view text) {
  std::map<std::string, io_counters> out;
  std::vector<std::string_view> words;
  while (!text.empty()) {
    auto end = text.find('\n');
    auto line = text.substr(0, end);
    text = end == std::string_view::npos ? "" : text.substr(end + 1);
    words.clear();
    text::split_words(line, words);
    if (words.empty() || words[0].find(':') == std::string_view::npos)
      continue;
    io_counters c;
    for (size_t i = 1; i < words.size(); ++i) {
      auto eq = words[i].find('=');
      auto n = text::parse_number<uint64_t>(eq == std::string_view::npos ? std::string_view()
                                                                         : words[i].substr(eq + 1));
      if (!n)
        continue;
      auto key = words[i].substr(0, eq);
      if (key == "rbytes")
        c.rbytes = *n;
      else if (key == "wbytes")
        c.wbytes = *n;
      else if (key == "rios")
        c.rios = *n;
      else if (key == "wios")
        c.wios = *n;
    }
    out[std::string(words[0])] = c;
  }
  return out;
}

} // namespace ballast::sys
