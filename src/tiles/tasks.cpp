#include "tiles/tasks.hpp"

#include <Kokkos_Core.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_util.hpp"
#include "core/progress.hpp"
#include "core/timer.hpp"
#include "io/grid_file.hpp"
#include "tiles/aux_match.hpp"
#include "tiles/dataset.hpp"
#include "tiles/flow_task.hpp"
#include "tiles/goes_source.hpp"
#include "tiles/regrid.hpp"
#include "tiles/render.hpp"
#include "tiles/synth_les.hpp"
#include "tiles/triplets.hpp"

namespace fluxrecon::tiles {
namespace fs = std::filesystem;

namespace {

struct Work {
  std::string id;   // primary scene id
  SceneRef source;  // where the (primary or aux) data are
};

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  FR_REQUIRE(in.good(), "cannot read '", path, "'");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs `body` on rank 0 only; an error there becomes every rank's error.
void on_rank0(MPI_Comm comm, const std::function<void()>& body) {
  all_ranks_agree(comm, [&] {
    if (mpi::rank(comm) == 0) body();
  });
}

bool all_exist(const std::vector<std::string>& paths) {
  for (const auto& p : paths)
    if (!output_complete(p)) return false;
  return true;
}

class Runner {
 public:
  Runner(const Meta& meta, const TaskOptions& opt, MPI_Comm comm)
      : meta_(meta), opt_(opt), comm_(comm) {}

  // ---- GenerateSceneIDs -------------------------------------------------------------------
  std::vector<SceneRef> scene_ids() {
    const std::string db = scene_db_path(meta_);
    if (output_complete(db, comm_)) return filtered(read_scene_db(db));
    if (meta_.source == "LES" && meta_.synthetic.present) {
      int missing = 0;
      on_rank0(comm_, [&] {
        try {
          les_source_files(meta_, meta_.files);
        } catch (const Error&) {
          missing = 1;
        }
      });
      MPI_Bcast(&missing, 1, MPI_INT, 0, comm_);
      if (missing) {
        auto t = timers_.scope("synthetic_les");
        write_synthetic_les(meta_.synthetic, les_source_dir(meta_), comm_);
      }
    }
    on_rank0(comm_, [&] {
      const auto scenes = meta_.source == "LES" ? find_les_scenes(meta_, meta_.product, meta_.files)
                                                : find_goes_scenes(meta_, meta_.product, true);
      FR_REQUIRE(!scenes.empty(), "No valid times found: no scene of ", meta_.source,
                 " passes the time section of ", meta_.meta_path);
      ensure_directory(fs::path(db).parent_path().string());
      write_text_atomically(db, scene_db_text(scenes, meta_.db_type));
      log::info("tiles: GenerateSceneIDs: ", scenes.size(), " scene(s) -> ", db);
    });
    MPI_Barrier(comm_);
    if (mpi::rank(comm_) == 0) ++summary_.written;  // one database, counted once
    return filtered(read_scene_db(db));
  }

  // ---- CheckForAuxiliaryFiles -----------------------------------------------------------------
  std::vector<Work> aux_scenes(const ProductRef& aux) {
    const std::string db = aux_db_path(meta_, aux);
    if (!output_complete(db, comm_)) {
      const auto primary = scene_ids();
      on_rank0(comm_, [&] {
        Meta intervals_only = meta_;
        intervals_only.time.filters.clear();
        const auto found = aux.source == "LES"
                               ? find_les_scenes(intervals_only, aux.product, aux.files)
                               : find_goes_scenes(meta_, aux.product, false);
        std::vector<Seconds> times;
        for (const auto& s : found) times.push_back(s.time);
        std::vector<std::pair<std::string, Seconds>> scenes;
        for (const auto& s : primary) scenes.emplace_back(s.scene_id, s.time);
        const AuxSpec& spec = meta_.aux_product(aux.aux_name);
        const auto m = match_aux_times(scenes, times, spec.strategy, spec.dt_aux, spec.dt_max,
                                       meta_.meta_path + ": aux product '" + aux.aux_name + "'");
        std::vector<SceneRef> matched;
        for (const auto& [id, a] : m.scene_to_aux) {
          SceneRef r = found[a];
          r.scene_id = id;
          matched.push_back(r);
        }
        ensure_directory(fs::path(db).parent_path().string());
        write_text_atomically(db, scene_db_text(matched, meta_.db_type));
        log::info("tiles: CheckForAuxiliaryFiles: ", matched.size(), " of ", scenes.size(),
                  " scene(s) matched to '", aux.aux_name, "' (dt_aux ", iso_duration(m.dt_aux),
                  ") -> ", db);
      });
      MPI_Barrier(comm_);
    }
    std::vector<Work> work;
    for (const auto& r : filtered(read_scene_db(db))) work.push_back({r.scene_id, r});
    return work;
  }

