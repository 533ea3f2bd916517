#!/usr/bin/env python3
"""Replicates an audit log to a target size for benchmarks.

Copies of the input log are written one after another into bench-data/ (gitignored). In copy k
every `msg=audit(SEC.MSEC:SERIAL)` header is shifted so that events stay unique and serials keep
increasing:

  * the timestamp moves by k * (span of the log's timestamps + 1 s);
  * the serial moves by k * (span of the log's kernel serials + 1). auditd's own DAEMON_* records
    (types 1200-1299) are numbered from a separate counter and do not count towards the span.

Every other byte of every line is kept as it is (the ENRICHED `\\x1d` suffix included). Lines
without a header are copied verbatim. Writing stops at the first event boundary at or after the
target size, so no event is cut in two.

Usage: bench/replicate.py [--input LOG] [--size MB] [--output FILE]
Paths are relative to the repository root unless absolute.
"""

import argparse
import os
import re
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_INPUT = "../shared/corpus/kernel/benign-enriched/audit.log"
HEADER = re.compile(rb"msg=audit\((\d+)\.(\d{3}):(\d+)\)")
TYPE = re.compile(rb"(?:^| )type=(\S+)")


def is_daemon_record(line):
    m = TYPE.search(line)
    if not m:
        return False
    name = m.group(1)
    if name.startswith(b"DAEMON_"):
        return True
    if name.startswith(b"UNKNOWN[") and name.endswith(b"]"):
        name = name[8:-1]
    return name.isdigit() and 1200 <= int(name) <= 1299


def split_lines(data):
    """Returns a list of (before, millis, serial, after) or (line, None, None, None)."""
    out = []
    for line in data.splitlines(keepends=True):
        m = HEADER.search(line)
        if m is None:
            out.append((line, None, None, None, False))
            continue
        millis = int(m.group(1)) * 1000 + int(m.group(2))
        serial = int(m.group(3))
        out.append((line[: m.start()], millis, serial, line[m.end():], is_daemon_record(line)))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--input", default=DEFAULT_INPUT, help="audit log to replicate (default: %(default)s)")
    ap.add_argument("--size", type=float, default=100, help="target size in MB, 10^6 bytes (default: %(default)s)")
    ap.add_argument("--output", help="output file (default: bench-data/<input-dir>-<size>MB.log)")
    args = ap.parse_args()

    src = args.input if os.path.isabs(args.input) else os.path.join(REPO, args.input)
    with open(src, "rb") as f:
        data = f.read()
    if not data:
        sys.exit(f"replicate: {args.input} is empty")
    if not data.endswith(b"\n"):
        data += b"\n"
    lines = split_lines(data)

    stamps = [m for (_, m, _, _, _) in lines if m is not None]
    if not stamps:
        sys.exit(f"replicate: no msg=audit(...) header in {args.input}")
    serials = [s for (_, m, s, _, d) in lines if m is not None and not d]
    if not serials:
        serials = [s for (_, m, s, _, _) in lines if m is not None]
    time_shift = max(stamps) - min(stamps) + 1000
    serial_shift = max(serials) - min(serials) + 1

    target = int(args.size * 1_000_000)
    if args.output:
        out_path = args.output if os.path.isabs(args.output) else os.path.join(REPO, args.output)
    else:
        name = os.path.basename(os.path.dirname(os.path.abspath(src))) or "audit"
        size = f"{args.size:g}"
        out_path = os.path.join(REPO, "bench-data", f"{name}-{size}MB.log")
    os.makedirs(os.path.dirname(out_path), exist_ok=True)

    written = 0
    records = 0
    copies = 0
    done = False
    tmp = out_path + ".tmp"
    with open(tmp, "wb") as out:
        while not done:
            t_off = copies * time_shift
            s_off = copies * serial_shift
            last_id = None
            buf = []
            for before, millis, serial, after, _ in lines:
                if millis is None:
                    line = before
                    this_id = None
                else:
                    this_id = (before.split(b"type=", 1)[0], millis, serial)
                    ms = millis + t_off
                    line = b"%smsg=audit(%d.%03d:%d)%s" % (before, ms // 1000, ms % 1000, serial + s_off, after)
                # Stop at an event boundary once the target is reached.
                if written >= target and this_id is not None and this_id != last_id:
                    done = True
                    break
                buf.append(line)
                written += len(line)
                if millis is not None:
                    records += 1
                    last_id = this_id
            out.write(b"".join(buf))
            copies += 1
    os.replace(tmp, out_path)
    rel = os.path.relpath(out_path, REPO)
    print(f"{rel}: {records} records, {written} bytes ({written / 1e6:.1f} MB), {copies} copies "
          f"(time shift {time_shift} ms, serial shift {serial_shift} per copy)")


if __name__ == "__main__":
    main()
