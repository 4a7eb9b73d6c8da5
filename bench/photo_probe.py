"""
One photo measurement in a fresh process, so that its peak memory is its own:
`python bench/photo_probe.py pipeline|inline|decode <file>` prints seconds
and the growth of peak RSS in MB: the upload pipeline (with
UPLOAD_DECODE_IN_CHILD as the environment sets it: "inline" is the same, for
a run with it off, whose peak is the processing's own), or Pillow's decode.
"""

from __future__ import annotations

import io
import os
import sys
import time
from pathlib import Path


def rss_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def main(mode: str, path: str) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fastopp.settings")
    import django

    django.setup()
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from webinars import files, photos

    def pipeline(data: bytes) -> None:
        upload = SimpleUploadedFile("p.jpg", data, "image/jpeg")
        prepared = photos.prepare_photo(upload)
        photos.thumbnails_of_prepared(prepared, files.THUMBNAIL_EDGES)

    def decode(data: bytes) -> None:
        with Image.open(io.BytesIO(data)) as image:
            image.load()

    measured = decode if mode == "decode" else pipeline
    # Once on a small photo first: plugins and codecs load on first use, and
    # a worker has long loaded them when a photo arrives.
    small = io.BytesIO()
    Image.new("RGB", (640, 480), "teal").save(small, "JPEG")
    measured(small.getvalue())
    data = Path(path).read_bytes()
    Path("/proc/self/clear_refs").write_text("5")  # peak RSS := current RSS
    before = rss_kb("VmRSS")
    started = time.perf_counter()
    measured(data)
    elapsed = time.perf_counter() - started
    print(f"{elapsed:.4f} {(rss_kb('VmHWM') - before) / 1024:.1f}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
