#!/bin/sh
# SRT listener in on 127.0.0.1:IN (AES-128), out as SRT caller to a
# listener on IN+2 and as UDP to IN+4 (ports picked free at run time):
# what a flow with an srt-listener source and an srt-caller and a udp
# output runs.  A test sender feeds it; the SRT receiver's capture is
# checked.
set -eu
GST=${GST_LAUNCH:-gst-launch-1.0}
free_port() { python3 "$(dirname "$0")/free-port" "$@"; }
IN=$(free_port 5)
OUT_SRT=$((IN + 2)) OUT_UDP=$((IN + 4))
out=$(mktemp)
trap 'rm -f "$out"' EXIT
PASS=0123456789abcdef

# the receiver: an SRT listener that writes what it gets
timeout 12 srt-live-transmit -q "srt://:$OUT_SRT?mode=listener&passphrase=$PASS&pbkeylen=16" \
  file://con > "$out" 2>/dev/null &
receiver=$!

timeout 12 $GST -q \
  srtsrc uri="srt://127.0.0.1:$IN?mode=listener" passphrase=$PASS pbkeylen=16 keep-listening=true \
  ! "video/mpegts,systemstream=true,packetsize=188" ! packetstats ! tee name=fanout \
  fanout. ! queue leaky=downstream max-size-buffers=0 max-size-bytes=0 max-size-time=1000000000 \
      ! srtsink uri="srt://127.0.0.1:$OUT_SRT?mode=caller" passphrase=$PASS pbkeylen=16 \
        wait-for-connection=false sync=false \
  fanout. ! udpfanoutsink clients=127.0.0.1:$OUT_UDP sync=false &
relay=$!
sleep 1

timeout 10 $GST -q videotestsrc num-buffers=75 is-live=true \
  ! x264enc tune=zerolatency speed-preset=ultrafast \
  ! mpegtsmux alignment=7 \
  ! srtsink uri="srt://127.0.0.1:$IN?mode=caller" passphrase=$PASS pbkeylen=16 sync=false

sleep 1
kill -INT $relay 2>/dev/null || true
wait $relay 2>/dev/null || true
kill $receiver 2>/dev/null || true
wait $receiver 2>/dev/null || true

size=$(stat -c %s "$out")
if [ "$size" -eq 0 ] || [ $((size % 188)) -ne 0 ]; then
  echo "FAIL: the SRT receiver got $size bytes, not a whole number of TS packets" >&2
  exit 1
fi
echo "srt-relay: ok, $size bytes of MPEG-TS arrived over SRT"
