/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __MR_FAILOVER_POLICY_H__
#define __MR_FAILOVER_POLICY_H__

#include <glib.h>

G_BEGIN_DECLS

/* No input, and no time (there is no clock yet) */
#define MR_FAILOVER_NONE G_MAXUINT
#define MR_FAILOVER_TIME_NONE G_MAXUINT64

typedef enum
{
  MR_FAILOVER_REASON_NONE = 0,
  MR_FAILOVER_REASON_INITIAL,   /* the first choice: not counted as a switch */
  MR_FAILOVER_REASON_TIMEOUT,   /* the active input went silent */
  MR_FAILOVER_REASON_EOS,       /* the active input ended */
  MR_FAILOVER_REASON_ERROR,     /* its branch reported an error */
  MR_FAILOVER_REASON_RECOVERED, /* a better input is back for long enough */
  MR_FAILOVER_REASON_MANUAL,    /* chosen by hand */
  MR_FAILOVER_REASON_RELEASED,  /* the active input was removed */
} MrFailoverReason;

typedef struct
{
  guint id;
  guint priority;               /* lower wins */

  gboolean seen;                /* data since the last (re)start */
  guint64 last_data;            /* time of the last data, or NONE */
  guint64 healthy_since;        /* start of the current healthy stretch */
  gboolean eos;
  gboolean error;
  gboolean healthy;             /* as of the last update or decision */

  guint64 time_active;          /* spent active, before the current stint */
} MrFailoverInput;

/* Decides which of several redundant inputs should be forwarded.  Plain C
 * so that it can be unit-tested without GStreamer.  All times are in
 * nanoseconds on one monotonic clock of the caller's choosing; a time of
 * MR_FAILOVER_TIME_NONE means "unknown", and then nothing times out. */
typedef struct
{
  GArray *inputs;               /* MrFailoverInput, in the order added */

  guint64 timeout;              /* silence after which an input is unhealthy */
  guint64 recovery_time;        /* healthy time before switching back */
  gboolean auto_recover;

  guint64 first_data;           /* on any input, since the last reset */
  guint active;                 /* an input id, or MR_FAILOVER_NONE */
  guint64 active_since;
  gboolean manual;              /* the active input was chosen by hand */
  MrFailoverReason lost_reason; /* why there is no active input any more */
  guint64 switches;
} MrFailoverPolicy;

void mr_failover_policy_init (MrFailoverPolicy * policy, guint64 timeout,
    guint64 recovery_time, gboolean auto_recover);
void mr_failover_policy_clear (MrFailoverPolicy * policy);
void mr_failover_policy_reset (MrFailoverPolicy * policy);

gboolean mr_failover_policy_add_input (MrFailoverPolicy * policy, guint id,
    guint priority);
gboolean mr_failover_policy_remove_input (MrFailoverPolicy * policy, guint id,
    guint64 now);
const MrFailoverInput *mr_failover_policy_get_input (const MrFailoverPolicy *
    policy, guint id);
void mr_failover_policy_set_priority (MrFailoverPolicy * policy, guint id,
    guint priority);

/* What happens on an input */
void mr_failover_policy_data (MrFailoverPolicy * policy, guint id,
    guint64 now);
void mr_failover_policy_eos (MrFailoverPolicy * policy, guint id);
void mr_failover_policy_error (MrFailoverPolicy * policy, guint id);
void mr_failover_policy_restart (MrFailoverPolicy * policy, guint id);
gboolean mr_failover_policy_all_eos (const MrFailoverPolicy * policy);
gboolean mr_failover_policy_is_healthy (const MrFailoverPolicy * policy,
    guint id, guint64 now);

/* Time starts (again) at @now: a pause does not count as silence */
void mr_failover_policy_rebase (MrFailoverPolicy * policy, guint64 now);

/* Re-evaluates health at @now and returns the input to switch to, with the
 * reason in @reason, or MR_FAILOVER_NONE to stay.  Nothing changes until
 * the caller commits the switch, so a planned switch can wait for a good
 * moment to cut. */
guint mr_failover_policy_decide (MrFailoverPolicy * policy, guint64 now,
    MrFailoverReason * reason);
void mr_failover_policy_commit (MrFailoverPolicy * policy, guint id,
    MrFailoverReason reason, guint64 now);

/* A manual choice holds until that input fails; %FALSE for an unknown id */
gboolean mr_failover_policy_select (MrFailoverPolicy * policy, guint id,
    guint64 now);
void mr_failover_policy_unpin (MrFailoverPolicy * policy);

guint64 mr_failover_policy_time_active (const MrFailoverPolicy * policy,
    guint id, guint64 now);
guint64 mr_failover_policy_data_age (const MrFailoverPolicy * policy,
    guint id, guint64 now);

const gchar *mr_failover_reason_to_string (MrFailoverReason reason);

G_END_DECLS

#endif /* __MR_FAILOVER_POLICY_H__ */
