// Parallel-HDF5 backend. Metadata (datasets, dimension scales, attributes) is
// read independently by every rank when the file is opened; data reads are
// collective (H5FD_MPIO_COLLECTIVE). HDF5 would print its error stack to
// stderr on every rank; we silence that and put the stack into our Error.
#include "io/hdf5_file.hpp"

#include <hdf5.h>

#include <algorithm>
#include <type_traits>
#include <utility>

#include "core/error.hpp"
#include "core/log.hpp"
#include "io/hdf5_attributes.hpp"

namespace fluxrecon::io {

namespace {

// netCDF-4 marks dimension-scale datasets that are not variables with this NAME.
constexpr const char* kPureDimensionMarker = "This is a netCDF dimension but not a netCDF variable";
// netCDF-4 stores a non-coordinate variable named like a dimension under this prefix.
constexpr const char* kNonCoordinatePrefix = "_nc4_non_coord_";

// Owns one HDF5 identifier and closes it with the matching H5*close.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  Handle(Handle&& other) noexcept : id_(std::exchange(other.id_, -1)), closer_(other.closer_) {}
  Handle& operator=(Handle&& other) noexcept {
    std::swap(id_, other.id_);
    std::swap(closer_, other.closer_);
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() {
    if (id_ >= 0 && closer_ != nullptr) closer_(id_);
  }
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }

 private:
  hid_t id_ = -1;
  Closer closer_ = nullptr;
};

// Switches HDF5's automatic error printing off for one scope (and restores
// whatever handler other code installed).
class QuietHdf5Errors {
 public:
  QuietHdf5Errors() {
    H5Eget_auto2(H5E_DEFAULT, &handler_, &data_);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  QuietHdf5Errors(const QuietHdf5Errors&) = delete;
  QuietHdf5Errors& operator=(const QuietHdf5Errors&) = delete;
  ~QuietHdf5Errors() { H5Eset_auto2(H5E_DEFAULT, handler_, data_); }

 private:
  H5E_auto2_t handler_ = nullptr;
  void* data_ = nullptr;
};

// The descriptions on HDF5's current error stack, outermost first, then clears it.
std::string error_stack() {
  std::string text;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_DOWNWARD,
      [](unsigned, const H5E_error2_t* entry, void* data) -> herr_t {
        auto& out = *static_cast<std::string*>(data);
        if (entry->desc != nullptr && entry->desc[0] != '\0') {
          out += (out.empty() ? "" : "; ") + std::string(entry->desc);
        }
        return 0;
      },
      &text);
  H5Eclear2(H5E_DEFAULT);
  return text.empty() ? std::string("HDF5 gave no details") : text;
}

// A damaged datatype message can state bit fields outside the value's bytes;
// HDF5 converts such values without checking and reads past its buffers (a
// crash found by tests/fuzz). Every numeric type is checked first.
void require_sound_number_type(hid_t type, const std::string& where) {
  const H5T_class_t type_class = H5Tget_class(type);
  if (type_class != H5T_INTEGER && type_class != H5T_FLOAT) return;
  const std::size_t size = H5Tget_size(type), bits = 8 * size;
  const int precision = static_cast<int>(H5Tget_precision(type)), offset = H5Tget_offset(type);
  bool sound = (size == 1 || size == 2 || size == 4 || size == 8) && precision > 0 && offset >= 0 &&
               static_cast<std::size_t>(offset + precision) <= bits;
  if (sound && type_class == H5T_FLOAT) {
    std::size_t sign = 0, exponent = 0, exponent_bits = 0, mantissa = 0, mantissa_bits = 0;
    sound = H5Tget_fields(type, &sign, &exponent, &exponent_bits, &mantissa, &mantissa_bits) >= 0 &&
            sign < bits && exponent + exponent_bits <= bits && mantissa + mantissa_bits <= bits &&
            exponent_bits > 0 && exponent_bits < 64 && mantissa_bits > 0;
  }
  FR_REQUIRE(sound, where, " has a damaged number type (", size, " bytes, ", precision,
             " bits of precision at bit ", offset,
             "): the file is corrupted or not a valid netCDF-4/HDF5 file");
}

std::string type_name(hid_t type) {
  const auto size = H5Tget_size(type);
  switch (H5Tget_class(type)) {
    case H5T_INTEGER: {
      const bool is_signed = H5Tget_sign(type) == H5T_SGN_2;
      switch (size) {
        case 1:
          return is_signed ? "byte" : "ubyte";
        case 2:
          return is_signed ? "short" : "ushort";
        case 4:
          return is_signed ? "int" : "uint";
        case 8:
          return is_signed ? "int64" : "uint64";
        default:
          return concat("integer", 8 * size);
      }
    }
    case H5T_FLOAT:
      return size == 4 ? "float" : size == 8 ? "double" : concat("float", 8 * size);
    case H5T_STRING:
      return H5Tis_variable_str(type) > 0 ? "string" : "char";
    case H5T_COMPOUND:
      return "compound";
    case H5T_ENUM:
      return "enum";
    case H5T_VLEN:
      return "vlen";
    case H5T_OPAQUE:
      return "opaque";
    default:
      return "other";
  }
}

// Name of an object without its group path ("/lat" -> "lat").
std::string object_name(hid_t object) {
  const ssize_t length = H5Iget_name(object, nullptr, 0);
  if (length <= 0) return {};
  std::string name(static_cast<std::size_t>(length) + 1, '\0');
  H5Iget_name(object, name.data(), name.size());
  name.resize(static_cast<std::size_t>(length));
  const auto slash = name.rfind('/');
  return slash == std::string::npos ? name : name.substr(slash + 1);
}

// An attribute with its type and dataspace; nullopt if absent.
struct OpenedAttribute {
  Handle attribute, type, space;
};
std::optional<OpenedAttribute> open_attribute(hid_t object, const std::string& name,
                                              const std::string& where) {
  const htri_t exists = H5Aexists(object, name.c_str());
  FR_REQUIRE(exists >= 0, "cannot look up attribute ", where, ": ", error_stack());
  if (exists == 0) return std::nullopt;
  OpenedAttribute a;
  a.attribute = Handle(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Aclose);
  a.type = Handle(H5Aget_type(a.attribute.get()), H5Tclose);
  a.space = Handle(H5Aget_space(a.attribute.get()), H5Sclose);
  FR_REQUIRE(a.attribute.valid() && a.type.valid() && a.space.valid(), "cannot open attribute ",
             where, ": ", error_stack());
  return a;
}

// Text of a string attribute (fixed or variable length, scalar or array;
// array entries joined with ","); nullopt if absent. `where` names it in errors.
std::optional<std::string> read_text(hid_t object, const std::string& name,
                                     const std::string& where) {
  auto opened = open_attribute(object, name, where);
  if (!opened) return std::nullopt;
  const Handle& attribute = opened->attribute;
  const Handle& type = opened->type;
  const Handle& space = opened->space;
  FR_REQUIRE(H5Tget_class(type.get()) == H5T_STRING, "attribute ", where, " holds ",
             type_name(type.get()), " values, not text");
  const auto count = static_cast<std::size_t>(H5Sget_simple_extent_npoints(space.get()));
  std::vector<std::string> entries;
  if (count == 0) return std::string();  // netCDF-4 writes "" as a null dataspace
  if (H5Tis_variable_str(type.get()) > 0) {
    const Handle memory_type(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(memory_type.get(), H5T_VARIABLE);
    H5Tset_cset(memory_type.get(), H5Tget_cset(type.get()));
    std::vector<char*> strings(count, nullptr);
    FR_REQUIRE(H5Aread(attribute.get(), memory_type.get(), strings.data()) >= 0,
               "cannot read attribute ", where, ": ", error_stack());
    for (const char* text : strings) entries.emplace_back(text != nullptr ? text : "");
    H5Dvlen_reclaim(memory_type.get(), space.get(), H5P_DEFAULT, strings.data());
  } else {
    const auto size = H5Tget_size(type.get());
    std::vector<char> buffer(size * count);
    FR_REQUIRE(H5Aread(attribute.get(), type.get(), buffer.data()) >= 0, "cannot read attribute ",
               where, ": ", error_stack());
    for (std::size_t i = 0; i < count; ++i) {
      std::string text(buffer.data() + i * size, size);
      text.resize(text.find('\0') == std::string::npos ? text.size() : text.find('\0'));
      if (H5Tget_strpad(type.get()) == H5T_STR_SPACEPAD) {
        while (!text.empty() && text.back() == ' ') text.pop_back();
      }
      entries.push_back(std::move(text));
    }
  }
  std::string joined;
  for (const auto& entry : entries) joined += (joined.empty() ? "" : ",") + entry;
  return joined;
}

std::optional<std::vector<double>> read_numbers(hid_t object, const std::string& name,
                                                const std::string& where) {
  auto opened = open_attribute(object, name, where);
  if (!opened) return std::nullopt;
  const Handle& attribute = opened->attribute;
  const Handle& type = opened->type;
  const Handle& space = opened->space;
  const auto type_class = H5Tget_class(type.get());
  FR_REQUIRE(type_class == H5T_INTEGER || type_class == H5T_FLOAT, "attribute ", where, " holds ",
             type_name(type.get()), " values, not numbers");
  std::vector<double> values(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space.get())));
  if (!values.empty()) {
    FR_REQUIRE(H5Aread(attribute.get(), H5T_NATIVE_DOUBLE, values.data()) >= 0,
               "cannot read attribute ", where, ": ", error_stack());
  }
  return values;
}