  std::vector<Work> work_for(const ProductRef& ref) {
    if (ref.is_aux()) return aux_scenes(ref);
    std::vector<Work> work;
    for (const auto& r : scene_ids()) work.push_back({r.scene_id, r});
    return work;
  }

  // ---- GenerateCroppedScenes ------------------------------------------------------------------
  // The cropped scene of `w` (rank-local), made if missing.
  Scene cropped(const ProductRef& ref, const Work& w, bool count = false) {
    const std::string nc = cropped_path(meta_, ref, w.id, "nc"),
                      png = cropped_path(meta_, ref, w.id, "png");
    if (output_complete(nc)) {
      Scene s = read_scene(nc);
      if (!output_complete(png)) render_scene(s, png);
      if (count) ++summary_.skipped;
      return s;
    }
    Scene s;
    {
      auto t = timers_.scope("read_and_crop");
      Domain crop;
      if (!meta_.domain.as_source) crop = scene_domain(meta_, s);
      s = load_source_scene(meta_, ref, w.source, crop);
    }
    s.scene_id = w.id;
    auto t = timers_.scope("write");
    render_scene(s, png);  // data and image are independent files; both atomic
    write_scene(nc, s);
    if (count) ++summary_.written;
    return s;
  }

  void render_scene(const Scene& s, const std::string& png) {
    write_image(png, render_planes(s.render, s.nc(), static_cast<int>(s.y.size()),
                                   static_cast<int>(s.x.size()), s.values, s.axes.dy > 0));
  }

  // ---- GenerateRegriddedScenes ----------------------------------------------------------------
  void regridded(const ProductRef& ref, const Work& w) {
    const std::string nc = rect_path(meta_, ref, w.id, "nc"),
                      png = rect_path(meta_, ref, w.id, "png");
    if (output_complete(nc)) {
      if (!output_complete(png)) {
        const auto g = read_gridded(nc);
        render_gridded(g, png);
      }
      ++summary_.skipped;
      return;
    }
    const Scene s = cropped(ref, w);
    // An aux product is regridded onto the primary product's domain (looked
    // up with the primary scene's own source files when the domain is as_source).
    const Domain d = ref.is_aux() ? domain_of(w.id) : scene_domain(meta_, s);
    GriddedField g;
    {
      auto t = timers_.scope("regrid");
      const Grid grid = make_grid(d, meta_.resolution);
      g = gridded(s, grid, ref, ref.is_aux() ? Method::nearest : Method::bilinear);
      summary_.megapixels += grid.nx * 1e-6 * grid.ny;
    }
    auto t = timers_.scope("write");
    render_gridded(g, png);
    write_gridded(nc, g);
    ++summary_.written;
  }

  GriddedField gridded(const Scene& s, const Grid& grid, const ProductRef& ref, Method method) {
    GriddedField g;
    g.name = ref.is_aux() ? ref.aux_name : data_variable_name(s);
    g.x = grid.x;
    g.y = grid.y;
    g.lat = grid.lat;
    g.lon = grid.lon;
    g.channels = s.channels;
    g.units = s.units;
    g.standard_names = s.standard_names;
    g.values = regrid(s, grid, method);
    g.attributes = {{"scene_id", s.scene_id},
                    {"source", s.source},
                    {"product", s.product},
                    {"render", render_name(s.render)},
                    {"regridding", method == Method::bilinear ? "bilinear" : "nearest"}};
    if (ref.is_aux()) g.attributes.emplace_back("aux_name", ref.aux_name);
    return g;
  }

