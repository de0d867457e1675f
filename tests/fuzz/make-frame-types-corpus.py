#!/usr/bin/env python3
# mroute
# Copyright (C) 2026 mroute developers
#
# This library is free software; you can redistribute it and/or
# modify it under the terms of the GNU Library General Public
# License as published by the Free Software Foundation; either
# version 2 of the License, or (at your option) any later version.

"""Writes the seeds of the frame-types fuzz target, tests/fuzz/corpus-frame-types,
from the real samples of tests/unit/frame-types-data.h: for each sample
its first four access units (the first keyframe and what follows) and the
four around its second keyframe, in the target's input format (a codec
byte, a split byte, then each unit as a 2-byte big-endian length and its
bytes; see frame-types-fuzz.c).  Run by hand when the samples change:

    python3 tests/fuzz/make-frame-types-corpus.py
"""

import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, '..', 'unit', 'frame-types-data.h')
OUT = os.path.join(HERE, 'corpus-frame-types')
CODEC_BYTE = {'MR_VIDEO_CODEC_H264': 0, 'MR_VIDEO_CODEC_HEVC': 1,
              'MR_VIDEO_CODEC_MPEG2': 2, 'MR_VIDEO_CODEC_AV1': 3}


def array(text, name):
    m = re.search(r'static const \w+ %s\[\] = \{([^}]*)\}' % name, text)
    return [int(x, 0) for x in m.group(1).replace('\n', ' ').split(',')
            if x.strip()]


def main():
    text = open(DATA).read()
    samples = re.findall(r'\{ "(\w+)", (MR_VIDEO_CODEC_\w+), "[^"]*", '
                         r'(\w+)_data, \w+_sizes, (\d+),\s*"(\w+)",\s*"(\d+)" \}',
                         text)
    os.makedirs(OUT, exist_ok=True)
    for name, codec, var, n, types, keys in samples:
        data = bytes(array(text, var + '_data'))
        sizes = array(text, var + '_sizes')
        offsets = [sum(sizes[:i]) for i in range(len(sizes) + 1)]
        second_key = keys.index('1', 1)
        for label, first in (('start', 0), ('second-gop', second_key - 1)):
            out = bytearray([CODEC_BYTE[codec], first])
            for i in range(first, min(first + 4, len(sizes))):
                unit = data[offsets[i]:offsets[i + 1]]
                out += len(unit).to_bytes(2, 'big') + unit
            with open(os.path.join(OUT, '%s-%s' % (name, label)), 'wb') as f:
                f.write(out)


if __name__ == '__main__':
    main()
