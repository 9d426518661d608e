#!/bin/sh
# Debian packages the tests need beyond the venv: Chromium and its WebDriver (the browser tests of the
# docs and the operator page, driven by Selenium) and GStreamer's RTSP server (run by the system python3 in
# tests/rtsp_server.py), because FFmpeg cannot serve RTSP to clients. Idempotent: quiet when they are
# present; installs with apt-get (after an update) when root; otherwise says what is missing and leaves
# those tests to skip.
PACKAGES="python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad chromium chromium-driver"

missing=""
for package in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing="$missing $package"
done
[ -z "$missing" ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
    echo "system-deps: no apt-get; RTSP and browser tests will skip (missing:$missing)" >&2
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "system-deps: not root; RTSP and browser tests will skip (run: sudo apt-get install$missing)" >&2
    exit 0
fi
echo "system-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
{ apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing; } >/dev/null \
    || echo "system-deps: apt-get failed; RTSP and browser tests will skip" >&2
exit 0
