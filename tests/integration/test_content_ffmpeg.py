#!/usr/bin/env python3
"""blackdetect, freezedetect and silencedetect against FFmpeg's filters of
the same names, on the same clip.

ffmpeg generates a 12 s clip, 320x240 at 25 fps and 48 kHz stereo,
encoded as H.264 and AAC in MPEG-TS (what the flows carry), with stretches
planted at known times (clip time: from the first video frame):

  video  black   1.0 - 3.6   2.6 s     reported (and frozen: black frames
                                       are the same picture)
         frozen  4.0 - 4.8   0.8 s     too short
         black   5.2 - 6.4   1.2 s     too short
         frozen  7.0 - 9.6   2.6 s     reported (from where the encoder
                                       has settled on the still picture)
         black   9.8 - end   2.2 s     open at the end: FFmpeg ends it at
                                       the last frame (and the freeze it is
                                       stays open)
  audio  silent  2.0 - 4.5   2.5 s     reported
         silent  6.0 - 7.5   1.5 s     too short
         silent  9.5 - end   2.5 s     open at the end: ends with the audio

FFmpeg runs `-vf blackdetect,freezedetect -af silencedetect` on it with
-copyts, so that its times are the file's PTS.  Ours run in gst-launch-1.0
-m (tsdemux ! h264parse ! avdec_h264 ! blackdetect ! freezedetect and
aacparse ! avdec_aac ! audioconvert to interleaved F32 ! silencedetect),
and report stream times.  tsdemux maps the program's PTS to stream time
with one offset, measured on the first video frame: its PTS from ffprobe,
its stream time from a verbose fakesink.

Checked: both report the same events, in the same order, and every start
and end of ours is within one frame (40 ms) of FFmpeg's for video, within
20 ms for audio; FFmpeg's events are the planted stretches (nothing for the
short ones), each within 0.3 s of where it was planted.  The deltas go to
stderr as "[content] ..." lines.  Every subprocess is bounded in time; the
whole file takes a few seconds.
"""

import os
import re
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mroute_testcase import MrouteTestCase  # noqa: E402

FPS = 25
SECONDS = 12
VIDEO_TOLERANCE = 0.040       # one frame
AUDIO_TOLERANCE = 0.020
PLANT_TOLERANCE = 0.3

# (detector, event, clip time) that FFmpeg must find; None: not checked
# against the plan (the freeze's start depends on when the encoder has
# settled on the still picture, but it is compared with ours all the same)
PLANNED = [
    ("blackdetect", "start", 1.0), ("blackdetect", "end", 3.6),
    ("blackdetect", "start", 9.8), ("blackdetect", "end", 11.96),
    ("freezedetect", "start", 1.0), ("freezedetect", "end", 3.6),
    ("freezedetect", "start", None), ("freezedetect", "end", 9.6),
    ("freezedetect", "start", 9.8),
    ("silencedetect", "start", 2.0), ("silencedetect", "end", 4.5),
    ("silencedetect", "start", 9.5), ("silencedetect", "end", 12.0),
]

VIDEO_FILTER = (
    "testsrc2=size=320x240:rate=25:duration=12,"
    # frozen 4.0 - 4.8 (frame 100 shown 20 times), then 7.0 - 9.6 (frame
    # 175 of that, 65 times); the copies push the rest later, trim cuts
    "loop=loop=20:size=1:start=100,loop=loop=65:size=1:start=175,"
    "setpts=N/25/TB,trim=duration=12,"
    "drawbox=color=black:t=fill:enable='between(t,1,3.599)+between(t,5.2,6.399)+gte(t,9.8)'")
AUDIO_FILTER = (
    "sine=frequency=440:sample_rate=48000:duration=12,"
    "volume=enable='between(t,2,4.5)+between(t,6,7.5)+gte(t,9.5)':volume=0,"
    "pan=stereo|c0=c0|c1=c0")


def note(msg):
    sys.stderr.write("    [content] %s\n" % msg)
    sys.stderr.flush()


