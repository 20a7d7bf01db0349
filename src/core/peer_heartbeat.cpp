#include "core/peer_heartbeat.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>

#include "core/error.hpp"
#include "core/mpi_util.hpp"

namespace fluxrecon {
namespace {

constexpr std::uint64_t kMagic = 0x46524842'00000001ull;  // "FRHB", version 1
constexpr int kMaxAddresses = 16;

struct Beat {
  std::uint64_t magic, token;
  std::int32_t rank;
};

// What a rank tells its neighbours about itself (fixed size for MPI).
struct Card {
  std::uint16_t port = 0;
  std::int32_t count = 0;
  std::uint32_t addresses[kMaxAddresses] = {};
  char host[64] = {};
};

std::vector<std::uint32_t> local_ipv4_addresses() {
  std::vector<std::uint32_t> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (const ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET) continue;
    if (!(a->ifa_flags & IFF_UP)) continue;
    const auto ip = reinterpret_cast<const sockaddr_in*>(a->ifa_addr)->sin_addr.s_addr;
    if (std::find(out.begin(), out.end(), ip) == out.end()) out.push_back(ip);
  }
  freeifaddrs(list);
  return out;
}

}  // namespace

PeerHeartbeat::PeerHeartbeat(MPI_Comm comm) : rank_(mpi::rank(comm)) {
  const int size = mpi::size(comm);
  std::uint64_t token = 0;
  if (rank_ == 0) token = (std::uint64_t(std::random_device{}()) << 32) ^ std::random_device{}();
  MPI_Bcast(&token, 1, MPI_UINT64_T, 0, comm);
  token_ = token;

  Card mine;
  fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ >= 0) {
    sockaddr_in any{};
    any.sin_family = AF_INET;
    any.sin_addr.s_addr = htonl(INADDR_ANY);
    any.sin_port = 0;
    socklen_t length = sizeof(any);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&any), sizeof(any)) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&any), &length) != 0) {
      close(fd_);
      fd_ = -1;
    } else {
      mine.port = any.sin_port;
      for (const auto ip : local_ipv4_addresses())
        if (mine.count < kMaxAddresses) mine.addresses[mine.count++] = ip;
    }
  }
  const std::string host = mpi::hostname();
  std::strncpy(mine.host, host.c_str(), sizeof(mine.host) - 1);
  // Silences count from the end of the set-up, when every rank has reached it.
  start_ = std::chrono::steady_clock::now();
  if (size < 2) return;

  // The ring neighbours' cards (one neighbour when there are two ranks).
  const int prev = (rank_ + size - 1) % size, next = (rank_ + 1) % size;
  Card from_prev, from_next;
  MPI_Sendrecv(&mine, sizeof(Card), MPI_BYTE, next, 0, &from_prev, sizeof(Card), MPI_BYTE, prev, 0,
               comm, MPI_STATUS_IGNORE);
  MPI_Sendrecv(&mine, sizeof(Card), MPI_BYTE, prev, 1, &from_next, sizeof(Card), MPI_BYTE, next, 1,
               comm, MPI_STATUS_IGNORE);
  const std::pair<int, const Card*> sides[2] = {{prev, &from_prev}, {next, &from_next}};
  for (const auto& side : sides) {
    const int r = side.first;
    const Card& card = *side.second;
    if (std::any_of(neighbours_.begin(), neighbours_.end(),
                    [r](const Neighbour& n) { return n.rank == r; }))
      continue;
    Neighbour n;
    n.rank = r;
    n.host = std::string(card.host, strnlen(card.host, sizeof(card.host)));
    n.port = card.port;
    n.addresses.assign(card.addresses, card.addresses + std::clamp(card.count, 0, kMaxAddresses));
    neighbours_.push_back(std::move(n));
  }
  start_ = std::chrono::steady_clock::now();
}

PeerHeartbeat::~PeerHeartbeat() {
  if (fd_ >= 0) close(fd_);
}

void PeerHeartbeat::beat() {
  if (fd_ < 0) return;
  const Beat b{kMagic, token_, rank_};
  for (const auto& n : neighbours_) {
    if (n.port == 0) continue;
    for (const auto ip : n.addresses) {
      sockaddr_in to{};
      to.sin_family = AF_INET;
      to.sin_addr.s_addr = ip;
      to.sin_port = n.port;
      // Best effort: a full buffer or an unreachable address just loses a beat.
      (void)sendto(fd_, &b, sizeof(b), MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&to),
                   sizeof(to));
    }
  }
}

void PeerHeartbeat::listen() {
  if (fd_ < 0) return;
  for (;;) {
    Beat b{};
    const ssize_t got = recv(fd_, &b, sizeof(b), MSG_DONTWAIT);
    if (got < 0) {
      if (errno == EINTR) continue;
      return;  // EAGAIN: nothing more now (or an error: nothing to do about it)
    }
    if (got != static_cast<ssize_t>(sizeof(b)) || b.magic != kMagic || b.token != token_) continue;
    for (auto& n : neighbours_)
      if (n.rank == b.rank) {
        n.last_heard = std::chrono::steady_clock::now();
        n.heard = true;
      }
  }
}

std::string PeerHeartbeat::silent_neighbours(double quiet_s) const {
  const auto now = std::chrono::steady_clock::now();
  std::string out;
  for (const auto& n : neighbours_) {
    if (!n.heard) continue;
    const double silence = std::chrono::duration<double>(now - n.last_heard).count();
    if (silence <= quiet_s) continue;
    out += concat(out.empty() ? "" : " and ", "rank ", n.rank, " (host ", n.host, ") silent for ",
                  static_cast<int>(silence), " s");
  }
  return out;
}

std::string PeerHeartbeat::never_heard(double quiet_s) const {
  const double since_start =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::string out;
  if (since_start <= quiet_s) return out;
  for (const auto& n : neighbours_)
    if (!n.heard)
      out += concat(out.empty() ? "" : " and ", "rank ", n.rank, " (host ", n.host, ")");
  return out;
}

std::string PeerHeartbeat::neighbours_text() const {
  std::string out;
  for (const auto& n : neighbours_)
    out += concat(out.empty() ? "" : " and ", "rank ", n.rank, " (host ", n.host, ")");
  return out;
}

}  // namespace fluxrecon
