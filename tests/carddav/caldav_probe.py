"""Run by tests/carddav/test_caldav_client.py in a process of its own: caldav's DAVClient sends
the requests read as JSON from stdin and prints each answer's status and body as JSON.

A process of its own: the client's HTTP library leaves a socket for the garbage collector,
which the test run (warnings are errors) would report as its own failure."""

from __future__ import annotations

import json
import sys

from caldav.davclient import DAVClient
from caldav.lib.error import DAVError


def main() -> None:
    order = json.load(sys.stdin)
    answers = []
    with DAVClient(
        url=order["url"], username=order["username"], password=order["password"], auth_type="basic", require_tls=False
    ) as client:
        for request in order["requests"]:
            method, url, body, depth = request["method"], request["url"], request["body"], request["depth"]
            try:
                if method == "PROPFIND":
                    response = client.propfind(url, body, depth=depth)
                elif method == "REPORT":
                    response = client.report(url, body, depth=depth)
                elif method == "PUT":
                    response = client.put(url, body)
                elif method == "DELETE":
                    response = client.delete(url)
                elif method == "PROPPATCH":
                    response = client.proppatch(url, body)
                else:
                    response = client.mkcol(url, body)
                answers.append({"status": response.status, "raw": response.raw})
            except DAVError as refused:  # caldav raises on a refused write
                answers.append({"status": getattr(refused, "status", 0), "raw": str(getattr(refused, "body", ""))})
    json.dump(answers, sys.stdout)


if __name__ == "__main__":
    main()
