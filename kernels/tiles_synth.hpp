// Synthetic LES-like cloud fields: a Gaussian random field made of random
// Fourier modes whose amplitudes follow an isotropic spectrum E(k) ~ k^-beta,
// advected by a uniform wind and slowly evolving, normalised to unit variance
// and turned into a cloud amount by a soft threshold (cloud fraction).
#pragma once

#include <Kokkos_Core.hpp>
#include <cmath>

#include "kernels/tiles_goes_nav.hpp"

namespace fluxrecon::kernels {

template <class Mem>
struct SynthCloudAmount {
  Kokkos::View<const double*, Mem> kx, ky, amplitude, phase, omega;  // one entry per mode
  Kokkos::View<const double*, Mem> xs, ys;                           // cell positions (m)
  double time_s = 0, u = 0, v = 0;
  double inv_sigma = 1, threshold = 0, width = 0.5;
  Kokkos::View<float*, Mem> cloud;  // [y][x]

  KOKKOS_INLINE_FUNCTION void operator()(const int k) const {
    const int nx = static_cast<int>(xs.extent(0));
    const double x = xs(k % nx) - u * time_s, y = ys(k / nx) - v * time_s;
    double g = 0;
    const int modes = static_cast<int>(kx.extent(0));
    for (int m = 0; m < modes; ++m)
      g += amplitude(m) * tmath::cos(kx(m) * x + ky(m) * y + phase(m) + omega(m) * time_s);
    double c = (g * inv_sigma - threshold) / width;
    c = c < 0 ? 0 : (c > 1 ? 1 : c);
    cloud(k) = static_cast<float>(c);
  }
};

}  // namespace fluxrecon::kernels