  void render_gridded(const GriddedField& g, const std::string& png) {
    std::string render = "grey";
    for (const auto& [k, v] : g.attributes)
      if (k == "render") render = v;
    write_image(png,
                render_planes(render_from_name(render, png), static_cast<int>(g.channels.size()),
                              g.ny(), g.nx(), g.values, true));
  }

  // The dataset's domain for scene `id`: meta.yaml's, or from the primary scene's data.
  Domain domain_of(const std::string& id) {
    if (!meta_.domain.as_source) return scene_domain(meta_, Scene{});
    const auto refs = read_scene_db(scene_db_path(meta_));
    const auto it =
        std::find_if(refs.begin(), refs.end(), [&](const SceneRef& r) { return r.scene_id == id; });
    FR_REQUIRE(it != refs.end(), "scene ", id, " is not in ", scene_db_path(meta_));
    return scene_domain(meta_, cropped(primary_product(meta_), Work{id, *it}));
  }

  // ---- GenerateTiles (triplets) -------------------------------------------------------------
  SceneSplits splits() {
    FR_REQUIRE(
        meta_.triplets.present, meta_.meta_path,
        ": To produce triplets please define a `triplets` section under `sampling` (N_triplets, "
        "tile_N, neigh_dist_scaling)");
    const std::string path = triplets_dir(meta_) + "/tile_scene_splits.yml";
    if (!output_complete(path, comm_))
      on_rank0(comm_, [&] {
        std::vector<std::string> ids;
        for (const auto& s : read_scene_db(scene_db_path(meta_))) ids.push_back(s.scene_id);
        ensure_directory(triplets_dir(meta_));
        write_text_atomically(path, splits_to_yaml(split_scenes(ids, meta_.triplets, meta_.seed)));
      });
    MPI_Barrier(comm_);
    return splits_from_yaml(read_text(path), path);
  }

  std::vector<TileLocation> locations(const std::string& id,
                                      const std::vector<TripletEntry>& entries) {
    const std::string path = triplets_dir(meta_) + "/tile_locations." + id + ".yml";
    if (output_complete(path)) return locations_from_yaml(read_text(path), path);
    const Domain d = domain_of(id);
    const auto tiles = tile_locations(id, entries, d, meta_);
    write_text_atomically(path, locations_to_yaml(tiles));
    return tiles;
  }

  void scene_tiles(const ProductRef& ref, const Work& w, const std::vector<TileLocation>& tiles) {
    std::vector<std::string> outputs;
    for (const auto& t : tiles)
      for (const char* ext : {"nc", "png", "yml"})
        outputs.push_back(tile_dir(meta_, ref.aux_name, t.collection) + "/" + t.id() + "." + ext);
    if (all_exist(outputs)) {
      ++summary_.skipped;
      return;
    }
    const Scene s = cropped(ref, w);
    const int N = meta_.triplets.tile_N;
    for (const auto& t : tiles) {
      const std::string base = tile_dir(meta_, ref.aux_name, t.collection) + "/" + t.id();
      if (all_exist({base + ".nc", base + ".png", base + ".yml"})) continue;
      ensure_directory(fs::path(base).parent_path().string());
      GriddedField g;
      {
        auto timer = timers_.scope("regrid");
        const Grid grid = make_grid(t.tile_domain(), meta_.resolution);
        FR_REQUIRE(grid.nx == N && grid.ny == N, "Regridder returned a tile with incorrect shape (",
                   N, ", ", N, ") != (", grid.nx, ", ", grid.ny, ")");
        g = gridded(s, grid, ref, Method::nearest);
        g.attributes.emplace_back("tile_type", t.tile_type);
        g.attributes.emplace_back("triplet_collection", t.collection);
        summary_.megapixels += N * 1e-6 * N;
      }
      {
        auto timer = timers_.scope("write_png");
        render_gridded(g, base + ".png");
      }
      {
        auto timer = timers_.scope("write_nc");
        write_gridded(base + ".nc", g);
      }
      auto timer = timers_.scope("write_yml");
      write_text_atomically(base + ".yml", tile_meta_yaml(t, w.id, ref.aux_name));
      ++summary_.tiles;
    }
    ++summary_.written;
  }

