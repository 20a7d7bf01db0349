// Area-weighted moments of simulated (s) and reconstructed (r) flux, one
// partial per (month, grid row): weight, means, centred second moments and
// co-moment (weighted Welford updates along the row), and the error sums of
// e = r - s. The partials are combined later in a fixed row order, so the
// result does not depend on how rows were split over ranks.
// Pure computation: no I/O, no MPI; the pointers must be in the execution
// space's memory.
#pragma once

#include <Kokkos_Core.hpp>
#include <cstdint>

namespace fluxrecon::kernels {

// Layout of one partial (doubles).
enum MomentField : int {
  kMomWeight = 0,  // sum of w (cell area, m^2)
  kMomMeanS,       // weighted mean of s
  kMomMeanR,       // weighted mean of r
  kMomM2S,         // sum w (s - mean s)^2
  kMomM2R,         // sum w (r - mean r)^2
  kMomCSR,         // sum w (s - mean s)(r - mean r)
  kMomSumE,        // sum w e
  kMomSumE2,       // sum w e^2
  kMomSumAbsE,     // sum w |e|
  kMomCount,       // number of cells with both values
  kMomUnmatched,   // cells where exactly one of s, r is defined
  kMomFields
};

struct RowMonthMoments {
  const float* simulated;      // [month][row][x]; NaN = undefined
  const float* reconstructed;  // [month][row][x]
  const double* area;          // [row][x], m^2; <= 0 or NaN = not a cell
  int rows;
  int nx;
  double* partials;  // [month][row][kMomFields]

  KOKKOS_INLINE_FUNCTION void operator()(const std::int64_t item) const {
    const std::int64_t month = item / rows, row = item % rows;
    const float* s_row = simulated + (month * rows + row) * nx;
    const float* r_row = reconstructed + (month * rows + row) * nx;
    const double* a_row = area + row * nx;
    double w = 0, ms = 0, mr = 0, m2s = 0, m2r = 0, csr = 0, se = 0, se2 = 0, sae = 0;
    double count = 0, unmatched = 0;
    for (int x = 0; x < nx; ++x) {
      const double a = a_row[x];
      if (!(a > 0)) continue;  // also rejects NaN
      const float sf = s_row[x], rf = r_row[x];
      const bool s_ok = sf == sf, r_ok = rf == rf;  // not NaN
      if (s_ok != r_ok) unmatched += 1;
      if (!(s_ok && r_ok)) continue;
      const double s = sf, r = rf, e = r - s;
      const double w_new = w + a;
      const double ds = s - ms, dr = r - mr;
      ms += ds * (a / w_new);
      mr += dr * (a / w_new);
      m2s += a * ds * (s - ms);
      m2r += a * dr * (r - mr);
      csr += a * ds * (r - mr);
      w = w_new;
      se += a * e;
      se2 += a * e * e;
      sae += a * (e < 0 ? -e : e);
      count += 1;
    }
    double* out = partials + item * kMomFields;
    out[kMomWeight] = w;
    out[kMomMeanS] = ms;
    out[kMomMeanR] = mr;
    out[kMomM2S] = m2s;
    out[kMomM2R] = m2r;
    out[kMomCSR] = csr;
    out[kMomSumE] = se;
    out[kMomSumE2] = se2;
    out[kMomSumAbsE] = sae;
    out[kMomCount] = count;
    out[kMomUnmatched] = unmatched;
  }
};

}  // namespace fluxrecon::kernels
