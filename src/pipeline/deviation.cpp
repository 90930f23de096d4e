#include "amva/pipeline/deviation.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <set>

#include "amva/analysis/reference.hpp"
#include "amva/error.hpp"
#include "amva/io/atomic_file.hpp"
#include "amva/io/json_values.hpp"
#include "amva/io/npy.hpp"
#include "amva/pipeline/quality.hpp"
#include "amva/quality/scores.hpp"
#include "amva/store/settings.hpp"
#include "amva/store/store.hpp"

namespace amva::pipeline {
namespace fs = std::filesystem;
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct StoredMaps {
  std::vector<float> values;  // rows x h x w
  int h = 0, w = 0;
};

StoredMaps stored_maps(const fs::path& store, const std::string& cam, std::size_t rows) {
  const auto file = store::StoreFolder{store}.maps(cam);
  if (!fs::exists(file)) {
    throw Error(ErrorCode::NotFound,
                fmt::format("{}: the store holds no {} maps, which define the deviation (it has: {}); extract them in "
                            "the same pass, e.g. amva run --methods serfiq,deviation, or amva extract --cam gradcam,{}",
                            store.string(), cam, fmt::join(store::cams(store), ", "), cam));
  }
  auto npy = io::read_npy(file);
  if (npy.shape.size() != 3 || static_cast<std::size_t>(npy.shape[0]) != rows) {
    throw Error(ErrorCode::Parse, fmt::format("{}: expected {} maps of h x w values", file.string(), rows));
  }
  return {std::move(npy.data), static_cast<int>(npy.shape[1]), static_cast<int>(npy.shape[2])};
}

// A saved reference scores only faces it does not contain, nor (identities known) their people.
void refuse_overlap(const DeviationOptions& opt, const analysis::Reference& ref,
                    const std::vector<store::IndexEntry>& index) {
  const std::string group = ref.json.value("group", "high");
  std::vector<std::string> members;
  for (const auto& f : analysis::read_face_deviations(opt.reference)) {
    if (f.group == group) members.push_back(f.path);
  }
  std::set<std::string> scored;
  for (const auto& e : index) {
    if (e.ok) scored.insert(e.path);
  }
  for (const auto& path : members) {
    if (scored.count(path)) {
      throw Error(ErrorCode::InvalidArgument,
                  fmt::format("the reference {} contains {}, a face it would score: a face scored against a reference "
                              "that holds it looks better than it is; cross-fit instead (leave out --reference)",
                              opt.reference.string(), path));
    }
  }
  // The reference's faces and the store's, told apart by position, named by the same source.
  std::vector<store::IndexEntry> both = index;
  for (const auto& path : members) both.push_back({path, true});
  const auto identities = eval::find_identities(both, opt.identities, opt.identities_from_evident_folders);
  if (identities.of_row.empty()) return;
  std::set<std::int64_t> people;
  for (std::size_t k = index.size(); k < both.size(); ++k) {
    if (identities.of_row[k] >= 0) people.insert(identities.of_row[k]);
  }
  for (std::size_t r = 0; r < index.size(); ++r) {
    if (index[r].ok && identities.of_row[r] >= 0 && people.count(identities.of_row[r])) {
      throw Error(ErrorCode::InvalidArgument,
                  fmt::format("the reference {} contains faces of {}, whom it would score ({}): other photos of the "
                              "same person make a face look typical; cross-fit instead (leave out --reference)",
                              opt.reference.string(), identities.names[static_cast<std::size_t>(identities.of_row[r])],
                              index[r].path));
    }
  }
}

void check_saved_reference(const DeviationOptions& opt, const analysis::Reference& ref, const store::StoreMeta& meta) {
  if (ref.cam != opt.cam) {
    throw Error(ErrorCode::Mismatch, fmt::format("the reference {} holds {} maps, not {}: use --deviation-cam {}",
                                                 opt.reference.string(), ref.cam, opt.cam, ref.cam));
  }
  const auto& mine = meta.settings;
  const auto theirs = store::StoreSettings::from_json(ref.store_settings);
  if (mine.model_sha256 != theirs.model_sha256) {
    throw Error(ErrorCode::Mismatch,
                fmt::format("the reference {} was made with another model (model_sha256 {} vs the store's {})",
                            opt.reference.string(), theirs.model_sha256, mine.model_sha256));
  }
}

void save_fold(const fs::path& dir, const DeviationOptions& opt, const analysis::FoldReference& fold,
               const std::vector<store::IndexEntry>& index, const std::vector<double>& scores,
               const store::StoreMeta& meta, const nlohmann::json& cam) {
  analysis::ReferenceToSave r;
  r.fiqa_method = opt.cross_fit.all_faces ? "all" : opt.reference_method;
  r.fiqa_source = fmt::format("cross-fitted: the faces of the {} other folds", opt.cross_fit.folds - 1);
  r.group = "high";
  r.group_rule = opt.cross_fit.all_faces ? "all" : opt.cross_fit.high_group.to_string();
  r.count = fold.reference_rows.size();
  r.score_min = fold.score_min;
  r.score_max = fold.score_max;
  r.normalization = opt.cross_fit.normalization;
  r.cam = cam;
  r.store = fs::absolute(opt.store).lexically_normal().string();
  r.store_settings = meta.settings.json;
  r.mam = fold.mam;
  r.amv = fold.amv;
  r.median = fold.median;
  r.eps = fold.eps;
  const auto score_of = [&](std::int64_t row) { return scores.empty() ? kNaN : scores[static_cast<std::size_t>(row)]; };
  for (std::size_t k = 0; k < fold.reference_rows.size(); ++k) {
    const auto row = fold.reference_rows[k];
    r.deviations.push_back(
        {row, index[static_cast<std::size_t>(row)].path, score_of(row), "high", fold.reference_deviations[k]});
  }
  save_reference(dir, r);
}

}  // namespace

