#!/bin/bash
# auditmesh fixture workload: execs with awkward argv, awkward file names, one EACCES.
# Run by scripts/capture-fixtures.sh through the shared capture.sh (root, cwd /srv/amwork,
# loginuid 4242 so that every process here is audited). A few seconds.
W=/srv/amwork/wl
NOBODY="setpriv --reuid=65534 --regid=65534 --clear-groups"
mkdir -p $W; chmod 1777 $W

# execve argv edge cases: an empty argument, spaces and both quote kinds, UTF-8, a newline,
# a tab, a lone '=' pair (kernel hex-encodes any argument with a space, quote, control
# character or byte >= 0x7f; the others stay quoted)
/bin/echo '' 'plain' > /dev/null
/bin/echo 'with spaces and "double" and '\''single'\'' quotes' > /dev/null
/bin/echo 'ünïcödé ✓ 日本' > /dev/null
/bin/echo $'line one\nline two' $'tab\there' 'key=value' > /dev/null
/usr/bin/env -i AM_FIXTURE=1 /bin/true

# file names that need encoding in PATH records: a space, a newline, UTF-8
printf 'x\n' > "$W/name with space.txt"
printf 'x\n' > "$W/"$'nl\nname.txt'
printf 'x\n' > "$W/ünïcödé.txt"
mv "$W/name with space.txt" "$W/renamed with space.txt"
rm -f "$W/renamed with space.txt" "$W/"$'nl\nname.txt' "$W/ünïcödé.txt"

# an unprivileged user (nobody, 65534; loginuid stays 4242) fails to open a root-only file
$NOBODY /bin/cat /etc/shadow > /dev/null 2>&1
# and fails to create a file in /root
$NOBODY /usr/bin/touch /root/am-forbidden > /dev/null 2>&1
exit 0
