#include "models/model_file.hpp"

#include <hdf5.h>

#include <cstring>
#include <filesystem>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "data/features.hpp"
#include "io/hdf5_attributes.hpp"
#include "models/network.hpp"

namespace fluxrecon::models {
using json = nlohmann::json;
namespace {

void check(herr_t status, const std::string& path, const std::string& what) {
  FR_REQUIRE(status >= 0, "HDF5 failed to ", what, " in model file '", path, "'");
}

std::string read_model_attribute(hid_t file, const char* name, const std::string& path) {
  const auto value = io::find_string_attribute(file, name, path);
  FR_REQUIRE(value.has_value(), "'", path, "' is not a fluxrecon model file (no '", name,
             "' attribute)");
  return *value;
}

void write_array(hid_t group, const std::string& name, const std::vector<std::size_t>& shape,
                 const float* values, const std::string& path) {
  std::vector<hsize_t> dims(shape.begin(), shape.end());
  // A 0-d tensor (BatchNorm's num_batches_tracked) is a scalar dataspace.
  hid_t space = dims.empty()
                    ? H5Screate(H5S_SCALAR)
                    : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
  hid_t set =
      H5Dcreate2(group, name.c_str(), H5T_IEEE_F32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  check(set, path, "create dataset " + name);
  check(H5Dwrite(set, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values), path,
        "write " + name);
  H5Dclose(set);
  H5Sclose(space);
}

struct Collected {
  std::vector<std::pair<std::string, Tensor>> sets;
};

herr_t collect(hid_t group, const char* name, const H5L_info_t*, void* data) {
  H5O_info_t info;
  if (H5Oget_info_by_name2(group, name, &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0) return -1;
  if (info.type != H5O_TYPE_DATASET) return 0;
  hid_t set = H5Dopen2(group, name, H5P_DEFAULT);
  hid_t space = H5Dget_space(set);
  const int nd = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(nd, 0)));
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  Tensor t;
  std::size_t count = 1;
  for (auto d : dims) {
    t.shape.push_back(static_cast<std::size_t>(d));
    count *= d;
  }
  t.values.resize(count);
  const herr_t status =
      count ? H5Dread(set, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.values.data()) : 0;
  H5Sclose(space);
  H5Dclose(set);
  if (status < 0) return -1;
  static_cast<Collected*>(data)->sets.emplace_back(name, std::move(t));
  return 0;
}

}  // namespace

json hyperparameters_json(const NetworkSpec& spec) {
  json h;
  switch (spec.kind) {
    case NetworkKind::mlp:
      h["hidden_dims"] = spec.hidden_dims;
      break;
    case NetworkKind::lstm:
    case NetworkKind::gru:
      h["hidden_dim"] = spec.hidden_dim;
      h["num_layers"] = spec.num_layers;
      break;
    case NetworkKind::attention_lstm:
      h["hidden_dim"] = spec.hidden_dim;
      break;
  }
  h["dropout"] = spec.dropout;
  return h;
}

json normalisation_json(const io::Normalisation& norm) {
  return {{"feature_mean", norm.feature_mean},
          {"feature_std", norm.feature_std},
          {"target_mean", norm.target_mean},
          {"target_std", norm.target_std}};
}

io::Normalisation model_normalisation(const json& metadata) {
  io::Normalisation n;
  const auto& j = metadata.at("normalisation");
  n.feature_mean = j.at("feature_mean").get<std::vector<double>>();
  n.feature_std = j.at("feature_std").get<std::vector<double>>();
  FR_REQUIRE(n.feature_std.size() == n.feature_mean.size() && !n.feature_mean.empty(),
             "model normalisation: ", n.feature_mean.size(), " feature means and ",
             n.feature_std.size(), " standard deviations");
  n.target_mean = j.at("target_mean").get<double>();
  n.target_std = j.at("target_std").get<double>();
  return n;
}

namespace {
// Attributes "checkpoint", "checkpoint.1", ... hold a checkpoint's JSON.
constexpr std::size_t kAttributePart = 60000;
std::string checkpoint_part_name(std::size_t part) {
  return part == 0 ? "checkpoint" : "checkpoint." + std::to_string(part);
}
}  // namespace

namespace {
// Builds the file in memory (HDF5's core driver) through `fill`, then writes
// it ourselves under a temporary name: HDF5 never meets a full disk, whose
// failed close would leave the file open inside HDF5 and crash its clean-up
// in MPI_Finalize; our writer names the path instead.
template <class Fill>
void write_hdf5_image(const std::string& path, Fill&& fill) {
  hid_t access = H5Pcreate(H5P_FILE_ACCESS);
  H5Pset_fapl_core(access, 1 << 20, /*backing_store=*/0);
  hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, access);
  H5Pclose(access);
  FR_REQUIRE(f >= 0, "cannot create model file '", path, "' in memory");
  std::string image;
  try {
    fill(f);
    check(H5Fflush(f, H5F_SCOPE_GLOBAL), path, "flush");
    const ssize_t size = H5Fget_file_image(f, nullptr, 0);
    check(size > 0 ? 0 : -1, path, "size the file image");
    image.resize(static_cast<std::size_t>(size));
    check(H5Fget_file_image(f, image.data(), image.size()) == size ? 0 : -1, path,
          "copy the file image");
  } catch (...) {
    H5Fclose(f);
    throw;
  }
  check(H5Fclose(f), path, "close");
  write_text_atomically(path, image);
}
}  // namespace

