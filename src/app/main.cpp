// fluxrecon: one binary, one subcommand per pipeline stage. This file only
// wires MPI, Kokkos, the command line and the top-level error handling.
#include <hdf5.h>
#include <mpi.h>

#include <CLI/CLI.hpp>
#include <Kokkos_Core.hpp>

#include "app/commands.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/sanitize_options.hpp"

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  // Our errors name the file and what failed; HDF5's own stack, printed on
  // every rank, would bury them under pages of diagnostics.
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  int exit_code = 0;
  {
    Kokkos::ScopeGuard kokkos(argc, argv);
    CLI::App app{
        "fluxrecon: reconstruct air-sea CO2 flux fields from ocean-model output with "
        "machine learning (MPI-parallel)"};
    app.require_subcommand(1);
    app.set_version_flag("--version", FLUXRECON_VERSION);
    bool all_ranks = false;
    bool quiet = false;
    app.add_flag("--log-all-ranks", all_ranks, "log on every rank, prefixed with its number");
    app.add_flag("-q,--quiet", quiet, "only errors and the final summary");
    fluxrecon::app::register_commands(app);
    try {
      app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
      exit_code = rank == 0 ? app.exit(e) : (e.get_exit_code() == 0 ? 0 : 2);
      if (exit_code != 0 && rank == 0) exit_code = 2;
      MPI_Finalize();
      return exit_code;
    }
    (void)quiet;
    try {
      fluxrecon::log::set_all_ranks(all_ranks);
      if (quiet) fluxrecon::log::set_level(fluxrecon::log::Level::quiet);
      fluxrecon::app::run_selected(app);
    } catch (const fluxrecon::Error& e) {
      exit_code = 2;
      if (e.collective()) {
        if (rank == 0)
          fluxrecon::log::error_line("fluxrecon: error: " + std::string(e.what()) + " [" +
                                     e.where() + "]");
      } else {
        // Only this rank knows: say it, then take the others down (never hang).
        fluxrecon::log::error_line("fluxrecon: error on rank " + std::to_string(rank) + ": " +
                                   e.what() + " [" + e.where() + "]");
        MPI_Abort(MPI_COMM_WORLD, 2);
      }
    } catch (const std::exception& e) {
      fluxrecon::log::error_line("fluxrecon: unexpected error on rank " + std::to_string(rank) +
                                 ": " + e.what());
      MPI_Abort(MPI_COMM_WORLD, 3);
    }
  }
  MPI_Finalize();
  return exit_code;
}
