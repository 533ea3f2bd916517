#!/bin/bash
# auditmesh fixture workload: pid reuse. 2,000 short processes, each started on one of ten pids
# by writing the pid before it to /proc/sys/kernel/ns_last_pid (the kernel hands out the next
# free pid), so every pid is reused about 200 times. Every 20th child runs /bin/true; the others
# exit at once. Run through the shared capture.sh (root, loginuid 4242); the default rules log
# clone, execve and exit_group. The program runs from a file so that its PROCTITLE stays short.
W=/srv/amwork/wl
mkdir -p $W; chmod 1777 $W
cat > $W/pidreuse.py <<'PYEOF'
import os
base = os.getpid() + 1000
pids = [base + 7 * i for i in range(10)]
for n in range(2000):
    want = pids[n % 10]
    with open("/proc/sys/kernel/ns_last_pid", "w") as f:
        f.write(str(want - 1))
    child = os.fork()
    if child == 0:
        if n % 20 == 0:
            os.execv("/bin/true", ["/bin/true", str(n)])
        os._exit(0)
    os.waitpid(child, 0)
PYEOF
/usr/bin/python3 $W/pidreuse.py
rm -f $W/pidreuse.py
exit 0
