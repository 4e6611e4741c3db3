"""A JSON push receiver for the sink-kill test, run as its own process on 127.0.0.1: every
POST is recorded (query parameters and entity _ids, one JSON line, fsynced) and then answered
200. `--die-at K` makes it SIGKILL itself on its K-th request, before answering it:
`--die-when recorded` records it first (the batch arrived but was never acknowledged),
`unrecorded` does not (the request was lost with the server).

    python push_receiver.py LOG PORTFILE [--port P] [--die-at K --die-when recorded|unrecorded]
        [--delay SECONDS]
"""

import argparse
import json
import os
import signal
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qsl, urlparse


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("log")
    ap.add_argument("portfile")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--die-at", type=int, default=0)
    ap.add_argument("--die-when", choices=("recorded", "unrecorded"), default="recorded")
    ap.add_argument("--delay", type=float, default=0.0)
    a = ap.parse_args()
    seen = [0]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen[0] += 1
            dying = seen[0] == a.die_at
            if dying and a.die_when == "unrecorded":
                os.kill(os.getpid(), signal.SIGKILL)
            rec = {"path": urlparse(self.path).path,
                   "params": dict(parse_qsl(urlparse(self.path).query)),
                   "ids": [e["_id"] for e in json.loads(body)]}
            with open(a.log, "a") as f:
                f.write(json.dumps(rec) + "\n")
                f.flush()
                os.fsync(f.fileno())
            if dying:
                os.kill(os.getpid(), signal.SIGKILL)
            time.sleep(a.delay)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    srv = HTTPServer(("127.0.0.1", a.port), Handler)
    tmp = a.portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.replace(tmp, a.portfile)
    srv.serve_forever()


if __name__ == "__main__":
    main()
