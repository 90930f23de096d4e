#include "amva/io/json_fields.hpp"

#include <fmt/format.h>

#include "amva/error.hpp"
#include "amva/io/atomic_file.hpp"

namespace amva::io {

std::string json_error_text(const nlohmann::json::exception& e) {
  std::string text = e.what();
  if (text.starts_with("[json.exception.")) {
    const auto end = text.find("] ");
    if (end != std::string::npos) text.erase(0, end + 2);
  }
  return text;
}

nlohmann::json parse_json_file(const std::filesystem::path& file) {
  const std::string text = read_text(file);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(ErrorCode::Parse,
                fmt::format("{}: not valid JSON at byte {} ({})", file.string(), e.byte, json_error_text(e)));
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorCode::Parse, fmt::format("{}: not valid JSON ({})", file.string(), json_error_text(e)));
  }
}

const nlohmann::json* JsonFields::find(std::string_view path) const {
  const nlohmann::json* node = &root_;
  while (true) {
    const auto dot = path.find('.');
    const std::string key(path.substr(0, dot));
    if (!node->is_object()) return nullptr;
    const auto it = node->find(key);
    if (it == node->end()) return nullptr;
    node = &*it;
    if (dot == std::string_view::npos) return node;
    path.remove_prefix(dot + 1);
  }
}

void JsonFields::fail(std::string_view path, std::string_view why) const {
  throw Error(ErrorCode::Parse, fmt::format("{}: field {}: {}", file_.string(), path, why));
}

bool JsonFields::has(std::string_view path) const {
  const auto* node = find(path);
  return node && !node->is_null();
}

const nlohmann::json& JsonFields::at(std::string_view path) const {
  const auto* node = find(path);
  if (!node) fail(path, "missing");
  return *node;
}

std::string JsonFields::string(std::string_view path) const {
  const auto& v = at(path);
  if (!v.is_string()) fail(path, fmt::format("must be a string, is {}", v.type_name()));
  return v.get<std::string>();
}

double JsonFields::number(std::string_view path) const {
  const auto& v = at(path);
  if (!v.is_number()) fail(path, fmt::format("must be a number, is {}", v.type_name()));
  return v.get<double>();
}

const nlohmann::json& JsonFields::object(std::string_view path) const {
  const auto& v = at(path);
  if (!v.is_object()) fail(path, fmt::format("must be an object, is {}", v.type_name()));
  return v;
}

}  // namespace amva::io
