#pragma once
// Reading amva's own JSON files (meta.json, reference.json, model cards, summaries) so that a
// damaged or hand-edited file gives a message naming the file and the field, never the JSON
// library's own ("[json.exception.type_error.302] type must be string, but is number").
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace amva::io {

/// The JSON in `file`; Error(Io) when it cannot be read, Error(Parse) naming the file and the
/// byte where the syntax breaks.
nlohmann::json parse_json_file(const std::filesystem::path& file);

/// The JSON library's message without its "[json.exception.x.N] " prefix.
std::string json_error_text(const nlohmann::json::exception& e);

/// Typed access to fields named by dotted paths ("cam.method"); each throws Error(Parse)
/// "FILE: field cam.method: must be a string, is a number" or "...: missing".
class JsonFields {
 public:
  JsonFields(const nlohmann::json& root, std::filesystem::path file) : root_(root), file_(std::move(file)) {}
  [[nodiscard]] bool has(std::string_view path) const;
  [[nodiscard]] const nlohmann::json& at(std::string_view path) const;  // any type
  [[nodiscard]] std::string string(std::string_view path) const;
  [[nodiscard]] double number(std::string_view path) const;
  [[nodiscard]] const nlohmann::json& object(std::string_view path) const;

 private:
  [[nodiscard]] const nlohmann::json* find(std::string_view path) const;
  [[noreturn]] void fail(std::string_view path, std::string_view why) const;
  const nlohmann::json& root_;
  std::filesystem::path file_;
};

}  // namespace amva::io