// Dimension names from a dataset's DIMENSION_LIST (object references to the
// dimension-scale datasets); an empty entry where a dimension has no scale.
std::vector<std::string> dimension_list(hid_t dataset, int rank) {
  std::vector<std::string> names(static_cast<std::size_t>(rank));
  if (rank == 0 || H5Aexists(dataset, "DIMENSION_LIST") <= 0) return names;
  const Handle attribute(H5Aopen(dataset, "DIMENSION_LIST", H5P_DEFAULT), H5Aclose);
  const Handle space(H5Aget_space(attribute.get()), H5Sclose);
  const Handle memory_type(H5Tvlen_create(H5T_STD_REF_OBJ), H5Tclose);
  if (H5Sget_simple_extent_npoints(space.get()) != rank) return names;
  std::vector<hvl_t> lists(static_cast<std::size_t>(rank));
  if (H5Aread(attribute.get(), memory_type.get(), lists.data()) < 0) {
    H5Eclear2(H5E_DEFAULT);
    return names;
  }
  for (std::size_t d = 0; d < lists.size(); ++d) {
    if (lists[d].len == 0 || lists[d].p == nullptr) continue;
    auto reference = static_cast<hobj_ref_t*>(lists[d].p)[0];
    const Handle scale(H5Rdereference2(dataset, H5P_DEFAULT, H5R_OBJECT, &reference), H5Oclose);
    if (scale.valid()) names[d] = object_name(scale.get());
  }
  H5Dvlen_reclaim(memory_type.get(), space.get(), H5P_DEFAULT, lists.data());
  H5Eclear2(H5E_DEFAULT);
  return names;
}

class Hdf5File final : public GridFile {
 public:
  Hdf5File(const std::string& path, MPI_Comm comm, hid_t file)
      : GridFile(path, Format::netcdf4_hdf5), comm_(comm), file_(file, H5Fclose) {}

  // Lists the root group's datasets: variables (with their dimension names)
  // and dimensions (from dimension scales).
  void load_metadata();

  std::optional<std::string> text_attribute(const std::string& variable,
                                            const std::string& name) const override {
    QuietHdf5Errors quiet;
    return read_text(attribute_owner(variable), name, describe(variable, name));
  }
  std::optional<double> number_attribute(const std::string& variable,
                                         const std::string& name) const override {
    const auto values = number_attribute_values(variable, name);
    if (!values || values->empty()) return std::nullopt;
    return values->front();
  }
  std::optional<std::vector<double>> number_attribute_values(
      const std::string& variable, const std::string& name) const override {
    QuietHdf5Errors quiet;
    return read_numbers(attribute_owner(variable), name, describe(variable, name));
  }

  void read(const std::string& variable, const std::vector<std::int64_t>& start,
            const std::vector<std::int64_t>& count, float* out) override {
    read_values(variable, start, count, out);
  }
  void read(const std::string& variable, const std::vector<std::int64_t>& start,
            const std::vector<std::int64_t>& count, double* out) override {
    read_values(variable, start, count, out);
  }

 private:
  template <class T>
  void read_values(const std::string& name, const std::vector<std::int64_t>& start,
                   const std::vector<std::int64_t>& count, T* out);
  std::size_t index_of(const std::string& name) const {
    return static_cast<std::size_t>(&variable(name) - variables_.data());
  }
  // Root group for global attributes (""), else the variable's dataset.
  hid_t attribute_owner(const std::string& name) const {
    return name.empty() ? file_.get() : datasets_[index_of(name)].get();
  }
  std::string describe(const std::string& owner, const std::string& name) const {
    return concat("'", owner, ":", name, "' in file ", path_);
  }
  // Name for a dimension without a dimension scale, shared by equal lengths.
  std::string phony_dimension(std::int64_t length, const std::vector<std::string>& taken);

