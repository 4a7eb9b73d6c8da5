"""Static files: whitenoise at /static/, and uploads never among them."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command

from tests.factories import make_image_bytes


@pytest.fixture
def default_layout(settings, tmp_path):
    """The project's default layout, in a temporary directory: static/uploads."""
    static_dir = tmp_path / "project" / "static"
    (static_dir / "css").mkdir(parents=True)
    (static_dir / "css" / "site.css").write_text("body { color: black; }")
    photos = static_dir / "uploads" / "photos"
    photos.mkdir(parents=True)
    (photos / "portrait.png").write_bytes(make_image_bytes())
    (static_dir / "uploads" / "notes.css").write_text("/* uploaded */")
    settings.STATICFILES_DIRS = [static_dir]
    settings.MEDIA_ROOT = str(static_dir / "uploads")
    return static_dir


def test_collectstatic_copies_static_files_but_no_upload(default_layout, static_root):
    call_command("collectstatic", interactive=False, verbosity=0, stdout=StringIO())

    collected = {p.relative_to(static_root).as_posix() for p in static_root.rglob("*")}
    assert "css/site.css" in collected
    assert "admin/css/base.css" in collected
    assert not any(path.startswith("uploads") for path in collected)


def test_finders_do_not_find_uploads(default_layout):
    assert finders.find("css/site.css") == str(default_layout / "css" / "site.css")
    assert finders.find("uploads/photos/portrait.png") is None
    assert finders.find("uploads/notes.css") is None


def test_the_checkout_lists_its_own_static_files_and_none_of_its_uploads(settings):
    settings.MEDIA_ROOT = str(settings.BASE_DIR / "static" / "uploads")

    listed = [path for finder in finders.get_finders() for path, _ in finder.list([])]

    assert "css/site.css" in listed
    assert not [path for path in listed if path.startswith("uploads")]
