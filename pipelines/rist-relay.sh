#!/bin/sh
# RIST in on 127.0.0.1:IN (simple profile, RTP on the even port, RTCP
# on the next), depayloaded once, out as RIST to IN+2 and as UDP to IN+4:
# what a flow with a rist source and a rist and a udp output runs.  A RIST
# receiver on IN+2 checks what arrives.  IN is an even port picked free at
# run time, with IN+1 ... IN+4 free too.
set -eu
GST=${GST_LAUNCH:-gst-launch-1.0}
free_port() { python3 "$(dirname "$0")/free-port" "$@"; }
IN=$(free_port --even 5)
OUT_RIST=$((IN + 2)) OUT_UDP=$((IN + 4))
out=$(mktemp)
trap 'rm -f "$out"' EXIT

timeout -k 2 11 $GST -q ristsrc port=$OUT_RIST \
  ! "application/x-rtp,media=video,clock-rate=90000,encoding-name=MP2T" \
  ! rtpmp2tdepay ! filesink buffer-mode=unbuffered location="$out" &
receiver=$!

timeout 11 $GST -q \
  ristsrc port=$IN ! "application/x-rtp,media=video,clock-rate=90000,encoding-name=MP2T" \
  ! packetstats ! rtpmp2tdepay ! tee name=fanout \
  fanout. ! queue ! rtpmp2tpay mtu=1328 ! ristsink address=127.0.0.1 port=$OUT_RIST \
  fanout. ! udpfanoutsink clients=127.0.0.1:$OUT_UDP sync=false &
relay=$!
sleep 1

# the sender may not reach EOS on its own (FEC/RIST sinks): bounded
timeout 6 $GST -q videotestsrc num-buffers=75 is-live=true \
  ! x264enc tune=zerolatency speed-preset=ultrafast \
  ! mpegtsmux alignment=7 ! rtpmp2tpay ! ristsink address=127.0.0.1 port=$IN || true

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
