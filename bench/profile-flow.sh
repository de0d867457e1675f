#!/bin/sh
# Issue 14's profile: one flow (udp in, 2 udp outputs, default monitoring:
# metadata and GOP statistics) run by a controller under callgrind, fed the
# 1 Mbit/s H.264/AAC TS of bench/websocket.py in real time for 45 s
# (CLIP=path another TS, e.g. density.py's 10 Mbit/s clip in
# BUILD/bench-cache/; SECONDS=n another duration).
# callgrind counts instructions (repeatable on a busy machine); kernel work
# (the syscalls) is not in it.  Then:
#   callgrind_annotate --inclusive=yes $OUT/callgrind.out | less
# bench/README.md, "Where a flow's CPU goes", has the summary.
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
OUT=${OUT:-/tmp/mroute-profile}
mkdir -p "$OUT"
CLIP=${CLIP:-$BUILD/bench-cache/ws-1mbit.ts}
SECONDS_RUN=${SECONDS:-45}
[ -f "$CLIP" ] || python3 bench/websocket.py --build "$BUILD" --clients 1 --flows 1 --seconds 1 --repeat 1 >/dev/null
P=$(python3 -c "import socket;s=socket.socket();s.bind(('127.0.0.1',0));print(s.getsockname()[1])")
IN=$(python3 -c "import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.bind(('127.0.0.1',0));print(s.getsockname()[1])")
rm -f $OUT/db $OUT/callgrind.out
GST_PLUGIN_PATH=$BUILD/plugins valgrind --tool=callgrind --callgrind-out-file=$OUT/callgrind.out $BUILD/controller/mroute --port $P --db $OUT/db > $OUT/ctl.log 2>&1 &
VG=$!
for i in $(seq 1 100); do curl -s localhost:$P/health >/dev/null && break; sleep 0.5; done
ID=$(curl -s -X POST localhost:$P/v1/flows -H 'Content-Type: application/json' -d "{\"name\":\"p\",\"sources\":[{\"name\":\"in\",\"protocol\":\"udp\",\"ingest_port\":$IN}],\"outputs\":[{\"name\":\"o1\",\"protocol\":\"udp\",\"destination\":\"127.0.0.1\",\"port\":9},{\"name\":\"o2\",\"protocol\":\"udp\",\"destination\":\"127.0.0.1\",\"port\":19}]}" | python3 -c "import json,sys;print(json.load(sys.stdin)['id'])")
curl -s -X POST localhost:$P/v1/flows/$ID/start > /dev/null
timeout $SECONDS_RUN ffmpeg -nostdin -loglevel error -re -stream_loop -1 -i $CLIP -map 0 -c copy -f mpegts "udp://127.0.0.1:$IN?pkt_size=1316"
curl -s localhost:$P/v1/flows/$ID/metrics > $OUT/metrics.json
curl -s localhost:$P/v1/flows/$ID/metadata > $OUT/metadata.json
kill -TERM $VG; wait $VG
echo done
