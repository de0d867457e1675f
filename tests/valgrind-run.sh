#!/bin/sh
# The exe_wrapper of `meson test --setup valgrind`: memcheck with our
# suppressions; a definite leak or an invalid access fails the test.
#
# valgrind 3.19 (Debian 12) cannot execute some instructions that system
# libraries pick at run time from the CPU they find: libhwy (loaded by
# libjxl, by libavcodec, by gst-libav) runs RDTSCP in its constructor on
# AMD EPYC hosts.  When valgrind stops a test on such an instruction whose
# place is in a library under /usr/lib, the test is skipped (exit 77) and
# says so; an unhandled instruction anywhere else still fails it.
log=$(mktemp "${TMPDIR:-/tmp}/mroute-valgrind.XXXXXX") || exit 1
valgrind --log-file="$log" "$@"
rc=$?
cat "$log" >&2
if [ "$rc" -eq 132 ] && grep -q "unhandled instruction bytes" "$log" &&
    grep -A1 "Illegal opcode at address" "$log" | grep -q "(in /usr/lib/"; then
  lib=$(grep -A1 "Illegal opcode at address" "$log" | sed -n 's/.*(in \(\/usr\/lib\/[^)]*\)).*/\1/p' | head -1)
  echo "SKIP: valgrind cannot execute an instruction of $lib on this CPU (see the log above); this test is not checked under memcheck on this machine" >&2
  rm -f "$log"
  exit 77
fi
rm -f "$log"
exit "$rc"
