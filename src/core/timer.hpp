// Named wall-clock timers with a min/avg/max summary over ranks. Kokkos is
// fenced before a timer is read so that device work is counted where it ran.
#pragma once

#include <mpi.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace fluxrecon {

class Timers {
 public:
  class Scope {
   public:
    Scope(Timers& timers, std::string name);
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    Timers& timers_;
    std::string name_;
    std::chrono::steady_clock::time_point start_;
  };

  // Times the enclosing block: `auto t = timers.scope("read");`
  Scope scope(const std::string& name) { return Scope(*this, name); }
  void add(const std::string& name, double seconds);
  double seconds(const std::string& name) const;

  struct Summary {
    std::string name;
    double min = 0, avg = 0, max = 0;
  };
  // Collective: every rank must hold the same timer names (missing = 0 s).
  std::vector<Summary> summarize(MPI_Comm comm) const;
  // Collective: logs one line per timer on rank 0.
  void report(MPI_Comm comm, const std::string& title) const;

 private:
  std::map<std::string, double> seconds_;
  std::vector<std::string> order_;
};

double wall_seconds();

}  // namespace fluxrecon
