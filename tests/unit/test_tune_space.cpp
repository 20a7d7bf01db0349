// Search spaces of `fluxrecon tune`: loading through the config schema, the
// cross-key checks and their messages, transforms, conditions and the model
// overrides a trial produces.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "core/error.hpp"
#include "models/nn_config.hpp"
#include "models/random_forest_config.hpp"
#include "models/xgboost_config.hpp"
#include "tune/search_space.hpp"

using fluxrecon::Error;
using fluxrecon::tune::Param;
using fluxrecon::tune::ParamKind;
using fluxrecon::tune::ParamSet;
using fluxrecon::tune::SearchSpace;
using nlohmann::json;

namespace {
std::string error_of(const std::string& yaml) {
  try {
    SearchSpace::from_text(yaml, "space.yaml");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

const char* kHead = "model: lstm\nparameters:\n";

Param param(const std::string& name, ParamKind kind) {
  Param p;
  p.name = name;
  p.kind = kind;
  return p;
}

std::string tune_input(const std::string& name) {
  return std::string(FLUXRECON_SOURCE_DIR) + "/inputs/tune/" + name + ".yaml";
}
}  // namespace

TEST(TuneSpace, LoadsTheSeedSpacesAndTheirKeysExistInTheModels) {
  using fluxrecon::models::NetworkKind;
  const auto mlp = SearchSpace::load(tune_input("mlp"));
  const auto lstm = SearchSpace::load(tune_input("lstm"));
  const auto att = SearchSpace::load(tune_input("attention_lstm"));
  const auto xgb = SearchSpace::load(tune_input("xgboost"));
  const auto gru = SearchSpace::load(tune_input("gru"));
  EXPECT_NO_THROW(gru.check_keys(fluxrecon::models::network_schema(NetworkKind::gru)));
  // The GRU searches the LSTM's space (issue 20).
  EXPECT_EQ(gru.study().model, "gru");
  ASSERT_EQ(gru.params().size(), lstm.params().size());
  for (std::size_t i = 0; i < gru.params().size(); ++i) {
    const auto &a = gru.params()[i], &b = lstm.params()[i];
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.kind, b.kind) << a.name;
    EXPECT_EQ(a.choices, b.choices) << a.name;
    if (a.is_numeric()) {  // a categorical's bounds are NaN
      EXPECT_EQ(a.low, b.low) << a.name;
      EXPECT_EQ(a.high, b.high) << a.name;
      EXPECT_EQ(a.log, b.log) << a.name;
    }
    EXPECT_EQ(a.condition.has_value(), b.condition.has_value()) << a.name;
  }
  EXPECT_EQ(gru.study().fixed, lstm.study().fixed);
  EXPECT_NO_THROW(mlp.check_keys(fluxrecon::models::network_schema(NetworkKind::mlp)));
  EXPECT_NO_THROW(lstm.check_keys(fluxrecon::models::network_schema(NetworkKind::lstm)));
  EXPECT_NO_THROW(att.check_keys(fluxrecon::models::network_schema(NetworkKind::attention_lstm)));
  EXPECT_NO_THROW(xgb.check_keys(fluxrecon::models::xgboost_schema()));
  const auto forest = SearchSpace::load(tune_input("random_forest"));
  EXPECT_NO_THROW(forest.check_keys(fluxrecon::models::random_forest_schema()));
  EXPECT_EQ(forest.study().model, "random_forest");
  EXPECT_EQ(forest.param("num_parallel_tree").step, 50);
  // The seed's orders and sizes (spec 4.3).
  EXPECT_EQ(mlp.params().size(), 9u);
  EXPECT_EQ(lstm.params()[2].name, "dropout");
  EXPECT_TRUE(lstm.params()[2].condition.has_value());
  EXPECT_EQ(att.param("weight_decay").low, 1e-5);
  EXPECT_EQ(xgb.param("n_estimators").step, 100);
  EXPECT_EQ(xgb.study().n_trials, 50);
  EXPECT_EQ(lstm.study().seed, 42u);
  // A key the model does not have is refused by name.
  EXPECT_THROW(lstm.check_keys(fluxrecon::models::xgboost_schema()), Error);
}

TEST(TuneSpace, ErrorsNameTheFileTheKeyAndTheProblem) {
  auto has = [](const std::string& msg, const std::string& part) {
    return msg.find(part) != std::string::npos;
  };
  std::string e = error_of(std::string(kHead) + "  - {name: x, type: float, low: 0, hgih: 1}\n");
  EXPECT_TRUE(has(e, "space.yaml") && has(e, "parameters[0].hgih") && has(e, "unknown key")) << e;
  e = error_of(std::string(kHead) + "  - {name: x, type: float, low: 0}\n");
  EXPECT_TRUE(has(e, "parameters[0].high") && has(e, "required")) << e;
  e = error_of(std::string(kHead) + "  - {name: x, type: float, low: 1, high: 1}\n");
  EXPECT_TRUE(has(e, "greater than low")) << e;
  e = error_of(std::string(kHead) + "  - {name: x, type: float, low: 0, high: 1, log: true}\n");
  EXPECT_TRUE(has(e, "> 0 for a log-scale")) << e;
  e = error_of(std::string(kHead) + "  - {name: n, type: int, low: 100, high: 1050, step: 100}\n");
  EXPECT_TRUE(has(e, "multiple of the step")) << e;
  e = error_of(std::string(kHead) + "  - {name: n, type: int, low: 1.5, high: 4}\n");
  EXPECT_TRUE(has(e, "integers")) << e;
  e = error_of(std::string(kHead) +
               "  - {name: n, type: int, low: 1, high: 8, step: 2, log: true}\n");
  EXPECT_TRUE(has(e, "parameters[0].step")) << e;
  e = error_of(std::string(kHead) + "  - {name: c, type: categorical, choices: [1, 2, 1]}\n");
  EXPECT_TRUE(has(e, "given twice")) << e;
  e = error_of(std::string(kHead) + "  - {name: c, type: categorical, choices: []}\n");
  EXPECT_TRUE(has(e, "at least one choice")) << e;
  e = error_of(std::string(kHead) + "  - {name: c, type: categorical, choices: [a], low: 0}\n");
  EXPECT_TRUE(has(e, "categorical parameter takes choices")) << e;
  e = error_of(std::string(kHead) + "  - {name: x, type: float, low: 0, high: 1}\n" +
               "  - {name: x, type: float, low: 0, high: 1}\n");
  EXPECT_TRUE(has(e, "parameters[1].name") && has(e, "declared twice")) << e;
  e = error_of(
      std::string(kHead) + "  - {name: d, type: float, low: 0, high: 1, " +
      "active_if: {param: layers, min: 2}}\n  - {name: layers, type: int, low: 1, high: 3}\n");
  EXPECT_TRUE(has(e, "active_if.param") && has(e, "declared before")) << e;
  e = error_of(std::string(kHead) + "  - {name: k, type: categorical, choices: [a, b]}\n" +
               "  - {name: y, type: float, low: 0, high: 1, active_if: {param: k, in: [c]}}\n");
  EXPECT_TRUE(has(e, "active_if.in") && has(e, "'c'")) << e;
  e = error_of(std::string(kHead) +
               "  - {name: x, type: float, low: 0, high: 1, inactive_value: 0}\n");
  EXPECT_TRUE(has(e, "inactive_value")) << e;
  e = error_of("model: cnn\nparameters:\n  - {name: x, type: float, low: 0, high: 1}\n");
  EXPECT_TRUE(has(e, "model") && has(e, "not allowed")) << e;
  e = error_of("model: mlp\nparameters: []\n");
  EXPECT_TRUE(has(e, "parameters")) << e;
  EXPECT_EQ(error_of(std::string(kHead) + "  - {name: x, type: float, low: 0, high: 1}\n"), "");
}

TEST(TuneSpace, TransformsFollowOptunasParzenBounds) {
  Param lr = param("lr", ParamKind::real);
  lr.low = 1e-5;
  lr.high = 1e-2;
  lr.log = true;
  Param n = param("n", ParamKind::integer);
  n.low = 100;
  n.high = 1000;
  n.step = 100;
  Param k = param("k", ParamKind::integer);
  k.low = 1;
  k.high = 64;
  k.log = true;
  Param g = param("g", ParamKind::real);
  g.low = 1.0;
  g.high = 2.0;
  g.step = 0.1;
  const auto space = SearchSpace::from_params({lr, n, k, g});
  const Param& plr = space.param("lr");
  const Param& pn = space.param("n");
  const Param& pk = space.param("k");
  const Param& pg = space.param("g");

  EXPECT_DOUBLE_EQ(plr.transformed_bounds().low, std::log(1e-5));
  EXPECT_DOUBLE_EQ(plr.transformed_bounds().high, std::log(1e-2));
  EXPECT_EQ(plr.transformed_bounds().q, 0.0);
  EXPECT_NEAR(plr.from_transformed(plr.to_transformed(3e-4)), 3e-4, 1e-15);
  // Out-of-range values are clipped to the bounds.
  EXPECT_EQ(plr.from_transformed(std::log(1.0)), 1e-2);

  EXPECT_EQ(pn.transformed_bounds().low, 50);
  EXPECT_EQ(pn.transformed_bounds().high, 1050);
  EXPECT_EQ(pn.transformed_bounds().q, 100);
  EXPECT_EQ(pn.from_transformed(349.0), 300);
  EXPECT_EQ(pn.from_transformed(351.0), 400);
  EXPECT_EQ(pn.from_transformed(1049.0), 1000);
  EXPECT_TRUE(pn.contains(700));
  EXPECT_FALSE(pn.contains(750));

  EXPECT_DOUBLE_EQ(pk.transformed_bounds().low, std::log(0.5));
  EXPECT_DOUBLE_EQ(pk.transformed_bounds().high, std::log(64.5));
  EXPECT_EQ(pk.from_transformed(std::log(7.4)), 7);
  EXPECT_EQ(pk.from_transformed(std::log(0.6)), 1);

  EXPECT_DOUBLE_EQ(pg.from_transformed(1.26), 1.3);
  EXPECT_TRUE(pg.contains(1.7));
  EXPECT_FALSE(pg.contains(1.75));

  EXPECT_EQ(pn.to_external(300), json(300));
  EXPECT_TRUE(pn.to_external(300).is_number_integer());
  EXPECT_EQ(pn.to_internal(json(500)), 500);
  EXPECT_THROW(pn.to_internal(json(550)), Error);
  EXPECT_THROW(plr.to_internal(json("fast")), Error);
}

TEST(TuneSpace, CategoricalValuesKeepTheirTypes) {
  const auto space = SearchSpace::from_text(
      "model: xgboost\nparameters:\n"
      "  - {name: booster, type: categorical, choices: [gbtree, dart]}\n"
      "  - {name: hidden, type: categorical, choices: [32, 64]}\n"
      "  - {name: dropout, type: categorical, choices: [0.0, 0.5]}\n",
      "c.yaml");
  const auto& booster = space.param("booster");
  const auto& hidden = space.param("hidden");
  const auto& dropout = space.param("dropout");
  EXPECT_EQ(booster.to_external(1), json("dart"));
  EXPECT_TRUE(hidden.to_external(1).is_number_integer());
  EXPECT_EQ(dropout.to_external(1), json(0.5));
  EXPECT_EQ(booster.to_internal(json("gbtree")), 0);
  EXPECT_EQ(hidden.to_internal(json(64.0)), 1);  // 64 and 64.0 are one choice
  EXPECT_THROW(booster.to_internal(json("gblinear")), Error);
  EXPECT_EQ(space.study().name, "xgboost_study");
}

TEST(TuneSpace, ConditionsAndModelOverrides) {
  const auto mlp = SearchSpace::load(tune_input("mlp"));
  // n_layers = 2: hidden_dim_0 and _1 active, _2 and _3 not.
  ParamSet p{{"n_layers", 2}, {"hidden_dim_0", 100}};
  EXPECT_TRUE(mlp.is_active(mlp.param("hidden_dim_1"), p));
  EXPECT_FALSE(mlp.is_active(mlp.param("hidden_dim_2"), p));
  p["hidden_dim_1"] = 60;
  p["dropout"] = 1;
  p["lr"] = 1e-3;
  p["weight_decay"] = 1e-5;
  p["batch_size"] = 2;
  EXPECT_NO_THROW(mlp.check(p));
  const json o = mlp.model_overrides(p);
  EXPECT_EQ(o["hidden_dims"], json({100, 60}));
  EXPECT_EQ(o["learning_rate"], json(1e-3));
  EXPECT_EQ(o["batch_size"], json(128));
  EXPECT_EQ(o["dropout"], json(0.1));
  EXPECT_EQ(o["epochs"], json(20));
  EXPECT_FALSE(o.contains("n_layers"));
  // A value for an inactive parameter, or none for an active one, is refused.
  ParamSet extra = p;
  extra["hidden_dim_3"] = 40;
  EXPECT_THROW(mlp.check(extra), Error);
  ParamSet missing = p;
  missing.erase("hidden_dim_1");
  EXPECT_THROW(mlp.check(missing), Error);

  const auto lstm = SearchSpace::load(tune_input("lstm"));
  const ParamSet one_layer{{"hidden_dim", 3},
                           {"num_layers", 1},
                           {"batch_size", 0},
                           {"lr", 1e-4},
                           {"weight_decay", 1e-6}};
  EXPECT_NO_THROW(lstm.check(one_layer));
  const json lo = lstm.model_overrides(one_layer);
  EXPECT_EQ(lo["dropout"], json(0.0));  // the seed's "else 0"
  EXPECT_EQ(lo["num_layers"], json(1));
  EXPECT_EQ(lo["hidden_dim"], json(256));
  // JSON round trip as the journal stores parameters.
  EXPECT_EQ(lstm.from_json(lstm.to_json(one_layer)), one_layer);
}
