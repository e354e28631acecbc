#!/usr/bin/env python3
"""Tokens from `tokenbroker serve` over its Unix socket: Python's standard library only.

Replaces a hand-kept tokens.json TokenManager: the service renews, saves and shares the tokens;
this asks for a valid one each time (a warm token is answered in well under a millisecond).

    python3 tokenbroker_client.py /run/tokenbroker/tokenbroker.sock cafe24:mymall
"""
import http.client
import json
import socket
import sys
import urllib.parse


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, socket_path, timeout=100):
        super().__init__("localhost", timeout=timeout)
        self.socket_path = socket_path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.socket_path)


def access_token(connection, socket_path="/run/tokenbroker/tokenbroker.sock"):
    """A valid access token for `connection`; raises with the service's reason otherwise."""
    conn = UnixHTTPConnection(socket_path)
    try:
        conn.request("GET", "/v1/connections/%s/token" % urllib.parse.quote(connection, safe=":"))
        response = conn.getresponse()
        body = json.load(response)
    finally:
        conn.close()
    if response.status != 200:
        # 409: a person must reconnect (body["action"]); 503: retry after Retry-After seconds
        raise RuntimeError("%s: %s" % (body["error"], body["message"]))
    return body["access_token"]


if __name__ == "__main__":
    print(access_token(sys.argv[2], sys.argv[1]))
