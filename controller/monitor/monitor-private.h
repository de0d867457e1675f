/* mroute: the inside of the monitoring branch, shared by its files:
 *   monitor.c          the monitor's life, its bin, the stream getters
 *   monitor-streams.c  each elementary stream: parser, probe, which
 *                      decoding paths it gets
 *   decoding-path.c    what a decoding path is made of
 *   thumbnail.c        the thumbnail path and the thumbnail getters
 *   content-quality.c  the analysis path, the analysers' messages, the
 *                      content-quality getter
 *   sdt.c              the service names, from the SDT
 *   monitor-inplace.c  the monitor without decoding paths: ts-reader.h on
 *                      the flow's own packets, by a probe on its tee
 * Nothing else includes it. */

#ifndef __MR_RECIPE_MONITOR_PRIVATE_H__
#define __MR_RECIPE_MONITOR_PRIVATE_H__

#include "monitor.h"

#include "pipeline/pipeline.h"
#include "ts-reader.h"

G_BEGIN_DECLS

/* the entry drops its oldest data past either limit */
#define ENTRY_MAX_TIME (1 * GST_SECOND)
#define ENTRY_MAX_BYTES (4 * 1024 * 1024)
/* a decoding path's queue: the same, per elementary stream */
#define PATH_MAX_TIME (1 * GST_SECOND)
#define PATH_MAX_BYTES (4 * 1024 * 1024)
#define BITRATE_WINDOW_US (2 * G_USEC_PER_SEC)
#define THUMBNAIL_WIDTH 320
#define ANALYSIS_SUBSAMPLE 4    /* content analysis: every 4th row, column */
#define RESTART_MAX_S 30

#define MR_TYPE_MONITOR_BIN (mr_monitor_bin_get_type ())
G_DECLARE_FINAL_TYPE (MrMonitorBin, mr_monitor_bin, MR, MONITOR_BIN, GstBin);

/* The SDT of one source, read packet by packet (sdt.c); with the
 * monitor's lock */
typedef struct
{
  GByteArray *section;          /* the section being put together */
  gboolean open;                /* a section started and is not complete */
  GBytes *last;                 /* the last one read */
  GHashTable *names;            /* program number -> service name */
} MrSdt;

/* The monitor without decoding paths (monitor-inplace.c): the in-place
 * reader of one source, fed by a probe on the flow's tee; protected by the
 * monitor's lock */
typedef struct
{
  MrTsReader reader;
  MrSdt sdt;
  gchar *source;                /* the monitor's source when it was made */
  guint logged;                 /* the reader's generation last logged */
} MrInplace;

struct _MrMonitor
{
  gatomicrefcount ref;
  GMutex lock;
  MrMonitorConfig config;
  gchar *name;                  /* the pipeline's, for the log */
  gchar *cq_missing;            /* an analyzer element that is missing */

  /* main thread */
  GstElement *pipeline;         /* ref, NULL once released */
  GstElement *tee;              /* ref */
  GstPad *teepad;               /* ref, the current bin's */
  guint restarts;               /* in a row, for the back-off */
  gint64 restarted_at;          /* monotonic µs */

  /* protected by lock */
  MrMonitorBin *bin;            /* ref, the running bin */
  MrMonitorBin *shown;          /* ref, the bin whose streams are shown */
  guint restart_source;         /* pending rebuild, 0 if none */
  gchar *source;                /* the source a restart said, NULL before */
  GBytes *thumbnail;
  gint64 thumbnail_time;        /* wall µs */
  gint64 last_check;            /* wall µs of the last analysed frame */
  gint64 thumbnail_due;         /* monotonic µs: the gate opens then */
  gint64 thumbnail_opened;      /* monotonic µs: the first key frame let
                                 * through since, 0 = none yet */
  gchar *thumbnail_note;        /* why there is no thumbnail path */
  MrContentAlarm alarms[MR_CONTENT_N_KINDS];    /* of the running bin */