  MPI_Comm comm_;
  Handle file_;                             // closed last: members are destroyed in reverse order
  std::vector<Handle> datasets_;            // parallel to variables_
  std::vector<std::size_t> element_sizes_;  // bytes per stored value, parallel to variables_
};

std::string Hdf5File::phony_dimension(std::int64_t length, const std::vector<std::string>& taken) {
  for (const auto& [name, existing] : dimensions_) {
    const bool used = std::find(taken.begin(), taken.end(), name) != taken.end();
    if (name.rfind("phony_dim_", 0) == 0 && existing == length && !used) return name;
  }
  auto name = concat("phony_dim_", dimensions_.size());
  dimensions_.emplace_back(name, length);
  return name;
}

void Hdf5File::load_metadata() {
  std::vector<std::string> links;
  const H5L_iterate_t collect = [](hid_t, const char* name, const H5L_info_t* info,
                                   void* data) -> herr_t {
    if (info->type == H5L_TYPE_HARD) static_cast<std::vector<std::string>*>(data)->push_back(name);
    return 0;
  };
  // Creation order is the order ncdump shows; files that do not track it
  // are listed by name.
  if (H5Literate(file_.get(), H5_INDEX_CRT_ORDER, H5_ITER_INC, nullptr, collect, &links) < 0) {
    H5Eclear2(H5E_DEFAULT);
    links.clear();
    FR_REQUIRE(H5Literate(file_.get(), H5_INDEX_NAME, H5_ITER_INC, nullptr, collect, &links) >= 0,
               "cannot list the contents of file ", path_, ": ", error_stack());
  }
  auto register_dimension = [&](const std::string& name, std::int64_t length) {
    for (auto& [existing, existing_length] : dimensions_) {
      if (existing == name) {
        existing_length = std::max(existing_length, length);  // unlimited: longest use
        return;
      }
    }
    dimensions_.emplace_back(name, length);
  };

  for (const auto& link : links) {
    Handle object(H5Oopen(file_.get(), link.c_str(), H5P_DEFAULT), H5Oclose);
    FR_REQUIRE(object.valid(), "cannot open '", link, "' in file ", path_, ": ", error_stack());
    if (H5Iget_type(object.get()) != H5I_DATASET) {
      log::debug(path_, ": skipping '", link, "' (not a dataset; groups are not read)");
      continue;
    }
    Handle dataset(H5Dopen2(file_.get(), link.c_str(), H5P_DEFAULT), H5Dclose);
    const Handle space(H5Dget_space(dataset.get()), H5Sclose);
    const Handle type(H5Dget_type(dataset.get()), H5Tclose);
    FR_REQUIRE(dataset.valid() && space.valid() && type.valid(), "cannot open dataset '", link,
               "' in file ", path_, ": ", error_stack());
    const int rank = H5Sget_simple_extent_ndims(space.get());
    FR_REQUIRE(rank >= 0, "cannot read the shape of '", link, "' in file ", path_);
    std::vector<hsize_t> extent(static_cast<std::size_t>(rank));
    H5Sget_simple_extent_dims(space.get(), extent.data(), nullptr);

    const std::string where = concat("'", link, "' in file ", path_);
    const bool is_scale = read_text(dataset.get(), "CLASS", where) == "DIMENSION_SCALE";
    const auto scale_name = is_scale ? read_text(dataset.get(), "NAME", where) : std::nullopt;
    if (is_scale && rank == 1) register_dimension(link, static_cast<std::int64_t>(extent[0]));
    if (scale_name && scale_name->rfind(kPureDimensionMarker, 0) == 0) continue;

    VariableInfo info;
    info.name = link.rfind(kNonCoordinatePrefix, 0) == 0
                    ? link.substr(std::string(kNonCoordinatePrefix).size())
                    : link;
    info.type = type_name(type.get());
    require_sound_number_type(type.get(), where);
    info.dimensions = dimension_list(dataset.get(), rank);
    if (is_scale && rank == 1 && info.dimensions[0].empty()) info.dimensions[0] = link;
    for (int d = 0; d < rank; ++d) {
      const auto length = static_cast<std::int64_t>(extent[static_cast<std::size_t>(d)]);
      auto& dimension = info.dimensions[static_cast<std::size_t>(d)];
      if (dimension.empty()) {
        dimension = phony_dimension(length, info.dimensions);
      } else {
        register_dimension(dimension, length);
      }
      info.shape.push_back(length);
    }
    variables_.push_back(std::move(info));
    datasets_.push_back(std::move(dataset));
    element_sizes_.push_back(H5Tget_size(type.get()));
  }
}

