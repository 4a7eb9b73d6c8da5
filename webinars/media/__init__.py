"""
The one place that knows how upload files are named, written, deleted and served.

files: naming, atomic writing (through webinars.storage.UploadStorage),
listing and deleting photos and thumbnails. serving: answering requests for
them at MEDIA_URL (/static/uploads/).
"""

from webinars.media.files import (
    THUMBNAIL_DIRECTORY,
    StorageFault,
    delete_file,
    delete_photo_files,
    delete_unsaved_photo,
    file_age_seconds,
    file_names,
    file_size,
    is_inside_upload_dir,
    photo_directory,
    read_file,
    served_directories,
    storage_fault,
    store_photo,
    store_thumbnails,
    stored_files,
    stored_photos,
    thumbnail_name,
    thumbnail_url,
)
from webinars.media.serving import serve

__all__ = [
    "THUMBNAIL_DIRECTORY",
    "StorageFault",
    "delete_file",
    "delete_photo_files",
    "delete_unsaved_photo",
    "file_age_seconds",
    "file_names",
    "file_size",
    "is_inside_upload_dir",
    "photo_directory",
    "read_file",
    "serve",
    "served_directories",
    "storage_fault",
    "store_photo",
    "store_thumbnails",
    "stored_files",
    "stored_photos",
    "thumbnail_name",
    "thumbnail_url",
]
