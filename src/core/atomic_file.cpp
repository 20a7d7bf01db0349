#include "core/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <vector>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_util.hpp"

namespace fluxrecon {
namespace fs = std::filesystem;

namespace {

constexpr const char* kTempMark = ".part-";
constexpr const char* kSealSuffix = ".seal";

std::string temp_name_for(const fs::path& target) {
  return (target.parent_path() / ("." + target.filename().string() + kTempMark + mpi::hostname() +
                                  "-" + std::to_string(::getpid())))
      .string();
}

fs::path seal_path(const fs::path& target) {
  return target.parent_path() / ("." + target.filename().string() + kSealSuffix);
}

// Owns a POSIX file descriptor.
struct Fd {
  int fd;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  // Closes now; errno of a failed close (0 when it worked).
  int close_now() {
    const int status = ::close(fd);
    fd = -1;
    return status == 0 ? 0 : errno;
  }
};

std::uint64_t free_bytes(const std::string& path) { return free_disk_bytes(path); }

// 64-bit FNV-1a over 8-byte words (then the tail bytes): cheap enough to
// reread every output once, strong enough to catch lost or zeroed blocks.
bool checksum_file(const std::string& path, std::uint64_t* size, std::uint64_t* sum) {
  Fd f(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (f.fd < 0) return false;
  std::vector<unsigned char> buffer(1 << 20);
  std::uint64_t h = 1469598103934665603ULL, total = 0;
  for (;;) {
    const ssize_t got = ::read(f.fd, buffer.data(), buffer.size());
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return false;
    if (got == 0) break;
    const auto n = static_cast<std::size_t>(got);
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      std::uint64_t word = 0;
      std::memcpy(&word, buffer.data() + i, 8);
      h = (h ^ word) * 1099511628211ULL;
    }
    for (; i < n; ++i) h = (h ^ buffer[i]) * 1099511628211ULL;
    total += n;
  }
  *size = total;
  *sum = h ^ total;
  return true;
}

// Writes all of `text` to a new file `path`, flushed to disk; 0 or the errno.
int write_file(const std::string& path, const std::string& text) {
  Fd f(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666));
  if (f.fd < 0) return errno;
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(f.fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return ENOSPC;
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(f.fd) != 0 && errno != EINVAL) return errno;
  return f.close_now();
}

void fail_io(const std::string& what, const std::string& path, int err) {
  FR_FAIL(what, " '", path, "': ", system_error_text(err),
          err == ENOSPC ? concat(" (", free_bytes(path), " bytes free there)") : std::string());
}

// Whether process `pid` of this host still runs: a zombie (killed, not yet
// reaped) writes nothing more and counts as dead.
bool process_running(long pid) {
  if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;  // no /proc: assume it runs
  const auto paren = line.rfind(')');          // the name may hold spaces
  const char state = paren != std::string::npos && paren + 2 < line.size() ? line[paren + 2] : 'R';
  return state != 'Z' && state != 'X';
}

// Removes the temporary files in the directory of `target` left by
// processes of this host that no longer run (a killed run never cleans up).
// Each directory is looked through once per process: outputs of one
// directory are many (tiles, figures) and a dead run stays dead.
void remove_stale_temps(const fs::path& target) {
  const fs::path dir = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  static std::mutex mutex;
  static std::set<std::string> seen;
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (!seen.insert(fs::absolute(dir).lexically_normal().string()).second) return;
  }
  const std::string host = mpi::hostname();
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const auto mark = name.rfind(kTempMark);
    if (name.empty() || name[0] != '.' || mark == std::string::npos) continue;
    const std::string tail = name.substr(mark + std::strlen(kTempMark));  // "host-pid" or "pid"
    const auto dash = tail.rfind('-');
    const std::string owner = dash == std::string::npos ? "" : tail.substr(0, dash);
    const std::string pid_text = dash == std::string::npos ? tail : tail.substr(dash + 1);
    if (pid_text.empty() || pid_text.size() > 9 ||
        pid_text.find_first_not_of("0123456789") != std::string::npos)
      continue;
    if (!owner.empty() && owner != host) continue;  // another node's: cannot tell
    const long pid = std::stol(pid_text);
    if (pid <= 0 || process_running(pid)) continue;
    std::error_code removed;
    if (fs::remove(it->path(), removed))
      log::info("removed ", it->path().string(), ", the temporary file of a run that died");
  }
}

// Flushes `temp`, checks its size, seals it under `final_path`'s name and
// renames it (rank-local).
void seal_and_rename(const std::string& temp, const std::string& final_path,
                     std::uint64_t expected_bytes, bool may_be_empty = false) {
  {
    Fd f(::open(temp.c_str(), O_RDONLY | O_CLOEXEC));
    if (f.fd < 0) fail_io("cannot reopen the output", final_path + "' (as '" + temp, errno);
    // EINVAL: a file system without fsync (nothing to flush).
    if (::fsync(f.fd) != 0 && errno != EINVAL) fail_io("cannot write", final_path, errno);
  }
  std::uint64_t size = 0, sum = 0;
  if (!checksum_file(temp, &size, &sum)) fail_io("cannot read back", temp, errno);
  FR_REQUIRE(size > 0 || may_be_empty, "output '", final_path,
             "' is empty after writing (is the disk full? no space left on device: ",
             free_bytes(final_path), " bytes free)");
  FR_REQUIRE(expected_bytes == 0 || size == expected_bytes, "output '", final_path, "' has ", size,
             " bytes after writing, expected ", expected_bytes, " (data lost: is the disk full? ",
             free_bytes(final_path), " bytes free)");
  const fs::path target(final_path);
  const fs::path seal = seal_path(target);
  std::error_code ec;
  fs::remove(seal, ec);  // the old seal must not outlive the file it described
  fs::rename(temp, final_path, ec);
  FR_REQUIRE(!ec, "cannot rename '", temp, "' to '", final_path, "': ", ec.message());
  const std::string seal_temp = temp_name_for(seal);
  std::ostringstream text;
  text << "fluxrecon seal 1 size=" << size << " fnv64=" << std::hex << sum << "\n";
  const int err = write_file(seal_temp, text.str());
  if (err == 0) fs::rename(seal_temp, seal, ec);
  if (err != 0 || ec) {
    fs::remove(seal_temp, ec);
    // Without its seal the output is not complete: take it away.
    fs::remove(final_path, ec);
    fail_io("cannot record the seal of", final_path, err != 0 ? err : EIO);
  }
}

}  // namespace

