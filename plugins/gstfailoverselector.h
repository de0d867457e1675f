/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_FAILOVER_SELECTOR_H__
#define __GST_FAILOVER_SELECTOR_H__

#include <gst/gst.h>

#include "failover-policy.h"
#include "mpegts-rap.h"

G_BEGIN_DECLS

#define GST_TYPE_FAILOVER_SELECTOR_PAD (gst_failover_selector_pad_get_type ())
G_DECLARE_FINAL_TYPE (GstFailoverSelectorPad, gst_failover_selector_pad, GST,
    FAILOVER_SELECTOR_PAD, GstPad);

#define GST_TYPE_FAILOVER_SELECTOR (gst_failover_selector_get_type ())
G_DECLARE_FINAL_TYPE (GstFailoverSelector, gst_failover_selector, GST,
    FAILOVER_SELECTOR, GstElement);

struct _GstFailoverSelectorPad
{
  GstPad parent;

  guint index;                  /* the N of sink_N, its id in the policy */

  /* protected by the element's object lock once the pad is added */
  guint priority;
  gboolean is_mpegts;           /* written by the streaming thread */

  /* the newest data dropped while not active, protected by the object
   * lock: on a failover it goes out at once, instead of waiting for the
   * input's next burst (never for a planned switch back, which waits for a
   * random-access point) */
  GstBuffer *held;
  GstBufferList *held_list;
  GstClockTime held_at;

  /* only touched by the pad's streaming thread */
  guint ts_packet_size;
  MrTsRapScanner *scanner;
};

struct _GstFailoverSelector
{
  GstElement parent;

  GstPad *srcpad;

  /* protected by the object lock */
  MrFailoverPolicy policy;
  GstFailoverSelectorPad *active_pad;   /* owns a ref */
  GstFailoverSelectorPad *pending_pad;  /* recovery waiting for a RAP; ref */
  GstClockTime pending_since;
  gboolean send_sticky;         /* the active pad's sticky events first */
  gboolean send_discont;        /* DISCONT on the active pad's next buffer */
  gboolean send_held;           /* property */
  gboolean eos_sent;
  gchar *lost_pad_name;         /* released active pad, nothing chosen since */
  guint next_pad_index;
  GstClockID tick_id;
};

/* Between the element and its pads, not API */

/* A switch decided under the lock, announced after it */
typedef struct
{
  gboolean notify;              /* active-pad changed */
  gboolean post;                /* a switch: post the message */
  gchar *old_name;
  gchar *new_name;
  MrFailoverReason reason;
  guint64 switches;
  GstClockTime running_time;
} GstFailoverSwitch;

G_GNUC_INTERNAL
GstClockTime gst_failover_selector_now (GstFailoverSelector * self);
G_GNUC_INTERNAL
void gst_failover_selector_commit (GstFailoverSelector * self,
    GstFailoverSelectorPad * pad, MrFailoverReason reason, GstClockTime now,
    GstFailoverSwitch * sw);
G_GNUC_INTERNAL
void gst_failover_selector_evaluate (GstFailoverSelector * self,
    GstClockTime now, GstFailoverSwitch * sw);
G_GNUC_INTERNAL
gboolean gst_failover_selector_arrival (GstFailoverSelector * self,
    GstFailoverSelectorPad * pad, GstClockTime now, gboolean has_rap,
    gboolean * cut, GstFailoverSwitch * sw);
G_GNUC_INTERNAL
void gst_failover_selector_announce (GstFailoverSelector * self,
    GstFailoverSwitch * sw);

G_GNUC_INTERNAL
void gst_failover_selector_start_tick (GstFailoverSelector * self);
G_GNUC_INTERNAL
gboolean gst_failover_selector_stop_tick (GstFailoverSelector * self);

G_GNUC_INTERNAL
GstPad *gst_failover_selector_pad_new (GstPadTemplate * templ, guint index);
G_GNUC_INTERNAL
GstFlowReturn gst_failover_selector_pad_push (GstFailoverSelector * self,
    GstFailoverSelectorPad * pad, GstBuffer * buffer, GstBufferList * list);
G_GNUC_INTERNAL
void gst_failover_selector_pad_clear_held (GstFailoverSelectorPad * pad);
G_GNUC_INTERNAL
void gst_failover_selector_pad_failed (GstFailoverSelector * self,
    GstFailoverSelectorPad * pad);

#define GST_FAILOVER_SELECTOR_ERROR_EVENT "failoverselector-error"

G_END_DECLS

#endif /* __GST_FAILOVER_SELECTOR_H__ */
