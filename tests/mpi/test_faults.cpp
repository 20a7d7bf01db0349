// Issue 14: bad values and full disks. Every reader refuses a non-finite
// sample naming the file, dataset, sample and feature; a full disk fails
// every rank together with "no space left on device" and the path, leaves no
// temporary file and nothing that looks complete. Full disks are small tmpfs
// mounts (the tests skip, saying why, where mounting is not allowed).
#include <gtest/gtest.h>
#include <hdf5.h>
#include <mpi.h>
#include <pnetcdf.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "core/atomic_file.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "core/mpi_util.hpp"
#include "data/dataset.hpp"
#include "data/prepare.hpp"
#include "io/nc_writer.hpp"
#include "io/sample_store.hpp"
#include "models/nn_config.hpp"
#include "models/xgboost_config.hpp"
#include "models/xgboost_model.hpp"
#include "support/mpi_test_util.hpp"
#include "support/testbed_samples.hpp"
#include "support/tiny_dataset.hpp"
#include "train/nn_trainer.hpp"
#include "train/xgboost_trainer.hpp"

namespace fs = std::filesystem;
using test_util::shared_temp_dir;
using test_util::world_rank;
using namespace fluxrecon;

namespace {

// Rank 0 overwrites one float of `dataset` (row `row`, flat index `inner`
// within the row) with `value`, through serial HDF5, as a damaged store would hold.
void poke(const std::string& path, const char* dataset, hsize_t row, hsize_t inner, float value) {
  if (world_rank() == 0) {
    hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    hid_t set = H5Dopen2(f, dataset, H5P_DEFAULT);
    hid_t space = H5Dget_space(set);
    const int rank = H5Sget_simple_extent_ndims(space);
    hsize_t dims[3] = {0, 0, 0};
    H5Sget_simple_extent_dims(space, dims, nullptr);
    hsize_t start[3] = {row, 0, 0}, count[3] = {1, 1, 1};
    if (rank == 3) {
      start[1] = inner / dims[2];
      start[2] = inner % dims[2];
    }
    H5Sselect_hyperslab(space, H5S_SELECT_SET, start, nullptr, count, nullptr);
    hsize_t one = 1;
    hid_t memory = H5Screate_simple(1, &one, nullptr);
    EXPECT_GE(H5Dwrite(set, H5T_NATIVE_FLOAT, memory, space, H5P_DEFAULT, &value), 0);
    H5Sclose(memory);
    H5Sclose(space);
    H5Dclose(set);
    H5Fclose(f);
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

// Copies of the testbed's train.h5 and validation.h5 in a fresh folder.
std::string copy_of_samples(const std::string& name) {
  const std::string& samples = test_util::testbed_samples();  // collective
  const auto dir = shared_temp_dir(name);
  if (world_rank() == 0)
    for (const char* f : {"train.h5", "validation.h5"})
      fs::copy_file(samples + "/" + f, dir + "/" + f);
  MPI_Barrier(MPI_COMM_WORLD);
  return dir;
}

config::Config xgb_params() {
  return config::Config::from_yaml(YAML::Load("{num_boost_round: 3, max_depth: 3}"),
                                   models::xgboost_schema(), "test_params.yaml");
}

// What `body` threw (collective on every rank), or "" when it did not.
std::string collective_error(const std::function<void()>& body) {
  try {
    body();
  } catch (const Error& e) {
    EXPECT_TRUE(e.collective()) << e.what();
    return e.what();
  }
  return {};
}

// Files left in `dir` whose name says they are temporary.
int temp_files_in(const std::string& dir) {
  int n = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.path().filename().string().find(".part-") != std::string::npos) ++n;
  return n;
}

// A small tmpfs mounted at `dir` by rank 0, unmounted at the end of the scope.
class SmallDisk {
 public:
  SmallDisk(const std::string& dir, int kib) : dir_(dir) {
    int ok = 0;
    if (world_rank() == 0) {
      fs::create_directories(dir_);
      const std::string options = "size=" + std::to_string(kib) + "k";
      ok = ::mount("tmpfs", dir_.c_str(), "tmpfs", 0, options.c_str()) == 0;
      if (!ok) reason_ = std::strerror(errno);
    }
    MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD);
    mounted_ = ok != 0;
    reason_ = mpi::broadcast(reason_, 0, MPI_COMM_WORLD);
  }
  ~SmallDisk() {
    MPI_Barrier(MPI_COMM_WORLD);
    if (mounted_ && world_rank() == 0) ::umount2(dir_.c_str(), MNT_DETACH);
    MPI_Barrier(MPI_COMM_WORLD);
  }
  SmallDisk(const SmallDisk&) = delete;
  SmallDisk& operator=(const SmallDisk&) = delete;
  bool mounted() const { return mounted_; }
  const std::string& reason() const { return reason_; }

 private:
  std::string dir_, reason_;
  bool mounted_ = false;
};

#define SKIP_UNLESS_MOUNTED(disk) \
  if (!(disk).mounted())          \
  GTEST_SKIP() << "cannot mount a small tmpfs here (" << (disk).reason() << "; needs root)"

bool says_disk_full(const std::string& message) {
  return message.find("no space left on device") != std::string::npos;
}

}  // namespace

