// A file replaced whole, never seen half-written: the content goes to a new
// file beside it (mode 0600), is synced, and takes the name by rename(2).
#pragma once

#include "sys/result.hpp"

#include <functional>
#include <string>
#include <string_view>

namespace ballast::sys {

// Writes content to "<path>.new", calls before_rename(fd) for what must be
// true before the file takes the name (its owner and mode, a lock), then
// renames it over path. Returns the new file's fd (read/write, O_APPEND),
// which the caller closes or keeps; on any failure the new file is removed.
result<int> replace_file(const std::string &path, std::string_view content,
                         const std::function<status(int fd)> &before_rename);

} // namespace ballast::sys
