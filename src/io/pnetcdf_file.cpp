// PnetCDF backend: the header is read once by PnetCDF and replicated on every
// rank, so metadata and attribute queries are local; only open, close and
// the data reads are collective. Every failure is agreed across ranks before
// it is thrown, so a rank never waits in a collective that others skipped.
#include "io/pnetcdf_file.hpp"

#include <pnetcdf.h>

#include <filesystem>
#include <limits>
#include <type_traits>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_util.hpp"
#include "io/netcdf_header.hpp"

namespace fluxrecon::io {

namespace {

std::string type_name(nc_type type) {
  switch (type) {
    case NC_BYTE:
      return "byte";
    case NC_CHAR:
      return "char";
    case NC_SHORT:
      return "short";
    case NC_INT:
      return "int";
    case NC_FLOAT:
      return "float";
    case NC_DOUBLE:
      return "double";
    case NC_UBYTE:
      return "ubyte";
    case NC_USHORT:
      return "ushort";
    case NC_UINT:
      return "uint";
    case NC_INT64:
      return "int64";
    case NC_UINT64:
      return "uint64";
    default:
      return concat("nc_type ", type);
  }
}

MPI_Offset type_size(nc_type type) {
  switch (type) {
    case NC_BYTE:
    case NC_CHAR:
    case NC_UBYTE:
      return 1;
    case NC_SHORT:
    case NC_USHORT:
      return 2;
    case NC_INT:
    case NC_UINT:
    case NC_FLOAT:
      return 4;
    default:
      return 8;
  }
}

// Errors that mean the bytes of the file are not what its header promises.
bool is_corruption_error(int err) {
  return err == NC_ENOTNC || err == NC_ETRUNC || err == NC_EFILEMETA || err == NC_EREAD ||
         err == NC_EIOMISMATCH || err == NC_EIO || err == NC_EVARSIZE || err == NC_EBADDIM ||
         err == NC_EBADTYPE;
}

// The magic bytes were already checked, so an open failure that is not about
// reaching the file means its header or size is broken.
bool is_access_error(int err) {
  return err == NC_ENOENT || err == NC_EACCESS || err == NC_EOFILE || err == NC_EFILE ||
         err == NC_ENFILE || err == NC_EMPI;
}

std::string describe_failure(const std::string& path, int err) {
  if (is_access_error(err)) {
    return concat("cannot open file ", path, " with PnetCDF: ", ncmpi_strerror(err));
  }
  return concat("file ", path, " is truncated or not a valid netCDF file: ", ncmpi_strerror(err));
}

class PnetcdfFile final : public GridFile {
 public:
  PnetcdfFile(const std::string& path, Format format, MPI_Comm comm, int ncid)
      : GridFile(path, format), comm_(comm), ncid_(ncid) {}
  PnetcdfFile(const PnetcdfFile&) = delete;
  PnetcdfFile& operator=(const PnetcdfFile&) = delete;
  ~PnetcdfFile() override { ncmpi_close(ncid_); }  // collective, like the open

  // Reads dimensions and variables and checks that the file is long enough
  // for the data its header describes (PnetCDF opens a truncated file and
  // would only fail, or read zeros, later).
  void load_metadata();

  std::optional<std::string> text_attribute(const std::string& variable,
                                            const std::string& name) const override;
  std::optional<double> number_attribute(const std::string& variable,
                                         const std::string& name) const override {
    const auto values = number_attribute_values(variable, name);
    if (!values || values->empty()) return std::nullopt;
    return values->front();
  }
  std::optional<std::vector<double>> number_attribute_values(
      const std::string& variable, const std::string& name) const override;

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
  // Variable id for attribute queries; NC_GLOBAL for "".
  int attribute_owner(const std::string& variable) const;
  // Type and length of an attribute; false if it does not exist.
  bool inquire_attribute(int owner, const std::string& variable, const std::string& name,
                         nc_type& type, MPI_Offset& length) const;
  void check(int err, const std::string& what) const {
    FR_REQUIRE(err == NC_NOERR, what, " in file ", path_, ": ", ncmpi_strerror(err));
  }

