// The message of the fluxrecon::Error a call throws ("" if it throws none),
// for tests that check what an error names.
#pragma once

#include <functional>
#include <string>

#include "core/error.hpp"

namespace test_util {

inline std::string error_of_call(const std::function<void()>& call) {
  try {
    call();
  } catch (const fluxrecon::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace test_util