  void triplets(const ProductRef& ref) {
    const auto scenes = scene_ids();
    const auto split = splits();
    std::vector<Work> work;
    if (ref.is_aux()) {
      for (const auto& w : aux_scenes(ref))
        if (split.count(w.id) && !split.at(w.id).empty()) work.push_back(w);
    } else {
      for (const auto& s : scenes)
        if (split.count(s.scene_id) && !split.at(s.scene_id).empty())
          work.push_back({s.scene_id, s});
    }
    each_scene(work, "scenes",
               [&](const Work& w) { scene_tiles(ref, w, locations(w.id, split.at(w.id))); });
  }

  // ---- GenerateTiles (rect-slidingwindow) ---------------------------------------------------
  void sliding_window(const ProductRef& ref) {
    FR_REQUIRE(meta_.sliding.present || opt_.step_size > 0, meta_.meta_path,
               ": Please define the tile-size, in pixels `tile_N` in a section called "
               "`rect-slidingwindow` "
               "in `sampling` (with step_size, or give --step-size)");
    FR_REQUIRE(meta_.sliding.present, meta_.meta_path,
               ": sampling.rect-slidingwindow.tile_N is needed for sliding-window tiles");
    const int N = meta_.sliding.tile_N,
              S = opt_.step_size > 0 ? opt_.step_size : meta_.sliding.step_size;
    const std::string dir =
        meta_.data_path + "/rect-slidingwindow" + (ref.is_aux() ? "/aux/" + ref.aux_name : "");
    const auto work = work_for(ref);
    each_scene(work, "scenes", [&](const Work& w) {
      regridded(ref, w);
      const auto g = read_gridded(rect_path(meta_, ref, w.id, "nc"));
      FR_REQUIRE(g.nx() >= N && g.ny() >= N, "The requested scene image ",
                 rect_path(meta_, ref, w.id, "png"), " has too few pixels (", g.nx(), " x ", g.ny(),
                 ") to contain even a single tile of ", N,
                 " pixels; use a smaller rect-slidingwindow.tile_N");
      const int ntx = sliding_window_count(g.nx(), N, S), nty = sliding_window_count(g.ny(), N, S);
      for (int jt = 0; jt < nty; ++jt)
        for (int it = 0; it < ntx; ++it) {
          char name[64];
          std::snprintf(name, sizeof name, "__%05d", jt * ntx + it);
          const std::string base = dir + "/" + w.id + name;
          if (output_complete(base + ".nc") && output_complete(base + ".png")) continue;
          ensure_directory(dir);
          // Rows counted from the top of the image; data y-indices from the south.
          const int i0 = it * S, j0 = g.ny() - (jt * S + N);
          GriddedField t = g;
          t.x.assign(g.x.begin() + i0, g.x.begin() + i0 + N);
          t.y.assign(g.y.begin() + j0, g.y.begin() + j0 + N);
          t.lat.clear();
          t.lon.clear();
          t.values.clear();
          for (size_t c = 0; c < g.channels.size(); ++c)
            for (int j = j0; j < j0 + N; ++j) {
              const size_t row = (c * g.ny() + j) * static_cast<size_t>(g.nx());
              t.values.insert(t.values.end(), g.values.begin() + row + i0,
                              g.values.begin() + row + i0 + N);
              if (c == 0 && !g.lat.empty()) {
                t.lat.insert(t.lat.end(), g.lat.begin() + j * g.nx() + i0,
                             g.lat.begin() + j * g.nx() + i0 + N);
                t.lon.insert(t.lon.end(), g.lon.begin() + j * g.nx() + i0,
                             g.lon.begin() + j * g.nx() + i0 + N);
              }
            }
          render_gridded(t, base + ".png");
          write_gridded(base + ".nc", t);
          ++summary_.tiles;
        }
    });
    const std::string db = dir + "/tiles_per_scene.step_" + std::to_string(S) + ".yml";
    on_rank0(comm_, [&] {
      YAML::Emitter out;
      out << YAML::BeginMap;
      for (const auto& w : work) {
        auto f = io::GridFile::open(rect_path(meta_, ref, w.id, "nc"), MPI_COMM_SELF);
        const int nx = static_cast<int>(f->dimension_length("x")),
                  ny = static_cast<int>(f->dimension_length("y"));
        const int ntx = sliding_window_count(nx, N, S), nty = sliding_window_count(ny, N, S);
        out << YAML::Key << w.id << YAML::Value << YAML::BeginSeq;
        for (int jt = 0; jt < nty; ++jt)
          for (int it = 0; it < ntx; ++it)
            out << YAML::Flow << YAML::BeginMap << YAML::Key << "i0" << YAML::Value << it * S
                << YAML::Key << "imax" << YAML::Value << it * S + N << YAML::Key << "j0"
                << YAML::Value << ny - (jt * S + N) << YAML::Key << "jmax" << YAML::Value
                << ny - jt * S << YAML::Key << "tile_id" << YAML::Value << jt * ntx + it
                << YAML::EndMap;
        out << YAML::EndSeq;
      }
      out << YAML::EndMap;
      write_text_atomically(db, std::string(out.c_str()) + "\n");
    });
  }

