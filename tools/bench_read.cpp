// Baseline for tools/bench-prepare.sh: one process reads every variable of a
// netCDF file whole, in file order, with plain PnetCDF, and prints MB/s. This
// is the "plain single read of all variables" that prepare is compared with.
#include <mpi.h>
#include <pnetcdf.h>

#include <chrono>
#include <cstdio>
#include <vector>

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_read FILE.nc\n");
    MPI_Finalize();
    return 2;
  }
  const auto start = std::chrono::steady_clock::now();
  int nc = 0, nvars = 0;
  if (ncmpi_open(MPI_COMM_SELF, argv[1], NC_NOWRITE, MPI_INFO_NULL, &nc) != NC_NOERR) {
    std::fprintf(stderr, "bench_read: cannot open %s\n", argv[1]);
    MPI_Finalize();
    return 2;
  }
  ncmpi_inq_nvars(nc, &nvars);
  double bytes = 0;
  std::vector<double> buffer;
  for (int v = 0; v < nvars; ++v) {
    int ndims = 0, dims[8];
    ncmpi_inq_varndims(nc, v, &ndims);
    ncmpi_inq_vardimid(nc, v, dims);
    MPI_Offset n = 1;
    for (int d = 0; d < ndims; ++d) {
      MPI_Offset len = 0;
      ncmpi_inq_dimlen(nc, dims[d], &len);
      n *= len;
    }
    nc_type type;
    ncmpi_inq_vartype(nc, v, &type);
    buffer.resize(static_cast<size_t>(n));
    if (type == NC_DOUBLE) {
      ncmpi_get_var_double_all(nc, v, buffer.data());
      bytes += 8.0 * n;
    } else {
      ncmpi_get_var_float_all(nc, v, reinterpret_cast<float*>(buffer.data()));
      bytes += (type == NC_BYTE || type == NC_CHAR ? 1.0 : type == NC_SHORT ? 2.0 : 4.0) * n;
    }
  }
  ncmpi_close(nc);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("{\"file\": \"%s\", \"bytes\": %.0f, \"seconds\": %.3f, \"MB_per_s\": %.1f}\n",
              argv[1], bytes, s, bytes / 1e6 / s);
  MPI_Finalize();
  return 0;
}
