#include "models/rabit_tracker.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <mpi.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <utility>

#include "core/error.hpp"
#include "core/log.hpp"

namespace fluxrecon::models {
namespace {

using Clock = std::chrono::steady_clock;
using Deadline = std::optional<Clock::time_point>;  // nullopt: wait without limit

constexpr std::int32_t kMagic = 0xff99;
// Bounds on what a worker may send, so a stray client cannot make us allocate
// gigabytes (print messages carry evaluation logs, hence the generous limit).
constexpr std::int32_t kMaxString = 64 << 20;
// A worker retries the link loop while its connects fail; give up eventually.
constexpr int kMaxLinkAttempts = 100;

Clock::time_point after(double seconds) {
  return Clock::now() +
         std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

enum class Ready { yes, timed_out, stopped };

// Waits until `fd` is readable, the deadline passes, or `wake_fd` is written.
Ready wait_readable(int fd, int wake_fd, const Deadline& deadline) {
  for (;;) {
    int ms = -1;
    if (deadline) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now()).count();
      if (left <= 0) return Ready::timed_out;
      ms = static_cast<int>(std::min<long long>(left + 1, 1 << 30));
    }
    pollfd fds[2] = {{fd, POLLIN, 0}, {wake_fd, POLLIN, 0}};
    const int rc = ::poll(fds, 2, ms);
    if (rc < 0) {
      if (errno == EINTR) continue;
      FR_FAIL("rabit tracker: poll() failed: ", std::strerror(errno));
    }
    if (fds[1].revents != 0) return Ready::stopped;
    if (rc > 0) return Ready::yes;  // POLLHUP/POLLERR surface in the following recv
  }
}

// One connection from a worker. Every read is bounded by the timeout, so a
// worker that stalls or dies cannot block the tracker.
class Conn {
 public:
  Conn(int fd, std::string host, int wake_fd, double timeout_s)
      : fd_(fd), host_(std::move(host)), wake_fd_(wake_fd), timeout_s_(timeout_s) {
    // Replies are a few bytes, but a peer that stops reading must not block us either.
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(std::ceil(timeout_s));
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  }
  ~Conn() {
    if (fd_ >= 0) ::close(fd_);
  }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  const std::string& host() const { return host_; }

  std::int32_t recv_int(const char* what) {
    std::int32_t value = 0;
    recv_all(&value, sizeof(value), what);
    return value;
  }
  std::string recv_str(const char* what) {
    const std::int32_t length = recv_int(what);
    FR_REQUIRE(length >= 0 && length <= kMaxString, "rabit tracker: worker at ", host_,
               " sent an invalid length ", length, " for ", what);
    std::string text(static_cast<size_t>(length), '\0');
    recv_all(text.data(), text.size(), what);
    return text;
  }
  void send_int(std::int32_t value) { send_all(&value, sizeof(value)); }
  void send_str(const std::string& text) {
    send_int(static_cast<std::int32_t>(text.size()));
    send_all(text.data(), text.size());
  }

 private:
  void recv_all(void* buffer, size_t size, const char* what) {
    auto* out = static_cast<char*>(buffer);
    const Deadline deadline = after(timeout_s_);
    while (size > 0) {
      const Ready ready = wait_readable(fd_, wake_fd_, deadline);
      FR_REQUIRE(ready != Ready::timed_out, "rabit tracker: timeout: worker at ", host_,
                 " sent no ", what, " within ", timeout_s_, " s");
      FR_REQUIRE(ready != Ready::stopped, "rabit tracker: stopped while reading ", what);
      const ssize_t got = ::recv(fd_, out, size, 0);
      if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      FR_REQUIRE(got >= 0, "rabit tracker: reading ", what, " from worker at ", host_,
                 " failed: ", std::strerror(errno));
      FR_REQUIRE(got > 0, "rabit tracker: worker at ", host_,
                 " closed the connection before sending ", what);
      out += got;
      size -= static_cast<size_t>(got);
    }
  }
  void send_all(const void* buffer, size_t size) {
    const auto* in = static_cast<const char*>(buffer);
    while (size > 0) {
      const ssize_t sent = ::send(fd_, in, size, MSG_NOSIGNAL);
      if (sent < 0 && errno == EINTR) continue;
      FR_REQUIRE(sent > 0, "rabit tracker: sending to worker at ", host_,
                 " failed: ", std::strerror(errno));
      in += sent;
      size -= static_cast<size_t>(sent);
    }
  }

