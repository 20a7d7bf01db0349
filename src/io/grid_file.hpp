// Reading gridded netCDF files in parallel. One interface, two backends:
// PnetCDF for classic / 64-bit offset / CDF-5 files and parallel HDF5 for
// netCDF-4 files, chosen from the file's magic bytes. Every method marked
// "collective" must be called by all ranks of the communicator the file was
// opened on, in the same order; a rank with nothing to read passes a zero
// count. Values come back as float/double with scale_factor / add_offset
// applied and _FillValue / missing_value / non-finite values turned into NaN.
#pragma once

#include <mpi.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace fluxrecon::io {

enum class Format { cdf1_classic, cdf2_offset64, cdf5, netcdf4_hdf5 };
std::string format_name(Format format);

// Reads the first bytes of `path` (rank-local, cheap). Throws fluxrecon::Error
// naming the file if it is missing, unreadable, empty or not netCDF.
Format detect_format(const std::string& path);

struct VariableInfo {
  std::string name;
  std::vector<std::string> dimensions;  // slowest first, as in ncdump
  std::vector<std::int64_t> shape;
  std::string type;  // "float", "double", "int", "short", "byte", "char", ...
};

class GridFile {
 public:
  // Collective. Opens read-only; throws fluxrecon::Error (collectively agreed)
  // naming the file if it cannot be opened or is truncated/corrupt. `comm`
  // must stay valid while the file is open.
  static std::unique_ptr<GridFile> open(const std::string& path, MPI_Comm comm);
  // Collective: both backends close the file collectively.
  virtual ~GridFile() = default;

  const std::string& path() const { return path_; }
  Format format() const { return format_; }

  std::vector<std::string> variable_names() const;
  bool has_variable(const std::string& name) const;
  // Throws an Error naming the file and the variable, listing what exists.
  const VariableInfo& variable(const std::string& name) const;
  bool has_dimension(const std::string& name) const;
  std::int64_t dimension_length(const std::string& name) const;

  // Attribute of a variable ("" = global attribute); nullopt if absent.
  // Throws if the attribute holds numbers where text is asked for, or text
  // where numbers are asked for.
  virtual std::optional<std::string> text_attribute(const std::string& variable,
                                                    const std::string& name) const = 0;
  virtual std::optional<double> number_attribute(const std::string& variable,
                                                 const std::string& name) const = 0;
  // All values of a numeric attribute (missing_value and valid_range may hold
  // several); nullopt if absent. Throws if the attribute is text.
  virtual std::optional<std::vector<double>> number_attribute_values(
      const std::string& variable, const std::string& name) const = 0;

  // Collective. Reads the hyperslab [start, start+count) of `variable` (one
  // entry per dimension) into `out` (row-major, product(count) values).
  virtual void read(const std::string& variable, const std::vector<std::int64_t>& start,
                    const std::vector<std::int64_t>& count, float* out) = 0;
  virtual void read(const std::string& variable, const std::vector<std::int64_t>& start,
                    const std::vector<std::int64_t>& count, double* out) = 0;

  // Total bytes read from storage so far on this rank (for MB/s reports).
  std::uint64_t bytes_read() const { return bytes_read_; }

 protected:
  GridFile(std::string path, Format format) : path_(std::move(path)), format_(format) {}

  // How stored values become physical ones (CF conventions): values equal to
  // a fill/missing value, outside the valid range or non-finite become NaN;
  // the others are scaled. Comparisons use the raw stored value.
  struct ValueMapping {
    std::vector<double> missing_values;  // _FillValue and missing_value entries
    std::optional<double> valid_min, valid_max;
    bool packed = false;  // scale_factor or add_offset present
    double scale_factor = 1.0;
    double add_offset = 0.0;

    // out[i] = physical value of raw[i]; raw and out may be the same buffer.
    template <class Raw, class Out>
    void apply(const Raw* raw, Out* out, std::size_t count) const;
  };
  ValueMapping value_mapping(const std::string& variable) const;

  // Throws (locally) unless start/count fit inside `variable` and it holds
  // numbers; backends call it inside all_ranks_agree before a collective read.
  void check_hyperslab(const std::string& variable, const std::vector<std::int64_t>& start,
                       const std::vector<std::int64_t>& count) const;
  // True when every value of the on-disk `type` is exactly a float, so that
  // a float read needs no double scratch buffer (float, short, byte, ...).
  static bool float_holds_exactly(const std::string& type);
  static std::size_t element_count(const std::vector<std::int64_t>& count);

  std::string path_;
  Format format_;
  std::vector<VariableInfo> variables_;
  std::vector<std::pair<std::string, std::int64_t>> dimensions_;
  std::uint64_t bytes_read_ = 0;
};

}  // namespace fluxrecon::io
