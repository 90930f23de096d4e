// amva cam: the activation maps of single images, as .npy and as overlays on the aligned face.
// It runs the same extraction pass as `amva extract` (kept in memory), so a map here is
// exactly the map a store would hold.
#include <fmt/format.h>

#include <opencv2/imgproc.hpp>

#include "amva/error.hpp"
#include "amva/face/alignment.hpp"
#include "amva/io/image_io.hpp"
#include "amva/io/npy.hpp"
#include "amva/io/safe_name.hpp"
#include "amva/io/staged_output.hpp"
#include "amva/pipeline/extract.hpp"
#include "amva/viz/overlay.hpp"
#include "cli.hpp"

namespace amva::cli {
namespace fs = std::filesystem;

void add_cam(CLI::App& app) {
  struct Args {
    ModelOptions models;
    CamCliOptions cam;
    std::vector<fs::path> images;
    fs::path out;
    bool aligned = false;
    bool force = false;
    viz::Colormap colormap = viz::Colormap::Jet;
  };
  auto args = std::make_shared<Args>();
  args->cam.cams = {"gradcam", "contribution"};
  auto* cmd =
      app.add_subcommand("cam", "Activation maps of single images: .npy and heat-map overlays on the aligned face");
  add_quiet_flag(*cmd);
  cmd->add_option("--image", args->images, "Image file (repeatable)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--out", args->out, "Output folder: one sub-folder per image")->required()->check(folder_name());
  cmd->add_flag("--aligned", args->aligned, "The image is an aligned face crop");
  cmd->add_flag("--force", args->force,
                "Write into a non-empty --out folder that amva did not make (its same-named files are overwritten)");
  args->models.add_to(*cmd);
  add_cam_options(*cmd, args->cam);
  add_colormap_option(*cmd, args->colormap);
  cmd->callback([args] {
    io::StagedOutput staged(args->out, args->force);
    pipeline::ExtractOptions opt;
    opt.card = args->models.card();
    opt.aligned = args->aligned;
    if (!opt.aligned) opt.detector = args->models.detector_config();
    opt.threads = 1;
    args->cam.apply(opt);
    std::vector<fs::path> images;
    for (const auto& image : args->images) images.push_back(fs::absolute(image));
    const auto faces = pipeline::extract_faces(images, opt);
    for (const auto& r : faces.table.records) {
      const auto folder = io::safe_name(fs::path(r.path).stem().string());
      const fs::path dir = staged.dir() / folder;
      if (!r.ok) {
        fmt::print("{}: {}\n", r.path, r.error);
        continue;
      }
      fs::create_directories(dir);
      const cv::Mat& face = faces.aligned[static_cast<std::size_t>(r.id)];
      io::write_image(dir / "aligned.png", face);
      for (const auto& name : opt.cams) {
        const auto& maps = faces.table.maps(name);
        const float* row = maps.row(static_cast<std::size_t>(r.id));
        io::write_npy(dir / (name + ".npy"), maps.row_shape, row);
        const cv::Mat map(static_cast<int>(maps.row_shape[0]), static_cast<int>(maps.row_shape[1]), CV_32F,
                          const_cast<float*>(row));
        io::write_image(dir / (name + ".png"), viz::overlay_heatmap(face, map, args->colormap));
      }
      fmt::print("{}: maps {} written to {}\n", r.path, fmt::join(opt.cams, ", "), (args->out / folder).string());
    }
    staged.publish();
  });
}

}  // namespace amva::cli
