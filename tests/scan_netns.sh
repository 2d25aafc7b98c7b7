#!/usr/bin/env bash
# The opt-in scan over real interfaces, inside two network namespaces this
# script makes and removes (so the scan cannot reach anything else):
#   herd-scan-h-PID  the "hosts": veth hshPID with 10.213.77.2, .3, .4 (/29);
#                    herd-sim nodes on .2:11434 and .3:11434, and on
#                    .4:11434 a listener that is not Ollama (herd-sim's
#                    control port: it answers /api/version with 404)
#   herd-scan-c-PID  the scanner: veth hscPID with 10.213.77.1/29, its peer
# No other interface, address or route exists in either namespace, so the
# scan of 10.213.77.0/29 (.1-.6; .5 and .6 are unassigned and time out)
# contacts nothing outside them. Skipped (77) where namespaces cannot be made.
# usage: scan_netns.sh TEST_SCAN HERD_SIM HERD_CLI
set -u
test_scan=$1 sim=$2 cli=$3
range=10.213.77.0/29
h=herd-scan-h-$$ c=herd-scan-c-$$ vh=hsh$$ vc=hsc$$
dir=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  ip netns del "$h" 2>/dev/null; ip netns del "$c" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null || ! ip netns add "$h" 2>/dev/null; then
  echo "skipped: network namespaces need root and iproute2 (ip netns add failed)"; exit 77
fi
ip netns add "$c" || exit 77
ip link add "$vc" netns "$c" type veth peer name "$vh" netns "$h" || { echo "skipped: no veth support"; exit 77; }
ip -n "$c" addr add 10.213.77.1/29 dev "$vc"
for a in 2 3 4; do ip -n "$h" addr add "10.213.77.$a/29" dev "$vh"; done
for ns in "$h" "$c"; do ip -n "$ns" link set lo up; done
ip -n "$c" link set "$vc" up
ip -n "$h" link set "$vh" up
# The scanner's only route is the test's /29: nothing else is reachable from it.
routes=$(ip -n "$c" route show table all | grep -v '^local\|^broadcast\|^multicast\|^fe80::/64\|^ff00::/8' || true)
[ "$routes" = "10.213.77.0/29 dev $vc proto kernel scope link src 10.213.77.1 " ] ||
  [ "$routes" = "10.213.77.0/29 dev $vc proto kernel scope link src 10.213.77.1" ] ||
  { echo "unexpected routes in the scanner's namespace: $routes"; exit 1; }

start() { # ADDRESS ARGS...: herd-sim in the hosts namespace, bound to ADDRESS
  local address=$1; shift
  ip netns exec "$h" "$sim" --listen "$address" --ports-file "$dir/$address" "$@" >/dev/null &
  pids+=($!)
}
start 10.213.77.2 --node zero --port-base 11434
start 10.213.77.3 --node zero --port-base 11434
start 10.213.77.4 --node zero --port-base 11500 --control-port 11434
for i in $(seq 100); do
  [ -e "$dir/10.213.77.2" ] && [ -e "$dir/10.213.77.3" ] && [ -e "$dir/10.213.77.4" ] && break
  sleep 0.1 # waiting for another process to bind, bounded
done
[ -e "$dir/10.213.77.4" ] || { echo "herd-sim did not start"; exit 1; }

export HERD_SCAN_RANGE=$range HERD_SCAN_EXPECT=http://10.213.77.2:11434,http://10.213.77.3:11434
ip netns exec "$c" "$test_scan" "[netns]" || exit 1
printf 'one\ntwo\nthree\n' > "$dir/input"
ip netns exec "$c" "$cli" embed --discover "scan:$range" --scan-timeout 0.5 --model all-minilm --quiet \
  "$dir/input" > "$dir/out" 2> "$dir/err" || { cat "$dir/err"; exit 1; }
[ "$(wc -l < "$dir/out")" -eq 3 ] || { echo "herd embed wrote $(wc -l < "$dir/out") rows, not 3"; exit 1; }
echo "scan_netns: found exactly the two herd-sim hosts in $range; herd embed --discover embedded 3 texts"