def run(cmd, timeout=60):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    out = r.stdout.decode("utf-8", "replace")
    err = r.stderr.decode("utf-8", "replace")
    if r.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (cmd[0], r.returncode, (out + err)[-3000:]))
    return out, err


def ffmpeg_events(path, video_filters, audio_filter):
    """FFmpeg's events as (detector, event, PTS in seconds), in log order;
    with silencedetect's m=1 the event is "start/0" for channel 0."""
    _, log = run(["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-copyts",
                  "-i", path, "-vf", video_filters, "-af", audio_filter,
                  "-f", "null", "-"])
    events = []
    for line in log.splitlines():
        m = re.search(r"black_start:([\d.]+) black_end:([\d.]+)", line)
        if m:
            events.append(("blackdetect", "start", float(m.group(1))))
            events.append(("blackdetect", "end", float(m.group(2))))
            continue
        m = re.search(r"lavfi\.freezedetect\.freeze_(start|end): ([\d.]+)", line)
        if m:
            events.append(("freezedetect", m.group(1), float(m.group(2))))
            continue
        m = re.search(r"(?:channel: (\d+) \| )?silence_(start|end): ([\d.]+)", line)
        if m:
            event = m.group(2) + ("/" + m.group(1) if m.group(1) else "")
            events.append(("silencedetect", event, float(m.group(3))))
    return events


def first_video_pts(path):
    out, _ = run(["ffprobe", "-v", "error", "-select_streams", "v:0",
                  "-read_intervals", "%+#1", "-show_entries", "frame=pts_time",
                  "-of", "csv=p=0", path])
    return float(out.split()[0].strip(","))


def clock_time(s):
    h, m, sec = s.split(":")
    return int(h) * 3600 + int(m) * 60 + float(sec)


def gst_events(path, black=(), freeze=(), silence=()):
    """Our events as (detector, event, stream time in seconds), and the
    stream time of the first video frame; @black, @freeze and @silence are
    the elements' properties, "name=value" each."""
    out, _ = run([
        "gst-launch-1.0", "-m", "-v",
        "filesrc", "location=%s" % path, "!", "tsdemux", "name=d",
        "d.", "!", "queue", "!", "h264parse", "!", "avdec_h264", "!",
        "blackdetect", *black, "!", "freezedetect", *freeze, "!",
        "fakesink", "name=vsink", "silent=false", "sync=false",
        "d.", "!", "queue", "!", "aacparse", "!", "avdec_aac", "!",
        "audioconvert", "!", "audio/x-raw,format=F32LE,layout=interleaved", "!",
        "silencedetect", *silence, "!", "fakesink", "sync=false"])
    events = []
    segment = None
    first = None
    for line in out.splitlines():
        m = re.search(r'\(element\): (blackdetect|freezedetect|silencedetect), '
                      r'event=\(string\)(start|end), running-time=\(guint64\)(\d+), '
                      r'stream-time=\(guint64\)(\d+)', line)
        if m:
            event = m.group(2)
            channel = re.search(r"channel=\(uint\)(\d+)", line)
            if channel:
                event += "/" + channel.group(1)
            events.append((m.group(1), event, int(m.group(4)) / 1e9))
            continue
        if "(vsink:sink)" not in line:
            continue
        if segment is None:
            m = re.search(r"type: segment.*?start=\(guint64\)(\d+).*?time=\(guint64\)(\d+)", line)
            if m:
                segment = (int(m.group(1)), int(m.group(2)))
        if first is None and segment is not None:
            m = re.search(r"chain .*?pts: (\d+:\d+:\d+\.\d+)", line)
            if m:
                first = clock_time(m.group(1)) - segment[0] / 1e9 + segment[1] / 1e9
    if first is None:
        raise RuntimeError("no video buffer seen in: %s" % out[-3000:])
    return events, first


