"""Sends each request of a JSON-lines file ({"path", "body"}) to a base URL and reads each reply
to its end, whatever its status: the requests `mock-ollama record` turns into llama-server's
fixtures. Standard library only."""

import json
import sys
import urllib.error
import urllib.request

base, requests = sys.argv[1], sys.argv[2]
with open(requests) as lines:
    for line in lines:
        request = json.loads(line)
        data = json.dumps(request["body"]).encode()
        post = urllib.request.Request(base + request["path"], data=data, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(post, timeout=120) as reply:
                status, body = reply.status, reply.read()
        except urllib.error.HTTPError as refused:
            status, body = refused.code, refused.read()
        print(f"{status} {request['path']} ({len(body)} bytes)")
