#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/atomic_file.hpp"
#include "core/checksum.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/log_progress.hpp"
#include "core/progress.hpp"
#include "core/timer.hpp"

using namespace fluxrecon;
namespace fs = std::filesystem;

TEST(Progress, LineSaysDoneRateAndEta) {
  const auto line = Progress::line("prepare", 25, 100, "years", 5.0);
  EXPECT_NE(line.find("25/100 years (25%)"), std::string::npos) << line;
  EXPECT_NE(line.find("5 years/s"), std::string::npos) << line;
  EXPECT_NE(line.find("ETA 15.0 s"), std::string::npos) << line;
}

// On a terminal a progress update replaces the previous one in place and the
// next ordinary line starts on a line of its own; in a file every update is a
// line.
TEST(Progress, RewritesOneLineOnATerminalAndAddsLinesInAFile) {
  const log::Level keep = log::level();
  log::set_level(log::Level::info);
  log::force_terminal_for_tests(1);
  testing::internal::CaptureStdout();
  log::progress_line("step 1/2", false);
  log::progress_line("step 2/2", true);
  log::progress_line("read 1/3", false);
  log::info("done");
  const std::string terminal = testing::internal::GetCapturedStdout();
  log::force_terminal_for_tests(0);
  testing::internal::CaptureStdout();
  log::progress_line("step 1/2", false);
  log::progress_line("step 2/2", true);
  const std::string file = testing::internal::GetCapturedStdout();
  log::force_terminal_for_tests(-1);
  log::set_level(keep);
  EXPECT_EQ(terminal, "\rstep 1/2\033[K\rstep 2/2\033[K\n\rread 1/3\033[K\ndone\n");
  EXPECT_EQ(file, "step 1/2\nstep 2/2\n");
}

TEST(Log, HumanReadableSizesAndDurations) {
  EXPECT_EQ(log::bytes(512), "512 B");
  EXPECT_EQ(log::bytes(3.5 * 1024 * 1024), "3.5 MiB");
  EXPECT_EQ(log::seconds(12.34), "12.3 s");
  EXPECT_EQ(log::seconds(600), "10m00s");
}

TEST(Timers, AccumulateAndSummarize) {
  Timers t;
  t.add("read", 1.5);
  t.add("read", 0.5);
  t.add("write", 1.0);
  EXPECT_DOUBLE_EQ(t.seconds("read"), 2.0);
  const auto s = t.summarize(MPI_COMM_SELF);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].name, "read");
  EXPECT_DOUBLE_EQ(s[0].max, 2.0);
  EXPECT_DOUBLE_EQ(s[1].avg, 1.0);
}

TEST(Errors, RequireNamesFileLineAndMessage) {
  try {
    FR_REQUIRE(1 + 1 == 3, "value ", 2, " is not 3");
    FAIL() << "no throw";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "value 2 is not 3");
    EXPECT_NE(e.where().find("test_core.cpp:"), std::string::npos);
    EXPECT_FALSE(e.collective());
  }
}

TEST(AtomicOutput, RenamedOnlyWhenCommitted) {
  const auto dir = fs::temp_directory_path() / ("fluxrecon_atomic_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const std::string target = (dir / "sub" / "out.txt").string();
  {
    AtomicOutput out(target, MPI_COMM_SELF);
    std::ofstream(out.temp_path()) << "half";
    EXPECT_FALSE(output_complete(target));
  }  // never committed: the temporary file is removed, nothing looks finished
  EXPECT_FALSE(fs::exists(target));
  EXPECT_TRUE(fs::is_empty(dir / "sub"));
  {
    AtomicOutput out(target, MPI_COMM_SELF);
    std::ofstream(out.temp_path()) << "whole";
    out.commit();
  }
  EXPECT_TRUE(output_complete(target));
  write_text_atomically((dir / "x.json").string(), "{}\n");
  EXPECT_TRUE(fs::exists(dir / "x.json"));
  EXPECT_THROW(ensure_directory("/proc/fluxrecon_not_here"), Error);
  fs::remove_all(dir);
}

// The published FNV-1a 64 test vectors (Fowler, Noll, Vo: "", "a", "foobar"),
// and a file's checksum equal to that of its bytes as text.
TEST(Checksum, Fnv1a64MatchesPublishedVectorsAndFilesEqualTheirText) {
  EXPECT_EQ(fluxrecon::text_checksum(""), "fnv1a64:cbf29ce484222325");
  EXPECT_EQ(fluxrecon::text_checksum("a"), "fnv1a64:af63dc4c8601ec8c");
  EXPECT_EQ(fluxrecon::text_checksum("foobar"), "fnv1a64:85944171f73967e8");
  const auto path = std::filesystem::temp_directory_path() / "fluxrecon_checksum_test.bin";
  std::string bytes(3 << 20, '\0');  // over one read buffer
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 131 % 251);
  std::ofstream(path, std::ios::binary) << bytes;
  EXPECT_EQ(fluxrecon::file_checksum(path.string()), fluxrecon::text_checksum(bytes));
  std::filesystem::remove(path);
  EXPECT_THROW(fluxrecon::file_checksum(path.string()), fluxrecon::Error);
}
