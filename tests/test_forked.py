"""
Photos are decoded in a child process forked for each (webinars.forked): the
worker gets the photo back, or the refusal raised there, or a clear 503 when
the child dies; nothing is stored in either failure.
"""

from __future__ import annotations

import os
import signal
from http import HTTPStatus

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import files_in, make_registrant, make_upload, make_user
from webinars import forked, photos

pytestmark = pytest.mark.skipif(
    not forked.is_available(), reason="forking a child is for Linux only"
)


def pid_and(value):
    return os.getpid(), value


def refuse():
    raise ValidationError("No, because.", code="because", params={"n": 1})


def die():
    os.kill(os.getpid(), signal.SIGKILL)


def unpicklable():
    raise RuntimeError(lambda: None)


def test_the_function_runs_in_another_process_and_its_value_comes_back():
    pid, value = forked.call(pid_and, {"photo": b"\x00" * 1_000_000})

    assert pid != os.getpid()
    assert value == {"photo": b"\x00" * 1_000_000}  # over a pipe's buffer


def test_what_the_function_raises_is_raised_here():
    with pytest.raises(ValidationError) as raised:
        forked.call(refuse)

    assert raised.value.code == "because"
    assert raised.value.messages == ["No, because."]


def test_an_exception_that_cannot_be_pickled_is_still_reported():
    with pytest.raises(RuntimeError, match="lambda"):
        forked.call(unpicklable)


def test_a_child_that_dies_is_a_child_failed_with_its_signal():
    with pytest.raises(forked.ChildFailed, match="signal 9"):
        forked.call(die)


def test_prepare_photo_decodes_in_a_child(settings, monkeypatch):
    settings.UPLOAD_DECODE_IN_CHILD = True
    decoded_in = []
    real_open = photos._open

    def recording_open(data):
        decoded_in.append(os.getpid())  # in the child: not seen here
        return real_open(data)

    monkeypatch.setattr(photos, "_open", recording_open)

    prepared = photos.prepare_photo(make_upload("me.png"))

    assert prepared.format == "PNG"
    assert prepared.thumbnail_source is not None
    assert decoded_in == []
    settings.UPLOAD_DECODE_IN_CHILD = False
    photos.prepare_photo(make_upload("me.png"))
    assert decoded_in == [os.getpid()]


@pytest.mark.django_db
def test_a_decoder_that_dies_is_a_503_with_a_sentence_and_nothing_stored(
    client, settings, monkeypatch, upload_dir
):
    settings.UPLOAD_DECODE_IN_CHILD = True
    monkeypatch.setattr(photos, "_clean_pixels", lambda image: die())
    client.force_login(make_user("mia", role="marketing"))
    registrant = make_registrant()

    response = client.post(
        f"/upload-photo/{registrant.pk}",
        {"photo": make_upload("me.png")},
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.json() == {
        "success": False,
        "error": "This photo could not be processed: the server ran out of memory "
        "or the decoder failed. Try a smaller photo, or tell an administrator.",
    }
    registrant.refresh_from_db()
    assert not registrant.photo
    assert files_in(upload_dir) == set()


def sleep_long():
    import time

    time.sleep(30)


def test_a_child_still_running_at_its_timeout_is_killed():
    with pytest.raises(forked.ChildFailed, match="signal 9"):
        forked.call(sleep_long, timeout=0.5)


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_a_fork_that_fails_is_processing_failed_and_leaks_nothing(
    settings, monkeypatch
):
    settings.UPLOAD_DECODE_IN_CHILD = True

    def no_fork():
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(forked.os, "fork", no_fork)
    before = open_descriptors()

    with pytest.raises(ValidationError) as raised:
        photos.prepare_photo(make_upload("me.png"))

    assert raised.value.code == "processing_failed"
    assert open_descriptors() == before


def test_a_parent_that_fails_meanwhile_ends_and_reaps_its_child(settings, monkeypatch):
    settings.UPLOAD_DECODE_IN_CHILD = True
    started = []
    real_start = forked.start

    def recording_start(*args, **kwargs):
        started.append(real_start(*args, **kwargs))
        return started[-1]

    def broken(data):
        raise MemoryError

    monkeypatch.setattr(forked, "start", recording_start)
    monkeypatch.setattr(photos, "_is_polyglot", broken)
    before = open_descriptors()

    with pytest.raises(MemoryError):
        photos.prepare_photo(make_upload("me.png"))

    assert open_descriptors() == before
    assert started[0].status is not None  # reaped: no zombie left
    with pytest.raises(ChildProcessError):
        os.waitpid(started[0].pid, os.WNOHANG)


@pytest.mark.parametrize("in_child", [True, False])
def test_foreign_content_is_refused_before_later_failures(
    settings, monkeypatch, in_child
):
    settings.UPLOAD_DECODE_IN_CHILD = in_child
    if in_child:  # the child dies after decoding: the polyglot verdict stands
        monkeypatch.setattr(photos, "_clean_pixels", lambda image: die())
    else:
        monkeypatch.setattr(
            photos.encoding, "encode", lambda *a, **k: (_ for _ in ()).throw(OSError)
        )
    data = make_upload("me.png").read() + b"<script>alert(1)</script>"

    with pytest.raises(ValidationError) as raised:
        photos.prepare_photo(make_upload_of(data))

    assert raised.value.code == "polyglot"
    assert raised.value.messages == [
        "This PNG file also contains a web page, script or PDF, which is not "
        "allowed in a photo."
    ]


def test_what_cannot_be_decoded_is_refused_as_such_even_with_foreign_content(
    settings,
):
    settings.UPLOAD_DECODE_IN_CHILD = True

    with pytest.raises(ValidationError) as raised:
        photos.prepare_photo(make_upload_of(b"<html><script>x</script></html>"))

    assert raised.value.code == "format"


def make_upload_of(data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("me.png", data, "image/png")
