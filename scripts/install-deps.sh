#!/bin/sh
# Installs the Debian 12 packages mroute needs to build, run, test and
# benchmark.  This is the one list; `make run` and `make check` call it.
# Only missing packages are installed; nothing is downloaded otherwise.
set -eu

PACKAGES="
  build-essential meson ninja-build pkg-config
  libglib2.0-dev libsoup-3.0-dev libjson-glib-dev libsqlite3-dev libpq-dev libyaml-dev
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav
  glib-networking ffmpeg srt-tools libsrt-gnutls-dev curl python3 python3-jsonschema valgrind openssl iproute2
  postgresql
  nginx libnginx-mod-rtmp libgstrtspserver-1.0-dev
  chromium chromium-driver python3-selenium
"

missing=""
for p in $PACKAGES; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done

if [ -z "$missing" ]; then
  exit 0
fi

echo "install-deps: installing:$missing"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