  /* without decoding paths: the in-place reader instead of the bin */
  MrInplace *inplace;           /* the running one, or NULL */
  MrInplace *inplace_shown;     /* the one whose streams are shown, or NULL
                                 * (then the shown bin's are) */
  gboolean needs_bin;           /* the source has a stream the reader does
                                 * not read: the bin is built instead */
  guint fallback_source;        /* pending switch to the bin, 0 if none */
  /* main thread */
  GstPad *inplace_pad;          /* ref, where the reader's probe is */
  gulong inplace_probe;
};

/* One elementary stream of a bin, fed by a pad of tsdemux. */
typedef struct
{
  MrMonitorBin *bin;            /* borrowed: the bin owns the stream */
  MrVideoCodec codec;           /* for frame-types.h */
  gint thumb_failed;            /* atomic: the path's queue drops all */
  gint cq_failed;               /* atomic */

  /* protected by the monitor's lock */
  MrMonitorStream info;
  guint64 window_bytes;
  gint64 window_start;          /* monotonic µs */
  guint64 tag_bitrate;
  gint64 last_data;             /* monotonic µs */
} MrStream;

typedef struct
{
  gboolean inside;              /* between a "start" and its "end" */
  gint64 ended;                 /* monotonic µs of the last "end" */
} MrDetector;

struct _MrMonitorBin
{
  GstBin parent;
  MrMonitor *monitor;           /* ref */
  MrIsolation *isolation;       /* the entry, borrowed from the bin; closed:
                                 * drop everything, wait for the rebuild */
  gchar *source;                /* the monitor's source when it was built */
  gboolean video_taken;         /* a video stream got the decoding paths
                                 * (tsdemux's streaming thread) */
  gboolean audio_taken;         /* an audio stream did */
  gboolean hidden;              /* thumbnails only: the in-place reader
                                 * answers for the streams, the bin is fed
                                 * only while a thumbnail is due
                                 * (thumbnail.c) */

  /* protected by the monitor's lock */
  GPtrArray *streams;           /* MrStream* */
  GArray *program_ids;          /* guint, from the PAT */
  MrDetector black, frozen, silent;
  /* the SDT, read by the entry's thread: tsdemux does not read it */
  MrSdt sdt;
};

MrMonitor *mr_monitor_ref (MrMonitor * monitor);
void mr_monitor_unref (MrMonitor * monitor);
/* Any thread: builds @bin again on the main loop if it is still the
 * running one, after a back-off when it failed before. */
void mr_monitor_schedule_restart (MrMonitor * monitor, MrMonitorBin * bin);
/* Main thread: the running bin or reader goes, and a new one (of the kind
 * mr_monitor_inplace_wanted () says) comes */
void mr_monitor_rebuild (MrMonitor * monitor);
/* qdata of the elements of a decoding path: its failure flag (gint*) */
GQuark mr_monitor_path_quark (void);
gboolean mr_monitor_have_element (const gchar * factory);

/* monitor-streams.c */
/* tsdemux's pad-added: a stream of the program, with @user_data the bin */
void mr_monitor_stream_added (GstElement * demux, GstPad * pad,
    gpointer user_data);
void mr_monitor_stream_free_private (MrStream * stream);

/* decoding-path.c: elements named "s<index>-<what>" */
GstElement *mr_monitor_make_named (const gchar * factory, guint index,
    const gchar * what);
/* The best software decoder for @caps, NULL if there is none */
GstElement *mr_monitor_make_decoder (GstCaps * caps, guint index,
    const gchar * what);
GstElement *mr_monitor_make_capsfilter (guint index, const gchar * what,
    const gchar * caps_str);
/* A sink that does not count as one of the bin's */
GstElement *mr_monitor_make_quiet_sink (const gchar * factory, guint index,
    const gchar * what);
/* The leaky queue a decoding path starts with */
GstElement *mr_monitor_make_path_queue (guint index, const gchar * what);
/* Adds @elements (NULL-terminated, none NULL) to the bin and links them in
 * a row, marked with @path_flag (may be NULL); on failure removes them
 * again. */
