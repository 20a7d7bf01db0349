#include "io/nc_writer.hpp"

#include <pnetcdf.h>

#include <algorithm>
#include <filesystem>
#include <utility>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/mpi_util.hpp"

namespace fluxrecon::io {
namespace {

nc_type external_type(NcType type) {
  switch (type) {
    case NcType::byte:
      return NC_BYTE;
    case NcType::int32:
      return NC_INT;
    case NcType::float32:
      return NC_FLOAT;
    case NcType::float64:
      return NC_DOUBLE;
  }
  return NC_NAT;
}

const char* type_name(NcType type) {
  switch (type) {
    case NcType::byte:
      return "byte";
    case NcType::int32:
      return "int";
    case NcType::float32:
      return "float";
    case NcType::float64:
      return "double";
  }
  return "?";
}

std::uint64_t element_size(NcType type) {
  switch (type) {
    case NcType::byte:
      return 1;
    case NcType::int32:
    case NcType::float32:
      return 4;
    case NcType::float64:
      return 8;
  }
  return 8;
}

std::string describe(const std::string& variable) {
  return variable.empty() ? std::string("global attributes") : "variable '" + variable + "'";
}

}  // namespace

WriteFormat write_format_from_name(const std::string& name) {
  if (name == "cdf5") return WriteFormat::cdf5;
  if (name == "64bit_offset") return WriteFormat::offset64;
  FR_FAIL("unknown netCDF output format '", name, "'; allowed: cdf5, 64bit_offset");
}

std::string write_format_name(WriteFormat format) {
  return format == WriteFormat::cdf5 ? "cdf5" : "64bit_offset";
}

// Turns a PnetCDF status into an Error naming the file and what was done.
// Every public method runs its checks and calls inside all_ranks_agree, so an
// error on one rank raises the same Error on all of them.
#define FR_NC_CHECK(call, ...)                                                           \
  do {                                                                                   \
    const int status_ = (call);                                                          \
    FR_REQUIRE(status_ == NC_NOERR, "'", final_name_of(path_), "': ", __VA_ARGS__, ": ", \
               ncmpi_strerror(status_));                                                 \
  } while (0)

NcWriter::NcWriter(std::string path, MPI_Comm comm, WriteFormat format)
    : path_(std::move(path)), comm_(comm) {
  const int mode = NC_CLOBBER | (format == WriteFormat::cdf5 ? NC_64BIT_DATA : NC_64BIT_OFFSET);
  all_ranks_agree(comm_, [&] {
    FR_NC_CHECK(ncmpi_create(comm_, path_.c_str(), mode, MPI_INFO_NULL, &ncid_),
                "cannot create the file (format ", write_format_name(format), ")");
  });
}

NcWriter::~NcWriter() {
  // Without close(), every rank unwinds from a collective Error and the
  // (collective) abort cannot hang; it also deletes a file still in define
  // mode. When only this rank fails, the others are not there to abort with
  // it: leave the file (main() ends the job, the caller's temp name goes).
  if (ncid_ >= 0 && !unwinding_from_rank_local_error()) ncmpi_abort(ncid_);
}

void NcWriter::define_dimension(const std::string& name, std::int64_t length) {
  all_ranks_agree(comm_, [&] {
    FR_REQUIRE(define_mode_, "'", path_, "': dimension '", name,
               "' defined after end_definitions()");
    FR_REQUIRE(length > 0, "'", path_, "': dimension '", name, "' has length ", length,
               "; must be positive");
    int id = -1;
    FR_NC_CHECK(ncmpi_def_dim(ncid_, name.c_str(), static_cast<MPI_Offset>(length), &id),
                "cannot define dimension '", name, "' of length ", length);
    dimension_ids_[name] = id;
    dimension_lengths_[name] = length;
  });
}

void NcWriter::define_variable(const std::string& name, NcType type,
                               const std::vector<std::string>& dimensions) {
  all_ranks_agree(comm_, [&] {
    FR_REQUIRE(define_mode_, "'", path_, "': variable '", name,
               "' defined after end_definitions()");
    Variable var;
    var.type = type;
    std::vector<int> ids;
    for (const auto& dim : dimensions) {
      const auto it = dimension_ids_.find(dim);
      FR_REQUIRE(it != dimension_ids_.end(), "'", path_, "': variable '", name,
                 "' uses dimension '", dim, "', which is not defined");
      ids.push_back(it->second);
      var.shape.push_back(dimension_lengths_.at(dim));
    }
    FR_NC_CHECK(ncmpi_def_var(ncid_, name.c_str(), external_type(type),
                              static_cast<int>(ids.size()), ids.data(), &var.id),
                "cannot define variable '", name, "' (", type_name(type), ")");
    variables_[name] = var;
  });
}

const NcWriter::Variable& NcWriter::find_variable(const std::string& name) const {
  const auto it = variables_.find(name);
  FR_REQUIRE(it != variables_.end(), "'", path_, "': variable '", name, "' was never defined");
  return it->second;
}

int NcWriter::attribute_owner(const std::string& variable) const {
  return variable.empty() ? NC_GLOBAL : find_variable(variable).id;
}

void NcWriter::put_attribute(const std::string& variable, const std::string& name,
                             const std::string& text) {
  all_ranks_agree(comm_, [&] {
    FR_REQUIRE(define_mode_, "'", path_, "': attribute '", name, "' of ", describe(variable),
               " put after end_definitions()");
    FR_NC_CHECK(ncmpi_put_att_text(ncid_, attribute_owner(variable), name.c_str(),
                                   static_cast<MPI_Offset>(text.size()), text.c_str()),
                "cannot put attribute '", name, "' of ", describe(variable));
  });
}

void NcWriter::put_attribute(const std::string& variable, const std::string& name, NcType type,
                             const std::vector<double>& values) {
  all_ranks_agree(comm_, [&] {
    FR_REQUIRE(define_mode_, "'", path_, "': attribute '", name, "' of ", describe(variable),
               " put after end_definitions()");
    FR_REQUIRE(!values.empty(), "'", path_, "': attribute '", name, "' of ", describe(variable),
               " has no values");
    FR_NC_CHECK(
        ncmpi_put_att_double(ncid_, attribute_owner(variable), name.c_str(), external_type(type),
                             static_cast<MPI_Offset>(values.size()), values.data()),
        "cannot put attribute '", name, "' (", type_name(type), ") of ", describe(variable));
  });
}

void NcWriter::end_definitions() {
  all_ranks_agree(comm_, [&] {
    FR_REQUIRE(define_mode_, "'", path_, "': end_definitions() called twice");
    FR_NC_CHECK(ncmpi_enddef(ncid_),
                "cannot leave define mode (header inconsistent across ranks?)");
    // The file's size once every variable is written: the last variable's
    // end (all dimensions are fixed).
    expected_bytes_ = 0;
    for (const auto& [name, var] : variables_) {
      MPI_Offset begin = 0;
      FR_NC_CHECK(ncmpi_inq_varoffset(ncid_, var.id, &begin), "cannot locate variable '", name,
                  "'");
      std::uint64_t bytes = element_size(var.type);
      for (const auto length : var.shape) bytes *= static_cast<std::uint64_t>(length);
      expected_bytes_ = std::max(expected_bytes_, static_cast<std::uint64_t>(begin) + bytes);
    }
  });
  define_mode_ = false;
  // Reserved now, so that a full disk fails here instead of leaving holes
  // (zeros) where a collective write could not put its data.
  reserve_space(path_, expected_bytes_, comm_);
}

std::uint64_t NcWriter::check_block(const std::string& variable, const Variable& var,
                                    const std::vector<std::int64_t>& start,
                                    const std::vector<std::int64_t>& count) const {
  FR_REQUIRE(start.size() == var.shape.size() && count.size() == var.shape.size(), "'", path_,
             "': variable '", variable, "' has ", var.shape.size(), " dimensions, got a block of ",
             start.size(), " starts and ", count.size(), " counts");
  std::uint64_t elements = 1;
  for (size_t d = 0; d < var.shape.size(); ++d) {
    FR_REQUIRE(start[d] >= 0 && count[d] >= 0 && start[d] + count[d] <= var.shape[d], "'", path_,
               "': variable '", variable, "': block start ", start[d], " count ", count[d],
               " outside dimension ", d, " of length ", var.shape[d]);
    elements *= static_cast<std::uint64_t>(count[d]);
  }
  return elements;
}

template <class T, class Put>
void NcWriter::write_block(const std::string& variable, NcType expected,
                           const std::vector<std::int64_t>& start,
                           const std::vector<std::int64_t>& count, const T* values, Put put) {
  const Variable* var = nullptr;
  std::uint64_t elements = 0;
  // Agreed on before the collective put, so that a bad block on one rank
  // fails all ranks instead of leaving the others waiting in the put.
  all_ranks_agree(comm_, [&] {
    FR_REQUIRE(!define_mode_, "'", path_, "': write of '", variable, "' before end_definitions()");
    var = &find_variable(variable);
    FR_REQUIRE(var->type == expected, "'", path_, "': variable '", variable, "' is ",
               type_name(var->type), ", written as ", type_name(expected));
    elements = check_block(variable, *var, start, count);
  });
  std::vector<MPI_Offset> s(start.begin(), start.end()), c(count.begin(), count.end());
  all_ranks_agree(comm_, [&] {
    FR_NC_CHECK(put(ncid_, var->id, s.data(), c.data(), values), "collective write of variable '",
                variable, "' failed");
  });
  bytes_written_ += elements * sizeof(T);
}

void NcWriter::write(const std::string& variable, const std::vector<std::int64_t>& start,
                     const std::vector<std::int64_t>& count, const float* values) {
  write_block(variable, NcType::float32, start, count, values, ncmpi_put_vara_float_all);
}
void NcWriter::write(const std::string& variable, const std::vector<std::int64_t>& start,
                     const std::vector<std::int64_t>& count, const double* values) {
  write_block(variable, NcType::float64, start, count, values, ncmpi_put_vara_double_all);
}
void NcWriter::write(const std::string& variable, const std::vector<std::int64_t>& start,
                     const std::vector<std::int64_t>& count, const std::int32_t* values) {
  write_block(variable, NcType::int32, start, count, values, ncmpi_put_vara_int_all);
}
void NcWriter::write(const std::string& variable, const std::vector<std::int64_t>& start,
                     const std::vector<std::int64_t>& count, const signed char* values) {
  write_block(variable, NcType::byte, start, count, values, ncmpi_put_vara_schar_all);
}

void NcWriter::close() {
  all_ranks_agree(comm_, [&] { FR_REQUIRE(ncid_ >= 0, "'", path_, "': closed twice"); });
  const int id = ncid_;
  ncid_ = -1;  // PnetCDF frees the handle even when close reports an error
  all_ranks_agree(comm_, [&] {
    FR_NC_CHECK(ncmpi_close(id), "cannot close the file (data may be incomplete)");
    if (mpi::rank(comm_) != 0 || define_mode_) return;
    // A write that the file system dropped shows as a short file.
    std::error_code ec;
    const auto size = std::filesystem::file_size(path_, ec);
    FR_REQUIRE(!ec && size >= expected_bytes_, "'", final_name_of(path_), "' has ", ec ? 0 : size,
               " bytes after closing, expected ", expected_bytes_,
               " (data lost: no space left on device?)");
  });
}

}  // namespace fluxrecon::io
