// See strict_json.hpp. The parser's callback sees every key and every end
// of a value; a stack of open objects and arrays gives the path.
#include "config/strict_json.hpp"

#include <set>
#include <string>

namespace ballast::config {

namespace {

using json = nlohmann::json;

struct open_value {
  bool array = false;
  size_t index = 0;           // arrays: the element being read
  std::string key;            // objects: the key being read
  std::set<std::string> keys; // objects: every key seen
};

std::string path_of(const std::vector<open_value> &stack, size_t depth) {
  std::string path;
  for (size_t i = 0; i < depth; ++i) {
    if (stack[i].array)
      path += "[" + std::to_string(stack[i].index) + "]";
    else
      path += (path.empty() ? "" : ".") + stack[i].key;
  }
  return path;
}

} // namespace

json parse_strict(std::string_view text, std::vector<config_error> &errors) {
  std::vector<open_value> stack;
  auto element_done = [&] {
    if (!stack.empty() && stack.back().array)
      ++stack.back().index;
  };
  json::parser_callback_t on_event = [&](int, json::parse_event_t event, json &parsed) {
    switch (event) {
    case json::parse_event_t::object_start:
    case json::parse_event_t::array_start:
      stack.push_back({event == json::parse_event_t::array_start, 0, "", {}});
      break;
    case json::parse_event_t::key: {
      auto &top = stack.back();
      top.key = parsed.get<std::string>();
      if (!top.keys.insert(top.key).second)
        errors.push_back(
            {path_of(stack, stack.size()), "duplicate key (an object may name a key only once)"});
      break;
    }
    case json::parse_event_t::object_end:
    case json::parse_event_t::array_end:
      stack.pop_back();
      element_done();
      break;
    case json::parse_event_t::value:
      element_done();
      break;
    }
    return true;
  };
  return json::parse(text.begin(), text.end(), on_event);
}

} // namespace ballast::config
