#!/usr/bin/env python3
# mroute
# Copyright (C) 2026 mroute developers
#
# This library is free software; you can redistribute it and/or
# modify it under the terms of the GNU Library General Public
# License as published by the Free Software Foundation; either
# version 2 of the License, or (at your option) any later version.

"""Generates tests/unit/frame-types-data.h, the sample streams of
tests/unit/frame-types.c, and what ffprobe says of them.

Run by hand (not at build time) when the samples should change:

    python3 tests/unit/make-frame-types-data.py > tests/unit/frame-types-data.h

It needs gst-launch-1.0 (x264enc, x265enc, h264parse, h265parse,
mpegvideoparse, av1parse), ffmpeg (mpeg2video, libaom-av1, libsvtav1,
librav1e) and ffprobe.

Each sample is a tiny real stream (64x64, 30 pictures, GOPs of 10, B
frames where the codec has them, low quality: a few KB), encoded and then
cut into access units / temporal units by the GStreamer parser, the way
mroute sees them (byte-stream, alignment=au; av1parse alignment=tu,
obu-stream).  The units put end to end are the elementary stream ffprobe
reads (checked); ffprobe decodes it and gives, per shown frame, the
packet's byte position, pict_type and key_frame: the expected type of
each unit, in decode order, is that of the frame whose packet starts
where the unit starts."""

import json
import os
import subprocess
import sys
import tempfile

W, H, N = 64, 64, 30
GST_SRC = ('videotestsrc num-buffers=%d pattern=ball ! '
           'video/x-raw,format=I420,width=%d,height=%d,framerate=30/1' % (N, W, H))
FF_SRC = ['-f', 'lavfi', '-i', 'testsrc2=size=%dx%d:rate=25' % (W, H),
          '-frames:v', str(N), '-pix_fmt', 'yuv420p']

# name, codec, encoder (for the record), how: ('gst', pipeline middle,
# caps after the parser) or ('ffmpeg', encoder arguments, muxer, gst parser
# and caps to cut the units)
STREAMS = [
    ('h264_x264', 'H264', 'x264enc bframes=2, key-int-max=10',
     ('gst', 'x264enc key-int-max=10 bframes=2 b-adapt=false pass=quant '
      'quantizer=45 ! h264parse',
      'video/x-h264,stream-format=byte-stream,alignment=au')),
    ('h264_x264_slices', 'H264', 'x264enc bframes=2 b-pyramid, 4 slices',
     ('gst', 'x264enc key-int-max=10 bframes=2 b-adapt=false b-pyramid=true '
      'pass=quant quantizer=45 option-string=slices=4 ! h264parse',
      'video/x-h264,stream-format=byte-stream,alignment=au')),
    ('hevc_x265_slices', 'HEVC',
     'x265enc bframes=2 closed GOP, 2 slices, CTU 16, VPS/SPS/PPS with each IRAP',
     ('gst', 'x265enc key-int-max=10 qp=45 speed-preset=ultrafast '
      'option-string="bframes=2:b-adapt=0:ctu=16:slices=2:min-keyint=10:'
      'scenecut=0:open-gop=0:info=0" ! h265parse config-interval=-1',
      'video/x-h265,stream-format=byte-stream,alignment=au')),
    ('hevc_x265_cra', 'HEVC',
     'x265enc bframes=2 open GOP (CRA after the first IDR), parameter sets once',
     ('gst', 'x265enc key-int-max=10 qp=45 speed-preset=ultrafast '
      'option-string="bframes=2:b-adapt=0:min-keyint=10:scenecut=0:'
      'open-gop=1:info=0" ! h265parse',
      'video/x-h265,stream-format=byte-stream,alignment=au')),
    ('mpeg2_ffmpeg', 'MPEG2', 'ffmpeg mpeg2video -bf 2 -g 10',
     ('ffmpeg', ['-c:v', 'mpeg2video', '-bf', '2', '-g', '10', '-q:v', '31'],
      'mpeg2video', 'mpegvideoparse', 'video/mpeg')),
    ('av1_aom', 'AV1', 'ffmpeg libaom-av1 -g 10 (hidden alt-ref frames)',
     ('ffmpeg', ['-c:v', 'libaom-av1', '-cpu-used', '8', '-g', '10',
                 '-crf', '63'],
      'obu', 'av1parse', 'video/x-av1,stream-format=obu-stream,alignment=tu')),
    ('av1_svt', 'AV1', 'ffmpeg libsvtav1 -g 10',
     ('ffmpeg', ['-c:v', 'libsvtav1', '-preset', '12', '-g', '10',
                 '-crf', '63'],
      'obu', 'av1parse', 'video/x-av1,stream-format=obu-stream,alignment=tu')),
    ('av1_rav1e', 'AV1', 'ffmpeg librav1e -g 10',
     ('ffmpeg', ['-c:v', 'librav1e', '-speed', '10', '-g', '10',
                 '-qp', '255'],
      'obu', 'av1parse', 'video/x-av1,stream-format=obu-stream,alignment=tu')),
]

