#!/bin/bash
# Regenerates the iproute2 captures behind src/fixtures/: runs each command under strace in a
# scratch namespace and prints the last netlink request it sent, as hex (first nlmsg_len bytes).
# Needs root, iproute2, strace and python3. Touches nothing outside its two scratch namespaces,
# which it deletes on exit. Index numbers depend on creation order, so they differ from the
# fixtures' (taken from an earlier capture: ul0 = 6, veth0 = 10, vx1 = 11, br0 = 3); the netns
# fd is 4 and the sequence number is iproute2's clock; everything else must match byte for byte.
set -euo pipefail
A=nlcap-a-$$ B=nlcap-b-$$
trap 'ip netns del "$A" 2>/dev/null; ip netns del "$B" 2>/dev/null' EXIT
ip netns add "$A"; ip netns add "$B"
trace=$(mktemp); trap 'rm -f "$trace"; ip netns del "$A" 2>/dev/null; ip netns del "$B" 2>/dev/null' EXIT

cap() {
  ip netns exec "$A" strace -f -e trace=sendmsg,sendto -e write=all -o "$trace" "$@" >/dev/null 2>&1 || true
  python3 - "$trace" "$*" <<'PY'
import re, sys
msgs, cur = [], None
for line in open(sys.argv[1]):
    m = re.match(r'\s*\|\s*([0-9a-f]{5})\s+((?:[0-9a-f]{2}\s+)+)', line)
    if m:
        if int(m.group(1), 16) == 0:
            cur = []
            msgs.append(cur)
        cur.extend(m.group(2).split())
b = msgs[-1]
n = int(b[3] + b[2] + b[1] + b[0], 16)
print("#", sys.argv[2])
print(" ".join(b[:n]))
PY
}

in_a() { ip netns exec "$A" "$@"; }
in_a ip link add br0 type bridge
in_a ip link add ul0 type veth peer name ul1
cap ip link add br0x type bridge vlan_filtering 1
cap ip link add veth0 mtu 1400 address 02:00:00:00:00:01 type veth peer name eth0 mtu 1400 address 02:00:00:00:00:02 netns "$B"
cap ip link set dev veth0 master br0
cap ip link set dev veth0 type bridge_slave hairpin on
cap ip link set dev veth0 type bridge_slave isolated on learning off
cap bridge vlan add dev veth0 vid 10 pvid untagged
cap bridge vlan add dev veth0 vid 20-30
cap bridge vlan add dev br0 vid 10 self
cap bridge vlan del dev veth0 vid 10
cap bridge vlan show
cap ip link set dev veth0 nomaster
cap ip link add link ul0 name mvtmp0 netns "$B" type macvlan mode source macaddr set 02:00:00:00:00:0a 02:00:00:00:00:0b
cap ip link add vx0 netns "$B" type vxlan id 42 dstport 4789 local 10.1.0.1 dev ul0 ttl 64 nolearning proxy l2miss l3miss noudpcsum
cap ip link add vx1 type vxlan id 43 dstport 4789 local 10.1.0.1 dev ul0 nolearning
cap bridge fdb append 00:00:00:00:00:00 dev vx1 dst 10.1.0.2 self permanent
cap bridge fdb replace 02:00:00:00:00:33 dev vx1 dst 10.1.0.3 self permanent
cap bridge fdb del 00:00:00:00:00:00 dev vx1 dst 10.1.0.2 self
cap bridge fdb show dev vx1
cap ip addr add 10.9.0.2/24 brd + dev ul0
cap ip addr add fd00::2/64 dev ul0 nodad
cap ip addr del 10.9.0.2/24 dev ul0
cap ip route add 10.10.0.0/16 via 10.9.0.1 dev ul0 onlink metric 50 table 100 mtu 1400 advmss 1360
cap ip route add 10.11.0.0/16 dev ul0 table 1000
cap ip route del 10.10.0.0/16 via 10.9.0.1 dev ul0 table 100
cap ip neigh replace 10.9.0.7 lladdr 02:00:00:00:00:07 dev ul0 nud permanent
cap ip neigh del 10.9.0.7 dev ul0
cap ip link add br9 mtu 1450 address 02:00:00:00:00:99 type bridge
cap ip link set dev br0 type bridge vlan_filtering 1
cap ip link set dev veth0 up
cap ip link set dev veth0 name veth9
cap ip link set dev veth9 netns "$B"
