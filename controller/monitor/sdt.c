/* mroute: the SDT of the stream entering the monitor's tsdemux, read by
 * a probe in the entry's thread: the service names of the programs, which
 * tsdemux does not read. */

#define G_LOG_DOMAIN "mroute-monitor"
#include "monitor-private.h"

#include <gst/mpegts/mpegts.h>
#include <string.h>

#define TS_PACKET 188
#define SDT_PID 0x11
#define SECTION_MAX 4096

/* under no lock: the names table takes the lock */
static void
sdt_names (MrMonitorBin * bin, const guint8 * data, gsize size)
{
  MrMonitor *m = bin->monitor;
  GstMpegtsSection *section;
  const GstMpegtsSDT *sdt;

  if (size < 3 || data[0] != GST_MTS_TABLE_ID_SERVICE_DESCRIPTION_ACTUAL_TS)
    return;
  /* the same section again (it repeats every few hundred ms) */
  if (bin->sdt_last && g_bytes_get_size (bin->sdt_last) == size
      && memcmp (g_bytes_get_data (bin->sdt_last, NULL), data, size) == 0)
    return;
  g_clear_pointer (&bin->sdt_last, g_bytes_unref);
  bin->sdt_last = g_bytes_new (data, size);
  section = gst_mpegts_section_new (SDT_PID, g_memdup2 (data, size), size);
  if (!section)
    return;
  if ((sdt = gst_mpegts_section_get_sdt (section))) {
    g_mutex_lock (&m->lock);
    for (guint i = 0; i < sdt->services->len; i++) {
      GstMpegtsSDTService *svc = sdt->services->pdata[i];
      const GstMpegtsDescriptor *desc =
          gst_mpegts_find_descriptor (svc->descriptors,
          GST_MTS_DESC_DVB_SERVICE);
      gchar *name = NULL;

      if (desc && gst_mpegts_descriptor_parse_dvb_service (desc, NULL, &name,
              NULL) && name)
        g_hash_table_replace (bin->program_names,
            GUINT_TO_POINTER (svc->service_id), name);
      else
        g_free (name);
    }
    g_mutex_unlock (&m->lock);
  }
  gst_mpegts_section_unref (section);
}

/* Sections that are complete in bin->sdt are read and dropped */
static void
sdt_take_sections (MrMonitorBin * bin)
{
  while (bin->sdt_open && bin->sdt->len >= 3) {
    const guint8 *d = bin->sdt->data;
    guint total;

    if (d[0] == 0xFF) {         /* stuffing: nothing more in this packet */
      bin->sdt_open = FALSE;
      break;
    }
    total = 3 + (((d[1] & 0x0F) << 8) | d[2]);
    if (total > SECTION_MAX) {
      bin->sdt_open = FALSE;
      break;
    }
    if (bin->sdt->len < total)
      break;
    sdt_names (bin, d, total);
    g_byte_array_remove_range (bin->sdt, 0, total);
  }
  if (!bin->sdt_open || bin->sdt->len > SECTION_MAX)
    g_byte_array_set_size (bin->sdt, 0);
}

/* One TS packet: the payload of PID 0x11 goes into sections */
static void
sdt_packet (MrMonitorBin * bin, const guint8 * p)
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
    if (bin->sdt_open && off + pointer <= TS_PACKET) {
      g_byte_array_append (bin->sdt, p + off, pointer);
      sdt_take_sections (bin);
    }
    off += pointer;
    if (off >= TS_PACKET)
      return;
    g_byte_array_set_size (bin->sdt, 0);
    bin->sdt_open = TRUE;
  } else if (!bin->sdt_open) {
    return;
  }
  g_byte_array_append (bin->sdt, p + off, TS_PACKET - off);
  sdt_take_sections (bin);
}

/* The flow's buffers hold whole TS packets (datagrams of seven); a packet
 * that does not start with its sync byte is skipped */
static void
sdt_buffer (MrMonitorBin * bin, GstBuffer * buf)
{
  GstMapInfo map;

  if (!gst_buffer_map (buf, &map, GST_MAP_READ))
    return;
  for (gsize off = 0; off + TS_PACKET <= map.size; off += TS_PACKET)
    sdt_packet (bin, map.data + off);
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

  if (info->type & GST_PAD_PROBE_TYPE_BUFFER)
    sdt_buffer (bin, GST_PAD_PROBE_INFO_BUFFER (info));
  else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST)
    gst_buffer_list_foreach (GST_PAD_PROBE_INFO_BUFFER_LIST (info),
        sdt_list_item, bin);
  return GST_PAD_PROBE_OK;
}
