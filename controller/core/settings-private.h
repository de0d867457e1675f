/* mroute: what the two configuration readers share inside core/: the
 * table of known sections and keys with the kind of their values, and the
 * one validation of the values (settings.c), which the YAML reader
 * (settings-yaml.c) feeds through a GKeyFile it fills. */

#ifndef __MR_SETTINGS_PRIVATE_H__
#define __MR_SETTINGS_PRIVATE_H__

#include "settings.h"

G_BEGIN_DECLS

#define MR_CONFIG_ERROR (mr_config_error_quark ())
GQuark mr_config_error_quark (void);

typedef enum
{
  MR_CONFIG_STRING,
  MR_CONFIG_INT,
  MR_CONFIG_BOOL,
  MR_CONFIG_LIST,               /* URLs: a YAML sequence, or one string */
  MR_CONFIG_MAP,                /* labels: a YAML mapping, or one string
                                 * "k=v,k2=v2" */
} MrConfigKind;

gboolean mr_config_section_known (const gchar * section);
/* FALSE when [@section] @key is not a key this version reads */
gboolean mr_config_key_kind (const gchar * section, const gchar * key,
    MrConfigKind * kind);
/* "api, storage, ..." and "host, port, ..." */
gchar *mr_config_known_sections (void);
gchar *mr_config_known_keys (const gchar * section);

/* The key of @names for [@section] @key */
gchar *mr_config_name_id (const gchar * section, const gchar * key);
/* Validates @kf (strings, whatever the file's syntax was) over @c.
 * @names (or NULL) maps mr_config_name_id() to the name an error gives
 * the key ("ffmpeg.max_flows (line 12)"); without one it is "[api]
 * port". */
gboolean mr_config_load_key_file (MrConfig * c, GKeyFile * kf,
    GHashTable * names, GError ** error);

/* "k=v,k2=v2" sorted by key from "k2=v2; k=v", or NULL with @error */
gchar *mr_config_parse_labels (const gchar * s, GError ** error);

/* settings-yaml.c */
gboolean mr_config_load_yaml (MrConfig * c, const gchar * path,
    GError ** error);

G_END_DECLS

#endif /* __MR_SETTINGS_PRIVATE_H__ */
