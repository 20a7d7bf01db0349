#include "tiles/transform.hpp"

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <filesystem>
#include <regex>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_util.hpp"
#include "core/progress.hpp"
#include "core/timer.hpp"
#include "io/grid_file.hpp"
#include "tiles/embedding_file.hpp"
#include "tiles/pca.hpp"
#include "tiles/png.hpp"

namespace fluxrecon::tiles {
namespace fs = std::filesystem;

namespace {

struct Input {
  std::string scene_id, path, out_nc, out_png;
};

std::string input_suffix(int step) { return concat(".embeddings.", step, "_step.nc"); }

int step_of(const Meta& meta, const TransformOptions& opt) {
  const int step = opt.step_size > 0 ? opt.step_size : meta.sliding.step_size;
  FR_REQUIRE(step > 0,
             "tiles transform: no step size: give --step-size or set "
             "sampling.rect-slidingwindow.step_size in ",
             meta.meta_path);
  return step;
}

// "__n_components_K" when K was given (the seed's `<transform>_transform__k_v` names).
std::string transform_suffix(const TransformOptions& opt) {
  return ".pca_transform" +
         (opt.n_components > 0 ? concat("__n_components_", opt.n_components) : std::string());
}

void check_options(const Meta& meta, const TransformOptions& opt) {
  const auto& types = transform_types();
  std::string known;
  for (const auto& t : types) known += (known.empty() ? "" : ", ") + t;
  FR_REQUIRE(!opt.transform_type.empty(), "tiles transform: give --transform-type (", known, ")");
  FR_REQUIRE(std::find(types.begin(), types.end(), opt.transform_type) != types.end(),
             "tiles transform: unknown --transform-type '", opt.transform_type, "' (known: ", known,
             ")");
  FR_REQUIRE(opt.model.empty() != opt.embeddings_dir.empty(),
             "tiles transform: give either --model (the embedding model, whose name picks "
             "embeddings/rect/<model_name>/) or --embeddings DIR, not ",
             opt.model.empty() ? "neither" : "both");
  FR_REQUIRE(opt.n_components >= 0, "tiles transform: --n-components ", opt.n_components,
             " must be positive");
  step_of(meta, opt);
  if (!opt.pretrained_model.empty())
    FR_REQUIRE(fs::is_regular_file(opt.pretrained_model),
               "tiles transform: --pretrained-transform-model ", opt.pretrained_model,
               " does not exist");
}

// Rank 0 lists the folder; every rank gets the same list.
std::vector<Input> list_inputs(const Meta& meta, const TransformOptions& opt, MPI_Comm comm) {
  std::string listing;
  all_ranks_agree(comm, [&] {
    check_options(meta, opt);
    if (mpi::rank(comm) != 0) return;
    const std::string dir = embeddings_folder(meta, opt), suffix = input_suffix(step_of(meta, opt));
    FR_REQUIRE(fs::is_directory(dir), "tiles transform: the embeddings folder ", dir,
               " does not exist (run `fluxrecon tiles embed` first, or give --embeddings DIR)");
    std::regex filter;
    try {
      filter = std::regex(opt.scene_filter);
    } catch (const std::regex_error& e) {
      FR_FAIL("--scene-filter '", opt.scene_filter, "' is not a regular expression: ", e.what());
    }
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) {
      const std::string name = e.path().filename().string();
      if (!e.is_regular_file() || name.empty() || name[0] == '.' || name.size() <= suffix.size() ||
          name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
        continue;
      const std::string id = name.substr(0, name.size() - suffix.size());
      if (opt.scene_filter.empty() ||
          std::regex_search(id, filter, std::regex_constants::match_continuous))
        names.push_back(name);
    }
    FR_REQUIRE(
        !names.empty(), "tiles transform: no embedding files *", suffix, " in ", dir,
        opt.scene_filter.empty() ? "" : " matching --scene-filter '" + opt.scene_filter + "'",
        " (run `fluxrecon tiles embed` with this --step-size first)");
    std::sort(names.begin(), names.end());
    for (const auto& n : names) listing += dir + "/" + n + "\n";
  });
  listing = mpi::broadcast(listing, 0, comm);
  const std::string suffix = input_suffix(step_of(meta, opt)), out = transform_suffix(opt);
  std::vector<Input> inputs;
  for (size_t pos = 0, end; (end = listing.find('\n', pos)) != std::string::npos; pos = end + 1) {
    Input in;
    in.path = listing.substr(pos, end - pos);
    const std::string name = fs::path(in.path).filename().string();
    in.scene_id = name.substr(0, name.size() - suffix.size());
    const std::string stem = in.path.substr(0, in.path.size() - 3);  // without ".nc"
    in.out_nc = stem + out + ".nc";
    in.out_png = stem + out + ".png";
    inputs.push_back(in);
  }
  return inputs;
}

// Model <-> doubles, for the broadcast from rank 0.
std::vector<double> pack(const PcaModel& m) {
  std::vector<double> b = {double(m.dims), double(m.n_components()), double(m.n_samples)};
  for (const auto* v : {&m.mean, &m.components, &m.explained_variance, &m.explained_variance_ratio})
    b.insert(b.end(), v->begin(), v->end());
  return b;
}

PcaModel unpack(const std::vector<double>& b) {
  PcaModel m;
  m.dims = static_cast<int>(b[0]);
  const size_t d = static_cast<size_t>(b[0]), k = static_cast<size_t>(b[1]);
  m.n_samples = static_cast<std::int64_t>(b[2]);
  auto it = b.begin() + 3;
  auto take = [&](std::vector<double>& v, size_t n) {
    v.assign(it, it + static_cast<std::ptrdiff_t>(n));
    it += static_cast<std::ptrdiff_t>(n);
  };
  take(m.mean, d);
  take(m.components, k * d);
  take(m.explained_variance, k);
  take(m.explained_variance_ratio, k);
  return m;
}

PcaModel broadcast_model(const PcaModel& m, MPI_Comm comm) {
  std::vector<double> b = mpi::rank(comm) == 0 ? pack(m) : std::vector<double>();
  long long n = static_cast<long long>(b.size());
  MPI_Bcast(&n, 1, MPI_LONG_LONG, 0, comm);
  b.resize(static_cast<size_t>(n));
  MPI_Bcast(b.data(), static_cast<int>(n), MPI_DOUBLE, 0, comm);
  return unpack(b);
}

class Transformer {
 public:
  Transformer(const Meta& meta, const TransformOptions& opt, MPI_Comm comm)
      : meta_(meta), opt_(opt), comm_(comm), rank_(mpi::rank(comm)), size_(mpi::size(comm)) {}

