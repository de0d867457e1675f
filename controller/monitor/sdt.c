/* mroute: the SDT of the monitor's stream: the service names of the
 * programs, which tsdemux does not read; read by a probe in the entry's
 * thread before tsdemux, or packet by packet by the in-place reader
 * (monitor-inplace.c), with the monitor's lock held. */

#define G_LOG_DOMAIN "mroute-monitor"
#include "monitor-private.h"

#include <gst/mpegts/mpegts.h>
#include <string.h>

#define TS_PACKET 188
#define SDT_PID 0x11
#define SECTION_MAX 4096

void
mr_sdt_init (MrSdt * sdt)
{
  sdt->section = g_byte_array_new ();
  sdt->open = FALSE;
  sdt->last = NULL;
  sdt->names = g_hash_table_new_full (NULL, NULL, NULL, g_free);
}

void
mr_sdt_clear (MrSdt * sdt)
{
  g_clear_pointer (&sdt->section, g_byte_array_unref);
  g_clear_pointer (&sdt->last, g_bytes_unref);
  g_clear_pointer (&sdt->names, g_hash_table_unref);
}

/* A whole section: the names of its services, when it is not the last one
 * read again */
static void
sdt_names (MrSdt * sdt, const guint8 * data, gsize size)
{
  GstMpegtsSection *section;
  const GstMpegtsSDT *table;

  if (size < 3 || data[0] != GST_MTS_TABLE_ID_SERVICE_DESCRIPTION_ACTUAL_TS)
    return;
  /* the same section again (it repeats every few hundred ms) */
  if (sdt->last && g_bytes_get_size (sdt->last) == size
      && memcmp (g_bytes_get_data (sdt->last, NULL), data, size) == 0)
    return;
  g_clear_pointer (&sdt->last, g_bytes_unref);
  sdt->last = g_bytes_new (data, size);
  section = gst_mpegts_section_new (SDT_PID, g_memdup2 (data, size), size);
  if (!section)
    return;
  if ((table = gst_mpegts_section_get_sdt (section))) {
    for (guint i = 0; i < table->services->len; i++) {
      GstMpegtsSDTService *svc = table->services->pdata[i];
      const GstMpegtsDescriptor *desc =
          gst_mpegts_find_descriptor (svc->descriptors,
          GST_MTS_DESC_DVB_SERVICE);
      gchar *name = NULL;

      if (desc && gst_mpegts_descriptor_parse_dvb_service (desc, NULL, &name,
              NULL) && name)
        g_hash_table_replace (sdt->names, GUINT_TO_POINTER (svc->service_id),
            name);
      else
        g_free (name);
    }
  }
  gst_mpegts_section_unref (section);
}

/* Sections that are complete in sdt->section are read and dropped */
static void
sdt_take_sections (MrSdt * sdt)
{
  while (sdt->open && sdt->section->len >= 3) {
    const guint8 *d = sdt->section->data;
    guint total;

    if (d[0] == 0xFF) {         /* stuffing: nothing more in this packet */
      sdt->open = FALSE;
      break;
    }
    total = 3 + (((d[1] & 0x0F) << 8) | d[2]);
    if (total > SECTION_MAX) {
      sdt->open = FALSE;
      break;
    }
    if (sdt->section->len < total)
      break;
    sdt_names (sdt, d, total);
    g_byte_array_remove_range (sdt->section, 0, total);
  }
  if (!sdt->open || sdt->section->len > SECTION_MAX)
    g_byte_array_set_size (sdt->section, 0);
}

/* One TS packet: the payload of PID 0x11 goes into sections */
void
mr_sdt_packet (MrSdt * sdt, const guint8 * p)
{
  guint off = 4, pid = ((p[1] & 0x1F) << 8) | p[2];
  gboolean start = p[1] & 0x40;
  guint afc = (p[3] >> 4) & 0x3;

  if (p[0] != 0x47 || pid != SDT_PID || !(afc & 0x1))
    return;
  if (afc & 0x2)
    off += 1 + p[4];
  if (off >= TS_PACKET)
    return;
  if (start) {
    guint pointer = p[off++];

    /* the end of the previous section, then a new one */
    if (sdt->open && off + pointer <= TS_PACKET) {
      g_byte_array_append (sdt->section, p + off, pointer);
      sdt_take_sections (sdt);
    }
    off += pointer;
    if (off >= TS_PACKET)
      return;
    g_byte_array_set_size (sdt->section, 0);
    sdt->open = TRUE;
  } else if (!sdt->open) {
    return;
  }
  g_byte_array_append (sdt->section, p + off, TS_PACKET - off);
  sdt_take_sections (sdt);
}

/* The flow's buffers hold whole TS packets (datagrams of seven); a packet
 * that does not start with its sync byte is skipped */
static void
sdt_buffer (MrSdt * sdt, GstBuffer * buf)
{
  GstMapInfo map;

  if (!gst_buffer_map (buf, &map, GST_MAP_READ))
    return;
  for (gsize off = 0; off + TS_PACKET <= map.size; off += TS_PACKET)
    mr_sdt_packet (sdt, map.data + off);
  gst_buffer_unmap (buf, &map);
}

static gboolean
sdt_list_item (GstBuffer ** buf, guint idx, gpointer user_data)
{
  sdt_buffer (user_data, *buf);
  return TRUE;
}

GstPadProbeReturn
mr_monitor_read_sdt (GstPad * pad, GstPadProbeInfo * info,
    gpointer user_data)
{
  MrMonitorBin *bin = user_data;
  MrMonitor *m = bin->monitor;

  g_mutex_lock (&m->lock);
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER)
    sdt_buffer (&bin->sdt, GST_PAD_PROBE_INFO_BUFFER (info));
  else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST)
    gst_buffer_list_foreach (GST_PAD_PROBE_INFO_BUFFER_LIST (info),
        sdt_list_item, &bin->sdt);
  g_mutex_unlock (&m->lock);
  return GST_PAD_PROBE_OK;
}
