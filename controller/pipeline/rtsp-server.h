/* mroute: the controller's one RTSP server (gst-rtsp-server), on the main
 * context, and its mounts: one per rtsp output, at rtsp://HOST:PORT/PATH.
 *
 * A mount is fed the flow's MPEG-TS by its output's sink
 * (transports/rtsp.c) and serves it as MP2T over RTP (RFC 2250, payload
 * type 33, one track: the TS as it came, every stream in it) to any
 * number of viewers, over UDP or TCP-interleaved.  Its media is shared:
 * one payloader per mount however many viewers, each viewer costs its
 * send.  A mount with a user and a password refuses a viewer without them
 * (401, Basic).  Neither credential is logged.
 *
 * Owned by the flow manager (flows/manager.c), which makes it from the
 * [rtsp] settings; the transports find it with mr_rtsp_server_get_default
 * (). */

#ifndef __MR_RTSP_SERVER_H__
#define __MR_RTSP_SERVER_H__

#include <gst/gst.h>

G_BEGIN_DECLS

typedef struct _MrRtspServer MrRtspServer;
typedef struct _MrRtspMount MrRtspMount;

/* A viewer whose session is not kept alive (RTSP keep-alives or RTCP) this
 * long is dropped, in seconds */
#define MR_RTSP_SESSION_TIMEOUT_S 20

/* Listens on @address (NULL: every address) and TCP @port (0: a free one)
 * on the thread-default main context */
MrRtspServer *mr_rtsp_server_new (const gchar * address, gint port,
    GError ** error);
void mr_rtsp_server_free (MrRtspServer * server);
/* The port it listens on */
gint mr_rtsp_server_get_port (MrRtspServer * server);

/* The server the rtsp outputs are served by (NULL: none), set by its
 * owner */
void mr_rtsp_server_set_default (MrRtspServer * server);
MrRtspServer *mr_rtsp_server_get_default (void);

/* The mount at @path ("a/b", without the leading '/'), made or, if there
 * is one, taken again (one more reference) with @user and @password (both
 * NULL: anyone may watch).  Main context. */
MrRtspMount *mr_rtsp_server_mount (MrRtspServer * server, const gchar * path,
    const gchar * user, const gchar * password);
/* Drops a reference; the last one removes the mount and closes its
 * viewers (on the main context).  Any thread. */
void mr_rtsp_mount_release (MrRtspMount * mount);
/* Hands @buffer (MPEG-TS, not taken) to the mount's media if a viewer
 * watches; any thread, never blocks. */
void mr_rtsp_mount_push (MrRtspMount * mount, GstBuffer * buffer);
/* Sessions watching the mount now */
guint mr_rtsp_mount_viewers (MrRtspMount * mount);

G_END_DECLS

#endif /* __MR_RTSP_SERVER_H__ */
