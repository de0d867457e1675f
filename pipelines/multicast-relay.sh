#!/bin/sh
# Source-specific multicast in, multicast out: udpbatchsrc joins the group
# 232.1.1.1 from 127.0.0.1 only, and udpfanoutsink sends it on to the
# group 239.2.2.2 with TTL 16 and DSCP 34 (AF41) out of lo; a member of
# 239.2.2.2 checks that the stream arrives, and a second sender of
# 232.1.1.1 (from 127.0.0.2) that SSM keeps it out.  What a flow with a
# multicast source and a multicast output runs.
#
# It runs in a network namespace of its own (unshare -n: root), whose lo
# is brought up with the MULTICAST flag; nothing leaves it.  Without the
# permission it says so and is skipped (exit 77).
set -eu
GST=${GST_LAUNCH:-gst-launch-1.0}
if [ -z "${MR_IN_OWN_NETNS:-}" ]; then
  if command -v unshare >/dev/null && command -v ip >/dev/null \
      && unshare -n true 2>/dev/null; then
    MR_IN_OWN_NETNS=1 exec unshare -n sh "$0" "$@"
  fi
  echo "multicast-relay: skipped: no network namespace of our own (needs root, unshare, ip)"
  exit 77
fi
ip link set lo up multicast on
free_port() { python3 "$(dirname "$0")/free-port" "$@"; }
IN=$(free_port 2)
OUT=$((IN + 1))
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# a member of the output group
timeout -s INT 9 $GST -q -e \
  udpbatchsrc uri="udp://239.2.2.2:$OUT?multicast-iface=lo" \
  ! filesink location="$out" &
receiver=$!

timeout 10 $GST -q \
  udpbatchsrc uri="udp://232.1.1.1:$IN?multicast-source=127.0.0.1&multicast-iface=lo" \
      caps="video/mpegts,systemstream=true,packetsize=188" \
  ! packetstats \
  ! udpfanoutsink clients=239.2.2.2:$OUT ttl-mc=16 qos-dscp=34 multicast-iface=lo \
      sync=false async=false &
relay=$!
sleep 1

# another sender of the group, not the one the relay joined for: dropped
timeout 10 $GST -q fakesrc num-buffers=50 sizetype=2 sizemax=1316 filltype=1 \
  ! udpsink host=232.1.1.1 port=$IN bind-address=127.0.0.2 multicast-iface=lo sync=false
# the sender the relay joined for
timeout 10 $GST -q videotestsrc num-buffers=75 is-live=true \
  ! x264enc tune=zerolatency speed-preset=ultrafast \
  ! mpegtsmux alignment=7 \
  ! udpsink host=232.1.1.1 port=$IN bind-address=127.0.0.1 multicast-iface=lo sync=false

sleep 1
kill -INT $relay $receiver 2>/dev/null || true
wait $relay 2>/dev/null || true
wait $receiver 2>/dev/null || true

size=$(stat -c %s "$out")
if [ "$size" -eq 0 ] || [ $((size % 188)) -ne 0 ]; then
  echo "FAIL: the group received $size bytes, not a whole number of TS packets" >&2
  exit 1
fi
# fakesrc filltype=1 fills with zeros: a TS stream starts with 0x47
if [ "$(od -An -tx1 -N1 "$out" | tr -d ' ')" != "47" ]; then
  echo "FAIL: the group received what the other sender sent" >&2
  exit 1
fi
echo "multicast-relay: ok, $size bytes of MPEG-TS arrived in 239.2.2.2"