  // ---- flow (spec 8.5): trajectories per day, group g on rank g mod P -----------------------
  void flow(const ProductRef& ref) {
    FR_REQUIRE(!ref.is_aux(), "tiles flow tracks the primary product's images; drop --aux-name ",
               ref.aux_name);
    const auto refs = scene_ids();
    all_ranks_agree(comm_, [&] {
      FR_REQUIRE(
          !refs.empty(), "tiles flow: no scenes in ", scene_db_path(meta_),
          opt_.scene_filter.empty() ? "" : " match --scene-filter '" + opt_.scene_filter + "'");
    });
    std::vector<FlowScene> scenes;
    std::map<std::string, Work> work;
    for (const auto& r : refs) {
      scenes.push_back({r.scene_id, r.time, rect_path(meta_, ref, r.scene_id, "png"),
                        rect_path(meta_, ref, r.scene_id, "nc")});
      work[r.scene_id] = {r.scene_id, r};
    }
    const auto groups = flow_groups(scenes);
    summary_.written = summary_.skipped = 0;  // a scene database made above is an input here
    const int rank = mpi::rank(comm_), size = mpi::size(comm_);
    Progress progress("tiles: flow", static_cast<std::int64_t>(groups.size()), "groups");
    all_ranks_agree(comm_, [&] {
      for (size_t g = static_cast<size_t>(rank); g < groups.size();
           g += static_cast<size_t>(size)) {
        if (flow_group_complete(meta_.data_path, groups[g].prefix, opt_.flow.frames,
                                opt_.flow.field_step > 0)) {
          ++summary_.skipped;
        } else {
          // Regridded scenes made here count as inputs, not as this task's outputs.
          const auto written = summary_.written, skipped = summary_.skipped;
          for (const auto& s : groups[g].scenes) regridded(ref, work.at(s.scene_id));
          summary_.written = written;
          summary_.skipped = skipped;
          auto t = timers_.scope("flow");
          const auto st = run_flow_group(meta_.data_path, groups[g], opt_.flow);
          summary_.pairs += st.pairs;
          summary_.points_tracked += st.points_tracked;
          summary_.track_seconds += st.track_seconds;
          ++summary_.written;
        }
        progress.advance(size);
      }
    });
    progress.finish();
    summary_.groups = static_cast<std::int64_t>(groups.size());
    summary_.scenes = static_cast<std::int64_t>(scenes.size());
  }

  // ---- shared ---------------------------------------------------------------------------------
  void each_scene(const std::vector<Work>& work, const std::string& unit,
                  const std::function<void(const Work&)>& body) {
    const int rank = mpi::rank(comm_), size = mpi::size(comm_);
    Progress progress("tiles: " + summary_.task, static_cast<std::int64_t>(work.size()), unit);
    all_ranks_agree(comm_, [&] {
      for (size_t i = static_cast<size_t>(rank); i < work.size(); i += static_cast<size_t>(size)) {
        body(work[i]);
        progress.advance(size);
      }
    });
    progress.finish();
    summary_.scenes = static_cast<std::int64_t>(work.size());
  }