FFPROBE_TYPES = {'I': 'I', 'P': 'P', 'B': 'B'}


def run(cmd, **kw):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, **kw)


def gst(pipeline):
    run('gst-launch-1.0 -q ' + pipeline, shell=True)


def make(tmp, name, how):
    d = os.path.join(tmp, name)
    os.mkdir(d)
    units = os.path.join(d, 'unit-%03d.bin')
    if how[0] == 'gst':
        gst("%s ! %s ! '%s' ! multifilesink location=%s"
            % (GST_SRC, how[1], how[2], units))
    else:
        _, args, muxer, parser, caps = how
        es = os.path.join(tmp, name + '.es')
        run(['ffmpeg', '-v', 'error', '-y'] + FF_SRC + args + ['-f', muxer, es])
        gst("filesrc location=%s ! %s ! '%s' ! multifilesink location=%s"
            % (es, parser, caps, units))
    data = []
    for f in sorted(os.listdir(d)):
        with open(os.path.join(d, f), 'rb') as fp:
            data.append(fp.read())
    es = os.path.join(tmp, name + '.cat')
    with open(es, 'wb') as fp:
        fp.write(b''.join(data))
    return data, es


def probe(es, units):
    out = subprocess.run(
        ['ffprobe', '-v', 'error', '-show_frames', '-show_entries',
         'frame=pict_type,key_frame,pkt_pos', '-of', 'json', es],
        check=True, capture_output=True, text=True).stdout
    frames = json.loads(out)['frames']
    starts = []
    pos = 0
    for u in units:
        starts.append(pos)
        pos += len(u)

    def unit_at(pos):
        # ffmpeg's parsers may start a packet after the leading zero of a
        # 4-byte start code
        for i, start in enumerate(starts):
            if start <= pos < start + len(units[i]) and pos - start <= 1 and \
                    not any(units[i][:pos - start]):
                return i
        sys.exit('%s: no unit starts at %d' % (es, pos))
    types = ['?'] * len(units)
    keys = ['?'] * len(units)
    for f in frames:
        i = unit_at(int(f['pkt_pos']))
        if types[i] != '?':
            sys.exit('%s: two frames in unit %d' % (es, i))
        types[i] = FFPROBE_TYPES[f['pict_type']]
        keys[i] = '1' if f['key_frame'] else '0'
    if '?' in types:
        sys.exit('%s: units without a frame: %s' % (es, types))
    return ''.join(types), ''.join(keys)


def c_bytes(data):
    lines = []
    for i in range(0, len(data), 16):
        lines.append('  ' + ', '.join('0x%02x' % b for b in data[i:i + 16]) + ',')
    return '\n'.join(lines)


def main():
    out = []
    out.append('/* Generated by tests/unit/make-frame-types-data.py: do not edit.\n'
               ' * Sample streams (%dx%d, %d pictures) cut into access units as the\n'
               ' * GStreamer parsers output them, in decode order, with the type and\n'
               ' * key_frame flag ffprobe gives each (its decoder is the truth). */\n'
               % (W, H, N))
    out.append('typedef struct\n{\n  const gchar *name;\n  MrVideoCodec codec;\n'
               '  const gchar *encoder;\n  const guint8 *data;        /* units end to end */\n'
               '  const guint *sizes;\n  guint n_units;\n'
               '  const gchar *types;        /* per unit: I, P or B */\n'
               '  const gchar *keyframes;    /* per unit: 1 or 0 */\n} FtSample;\n')
    table = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, codec, encoder, how in STREAMS:
            units, es = make(tmp, name, how)
            types, keys = probe(es, units)
            blob = b''.join(units)
            print('%s: %d units, %d bytes: %s %s' % (name, len(units), len(blob),
                                                     types, keys), file=sys.stderr)
            out.append('/* %s */\nstatic const guint8 %s_data[] = {\n%s\n};\n'
                       % (encoder, name, c_bytes(blob)))
            out.append('static const guint %s_sizes[] = {\n  %s\n};\n'
                       % (name, ', '.join(str(len(u)) for u in units)))
            table.append('  { "%s", MR_VIDEO_CODEC_%s, "%s", %s_data, %s_sizes, %d,\n'
                         '    "%s",\n    "%s" },'
                         % (name, codec, encoder, name, name, len(units), types, keys))
    out.append('static const FtSample ft_samples[] = {\n%s\n};\n' % '\n'.join(table))
    sys.stdout.write('\n'.join(out))


if __name__ == '__main__':
    main()
