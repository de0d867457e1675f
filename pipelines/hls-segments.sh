#!/bin/sh
# MPEG-TS cut at key frames into segments with a live HLS playlist by our
# tssegmentsink, as an hls output does; ffprobe then reads the playlist and
# must find H.264, and every segment must start with a key frame.
set -eu
GST=${GST_LAUNCH:-gst-launch-1.0}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

timeout 60 $GST -q videotestsrc num-buffers=250 ! video/x-raw,framerate=25/1 \
  ! x264enc speed-preset=ultrafast key-int-max=25 ! h264parse ! mpegtsmux \
  ! tssegmentsink directory="$dir" target-duration=2 playlist-length=3 max-files=4 \
      playlist-location="$dir/index.m3u8"

grep -q '^#EXT-X-MEDIA-SEQUENCE:[1-9]' "$dir/index.m3u8" || { echo "FAIL: the playlist did not slide" >&2; cat "$dir/index.m3u8" >&2; exit 1; }
n=$(ls "$dir"/*.ts | wc -l)
[ "$n" -le 4 ] || { echo "FAIL: $n segments on disk, max-files is 4" >&2; exit 1; }
codec=$(timeout 20 ffprobe -v error -show_entries stream=codec_name -of csv=p=0 "$dir/index.m3u8" | grep -m1 .)
[ "$codec" = h264 ] || { echo "FAIL: ffprobe read '$codec' from the playlist" >&2; exit 1; }
for f in "$dir"/*.ts; do
  flags=$(timeout 20 ffprobe -v error -select_streams v -show_entries packet=flags -of csv=p=0 \
    -read_intervals %+#1 "$f")
  case "$flags" in K*) ;; *) echo "FAIL: $f starts with '$flags', not a key frame" >&2; exit 1 ;; esac
done
echo "hls-segments: ok, $n segments, each from a key frame"
