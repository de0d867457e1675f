/* mroute: the YAML configuration reader (libyaml).  Reads the original
 * mroute's config.yaml (api, storage, ffmpeg, telegram) and every section
 * of our key file written as YAML, checks the shape and the kinds of the
 * values here, where the lines are known, and leaves the ranges and the
 * meaning of the values to the key file's one validation (settings.c),
 * through a GKeyFile it fills.  Errors name a key as "api.port (line 3)";
 * a value is shown only where it cannot be a secret. */

#define G_LOG_DOMAIN "mroute-config"
#include "settings-private.h"

#include <string.h>
#include <yaml.h>

/* The original's ffmpeg section.  max_flows and health_timeout_ms are our
 * [gstreamer] keys; the paths name programs mroute does not run. */
typedef struct
{
  const gchar *key;
  const gchar *gstreamer_key;   /* NULL: accepted, not used */
} MrFfmpegKey;

static const MrFfmpegKey ffmpeg_keys[] = {
  {"path", NULL},
  {"probe_path", NULL},
  {"max_flows", "max_flows"},
  {"health_timeout_ms", "health_timeout_ms"},
};

typedef struct
{
  yaml_document_t *doc;
  GKeyFile *kf;
  GHashTable *names;            /* name id -> "api.port (line 3)" */
  GHashTable *given;            /* name id or section -> its name, to
                                 * refuse a key or a section given twice */
  GStrvBuilder *unused;         /* "ffmpeg.path", ... */
} MrYamlReader;

static gulong
line_of (const yaml_node_t * node)
{
  return node->start_mark.line + 1;
}

static const gchar *
kind_of_node (const yaml_node_t * node)
{
  switch (node->type) {
    case YAML_MAPPING_NODE:
      return "a mapping";
    case YAML_SEQUENCE_NODE:
      return "a list";
    default:
      return "a value";
  }
}

