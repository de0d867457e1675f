#!/bin/sh
# SRT listener in on 127.0.0.1:25200 (AES-128), out as SRT caller to a
# listener on 25202 and as UDP to 25204: what a flow with an srt-listener
# source and an srt-caller and a udp output runs.  A test sender feeds it;
# the SRT receiver's capture is checked.
set -eu
GST=${GST_LAUNCH:-gst-launch-1.0}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
PASS=0123456789abcdef

# the receiver: an SRT listener that writes what it gets
timeout 12 srt-live-transmit -q "srt://:25202?mode=listener&passphrase=$PASS&pbkeylen=16" \
  file://con > "$out" 2>/dev/null &
receiver=$!

timeout 12 $GST -q \
  srtsrc uri="srt://127.0.0.1:25200?mode=listener" passphrase=$PASS pbkeylen=16 keep-listening=true \
  ! "video/mpegts,systemstream=true,packetsize=188" ! packetstats ! tee name=fanout \
  fanout. ! queue leaky=downstream max-size-buffers=0 max-size-bytes=0 max-size-time=1000000000 \
      ! srtsink uri="srt://127.0.0.1:25202?mode=caller" passphrase=$PASS pbkeylen=16 \
        wait-for-connection=false sync=false \
  fanout. ! udpfanoutsink clients=127.0.0.1:25204 sync=false &
relay=$!
sleep 1

timeout 10 $GST -q videotestsrc num-buffers=75 is-live=true \
  ! x264enc tune=zerolatency speed-preset=ultrafast \
  ! mpegtsmux alignment=7 \
  ! srtsink uri="srt://127.0.0.1:25200?mode=caller" passphrase=$PASS pbkeylen=16 sync=false

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
