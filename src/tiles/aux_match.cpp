#include "tiles/aux_match.hpp"

#include <algorithm>
#include <cstdlib>

#include "core/error.hpp"

namespace fluxrecon::tiles {

AuxMatch match_aux_times(const std::vector<std::pair<std::string, Seconds>>& scenes,
                         const std::vector<Seconds>& aux_times, const std::string& strategy,
                         std::optional<Seconds> dt_aux, std::optional<Seconds> dt_max,
                         const std::string& what) {
  FR_REQUIRE(!aux_times.empty(), what, ": no aux data found for the dataset's time span");
  FR_REQUIRE(std::is_sorted(aux_times.begin(), aux_times.end()), what,
             ": aux times must be sorted");
  AuxMatch m;
  if (dt_aux) {
    m.dt_aux = *dt_aux;
  } else {
    FR_REQUIRE(aux_times.size() >= 2, what,
               ": only one aux time, so its time resolution cannot be inferred; give dt_aux "
               "(e.g. PT30M) in aux_products");
    Seconds smallest = -1;
    for (size_t i = 1; i < aux_times.size(); ++i) {
      const Seconds d = aux_times[i] - aux_times[i - 1];
      if (d > 0 && (smallest < 0 || d < smallest)) smallest = d;
    }
    FR_REQUIRE(smallest > 0, what, ": all aux times are equal; give dt_aux in aux_products");
    m.dt_aux = smallest;
  }
  m.dt_max = dt_max ? *dt_max : m.dt_aux / 2;
  auto distance = [](Seconds a, Seconds b) { return a > b ? a - b : b - a; };
  if (strategy == "single_scene_per_aux_time") {
    // Each aux time goes to its nearest scene (first on ties); later aux times win.
    for (size_t a = 0; a < aux_times.size() && !scenes.empty(); ++a) {
      size_t best = 0;
      for (size_t s = 1; s < scenes.size(); ++s)
        if (distance(scenes[s].second, aux_times[a]) < distance(scenes[best].second, aux_times[a]))
          best = s;
      if (distance(scenes[best].second, aux_times[a]) <= m.dt_max)
        m.scene_to_aux[scenes[best].first] = a;
    }
  } else if (strategy == "all_scenes_within_dt_aux") {
    for (const auto& [id, t] : scenes) {
      size_t best = 0;
      for (size_t a = 1; a < aux_times.size(); ++a)
        if (distance(aux_times[a], t) < distance(aux_times[best], t)) best = a;
      if (distance(aux_times[best], t) <= m.dt_max) m.scene_to_aux[id] = best;
    }
  } else {
    FR_FAIL(what, ": scene_mapping_strategy '", strategy,
            "' is not one of single_scene_per_aux_time, all_scenes_within_dt_aux");
  }
  FR_REQUIRE(!m.scene_to_aux.empty(), what, ": No aux scenes found within ", iso_duration(m.dt_max),
             " of a scene (dt_aux ", iso_duration(m.dt_aux), ")");
  return m;
}

}  // namespace fluxrecon::tiles
