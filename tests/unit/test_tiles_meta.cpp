// meta.yaml validation, scene IDs, times, the zenith filter and GOES file
// names, with the worked cases of the tiles spec (sections 2.3, 9.2, 9.4).
#include <gtest/gtest.h>

#include <string>

#include "core/error.hpp"
#include "tiles/goes_names.hpp"
#include "tiles/meta.hpp"
#include "tiles/time_util.hpp"

using namespace fluxrecon::tiles;

namespace {

const char* kGoesMeta = R"(
source: goes16
type: truecolor_rgb
time: {N_days: 1, t_start: 2020-02-02 10:00, filters: {N_hours_from_zenith: 0.2}}
domain: {central_latitude: 13.3, central_longitude: -57.5, l_zonal: 400.0e+3, l_meridional: 400.0e+3}
sampling:
  resolution: 1000.0
  rect-slidingwindow: {tile_N: 256, step_size: 30}
  triplets: {N_triplets: {train: 2}, tile_N: 256, neigh_dist_scaling: 0.1,
             scene_collections_splitting: random_by_relative_sample_size}
)";

Meta meta(const std::string& text) { return meta_from_text(text, "meta.yaml", "/tmp/ds"); }

std::string error_of(const std::string& text) {
  try {
    meta(text);
  } catch (const fluxrecon::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(TilesTime, CivilRoundTripAndDayOfYear) {
  const Seconds t = make_time(2020, 2, 2, 15, 40, 20);
  const Civil c = civil(t);
  EXPECT_EQ(c.year, 2020);
  EXPECT_EQ(c.month, 2);
  EXPECT_EQ(c.day, 2);
  EXPECT_EQ(c.hour, 15);
  EXPECT_EQ(c.minute, 40);
  EXPECT_EQ(c.second, 20);
  EXPECT_EQ(day_of_year(t), 33);
  EXPECT_EQ(day_of_year(make_time(2020, 12, 31)), 366);
  EXPECT_EQ(make_time(1970, 1, 1), 0);
  EXPECT_EQ(make_time(2000, 3, 1), 951868800);  // date -d 2000-03-01Z +%s
  EXPECT_EQ(iso_datetime(t), "2020-02-02T15:40:20");
}

TEST(TilesTime, ParsesDatetimesAndDurations) {
  EXPECT_EQ(parse_datetime("2020-02-02T14:00", "x"), make_time(2020, 2, 2, 14));
  EXPECT_EQ(parse_datetime("2018-10-01 00:00:00", "x"), make_time(2018, 10, 1));
  EXPECT_EQ(parse_datetime("2018-10-01", "x"), make_time(2018, 10, 1));
  EXPECT_THROW(parse_datetime("2018-02-30", "x"), fluxrecon::Error);
  EXPECT_THROW(parse_datetime("yesterday", "x"), fluxrecon::Error);
  EXPECT_EQ(parse_iso_duration("PT30M", "x"), 1800);
  EXPECT_EQ(parse_iso_duration("P1DT1H", "x"), 90000);
  EXPECT_EQ(parse_iso_duration("PT1.5H", "x"), 5400);
  EXPECT_THROW(parse_iso_duration("30 minutes", "x"), fluxrecon::Error);
  EXPECT_THROW(parse_iso_duration("PT", "x"), fluxrecon::Error);
  EXPECT_EQ(iso_duration(900), "PT15M");
  EXPECT_EQ(iso_duration(90000), "P1DT1H");
}

TEST(TilesTime, SceneIdsTruncateToTheMinuteAndParse) {
  EXPECT_EQ(make_scene_id("goes16", make_time(2020, 2, 2, 15, 40, 59)), "goes16__202002021540");
  const auto [source, t] = parse_scene_id("LES__202002021200");
  EXPECT_EQ(source, "LES");
  EXPECT_EQ(t, make_time(2020, 2, 2, 12));
  EXPECT_THROW(parse_scene_id("goes16_202002021540"), fluxrecon::Error);
  EXPECT_THROW(parse_scene_id("a__b__202002021540"), fluxrecon::Error);
  EXPECT_THROW(parse_scene_id("goes16__202013021540"), fluxrecon::Error);
}

TEST(TilesTime, ZenithTimeAtMinus57_5IsFifteenFifty) {
  const double tz = nearest_zenith_time(make_time(2020, 2, 2, 14, 0), -57.5);
  EXPECT_EQ(static_cast<Seconds>(tz), make_time(2020, 2, 2, 15, 50));
}

// satdata's test: for every longitude the zenith time is found from 15 min either side.
TEST(TilesTime, ZenithTimeWithinTwentyMinutesForAllLongitudes) {
  for (int lon = -360; lon < 360; lon += 10) {
    const double t_zen = static_cast<double>(make_time(2020, 2, 2, 12)) - lon * 240.0;
    for (int off : {-15, 0, 15}) {
      const auto t_ref = static_cast<Seconds>(t_zen) + off * 60;
      EXPECT_LE(std::abs(nearest_zenith_time(t_ref, lon) - t_zen), 20 * 60.0) << lon << " " << off;
    }
  }
}

TEST(TilesTime, ZenithFilterKeepsTheSpecsThreeScans) {
  const Meta m = meta(kGoesMeta);
  std::vector<std::string> kept;
  // Mode-6 full-disk scans start at :X0:20 all day.
  for (Seconds t = make_time(2020, 2, 2, 0, 0, 20); t < make_time(2020, 2, 3); t += 600)
    if (passes_time_filters(m.time, t, m.domain.central_longitude))
      kept.push_back(make_scene_id("goes16", t));
  EXPECT_EQ(kept, (std::vector<std::string>{"goes16__202002021540", "goes16__202002021550",
                                            "goes16__202002021600"}));
}

TEST(TilesTime, AttributeFiltersAndIntervals) {
  const Meta m = meta(R"(
source: LES
type: singlechannel__rlut
time:
  intervals:
    - {t_start: 2020-02-02T10:00, t_end: 2020-02-02T12:00}
    - {t_start: 2020-02-03T10:00, N_days: 0.5}
  filters: {minute: [0, 30], hour: 11}
sampling: {resolution: 100.0}
)");
  ASSERT_EQ(m.time.intervals.size(), 2u);
  EXPECT_EQ(m.time.intervals[1].end, make_time(2020, 2, 3, 22));
  EXPECT_TRUE(passes_time_filters(m.time, make_time(2020, 2, 2, 11, 30), std::nullopt));
  EXPECT_FALSE(passes_time_filters(m.time, make_time(2020, 2, 2, 11, 20), std::nullopt));
  EXPECT_FALSE(passes_time_filters(m.time, make_time(2020, 2, 2, 10, 30), std::nullopt));
  EXPECT_TRUE(passes_time_filters(m.time, make_time(2020, 2, 3, 11, 0), std::nullopt));
  EXPECT_FALSE(passes_time_filters(m.time, make_time(2020, 2, 4, 11, 0), std::nullopt));
}

TEST(TilesMeta, ReadsTheSpecTestExample) {
  const Meta m = meta(kGoesMeta);
  EXPECT_EQ(m.source, "goes16");
  EXPECT_EQ(m.product.kind, Product::Kind::truecolor_rgb);
  ASSERT_EQ(m.product.inputs.size(), 3u);
  EXPECT_EQ(m.product.inputs[1].channel, 2);
  EXPECT_FALSE(m.domain.as_source);
  EXPECT_DOUBLE_EQ(m.domain.l_zonal, 400e3);
  EXPECT_DOUBLE_EQ(m.resolution, 1000.0);
  EXPECT_TRUE(m.triplets.present);
  ASSERT_EQ(m.triplets.n_triplets.size(), 1u);
  EXPECT_EQ(m.triplets.n_triplets[0].second, 2);
  EXPECT_DOUBLE_EQ(m.triplets.neigh_dist_scaling, 0.1);
  EXPECT_EQ(m.sliding.step_size, 30);
  EXPECT_EQ(m.time.intervals[0].end, make_time(2020, 2, 3, 10));
  EXPECT_EQ(m.data_path, "/tmp/ds");
  EXPECT_EQ(m.name, "ds");
}

TEST(TilesMeta, ProductGrammar) {
  auto p = parse_product("goes16", "multichannel__bt_13__11__bt_15", "type");
  ASSERT_EQ(p.inputs.size(), 3u);
  EXPECT_TRUE(p.inputs[0].brightness_temperature);
  EXPECT_EQ(p.inputs[0].channel, 13);
  EXPECT_FALSE(p.inputs[1].brightness_temperature);
  p = parse_product("LES", "multichannel__rlut__lwp", "type");
  EXPECT_EQ(p.inputs[1].variable, "lwp");
  EXPECT_THROW(parse_product("goes16", "singlechannel__bt_2", "type"), fluxrecon::Error);
  EXPECT_THROW(parse_product("goes16", "singlechannel__17", "type"), fluxrecon::Error);
  EXPECT_THROW(parse_product("goes16", "singlechannel__refl_2", "type"), fluxrecon::Error);
  EXPECT_THROW(parse_product("goes16", "multichannel__1__1", "type"), fluxrecon::Error);
  EXPECT_THROW(parse_product("goes16", "singlechannel__1__2", "type"), fluxrecon::Error);
  EXPECT_THROW(parse_product("LES", "truecolor_rgb", "type"), fluxrecon::Error);
}

TEST(TilesMeta, IntegerNTripletsMeansTrain) {
  const Meta m = meta(
      "source: LES\ntype: singlechannel__rlut\nsampling: {resolution: 100.0, "
      "triplets: {N_triplets: 7}}\n");
  ASSERT_EQ(m.triplets.n_triplets.size(), 1u);
  EXPECT_EQ(m.triplets.n_triplets[0].first, "train");
  EXPECT_EQ(m.triplets.n_triplets[0].second, 7);
  EXPECT_EQ(m.triplets.tile_N, 256);
  EXPECT_TRUE(m.domain.as_source);
}

TEST(TilesMeta, RejectsBadInputWithKeyAndAllowedValues) {
  const std::string les = "source: LES\ntype: singlechannel__rlut\n";
  EXPECT_NE(error_of("source: goes17\ntype: truecolor_rgb\nsampling: {resolution: 1.0}\n")
                .find("goes16, LES"),
            std::string::npos);
  EXPECT_NE(error_of(les + "sampling: {resolution: 1.0}\ncolour: red\n").find("'colour'"),
            std::string::npos);
  EXPECT_NE(error_of(les).find("sampling.resolution"), std::string::npos);
  EXPECT_NE(
      error_of(les + "sampling: {resolution: 1.0, triplets: {tile_N: 64}}\n").find("N_triplets"),
      std::string::npos);
  EXPECT_NE(error_of(les + "sampling: {resolution: 1.0, triplets: {N_triplets: {study: 3}}}\n")
                .find("'train'"),
            std::string::npos);
  EXPECT_NE(error_of(les + "sampling: {resolution: 1.0, triplets: {N_triplets: 3, "
                           "scene_collections_splitting: by_month}}\n")
                .find("random_by_relative_sample_size"),
            std::string::npos);
  EXPECT_NE(error_of(les + "sampling: {resolution: 1.0}\ntime: {t_start: 2020-02-02T12:00, "
                           "t_end: 2020-02-02T10:00}\n")
                .find("inverted"),
            std::string::npos);
  EXPECT_NE(error_of(les + "sampling: {resolution: 1.0}\ntime: {intervals: [{t_start: "
                           "2020-02-02T10:00, t_end: 2020-02-02T12:00}, {t_start: "
                           "2020-02-02T11:00, t_end: 2020-02-02T13:00}]}\n")
                .find("overlap"),
            std::string::npos);
  EXPECT_NE(error_of(les + "sampling: {resolution: 1.0}\ntime: {t_start: 2020-02-02T10:00, "
                           "N_days: 1, filters: {minutes: [0]}}\n")
                .find("did you mean 'minute'"),
            std::string::npos);
  EXPECT_NE(error_of(les + "sampling: {resolution: 1.0}\ndomain: {central_latitude: 10, "
                           "l_zonal: 1000}\n")
                .find("central_longitude"),
            std::string::npos);
  EXPECT_NE(error_of(les + "sampling: {resolution: 1.0}\naux_products: {a: {source: LES, type: "
                           "singlechannel__x, scene_mapping_strategy: nearest}}\n")
                .find("all_scenes_within_dt_aux"),
            std::string::npos);
  EXPECT_NE(error_of(les + "sampling: {resolution: 1.0}\naux_products: {a: {source: LES, type: "
                           "singlechannel__x, dt_aux: 30min}}\n")
                .find("ISO-8601"),
            std::string::npos);
  EXPECT_NE(error_of(les + "sampling: {resolution: 1.0}\ntime: {t_start: 2020-02-02T10:00, "
                           "N_days: 1, filters: {N_hours_from_zenith: 1}}\n")
                .find("central_longitude"),
            std::string::npos);
  EXPECT_NE(error_of("source: goes16\ntype: truecolor_rgb\nsampling: {resolution: 1.0}\n")
                .find("'time' is required"),
            std::string::npos);
}

TEST(TilesMeta, AuxProducts) {
  const Meta m = meta(std::string(kGoesMeta) + R"(
aux_products:
  bt13: {source: goes16, type: singlechannel__bt_13, dt_aux: PT10M,
         scene_mapping_strategy: all_scenes_within_dt_aux}
)");
  ASSERT_EQ(m.aux.size(), 1u);
  EXPECT_EQ(m.aux_product("bt13").dt_aux.value(), 600);
  EXPECT_EQ(m.aux_product("bt13").strategy, "all_scenes_within_dt_aux");
  EXPECT_THROW(m.aux_product("cth"), fluxrecon::Error);
}

TEST(TilesGoesNames, ParsesL2AndL1bKeys) {
  auto k = parse_goes_key(
      "noaa-goes16/ABI-L2-TPWC/2020/037/00/"
      "OR_ABI-L2-TPWC-M6_G16_s20200370001071_e20200370003443_c20200370005459.nc");
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->level, "L2");
  EXPECT_EQ(k->product, "TPW");
  EXPECT_EQ(k->region, "C");
  EXPECT_EQ(k->sensor_mode, 6);
  EXPECT_EQ(k->channel, -1);
  k = parse_goes_key(
      "OR_ABI-L1b-RadC-M6C02_G16_s20200370051071_e20200370053444_c20200370053487.nc");
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->level, "L1b");
  EXPECT_EQ(k->product, "Rad");
  EXPECT_EQ(k->channel, 2);
  EXPECT_EQ(k->region, "C");
  EXPECT_EQ(k->sensor_mode, 6);
  EXPECT_EQ(k->start, make_time(2020, 2, 6, 0, 51, 7));
  k = parse_goes_key(
      "x/OR_ABI-L1b-RadM1-M3C13_G16_s20183651230001_e20183651230059_c20183651231000.nc");
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->region, "M1");
  EXPECT_EQ(k->start, make_time(2018, 12, 31, 12, 30, 0));
  EXPECT_FALSE(parse_goes_key("OR_ABI-L1b-RadF-M6C01_G17_s20200331540204_e1_c1.nc").has_value());
  EXPECT_FALSE(parse_goes_key("readme.txt").has_value());
}

