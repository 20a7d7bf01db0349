// The checked SynthOptions of a dataset's synth block: the one translation
// shared by `fluxrecon synth` and the synth stage of `fluxrecon run`.
#pragma once

#include <string>

#include "core/config.hpp"
#include "data/synth.hpp"

namespace fluxrecon::data {

// Throws a fluxrecon::Error naming the dataset file and key when the dataset
// is not synthetic or its synth block is unusable.
SynthOptions synth_options(const config::Config& cfg, const std::string& out, bool force);

}  // namespace fluxrecon::data
