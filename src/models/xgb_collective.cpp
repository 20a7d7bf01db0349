#include "models/xgb_collective.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <xgboost/c_api.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_util.hpp"

namespace fluxrecon::models {
namespace {

// XGBoost keeps its communicator in a thread_local; so do we for the guards.
thread_local bool t_collective_alive = false;
// After a failed XGCommunicatorInit, XGBoost 1.7 keeps a half-initialised rabit
// engine on the thread (its cleanup needs the tracker that just failed), and a
// later init fails with "Rank -1 is less than 0". The same holds after a lost
// collective, which we leave without XGCommunicatorFinalize. We say so instead.
thread_local bool t_join_failed = false;

// XGBoost's own log lines (warnings, and rabit's "task N got new rank N" at
// every join, which its verbosity does not silence). Runs on the thread that
// registered it, maybe inside XGBoost's OpenMP regions: no MPI here.
void xgboost_log_line(const char* message) {
  if (message == nullptr) return;
  if (std::strstr(message, " got new rank ") != nullptr && log::level() < log::Level::debug) return;
  std::fprintf(stderr, "%s\n", message);
  std::fflush(stderr);
}

// What rabit 1.7 reports when an exchange with a peer fails: the peer's
// socket closed or reset, or nothing came within rabit_timeout_sec.
bool is_timeout(const std::string& reason) {
  return reason.find("Poll timeout") != std::string::npos;
}
bool is_lost_link(const std::string& reason) {
  for (const char* mark : {"Allreduce failed", "Broadcast failed", "AllgatherRing failed",
                           "Failed to poll", "Socket error", "Connection reset"})
    if (reason.find(mark) != std::string::npos) return true;
  return false;
}

std::vector<std::string> all_hostnames(MPI_Comm comm) {
  constexpr int kWidth = 256;
  std::string mine = mpi::hostname();
  mine.resize(kWidth - 1);
  std::vector<char> all(static_cast<size_t>(kWidth) * mpi::size(comm));
  MPI_Allgather(mine.c_str(), kWidth, MPI_CHAR, all.data(), kWidth, MPI_CHAR, comm);
  std::vector<std::string> hosts;
  for (size_t at = 0; at < all.size(); at += kWidth) hosts.emplace_back(all.data() + at);
  return hosts;
}

bool is_loopback(const in_addr& address) { return (ntohl(address.s_addr) >> 24) == 127; }

std::string dotted(const in_addr& address) {
  char text[INET_ADDRSTRLEN] = {0};
  ::inet_ntop(AF_INET, &address, text, sizeof(text));
  return text;
}

// This node's address as other nodes reach it. Debian maps the hostname to
// 127.0.1.1 in /etc/hosts, so a loopback answer falls through to the interfaces.
std::string node_address(const std::string& hostname) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(hostname.c_str(), nullptr, &hints, &found) == 0) {
    std::string chosen;
    for (addrinfo* a = found; a != nullptr && chosen.empty(); a = a->ai_next) {
      const auto& address = reinterpret_cast<const sockaddr_in*>(a->ai_addr)->sin_addr;
      if (!is_loopback(address)) chosen = dotted(address);
    }
    ::freeaddrinfo(found);
    if (!chosen.empty()) return chosen;
  }
  ifaddrs* interfaces = nullptr;
  std::string chosen;
  if (::getifaddrs(&interfaces) == 0) {
    for (ifaddrs* i = interfaces; i != nullptr && chosen.empty(); i = i->ifa_next) {
      if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
      if ((i->ifa_flags & IFF_UP) == 0 || (i->ifa_flags & IFF_LOOPBACK) != 0) continue;
      const auto& address = reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr;
      if (!is_loopback(address)) chosen = dotted(address);
    }
    ::freeifaddrs(interfaces);
  }
  FR_REQUIRE(!chosen.empty(), "no non-loopback IPv4 address found for host '", hostname,
             "' to run the XGBoost tracker on; set FLUXRECON_TRACKER_HOST to an address "
             "that every node can reach");
  return chosen;
}

// Zero-padded so that the tracker's lexicographic sort of task ids is rank order.
std::string task_id(int rank, int size) {
  const int width = static_cast<int>(std::to_string(std::max(size - 1, 0)).size());
  std::string id = std::to_string(rank);
  return std::string(static_cast<size_t>(width) - std::min(id.size(), size_t(width)), '0') + id;
}

}  // namespace

void xgb_check(int status, const char* what) {
  if (status == 0) return;
  const char* last = XGBGetLastError();
  std::string message = last != nullptr && *last != '\0' ? last : "(no message from XGBoost)";
  // Keep the reason, drop the native stack trace XGBoost appends.
  const auto trace = message.find("\nStack trace:");
  if (trace != std::string::npos) message.resize(trace);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  FR_FAIL("XGBoost ", what, " failed: ", message);
}

