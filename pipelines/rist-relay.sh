#!/bin/sh
# RIST in on 127.0.0.1:25300 (simple profile, RTP on the even port, RTCP
# on the next), depayloaded once, out as RIST to 25302 and as UDP: what a
# flow with a rist source and a rist and a udp output runs.  A RIST
# receiver on 25302 checks what arrives.
set -eu
GST=${GST_LAUNCH:-gst-launch-1.0}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

timeout -k 2 11 $GST -q ristsrc port=25302 \
  ! "application/x-rtp,media=video,clock-rate=90000,encoding-name=MP2T" \
  ! rtpmp2tdepay ! filesink buffer-mode=unbuffered location="$out" &
receiver=$!

timeout 11 $GST -q \
  ristsrc port=25300 ! "application/x-rtp,media=video,clock-rate=90000,encoding-name=MP2T" \
  ! packetstats ! rtpmp2tdepay ! tee name=fanout \
  fanout. ! queue ! rtpmp2tpay mtu=1328 ! ristsink address=127.0.0.1 port=25302 \
  fanout. ! udpfanoutsink clients=127.0.0.1:25304 sync=false &
relay=$!
sleep 1

# the sender may not reach EOS on its own (FEC/RIST sinks): bounded
timeout 6 $GST -q videotestsrc num-buffers=75 is-live=true \
  ! x264enc tune=zerolatency speed-preset=ultrafast \
  ! mpegtsmux alignment=7 ! rtpmp2tpay ! ristsink address=127.0.0.1 port=25300 || true

sleep 2
kill $relay $receiver 2>/dev/null || true
wait $relay 2>/dev/null || true
wait $receiver 2>/dev/null || true

size=$(stat -c %s "$out")
if [ "$size" -eq 0 ] || [ $((size % 188)) -ne 0 ]; then
  echo "FAIL: the RIST receiver got $size bytes, not a whole number of TS packets" >&2
  exit 1
fi
echo "rist-relay: ok, $size bytes of MPEG-TS arrived over RIST"
