#!/bin/bash
# auditmesh fixture workload: ia32 syscalls (int 0x80) from a 64-bit process, logged with
# arch=40000003 (i386) and i386 syscall numbers. Uses the shared tool's i32ops.c, which
# capture.sh copies to /srv/amwork; built here (64-bit static, no multilib needed).
# i32ops runs only as nobody: as root it would chmod/chown /etc/hostname and ptrace-attach to
# PID 1 of the capture machine. As nobody: open(/etc/shadow) EACCES, creat/rename/chmod/unlink
# in the scratch dir succeed, chmod/chown32 of /etc/hostname, setuid32, setgid32, ptrace EPERM,
# then execve (nr 11) of /bin/true with arch=i386.
# The build uses no randomly named temp files (gcc's default /tmp/ccXXXXXX.s/.o/.res and
# collect2's /tmp/ccXXXXXX.cdtor.c/.o would land in the log's EXECVE and PATH records): the
# compile step pipes cc1 into as (-pipe) and writes the object to a named file; in the link
# step -save-temps=obj makes collect2 and the linker plugin name their files after the output
# (none of them is actually written for this program).
W=/srv/amwork/wl
mkdir -p $W; chmod 1777 $W
gcc -O2 -pipe -c -o $W/i32ops.o /srv/amwork/i32ops.c
gcc -no-pie -static -save-temps=obj -o $W/i32ops $W/i32ops.o
setpriv --reuid=65534 --regid=65534 --clear-groups $W/i32ops exec
rm -f $W/i32ops $W/i32ops.o
exit 0