std::string tracker_address(bool single_host) {
  const char* forced = std::getenv("FLUXRECON_TRACKER_HOST");
  if (forced != nullptr && *forced != '\0') return forced;
  if (single_host) return "127.0.0.1";
  return node_address(mpi::hostname());
}

XgbCollective::XgbCollective(MPI_Comm comm, XgbCollectiveOptions options)
    : comm_(comm), rank_(mpi::rank(comm)), size_(mpi::size(comm)), options_(options) {
  all_ranks_agree(comm_, [&] {
    FR_REQUIRE(options_.setup_timeout_s > 0, "XGBoost collective: setup timeout must be > 0, got ",
               options_.setup_timeout_s, " s");
    FR_REQUIRE(options_.comm_timeout_s > 0, "XGBoost collective: communication timeout must be",
               " > 0, got ", options_.comm_timeout_s, " s");
    FR_REQUIRE(!t_collective_alive, "an XgbCollective is already alive on this thread",
               " (XGBoost has one communicator per thread)");
    FR_REQUIRE(!t_join_failed, "an earlier XGBoost collective failed on this thread;",
               " XGBoost 1.7 cannot join another one from it (restart the process)");
    // XGBoost's log lines of this thread through ours, before the join prints its rank.
    xgb_check(XGBRegisterLogCallback(xgboost_log_line), "XGBRegisterLogCallback");
  });
  hosts_ = all_hostnames(comm_);

  // Loopback is enough, and avoids firewalls, when every rank is on this host.
  const std::string here = mpi::hostname();
  const bool single_host = mpi::min(mpi::broadcast(here, 0, comm_) == here ? 1 : 0, comm_) == 1;
  std::string host;
  all_ranks_agree(comm_, [&] {
    if (rank_ != 0) return;
    host = tracker_address(single_host);
    tracker_ = std::make_unique<RabitTracker>(size_, host, 0, options_.setup_timeout_s);
    tracker_->start();
    port_ = tracker_->port();
  });
  host_ = mpi::broadcast(host, 0, comm_);
  MPI_Bcast(&port_, 1, MPI_INT, 0, comm_);

  nlohmann::json config = {
      {"xgboost_communicator", "rabit"},
      {"rabit_tracker_uri", host_},
      {"rabit_tracker_port", port_},
      {"rabit_world_size", size_},
      {"rabit_task_id", task_id(rank_, size_)},
      {"rabit_timeout", true},
      {"rabit_timeout_sec", options_.comm_timeout_s},
  };
  config_ = config.dump();

  // rabit 1.7 may send to a peer that just died: EPIPE, not a fatal SIGPIPE.
  old_sigpipe_ = std::signal(SIGPIPE, SIG_IGN);
  bool joined = false;
  try {
    all_ranks_agree(comm_, [&] {
      const int status = XGCommunicatorInit(config_.c_str());
      t_join_failed = status != 0;
      xgb_check(status, "XGCommunicatorInit");
      joined = true;
      FR_REQUIRE(XGCommunicatorGetWorldSize() == size_ && XGCommunicatorGetRank() == rank_,
                 "XGBoost collective: MPI rank ", rank_, " of ", size_, " became rabit rank ",
                 XGCommunicatorGetRank(), " of ", XGCommunicatorGetWorldSize());
    });
  } catch (...) {
    // Leave cleanly where we joined; the tracker has either failed already or
    // sees every shutdown, so the wait is short.
    if (joined) XGCommunicatorFinalize();
    if (tracker_) {
      try {
        tracker_->wait_for(options_.setup_timeout_s);
      } catch (const std::exception&) {  // the collective error already says what went wrong
      }
      tracker_.reset();
    }
    std::signal(SIGPIPE, old_sigpipe_);
    throw;
  }
  active_ = true;
  t_collective_alive = true;
  watchdog_ = std::thread([this] { watch(); });
  log::info("XGBoost collective: ", size_, " workers, rabit tracker at ", host_, ":", port_);
}

void XgbCollective::stop_watchdog() {
  if (!watchdog_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(watch_mutex_);
    watch_stop_ = true;
  }
  watch_cv_.notify_all();
  watchdog_.join();
}

