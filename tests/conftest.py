from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    """Point UPLOAD_DIR at a fresh directory, so no test writes into the checkout."""
    root = tmp_path / "uploads"
    root.mkdir()
    settings.UPLOAD_DIR = str(root)
    settings.MEDIA_ROOT = str(root)
    return root


@pytest.fixture(autouse=True)
def static_root(settings, tmp_path):
    """Collect static files, if a test does, outside the checkout."""
    root = tmp_path / "staticfiles"
    root.mkdir()
    settings.STATIC_ROOT = str(root)
    return root


@pytest.fixture(autouse=True)
def upload_temp_dir(settings, tmp_path):
    """Where Django would spool large uploads; tests check it stays empty."""
    root = tmp_path / "upload-tmp"
    root.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(root)
    return root
