"""A real RTSP server for tests: GStreamer's gst-rtsp-server serving one H.264 MP4 in real time.

Run by the SYSTEM python3 (Debian's python3-gi and gir1.2-gst-rtsp-server-1.0, installed by
infra/system-deps.sh), not the venv's: ``/usr/bin/python3 tests/rtsp_server.py CLIP PORT``. It serves
``rtsp://127.0.0.1:PORT/live`` over TCP and UDP and prints ``READY`` once listening; the stream ends
with the clip.
"""

from __future__ import annotations

import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def main() -> None:
    clip, port = sys.argv[1], sys.argv[2]
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(port)
    factory = GstRtspServer.RTSPMediaFactory()
    # The RTSP sinks sync to the pipeline clock, so the clip plays in real time like a camera.
    factory.set_launch(
        f"( filesrc location={clip} ! qtdemux ! h264parse ! rtph264pay name=pay0 pt=96 config-interval=1 )"
    )
    server.get_mount_points().add_factory("/live", factory)
    server.attach(None)
    print("READY", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