  int fd_;
  std::string host_;
  int wake_fd_;
  double timeout_s_;
};

// What a worker says when it connects.
struct Hello {
  int rank = -1;
  int world_size = -1;
  std::string task_id;
  std::string command;
};

Hello read_hello(Conn& conn) {
  const std::int32_t magic = conn.recv_int("the magic number");
  FR_REQUIRE(magic == kMagic, "rabit tracker: client at ", conn.host(), " sent magic ", magic,
             " instead of ", kMagic, " (not an XGBoost worker?)");
  conn.send_int(kMagic);
  Hello hello;
  hello.rank = conn.recv_int("its rank");
  hello.world_size = conn.recv_int("its world size");
  hello.task_id = conn.recv_str("its task id");
  hello.command = conn.recv_str("its command");
  return hello;
}

// A worker that has reported its port and still expects incoming links.
struct Listener {
  std::string host;
  int port = 0;
  int pending_accepts = 0;
};

// Sends `rank` its links and runs the link loop until the worker has connected
// to every peer that is already listening. Peers that come later connect to it.
void assign(Conn& conn, int rank, const std::vector<RabitLinks>& links,
            std::map<int, Listener>& listening) {
  const int n = static_cast<int>(links.size());
  const RabitLinks& mine = links[static_cast<size_t>(rank)];
  conn.send_int(rank);
  conn.send_int(mine.parent);
  conn.send_int(n);
  conn.send_int(static_cast<std::int32_t>(mine.tree.size()));
  for (int peer : mine.tree) conn.send_int(peer);
  conn.send_int(mine.ring_prev);
  conn.send_int(mine.ring_next);

  std::set<int> needed(mine.tree.begin(), mine.tree.end());
  for (int peer : {mine.ring_prev, mine.ring_next})
    if (peer >= 0) needed.insert(peer);

  for (int attempt = 0;; ++attempt) {
    FR_REQUIRE(attempt < kMaxLinkAttempts, "rabit tracker: worker of rank ", rank,
               " failed to connect to its peers ", kMaxLinkAttempts, " times");
    const std::int32_t n_good = conn.recv_int("its number of good links");
    FR_REQUIRE(n_good >= 0 && n_good <= n, "rabit tracker: rank ", rank,
               " reports an invalid number of good links: ", n_good);
    std::set<int> missing = needed;
    for (std::int32_t i = 0; i < n_good; ++i) {
      const int peer = conn.recv_int("the rank of a good link");
      FR_REQUIRE(needed.count(peer) == 1, "rabit tracker: rank ", rank, " reports a link to rank ",
                 peer, ", which is not one of its neighbours");
      missing.erase(peer);
    }
    std::vector<int> to_connect;
    for (int peer : missing)
      if (listening.count(peer) == 1) to_connect.push_back(peer);
    const int to_accept = static_cast<int>(missing.size() - to_connect.size());
    conn.send_int(static_cast<std::int32_t>(to_connect.size()));
    conn.send_int(to_accept);
    for (int peer : to_connect) {
      const Listener& target = listening.at(peer);
      conn.send_str(target.host);
      conn.send_int(target.port);
      conn.send_int(peer);
    }
    if (conn.recv_int("its number of failed connections") != 0) continue;
    const int port = conn.recv_int("its listening port");
    for (int peer : to_connect)
      if (--listening.at(peer).pending_accepts == 0) listening.erase(peer);
    if (to_accept > 0) listening[rank] = Listener{conn.host(), port, to_accept};
    return;
  }
}

std::string peer_address(const sockaddr_storage& address, socklen_t length) {
  char host[NI_MAXHOST] = {0};
  const int rc = ::getnameinfo(reinterpret_cast<const sockaddr*>(&address), length, host,
                               sizeof(host), nullptr, 0, NI_NUMERICHOST);
  FR_REQUIRE(rc == 0, "rabit tracker: cannot read a worker's address: ", ::gai_strerror(rc));
  return host;
}

// Depth-first walk of the heap below `node`; the last child's walk is reversed
// so that the ring returns towards the root along tree links.
std::vector<int> heap_walk(int node, int n) {
  std::vector<int> order{node};
  const int children[2] = {2 * node + 1, 2 * node + 2};
  for (int c = 0; c < 2 && children[c] < n; ++c) {
    std::vector<int> sub = heap_walk(children[c], n);
    const bool last = c == 1 || children[1] >= n;
    if (last) std::reverse(sub.begin(), sub.end());
    order.insert(order.end(), sub.begin(), sub.end());
  }
  return order;
}

}  // namespace

