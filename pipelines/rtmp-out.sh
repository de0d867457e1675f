#!/bin/sh
# UDP MPEG-TS in, re-wrapped into FLV (no decoding) and published over RTMP
# to a local nginx with the RTMP module: what a flow with an rtmp output
# runs.  nginx is started and stopped here, on 127.0.0.1; ffprobe then reads
# the stream back and must find H.264 and AAC.  Exit 77 (skip) without
# nginx's RTMP module.  Both ports (nginx's TCP one, the relay's UDP one)
# are picked free at run time.
set -eu
GST=${GST_LAUNCH:-gst-launch-1.0}
free_port() { python3 "$(dirname "$0")/free-port" "$@"; }
MODULE=/usr/lib/nginx/modules/ngx_rtmp_module.so
[ -x /usr/sbin/nginx ] && [ -f $MODULE ] || { echo "no nginx RTMP module: skipped"; exit 77; }

RTMP_PORT=$(free_port --tcp)
IN=$(free_port)
dir=$(mktemp -d)
trap 'kill $nginx 2>/dev/null || true; rm -rf "$dir"' EXIT
mkdir -p "$dir/logs"
cat > "$dir/nginx.conf" <<CONF
load_module $MODULE;
daemon off;
master_process off;
pid $dir/nginx.pid;
error_log $dir/logs/error.log;
events {}
rtmp { server { listen 127.0.0.1:$RTMP_PORT; application live { live on; record off; } } }
CONF
timeout 20 /usr/sbin/nginx -p "$dir" -c "$dir/nginx.conf" &
nginx=$!
sleep 1

timeout 12 $GST -q \
  udpbatchsrc port=$IN address=127.0.0.1 caps="video/mpegts,systemstream=true,packetsize=188" \
  ! tsdemux name=demux \
  demux. ! queue ! h264parse ! flvmux name=mux streamable=true \
      ! rtmp2sink location=rtmp://127.0.0.1:$RTMP_PORT/live/example sync=false \
  demux. ! queue ! aacparse ! mux. &
relay=$!
sleep 1

timeout 12 $GST -q videotestsrc is-live=true num-buffers=250 \
  ! video/x-raw,framerate=25/1 ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=25 \
  ! h264parse ! mpegtsmux name=ts alignment=7 ! udpsink host=127.0.0.1 port=$IN sync=false \
  audiotestsrc is-live=true num-buffers=500 ! avenc_aac ! aacparse ! ts. &
sender=$!
sleep 3

codecs=$(timeout 8 ffprobe -v error -show_entries stream=codec_name -of csv=p=0 \
  rtmp://127.0.0.1:$RTMP_PORT/live/example | sort | tr '\n' ' ')
kill $sender $relay 2>/dev/null || true
wait $sender 2>/dev/null || true
wait $relay 2>/dev/null || true

case "$codecs" in
  *aac*h264*) echo "rtmp-out: ok, read back over RTMP: $codecs" ;;
  *) echo "FAIL: read back over RTMP: '$codecs', want aac and h264" >&2; exit 1 ;;
esac