DeviationSummary compute_deviation(const DeviationOptions& opt) {
  const auto start = std::chrono::steady_clock::now();
  const auto say = [&](const std::string& m) { opt.progress.stage(m); };
  store::recover_if_interrupted(opt.store);
  const auto meta = store::read_meta(opt.store);
  const auto index = store::read_index_entries(opt.store);
  const auto maps = stored_maps(opt.store, opt.cam, index.size());
  std::vector<bool> has_map(index.size());
  for (std::size_t r = 0; r < index.size(); ++r) has_map[r] = index[r].ok;
  const auto identities = eval::find_identities(index, opt.identities, opt.identities_from_evident_folders);
  std::vector<std::int64_t> unit(index.size());
  std::set<std::int64_t> people;
  for (std::size_t r = 0; r < index.size(); ++r) {
    unit[r] = identities.of_row.empty() ? -1 - static_cast<std::int64_t>(r) : identities.unit_of(r);
    if (has_map[r] && unit[r] >= 0) people.insert(unit[r]);
  }

  DeviationSummary summary;
  summary.identities = people.size();
  summary.fold_of_row.assign(index.size(), -1);
  std::vector<double> reference_scores;
  std::optional<analysis::CrossFitResult> fit;
  if (!opt.reference.empty()) {
    const auto ref = analysis::read_reference(opt.reference);
    check_saved_reference(opt, ref, meta);
    refuse_overlap(opt, ref, index);
    std::vector<float> chosen;
    std::vector<std::size_t> rows;
    const auto d = static_cast<std::size_t>(maps.h * maps.w);
    for (std::size_t r = 0; r < index.size(); ++r) {
      if (!has_map[r]) continue;
      rows.push_back(r);
      chosen.insert(chosen.end(), maps.values.begin() + static_cast<std::ptrdiff_t>(r * d),
                    maps.values.begin() + static_cast<std::ptrdiff_t>((r + 1) * d));
    }
    const auto dev = analysis::deviations_from(chosen, maps.h, maps.w, ref.normalization, ref.mam, ref.amv, ref.eps);
    summary.deviation.assign(index.size(), kNaN);
    for (std::size_t k = 0; k < rows.size(); ++k) {
      summary.deviation[rows[k]] = dev[k];
      summary.fold_of_row[rows[k]] = 0;
    }
    summary.reference = fmt::format("the saved reference {} ({} faces of the {} high group)", opt.reference.string(),
                                    ref.count, ref.json.value("fiqa_method", "?"));
  } else {
    auto cross_fit = opt.cross_fit;
    cross_fit.all_faces = cross_fit.all_faces || opt.reference_method == "all";
    if (!cross_fit.all_faces) {
      reference_scores = quality::read_builtin_scores(opt.store, index, {opt.reference_method}).front().values;
    } else {
      reference_scores.assign(index.size(), kNaN);
    }
    say(fmt::format("deviation: {} maps of {} faces, {} folds by {}; each fold against the {} of the others", opt.cam,
                    std::count(has_map.begin(), has_map.end(), true), cross_fit.folds,
                    people.empty() ? "face (no identities known)" : fmt::format("person ({} people)", people.size()),
                    cross_fit.all_faces
                        ? "faces"
                        : fmt::format("{} high group ({})", opt.reference_method, cross_fit.high_group.to_string())));
    fit = analysis::cross_fitted_deviations(maps.values, maps.h, maps.w, has_map, reference_scores, unit, cross_fit);
    summary.deviation = fit->deviation;
    summary.fold_of_row = fit->fold_of_row;
    summary.folds = cross_fit.folds;
    summary.reference = fmt::format("cross-fitted: {} folds by {}, each scored against {} of the other folds",
                                    cross_fit.folds, people.empty() ? "face" : "person",
                                    cross_fit.all_faces ? "all faces"
                                                        : fmt::format("the {} high group ({})", opt.reference_method,
                                                                      cross_fit.high_group.to_string()));
  }
  for (const double v : summary.deviation) summary.scored += std::isfinite(v) ? 1 : 0;

  // quality.csv holds higher-is-better scores: the deviation goes in negated.
  std::vector<double> column(summary.deviation.size());
  for (std::size_t r = 0; r < column.size(); ++r) column[r] = -summary.deviation[r];
  {
    const store::StoreLock lock(opt.store);
    std::vector<store::Record> records(index.size());
    for (std::size_t r = 0; r < index.size(); ++r) {
      records[r].id = static_cast<std::int64_t>(r);
      records[r].path = index[r].path;
      records[r].ok = index[r].ok;
    }
    write_quality_columns(opt.store, records, {quality::kDeviationMethod}, {column});
    summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    // Under the lock a temporary file left here is a killed run's (as for quality.csv).
    const auto file = store::StoreFolder{opt.store}.deviation();
    io::remove_temporaries_of(file);
    io::write_text_atomically(file, io::json_text(deviation_json(opt, summary), 2) + "\n");
  }
  if (fit && !opt.references_out.empty()) {
    fs::create_directories(opt.references_out);
    const auto cam = analysis::reference_cam_json(meta, opt.cam, maps.h, maps.w);
    for (const auto& fold : fit->folds) {
      const auto dir = opt.references_out / fmt::format("fold_{}", fold.fold + 1);
      fs::remove_all(dir);  // amva's own folder: what a killed run left there goes
      save_fold(dir, opt, fold, index, reference_scores, meta, cam);
      summary.fold_references.push_back(dir);
    }
    io::write_text_atomically(opt.references_out / "deviation.json",
                              io::json_text(deviation_json(opt, summary), 2) + "\n");
  }
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

nlohmann::json deviation_json(const DeviationOptions& opt, const DeviationSummary& s) {
  nlohmann::json folds = nlohmann::json::array();
  for (const auto& dir : s.fold_references) folds.push_back(dir.filename().string());
  return {{"method", quality::kDeviationMethod},
          {"definition",
           "mean over the 112x112 pixels of |Z|, Z = (AM - MAM) / (AM-V + eps), against a reference that holds "
           "neither the face nor its person; quality.csv holds it negated (higher is better)"},
          {"cam", opt.cam},
          {"normalization", analysis::to_string(opt.cross_fit.normalization)},
          {"reference", s.reference},
          {"reference_method", opt.reference.empty() ? opt.reference_method : ""},
          {"reference_folder", opt.reference.empty() ? "" : opt.reference.string()},
          {"folds", s.folds},
          {"seed", opt.cross_fit.seed},
          {"high_group", opt.cross_fit.high_group.to_string()},
          {"identities", s.identities},
          {"scored", s.scored},
          {"fold_references", folds},
          {"seconds", s.seconds}};
}

}  // namespace amva::pipeline
