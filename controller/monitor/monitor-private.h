/* mroute: the inside of the monitoring branch, shared by its files:
 *   monitor.c          the monitor's life, its bin, the stream getters
 *   monitor-streams.c  each elementary stream: parser, probe, which
 *                      decoding paths it gets
 *   decoding-path.c    what a decoding path is made of
 *   thumbnail.c        the thumbnail path and the thumbnail getters
 *   content-quality.c  the analysis path, the analysers' messages, the
 *                      content-quality getter
 *   sdt.c              the service names, from the SDT
 * Nothing else includes it. */

#ifndef __MR_RECIPE_MONITOR_PRIVATE_H__
#define __MR_RECIPE_MONITOR_PRIVATE_H__

#include "monitor.h"

#include "pipeline/pipeline.h"

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

  /* protected by the monitor's lock */
  GPtrArray *streams;           /* MrStream* */
  GArray *program_ids;          /* guint, from the PAT */
  GHashTable *program_names;    /* program number -> service name (SDT) */
  MrDetector black, frozen, silent;

  /* the SDT, read by the entry's thread: tsdemux does not read it */
  GByteArray *sdt;              /* the section being put together */
  gboolean sdt_open;            /* a section started and is not complete */
  GBytes *sdt_last;             /* the last one read */
};

MrMonitor *mr_monitor_ref (MrMonitor * monitor);
void mr_monitor_unref (MrMonitor * monitor);
/* Any thread: builds @bin again on the main loop if it is still the
 * running one, after a back-off when it failed before. */
void mr_monitor_schedule_restart (MrMonitor * monitor, MrMonitorBin * bin);
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
/* A probe on the TS entering tsdemux: service names from the SDT */
GstPadProbeReturn mr_monitor_read_sdt (GstPad * pad, GstPadProbeInfo * info,
    gpointer user_data);

G_END_DECLS

#endif /* __MR_RECIPE_MONITOR_PRIVATE_H__ */