gboolean mr_monitor_add_chain (MrMonitorBin * bin, GstElement ** elements,
    gint * path_flag);
void mr_monitor_unref_all (GstElement ** elements, guint n);
gboolean mr_monitor_all_made (GstElement ** elements, guint n);
/* A probe: drops everything once the path's flag (gint*) is set */
GstPadProbeReturn mr_monitor_path_gate (GstPad * pad, GstPadProbeInfo * info,
    gpointer user_data);
/* Links a decoding path (its first element is its queue) to @tee, with
 * @gate in front of the queue. */
gboolean mr_monitor_link_path (GstElement * tee, GstElement * queue,
    GstPadProbeCallback gate, gpointer gate_data);
const gchar *mr_monitor_factory_name (GstElement * element);

/* thumbnail.c */
/* The thumbnail path of @st after @tee; the decoder's factory name, or NULL
 * (and the reason in the thumbnail note) */
const gchar *mr_monitor_add_thumbnail_path (MrMonitorBin * bin, MrStream * st,
    GstElement * tee, GstCaps * caps);
void mr_monitor_set_thumbnail_note (MrMonitor * monitor, const gchar * note);
/* In front of a bin that only makes thumbnails (the in-place reader reads
 * the streams): lets the TS in from shortly before a thumbnail is due
 * until it is made, drops it the rest of the time.  @user_data: the
 * monitor. */
GstPadProbeReturn mr_monitor_thumbnail_feed (GstPad * pad,
    GstPadProbeInfo * info, gpointer user_data);

/* content-quality.c */
/* The analysis path of @st after @tee; the decoder's factory name, or NULL */
const gchar *mr_monitor_add_analysis_path (MrMonitorBin * bin, MrStream * st,
    GstElement * tee, GstCaps * caps, gboolean video);
/* TRUE if @s is an analyser's message, now taken into account */
gboolean mr_monitor_content_quality_message (MrMonitorBin * bin,
    const GstStructure * s);
/* The running bin goes: a stretch still on ends now.  With the lock. */
void mr_monitor_end_alarms_locked (MrMonitor * monitor);

/* sdt.c */
void mr_sdt_init (MrSdt * sdt);
void mr_sdt_clear (MrSdt * sdt);
/* One TS packet (188 bytes); only PID 0x11 is read.  With the lock. */
void mr_sdt_packet (MrSdt * sdt, const guint8 * packet);
/* A probe on the TS entering tsdemux: service names from the SDT */
GstPadProbeReturn mr_monitor_read_sdt (GstPad * pad, GstPadProbeInfo * info,
    gpointer user_data);

/* monitor-inplace.c */
/* TRUE when @m reads its streams in place: no content analysis, and no
 * stream seen that the reader cannot read (thumbnails alone get a bin
 * beside the reader, fed only when one is due) */
gboolean mr_monitor_inplace_wanted (MrMonitor * m);
/* Puts the reader's probe on @pad (the flow's tee's sink pad, or a
 * standalone bin's) with a new reader */
void mr_monitor_inplace_attach (MrMonitor * m, GstPad * pad);
/* Takes the probe off; the reader's streams stay shown until another
 * reader or bin shows its own */
void mr_monitor_inplace_detach (MrMonitor * m);
/* A bin shows its streams: the readers go.  With the lock. */
void mr_monitor_inplace_hide_locked (MrMonitor * m);
/* Copies of the shown reader's programs and streams, FALSE if no reader is
 * shown.  With the lock. */
gboolean mr_monitor_inplace_streams_locked (MrMonitor * m,
    GPtrArray * programs, GPtrArray * streams);
/* The source of the shown reader's streams (see mr_monitor_get_source ()).
 * With the lock. */
gchar *mr_monitor_inplace_source_locked (MrMonitor * m);
/* A bin of its own for a standalone monitor: its "sink" pad feeds the
 * reader */
GstElement *mr_monitor_inplace_standalone_bin (MrMonitor * m,
    const gchar * name);

G_END_DECLS

#endif /* __MR_RECIPE_MONITOR_PRIVATE_H__ */
