"""
A client for the production WSGI application, in process: requests go
through webinars.views.localmedia.UploadFiles and, for what it passes on,
Django's own WSGIHandler, composed as fastopp.wsgi does (afresh for each
client, so that its middleware sees the test's settings).
"""

from __future__ import annotations

from wsgiref.util import FileWrapper

from django.core.handlers.wsgi import WSGIHandler
from django.test import RequestFactory
from django.utils.datastructures import CaseInsensitiveMapping

from webinars.views.localmedia import UploadFiles


class WsgiResponse:
    """Status, headers and body of one WSGI answer, read like a test response."""

    streaming = True

    def __init__(self, status: str, headers: list[tuple[str, str]], chunks):
        self.status_code = int(status.split()[0])
        self.header_list = headers
        self.headers = CaseInsensitiveMapping(dict(headers))
        self.streaming_content = list(chunks)
        self.content = b"".join(self.streaming_content)

    def __getitem__(self, header: str) -> str:
        return self.headers[header]

    def __contains__(self, header: str) -> bool:
        return header in self.headers

    def get(self, header: str, default=None):
        return self.headers.get(header, default)


class WsgiClient:
    """get() and head() through fastopp.wsgi.application."""

    def __init__(self, *, secure: bool = False, file_wrapper: bool = True):
        self.application = UploadFiles(WSGIHandler())
        self.factory = RequestFactory()
        self.secure = secure
        self.file_wrapper = {"wsgi.file_wrapper": FileWrapper} if file_wrapper else {}

    def get(self, path: str, headers: dict | None = None, secure=None):
        return self._call("get", path, headers, secure)

    def head(self, path: str, headers: dict | None = None, secure=None):
        return self._call("head", path, headers, secure)

    def _call(self, method, path, headers, secure) -> WsgiResponse:
        secure = self.secure if secure is None else secure
        request = getattr(self.factory, method)(path, headers=headers, secure=secure)
        environ = request.environ | self.file_wrapper
        started = {}

        def start_response(status, response_headers, exc_info=None):
            started["status"], started["headers"] = status, response_headers

        body = self.application(environ, start_response)
        try:
            chunks = list(body)
        finally:
            if hasattr(body, "close"):
                body.close()
        return WsgiResponse(started["status"], started["headers"], chunks)
