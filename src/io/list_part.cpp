#include "amva/io/list_part.hpp"

#include <fmt/format.h>

#include <charconv>

#include "amva/error.hpp"

namespace amva::io {

std::string ListPart::to_string() const {
  return fmt::format("{}/{}", index, count);
}

ListPart parse_list_part(const std::string& text) {
  const auto slash = text.find('/');
  auto number = [&](std::string_view s, int& value) {
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    return ec == std::errc() && end == s.data() + s.size() && !s.empty();
  };
  ListPart part;
  const std::string_view view(text);
  if (slash == std::string::npos || !number(view.substr(0, slash), part.index) ||
      !number(view.substr(slash + 1), part.count) || part.count < 1 || part.index < 1 || part.index > part.count) {
    throw Error(ErrorCode::InvalidArgument,
                fmt::format("--part '{}': expected i/N with 1 <= i <= N (e.g. 3/8, or "
                            "$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT with --array=1-N)",
                            text));
  }
  return part;
}

std::vector<ImageEntry> select_part(const std::vector<ImageEntry>& entries, const ListPart& part) {
  std::vector<ImageEntry> selected;
  for (std::size_t i = static_cast<std::size_t>(part.index - 1); i < entries.size();
       i += static_cast<std::size_t>(part.count)) {
    selected.push_back(entries[i]);
  }
  return selected;
}

}  // namespace amva::io
