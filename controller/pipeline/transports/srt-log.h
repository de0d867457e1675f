/* mroute: what libsrt says only in its log.
 *
 * A caller rejected for a wrong passphrase leaves no trace on an SRT
 * listener's bus: libsrt refuses it inside the handshake and only logs it
 * (GStreamer category "srtlib").  This watches that category and calls back
 * on the main loop, so that the flows concerned can write an event. */

#ifndef __MR_SRT_LOG_H__
#define __MR_SRT_LOG_H__

#include <glib.h>

G_BEGIN_DECLS

typedef void (*MrSrtRejectFunc) (const gchar * reason, gpointer user_data);

/* Call after gst_init(); @func runs on the default main context. */
void mr_srt_log_watch (MrSrtRejectFunc func, gpointer user_data);
void mr_srt_log_unwatch (void);

G_END_DECLS

#endif /* __MR_SRT_LOG_H__ */
