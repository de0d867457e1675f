#!/bin/sh
# An RTMP listener fed by ffmpeg: what a flow with an rtmp source that
# listens (ingest_port, stream_id) runs.  rtmpserversrc (ours) takes the
# publisher of rtmp://127.0.0.1:PORT/live/cam1, flvdemux and the parsers
# hand H.264 and AAC to mpegtsmux, and the MPEG-TS goes out over UDP to a
# capture; ffprobe then decodes the capture and must find H.264 frames
# (about 25 a second) and AAC.  A publisher with another key is refused.
# Both ports are picked free at run time; everything is on 127.0.0.1.
set -eu
GST=${GST_LAUNCH:-gst-launch-1.0}
free_port() { python3 "$(dirname "$0")/free-port" "$@"; }
command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || { echo "no ffmpeg: skipped"; exit 77; }

RTMP_PORT=$(free_port --tcp)
OUT=$(free_port)
dir=$(mktemp -d)
trap 'kill $relay $capture 2>/dev/null || true; rm -rf "$dir"' EXIT

timeout -s INT 25 $GST -q -e udpsrc port=$OUT address=127.0.0.1 \
  ! "video/mpegts,systemstream=true,packetsize=188" ! filesink location="$dir/out.ts" > "$dir/capture.log" 2>&1 &
capture=$!

timeout 25 $GST -q \
  rtmpserversrc port=$RTMP_PORT address=127.0.0.1 stream-key=cam1 ! flvdemux name=d \
  d.video ! queue ! h264parse ! mpegtsmux name=m alignment=7 ! udpsink host=127.0.0.1 port=$OUT sync=false \
  d.audio ! queue ! aacparse ! m. > "$dir/relay.log" 2>&1 &
relay=$!

# the listener takes connections once the pipeline plays (at most 10 s)
accepts() { python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 0.2).close()" "$1" 2>/dev/null; }
i=0
until accepts $RTMP_PORT; do
  i=$((i + 1)); [ $i -lt 50 ] || { echo "FAIL: rtmpserversrc did not listen on $RTMP_PORT" >&2; exit 1; }
  sleep 0.2
done

publish() {
  timeout 20 ffmpeg -hide_banner -nostdin -loglevel error -re \
    -f lavfi -i testsrc2=size=320x240:rate=25 -f lavfi -i sine=frequency=440:sample_rate=48000 \
    -t "$2" -c:v libx264 -preset ultrafast -tune zerolatency -g 25 -pix_fmt yuv420p \
    -c:a aac -f flv "rtmp://127.0.0.1:$RTMP_PORT/live/$1"
}

if publish wrong-key 1 2> "$dir/wrong.log"; then
  echo "FAIL: a publisher with an unknown stream key was taken" >&2; exit 1
fi
publish cam1 5 || { echo "FAIL: ffmpeg could not publish" >&2; exit 1; }
sleep 1
kill $relay 2>/dev/null || true
kill -INT $capture 2>/dev/null || true
wait $capture 2>/dev/null || true

probe=$(ffprobe -v error -count_frames -show_entries stream=codec_name,nb_read_frames -of csv=p=0 "$dir/out.ts" | sort | tr '\n' ' ')
video_frames=$(echo "$probe" | tr ' ' '\n' | sed -n 's/^h264,//p' | head -n 1)
case "$probe" in
  *aac*h264*) ;;
  *) echo "FAIL: the capture has '$probe', want aac and h264; relay: $(tail -c 600 "$dir/relay.log")" >&2; exit 1 ;;
esac
[ "${video_frames:-0}" -ge 100 ] || { echo "FAIL: $video_frames video frames decoded of 5 s, want >= 100" >&2; exit 1; }
echo "rtmp-listen: ok, ffmpeg -> rtmpserversrc -> MPEG-TS over UDP: $probe"
