#!/bin/sh
# RTP (MP2T, RFC 2250) in on 127.0.0.1:IN (a free port), sequence checked by
# packetstats, depayloaded once, and sent out both as plain UDP MPEG-TS and,
# payloaded again, as RTP (what a flow with an rtp source and a udp and an
# rtp output runs).
set -eu
GST=${GST_LAUNCH:-gst-launch-1.0}
free_port() { python3 "$(dirname "$0")/free-port" "$@"; }
IN=$(free_port 5)
OUT_UDP=$((IN + 2)) OUT_RTP=$((IN + 4))
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# a receiver on one of the outputs, to check that the stream arrives
timeout -s INT 9 $GST -q -e udpsrc port=$OUT_UDP address=127.0.0.1 \
  ! filesink location="$out" &
receiver=$!

timeout 10 $GST -q \
  udpsrc port=$IN address=127.0.0.1 \
      caps="application/x-rtp,media=video,clock-rate=90000,encoding-name=MP2T" \
  ! packetstats ! rtpmp2tdepay ! tee name=fanout allow-not-linked=true \
  fanout. ! multiudpsink sync=false async=false clients=127.0.0.1:$OUT_UDP \
  fanout. ! rtpmp2tpay mtu=1328 ! multiudpsink sync=false async=false clients=127.0.0.1:$OUT_RTP &
relay=$!
sleep 1

timeout 10 $GST -q videotestsrc num-buffers=75 is-live=true \
  ! x264enc tune=zerolatency speed-preset=ultrafast \
  ! mpegtsmux alignment=7 ! rtpmp2tpay ! udpsink host=127.0.0.1 port=$IN sync=false

sleep 1
kill -INT $relay $receiver 2>/dev/null || true
wait $relay 2>/dev/null || true
wait $receiver 2>/dev/null || true

size=$(stat -c %s "$out")
if [ "$size" -eq 0 ] || [ $((size % 188)) -ne 0 ]; then
  echo "FAIL: the output received $size bytes, not a whole number of TS packets" >&2
  exit 1
fi
echo "rtp-to-udp: ok, $size bytes of MPEG-TS arrived"
