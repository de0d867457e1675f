/* mroute: retention of the flows' recordings (docs/recording.md): the
 * segments of each flow that started more than its delete_after ago are
 * deleted, at start and on a timer (manager.c), by the clock of
 * core/clock.h, which tests move with MROUTE_TEST_CLOCK_FILE. */

#define G_LOG_DOMAIN "mroute-flow"
#include "flow-runner.h"

guint
mr_flows_apply_retention (GPtrArray * specs, const gchar * root)
{
  gint64 now = mr_clock_now_us ();
  guint total = 0;

  for (guint i = 0; i < specs->len; i++) {
    const MrFlowSpec *spec = specs->pdata[i];
    g_autofree gchar *dir = NULL;
    guint n;

    if (spec->recording_delete_after <= 0)
      continue;
    dir = mr_flow_spec_recording_dir (spec, root);
    n = mr_recordings_delete_before (dir, now -
        spec->recording_delete_after * G_USEC_PER_SEC);
    if (n > 0)
      g_message ("flow %s: retention deleted %u recording segment(s) older "
          "than %" G_GINT64_FORMAT " s", spec->id, n,
          spec->recording_delete_after);
    total += n;
  }
  return total;
}