  std::vector<SceneRef> filtered(std::vector<SceneRef> scenes) const {
    if (opt_.scene_filter.empty()) return scenes;
    std::regex re;
    try {
      re = std::regex(opt_.scene_filter);
    } catch (const std::regex_error& e) {
      FR_FAIL("--scene-filter '", opt_.scene_filter, "' is not a regular expression: ", e.what());
    }
    std::vector<SceneRef> kept;
    for (auto& s : scenes)
      if (std::regex_search(s.scene_id, re, std::regex_constants::match_continuous))
        kept.push_back(s);
    return kept;
  }

  TaskSummary run(const std::string& task) {
    summary_.task = task;
    const double t0 = wall_seconds();
    const ProductRef ref =
        opt_.aux_name.empty() ? primary_product(meta_) : aux_product(meta_, opt_.aux_name);
    if (task == "GenerateSceneIDs") {
      summary_.scenes = static_cast<std::int64_t>(scene_ids().size());
    } else if (task == "CheckForAuxiliaryFiles") {
      FR_REQUIRE(ref.is_aux(), "CheckForAuxiliaryFiles needs --aux-name");
      summary_.scenes = static_cast<std::int64_t>(aux_scenes(ref).size());
    } else if (task == "GenerateCroppedScenes") {
      each_scene(work_for(ref), "scenes", [&](const Work& w) { cropped(ref, w, true); });
    } else if (task == "GenerateRegriddedScenes") {
      each_scene(work_for(ref), "scenes", [&](const Work& w) { regridded(ref, w); });
    } else if (task == "GenerateTiles") {
      if (opt_.tiles_kind == "triplets")
        triplets(ref);
      else
        sliding_window(ref);
    } else if (task == "flow") {
      flow(ref);
    } else {
      FR_FAIL("tiles: unknown task '", task, "'");
    }
    Kokkos::fence();
    summary_.seconds = wall_seconds() - t0;
    summary_.written = mpi::sum(summary_.written, comm_);
    summary_.skipped = mpi::sum(summary_.skipped, comm_);
    summary_.tiles = mpi::sum(summary_.tiles, comm_);
    summary_.megapixels = mpi::sum(summary_.megapixels, comm_);
    summary_.seconds = mpi::max(summary_.seconds, comm_);
    summary_.pairs = mpi::sum(summary_.pairs, comm_);
    summary_.points_tracked = mpi::sum(summary_.points_tracked, comm_);
    summary_.track_seconds = mpi::sum(summary_.track_seconds, comm_);
    for (const char* name : {"synthetic_les", "read_and_crop", "regrid", "write", "write_png",
                             "write_nc", "write_yml", "flow"})
      timers_.add(name, 0);
    timers_.report(comm_, "tiles " + task);
    return summary_;
  }

 private:
  const Meta& meta_;
  TaskOptions opt_;
  MPI_Comm comm_;
  TaskSummary summary_;
  Timers timers_;
};

}  // namespace

int sliding_window_count(int pixels, int tile_N, int step) {
  return pixels >= tile_N ? (pixels - tile_N) / step + 1 : 0;
}

const std::vector<std::string>& task_names() {
  static const std::vector<std::string> names = {"GenerateSceneIDs",      "CheckForAuxiliaryFiles",
                                                 "GenerateCroppedScenes", "GenerateRegriddedScenes",
                                                 "GenerateTiles",         "flow"};
  return names;
}

TaskSummary run_task(const std::string& task, const Meta& meta, const TaskOptions& options,
                     MPI_Comm comm) {
  FR_REQUIRE(options.tiles_kind == "triplets" || options.tiles_kind == "rect-slidingwindow",
             "--tiles-kind '", options.tiles_kind, "' is not one of triplets, rect-slidingwindow");
  Runner runner(meta, options, comm);
  return runner.run(task);
}

}  // namespace fluxrecon::tiles
