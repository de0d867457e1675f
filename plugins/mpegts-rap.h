/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __MR_MPEGTS_RAP_H__
#define __MR_MPEGTS_RAP_H__

#include <glib.h>

G_BEGIN_DECLS

#define MR_TS_RAP_PID_COUNT 8192

/* What a PID carries, as far as the PAT and PMT told */
typedef enum
{
  MR_TS_PID_UNKNOWN = 0,
  MR_TS_PID_PSI,                /* the PAT or a PMT */
  MR_TS_PID_H264,
  MR_TS_PID_HEVC,
  MR_TS_PID_MPEG2_VIDEO,
  MR_TS_PID_OTHER_VIDEO,
  MR_TS_PID_NOT_VIDEO,
} MrTsPidKind;

/* Finds random-access points in MPEG-TS: a packet whose adaptation field has
 * the random_access_indicator, or the first packet of a video PES whose
 * payload holds an H.264 IDR or SPS, an HEVC IRAP or parameter set, or an
 * MPEG-2 sequence header.  Learns the stream types from PAT and PMT
 * sections that fit in one packet; until then a PES of a video stream_id
 * is taken as H.264 (the HEVC reading of an H.264 NAL header can look like
 * an IRAP, the other way round it cannot).  Audio and other PIDs the PMT
 * names are never a random-access point.  Plain C so that it can be
 * unit-tested and fuzzed without GStreamer. */
typedef struct
{
  guint8 pid_kind[MR_TS_RAP_PID_COUNT];        /* MrTsPidKind */
} MrTsRapScanner;

void mr_ts_rap_scanner_init (MrTsRapScanner * scanner);

/* Scans whole packets of @packet_size bytes (188, 192 with a 4-byte
 * timecode in front, or 204 with 16 bytes of FEC behind) and returns the
 * offset of the first random-access packet, or -1.  Without @find_rap it
 * only learns the PSI and returns -1. */
gssize mr_ts_rap_scan (MrTsRapScanner * scanner, const guint8 * data,
    gsize size, guint packet_size, gboolean find_rap);

G_END_DECLS

#endif /* __MR_MPEGTS_RAP_H__ */
