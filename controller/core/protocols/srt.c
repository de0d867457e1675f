/* mroute core: the fields of an SRT source or output, listener or caller:
 * a listener listens on its port (a source's ingest_port, an output's
 * port), a caller calls destination:port; either may encrypt with AES and
 * a passphrase.  Its elements: pipeline/transports/srt.c. */

#include "core/protocol-rules.h"

/* libsrt's key lengths, and its passphrase limits (SRTO_PASSPHRASE) */
static gboolean
validate_encryption (const MrEndpoint * ep, const gchar * path,
    const gchar * block, GError ** error)
{
  g_autofree gchar *sub = g_strdup_printf ("%s%s%s", path, *path ? "." : "",
      block);
  glong len;

  if (!g_str_equal (ep->cipher, "aes128") && !g_str_equal (ep->cipher,
          "aes192") && !g_str_equal (ep->cipher, "aes256"))
    return mr_spec_invalid (error, sub, "algorithm",
        "must be aes128, aes192 or aes256");
  len = ep->passphrase ? g_utf8_strlen (ep->passphrase, -1) : 0;
  if (len < 10 || len > 79)
    return mr_spec_invalid (error, sub, "passphrase",
        "must be 10 to 79 characters");
  return TRUE;
}

/* The caller is routed by its stream id (pipeline: srtroutesrc): one SRT
 * socket serves every route on the port */
gboolean
mr_srt_can_share_port (const MrEndpoint * a, const MrEndpoint * b)
{
  return a->protocol == MR_PROTOCOL_SRT_LISTENER
      && b->protocol == MR_PROTOCOL_SRT_LISTENER
      && a->stream_id && b->stream_id
      && !g_str_equal (a->stream_id, b->stream_id)
      && g_strcmp0 (a->ingest_address, b->ingest_address) == 0;
}

const MrProtocolRules mr_protocol_rules_srt_listener = {
  .protocol = MR_PROTOCOL_SRT_LISTENER,
  .source_listens = TRUE,
  .output_listens = TRUE,
  .validate_encryption = validate_encryption,
};

const MrProtocolRules mr_protocol_rules_srt_caller = {
  .protocol = MR_PROTOCOL_SRT_CALLER,
  .validate_encryption = validate_encryption,
};
