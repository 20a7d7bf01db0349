// Matching auxiliary-product times to scenes (spec 6.3), with the original's
// defects fixed (spec Q2): aux times are sorted, a user dt_aux is honoured,
// and a single aux time works when dt_aux is given.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tiles/time_util.hpp"

namespace fluxrecon::tiles {

struct AuxMatch {
  Seconds dt_aux = 0, dt_max = 0;
  std::map<std::string, size_t> scene_to_aux;  // scene id -> index into the sorted aux times
};

// `scenes` (id, time); `aux_times` sorted ascending. dt_aux: given or the
// smallest spacing of the aux times; dt_max: given or dt_aux / 2. Throws
// when dt_aux cannot be inferred or nothing matches (naming `what`).
AuxMatch match_aux_times(const std::vector<std::pair<std::string, Seconds>>& scenes,
                         const std::vector<Seconds>& aux_times, const std::string& strategy,
                         std::optional<Seconds> dt_aux, std::optional<Seconds> dt_max,
                         const std::string& what);

}  // namespace fluxrecon::tiles
