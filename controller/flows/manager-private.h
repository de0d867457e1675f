/* mroute: what the files of the manager share (manager.c: flows and their
 * lifecycle; manager-files.c: the files of a flow, HLS and recordings, and
 * retention).  Private to controller/flows/. */

#ifndef __MR_MANAGER_PRIVATE_H__
#define __MR_MANAGER_PRIVATE_H__

#include "manager.h"
#include "flow-runner.h"
#include "pipeline/pipeline.h"

G_BEGIN_DECLS

typedef struct
{
  MrManager *mgr;
  MrFlowSpec *spec;
  MrRunner *runner;
  gint64 running_since;         /* mr_clock_now_us () at the last start */
} MrFlow;

struct _MrManager
{
  const MrConfig *config;       /* outlives the manager */
  gchar *recordings_root;       /* recordings/ beside the database */
  guint retention_timer;
  guint retention_idle;
  MrStore *store;
  gint max_flows;
  guint health_timeout_ms;
  GPtrArray *flows;             /* MrFlow*, in creation order */
  GHashTable *by_id;            /* id -> MrFlow* (borrowed) */
  GArray *listeners;            /* MrListener */
  guint maintenance_timer;
  MrRtspServer *rtsp;           /* serves the rtsp outputs, or NULL */
};

/* The flow @id, or NULL with NOT_FOUND */
MrFlow *mr_manager_lookup (MrManager * mgr, const gchar * id,
    GError ** error);

/* manager-files.c: retention at the first idle and on a timer */
void mr_manager_start_retention (MrManager * mgr);
/* the files of @spec's hls outputs, and their flow's folder */
void mr_manager_remove_hls_files (MrManager * mgr, const MrFlowSpec * spec);

G_END_DECLS

#endif /* __MR_MANAGER_PRIVATE_H__ */
