#include "tiles/pca.hpp"

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <cmath>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "io/grid_file.hpp"
#include "io/nc_writer.hpp"
#include "kernels/tiles_pca.hpp"

// LAPACK (OpenBLAS ships it; Debian installs no LAPACKE header): the Fortran
// symbol, with the hidden lengths of the two character arguments.
extern "C" void dsyev_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda,
                       double* w, double* work, const int* lwork, int* info, std::size_t jobz_len,
                       std::size_t uplo_len);

namespace fluxrecon::tiles {
namespace {

using Exec = Kokkos::DefaultExecutionSpace;
using Mem = Exec::memory_space;
template <class T>
using HostView = Kokkos::View<T*, Kokkos::HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>>;

template <class T>
Kokkos::View<T*, Mem> to_device(const std::vector<T>& v, const char* label) {
  Kokkos::View<T*, Mem> d(std::string(label), v.size());
  Kokkos::deep_copy(d, HostView<const T>(v.data(), v.size()));
  return d;
}

template <class T>
void to_host(const Kokkos::View<T*, Mem>& d, std::vector<T>& v) {
  v.resize(d.extent(0));
  Kokkos::deep_copy(HostView<T>(v.data(), v.size()), d);
}

std::int64_t windows_of(const EmbeddingGrid& g) {
  return static_cast<std::int64_t>(g.x.size()) * static_cast<std::int64_t>(g.y.size());
}

}  // namespace

PcaMoments scene_moments(const EmbeddingGrid& grid) {
  PcaMoments m;
  m.dims = grid.dims;
  m.count = windows_of(grid);
  FR_REQUIRE(grid.values.size() == static_cast<size_t>(m.count) * grid.dims, "scene ",
             grid.scene_id, ": ", grid.values.size(), " values for ", m.count, " windows of ",
             grid.dims, " dims");
  if (m.count == 0) {
    m.mean.assign(grid.dims, 0.0);
    m.comoment.assign(static_cast<size_t>(grid.dims) * grid.dims, 0.0);
    return m;
  }
  auto values = to_device(grid.values, "pca_values");
  Kokkos::View<double*, Mem> mean("pca_mean", grid.dims),
      comoment("pca_comoment", static_cast<size_t>(grid.dims) * grid.dims);
  Kokkos::parallel_for("tiles::pca_scene_mean", Kokkos::RangePolicy<Exec>(0, grid.dims),
                       kernels::PcaSceneMean{values.data(), m.count, mean.data()});
  Kokkos::parallel_for(
      "tiles::pca_scene_comoment",
      Kokkos::RangePolicy<Exec, Kokkos::IndexType<std::int64_t>>(
          0, static_cast<std::int64_t>(grid.dims) * grid.dims),
      kernels::PcaSceneComoment{values.data(), mean.data(), m.count, grid.dims, comoment.data()});
  to_host(mean, m.mean);
  to_host(comoment, m.comoment);
  return m;
}

void merge_moments(PcaMoments& into, const PcaMoments& other, const std::string& what) {
  if (into.count == 0 && into.mean.empty()) {
    into = other;
    return;
  }
  FR_REQUIRE(other.dims == into.dims, what, " has embeddings of ", other.dims,
             " dims, the files before it ", into.dims,
             "; all inputs of one PCA need the same dims");
  kernels::merge_pca_moments(into.count, into.mean.data(), into.comoment.data(), other.count,
                             other.mean.data(), other.comoment.data(), into.dims);
}

void symmetric_eigen(const std::vector<double>& matrix, int n, std::vector<double>& values,
                     std::vector<double>& vectors) {
  FR_REQUIRE(n > 0 && matrix.size() == static_cast<size_t>(n) * n, "symmetric_eigen: a matrix of ",
             matrix.size(), " values is not ", n, " x ", n);
  std::vector<double> a = matrix;  // symmetric: row-major = column-major
  std::vector<double> w(n);
  int info = 0, lwork = -1;
  double query = 0;
  dsyev_("V", "U", &n, a.data(), &n, w.data(), &query, &lwork, &info, 1, 1);
  FR_REQUIRE(info == 0, "LAPACK dsyev workspace query failed (info ", info, ")");
  lwork = std::max(1, static_cast<int>(query));
  std::vector<double> work(static_cast<size_t>(lwork));
  dsyev_("V", "U", &n, a.data(), &n, w.data(), work.data(), &lwork, &info, 1, 1);
  FR_REQUIRE(info == 0, "LAPACK dsyev failed on a ", n, " x ", n, " covariance (info ", info,
             info > 0 ? ": no convergence" : ": bad argument", ")");
  // dsyev: ascending values, eigenvector j in column j (column-major: a[j * n + i]).
  values.resize(n);
  vectors.resize(static_cast<size_t>(n) * n);
  for (int k = 0; k < n; ++k) {
    const int j = n - 1 - k;
    values[k] = w[j];
    for (int i = 0; i < n; ++i)
      vectors[static_cast<size_t>(k) * n + i] = a[static_cast<size_t>(j) * n + i];
  }
}

PcaModel fit_pca(const PcaMoments& moments, int n_components, const std::string& what) {
  const int d = moments.dims;
  FR_REQUIRE(moments.count >= 2, what, ": PCA needs at least 2 windows, found ", moments.count);
  const std::int64_t most = std::min<std::int64_t>(moments.count, d);
  FR_REQUIRE(n_components >= 0 && n_components <= most, what, ": --n-components ", n_components,
             " must be between 1 and min(windows, dims) = min(", moments.count, ", ", d,
             ") = ", most);
  const int k = n_components > 0 ? n_components : static_cast<int>(most);
  std::vector<double> covariance(moments.comoment.size());
  for (size_t i = 0; i < covariance.size(); ++i)
    covariance[i] = moments.comoment[i] / static_cast<double>(moments.count - 1);
  std::vector<double> values, vectors;
  symmetric_eigen(covariance, d, values, vectors);
  double total = 0;
  for (auto& v : values) {
    v = std::max(v, 0.0);  // a rounding-negative eigenvalue of a singular covariance
    total += v;
  }
  PcaModel m;
  m.dims = d;
  m.n_samples = moments.count;
  m.mean = moments.mean;
  m.components.assign(vectors.begin(), vectors.begin() + static_cast<std::ptrdiff_t>(k) * d);
  kernels::fix_pca_signs(m.components.data(), k, d);
  for (int c = 0; c < k; ++c) {
    m.explained_variance.push_back(values[c]);
    m.explained_variance_ratio.push_back(total > 0 ? values[c] / total : 0.0);
  }
  return m;
}

void write_pca_model(const std::string& path, const PcaModel& m) {
  const std::int64_t d = m.dims, k = m.n_components();
  FR_REQUIRE(d > 0 && k > 0 && m.mean.size() == size_t(d) && m.components.size() == size_t(k * d) &&
                 m.explained_variance_ratio.size() == size_t(k),
             path, ": inconsistent PCA model (", d, " dims, ", k, " components)");
  AtomicOutput out(path, MPI_COMM_SELF);
  io::NcWriter w(out.temp_path(), MPI_COMM_SELF, io::WriteFormat::cdf5);
  w.define_dimension("dim", d);
  w.define_dimension("component", k);
  w.define_variable("mean", io::NcType::float64, {"dim"});
  w.define_variable("components", io::NcType::float64, {"component", "dim"});
  w.define_variable("explained_variance", io::NcType::float64, {"component"});
  w.define_variable("explained_variance_ratio", io::NcType::float64, {"component"});
  w.put_attribute("", "transform_type", "pca");
  w.put_attribute("", "n_samples", io::NcType::float64, {static_cast<double>(m.n_samples)});
  w.put_attribute("", "dims", io::NcType::int32, {static_cast<double>(d)});
  w.end_definitions();
  w.write("mean", {0}, {d}, m.mean.data());
  w.write("components", {0, 0}, {k, d}, m.components.data());
  w.write("explained_variance", {0}, {k}, m.explained_variance.data());
  w.write("explained_variance_ratio", {0}, {k}, m.explained_variance_ratio.data());
  w.close();
  out.commit();
}

PcaModel read_pca_model(const std::string& path) {
  auto f = io::GridFile::open(path, MPI_COMM_SELF);
  const auto type = f->text_attribute("", "transform_type");
  FR_REQUIRE(type && *type == "pca", path,
             ": not a PCA model file (global attribute "
             "transform_type is ",
             type ? "'" + *type + "'" : "missing", ", expected 'pca')");
  for (const char* v : {"mean", "components", "explained_variance", "explained_variance_ratio"})
    FR_REQUIRE(f->has_variable(v), path, ": PCA model variable '", v, "' is missing");
  FR_REQUIRE(f->has_dimension("dim") && f->has_dimension("component"), path,
             ": PCA model without the dimensions dim and component");
  const auto n = f->number_attribute("", "n_samples");
  FR_REQUIRE(n.has_value(), path, ": global attribute n_samples is missing");
  PcaModel m;
  m.dims = static_cast<int>(f->dimension_length("dim"));
  const std::int64_t d = m.dims, k = f->dimension_length("component");
  m.n_samples = static_cast<std::int64_t>(*n);
  FR_REQUIRE(f->variable("components").shape == std::vector<std::int64_t>({k, d}) &&
                 f->variable("mean").shape == std::vector<std::int64_t>({d}),
             path, ": PCA model variables of unexpected shapes");
  m.mean.resize(d);
  m.components.resize(k * d);
  m.explained_variance.resize(k);
  m.explained_variance_ratio.resize(k);
  f->read("mean", {0}, {d}, m.mean.data());
  f->read("components", {0, 0}, {k, d}, m.components.data());
  f->read("explained_variance", {0}, {k}, m.explained_variance.data());
  f->read("explained_variance_ratio", {0}, {k}, m.explained_variance_ratio.data());
  return m;
}

EmbeddingGrid apply_pca(const PcaModel& model, const EmbeddingGrid& input,
                        const std::string& input_path, const std::string& model_path) {
  FR_REQUIRE(input.dims == model.dims, input_path, " has embeddings of ", input.dims,
             " dims but the PCA model ", model_path, " was fitted on ", model.dims, " dims");
  EmbeddingGrid out;
  out.scene_id = input.scene_id;
  out.dim_name = "pca_dim";
  out.dims = model.n_components();
  out.x = input.x;
  out.y = input.y;
  out.i0 = input.i0;
  out.j0 = input.j0;
  out.lat = input.lat;
  out.lon = input.lon;
  out.explained_variance = model.explained_variance_ratio;
  out.attributes = input.attributes;
  out.attributes["transform_type"] = "pca";
  out.attributes["transform_model"] = model_path;
  out.attributes["transform_input"] = input_path;
  const std::int64_t samples = windows_of(input);
  out.values.assign(static_cast<size_t>(out.dims * samples), 0.0f);
  if (samples == 0) return out;
  auto values = to_device(input.values, "pca_values");
  auto mean = to_device(model.mean, "pca_mean");
  auto components = to_device(model.components, "pca_components");
  Kokkos::View<float*, Mem> projected("pca_projected", out.values.size());
  Kokkos::parallel_for("tiles::pca_project",
                       Kokkos::RangePolicy<Exec, Kokkos::IndexType<std::int64_t>>(
                           0, static_cast<std::int64_t>(out.values.size())),
                       kernels::PcaProject{values.data(), mean.data(), components.data(), samples,
                                           model.dims, projected.data()});
  to_host(projected, out.values);
  return out;
}

std::vector<std::uint8_t> pca_rgb(const EmbeddingGrid& g) {
  const size_t nx = g.x.size(), ny = g.y.size(), n = nx * ny;
  std::vector<std::uint8_t> rgb(n * 3, 0);
  // Row 0 of the image is north: the largest y first.
  const bool y_ascending = ny > 1 && g.y.front() < g.y.back();
  for (int c = 0; c < std::min(3, g.dims); ++c) {
    const float* plane = g.values.data() + c * n;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; ++i)
      if (std::isfinite(plane[i])) {
        lo = std::min<double>(lo, plane[i]);
        hi = std::max<double>(hi, plane[i]);
      }
    const double range = hi > lo ? hi - lo : 1.0;
    for (size_t row = 0; row < ny; ++row) {
      const size_t j = y_ascending ? ny - 1 - row : row;
      for (size_t i = 0; i < nx; ++i) {
        const float v = plane[j * nx + i];
        if (!std::isfinite(v)) continue;
        const double s = std::clamp((v - lo) / range, 0.0, 1.0);
        rgb[(row * nx + i) * 3 + c] = static_cast<std::uint8_t>(std::lround(s * 255.0));
      }
    }
  }
  return rgb;
}

}  // namespace fluxrecon::tiles
