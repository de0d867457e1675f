/* mroute: the fence of a flow's outputs.  See fence.h. */

#define G_LOG_DOMAIN "mroute-pipeline"
#include "fence.h"

GST_DEBUG_CATEGORY_STATIC (mr_fence_debug);
#define GST_CAT_DEFAULT mr_fence_debug

struct _MrFence
{
  gint64 deadline_us;           /* atomic; 0: none */
  guint64 dropped;              /* atomic: written by the streaming thread */
  gint closed_said;             /* atomic: the drop was logged once */
};

MrFence *
mr_fence_new (void)
{
  static gsize debug_ready;

  if (g_once_init_enter (&debug_ready)) {
    GST_DEBUG_CATEGORY_INIT (mr_fence_debug, "mroute-fence", 0,
        "mroute: the lease fence before a flow's outputs");
    g_once_init_leave (&debug_ready, 1);
  }
  return g_atomic_rc_box_new0 (MrFence);
}

MrFence *
mr_fence_ref (MrFence * fence)
{
  return g_atomic_rc_box_acquire (fence);
}

void
mr_fence_unref (MrFence * fence)
{
  g_atomic_rc_box_release (fence);
}

void
mr_fence_set_deadline (MrFence * fence, gint64 deadline_us)
{
  g_return_if_fail (fence != NULL);
  __atomic_store_n (&fence->deadline_us, MAX (deadline_us, 0),
      __ATOMIC_RELEASE);
  g_atomic_int_set (&fence->closed_said, 0);
}

gint64
mr_fence_get_deadline (MrFence * fence)
{
  return __atomic_load_n (&fence->deadline_us, __ATOMIC_ACQUIRE);
}

gboolean
mr_fence_is_open (MrFence * fence, gint64 now_us)
{
  gint64 deadline = mr_fence_get_deadline (fence);

  return deadline == 0 || now_us <= deadline;
}

guint64
mr_fence_get_dropped (MrFence * fence)
{
  return __atomic_load_n (&fence->dropped, __ATOMIC_RELAXED);
}

static GstPadProbeReturn
fence_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  MrFence *fence = user_data;
  gint64 deadline = __atomic_load_n (&fence->deadline_us, __ATOMIC_ACQUIRE);
  guint n;

  /* the one atomic load above is all an open fence costs */
  if (G_LIKELY (deadline == 0) || g_get_monotonic_time () <= deadline)
    return GST_PAD_PROBE_OK;

  n = (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) ?
      gst_buffer_list_length (GST_PAD_PROBE_INFO_BUFFER_LIST (info)) : 1;
  __atomic_add_fetch (&fence->dropped, n, __ATOMIC_RELAXED);
  if (g_atomic_int_compare_and_exchange (&fence->closed_said, 0, 1))
    GST_INFO_OBJECT (pad, "fence closed (deadline passed): dropping");
  return GST_PAD_PROBE_DROP;
}

gulong
mr_fence_attach (MrFence * fence, GstPad * pad)
{
  return gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_BUFFER_LIST, fence_probe, mr_fence_ref (fence),
      (GDestroyNotify) mr_fence_unref);
}
