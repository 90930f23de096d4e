#include "amva/model/model_card.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "amva/error.hpp"
#include "amva/io/atomic_file.hpp"
#include "amva/io/json_fields.hpp"
#include "amva/io/json_values.hpp"
#include "amva/share.hpp"

namespace amva::model {
namespace fs = std::filesystem;

ModelCard ModelCard::load(const fs::path& card_file, const fs::path& models_dir) {
  const nlohmann::json j = io::parse_json_file(card_file);
  ModelCard c;
  try {
    c.name = j.at("name").get<std::string>();
    const fs::path file = j.at("file").get<std::string>();
    if (file.is_absolute()) {
      c.file = file;
    } else if (!models_dir.empty() && fs::exists(models_dir / file)) {
      c.file = models_dir / file;
    } else {
      c.file = card_file.parent_path() / file;
    }
    c.sha256 = j.value("sha256", "");
    const auto& in = j.at("input");
    c.input_name = in.at("name").get<std::string>();
    const auto side = [&](const char* key) {
      const auto& v = in.at(key);
      if (!v.is_number_integer() || v.get<std::int64_t>() < 1 || v.get<std::int64_t>() > 8192) {
        throw Error(ErrorCode::Parse, fmt::format("{}: input.{} must be a whole number of pixels (1 to 8192), got {}",
                                                  card_file.string(), key, io::json_text(v, -1)));
      }
      return static_cast<int>(v.get<std::int64_t>());
    };
    c.input_width = side("width");
    c.input_height = side("height");
    const auto order = in.at("channel_order").get<std::string>();
    if (order != "RGB" && order != "BGR") {
      throw Error(ErrorCode::Parse,
                  fmt::format("{}: input.channel_order must be RGB or BGR, not '{}'", card_file.string(), order));
    }
    c.rgb = order == "RGB";
    // One value per model channel: a list of another length is a mistake, not a prefix.
    const auto triple = [&](const char* key) {
      const auto& v = in.at(key);
      if (!v.is_array() || v.size() != 3 ||
          !std::all_of(v.begin(), v.end(), [](const auto& x) { return x.is_number(); })) {
        throw Error(ErrorCode::Parse, fmt::format("{}: input.{} must be 3 numbers (one per channel), got {}",
                                                  card_file.string(), key, io::json_text(v, -1)));
      }
      return v.get<std::array<double, 3>>();
    };
    c.mean = triple("mean");
    c.std = triple("std");
    c.embedding_output = j.at("embedding_output").get<std::string>();
    if (j.contains("target_layer") && !j["target_layer"].is_null()) {
      c.target_layer = j["target_layer"].get<std::string>();
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorCode::Parse, fmt::format("{}: not a model card ({}; see model_cards/ for the fields)",
                                              card_file.string(), io::json_error_text(e)));
  }
  for (double s : c.std) {
    if (!(s > 0) || !std::isfinite(s)) {
      throw Error(ErrorCode::Parse, fmt::format("{}: input.std must be positive, got {}", card_file.string(), s));
    }
  }
  for (double m : c.mean) {
    if (!std::isfinite(m))
      throw Error(ErrorCode::Parse, fmt::format("{}: input.mean must be finite", card_file.string()));
  }
  return c;
}

nlohmann::json ModelCard::to_json() const {
  nlohmann::json j = {{"name", name},
                      {"file", file.filename().string()},
                      {"input",
                       {{"name", input_name},
                        {"width", input_width},
                        {"height", input_height},
                        {"channel_order", rgb ? "RGB" : "BGR"},
                        {"mean", mean},
                        {"std", std}}},
                      {"embedding_output", embedding_output}};
  if (!sha256.empty()) j["sha256"] = sha256;
  if (target_layer) j["target_layer"] = *target_layer;
  return j;
}

void ModelCard::save(const fs::path& card_file) const {
  auto j = to_json();
  const fs::path folder = fs::absolute(card_file).lexically_normal().parent_path();
  fs::create_directories(folder);
  const fs::path model = fs::absolute(file).lexically_normal();
  // Relative where the two share a top folder; a path up to / and down again (../../work/..)
  // would only break when the card moves.
  const auto top = [](const fs::path& p) {
    return std::next(p.begin()) == p.end() ? fs::path{} : *std::next(p.begin());
  };
  const fs::path relative = top(model) == top(folder) ? model.lexically_relative(folder) : fs::path{};
  j["file"] = relative.empty() ? model.string() : relative.string();
  io::write_text_atomically(card_file, j.dump(2) + "\n");
}

fs::path default_models_dir() {
  if (const char* env = std::getenv("AMVA_MODELS")) return env;
  return share_dir() / "models";
}

ModelCard find_model_card(const std::string& name_or_file, const fs::path& models_dir) {
  const char* env = std::getenv("AMVA_MODEL_CARDS");
  const fs::path cards = env ? fs::path(env) : share_dir() / "model_cards";
  fs::path card_file = name_or_file;
  if (!fs::exists(card_file)) card_file = cards / (name_or_file + ".json");
  if (!fs::exists(card_file)) {
    throw Error(ErrorCode::NotFound, fmt::format("model card '{}' not found (neither a file nor a card in {})",
                                                 name_or_file, cards.string()));
  }
  return ModelCard::load(card_file, models_dir.empty() ? default_models_dir() : models_dir);
}

}  // namespace amva::model