class ContentDetectorsAgainstFFmpeg(MrouteTestCase):
    @classmethod
    def setUpClass(cls):
        for tool in ("ffmpeg", "ffprobe", "gst-launch-1.0"):
            if not shutil.which(tool):
                raise unittest.SkipTest("%s is not installed" % tool)
        super().setUpClass()
        cls.clip = os.path.join(cls.class_tmpdir(), "clip.ts")
        try:
            run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
                 "-f", "lavfi", "-i", VIDEO_FILTER, "-f", "lavfi", "-i", AUDIO_FILTER,
                 "-c:v", "libx264", "-preset", "ultrafast", "-g", "300",
                 "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k",
                 "-f", "mpegts", cls.clip], timeout=120)
        except BaseException:
            super().tearDownClass()      # not called when setUpClass fails
            raise

    def compare(self, ff, ours, first_stream_time, origin):
        """Ours against FFmpeg's: the same events per detector, in order,
        each within its tolerance"""
        offset = origin - first_stream_time
        worst = {}
        for det in ("blackdetect", "freezedetect", "silencedetect"):
            theirs = [(e, t) for d, e, t in ff if d == det]
            mine = [(e, t + offset) for d, e, t in ours if d == det]
            self.assertEqual([e for e, _ in mine], [e for e, _ in theirs],
                             "%s: ours %r, FFmpeg's %r" % (det, mine, theirs))
            tolerance = AUDIO_TOLERANCE if det == "silencedetect" else VIDEO_TOLERANCE
            for (e, t), (_, want) in zip(mine, theirs):
                delta = t - want
                worst[det] = max(worst.get(det, 0.0), abs(delta))
                note("%-13s %-7s FFmpeg %9.5f  ours %9.5f  delta %+8.3f ms"
                     % (det, e, want - origin, t - origin, delta * 1000))
                self.assertLessEqual(abs(delta), tolerance,
                                     "%s %s: ours at %.5f, FFmpeg's at %.5f" % (det, e, t, want))
        note("largest deltas: %s" % ", ".join("%s %.3f ms" % (d, w * 1000)
                                               for d, w in sorted(worst.items())))

    def test_defaults(self):
        """FFmpeg's defaults on both sides"""
        origin = first_video_pts(self.clip)
        ff = ffmpeg_events(self.clip, "blackdetect,freezedetect", "silencedetect")
        ours, first_stream_time = gst_events(self.clip)
        note("first video frame: PTS %.6f s in the file, stream time %.6f s in GStreamer"
             % (origin, first_stream_time))

        # FFmpeg found what was planted, and nothing else
        for det in ("blackdetect", "freezedetect", "silencedetect"):
            got = [(e, round(t - origin, 3)) for d, e, t in ff if d == det]
            want = [(e, t) for d, e, t in PLANNED if d == det]
            note("FFmpeg %s (clip time): %r" % (det, got))
            self.assertEqual([e for e, _ in got], [e for e, _ in want],
                             "FFmpeg's %s events are not the planted ones: %r" % (det, got))
            for (e, t), (_, planned) in zip(got, want):
                if planned is not None:
                    self.assertLess(abs(t - planned), PLANT_TOLERANCE,
                                    "FFmpeg's %s %s at %.3f, planted at %.3f" % (det, e, t, planned))

        self.compare(ff, ours, first_stream_time, origin)

    def test_other_settings(self):
        """One second minimum, a higher black level, -50 dB of noise, each
        audio channel on its own: the short stretches are reported too"""
        origin = first_video_pts(self.clip)
        ff = ffmpeg_events(self.clip, "blackdetect=d=1:pix_th=0.2,freezedetect=n=-50dB:d=1",
                           "silencedetect=n=-50dB:d=1:m=1")
        ours, first_stream_time = gst_events(
            self.clip, black=["min-duration=1", "pixel-threshold=0.2"],
            freeze=["noise=-50", "duration=1"],
            silence=["noise=-50", "duration=1", "mono=true"])
        # the 1.2 s black and the 1.5 s silence (on both channels) are in
        self.assertEqual(sum(1 for d, e, _ in ff if d == "blackdetect" and e == "start"), 3, ff)
        self.assertEqual(sum(1 for d, e, _ in ff if d == "silencedetect"
                             and e.startswith("start")), 6, ff)
        self.compare(ff, ours, first_stream_time, origin)


if __name__ == "__main__":
    unittest.main(verbosity=2)
