#!/bin/sh
# Two SRT encoders on one listener port, routed by their stream ids, each
# with its own passphrase and key length (srtroutesrc, our plugin): what
# two flows with srt-listener sources on one ingest_port run.  A caller
# with an unknown stream id is refused.  Ports picked free at run time.
set -eu
GST=${GST_LAUNCH:-gst-launch-1.0}
free_port() { python3 "$(dirname "$0")/free-port" "$@"; }
IN=$(free_port 1)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
PASS_A=passphrase-of-cam-a PASS_B=passphrase-of-cam-b-256

timeout 15 $GST -q \
  srtroutesrc port=$IN streamid=cam-a passphrase=$PASS_A pbkeylen=16 \
  ! "video/mpegts,systemstream=true,packetsize=188" ! filesink location="$dir/a.ts" \
  srtroutesrc port=$IN streamid=cam-b passphrase=$PASS_B pbkeylen=32 \
  ! "video/mpegts,systemstream=true,packetsize=188" ! filesink location="$dir/b.ts" &
relay=$!
sleep 1

send() {  # stream id, passphrase, key length
  timeout 10 $GST -q videotestsrc num-buffers=50 is-live=true \
    ! x264enc tune=zerolatency speed-preset=ultrafast ! mpegtsmux alignment=7 \
    ! srtsink uri="srt://127.0.0.1:$IN?mode=caller" streamid="$1" passphrase="$2" \
      pbkeylen="$3" sync=false
}
send cam-a $PASS_A 16
# MediaMTX's form names the route in r=
send '#!::r=cam-b,m=publish' $PASS_B 32
# no route: refused before any media flows (srtsink fails to connect)
if send cam-x $PASS_A 16 2>/dev/null; then
  echo "FAIL: a caller with an unknown stream id was accepted" >&2
  exit 1
fi

sleep 1
kill -INT $relay 2>/dev/null || true
wait $relay 2>/dev/null || true

for r in a b; do
  size=$(stat -c %s "$dir/$r.ts")
  if [ "$size" -eq 0 ] || [ $((size % 188)) -ne 0 ]; then
    echo "FAIL: route cam-$r got $size bytes, not a whole number of TS packets" >&2
    exit 1
  fi
  echo "srt-routing: cam-$r: $size bytes of MPEG-TS"
done
echo "srt-routing: ok"
