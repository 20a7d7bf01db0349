// Errors: one exception type, one check macro, and the collective agreement
// that makes all ranks fail together with the same message.
#pragma once

#include <mpi.h>

#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace fluxrecon {

// Concatenates any streamable values into one string.
template <class... Parts>
std::string concat(Parts&&... parts) {
  std::ostringstream out;
  (out << ... << std::forward<Parts>(parts));
  return out.str();
}

// The project's error type. `where` is the source location that detected it;
// `collective` is true once every rank of the communicator knows about it.
class Error : public std::runtime_error {
 public:
  Error(std::string message, std::string where, bool collective = false);
  Error(const Error& other);
  Error& operator=(const Error& other);
  ~Error() override;
  const std::string& where() const { return where_; }
  bool collective() const { return collective_; }

 private:
  std::string where_;
  bool collective_;
};

// True while this thread unwinds from an Error that only this rank has (not
// yet agreed on by all_ranks_agree). Destructors that would enter a collective
// (closing a parallel file) must then skip it: the other ranks are not there,
// and main() takes the job down with MPI_Abort.
bool unwinding_from_rank_local_error();

[[noreturn]] void fail_at(const char* file, int line, const std::string& message);

// Runs `body` on every rank of `comm`; if it throws on any rank, every rank
// throws the same collective Error (the message of the lowest failing rank).
// Use it around phases that may fail on some ranks only (opening files,
// validating inputs), so that no rank is left waiting in a collective.
void all_ranks_agree(MPI_Comm comm, const std::function<void()>& body);

}  // namespace fluxrecon

// FR_REQUIRE(cond, parts...): throws fluxrecon::Error naming file:line and the
// concatenated parts when cond is false. Parts should say what was wrong
// (file, variable, value) and what was expected.
#define FR_REQUIRE(cond, ...)                                                                \
  do {                                                                                       \
    if (!(cond)) ::fluxrecon::fail_at(__FILE__, __LINE__, ::fluxrecon::concat(__VA_ARGS__)); \
  } while (0)

#define FR_FAIL(...) ::fluxrecon::fail_at(__FILE__, __LINE__, ::fluxrecon::concat(__VA_ARGS__))