std::vector<RabitLinks> rabit_link_map(int world_size) {
  FR_REQUIRE(world_size >= 1, "rabit tracker: world size must be at least 1, got ", world_size);
  const int n = world_size;
  const std::vector<int> walk = heap_walk(0, n);
  std::vector<int> rank_of(static_cast<size_t>(n));
  for (int r = 0; r < n; ++r) rank_of[static_cast<size_t>(walk[static_cast<size_t>(r)])] = r;

  std::vector<RabitLinks> links(static_cast<size_t>(n));
  for (int node = 0; node < n; ++node) {
    RabitLinks& l = links[static_cast<size_t>(rank_of[static_cast<size_t>(node)])];
    if (node > 0) {
      l.parent = rank_of[static_cast<size_t>((node - 1) / 2)];
      l.tree.push_back(l.parent);
    }
    for (int child : {2 * node + 1, 2 * node + 2})
      if (child < n) l.tree.push_back(rank_of[static_cast<size_t>(child)]);
  }
  for (int r = 0; r < n; ++r) {
    RabitLinks& l = links[static_cast<size_t>(r)];
    l.ring_prev = n == 1 ? -1 : (r + n - 1) % n;
    l.ring_next = n == 1 ? -1 : (r + 1) % n;
  }
  return links;
}

RabitTracker::RabitTracker(int world_size, std::string host, int port, double timeout_s)
    : world_size_(world_size), host_(std::move(host)), port_(port), timeout_s_(timeout_s) {
  FR_REQUIRE(world_size >= 1, "rabit tracker: world size must be at least 1, got ", world_size);
  FR_REQUIRE(port >= 0 && port <= 65535, "rabit tracker: port must be 0..65535, got ", port);
  FR_REQUIRE(timeout_s > 0, "rabit tracker: timeout must be positive, got ", timeout_s, " s");
  FR_REQUIRE(!host_.empty(), "rabit tracker: empty host");
  // log::write asks MPI for the rank, which our thread must not do under
  // MPI_THREAD_SINGLE: decide here, on the caller's thread.
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized && !finalized) MPI_Comm_rank(MPI_COMM_WORLD, &log_rank_);
  log_here_ = log_rank_ == 0 || log::all_ranks();
}

RabitTracker::~RabitTracker() {
  if (thread_.joinable()) {
    const char byte = 1;
    // A full pipe is impossible (one byte, written once); the result is irrelevant.
    [[maybe_unused]] const ssize_t ignored = ::write(wake_fd_[1], &byte, 1);
    thread_.join();
  }
  close_sockets();
  for (int& fd : wake_fd_) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
}

void RabitTracker::close_sockets() {
  if (listen_fd_ >= 0) ::close(listen_fd_);
  listen_fd_ = -1;
}