void XgbCollective::watch() {
  std::unique_lock<std::mutex> lock(watch_mutex_);
  while (!watch_stop_) {
    watch_cv_.wait_for(lock, std::chrono::milliseconds(250));
    if (!in_call_) continue;
    // Twice rabit's own timeout: a silent peer is rabit's to report (it names
    // the peer); the watchdog is the backstop for hangs rabit does not see.
    const double limit = std::max<double>(2.0 * options_.comm_timeout_s, 4 * longest_call_s_);
    const double running =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - call_start_).count();
    if (running <= limit) continue;
    // No MPI and no exceptions on this thread: say it and end the process;
    // mpiexec ends the other ranks when one exits non-zero.
    log::error_line(concat(
        "fluxrecon: error on rank ", rank_, ": XGBoost distributed training made no progress in ",
        call_what_, " for ", static_cast<int>(running), " s (limit: 2 x collective_timeout_sec ",
        options_.comm_timeout_s, " s or 4 x the longest call so far, ", longest_call_s_,
        " s): the ranks are stuck in an exchange (ranks that disagree, e.g. on non-finite "
        "inputs, or a stalled peer); ending the job"));
    std::_Exit(2);
  }
}

void XgbCollective::run(const std::string& what, const std::function<int()>& call) {
  {
    std::lock_guard<std::mutex> lock(watch_mutex_);
    in_call_ = true;
    call_what_ = what;
    call_start_ = std::chrono::steady_clock::now();
  }
  const int status = call();
  {
    std::lock_guard<std::mutex> lock(watch_mutex_);
    in_call_ = false;
    longest_call_s_ = std::max(
        longest_call_s_,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - call_start_).count());
  }
  check(status, what);
}

void XgbCollective::finalize() {
  stop_watchdog();
  if (!active_ || lost_) return;
  active_ = false;
  t_collective_alive = false;
  std::signal(SIGPIPE, old_sigpipe_);
  try {
    all_ranks_agree(comm_, [&] {
      xgb_check(XGCommunicatorFinalize(), "XGCommunicatorFinalize");
      // Bounded: our own shutdown has reached the tracker, which then gives
      // the others setup_timeout_s.
      if (tracker_) tracker_->wait();
    });
  } catch (...) {
    tracker_.reset();
    throw;
  }
  tracker_.reset();
}

std::string XgbCollective::describe_peers() const {
  const RabitLinks links = rabit_link_map(size_)[static_cast<size_t>(rank_)];
  std::set<int> peers(links.tree.begin(), links.tree.end());
  for (int peer : {links.ring_prev, links.ring_next})
    if (peer >= 0) peers.insert(peer);
  std::string text;
  for (int peer : peers) {
    if (!text.empty()) text += ", ";
    text += concat("rank ", peer, " (host ", hosts_.at(static_cast<size_t>(peer)), ")");
  }
  return peers.size() == 1 ? text : concat("one of its peers ", text);
}

void XgbCollective::check(int status, const std::string& what) {
  if (status == 0) return;
  std::string reason;
  try {
    xgb_check(status, what.c_str());
  } catch (const Error& e) {
    reason = e.what();
  }
  const bool timeout = is_timeout(reason);
  if (!active_ || (!timeout && !is_lost_link(reason))) FR_FAIL(reason);
  lost_ = true;
  t_join_failed = true;
  // "... ./rabit/include/rabit/internal/socket.h:170: Poll timeout" -> "Poll timeout"
  const auto last = reason.rfind(": ");
  const std::string said = last == std::string::npos ? reason : reason.substr(last + 2);
  const std::string where =
      concat("XGBoost distributed training stopped on rank ", rank_, " (host ",
             hosts_.at(static_cast<size_t>(rank_)), ") in ", what, ": ", describe_peers());
  if (timeout)
    FR_FAIL(where, " sent nothing for ", options_.comm_timeout_s,
            " s (collective_timeout_sec): that rank died, stalled or lost its network (the ",
            "rank that stopped is the one that does not report this error); raise ",
            "collective_timeout_sec if ranks legitimately compute longer between exchanges ",
            "(XGBoost: ", said, ")");
  FR_FAIL(where, " closed its connection: that rank exited or failed (see its own error) ",
          "(XGBoost: ", said, ")");
}

XgbCollective::~XgbCollective() {
  stop_watchdog();
  if (active_) {
    active_ = false;
    t_collective_alive = false;
    std::signal(SIGPIPE, old_sigpipe_);
    // No MPI here: this may run while unwinding on one rank only. After a
    // lost peer, XGBoost's shutdown would contact a tracker that may be
    // stopped with its rank: leave XGBoost as it is (the process ends).
    if (!lost_ && XGCommunicatorFinalize() != 0)
      log::error_line(concat("XGBoost collective: XGCommunicatorFinalize failed on rank ", rank_,
                             ": ", XGBGetLastError()));
  }
  if (tracker_ && !lost_) {
    try {
      const double limit = std::min(options_.setup_timeout_s, double(options_.comm_timeout_s));
      if (!tracker_->wait_for(limit))
        log::error_line("XGBoost collective: rabit tracker still waiting for workers; stopped");
    } catch (const std::exception& e) {
      log::error_line(e.what());
    }
  }
  // Destroying the tracker stops it at once, whatever the workers do.
}

}  // namespace fluxrecon::models
