// Writing classic-format netCDF files (64-bit offset or CDF-5) in parallel
// with PnetCDF. One small class for every writer of the project (synthetic
// testbed, reconstruction caches): define dimensions, variables and
// attributes by name, end the definitions, then put blocks collectively.
//
// Every method is collective over the communicator the file was created on:
// all ranks call it in the same order with the same names (a rank with nothing
// to write passes a zero count). Every PnetCDF error becomes a fluxrecon::Error
// naming the file, the variable or attribute, and PnetCDF's message, raised on
// all ranks together.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace fluxrecon::io {

enum class WriteFormat { offset64, cdf5 };
// "64bit_offset" or "cdf5"; throws an Error listing the allowed names.
WriteFormat write_format_from_name(const std::string& name);
std::string write_format_name(WriteFormat format);

// External types this writer defines (netCDF NC_BYTE, NC_INT, NC_FLOAT, NC_DOUBLE).
enum class NcType { byte, int32, float32, float64 };

class NcWriter {
 public:
  // Collective. Creates (overwrites) `path`.
  NcWriter(std::string path, MPI_Comm comm, WriteFormat format);
  // Closes the file if close() was not reached (after an error on all ranks).
  ~NcWriter();
  NcWriter(const NcWriter&) = delete;
  NcWriter& operator=(const NcWriter&) = delete;

  // Define mode.
  void define_dimension(const std::string& name, std::int64_t length);
  void define_variable(const std::string& name, NcType type,
                       const std::vector<std::string>& dimensions);
  // `variable` "" = global attribute.
  void put_attribute(const std::string& variable, const std::string& name, const std::string& text);
  // Numeric attribute stored as `type` (e.g. _FillValue must match the
  // variable's type).
  void put_attribute(const std::string& variable, const std::string& name, NcType type,
                     const std::vector<double>& values);
  // Also reserves the disk space of the whole file: a full disk fails here,
  // with "no space left on device" and the file's name.
  void end_definitions();

  // Data mode. Collective put of the block [start, start + count) (one entry
  // per dimension, slowest first) from `values` (row-major, product(count)).
  void write(const std::string& variable, const std::vector<std::int64_t>& start,
             const std::vector<std::int64_t>& count, const float* values);
  void write(const std::string& variable, const std::vector<std::int64_t>& start,
             const std::vector<std::int64_t>& count, const double* values);
  void write(const std::string& variable, const std::vector<std::int64_t>& start,
             const std::vector<std::int64_t>& count, const std::int32_t* values);
  void write(const std::string& variable, const std::vector<std::int64_t>& start,
             const std::vector<std::int64_t>& count, const signed char* values);

  // Collective. Flushes and closes; the file is complete after this. Fails
  // on every rank when PnetCDF reports an error or the file is shorter than
  // its header says (a write the file system dropped).
  void close();

  const std::string& path() const { return path_; }
  // Bytes of variable data this rank has put so far.
  std::uint64_t bytes_written() const { return bytes_written_; }
  // The file's size when complete (known after end_definitions()); close()
  // fails when the file is shorter.
  std::uint64_t expected_bytes() const { return expected_bytes_; }

 private:
  struct Variable {
    int id = -1;
    NcType type = NcType::float32;
    std::vector<std::int64_t> shape;
  };
  const Variable& find_variable(const std::string& name) const;
  int attribute_owner(const std::string& variable) const;
  // Checks the block against the variable's shape, returns the element count.
  std::uint64_t check_block(const std::string& variable, const Variable& var,
                            const std::vector<std::int64_t>& start,
                            const std::vector<std::int64_t>& count) const;
  template <class T, class Put>
  void write_block(const std::string& variable, NcType expected,
                   const std::vector<std::int64_t>& start, const std::vector<std::int64_t>& count,
                   const T* values, Put put);

  std::string path_;
  MPI_Comm comm_;
  int ncid_ = -1;
  bool define_mode_ = true;
  std::map<std::string, int> dimension_ids_;
  std::map<std::string, std::int64_t> dimension_lengths_;
  std::map<std::string, Variable> variables_;
  std::uint64_t bytes_written_ = 0;
  std::uint64_t expected_bytes_ = 0;
};

}  // namespace fluxrecon::io
