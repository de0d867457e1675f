#!/bin/sh
# UDP MPEG-TS in on 127.0.0.1:IN, counted by packetstats, out to three
# UDP destinations through one udpfanoutsink (what a flow with three UDP
# outputs runs).  A test sender feeds it for a few seconds; everything stops
# by itself.  The ports are picked free at run time (IN, IN+2, IN+4, IN+6).
set -eu
GST=${GST_LAUNCH:-gst-launch-1.0}
free_port() { python3 "$(dirname "$0")/free-port" "$@"; }
IN=$(free_port 7)
OUT1=$((IN + 2)) OUT2=$((IN + 4)) OUT3=$((IN + 6))
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# a receiver on one of the outputs, to check that the stream arrives
timeout -s INT 9 $GST -q -e udpsrc port=$OUT2 address=127.0.0.1 \
  ! filesink location="$out" &
receiver=$!

timeout 10 $GST -q \
  udpbatchsrc port=$IN address=127.0.0.1 \
      caps="video/mpegts,systemstream=true,packetsize=188" \
  ! packetstats name=stats \
  ! tee name=fanout allow-not-linked=true \
  fanout. ! udpfanoutsink sync=false async=false \
      clients=127.0.0.1:$OUT1,127.0.0.1:$OUT2,127.0.0.1:$OUT3 &
relay=$!
sleep 1

timeout 10 $GST -q videotestsrc num-buffers=75 is-live=true \
  ! x264enc tune=zerolatency speed-preset=ultrafast \
  ! mpegtsmux alignment=7 ! udpsink host=127.0.0.1 port=$IN sync=false

sleep 1
kill -INT $relay $receiver 2>/dev/null || true
wait $relay 2>/dev/null || true
wait $receiver 2>/dev/null || true

size=$(stat -c %s "$out")
if [ "$size" -eq 0 ] || [ $((size % 188)) -ne 0 ]; then
  echo "FAIL: the output received $size bytes, not a whole number of TS packets" >&2
  exit 1
fi
echo "udp-fanout: ok, $size bytes of MPEG-TS arrived"
