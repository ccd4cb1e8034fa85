"""An upload target that reads with plain recv(2): prints its port, then for every connection one
line "end <bytes>" (a clean end of stream) or "reset <bytes>" (ECONNRESET) when it ends."""
import socket
import sys
import threading

server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(64)
print(server.getsockname()[1], flush=True)
said = threading.Lock()


def say(line):
    # One write per line under a lock: two threads printing at once could otherwise interleave
    # their text and newlines ("reset 1reset 2", then an empty line).
    with said:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def serve(conn):
    got = 0
    try:
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                say(f"end {got}")
                return
            got += len(chunk)
    except ConnectionResetError:
        say(f"reset {got}")
    except OSError as e:
        say(f"error {got} {e}")


while True:
    conn, _ = server.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
