#!/usr/bin/env bash
# Several "hosts" on one Linux machine as network namespaces (issue 16), for
# tests that run MPI across addresses without ssh (tests/cli/test_hosts.sh).
# Needs root and `ip netns`; the namespaces share the file system, so
# collective netCDF/HDF5 I/O works across the hosts as on a shared disk.
#   tools/netns-hosts.sh up N     hosts fr-h1..fr-hN at 10.77.0.1..N/24 and a
#                                 head fr-h0 at 10.77.0.254 (mpirun runs
#                                 there), each with lo and a veth fr-vK whose
#                                 peer fr-vKb is on the bridge fr-br0 in the
#                                 root namespace. Every namespace gets
#                                 net.ipv4.tcp_retries2=4 (FR_TCP_RETRIES2) so
#                                 that a lost peer with data in flight fails
#                                 its connection in ~6 s, not ~15 minutes
#                                 (otherwise mpirun waits that long for a cut
#                                 off host's daemon after MPI_Abort). ~0.5 s.
#   tools/netns-hosts.sh down     removes all of it (idempotent): kills what
#                                 still runs in fr-h*, deletes them and fr-*.
#   tools/netns-hosts.sh cut K    host K's link down (a host cut off).
# Launch across them (tools/netns-rsh.sh maps 10.77.0.K to fr-hK and gives
# each host its own host name fr-hK, in its own UTS namespace):
#   ip netns exec fr-h0 mpirun --host 10.77.0.1:1,10.77.0.2:1 -n 2 \
#     --mca plm_rsh_agent "$PWD/tools/netns-rsh.sh" --mca btl tcp,self \
#     --mca btl_tcp_if_include 10.77.0.0/24 --mca oob_tcp_if_include 10.77.0.0/24 \
#     fluxrecon ...
# (mpirun in the root namespace works too given an address on fr-br0, but
# then the tcp_retries2 it needs would be the whole machine's.) The names
# are fixed: one set of hosts per machine at a time.
set -eu
retries2="${FR_TCP_RETRIES2:-4}"
cmd="${1:-}"; n="${2:-0}"
case "$cmd" in
  up)
    [ "$n" -ge 1 ] && [ "$n" -le 200 ] || { echo "usage: $0 up N (1..200)" >&2; exit 2; }
    "$0" down
    ip link add fr-br0 type bridge
    ip link set fr-br0 up
    for k in 0 $(seq 1 "$n"); do
      addr="10.77.0.$k"; [ "$k" -ne 0 ] || addr=10.77.0.254
      ip netns add "fr-h$k"
      ip link add "fr-v${k}b" type veth peer name "fr-v$k"
      ip link set "fr-v$k" netns "fr-h$k"
      ip link set "fr-v${k}b" master fr-br0 up
      ip -n "fr-h$k" link set lo up
      ip -n "fr-h$k" addr add "$addr/24" dev "fr-v$k"
      ip -n "fr-h$k" link set "fr-v$k" up
      # A lost peer with data in flight gives up after ~6 s, not ~15 min.
      ip netns exec "fr-h$k" sysctl -qw net.ipv4.tcp_retries2="$retries2"
    done
    ;;
  down)
    for ns in $(ip netns list 2>/dev/null | awk '/^fr-h[0-9]+/ {print $1}'); do
      ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
      ip netns del "$ns" 2>/dev/null || true
    done
    for l in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -E '^fr-(v[0-9]+b?|br0)$'); do
      ip link del "$l" 2>/dev/null || true
    done
    ;;
  cut)
    ip -n "fr-h$n" link set "fr-v$n" down
    ;;
  *) echo "usage: $0 up N | down | cut K" >&2; exit 2 ;;
esac
