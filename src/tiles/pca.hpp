// PCA of sliding-window embeddings (spec 8.4, scikit-learn's PCA without
// whitening): mergeable moments of the window vectors, the fit (eigen-
// decomposition of their covariance with LAPACK's dsyev), the model file, the
// transform of one scene's embeddings and its RGB map.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tiles/embedding_file.hpp"

namespace fluxrecon::tiles {

// Count, mean and centred co-moment matrix of a set of `dims`-vectors; two
// sets merge into the moments of their union (kernels::merge_pca_moments).
struct PcaMoments {
  std::int64_t count = 0;
  int dims = 0;
  std::vector<double> mean;      // [dims]
  std::vector<double> comoment;  // [dims][dims], sum of (v - mean)(v - mean)^T
};
// The moments of one scene's windows (every window one sample of grid.dims values).
PcaMoments scene_moments(const EmbeddingGrid& grid);
// `into` becomes the moments of both sets; `what` names `other` in errors.
void merge_moments(PcaMoments& into, const PcaMoments& other, const std::string& what);

struct PcaModel {
  int dims = 0;
  std::int64_t n_samples = 0;
  std::vector<double> mean;                      // [dims]
  std::vector<double> components;                // [n_components][dims], unit rows
  std::vector<double> explained_variance;        // [n_components], covariance eigenvalues
  std::vector<double> explained_variance_ratio;  // [n_components], of the total variance
  int n_components() const { return static_cast<int>(explained_variance.size()); }
};

// Eigen-decomposition of the symmetric n x n `matrix` (row-major): values in
// decreasing order, vectors[k][i] the k-th unit eigenvector (LAPACK dsyev).
void symmetric_eigen(const std::vector<double>& matrix, int n, std::vector<double>& values,
                     std::vector<double>& vectors);

// Fits from the moments of every sample: components sorted by decreasing
// variance, each with its largest coefficient positive; `n_components` 0 =
// min(samples, dims), as scikit-learn. Errors name `what` (the input).
PcaModel fit_pca(const PcaMoments& moments, int n_components, const std::string& what);

// The model file (netCDF, CDF-5): mean(dim), components(component, dim),
// explained_variance(component), explained_variance_ratio(component); global
// attributes transform_type = pca, n_samples, dims. Written atomically (one rank).
void write_pca_model(const std::string& path, const PcaModel& model);
PcaModel read_pca_model(const std::string& path);

// The transform of one scene's embeddings: `pca_dim` components, the window
// coordinates carried over, explained_variance = the ratios, attributes
// transform_type = pca and transform_model = `model_path`. A dims mismatch
// is an error naming `input_path` and `model_path`.
EmbeddingGrid apply_pca(const PcaModel& model, const EmbeddingGrid& input,
                        const std::string& input_path, const std::string& model_path);

// RGB image (top row north, 3 bytes a pixel) of the first three components,
// each min-max scaled over the scene (convml_tt's make_rgb); a missing
// component (fewer than 3) is black.
std::vector<std::uint8_t> pca_rgb(const EmbeddingGrid& transformed);

}  // namespace fluxrecon::tiles