template <class T>
void Hdf5File::read_values(const std::string& name, const std::vector<std::int64_t>& start,
                           const std::vector<std::int64_t>& count, T* out) {
  QuietHdf5Errors quiet;
  // Validate and prepare on every rank first, so that no rank skips the
  // collective H5Dread that the others are waiting in.
  ValueMapping mapping;
  Handle file_space, memory_space, transfer;
  std::size_t index = 0;
  const std::size_t n = element_count(count);
  all_ranks_agree(comm_, [&] {
    check_hyperslab(name, start, count);
    mapping = value_mapping(name);
    index = index_of(name);
    file_space = Handle(H5Dget_space(datasets_[index].get()), H5Sclose);
    transfer = Handle(H5Pcreate(H5P_DATASET_XFER), H5Pclose);
    FR_REQUIRE(file_space.valid() && transfer.valid() &&
                   H5Pset_dxpl_mpio(transfer.get(), H5FD_MPIO_COLLECTIVE) >= 0,
               "cannot prepare reading '", name, "' from file ", path_, ": ", error_stack());
    // A rank with nothing to read still joins the collective read, with empty
    // selections in memory and in the file.
    const hsize_t memory_length = std::max<std::size_t>(n, 1);
    memory_space = Handle(H5Screate_simple(1, &memory_length, nullptr), H5Sclose);
    herr_t selected = 0;
    if (n == 0) {
      selected = std::min(H5Sselect_none(file_space.get()), H5Sselect_none(memory_space.get()));
    } else if (!start.empty()) {
      const std::vector<hsize_t> offsets(start.begin(), start.end());
      const std::vector<hsize_t> lengths(count.begin(), count.end());
      selected = H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, offsets.data(), nullptr,
                                     lengths.data(), nullptr);
    }
    FR_REQUIRE(memory_space.valid() && selected >= 0, "cannot select the hyperslab of '", name,
               "' in file ", path_, ": ", error_stack());
  });

  // Read straight into `out` when its type holds every stored value exactly;
  // otherwise through doubles (HDF5 converts from the stored type).
  const bool direct = std::is_same_v<T, double> || float_holds_exactly(variables_[index].type);
  std::vector<double> scratch(direct ? 0 : n);
  double unused_target = 0;  // HDF5 wants a buffer even for an empty selection
  void* target = &unused_target;
  if (n > 0) target = direct ? static_cast<void*>(out) : static_cast<void*>(scratch.data());
  const hid_t memory_type =
      direct && std::is_same_v<T, float> ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE;
  const herr_t status = H5Dread(datasets_[index].get(), memory_type, memory_space.get(),
                                file_space.get(), transfer.get(), target);
  const std::string failure = status < 0 ? error_stack() : std::string();
  all_ranks_agree(comm_, [&] {
    FR_REQUIRE(status >= 0, "reading '", name, "' from file ", path_,
               " failed (is the file truncated or corrupt?): ", failure);
  });
  if (direct) {
    mapping.apply(out, out, n);
  } else {
    mapping.apply(scratch.data(), out, n);
  }
  bytes_read_ += static_cast<std::uint64_t>(n) * element_sizes_[index];
}

}  // namespace

std::unique_ptr<GridFile> open_hdf5_file(const std::string& path, MPI_Comm comm) {
  QuietHdf5Errors quiet;
  hid_t file = -1;
  all_ranks_agree(comm, [&] {
    const Handle access(reading_file_access(), H5Pclose);
    FR_REQUIRE(access.valid() && H5Pset_fapl_mpio(access.get(), comm, MPI_INFO_NULL) >= 0,
               "cannot set up parallel HDF5 access for ", path, ": ", error_stack());
    file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, access.get());
    FR_REQUIRE(file >= 0, "file ", path,
               " is truncated or not a valid netCDF-4/HDF5 file: ", error_stack());
  });
  // From here the object owns the open file: if reading the metadata fails,
  // every rank throws together and every rank's destructor closes it.
  auto grid_file = std::make_unique<Hdf5File>(path, comm, file);
  all_ranks_agree(comm, [&] { grid_file->load_metadata(); });
  log::debug("opened ", path,
             " (netCDF-4) with parallel HDF5: ", grid_file->variable_names().size(), " variables");
  return grid_file;
}

}  // namespace fluxrecon::io
