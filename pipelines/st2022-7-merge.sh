#!/bin/sh
# SMPTE ST 2022-7: one sender sends the same RTP (MP2T) packets to two
# ports, 127.0.0.1:LEG_A and :LEG_B (picked free at run time); the first
# path drops 10% of them.
# rtpst2022-7-merge takes each packet from whichever leg has it, so what
# the receiver writes is what the sender sent, byte for byte.
set -eu
GST=${GST_LAUNCH:-gst-launch-1.0}
free_port() { python3 "$(dirname "$0")/free-port" "$@"; }
LEG_A=$(free_port 3)
LEG_B=$((LEG_A + 2))
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
CAPS="application/x-rtp,media=video,clock-rate=90000,encoding-name=MP2T"

timeout -s INT 12 $GST -q -e rtpst2022-7-merge name=m recovery-window=50 \
  ! rtpmp2tdepay ! filesink location="$dir/merged.ts" \
  udpsrc port=$LEG_A address=127.0.0.1 caps="$CAPS" ! m.sink_0 \
  udpsrc port=$LEG_B address=127.0.0.1 caps="$CAPS" ! m.sink_1 &
receiver=$!
sleep 1

timeout 10 $GST -q videotestsrc num-buffers=75 is-live=true \
  ! x264enc tune=zerolatency speed-preset=ultrafast \
  ! mpegtsmux alignment=7 ! tee name=sent \
  sent. ! queue ! filesink location="$dir/sent.ts" \
  sent. ! queue ! rtpmp2tpay ! tee name=legs \
  legs. ! queue ! identity drop-probability=0.1 \
      ! udpsink host=127.0.0.1 port=$LEG_A sync=false \
  legs. ! queue ! udpsink host=127.0.0.1 port=$LEG_B sync=false

sleep 1
kill -INT $receiver 2>/dev/null || true
wait $receiver 2>/dev/null || true

sent=$(stat -c %s "$dir/sent.ts")
merged=$(stat -c %s "$dir/merged.ts")
# the depayloader may keep the very last packet: the output is the sent
# stream, or all of it but its end
if [ "$merged" -lt $((sent * 9 / 10)) ] \
    || ! cmp -s -n "$merged" "$dir/sent.ts" "$dir/merged.ts"; then
  echo "FAIL: merged $merged bytes of $sent, not the sent stream" >&2
  exit 1
fi
echo "st2022-7-merge: ok, $merged of $sent bytes identical to what was sent"