TEST(Faults, EveryStoreReaderRefusesNonFiniteSamplesNamingThem) {
  const auto dir = copy_of_samples("nan_store");
  std::vector<std::string> names;
  const auto shard = io::read_sample_shard(dir + "/train.h5", MPI_COMM_WORLD);
  names = shard.feature_names;
  ASSERT_GT(shard.total, 10);
  // Feature 2 of the second month of sample 7; +inf as the target of sample 3.
  poke(dir + "/train.h5", "features", 7, names.size() + 2, std::nanf(""));
  poke(dir + "/validation.h5", "target", 3, 0, std::numeric_limits<float>::infinity());

  const std::string parallel =
      collective_error([&] { io::read_sample_shard(dir + "/train.h5", MPI_COMM_WORLD); });
  for (const std::string& part :
       {dir + "/train.h5", std::string("'features'"), std::string("sample 7"), "'" + names[2] + "'",
        std::string("month 2")})
    EXPECT_NE(parallel.find(part), std::string::npos) << part << " not in: " << parallel;
  if (world_rank() == 0) {
    try {
      io::read_samples(dir + "/validation.h5");
      ADD_FAILURE() << "read_samples accepted an infinite target";
    } catch (const Error& e) {
      const std::string text = e.what();
      EXPECT_NE(text.find("'target' holds inf at sample 3"), std::string::npos) << text;
    }
  }
}

TEST(Faults, XgboostTrainingOnANaNStoreFailsOnEveryRankWithoutAModel) {
  const auto dir = copy_of_samples("nan_xgb");
  // The last sample: at 2 ranks only the last rank's shard holds it.
  const auto total = io::read_sample_shard(dir + "/train.h5", MPI_COMM_WORLD).total;
  poke(dir + "/train.h5", "features", static_cast<hsize_t>(total - 1), 0, std::nanf(""));
  const double start = MPI_Wtime();
  const std::string error = collective_error([&] {
    train::train_xgboost(xgb_params(), {dir, dir + "/m", false}, MPI_COMM_WORLD);
  });
  EXPECT_NE(error.find("sample " + std::to_string(total - 1)), std::string::npos) << error;
  EXPECT_LT(MPI_Wtime() - start, 60.0);
  EXPECT_FALSE(fs::exists(dir + "/m/xgboost.json"));
}

