"""Static files: whitenoise at /static/, and uploads never among them."""

from __future__ import annotations

import time
from io import StringIO

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command

from tests.factories import make_image_bytes
from webinars import checks


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


SECRET = b"outside the upload directory"


@pytest.fixture
def outside(tmp_path):
    """A file and a directory outside every static and upload directory."""
    directory = tmp_path / "outside"
    directory.mkdir()
    (directory / "secret.txt").write_bytes(SECRET)
    return directory


def listed_paths() -> list[str]:
    return [path for finder in finders.get_finders() for path, _ in finder.list([])]


def collect(static_root) -> set[str]:
    call_command("collectstatic", interactive=False, verbosity=0, stdout=StringIO())
    return {p.relative_to(static_root).as_posix() for p in static_root.rglob("*")}


def test_symlinks_in_upload_dir_are_never_found_listed_or_collected(
    default_layout, outside, static_root
):
    photos = default_layout / "uploads" / "photos"
    (photos / "link.png").symlink_to(outside / "secret.txt")
    (photos / "escape").symlink_to(outside, target_is_directory=True)
    (default_layout / "uploads" / "escape").symlink_to(outside)

    for path in (
        "uploads/photos/link.png",
        "uploads/photos/escape/secret.txt",
        "uploads/escape/secret.txt",
    ):
        assert finders.find(path) is None, path
    assert not [path for path in listed_paths() if "secret" in path]
    assert not [path for path in collect(static_root) if "secret" in path]


def test_symlinks_elsewhere_in_static_files_are_skipped(
    default_layout, outside, static_root
):
    (default_layout / "css" / "linked.css").symlink_to(outside / "secret.txt")
    (default_layout / "vendor").symlink_to(outside, target_is_directory=True)

    assert finders.find("css/linked.css") is None
    assert finders.find("vendor/secret.txt") is None
    collected = collect(static_root)
    assert "css/site.css" in collected
    assert not [path for path in collected if "linked" in path or "secret" in path]


def test_collectstatic_finishes_quickly_with_a_symlinked_ancestor(
    default_layout, static_root
):
    # Each level of a loop would double the tree to walk: it never finished.
    photos = default_layout / "uploads" / "photos"
    (photos / "loop").symlink_to(default_layout, target_is_directory=True)
    (default_layout / "css" / "loop").symlink_to(
        default_layout, target_is_directory=True
    )
    started = time.monotonic()

    collected = collect(static_root)

    assert time.monotonic() - started < 20
    assert "css/site.css" in collected
    assert not [path for path in collected if "loop" in path or "uploads" in path]


@pytest.fixture
def moved_project(settings, tmp_path, upload_dir):
    """A project whose UPLOAD_DIR moved elsewhere, with files left in static/uploads."""
    project = tmp_path / "moved"
    static_dir = project / "static"
    (static_dir / "css").mkdir(parents=True)
    (static_dir / "css" / "site.css").write_text("body { color: black; }")
    left = static_dir / "uploads" / "photos"
    left.mkdir(parents=True)
    (static_dir / "uploads" / ".gitkeep").write_text("")
    (left / "deleted-in-the-app.png").write_bytes(make_image_bytes())
    settings.BASE_DIR = project
    settings.STATICFILES_DIRS = [static_dir]
    return static_dir


def test_files_left_in_static_uploads_are_never_found_or_collected(
    moved_project, static_root
):
    assert finders.find("uploads/photos/deleted-in-the-app.png") is None
    assert not [path for path in listed_paths() if path.startswith("uploads")]
    assert not [path for path in collect(static_root) if path.startswith("uploads")]


def test_files_left_in_static_uploads_are_a_warning_that_says_how_to_move_them(
    moved_project, upload_dir
):
    [warning] = [
        message
        for message in checks.check_no_uploads_left_in_static()
        if message.id == "webinars.W004"
    ]

    assert f"Files are left in {moved_project / 'uploads'}" in warning.msg
    assert "deleted-in-the-app.png" in warning.msg
    assert f"rsync -a --ignore-existing {moved_project / 'uploads'}/" in warning.hint
    assert str(upload_dir) in warning.hint


def test_an_empty_static_uploads_or_the_default_layout_is_no_warning(
    moved_project, settings
):
    (moved_project / "uploads" / "photos" / "deleted-in-the-app.png").unlink()
    assert checks.check_no_uploads_left_in_static() == []

    (moved_project / "uploads" / "photos" / "kept.png").write_bytes(b"x")
    settings.MEDIA_ROOT = str(moved_project / "uploads")
    assert checks.check_no_uploads_left_in_static() == []
