"""An upload target that reads with plain recv(2): prints its port, then for every connection one
line "end <bytes>" (a clean end of stream) or "reset <bytes>" (ECONNRESET) when it ends."""
import socket
import sys
import threading

server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(64)
print(server.getsockname()[1], flush=True)


def serve(conn):
    got = 0
    try:
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                print(f"end {got}", flush=True)
                return
            got += len(chunk)
    except ConnectionResetError:
        print(f"reset {got}", flush=True)
    except OSError as e:
        print(f"error {got} {e}", flush=True)


while True:
    conn, _ = server.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
