/* mroute: a stream's profile as ffprobe names it (the metadata's
 * `profile`), from the name GStreamer's parsers put in their caps.  Plain
 * C, unit-tested (tests/unit/profile-names.c). */

#ifndef __MR_PROFILE_NAMES_H__
#define __MR_PROFILE_NAMES_H__

#include <glib.h>

G_BEGIN_DECLS

/* @media_type: the caps' structure name ("video/x-h264", ...);
 * @caps_profile: its "profile" field, or NULL.  Returns a new string, or
 * NULL when @caps_profile is NULL. */
gchar *mr_profile_name (const gchar * media_type, const gchar * caps_profile);

G_END_DECLS

#endif /* __MR_PROFILE_NAMES_H__ */