  TransformSummary run() {
    const double t0 = wall_seconds();
    inputs_ = list_inputs(meta_, opt_, comm_);
    summary_.scenes = static_cast<std::int64_t>(inputs_.size());
    const bool pretrained = !opt_.pretrained_model.empty();
    const std::string model_path =
        pretrained ? opt_.pretrained_model
                   : concat(embeddings_folder(meta_, opt_), "/", transform_suffix(opt_).substr(1),
                            ".", step_of(meta_, opt_), "_step.model.nc");
    summary_.model_path = model_path;
    // A fitted model that is not complete makes every output stale.
    const bool have_model = pretrained || output_complete(model_path, comm_);
    std::int64_t pending = 0;
    all_ranks_agree(comm_, [&] {
      for (size_t i = mine(0); i < inputs_.size(); i += size_) {
        done_.push_back(have_model && complete(inputs_[i], model_path));
        pending += done_.back() ? 0 : 1;
        summary_.skipped += done_.back() ? 1 : 0;
      }
    });
    pending = mpi::sum(pending, comm_);
    PcaModel model;
    if (pending > 0) {
      const double tf = wall_seconds();
      if (have_model) {
        all_ranks_agree(comm_, [&] {
          if (rank_ == 0) model = read_pca_model(model_path);
        });
      } else {
        model = fit(model_path);
        summary_.fitted = true;
      }
      model = broadcast_model(model, comm_);
      summary_.fit_seconds = mpi::max(wall_seconds() - tf, comm_);
      summary_.dims = model.dims;
      summary_.components = model.n_components();
      const double ta = wall_seconds();
      apply(model, model_path);
      summary_.apply_seconds = mpi::max(wall_seconds() - ta, comm_);
    }
    summary_.written = mpi::sum(summary_.written, comm_);
    summary_.skipped = mpi::sum(summary_.skipped, comm_);
    summary_.windows = mpi::sum(summary_.windows, comm_);
    summary_.seconds = mpi::max(wall_seconds() - t0, comm_);
    for (const char* name : {"read", "moments", "fit", "project", "write_nc", "write_png"})
      timers_.add(name, 0);
    timers_.report(comm_, "tiles transform");
    return summary_;
  }

 private:
  size_t mine(size_t base) const { return base + static_cast<size_t>(rank_); }

  // Both outputs complete and made with this model.
  static bool complete(const Input& in, const std::string& model_path) {
    if (!output_complete(in.out_nc) || !output_complete(in.out_png)) return false;
    auto f = io::GridFile::open(in.out_nc, MPI_COMM_SELF);
    return f->text_attribute("", "transform_model").value_or("") == model_path;
  }