std::uint64_t free_disk_bytes(const std::string& path) {
  const fs::path dir = fs::path(path).parent_path();
  struct statvfs s {};
  if (::statvfs(dir.empty() ? "." : dir.c_str(), &s) != 0) return 0;
  return static_cast<std::uint64_t>(s.f_bavail) * s.f_frsize;
}

std::string system_error_text(int err) {
  std::string text = std::strerror(err);
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

std::string final_name_of(const std::string& path) {
  const fs::path p(path);
  const std::string name = p.filename().string();
  const auto mark = name.rfind(kTempMark);
  if (name.size() < 2 || name[0] != '.' || mark == std::string::npos) return path;
  return (p.parent_path() / name.substr(1, mark - 1)).string();
}

void reserve_space(const std::string& path, std::uint64_t bytes) {
  if (bytes == 0) return;
  Fd f(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (f.fd < 0) fail_io("cannot open the output", final_name_of(path), errno);
  const int status =
      ::fallocate(f.fd, FALLOC_FL_KEEP_SIZE, 0, static_cast<off_t>(bytes)) == 0 ? 0 : errno;
  if (status == 0 || status == EOPNOTSUPP || status == ENOSYS || status == EINVAL) return;
  FR_FAIL("cannot write '", final_name_of(path), "': ", system_error_text(status), " (it needs ",
          bytes, " bytes, ", free_bytes(path), " are free)");
}

void reserve_space(const std::string& path, std::uint64_t bytes, MPI_Comm comm) {
  all_ranks_agree(comm, [&] {
    if (mpi::rank(comm) == 0) reserve_space(path, bytes);
  });
}

void ensure_directory(const std::string& dir) {
  if (dir.empty()) return;
  std::error_code ec;
  fs::create_directories(dir, ec);
  FR_REQUIRE(!ec && fs::is_directory(dir), "cannot create output directory '", dir,
             "': ", ec ? ec.message() : "a file of that name exists");
  FR_REQUIRE(::access(dir.c_str(), W_OK) == 0, "output directory '", dir,
             "' is not writable: ", std::strerror(errno));
}

AtomicOutput::AtomicOutput(std::string final_path, MPI_Comm comm)
    : final_path_(std::move(final_path)), comm_(comm) {
  const fs::path target(final_path_);
  std::string temp;
  all_ranks_agree(comm_, [&] {
    if (mpi::rank(comm_) == 0) {
      ensure_directory(target.parent_path().string());
      remove_stale_temps(target);
      temp = temp_name_for(target);
    }
  });
  temp_path_ = mpi::broadcast(temp, 0, comm_);
}

AtomicOutput::~AtomicOutput() {
  if (!committed_ && mpi::rank(comm_) == 0) std::remove(temp_path_.c_str());
}

void AtomicOutput::commit(std::uint64_t expected_bytes) {
  MPI_Barrier(comm_);
  all_ranks_agree(comm_, [&] {
    if (mpi::rank(comm_) == 0) seal_and_rename(temp_path_, final_path_, expected_bytes);
  });
  committed_ = true;
}

bool output_complete(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return false;
  std::ifstream in(seal_path(fs::path(path)));
  std::string line;
  if (!std::getline(in, line)) return false;
  unsigned long long size = 0, sum = 0;
  if (std::sscanf(line.c_str(), "fluxrecon seal 1 size=%llu fnv64=%llx", &size, &sum) != 2)
    return false;
  std::uint64_t now_size = 0, now_sum = 0;
  if (fs::file_size(path, ec) != size || ec) return false;  // cheap test first
  return checksum_file(path, &now_size, &now_sum) && now_size == size && now_sum == sum;
}

bool output_complete(const std::string& path, MPI_Comm comm) {
  int complete = mpi::rank(comm) == 0 && output_complete(path) ? 1 : 0;
  MPI_Bcast(&complete, 1, MPI_INT, 0, comm);
  return complete == 1;
}

void write_text_atomically(const std::string& path, const std::string& text) {
  const fs::path target(path);
  ensure_directory(target.parent_path().string());
  remove_stale_temps(target);
  const std::string temp = temp_name_for(target);
  const int err = write_file(temp, text);
  if (err != 0) {
    std::remove(temp.c_str());
    if (err == ENOSPC)
      FR_FAIL("cannot write '", path, "': ", system_error_text(err), " (it needs ", text.size(),
              " bytes, ", free_bytes(path), " are free)");
    fail_io("cannot write", path, err);
  }
  try {
    seal_and_rename(temp, path, text.size(), text.empty());
  } catch (...) {
    std::remove(temp.c_str());
    throw;
  }
}

}  // namespace fluxrecon
