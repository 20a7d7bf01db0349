#include "tiles/embed.hpp"

#include <algorithm>
#include <filesystem>
#include <limits>
#include <regex>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_util.hpp"
#include "core/progress.hpp"
#include "core/timer.hpp"
#include "models/encoder_file.hpp"
#include "tiles/dataset.hpp"

namespace fluxrecon::tiles {
namespace fs = std::filesystem;

std::string embedding_path(const Meta& meta, const std::string& model_path,
                           const std::string& scene_id, int step_size) {
  const std::string model_name = fs::path(model_path).stem().string();
  return meta.data_path + "/embeddings/rect/" + model_name + "/" + scene_id + ".embeddings." +
         std::to_string(step_size) + "_step.nc";
}

EmbeddingGrid embed_scene(models::ConvEncoder& encoder, const DecodedPng& image,
                          const GriddedField& field, int N, int S, int batch_size) {
  FR_REQUIRE(image.width == field.nx() && image.height == field.ny(), "scene image is ",
             image.width, " x ", image.height, " pixels but its grid ", field.nx(), " x ",
             field.ny());
  FR_REQUIRE(image.width >= N && image.height >= N,
             "The requested scene image has too few pixels (", image.width, " x ", image.height,
             ") to contain even a single tile of ", N, " pixels");
  const int ntx = sliding_window_count(image.width, N, S);
  const int nty = sliding_window_count(image.height, N, S);
  const int dims = encoder.spec().embedding_dims;
  EmbeddingGrid g;
  g.dims = dims;
  for (int it = 0; it < ntx; ++it) {
    g.i0.push_back(it * S + N / 2);
    g.x.push_back(field.x[static_cast<std::size_t>(g.i0.back())]);
  }
  // Grid row k (y ascending north) is window row nty - 1 - k from the top.
  for (int k = 0; k < nty; ++k) {
    const int jt = nty - 1 - k;
    g.j0.push_back(jt * S + N / 2);
    g.y.push_back(field.y[static_cast<std::size_t>(field.ny() - 1 - g.j0.back())]);
  }
  // A scene on a plain x/y grid (LES) has no lat/lon: NaN there.
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (int k = 0; k < nty; ++k)
    for (int it = 0; it < ntx; ++it) {
      const std::size_t at = std::size_t(field.ny() - 1 - g.j0[k]) * field.nx() + g.i0[it];
      g.lat.push_back(field.lat.empty() ? nan : field.lat[at]);
      g.lon.push_back(field.lon.empty() ? nan : field.lon[at]);
    }
  g.values.assign(std::size_t(dims) * nty * ntx, 0.0f);
  const std::size_t window = std::size_t(3) * N * N;
  std::vector<float> inputs(window * std::size_t(batch_size)), outputs;
  outputs.resize(std::size_t(batch_size) * dims);
  const int total = ntx * nty;
  for (int first = 0; first < total; first += batch_size) {
    const int n = std::min(batch_size, total - first);
    for (int b = 0; b < n; ++b) {
      const int it = (first + b) % ntx, jt = (first + b) / ntx;
      models::normalise_window(image.pixels.data(), image.width, image.channels, it * S, jt * S, N,
                               N, inputs.data() + window * b);
    }
    encoder.embed(inputs.data(), n, N, N, outputs.data());
    for (int b = 0; b < n; ++b) {
      const int it = (first + b) % ntx, jt = (first + b) / ntx, k = nty - 1 - jt;
      for (int d = 0; d < dims; ++d)
        g.values[(std::size_t(d) * nty + k) * ntx + it] = outputs[std::size_t(b) * dims + d];
    }
  }
  return g;
}

TaskSummary run_embed(const Meta& meta, const EmbedOptions& opt, MPI_Comm comm) {
  TaskSummary summary;
  summary.task = "embed";
  const double t0 = wall_seconds();
  models::EncoderFile model;
  int N = 0, S = 0;
  all_ranks_agree(comm, [&] {
    FR_REQUIRE(!opt.model_path.empty(), "tiles embed: --model FILE is required");
    FR_REQUIRE(meta.sliding.present, meta.meta_path,
               ": sampling.rect-slidingwindow.tile_N is needed for sliding-window embeddings");
    N = meta.sliding.tile_N;
    S = opt.step_size > 0 ? opt.step_size : meta.sliding.step_size;
    FR_REQUIRE(S > 0, meta.meta_path,
               ": give --step-size or sampling.rect-slidingwindow.step_size for tiles embed");
    FR_REQUIRE(opt.batch_size > 0, "tiles embed: batch size must be positive");
    model = models::read_encoder_file(opt.model_path);
    FR_REQUIRE(model.spec.input_channels == 3, "embedding model '", opt.model_path, "' takes ",
               model.spec.input_channels, " input channels; tiles embed feeds RGB images (3)");
  });
  models::ConvEncoder encoder(model.spec);
  all_ranks_agree(comm, [&] { encoder.load(model.weights, opt.model_path); });

  // The regridded scenes (made where missing; complete ones are kept).
  TaskOptions regrid;
  regrid.scene_filter = opt.scene_filter;
  run_task("GenerateRegriddedScenes", meta, regrid, comm);
  std::vector<SceneRef> scenes;
  all_ranks_agree(comm, [&] {
    scenes = read_scene_db(scene_db_path(meta));
    if (!opt.scene_filter.empty()) {
      std::regex re;
      try {
        re = std::regex(opt.scene_filter);
      } catch (const std::regex_error& e) {
        FR_FAIL("--scene-filter '", opt.scene_filter, "' is not a regular expression: ", e.what());
      }
      scenes.erase(std::remove_if(scenes.begin(), scenes.end(),
                                  [&](const SceneRef& s) {
                                    return !std::regex_search(
                                        s.scene_id, re, std::regex_constants::match_continuous);
                                  }),
                   scenes.end());
    }
  });
  const ProductRef ref = primary_product(meta);
  const int rank = mpi::rank(comm), size = mpi::size(comm);
  Progress progress("tiles: embed", static_cast<std::int64_t>(scenes.size()), "scenes");
  all_ranks_agree(comm, [&] {
    for (std::size_t i = static_cast<std::size_t>(rank); i < scenes.size();
         i += static_cast<std::size_t>(size)) {
      const std::string id = scenes[i].scene_id;
      const std::string out = embedding_path(meta, opt.model_path, id, S);
      if (output_complete(out)) {
        ++summary.skipped;
      } else {
        const std::string png = rect_path(meta, ref, id, "png"),
                          nc = rect_path(meta, ref, id, "nc");
        const DecodedPng image = read_png(png);
        const GriddedField field = read_gridded(nc);
        EmbeddingGrid g;
        try {
          g = embed_scene(encoder, image, field, N, S, opt.batch_size);
        } catch (const Error& e) {
          FR_FAIL(png, ": ", e.what());
        }
        g.scene_id = id;
        const double dx = field.nx() > 1 ? field.x[1] - field.x[0] : 0.0;
        const double dy = field.ny() > 1 ? field.y[1] - field.y[0] : 0.0;
        g.attributes = {{"model_path", opt.model_path},
                        {"image_path", png},
                        {"src_data_path", nc},
                        {"step_size", std::to_string(S)},
                        {"tile_N", std::to_string(N)},
                        {"lx_tile", std::to_string(dx * N)},
                        {"ly_tile", std::to_string(dy * N)}};
        ensure_directory(fs::path(out).parent_path().string());
        write_embedding_grid(out, g);
        ++summary.written;
        summary.tiles += static_cast<std::int64_t>(g.x.size() * g.y.size());
      }
      progress.advance(size);
    }
  });
  progress.finish();
  summary.scenes = static_cast<std::int64_t>(scenes.size());
  summary.seconds = mpi::max(wall_seconds() - t0, comm);
  summary.written = mpi::sum(summary.written, comm);
  summary.skipped = mpi::sum(summary.skipped, comm);
  summary.tiles = mpi::sum(summary.tiles, comm);
  return summary;
}

}  // namespace fluxrecon::tiles
