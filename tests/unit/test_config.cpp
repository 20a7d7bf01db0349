#include <gtest/gtest.h>

#include "core/config.hpp"
#include "core/error.hpp"

using fluxrecon::Error;
using fluxrecon::config::Config;
using fluxrecon::config::Schema;

namespace {
Schema example_schema() {
  return Schema("example")
      .integer("epochs", 10, 1, 1000, "training epochs")
      .real("fraction", 0.5, 0.0, 1.0, "a fraction")
      .text("model", "mlp", {"mlp", "lstm"}, "model kind")
      .text("name", std::nullopt, {}, "required name")
      .reals("box", std::vector<double>{0, 1}, -10, 10, "two numbers", 2)
      .section("inner", Schema().flag("on", false, "switch").integer("n", 3, 0, 5, "count"),
               "a block")
      .map_of("runs", Schema().text("pattern", std::nullopt, {}, "file pattern"), "named runs");
}

std::string error_of(const std::string& yaml) {
  try {
    Config::from_text(yaml, example_schema(), "example.yaml");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(Config, FillsDefaultsAndReadsValues) {
  const auto c = Config::from_text(
      "name: a\nepochs: 20\ninner: {on: true}\nruns: {r1: {pattern: \"x_{year}.nc\"}}",
      example_schema(), "example.yaml");
  EXPECT_EQ(c.get<int>("epochs"), 20);
  EXPECT_DOUBLE_EQ(c.get<double>("fraction"), 0.5);
  EXPECT_EQ(c.get<std::string>("model"), "mlp");
  EXPECT_TRUE(c.get<bool>("inner.on"));
  EXPECT_EQ(c.get<int>("inner.n"), 3);
  EXPECT_EQ(c.keys("runs"), std::vector<std::string>{"r1"});
  EXPECT_EQ(c.get<std::string>("runs.r1.pattern"), "x_{year}.nc");
  EXPECT_EQ(c.get<std::vector<double>>("box"), (std::vector<double>{0, 1}));
  // The resolved YAML round-trips through the same schema.
  const auto again = Config::from_text(c.to_yaml(), example_schema(), "resolved.yaml");
  EXPECT_EQ(again.get<int>("epochs"), 20);
}

TEST(Config, RejectsUnknownKeysNamingFileKeyAndAllowed) {
  const auto msg = error_of("name: a\nepoch: 3\n");
  EXPECT_NE(msg.find("example.yaml"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'epoch'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("epochs"), std::string::npos) << msg;  // lists allowed keys
  EXPECT_NE(error_of("name: a\ninner: {of: 1}").find("inner.of"), std::string::npos);
}

TEST(Config, RejectsWrongTypesAndRanges) {
  EXPECT_NE(error_of("name: a\nepochs: many").find("expected an integer"), std::string::npos);
  EXPECT_NE(error_of("name: a\nepochs: 0").find("out of range [1, 1000]"), std::string::npos);
  EXPECT_NE(error_of("name: a\nfraction: 1.5").find("out of range"), std::string::npos);
  EXPECT_NE(error_of("name: a\nmodel: gru").find("one of: mlp, lstm"), std::string::npos);
  EXPECT_NE(error_of("name: a\nbox: [1, 2, 3]").find("exactly 2"), std::string::npos);
  EXPECT_NE(error_of("name: a\ninner: 3").find("expected a block"), std::string::npos);
  EXPECT_NE(error_of("name: a\nruns: {r: {}}").find("runs.r.pattern"), std::string::npos);
}

TEST(Config, RequiredKeysAndBadYaml) {
  EXPECT_NE(error_of("epochs: 3").find("'name': is required"), std::string::npos);
  EXPECT_NE(error_of("name: [unclosed").find("not valid YAML"), std::string::npos);
  EXPECT_THROW(Config::load("/nonexistent/file.yaml", example_schema()), Error);
}

TEST(Config, DocumentListsEveryKey) {
  const auto doc = fluxrecon::config::document(example_schema());
  for (const char* key : {"`epochs`", "`inner.on`", "`runs.<name>.pattern`", "required"})
    EXPECT_NE(doc.find(key), std::string::npos) << key;
}
