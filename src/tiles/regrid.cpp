#include "tiles/regrid.hpp"

#include <Kokkos_Core.hpp>

#include "core/error.hpp"
#include "kernels/tiles_regrid.hpp"

namespace fluxrecon::tiles {
namespace {

using Exec = Kokkos::DefaultExecutionSpace;
using Mem = Exec::memory_space;

Kokkos::View<double*, Mem> to_device(const std::vector<double>& v, const char* label) {
  Kokkos::View<double*, Mem> d(std::string(label), v.size());
  Kokkos::View<const double*, Kokkos::HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>> h(
      v.data(), v.size());
  Kokkos::deep_copy(d, h);
  return d;
}

// Device views of the fractional indices of every grid cell.
void locate_device(const Scene& scene, const Grid& grid, Kokkos::View<double*, Mem>& fi,
                   Kokkos::View<double*, Mem>& fj) {
  const bool geo_grid = !grid.lat.empty();
  const bool xy_scene = scene.axes.kind == kernels::source_xy;
  FR_REQUIRE(geo_grid != xy_scene, "scene ", scene.scene_id, ": ",
             xy_scene ? "the source is on x/y metres without latitude/longitude, so it can only be "
                        "regridded onto its own domain (domain kind as_source)"
                      : "a geolocated source needs a geolocated (local) domain");
  const size_t n = static_cast<size_t>(grid.nx) * grid.ny;
  std::vector<double> a(n), b(n);
  for (int j = 0; j < grid.ny; ++j)
    for (int i = 0; i < grid.nx; ++i) {
      const size_t k = static_cast<size_t>(j) * grid.nx + i;
      a[k] = geo_grid ? grid.lat[k] : grid.x[i];
      b[k] = geo_grid ? grid.lon[k] : grid.y[j];
    }
  auto da = to_device(a, "regrid_a"), db = to_device(b, "regrid_b");
  fi = Kokkos::View<double*, Mem>("regrid_fi", n);
  fj = Kokkos::View<double*, Mem>("regrid_fj", n);
  Kokkos::parallel_for("tiles::locate_in_source", Kokkos::RangePolicy<Exec>(0, static_cast<int>(n)),
                       kernels::LocateInSource<Mem>{scene.axes, da, db, fi, fj});
}

}  // namespace

void locate(const Scene& scene, const Grid& grid, std::vector<double>& fi,
            std::vector<double>& fj) {
  Kokkos::View<double*, Mem> dfi, dfj;
  locate_device(scene, grid, dfi, dfj);
  fi.resize(dfi.extent(0));
  fj.resize(dfj.extent(0));
  Kokkos::deep_copy(
      Kokkos::View<double*, Kokkos::HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>>(fi.data(),
                                                                                        fi.size()),
      dfi);
  Kokkos::deep_copy(
      Kokkos::View<double*, Kokkos::HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>>(fj.data(),
                                                                                        fj.size()),
      dfj);
}

std::vector<float> regrid(const Scene& scene, const Grid& grid, Method method) {
  Kokkos::View<double*, Mem> fi, fj;
  locate_device(scene, grid, fi, fj);
  const int nc = scene.nc(), ny = static_cast<int>(scene.y.size()),
            nx = static_cast<int>(scene.x.size());
  FR_REQUIRE(scene.values.size() == static_cast<size_t>(nc) * ny * nx, "scene ", scene.scene_id,
             ": holds ", scene.values.size(), " values, expected ", nc, " x ", ny, " x ", nx);
  Kokkos::View<float***, Kokkos::LayoutRight, Mem> src("regrid_src", nc, ny, nx);
  Kokkos::deep_copy(
      src, Kokkos::View<const float***, Kokkos::LayoutRight, Kokkos::HostSpace,
                        Kokkos::MemoryTraits<Kokkos::Unmanaged>>(scene.values.data(), nc, ny, nx));
  const int n = grid.nx * grid.ny;
  Kokkos::View<float**, Kokkos::LayoutRight, Mem> out("regrid_out", nc, n);
  if (method == Method::bilinear)
    Kokkos::parallel_for("tiles::bilinear", Kokkos::RangePolicy<Exec>(0, n),
                         kernels::BilinearSample<Mem>{src, fi, fj, out});
  else
    Kokkos::parallel_for("tiles::nearest", Kokkos::RangePolicy<Exec>(0, n),
                         kernels::NearestSample<Mem>{src, fi, fj, out});
  std::vector<float> values(static_cast<size_t>(nc) * n);
  Kokkos::deep_copy(Kokkos::View<float**, Kokkos::LayoutRight, Kokkos::HostSpace,
                                 Kokkos::MemoryTraits<Kokkos::Unmanaged>>(values.data(), nc, n),
                    out);
  return values;
}

}  // namespace fluxrecon::tiles