  MPI_Comm comm_;
  int ncid_;
  std::vector<int> variable_ids_;  // parallel to variables_
  std::vector<nc_type> variable_types_;
};

namespace {
// Byte arithmetic on a header's sizes, saturated at the largest offset: a
// damaged header's lengths overflow, and saturation makes them "past the end
// of the file" (refused below) instead of undefined.
MPI_Offset saturating_multiply(MPI_Offset a, MPI_Offset b) {
  MPI_Offset product = 0;
  return __builtin_mul_overflow(a, b, &product) ? std::numeric_limits<MPI_Offset>::max() : product;
}
MPI_Offset saturating_add(MPI_Offset a, MPI_Offset b) {
  MPI_Offset sum = 0;
  return __builtin_add_overflow(a, b, &sum) ? std::numeric_limits<MPI_Offset>::max() : sum;
}
}  // namespace

void PnetcdfFile::load_metadata() {
  int dimension_count = 0, variable_count = 0, global_attributes = 0, unlimited = -1;
  check(ncmpi_inq(ncid_, &dimension_count, &variable_count, &global_attributes, &unlimited),
        "reading the header");
  std::vector<std::string> dimension_names;
  for (int id = 0; id < dimension_count; ++id) {
    char name[NC_MAX_NAME + 1] = {};
    MPI_Offset length = 0;
    check(ncmpi_inq_dim(ncid_, id, name, &length), "reading dimension metadata");
    dimensions_.emplace_back(name, static_cast<std::int64_t>(length));
    dimension_names.emplace_back(name);
  }
  MPI_Offset record_size = 0;
  check(ncmpi_inq_recsize(ncid_, &record_size), "reading the record size");
  const MPI_Offset record_count = unlimited >= 0 ? dimensions_[unlimited].second : 0;
  MPI_Offset header_size = 0;
  check(ncmpi_inq_header_size(ncid_, &header_size), "reading the header size");

  MPI_Offset data_end = header_size;
  for (int id = 0; id < variable_count; ++id) {
    char name[NC_MAX_NAME + 1] = {};
    nc_type type = NC_NAT;
    int rank = 0;
    check(ncmpi_inq_varndims(ncid_, id, &rank), "reading variable metadata");
    // Not NC_MAX_VAR_DIMS: PnetCDF sets it to INT_MAX.
    std::vector<int> dimension_ids(static_cast<std::size_t>(rank));
    check(ncmpi_inq_var(ncid_, id, name, &type, &rank, dimension_ids.data(), nullptr),
          "reading variable metadata");
    VariableInfo info;
    info.name = name;
    info.type = type_name(type);
    bool is_record = false;
    MPI_Offset one_record_bytes = type_size(type);
    for (int d = 0; d < rank; ++d) {
      info.dimensions.push_back(dimension_names[dimension_ids[d]]);
      info.shape.push_back(dimensions_[dimension_ids[d]].second);
      if (dimension_ids[d] == unlimited) {
        is_record = true;
      } else {
        one_record_bytes =
            saturating_multiply(one_record_bytes, dimensions_[dimension_ids[d]].second);
      }
    }
    MPI_Offset offset = 0;
    check(ncmpi_inq_varoffset(ncid_, id, &offset), concat("reading the offset of '", name, "'"));
    if (!is_record) {
      data_end = std::max(data_end, saturating_add(offset, one_record_bytes));
    } else if (record_count > 0) {
      const MPI_Offset records = saturating_multiply(record_count - 1, record_size);
      data_end =
          std::max(data_end, saturating_add(offset, saturating_add(records, one_record_bytes)));
    }
    variables_.push_back(std::move(info));
    variable_ids_.push_back(id);
    variable_types_.push_back(type);
  }
  std::error_code ec;
  const auto file_size = std::filesystem::file_size(path_, ec);
  FR_REQUIRE(!ec, "cannot read the size of file ", path_, ": ", ec.message());
  FR_REQUIRE(static_cast<MPI_Offset>(file_size) >= data_end, "file ", path_,
             " is truncated or not a valid netCDF file: its header describes data up to byte ",
             data_end, " but the file has only ", file_size, " bytes");
}

int PnetcdfFile::attribute_owner(const std::string& name) const {
  if (name.empty()) return NC_GLOBAL;
  const auto& info = variable(name);  // throws with the list of variables
  return variable_ids_[static_cast<std::size_t>(&info - variables_.data())];
}

bool PnetcdfFile::inquire_attribute(int owner, const std::string& variable, const std::string& name,
                                    nc_type& type, MPI_Offset& length) const {
  const int err = ncmpi_inq_att(ncid_, owner, name.c_str(), &type, &length);
  if (err == NC_ENOTATT) return false;
  check(err, concat("reading attribute '", variable, ":", name, "'"));
  return true;
}

std::optional<std::string> PnetcdfFile::text_attribute(const std::string& variable,
                                                       const std::string& name) const {
  const int owner = attribute_owner(variable);
  nc_type type = NC_NAT;
  MPI_Offset length = 0;
  if (!inquire_attribute(owner, variable, name, type, length)) return std::nullopt;
  FR_REQUIRE(type == NC_CHAR, "attribute '", variable, ":", name, "' in file ", path_, " holds ",
             type_name(type), " values, not text");
  std::string text(static_cast<std::size_t>(length), '\0');
  if (length > 0) {
    check(ncmpi_get_att_text(ncid_, owner, name.c_str(), text.data()),
          concat("reading attribute '", variable, ":", name, "'"));
  }
  // netCDF text is not NUL-terminated on disk, but some writers store one.
  while (!text.empty() && text.back() == '\0') text.pop_back();
  return text;
}

std::optional<std::vector<double>> PnetcdfFile::number_attribute_values(
    const std::string& variable, const std::string& name) const {
  const int owner = attribute_owner(variable);
  nc_type type = NC_NAT;
  MPI_Offset length = 0;
  if (!inquire_attribute(owner, variable, name, type, length)) return std::nullopt;
  FR_REQUIRE(type != NC_CHAR, "attribute '", variable, ":", name, "' in file ", path_,
             " is text, not a number");
  std::vector<double> values(static_cast<std::size_t>(length));
  if (length > 0) {
    check(ncmpi_get_att_double(ncid_, owner, name.c_str(), values.data()),
          concat("reading attribute '", variable, ":", name, "'"));
  }
  return values;
}

template <class T>
void PnetcdfFile::read_values(const std::string& name, const std::vector<std::int64_t>& start,
                              const std::vector<std::int64_t>& count, T* out) {
  // Validate on every rank first: a rank that threw here while the others
  // entered the collective read would leave them waiting forever.
  ValueMapping mapping;
  all_ranks_agree(comm_, [&] {
    check_hyperslab(name, start, count);
    mapping = value_mapping(name);
  });
  const auto& info = variable(name);
  const auto index = static_cast<std::size_t>(&info - variables_.data());
  const int varid = variable_ids_[index];
  const std::size_t n = element_count(count);
  const std::vector<MPI_Offset> starts(start.begin(), start.end());
  const std::vector<MPI_Offset> counts(count.begin(), count.end());

  // Read straight into `out` when its type holds every stored value exactly;
  // otherwise through doubles (PnetCDF converts from the on-disk type).
  const bool direct = std::is_same_v<T, double> || float_holds_exactly(info.type);
  std::vector<double> scratch(direct ? 0 : n);
  int err = NC_NOERR;
  if constexpr (std::is_same_v<T, double>) {
    err = ncmpi_get_vara_double_all(ncid_, varid, starts.data(), counts.data(), out);
  } else if (direct) {
    err = ncmpi_get_vara_float_all(ncid_, varid, starts.data(), counts.data(), out);
  } else {
    err = ncmpi_get_vara_double_all(ncid_, varid, starts.data(), counts.data(), scratch.data());
  }
  all_ranks_agree(comm_, [&] {
    if (err == NC_NOERR) return;
    FR_FAIL("reading '", name, "' from file ", path_, " failed: ", ncmpi_strerror(err),
            is_corruption_error(err) ? " (the file is truncated or corrupt)" : "");
  });
  if (direct) {
    mapping.apply(out, out, n);
  } else {
    mapping.apply(scratch.data(), out, n);
  }
  bytes_read_ += static_cast<std::uint64_t>(n) * type_size(variable_types_[index]);
}

}  // namespace

std::unique_ptr<GridFile> open_pnetcdf_file(const std::string& path, Format format, MPI_Comm comm) {
  int ncid = -1;
  // PnetCDF reads the header on one rank and broadcasts it, so an open fails
  // on all ranks alike; were it to succeed on some only, those keep the
  // handle (closing it would be a collective the others never join).
  // Our own bounds check first: PnetCDF trusts the header's counts.
  // One rank reads the header for the check, as PnetCDF does for the open:
  // every rank reading it would be a metadata storm at scale.
  all_ranks_agree(comm, [&] {
    if (mpi::rank(comm) == 0) check_classic_header(path);
  });
  all_ranks_agree(comm, [&] {
    const int err = ncmpi_open(comm, path.c_str(), NC_NOWRITE, MPI_INFO_NULL, &ncid);
    if (err != NC_NOERR) FR_FAIL(describe_failure(path, err));
  });
  // From here the object owns the open file: if reading the metadata fails,
  // every rank throws together and every rank's destructor closes it.
  auto file = std::make_unique<PnetcdfFile>(path, format, comm, ncid);
  all_ranks_agree(comm, [&] { file->load_metadata(); });
  log::debug("opened ", path, " (", format_name(format),
             ") with PnetCDF: ", file->variable_names().size(), " variables");
  return file;
}

}  // namespace fluxrecon::io
