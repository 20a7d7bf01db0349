// inputs/bling30_run.yaml, the pipeline on the real data, stays valid: it
// loads with everything it names checked (dataset, model parameter files
// with their overrides, every input file the stages will read).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "pipeline/run_config.hpp"

using namespace fluxrecon;

TEST(Bling30RunConfig, LoadsWithEveryInputPresent) {
  const std::string source = FLUXRECON_SOURCE_DIR;
  if (!std::filesystem::exists(source + "/../shared/data/bling30"))
    GTEST_SKIP() << "../shared/data/bling30 is absent: the real-data pipeline is not checked";
  const auto rc = pipeline::load_run_config(source + "/inputs/bling30_run.yaml", "/tmp/unused");
  EXPECT_FALSE(rc.synthesize);
  ASSERT_EQ(rc.models.size(), 4u);
  EXPECT_EQ(rc.models[0].name, "mlp");
  EXPECT_EQ(rc.models[0].params.get<int>("epochs"), 20);
  EXPECT_EQ(rc.first_year, 1975);
  EXPECT_EQ(rc.last_year, 1977);
}
