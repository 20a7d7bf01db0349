#!/usr/bin/env bash
# Open MPI's launch agent (--mca plm_rsh_agent) for tools/netns-hosts.sh:
# called as `netns-rsh.sh [ssh options] HOST COMMAND...`, it runs COMMAND in
# the namespace of HOST (10.77.0.K or fr-hK -> fr-hK) with the host name
# fr-hK (its own UTS namespace), so no ssh is needed.
set -eu
while [ $# -gt 0 ]; do
  case "$1" in
    -x|-X|-T|-t|-n|-q|-a|-A) shift ;;
    -o|-p|-l|-i|-F) shift 2 ;;
    -*) shift ;;
    *) break ;;
  esac
done
host="$1"; shift
case "$host" in
  10.77.0.*) k="${host#10.77.0.}" ;;
  fr-h*) k="${host#fr-h}" ;;
  *) echo "netns-rsh.sh: unknown host '$host'" >&2; exit 255 ;;
esac
exec ip netns exec "fr-h$k" unshare --uts sh -c 'hostname "$0"; exec sh -c "$1"' "fr-h$k" "$*"