void RabitTracker::start() {
  FR_REQUIRE(!started_, "rabit tracker: start() called twice");
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port_);
  const int rc = ::getaddrinfo(host_.c_str(), service.c_str(), &hints, &found);
  FR_REQUIRE(rc == 0, "rabit tracker: cannot resolve host '", host_, "': ", ::gai_strerror(rc));
  int bind_errno = 0;
  for (addrinfo* a = found; a != nullptr && listen_fd_ < 0; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      bind_errno = errno;
      continue;
    }
    // Lets a fixed port be reused right after a previous run (TIME_WAIT); Linux
    // still refuses it while another socket listens there.
    const int on = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, 256) == 0) {
      listen_fd_ = fd;
    } else {
      bind_errno = errno;
      ::close(fd);
    }
  }
  ::freeaddrinfo(found);
  if (listen_fd_ < 0) {
    FR_REQUIRE(bind_errno != EADDRINUSE, "rabit tracker: port ", port_, " on ", host_,
               " is already in use; choose another port, or 0 for any free one");
    FR_FAIL("rabit tracker: cannot listen on ", host_, ":", port_, ": ", std::strerror(bind_errno));
  }
  sockaddr_storage bound{};
  socklen_t length = sizeof(bound);
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&bound), &length);
  port_ = bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                                      : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  if (::pipe2(wake_fd_, O_CLOEXEC) != 0) {
    close_sockets();
    FR_FAIL("rabit tracker: pipe2() failed: ", std::strerror(errno));
  }
  log::debug("rabit tracker: listening on ", host_, ":", port_, " for ", world_size_, " workers");
  thread_ = std::thread([this] { run(); });
  started_ = true;
}

void RabitTracker::run() {
  try {
    serve();
  } catch (const Error&) {
    error_ = std::current_exception();
  } catch (const std::exception& e) {
    error_ = std::make_exception_ptr(
        Error(concat("rabit tracker: unexpected error: ", e.what()), "rabit_tracker.cpp"));
  }
  // Refuse latecomers at once: a worker connecting to a dead tracker must fail,
  // not wait in the listen backlog forever.
  close_sockets();
  std::lock_guard<std::mutex> lock(mutex_);
  done_ = true;
  done_cv_.notify_all();
}

