// fluxrecon: one binary, one subcommand per pipeline stage. This file only
// wires MPI, Kokkos, the command line and the top-level error handling.
#include <hdf5.h>
#include <mpi.h>

#include <CLI/CLI.hpp>
#include <Kokkos_Core.hpp>
#include <cstring>
#include <vector>

#include "app/commands.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/sanitize_options.hpp"

namespace {
// The source location of an error: for developers, under --verbose.
std::string where(const fluxrecon::Error& e) {
  return fluxrecon::log::level() == fluxrecon::log::Level::debug ? " [" + e.where() + "]" : "";
}
}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  // Our errors name the file and what failed; HDF5's own stack, printed on
  // every rank, would bury them under pages of diagnostics.
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  int exit_code = 0;
  // Kokkos sees only its own --kokkos-* options (given unprefixed, --help
  // among them, it would print its help before ours); the rest is ours.
  std::vector<char*> kokkos_args{argv[0]}, our_args{argv[0]};
  for (int i = 1; i < argc; ++i)
    (std::strncmp(argv[i], "--kokkos-", 9) == 0 ? kokkos_args : our_args).push_back(argv[i]);
  int kokkos_argc = static_cast<int>(kokkos_args.size());
  argc = static_cast<int>(our_args.size());
  argv = our_args.data();
  {
    Kokkos::ScopeGuard kokkos(kokkos_argc, kokkos_args.data());
    CLI::App app{
        "fluxrecon: reconstruct air-sea CO2 flux fields from ocean-model output with "
        "machine learning (MPI-parallel)"};
    app.require_subcommand(1);
    app.set_version_flag("--version", FLUXRECON_VERSION);
    bool all_ranks = false;
    bool quiet = false, verbose = false;
    app.add_flag("--log-all-ranks", all_ranks, "log on every rank, prefixed with its number");
    app.add_flag("-q,--quiet", quiet, "only errors and the final summary");
    app.add_flag("-v,--verbose", verbose,
                 "also debug lines (per-step profiling, per-file details) and the source location "
                 "of an error");
    fluxrecon::app::register_commands(app);
    try {
      app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
      exit_code = rank == 0 ? app.exit(e) : (e.get_exit_code() == 0 ? 0 : 2);
      if (exit_code != 0 && rank == 0) exit_code = 2;
      MPI_Finalize();
      return exit_code;
    }
    try {
      fluxrecon::log::set_all_ranks(all_ranks);
      if (quiet) fluxrecon::log::set_level(fluxrecon::log::Level::quiet);
      if (verbose) fluxrecon::log::set_level(fluxrecon::log::Level::debug);
      fluxrecon::app::run_selected(app);
    } catch (const fluxrecon::Error& e) {
      exit_code = 2;
      if (e.collective()) {
        if (rank == 0)
          fluxrecon::log::error_line("fluxrecon: error: " + std::string(e.what()) + where(e));
      } else {
        // Only this rank knows: say it, then take the others down (never hang).
        fluxrecon::log::error_line("fluxrecon: error on rank " + std::to_string(rank) + ": " +
                                   e.what() + where(e));
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
