"""A fan's browser for the cluster check: one keep-alive connection, either to nginx over TLS
from one of the client addresses, or straight to one app host over plain HTTP with the
headers nginx would add (to ask a particular host). Cookies and CSRF tokens as a browser
keeps them. Standard library only."""

from __future__ import annotations

import gzip
import http.client
import re
import socket
import ssl
from dataclasses import dataclass
from email.message import Message
from http.cookies import SimpleCookie
from urllib.parse import urlencode

CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
USER_AGENT = "showboard-cluster-check"
TIMEOUT = 30.0


class Refused(RuntimeError):
    """The site answered, but not the way a working page or login does."""


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Message
    body: str

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")


class _ProxyConnection(http.client.HTTPSConnection):
    """TLS to the proxy's address with the site's name for SNI and the certificate check."""

    def __init__(
        self, address: str, server_name: str, context: ssl.SSLContext, source: str
    ) -> None:
        super().__init__(
            server_name, 443, context=context, timeout=TIMEOUT, source_address=(source, 0)
        )
        self._address = address
        self._tls = context

    def connect(self) -> None:
        raw = socket.create_connection(
            (self._address, self.port), self.timeout, self.source_address
        )
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


class Browser:
    def __init__(
        self,
        connection: http.client.HTTPConnection,
        host: str,
        extra_headers: dict[str, str] | None = None,
    ) -> None:
        self._connection = connection
        self.host = host
        self.cookies: dict[str, str] = {}
        self._extra = extra_headers or {}

    @classmethod
    def via_proxy(cls, proxy: str, server_name: str, ca_file: str, source: str) -> Browser:
        context = ssl.create_default_context(cafile=ca_file)
        return cls(_ProxyConnection(proxy, server_name, context, source), server_name)

    @classmethod
    def to_host(cls, address: str, port: int, server_name: str, client: str) -> Browser:
        """Plain HTTP to one app host, as nginx sends it (docs/deploy.md's proxy headers)."""
        headers = {
            "X-Forwarded-For": client,
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": server_name,
        }
        return cls(http.client.HTTPConnection(address, port, timeout=TIMEOUT), server_name, headers)

    def get(self, path: str, headers: dict[str, str] | None = None) -> Answer:
        try:
            return self.request("GET", path, headers=headers)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # An idle keep-alive connection was closed by the server; a GET may be resent.
            self._connection.close()
            return self.request("GET", path, headers=headers)

    def post(
        self, path: str, fields: dict[str, str], headers: dict[str, str] | None = None
    ) -> Answer:
        """Never resent: a POST that reached the site may have been stored."""
        return self.request("POST", path, urlencode(fields), headers)

    def csrf_token(self, path: str) -> str:
        page = self.get(path)
        found = CSRF_FIELD.search(page.body)
        if page.status != 200 or found is None:
            raise Refused(f"GET {path}: {page.status}, no csrf_token in the form")
        return found.group(1)

    def log_in(self, username: str, password: str) -> Answer:
        token = self.csrf_token("/login")
        return self.post(
            "/login", {"csrf_token": token, "username": username, "password": password, "next": ""}
        )

    def log_in_or_fail(self, username: str, password: str) -> None:
        answer = self.log_in(username, password)
        if answer.status != 302:
            raise Refused(f"login as {username}: {answer.status}")

    def close(self) -> None:
        self._connection.close()

    def request(
        self, method: str, path: str, body: str | None = None, headers: dict[str, str] | None = None
    ) -> Answer:
        sent = {"User-Agent": USER_AGENT, "Host": self.host, **self._extra, **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            sent["Content-Type"] = "application/x-www-form-urlencoded"
            # As a browser does; over HTTPS, Flask-WTF refuses a form without a same-origin
            # Referer.
            sent.setdefault("Referer", f"https://{self.host}{path}")
        self._connection.request(method, path, body=body, headers=sent)
        response = self._connection.getresponse()
        raw = response.read()
        if response.headers.get("Content-Encoding") == "gzip":
            raw = gzip.decompress(raw)
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel.value:
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        return Answer(response.status, response.headers, raw.decode("utf-8", "replace"))