void RabitTracker::serve() {
  const int n = world_size_;
  const std::vector<RabitLinks> links = rabit_link_map(n);
  const Deadline start_deadline = after(timeout_s_);
  Deadline shutdown_deadline;  // set when the first worker shuts down
  std::vector<std::pair<Hello, std::unique_ptr<Conn>>> pending;  // started, waiting for the others
  std::vector<int> unassigned(static_cast<size_t>(n));
  for (int r = 0; r < n; ++r) unassigned[static_cast<size_t>(r)] = r;
  std::map<std::string, int> rank_of_task;
  std::map<int, Listener> listening;
  std::set<int> shut_down;

  // Mirrors log::write, which must not be called here (it asks MPI for the rank).
  auto say = [this](log::Level level, const std::string& line) {
    if (!log_here_ || log::level() < level) return;
    if (log::all_ranks()) {
      std::fprintf(stdout, "[%d] %s\n", log_rank_, line.c_str());
    } else {
      std::fprintf(stdout, "%s\n", line.c_str());
    }
    std::fflush(stdout);
  };

  while (static_cast<int>(shut_down.size()) < n) {
    const bool starting = !unassigned.empty();
    const Ready ready =
        wait_readable(listen_fd_, wake_fd_[0], starting ? start_deadline : shutdown_deadline);
    if (ready == Ready::timed_out && starting) {
      FR_FAIL("rabit tracker: timeout: only ", pending.size() + (n - unassigned.size()), " of ", n,
              " workers connected to ", host_, ":", port_, " within ", timeout_s_, " s");
    }
    FR_REQUIRE(ready != Ready::timed_out, "rabit tracker: timeout: only ", shut_down.size(), " of ",
               n, " workers shut down within ", timeout_s_, " s after the first");
    FR_REQUIRE(ready != Ready::stopped, "rabit tracker: stopped with ", shut_down.size(), " of ", n,
               " workers shut down");

    sockaddr_storage address{};
    socklen_t length = sizeof(address);
    const int fd =
        ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == ECONNABORTED) continue;
      FR_FAIL("rabit tracker: accept() failed: ", std::strerror(errno));
    }
    auto conn = std::make_unique<Conn>(fd, peer_address(address, length), wake_fd_[0], timeout_s_);
    Hello hello = read_hello(*conn);

    if (hello.command == "print") {
      std::string message = conn->recv_str("the message to print");
      while (!message.empty() && std::isspace(static_cast<unsigned char>(message.back())))
        message.pop_back();
      say(log::Level::info, message);
      continue;
    }
    if (hello.command == "shutdown") {
      FR_REQUIRE(hello.rank >= 0 && hello.rank < n && shut_down.count(hello.rank) == 0,
                 "rabit tracker: unexpected shutdown from rank ", hello.rank, " (task '",
                 hello.task_id, "')");
      shut_down.insert(hello.rank);
      if (!shutdown_deadline) shutdown_deadline = after(timeout_s_);
      say(log::Level::debug, concat("rabit tracker: rank ", hello.rank, " shut down"));
      continue;
    }
    FR_REQUIRE(hello.command == "start" || hello.command == "recover",
               "rabit tracker: unknown command '", hello.command, "' from ", conn->host());
    FR_REQUIRE(hello.world_size == -1 || hello.world_size == n, "rabit tracker: task '",
               hello.task_id, "' expects ", hello.world_size, " workers, the tracker ", n);

    int rank = hello.rank;
    if (rank < 0 && hello.task_id != "NULL") {
      const auto known = rank_of_task.find(hello.task_id);
      if (known != rank_of_task.end()) rank = known->second;
    }
    if (rank >= 0) {
      // A worker that knows its rank (recovery) gets its links at once.
      FR_REQUIRE(rank < n, "rabit tracker: task '", hello.task_id, "' claims rank ", rank, " of ",
                 n);
      unassigned.erase(std::remove(unassigned.begin(), unassigned.end(), rank), unassigned.end());
      assign(*conn, rank, links, listening);
    } else {
      FR_REQUIRE(pending.size() < unassigned.size(), "rabit tracker: more than ", n,
                 " workers started (task '", hello.task_id, "' from ", conn->host(), ")");
      pending.emplace_back(std::move(hello), std::move(conn));
    }
    if (pending.empty() || pending.size() < unassigned.size()) continue;

    // Everyone is here: ranks follow the task ids, so MPI rank r (task id
    // zero-padded r) becomes rabit rank r.
    std::stable_sort(pending.begin(), pending.end(), [](const auto& a, const auto& b) {
      return a.first.task_id < b.first.task_id;
    });
    for (size_t i = 0; i < pending.size(); ++i) {
      const int r = unassigned[i];
      if (pending[i].first.task_id != "NULL") rank_of_task[pending[i].first.task_id] = r;
      assign(*pending[i].second, r, links, listening);
      say(log::Level::debug, concat("rabit tracker: task '", pending[i].first.task_id, "' from ",
                                    pending[i].second->host(), " is rank ", r));
    }
    pending.clear();
    unassigned.clear();
    say(log::Level::debug, concat("rabit tracker: all ", n, " workers started"));
  }
  say(log::Level::debug, concat("rabit tracker: all ", n, " workers shut down"));
}

void RabitTracker::wait() {
  FR_REQUIRE(started_, "rabit tracker: wait() before start()");
  if (thread_.joinable()) thread_.join();
  if (error_) std::rethrow_exception(error_);
}

bool RabitTracker::wait_for(double seconds) {
  FR_REQUIRE(started_, "rabit tracker: wait_for() before start()");
  {
    std::unique_lock<std::mutex> lock(mutex_);
    const bool finished =
        done_cv_.wait_for(lock, std::chrono::duration<double>(seconds), [this] { return done_; });
    if (!finished) return false;
  }
  wait();
  return true;
}

}  // namespace fluxrecon::models
