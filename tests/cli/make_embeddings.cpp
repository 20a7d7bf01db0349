// Synthetic sliding-window embedding files for the CLI test and benchmark of
// `fluxrecon tiles transform` (stands in for `tiles embed`):
//   tiles_make_embeddings DIR SCENES DIMS NY NX STEP
// writes DIR/LES__20200202HHMM.embeddings.STEP_step.nc, scene s at 12:00 + 10 s
// minutes, with values of a few seeded latent factors plus noise.
#include <mpi.h>

#include <cstdio>
#include <filesystem>
#include <random>
#include <string>

#include "core/error.hpp"
#include "tiles/embedding_file.hpp"

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rc = 0;
  try {
    FR_REQUIRE(argc == 7, "usage: tiles_make_embeddings DIR SCENES DIMS NY NX STEP");
    const std::string dir = argv[1];
    const int scenes = std::stoi(argv[2]), dims = std::stoi(argv[3]), ny = std::stoi(argv[4]),
              nx = std::stoi(argv[5]), step = std::stoi(argv[6]);
    std::filesystem::create_directories(dir);
    for (int s = 0; s < scenes; ++s) {
      fluxrecon::tiles::EmbeddingGrid g;
      char id[64];
      std::snprintf(id, sizeof id, "LES__20200202%02d%02d", 12 + s * 10 / 60, s * 10 % 60);
      g.scene_id = id;
      g.dims = dims;
      for (int i = 0; i < nx; ++i) {
        g.x.push_back(-0.5 * step * 200.0 * (nx - 1) + step * 200.0 * i);
        g.i0.push_back(16 + step * i);
      }
      for (int j = 0; j < ny; ++j) {
        g.y.push_back(0.5 * step * 200.0 * (ny - 1) - step * 200.0 * j);
        g.j0.push_back(16 + step * j);
      }
      g.lat.assign(static_cast<size_t>(nx) * ny, 13.3);
      g.lon.assign(g.lat.size(), -57.5);
      std::mt19937 rng(static_cast<unsigned>(1000 + s));
      std::normal_distribution<float> normal;
      const size_t n = g.lat.size();
      g.values.resize(static_cast<size_t>(dims) * n);
      for (size_t w = 0; w < n; ++w) {
        const float f0 = 3 * normal(rng), f1 = 2 * normal(rng), f2 = normal(rng);
        for (int d = 0; d < dims; ++d)
          g.values[d * n + w] = f0 * std::cos(0.1f * d) + f1 * std::sin(0.3f * d) +
                                f2 * (d % 3 - 1) + 0.2f * normal(rng) + 0.01f * s;
      }
      g.attributes = {{"model_path", "embedding_models/demo.h5"},
                      {"step_size", std::to_string(step)}};
      fluxrecon::tiles::write_embedding_grid(
          dir + "/" + g.scene_id + ".embeddings." + std::to_string(step) + "_step.nc", g);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tiles_make_embeddings: %s\n", e.what());
    rc = 1;
  }
  MPI_Finalize();
  return rc;
}
