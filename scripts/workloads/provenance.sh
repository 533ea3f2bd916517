#!/bin/bash
# auditmesh fixture workload: provenance. A file is downloaded over a loopback TCP socket with
# curl from a one-shot Python server, made executable and run; the script writes a second
# file. Then a name's history: write, rename, hard link, a new file under the old name, a
# copy through the link, unlink. Captured with provenance.rules (reads, writes, opens, fd
# duplication and closing, mmap PROT_EXEC, sends and receives, kill), so per-process fd tables
# can be followed. Run through the shared capture.sh (root, loginuid 4242).
W=/srv/amwork/wl
mkdir -p $W/srv $W/dl; chmod 1777 $W
printf '#!/bin/sh\necho second > /srv/amwork/wl/dl/second.txt\n' > $W/srv/payload.sh
/usr/bin/python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 18095)); s.listen(1)
open("/srv/amwork/wl/srv/ready", "w").close()
c, _ = s.accept(); c.recv(4096)
data = open("/srv/amwork/wl/srv/payload.sh", "rb").read()
c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n" % len(data) + data)
c.close(); s.close()
' &
server=$!
for _ in $(seq 100); do [ -e $W/srv/ready ] && break; sleep 0.05; done
/usr/bin/curl -s -o $W/dl/payload.sh http://127.0.0.1:18095/payload.sh
wait $server
chmod +x $W/dl/payload.sh
$W/dl/payload.sh

# a name's history
echo v1 > $W/name.txt
mv $W/name.txt $W/moved.txt
ln $W/moved.txt $W/hard.txt
echo v2 > $W/name.txt
cat $W/hard.txt > $W/copy.txt
rm $W/moved.txt
rm -rf $W/srv $W/dl $W/name.txt $W/hard.txt $W/copy.txt
exit 0
