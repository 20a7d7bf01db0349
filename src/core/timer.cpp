#include "core/timer.hpp"

#include <Kokkos_Core.hpp>
#include <cstdio>

#include "core/log.hpp"
#include "core/mpi_util.hpp"

namespace fluxrecon {

double wall_seconds() {
  using clock = std::chrono::steady_clock;
  static const auto origin = clock::now();
  return std::chrono::duration<double>(clock::now() - origin).count();
}

Timers::Scope::Scope(Timers& timers, std::string name)
    : timers_(timers), name_(std::move(name)), start_(std::chrono::steady_clock::now()) {}

Timers::Scope::~Scope() {
  if (Kokkos::is_initialized()) Kokkos::fence();
  timers_.add(name_,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
}

void Timers::add(const std::string& name, double s) {
  if (seconds_.find(name) == seconds_.end()) order_.push_back(name);
  seconds_[name] += s;
}

double Timers::seconds(const std::string& name) const {
  auto it = seconds_.find(name);
  return it == seconds_.end() ? 0.0 : it->second;
}

std::vector<Timers::Summary> Timers::summarize(MPI_Comm comm) const {
  // Rank 0's names define the order; other ranks contribute 0 for unknown names.
  std::string names;
  for (const auto& n : order_) names += n + '\n';
  names = mpi::broadcast(names, 0, comm);
  std::vector<Summary> out;
  size_t begin = 0;
  const int ranks = mpi::size(comm);
  while (begin < names.size()) {
    const size_t end = names.find('\n', begin);
    Summary s;
    s.name = names.substr(begin, end - begin);
    const double mine = seconds(s.name);
    s.min = mpi::min(mine, comm);
    s.max = mpi::max(mine, comm);
    s.avg = mpi::sum(mine, comm) / ranks;
    out.push_back(s);
    begin = end + 1;
  }
  return out;
}

void Timers::report(MPI_Comm comm, const std::string& title) const {
  const auto summary = summarize(comm);
  log::info(title, " timers over ", mpi::size(comm), " rank(s) (min / avg / max seconds):");
  for (const auto& s : summary) {
    char line[160];
    std::snprintf(line, sizeof(line), "  %-24s %9.3f %9.3f %9.3f", s.name.c_str(), s.min, s.avg,
                  s.max);
    log::info(line);
  }
}

}  // namespace fluxrecon
