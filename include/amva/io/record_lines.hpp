#pragma once
// Plain-text record files (pair lists, labels): one record per line, fields separated by
// whitespace, commas or tabs, '#' starting a comment.
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace amva::io {

/// The fields of one line, comment cut.
std::vector<std::string> record_fields(std::string line);

/// Calls f(fields, line number) for every line of `file` that is not empty once comments are
/// cut, each required to hold the fields `format` names ("path identity"). Throws
/// Error(NotFound) naming `what` when the file cannot be opened, Error(Parse) naming the file
/// and line of a record with another number of fields.
void for_each_record(const std::filesystem::path& file, const std::string& what, const std::string& format,
                     const std::function<void(const std::vector<std::string>&, int)>& f);

}  // namespace amva::io