static gboolean
is_plain (const yaml_node_t * node)
{
  return node->type == YAML_SCALAR_NODE
      && node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

static const gchar *
scalar_text (const yaml_node_t * node)
{
  return (const gchar *) node->data.scalar.value;
}

/* YAML 1.2's null: an empty value ("port:"), "~" or "null" */
static gboolean
is_null (const yaml_node_t * node)
{
  const gchar *s;

  if (!is_plain (node))
    return FALSE;
  s = scalar_text (node);
  return !*s || g_str_equal (s, "~") || g_str_equal (s, "null")
      || g_str_equal (s, "Null") || g_str_equal (s, "NULL");
}

static gboolean
is_integer (const gchar * s)
{
  if (*s == '-' || *s == '+')
    s++;
  if (!*s)
    return FALSE;
  for (; *s; s++)
    if (!g_ascii_isdigit (*s))
      return FALSE;
  return TRUE;
}

/* A scalar's text, refused when it holds a NUL (libyaml keeps them) */
static gboolean
scalar_string (const yaml_node_t * node, const gchar * name, gchar ** out,
    GError ** error)
{
  if (strlen (scalar_text (node)) != node->data.scalar.length) {
    g_set_error (error, MR_CONFIG_ERROR, 0, "%s: holds a NUL character",
        name);
    return FALSE;
  }
  *out = g_strdup (scalar_text (node));
  return TRUE;
}

/* The key file's text for a value of @kind, or an error saying what the
 * key wants.  Only numbers and booleans are shown back: a string may be a
 * secret. */
static gboolean
value_text (MrYamlReader * r, const yaml_node_t * value, MrConfigKind kind,
    const gchar * name, gchar ** out, GError ** error)
{
  if (kind == MR_CONFIG_LIST && value->type == YAML_SEQUENCE_NODE) {
    g_autoptr (GStrvBuilder) items = g_strv_builder_new ();
    g_auto (GStrv) strv = NULL;

    for (yaml_node_item_t * i = value->data.sequence.items.start;
        i < value->data.sequence.items.top; i++) {
      yaml_node_t *item = yaml_document_get_node (r->doc, *i);
      g_autofree gchar *s = NULL;

      if (item->type != YAML_SCALAR_NODE) {
        g_set_error (error, MR_CONFIG_ERROR, 0, "%s: item %u is %s, not a "
            "URL", name, (guint) (i - value->data.sequence.items.start) + 1,
            kind_of_node (item));
        return FALSE;
      }
      if (!scalar_string (item, name, &s, error))
        return FALSE;
      g_strv_builder_add (items, s);
    }
    strv = g_strv_builder_end (items);
    /* the key file's separator; a URL has no space */
    *out = g_strjoinv (" ", strv);
    return TRUE;
  }
  if (kind == MR_CONFIG_MAP && value->type == YAML_MAPPING_NODE) {
    g_autoptr (GString) pairs = g_string_new (NULL);

    /* the key file's "k=v,k2=v2", validated there */
    for (yaml_node_pair_t * p = value->data.mapping.pairs.start;
        p < value->data.mapping.pairs.top; p++) {
      yaml_node_t *k = yaml_document_get_node (r->doc, p->key);
      yaml_node_t *v = yaml_document_get_node (r->doc, p->value);
      g_autofree gchar *ks = NULL;
      g_autofree gchar *vs = NULL;

      if (k->type != YAML_SCALAR_NODE || v->type != YAML_SCALAR_NODE) {
        g_set_error (error, MR_CONFIG_ERROR, 0, "%s: label %u is not "
            "'key: value'", name,
            (guint) (p - value->data.mapping.pairs.start) + 1);
        return FALSE;
      }
      if (!scalar_string (k, name, &ks, error)
          || !scalar_string (v, name, &vs, error))
        return FALSE;
      if (strchr (ks, ',') || strchr (ks, ';') || strchr (ks, '=')
          || strchr (vs, ',') || strchr (vs, ';') || strchr (vs, '=')) {
        g_set_error (error, MR_CONFIG_ERROR, 0, "%s: label %u holds ',', "
            "';' or '='", name,
            (guint) (p - value->data.mapping.pairs.start) + 1);
        return FALSE;
      }
      g_string_append_printf (pairs, "%s%s=%s", pairs->len ? "," : "", ks,
          vs);
    }
    *out = g_string_free (g_steal_pointer (&pairs), FALSE);
    return TRUE;
  }
  if (value->type != YAML_SCALAR_NODE) {
    g_set_error (error, MR_CONFIG_ERROR, 0, "%s: %s where %s is wanted", name,
        kind_of_node (value), kind == MR_CONFIG_INT ? "an integer"
        : kind == MR_CONFIG_BOOL ? "true or false" : "a string");
    return FALSE;
  }
  switch (kind) {
    case MR_CONFIG_INT:
      if (!is_plain (value)) {
        g_set_error (error, MR_CONFIG_ERROR, 0, "%s: a quoted string where "
            "an integer is wanted (write it without quotes)", name);
        return FALSE;
      }
      if (!is_integer (scalar_text (value))) {
        g_set_error (error, MR_CONFIG_ERROR, 0, "%s: '%s' is not an integer",
            name, scalar_text (value));
        return FALSE;
      }
      break;
    case MR_CONFIG_BOOL:
      if (!is_plain (value)) {
        g_set_error (error, MR_CONFIG_ERROR, 0, "%s: a quoted string where "
            "true or false is wanted (write it without quotes)", name);
        return FALSE;
      }
      /* YAML 1.2's booleans; yes/no/on/off are strings there */
      if (!g_strv_contains ((const gchar * const[]) {"true", "True", "TRUE",
                  "false", "False", "FALSE", NULL}, scalar_text (value))) {
        g_set_error (error, MR_CONFIG_ERROR, 0,
            "%s: '%s' must be true or false", name, scalar_text (value));
        return FALSE;
      }
      break;
    case MR_CONFIG_STRING:
    case MR_CONFIG_LIST:
    case MR_CONFIG_MAP:
      break;
  }
  return scalar_string (value, name, out, error);
}

/* Puts @value of @section.@key (in the YAML) in the key file as [@group]
 * @kf_key (NULL: accepted, not used) */
static gboolean
read_key (MrYamlReader * r, const gchar * section, const gchar * key,
    const gchar * group, const gchar * kf_key, MrConfigKind kind,
    const yaml_node_t * key_node, const yaml_node_t * value, GError ** error)
{
  g_autofree gchar *id = mr_config_name_id (group, kf_key ? kf_key : key);
  g_autofree gchar *name = g_strdup_printf ("%s.%s (line %lu)", section, key,
      line_of (key_node));
  g_autofree gchar *text = NULL;
  const gchar *first = g_hash_table_lookup (r->given, id);

  if (first) {
    /* a key twice, or ffmpeg.max_flows beside gstreamer.max_flows: which
     * one wins would be a guess */
    g_set_error (error, MR_CONFIG_ERROR, 0, "%s: already set by %s", name,
        first);
    return FALSE;
  }
  g_hash_table_insert (r->given, g_strdup (id), g_strdup (name));
  /* null keeps the default, as an absent key does */
  if (is_null (value))
    return TRUE;
  if (!value_text (r, value, kind, name, &text, error))
    return FALSE;
  if (!kf_key) {
    g_autofree gchar *unused = g_strdup_printf ("%s.%s", section, key);

    g_strv_builder_add (r->unused, unused);
    return TRUE;
  }
  g_key_file_set_string (r->kf, group, kf_key, text);
  g_hash_table_insert (r->names, g_steal_pointer (&id),
      g_steal_pointer (&name));
  return TRUE;
}

static gboolean
read_section (MrYamlReader * r, const gchar * section,
    const yaml_node_t * section_node, const yaml_node_t * body,
    GError ** error)
{
  gboolean ffmpeg = g_str_equal (section, "ffmpeg");

  if (is_null (body))
    return TRUE;
  if (body->type != YAML_MAPPING_NODE) {
    g_set_error (error, MR_CONFIG_ERROR, 0, "%s (line %lu): %s where a "
        "mapping of keys is wanted", section, line_of (section_node),
        kind_of_node (body));
    return FALSE;
  }
  for (yaml_node_pair_t * p = body->data.mapping.pairs.start;
      p < body->data.mapping.pairs.top; p++) {
    yaml_node_t *key_node = yaml_document_get_node (r->doc, p->key);
    yaml_node_t *value = yaml_document_get_node (r->doc, p->value);
    const gchar *key;
    MrConfigKind kind = MR_CONFIG_STRING;
    const MrFfmpegKey *fk = NULL;
    gboolean known = FALSE;

    if (key_node->type != YAML_SCALAR_NODE) {
      g_set_error (error, MR_CONFIG_ERROR, 0, "%s (line %lu): a key that is "
          "%s", section, line_of (key_node), kind_of_node (key_node));
      return FALSE;
    }
    key = scalar_text (key_node);
    if (ffmpeg) {
      for (guint i = 0; i < G_N_ELEMENTS (ffmpeg_keys); i++)
        if (g_str_equal (key, ffmpeg_keys[i].key))
          fk = &ffmpeg_keys[i];
      known = fk != NULL;
      if (fk && fk->gstreamer_key)
        mr_config_key_kind ("gstreamer", fk->gstreamer_key, &kind);
    } else {
      known = mr_config_key_kind (section, key, &kind);
    }
    if (!known) {
      g_autofree gchar *names = NULL;

      if (ffmpeg) {
        g_autoptr (GString) s = g_string_new (NULL);

        for (guint i = 0; i < G_N_ELEMENTS (ffmpeg_keys); i++)
          g_string_append_printf (s, "%s%s", i ? ", " : "",
              ffmpeg_keys[i].key);
        names = g_string_free (g_steal_pointer (&s), FALSE);
      } else {
        names = mr_config_known_keys (section);
      }
      g_set_error (error, MR_CONFIG_ERROR, 0, "%s.%s (line %lu): unknown key "
          "(known in %s: %s)", section, key, line_of (key_node), section,
          names);
      return FALSE;
    }
    if (!read_key (r, section, key, ffmpeg ? "gstreamer" : section,
            ffmpeg ? fk->gstreamer_key : key, kind, key_node, value, error))
      return FALSE;
  }
  return TRUE;
}

static gboolean
read_document (MrYamlReader * r, GError ** error)
{
  yaml_node_t *root = yaml_document_get_root_node (r->doc);

  /* an empty file, or only comments: the defaults */
  if (!root || is_null (root))
    return TRUE;
  if (root->type != YAML_MAPPING_NODE) {
    g_set_error (error, MR_CONFIG_ERROR, 0, "line %lu: %s where a mapping "
        "of sections (api:, storage:, ...) is wanted", line_of (root),
        kind_of_node (root));
    return FALSE;
  }
  for (yaml_node_pair_t * p = root->data.mapping.pairs.start;
      p < root->data.mapping.pairs.top; p++) {
    yaml_node_t *key_node = yaml_document_get_node (r->doc, p->key);
    yaml_node_t *body = yaml_document_get_node (r->doc, p->value);
    const gchar *section;
    const gchar *first;

    if (key_node->type != YAML_SCALAR_NODE) {
      g_set_error (error, MR_CONFIG_ERROR, 0, "line %lu: a section name that "
          "is %s", line_of (key_node), kind_of_node (key_node));
      return FALSE;
    }
    section = scalar_text (key_node);
    if (!g_str_equal (section, "ffmpeg") && !mr_config_section_known (section)) {
      g_autofree gchar *names = mr_config_known_sections ();

      g_set_error (error, MR_CONFIG_ERROR, 0, "%s (line %lu): unknown "
          "section (known: %s, ffmpeg)", section, line_of (key_node), names);
      return FALSE;
    }
    if ((first = g_hash_table_lookup (r->given, section))) {
      g_set_error (error, MR_CONFIG_ERROR, 0, "%s (line %lu): section "
          "already given at %s", section, line_of (key_node), first);
      return FALSE;
    }
    g_hash_table_insert (r->given, g_strdup (section),
        g_strdup_printf ("line %lu", line_of (key_node)));
    if (!read_section (r, section, key_node, body, error))
      return FALSE;
  }
  return TRUE;
}

static void
set_syntax_error (const yaml_parser_t * parser, GError ** error)
{
  if (parser->error == YAML_READER_ERROR) {
    g_set_error (error, MR_CONFIG_ERROR, 0, "YAML: byte %lu: %s",
        (gulong) parser->problem_offset, parser->problem);
  } else if (parser->context) {
    g_set_error (error, MR_CONFIG_ERROR, 0, "YAML syntax error at line %lu, "
        "column %lu: %s (%s at line %lu)",
        (gulong) parser->problem_mark.line + 1,
        (gulong) parser->problem_mark.column + 1, parser->problem,
        parser->context, (gulong) parser->context_mark.line + 1);
  } else {
    g_set_error (error, MR_CONFIG_ERROR, 0, "YAML syntax error at line %lu, "
        "column %lu: %s", (gulong) parser->problem_mark.line + 1,
        (gulong) parser->problem_mark.column + 1,
        parser->problem ? parser->problem : "cannot be read");
  }
}

gboolean
mr_config_load_yaml (MrConfig * c, const gchar * path, GError ** error)
{
  g_autofree gchar *text = NULL;
  gsize length;
  yaml_parser_t parser;
  yaml_document_t doc, next;
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GHashTable) names = g_hash_table_new_full (g_str_hash,
      g_str_equal, g_free, g_free);
  g_autoptr (GHashTable) given = g_hash_table_new_full (g_str_hash,
      g_str_equal, g_free, g_free);
  g_autoptr (GStrvBuilder) unused = g_strv_builder_new ();
  g_auto (GStrv) unused_names = NULL;
  MrYamlReader reader = { &doc, kf, names, given, unused };
  gboolean ok;

  if (!g_file_get_contents (path, &text, &length, error))
    return FALSE;
  if (!yaml_parser_initialize (&parser)) {
    g_set_error (error, MR_CONFIG_ERROR, 0, "YAML: out of memory");
    return FALSE;
  }
  yaml_parser_set_input_string (&parser, (const guchar *) text, length);
  if (!yaml_parser_load (&parser, &doc)) {
    set_syntax_error (&parser, error);
    yaml_parser_delete (&parser);
    return FALSE;
  }
  ok = read_document (&reader, error);
  yaml_document_delete (&doc);
  if (ok) {
    /* a second document ("---") would be ignored without a word */
    if (!yaml_parser_load (&parser, &next)) {
      set_syntax_error (&parser, error);
      ok = FALSE;
    } else {
      yaml_node_t *root = yaml_document_get_root_node (&next);

      if (root) {
        g_set_error (error, MR_CONFIG_ERROR, 0, "line %lu: a second YAML "
            "document: the file must hold one", line_of (root));
        ok = FALSE;
      }
      yaml_document_delete (&next);
    }
  }
  yaml_parser_delete (&parser);
  if (!ok || !mr_config_load_key_file (c, kf, names, error))
    return FALSE;

  unused_names = g_strv_builder_end (unused);
  if (unused_names[0]) {
    g_autofree gchar *list = g_strjoinv (" and ", unused_names);

    g_message ("configuration %s: %s not used: mroute runs no ffmpeg or "
        "ffprobe (its flows are GStreamer pipelines inside the controller)",
        path, list);
  }
  return TRUE;
}
