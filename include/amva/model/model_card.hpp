#pragma once
// A small JSON file that tells amva how to feed an ONNX face recognition model.
#include <array>
#include <filesystem>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>

namespace amva::model {

struct ModelCard {
  std::string name;
  std::filesystem::path file;  // the ONNX file, resolved against the card's folder
  std::string sha256;          // expected hash of `file`; empty: not checked
  std::string input_name;
  int input_width = 112;
  int input_height = 112;
  bool rgb = false;                                 // channel order the model expects (false: BGR)
  std::array<double, 3> mean{127.5, 127.5, 127.5};  // per model-input channel, 0-255 units
  std::array<double, 3> std{128.0, 128.0, 128.0};   // input = (pixel - mean) / std
  std::string embedding_output;
  std::optional<std::string> target_layer;  // ONNX tensor name; empty: found automatically

  /// Reads a card; relative `file` paths are taken from the card's folder, or `models_dir`
  /// when given and the file is there. Throws Error(Parse) naming the card and the field.
  static ModelCard load(const std::filesystem::path& card_file, const std::filesystem::path& models_dir = {});
  [[nodiscard]] nlohmann::json to_json() const;
  /// Writes the card to `card_file` (making its folder), naming its model file relative to the
  /// card's folder when they share a top folder, so that load() finds it wherever the two move
  /// together; else by its absolute path.
  void save(const std::filesystem::path& card_file) const;
};

/// Where the default models are: $AMVA_MODELS, else share/amva/models next to the program.
std::filesystem::path default_models_dir();

/// A card by shipped name ("default", "paddlex_mobilefacenet128", ...; looked up in
/// $AMVA_MODEL_CARDS, else share/amva/model_cards) or by file; its relative model file is
/// taken from `models_dir` (empty: default_models_dir()) when there. Throws Error(NotFound)
/// naming where it looked.
ModelCard find_model_card(const std::string& name_or_file, const std::filesystem::path& models_dir = {});

}  // namespace amva::model
