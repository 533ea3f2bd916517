#!/bin/bash
# auditmesh fixture workload: loopback sockets, so that connect/bind/listen/accept log SOCKADDR
# records of every common family. Run through the shared capture.sh (root, loginuid 4242).
W=/srv/amwork/wl
mkdir -p $W; chmod 1777 $W
rm -f $W/am.sock
/usr/bin/python3 - <<'PYEOF'
import socket

def tcp(fam, host, port):
    srv = socket.socket(fam, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((host, port)); srv.listen(1)
    c = socket.socket(fam, socket.SOCK_STREAM); c.connect((host, port))
    a, _ = srv.accept(); a.sendall(b"hi"); c.recv(2)
    a.close(); c.close(); srv.close()

tcp(socket.AF_INET, "127.0.0.1", 18091)        # IPv4 bind/listen/connect/accept
tcp(socket.AF_INET6, "::1", 18092)             # IPv6 (saddr=0A00...)

# refused connects (no listener): exit=-111 ECONNREFUSED
for fam, addr in [(socket.AF_INET, ("127.0.0.1", 1)), (socket.AF_INET6, ("::1", 2))]:
    s = socket.socket(fam, socket.SOCK_STREAM)
    try: s.connect(addr)
    except OSError: pass
    s.close()

# UDP: a bound receiver, a connected sender, one datagram
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); r.bind(("127.0.0.1", 18093))
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.connect(("127.0.0.1", 18093))
u.send(b"x"); r.recv(1); u.close(); r.close()

# unix stream socket on a path
p = "/srv/amwork/wl/am.sock"
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); srv.bind(p); srv.listen(1)
c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); c.connect(p)
a, _ = srv.accept(); a.close(); c.close(); srv.close()

# abstract unix socket (name starts with a NUL byte)
name = b"\0auditmesh-abstract"
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); srv.bind(name); srv.listen(1)
c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); c.connect(name)
a, _ = srv.accept(); a.close(); c.close(); srv.close()
PYEOF
rm -f $W/am.sock
exit 0