  // Per-scene moments merged on rank 0 in scene order, in rounds of one scene per rank.
  PcaModel fit(const std::string& model_path) {
    Progress progress("tiles transform: PCA moments", summary_.scenes, "scenes");
    PcaMoments total;
    int dims = -1;
    for (size_t base = 0; base < inputs_.size(); base += size_) {
      const size_t i = mine(base);
      PcaMoments local;
      all_ranks_agree(comm_, [&] {
        if (i >= inputs_.size()) return;
        EmbeddingGrid grid;
        {
          auto t = timers_.scope("read");
          grid = read_embedding_grid(inputs_[i].path);
        }
        auto t = timers_.scope("moments");
        local = scene_moments(grid);
      });
      std::vector<int> all_dims(static_cast<size_t>(size_));
      const int my_dims = i < inputs_.size() ? local.dims : -1;
      MPI_Allgather(&my_dims, 1, MPI_INT, all_dims.data(), 1, MPI_INT, comm_);
      all_ranks_agree(comm_, [&] {
        for (size_t q = 0; q < all_dims.size() && base + q < inputs_.size(); ++q) {
          if (dims < 0) dims = all_dims[q];
          FR_REQUIRE(all_dims[q] == dims, "tiles transform: ", inputs_[base + q].path, " has ",
                     all_dims[q], " embedding dims but ", inputs_[0].path, " has ", dims,
                     "; one PCA needs the same dims in every file");
        }
      });
      const size_t block = 1 + static_cast<size_t>(dims) * (1 + dims);
      std::vector<double> send(block, 0.0), recv(rank_ == 0 ? block * size_ : 0);
      if (i < inputs_.size()) {
        send[0] = static_cast<double>(local.count);
        std::copy(local.mean.begin(), local.mean.end(), send.begin() + 1);
        std::copy(local.comoment.begin(), local.comoment.end(), send.begin() + 1 + dims);
      }
      MPI_Gather(send.data(), static_cast<int>(block), MPI_DOUBLE, recv.data(),
                 static_cast<int>(block), MPI_DOUBLE, 0, comm_);
      if (rank_ == 0)
        for (size_t q = 0; q < static_cast<size_t>(size_) && base + q < inputs_.size(); ++q) {
          const double* b = recv.data() + q * block;
          PcaMoments m;
          m.dims = dims;
          m.count = static_cast<std::int64_t>(b[0]);
          m.mean.assign(b + 1, b + 1 + dims);
          m.comoment.assign(b + 1 + dims, b + block);
          merge_moments(total, m, inputs_[base + q].path);
        }
      progress.advance(size_);
    }
    progress.finish();
    PcaModel model;
    all_ranks_agree(comm_, [&] {
      if (rank_ != 0) return;
      auto t = timers_.scope("fit");
      model = fit_pca(total, opt_.n_components,
                      concat("tiles transform (", inputs_.size(), " embedding files in ",
                             embeddings_folder(meta_, opt_), ")"));
      write_pca_model(model_path, model);
      log::info(
          "tiles transform: PCA of ", model.n_samples, " windows x ", model.dims,
          " dims: the first components explain ",
          [&] {
            std::string s;
            for (int c = 0; c < std::min(3, model.n_components()); ++c)
              s += concat(c ? ", " : "", std::round(model.explained_variance_ratio[c] * 1e4) / 100,
                          " %");
            return s;
          }(),
          " of the variance; model ", model_path);
    });
    return model;
  }

  void apply(const PcaModel& model, const std::string& model_path) {
    Progress progress("tiles transform: apply", summary_.scenes, "scenes");
    all_ranks_agree(comm_, [&] {
      size_t k = 0;
      for (size_t i = mine(0); i < inputs_.size(); i += size_, ++k) {
        const Input& in = inputs_[i];
        if (!done_[k]) {
          EmbeddingGrid grid;
          {
            auto t = timers_.scope("read");
            grid = read_embedding_grid(in.path);
          }
          EmbeddingGrid out;
          {
            auto t = timers_.scope("project");
            out = apply_pca(model, grid, in.path, model_path);
            if (opt_.n_components > 0)  // the seed's `k=v,...` of the options given
              out.attributes["transform_extra_args"] = concat("n_components=", opt_.n_components);
          }
          {
            auto t = timers_.scope("write_nc");
            write_embedding_grid(in.out_nc, out);
          }
          {
            auto t = timers_.scope("write_png");
            write_png(in.out_png, static_cast<int>(out.x.size()), static_cast<int>(out.y.size()), 3,
                      pca_rgb(out));
          }
          ++summary_.written;
          summary_.windows += static_cast<std::int64_t>(out.x.size() * out.y.size());
        }
        progress.advance(size_);
      }
    });
    progress.finish();
  }

  const Meta& meta_;
  TransformOptions opt_;
  MPI_Comm comm_;
  int rank_, size_;
  std::vector<Input> inputs_;
  std::vector<bool> done_;  // per scene of this rank: outputs complete
  TransformSummary summary_;
  Timers timers_;
};

}  // namespace

const std::vector<std::string>& transform_types() {
  static const std::vector<std::string> types = {"pca"};
  return types;
}

std::string embeddings_folder(const Meta& meta, const TransformOptions& opt) {
  if (!opt.embeddings_dir.empty()) return opt.embeddings_dir;
  return concat(meta.data_path, "/embeddings/rect/", fs::path(opt.model).stem().string());
}

TransformSummary run_transform(const Meta& meta, const TransformOptions& options, MPI_Comm comm) {
  Transformer t(meta, options, comm);
  return t.run();
}

}  // namespace fluxrecon::tiles