void write_model_file(const std::string& path, const ModelFile& file) {
  write_hdf5_image(path, [&](hid_t f) {
    json meta = file.metadata;
    meta["model"] = kind_name(file.spec.kind);
    meta["window"] = file.spec.window;
    io::write_string_attribute(f, "hyperparameters", hyperparameters_json(file.spec).dump(), path);
    io::write_string_attribute(f, "metadata", meta.dump(), path);
    for (const auto& [name, t] : file.weights) write_array(f, name, t.shape, t.values.data(), path);
    if (!file.checkpoint.is_null()) {
      // In parts: HDF5's compact attributes end at 64 KiB, which a
      // checkpoint's history passes after a few hundred epochs.
      const std::string text = file.checkpoint.dump();
      for (std::size_t at = 0, part = 0; at == 0 || at < text.size(); at += kAttributePart, ++part)
        io::write_string_attribute(f, checkpoint_part_name(part).c_str(),
                                   text.substr(at, kAttributePart), path);
      hid_t g = H5Gcreate2(f, "checkpoint", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
      check(g, path, "create group checkpoint");
      for (const auto& [name, v] : file.extra) write_array(g, name, {v.size()}, v.data(), path);
      H5Gclose(g);
    }
  });
}

void write_state_dict_file(const std::string& path, const StateDict& weights,
                           const std::map<std::string, std::string>& attributes) {
  write_hdf5_image(path, [&](hid_t f) {
    for (const auto& [name, text] : attributes)
      io::write_string_attribute(f, name.c_str(), text, path);
    for (const auto& [name, t] : weights) write_array(f, name, t.shape, t.values.data(), path);
  });
}

StateDictFile read_state_dict_file(const std::string& path,
                                   const std::vector<std::string>& attribute_names) {
  const hid_t f = io::open_for_reading(path);
  FR_REQUIRE(f >= 0, "cannot open model file '", path, "' (missing or not HDF5)");
  StateDictFile out;
  try {
    for (const auto& name : attribute_names)
      out.attributes[name] = read_model_attribute(f, name.c_str(), path);
    Collected root;
    check(H5Literate(f, H5_INDEX_NAME, H5_ITER_INC, nullptr, collect, &root), path,
          "list datasets");
    for (auto& [name, t] : root.sets) out.weights.emplace(name, std::move(t));
  } catch (...) {
    H5Fclose(f);
    throw;
  }
  H5Fclose(f);
  return out;
}

ModelFile read_model_file(const std::string& path) {
  const hid_t f = io::open_for_reading(path);
  FR_REQUIRE(f >= 0, "cannot open model file '", path, "' (missing or not HDF5)");
  ModelFile m;
  try {
    json hyper;
    try {
      hyper = json::parse(read_model_attribute(f, "hyperparameters", path));
      m.metadata = json::parse(read_model_attribute(f, "metadata", path));
      std::string checkpoint;
      for (std::size_t part = 0;; ++part) {
        const auto text = io::find_string_attribute(f, checkpoint_part_name(part).c_str(), path);
        if (!text) break;
        checkpoint += *text;
      }
      if (!checkpoint.empty()) m.checkpoint = json::parse(checkpoint);
    } catch (const json::exception& e) {
      FR_FAIL("model file '", path, "': unreadable JSON attribute: ", e.what());
    }
    try {
      NetworkSpec& s = m.spec;
      s.kind = parse_kind(m.metadata.at("model").get<std::string>());
      s.window = m.metadata.at("window").get<int>();
      s.n_features = static_cast<int>(m.metadata.at("features").size());
      s.n_dynamic = data::dynamic_feature_count(
          m.metadata.at("features").get<std::vector<std::string>>(), "model file '" + path + "'");
      if (hyper.contains("hidden_dims"))
        s.hidden_dims = hyper["hidden_dims"].get<std::vector<int>>();
      if (hyper.contains("hidden_dim")) s.hidden_dim = hyper["hidden_dim"].get<int>();
      if (hyper.contains("num_layers")) s.num_layers = hyper["num_layers"].get<int>();
      s.dropout = hyper.value("dropout", 0.0);
      model_normalisation(m.metadata);
    } catch (const json::exception& e) {
      FR_FAIL("model file '", path, "': metadata lacks or mistypes a key: ", e.what());
    }
    Collected root;
    check(H5Literate(f, H5_INDEX_NAME, H5_ITER_INC, nullptr, collect, &root), path,
          "list datasets");
    for (auto& [name, t] : root.sets) m.weights.emplace(name, std::move(t));
    if (!m.checkpoint.is_null()) {
      hid_t g = H5Gopen2(f, "checkpoint", H5P_DEFAULT);
      check(g, path, "open group checkpoint");
      Collected extra;
      const herr_t status = H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, nullptr, collect, &extra);
      H5Gclose(g);
      check(status, path, "list checkpoint arrays");
      for (auto& [name, t] : extra.sets) m.extra.emplace(name, std::move(t.values));
    }
  } catch (...) {
    H5Fclose(f);
    throw;
  }
  H5Fclose(f);
  return m;
}

}  // namespace fluxrecon::models
