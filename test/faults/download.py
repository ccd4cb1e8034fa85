"""The application of the fault matrix: one download through an HTTP proxy (CONNECT), read with
plain recv(2) until it ends. Prints "flowing" once 256 KiB arrived, then exactly one of
"end <bytes>" (a clean end of stream), "reset <bytes>" (ECONNRESET) or "error <bytes> <what>".
A Node reader is not used here: libuv may report a reset that arrives right after a read that left
data behind as a clean end, without reading the error."""
import socket
import sys

proxy_host, proxy_port, target = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.create_connection((proxy_host, proxy_port), timeout=30)
s.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
head = b""
while b"\r\n\r\n" not in head:
    chunk = s.recv(4096)
    if not chunk:
        print("error 0 no CONNECT reply", flush=True)
        sys.exit(1)
    head += chunk
if not head.startswith((b"HTTP/1.1 200", b"HTTP/1.0 200")):
    print(f"error 0 {head.splitlines()[0].decode(errors='replace')}", flush=True)
    sys.exit(1)
got = len(head) - head.index(b"\r\n\r\n") - 4
announced = False
s.settimeout(None)
try:
    while True:
        chunk = s.recv(65536)
        if not chunk:
            print(f"end {got}", flush=True)
            break
        got += len(chunk)
        if not announced and got >= 256 * 1024:
            announced = True
            print("flowing", flush=True)
except ConnectionResetError:
    print(f"reset {got}", flush=True)
except OSError as e:
    print(f"error {got} {e}", flush=True)
