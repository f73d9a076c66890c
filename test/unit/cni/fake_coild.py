"""One-shot fake coild for plugin_e2e.sh: serves one connection on a UNIX socket.

Usage: fake_coild.py SOCKET REPLY_JSON REQUEST_OUT
Reads the request until the client's shutdown, saves it to REQUEST_OUT, answers
REPLY_JSON and exits.
"""
import os
import socket
import sys

path, reply, request_out = sys.argv[1], sys.argv[2], sys.argv[3]
if os.path.exists(path):
    os.unlink(path)
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen(1)
server.settimeout(20)
conn, _ = server.accept()
chunks = []
while True:
    data = conn.recv(65536)
    if not data:
        break
    chunks.append(data)
with open(request_out, "wb") as out:
    out.write(b"".join(chunks))
conn.sendall(reply.encode())
conn.close()
server.close()
os.unlink(path)