TEST(TilesGoesNames, ExpectedNamesAndModes) {
  const Seconds t = make_time(2020, 2, 2, 15, 40, 20);
  EXPECT_EQ(goes_l1b_folder(t), "noaa-goes16/ABI-L1b-RadF/2020/033/15/");
  EXPECT_EQ(goes_l1b_name_pattern(1, t), "OR_ABI-L1b-RadF-M6C01_G16_s20200331540*_e*_c*.nc");
  EXPECT_EQ(expected_sensor_mode(make_time(2019, 1, 1)), 3);
  EXPECT_EQ(full_disk_interval(make_time(2019, 1, 1)), 900);
}

// Found by tests/fuzz (target meta): a map where text belongs in a block that
// meta.cpp parses itself escaped as yaml-cpp's bad-conversion exception and
// ended the process; now it is an error naming the file and the line.
TEST(TilesMeta, ValuesOfTheWrongKindAreErrorsNamingTheFileAndLine) {
  const std::string les = "source: LES\ntype: singlechannel__rlut\nsampling: {resolution: 1.0}\n";
  const auto message = error_of(les + "time:\n  t_start: {a: 1}\n  N_days: 1\n");
  EXPECT_NE(message.find("meta.yaml: line "), std::string::npos) << message;
  EXPECT_NE(message.find("wrong kind"), std::string::npos) << message;
}
