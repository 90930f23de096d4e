#include "amva/store/import.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "amva/error.hpp"
#include "amva/io/atomic_file.hpp"
#include "amva/io/csv.hpp"
#include "amva/io/json_values.hpp"
#include "amva/io/npy.hpp"
#include "amva/version.hpp"

namespace amva::store {
namespace fs = std::filesystem;
namespace {

// read_npy with what to do about the common mistake: NumPy's default float64.
io::NpyArray read_float32(const fs::path& file) {
  try {
    return io::read_npy(file);
  } catch (const Error& e) {
    throw Error(e.code(), fmt::format("{} (amva reads float32 arrays: np.save(f, maps.astype(np.float32)))", e.what()));
  }
}

// The shape of one map: H x W, or 1 x H x W for a single channel.
std::vector<std::int64_t> map_shape(const std::vector<std::int64_t>& row_shape, const fs::path& file) {
  const bool empty = std::any_of(row_shape.begin(), row_shape.end(), [](std::int64_t n) { return n <= 0; });
  if (empty && (row_shape.size() == 2 || row_shape.size() == 3)) {
    throw Error(ErrorCode::InvalidArgument,
                fmt::format("{}: maps of shape {} hold no pixels (H and W must be at least 1)", file.string(),
                            fmt::join(row_shape, " x ")));
  }
  if (row_shape.size() == 2) return row_shape;
  if (row_shape.size() == 3 && row_shape[0] == 1) return {row_shape[1], row_shape[2]};
  throw Error(ErrorCode::InvalidArgument,
              fmt::format("{}: maps of shape {} (one map must be H x W or 1 x H x W; a stack N x H x W or "
                          "N x 1 x H x W)",
                          file.string(), fmt::join(row_shape, " x ")));
}

void check_finite(const float* map, std::size_t size, const fs::path& file, std::size_t row, const std::string& path) {
  for (std::size_t i = 0; i < size; ++i) {
    if (!std::isfinite(map[i])) {
      throw Error(ErrorCode::InvalidArgument,
                  fmt::format("{}: row {} ({}) holds {} values; every imported map must be finite", file.string(), row,
                              path, std::isnan(map[i]) ? "NaN" : "infinite"));
    }
  }
}

// The list's paths in order; a path named twice is an error naming both lines.
std::vector<std::string> read_paths(const fs::path& list) {
  const auto text = io::read_text(list);
  std::vector<std::string> paths;
  std::map<std::string, std::size_t> seen;
  std::size_t line_number = 0;
  for (std::size_t start = 0; start <= text.size();) {
    const auto end = std::min(text.find('\n', start), text.size());
    std::string line = text.substr(start, end - start);
    start = end + 1;
    ++line_number;
    line = line.substr(0, line.find('\t'));
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line.front() == '#') continue;
    if (const auto [it, added] = seen.emplace(line, line_number); !added) {
      throw Error(ErrorCode::InvalidArgument, fmt::format("{}:{}: '{}' is listed twice (first at line {})",
                                                          list.string(), line_number, line, it->second));
    }
    paths.push_back(line);
    if (end == text.size()) break;
  }
  return paths;
}

Record imported_record(const std::string& path) {
  Record r;
  r.path = path;
  r.ok = true;
  return r;
}

StoreMeta import_meta(const std::string& cam, const std::vector<std::int64_t>& shape, const std::string& source) {
  StoreMeta meta;
  meta.amva_version = version();
  meta.created = utc_timestamp();
  meta.imported_from = source;
  meta.settings = StoreSettings::from_json(
      {{"model_sha256", "none: maps imported, no model ran"},
       {"imported", true},
       {"cam", {{"layer", "imported"}, {"map_shape", shape}, {"methods", {{cam, {{"source", source}}}}}}}});
  return meta;
}

StoreContent write_new_store(StoreContent content, const fs::path& out) {
  store::write_new_store(out, content.meta, content.table);
  return content;
}

// Every .npy below `dir`, keyed by its path relative to `dir` less ".npy".
std::vector<std::pair<std::string, fs::path>> map_files(const fs::path& dir) {
  std::vector<std::pair<std::string, fs::path>> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file() || e.path().extension() != ".npy") continue;
    auto key = fs::relative(e.path(), dir).generic_string();
    files.emplace_back(key.substr(0, key.size() - 4), e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

StoreContent import_maps(const MapsImport& opt) {
  if (!fs::exists(opt.maps))
    throw Error(ErrorCode::NotFound, fmt::format("{}: no such file or folder", opt.maps.string()));
  StoreContent content;
  auto& maps = content.table.arrays[maps_array(opt.cam)];
  if (fs::is_directory(opt.maps)) {
    if (!opt.list.empty()) {
      throw Error(ErrorCode::InvalidArgument, "a folder of maps names its images itself: leave out the list");
    }
    for (const auto& [key, file] : map_files(opt.maps)) {
      const auto one = read_float32(file);
      const auto shape = map_shape(one.shape, file);
      if (maps.row_shape.empty()) maps.row_shape = shape;
      if (shape != maps.row_shape) {
        throw Error(ErrorCode::InvalidArgument,
                    fmt::format("{}: map of shape {} where the others are {}", file.string(), fmt::join(shape, " x "),
                                fmt::join(maps.row_shape, " x ")));
      }
      check_finite(one.data.data(), one.data.size(), file, 0, key);
      maps.data.insert(maps.data.end(), one.data.begin(), one.data.end());
      content.table.records.push_back(imported_record(key));
    }
    if (content.table.records.empty()) {
      throw Error(ErrorCode::NotFound, fmt::format("{}: no .npy maps in this folder", opt.maps.string()));
    }
  } else {
    if (opt.list.empty()) {
      throw Error(
          ErrorCode::InvalidArgument,
          fmt::format("{}: a stack of maps needs the list of its images (one path per row)", opt.maps.string()));
    }
    auto stack = read_float32(opt.maps);
    const auto paths = read_paths(opt.list);
    if (stack.shape.size() < 3) {
      throw Error(ErrorCode::InvalidArgument, fmt::format("{}: shape {} is not a stack N x H x W of maps",
                                                          opt.maps.string(), fmt::join(stack.shape, " x ")));
    }
    maps.row_shape = map_shape({stack.shape.begin() + 1, stack.shape.end()}, opt.maps);
    if (static_cast<std::size_t>(stack.rows()) != paths.size()) {
      throw Error(ErrorCode::Mismatch, fmt::format("{} has {} maps but {} lists {} images", opt.maps.string(),
                                                   stack.rows(), opt.list.string(), paths.size()));
    }
    const auto size = static_cast<std::size_t>(stack.row_size());
    for (std::size_t i = 0; i < paths.size(); ++i) {
      check_finite(stack.data.data() + i * size, size, opt.maps, i, paths[i]);
      content.table.records.push_back(imported_record(paths[i]));
    }
    maps.data = std::move(stack.data);
  }
  if (!opt.embeddings.empty()) {
    auto emb = read_float32(opt.embeddings);
    if (emb.shape.size() != 2 || static_cast<std::size_t>(emb.rows()) != content.table.records.size()) {
      throw Error(ErrorCode::Mismatch,
                  fmt::format("{}: shape {}, expected {} x D embeddings (one row per map)", opt.embeddings.string(),
                              fmt::join(emb.shape, " x "), content.table.records.size()));
    }
    for (std::size_t i = 0; i < content.table.records.size(); ++i) {
      check_finite(emb.data.data() + i * static_cast<std::size_t>(emb.row_size()),
                   static_cast<std::size_t>(emb.row_size()), opt.embeddings, i, content.table.records[i].path);
    }
    auto& e = content.table.arrays[kEmbeddings];
    e.row_shape = {emb.shape[1]};
    e.data = std::move(emb.data);
  }
  for (std::size_t i = 0; i < content.table.records.size(); ++i) {
    content.table.records[i].id = static_cast<std::int64_t>(i);
  }
  content.meta = import_meta(opt.cam, maps.row_shape, fs::absolute(opt.maps).string());
  return write_new_store(std::move(content), opt.out);
}

StoreContent import_group_stacks(const fs::path& dir, const std::string& cam, const fs::path& out) {
  // Methods are the names before "_high.npy" that also have a "_low.npy".
  std::vector<std::string> methods;
  if (fs::is_directory(dir)) {
    for (const auto& e : fs::directory_iterator(dir)) {
      const auto name = e.path().filename().string();
      const std::string suffix = "_high.npy";
      if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
        const auto method = name.substr(0, name.size() - suffix.size());
        if (!fs::exists(dir / (method + "_low.npy"))) {
          throw Error(ErrorCode::NotFound,
                      fmt::format("{}: {} has no {}_low.npy beside it", dir.string(), name, method));
        }
        methods.push_back(method);
      }
    }
  }
  if (methods.empty()) {
    throw Error(ErrorCode::NotFound,
                fmt::format("{}: no <METHOD>_high.npy and <METHOD>_low.npy pairs (the official AMVA code's layout)",
                            dir.string()));
  }
  std::sort(methods.begin(), methods.end());
  StoreContent content;
  auto& maps = content.table.arrays[maps_array(cam)];
  std::map<std::string, std::pair<std::string, double>> membership;  // record path -> method, score
  for (const auto& method : methods) {
    for (const auto& [group, score] : {std::pair<std::string, double>{"high", 1.0}, {"low", 0.0}}) {
      const fs::path file = dir / (method + "_" + group + ".npy");
      const auto stack = read_float32(file);
      if (stack.shape.size() < 3) {
        throw Error(ErrorCode::InvalidArgument, fmt::format("{}: shape {} is not a stack N x H x W of maps",
                                                            file.string(), fmt::join(stack.shape, " x ")));
      }
      const auto shape = map_shape({stack.shape.begin() + 1, stack.shape.end()}, file);
      if (maps.row_shape.empty()) maps.row_shape = shape;
      if (shape != maps.row_shape) {
        throw Error(ErrorCode::InvalidArgument,
                    fmt::format("{}: maps of shape {} where the others are {}", file.string(), fmt::join(shape, " x "),
                                fmt::join(maps.row_shape, " x ")));
      }
      const auto size = static_cast<std::size_t>(stack.row_size());
      for (std::size_t i = 0; i < static_cast<std::size_t>(stack.rows()); ++i) {
        const auto path = fmt::format("{}/{}/{:05d}.npy", method, group, i);
        check_finite(stack.data.data() + i * size, size, file, i, path);
        content.table.records.push_back(imported_record(path));
        membership[path] = {method, score};
      }
      maps.data.insert(maps.data.end(), stack.data.begin(), stack.data.end());
    }
  }
  for (std::size_t i = 0; i < content.table.records.size(); ++i) {
    content.table.records[i].id = static_cast<std::int64_t>(i);
  }
  content.meta = import_meta(cam, maps.row_shape, fs::absolute(dir).string());
  content.meta.settings = content.meta.settings.with("groups_chosen_by", methods);
  // A method's high maps score 1 and its low ones 0; the other methods' maps have no score.
  QualityTable quality;
  for (const auto& m : methods) {
    std::vector<std::string> cells;
    for (const auto& r : content.table.records) {
      const auto& [method, score] = membership.at(r.path);
      cells.push_back(QualityTable::cell(m == method ? score : std::numeric_limits<double>::quiet_NaN()));
    }
    quality.set_column(m, cells);
  }
  store::write_new_store(out, content.meta, content.table, quality);
  return content;
}

}  // namespace amva::store