TEST(Faults, StoreWriterRefusesANaNOnOneRankOnEveryRank) {
  const auto dir = shared_temp_dir("nan_writer");
  const std::vector<std::string> names = {"a", "b"};
  io::Normalisation norm{{0, 0}, {1, 1}, 0, 1};
  const int ranks = test_util::world_size();
  const std::string error = collective_error([&] {
    AtomicOutput out(dir + "/s.h5", MPI_COMM_WORLD);
    io::SampleStoreWriter w(out.temp_path(), ranks, 1, names, norm, "{}", MPI_COMM_WORLD);
    io::SampleBlock b;
    b.features = {1.0f, world_rank() == ranks - 1 ? -std::numeric_limits<float>::infinity() : 2.0f};
    b.target = {0.5f};
    b.lat = b.lon = {0.0f};
    b.year = b.month = {1};
    b.location = {world_rank()};
    w.write(world_rank(), b);
    w.close();
    out.commit();
  });
  EXPECT_NE(error.find("dataset 'features' holds -inf at sample " + std::to_string(ranks - 1) +
                       ", feature 'b'"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find(dir + "/s.h5"), std::string::npos) << error;
  MPI_Barrier(MPI_COMM_WORLD);
  EXPECT_TRUE(fs::is_empty(dir));
}

TEST(Faults, FullDiskTextOutputSaysSoAndLeavesNothing) {
  const auto dir = shared_temp_dir("full_text") + "/disk";
  SmallDisk disk(dir, 64);
  SKIP_UNLESS_MOUNTED(disk);
  if (world_rank() == 0) {
    const std::string path = dir + "/big.json";
    try {
      write_text_atomically(path, std::string(200 * 1024, 'x'));
      ADD_FAILURE() << "wrote 200 KB on a 64 KB disk";
    } catch (const Error& e) {
      EXPECT_TRUE(says_disk_full(e.what())) << e.what();
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
    EXPECT_FALSE(output_complete(path));
    EXPECT_TRUE(fs::is_empty(dir));
  }
}

TEST(Faults, FullDiskSampleStoreFailsEveryRankAndLeavesNothing) {
  const auto dir = shared_temp_dir("full_store") + "/disk";
  SmallDisk disk(dir, 256);
  SKIP_UNLESS_MOUNTED(disk);
  io::Normalisation norm{{0, 0, 0}, {1, 1, 1}, 0, 1};
  const double start = MPI_Wtime();
  const std::string error = collective_error([&] {
    AtomicOutput out(dir + "/train.h5", MPI_COMM_WORLD);
    io::SampleStoreWriter w(out.temp_path(), 100000, 4, {"a", "b", "c"}, norm, "{}",
                            MPI_COMM_WORLD);
    w.close();
    out.commit();
  });
  EXPECT_TRUE(says_disk_full(error)) << error;
  EXPECT_NE(error.find(dir + "/train.h5"), std::string::npos) << error;
  EXPECT_LT(MPI_Wtime() - start, 30.0);
  MPI_Barrier(MPI_COMM_WORLD);
  EXPECT_TRUE(fs::is_empty(dir));
}

TEST(Faults, FullDiskNetcdfFailsEveryRankAndLeavesNothing) {
  const auto dir = shared_temp_dir("full_nc") + "/disk";
  SmallDisk disk(dir, 256);
  SKIP_UNLESS_MOUNTED(disk);
  const std::string error = collective_error([&] {
    AtomicOutput out(dir + "/cache.nc", MPI_COMM_WORLD);
    io::NcWriter w(out.temp_path(), MPI_COMM_WORLD, io::WriteFormat::cdf5);
    w.define_dimension("time", 12);
    w.define_dimension("y", 100);
    w.define_dimension("x", 200);
    w.define_variable("flux", io::NcType::float32, {"time", "y", "x"});
    w.end_definitions();
    w.close();
    out.commit();
  });
  EXPECT_TRUE(says_disk_full(error)) << error;
  EXPECT_NE(error.find(dir + "/cache.nc"), std::string::npos) << error;
  MPI_Barrier(MPI_COMM_WORLD);
  EXPECT_TRUE(fs::is_empty(dir));
}

TEST(Faults, OutputIsCompleteOnlyWhileItsSealMatches) {
  const auto dir = shared_temp_dir("seal");
  const std::string path = dir + "/cache.nc";
  {
    AtomicOutput out(path, MPI_COMM_WORLD);
    if (world_rank() == 0) std::ofstream(out.temp_path()) << std::string(1000, 'a');
    out.commit();
  }
  EXPECT_TRUE(output_complete(path, MPI_COMM_WORLD));
  EXPECT_EQ(temp_files_in(dir), 0);
  if (world_rank() == 0) {  // the same size, one byte changed: only the checksum sees it
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(500);
    f.put('\0');
  }
  MPI_Barrier(MPI_COMM_WORLD);
  EXPECT_FALSE(output_complete(path, MPI_COMM_WORLD));
  if (world_rank() == 0) fs::resize_file(path, 10);
  MPI_Barrier(MPI_COMM_WORLD);
  EXPECT_FALSE(output_complete(path, MPI_COMM_WORLD));
}

TEST(Faults, ALaterRunRemovesTheTemporaryFilesOfDeadRuns) {
  const auto dir = shared_temp_dir("stale");
  const std::string host = mpi::hostname();
  std::string dead, alive, elsewhere;
  if (world_rank() == 0) {
    long pid_max = 32768;
    std::ifstream("/proc/sys/kernel/pid_max") >> pid_max;
    long pid = pid_max - 1;
    while (pid > 2 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH)) --pid;
    dead = dir + "/.cache.nc.part-" + host + "-" + std::to_string(pid);
    alive = dir + "/.cache.nc.part-" + host + "-1";  // init: always running
    elsewhere = dir + "/.cache.nc.part-other-node-" + std::to_string(pid);
    for (const auto& f : {dead, alive, elsewhere}) std::ofstream(f) << "half";
  }
  MPI_Barrier(MPI_COMM_WORLD);
  { AtomicOutput out(dir + "/cache.nc", MPI_COMM_WORLD); }
  if (world_rank() == 0) {
    EXPECT_FALSE(fs::exists(dead)) << "a dead run's temporary file stayed";
    EXPECT_TRUE(fs::exists(alive)) << "a running process's temporary file was removed";
    EXPECT_TRUE(fs::exists(elsewhere)) << "another node's temporary file was removed";
  }
}

TEST(Faults, AnAllLandMaskIsNamedAsSuchNotAsATooSmallFraction) {
  const auto dir = shared_temp_dir("all_land");
  if (world_rank() == 0)
    for (int y = 2000; y <= 2004; ++y) {
      tiny::write_year(dir + "/data", y);
      const std::string path = dir + "/data/tiny_" + std::to_string(y) + ".nc";
      int nc = 0, mask = 0;
      tiny::check(ncmpi_open(MPI_COMM_SELF, path.c_str(), NC_WRITE, MPI_INFO_NULL, &nc), "open");
      tiny::check(ncmpi_inq_varid(nc, "tmask", &mask), "tmask");
      const std::vector<signed char> land(tiny::nx * tiny::ny, 0);
      tiny::check(ncmpi_put_var_schar_all(nc, mask, land.data()), "put");
      tiny::check(ncmpi_close(nc), "close");
    }
  MPI_Barrier(MPI_COMM_WORLD);
  const auto cfg = config::Config::from_text(
      tiny::config_text(
          dir + "/data",
          "time: {train: [2001, 2002], validation: [2003, 2003], test: [2003, 2004]}\n"
          "sampling: {fraction: 0.5}\n"),
      data::dataset_schema(), "tiny.yaml");
  data::PrepareOptions opt;
  opt.out_dir = dir + "/out";
  const std::string error = collective_error([&] { data::prepare(cfg, opt, MPI_COMM_WORLD); });
  EXPECT_NE(error.find("tiny_2001.nc"), std::string::npos) << error;
  EXPECT_NE(error.find("'grid.mask: tmask' marks every point of the 8 x 6 grid as land"),
            std::string::npos)
      << error;
  EXPECT_EQ(error.find("raise the fraction"), std::string::npos) << error;
}

TEST(Faults, AnUnreadableCheckpointSaysThatForceStartsAfresh) {
  const std::string& samples = test_util::testbed_samples();
  const auto dir = shared_temp_dir("bad_checkpoint");
  if (world_rank() == 0)  // sealed, so it looks complete, but not HDF5
    write_text_atomically(dir + "/models/mlp_checkpoint.h5", "not a checkpoint");
  MPI_Barrier(MPI_COMM_WORLD);
  const auto params =
      config::Config::from_text("{hidden_dims: [8], batch_size: 64, epochs: 1}",
                                models::network_schema(models::NetworkKind::mlp), "mlp.yaml");
  train::NeuralTrainOptions opt;
  opt.samples_dir = samples;
  opt.out_dir = dir + "/models";
  opt.resume = true;
  const std::string error = collective_error(
      [&] { train::train_network(models::NetworkKind::mlp, params, opt, MPI_COMM_WORLD); });
  EXPECT_NE(error.find("cannot resume from " + dir + "/models/mlp_checkpoint.h5"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("train with --force to start afresh"), std::string::npos) << error;
  opt.force = true;  // what the message says: it trains
  EXPECT_FALSE(train::train_network(models::NetworkKind::mlp, params, opt, MPI_COMM_WORLD).reused);
  EXPECT_TRUE(output_complete(dir + "/models/mlp.h5", MPI_COMM_WORLD));
}

// Stores are written in HDF5's checksummed format (superblock 2+, "OHDR"
// object headers), so a damaged header is refused by HDF5's checksum, with
// our message naming the file, instead of being decoded into wrong metadata.
TEST(Faults, ADamagedStoreHeaderIsRefusedNamingTheFile) {
  const auto dir = copy_of_samples("damaged_header");
  const std::string path = dir + "/train.h5";
  if (world_rank() == 0) {
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    std::string head(4096, '\0');
    file.read(head.data(), static_cast<std::streamsize>(head.size()));
    ASSERT_EQ(head.compare(0, 8, "\x89HDF\r\n\x1a\n"), 0) << "no HDF5 signature at 0";
    EXPECT_GE(static_cast<int>(head[8]), 2) << "superblock version without checksums";
    const auto header = head.find("OHDR");
    ASSERT_NE(header, std::string::npos) << "no checksummed object header in the first 4 KiB";
    file.clear();
    file.seekp(static_cast<std::streamoff>(header + 24));
    const char flipped = static_cast<char>(head[header + 24] ^ 0x5a);
    file.write(&flipped, 1);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  const std::string parallel =
      collective_error([&] { io::read_sample_shard(path, MPI_COMM_WORLD); });
  EXPECT_NE(parallel.find(path), std::string::npos) << parallel;
  if (world_rank() == 0) {
    EXPECT_THROW(io::read_metadata(path), Error);
    EXPECT_THROW(io::read_samples(path), Error);
  }
}
