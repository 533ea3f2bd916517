//! The follower on real files: growing file, rotation by rename and by truncation, restarts from a
//! checkpoint, backfill, long lines and binary bytes — with exact lines, positions and notices.

mod support;

use follow::{Checkpoint, Config, Ending, Error, Follower, Notice};
use support::{append, drain, id, poll, position, rotate, texts, truncate, Dir, Got};

fn got(bytes: &[u8], id: follow::FileId, offset: u64, ending: Ending) -> Got {
    Got {
        bytes: bytes.to_vec(),
        file: id,
        offset,
        ending,
    }
}

#[test]
fn growing_file_holds_the_partial_last_line_until_it_is_completed() {
    let dir = Dir::new("growing");
    let log = dir.log();
    append(&log, b"type=A msg=1\ntype=B msg=2\ntype=C par");
    let file = id(&log);
    let mut follower = Follower::open(Config::new(&log), None).unwrap();

    let (lines, notices) = poll(&mut follower);
    assert_eq!(
        lines,
        [
            got(b"type=A msg=1", file, 13, Ending::Newline),
            got(b"type=B msg=2", file, 26, Ending::Newline)
        ]
    );
    assert_eq!(
        notices,
        [Notice::Opened {
            file,
            path: log.clone(),
            offset: 0
        }]
    );
    assert_eq!(follower.partial_len(), 10);
    assert_eq!(poll(&mut follower), (vec![], vec![]));

    append(&log, b"tial\n");
    assert_eq!(
        poll(&mut follower),
        (
            vec![got(b"type=C partial", file, 41, Ending::Newline)],
            vec![]
        )
    );

    append(&log, b"tail without newline");
    assert_eq!(poll(&mut follower), (vec![], vec![]));
    let flushed = follower.flush();
    let flushed: Vec<_> = flushed
        .lines()
        .map(|l| (l.bytes.to_vec(), l.position, l.ending))
        .collect();
    assert_eq!(
        flushed,
        [(
            b"tail without newline".to_vec(),
            position(&log, 61),
            Ending::Truncated
        )]
    );
    assert_eq!(follower.partial_len(), 0);
    assert!(follower.flush().is_empty());
}

#[test]
fn rotation_by_rename_while_writing_yields_every_line_once_in_order() {
    let dir = Dir::new("rename");
    let log = dir.log();
    append(&log, b"line 1\nline 2\nline 3\n");
    let old = id(&log);
    let mut follower = Follower::open(Config::new(&log), None).unwrap();
    assert_eq!(
        texts(&poll(&mut follower).0),
        ["line 1", "line 2", "line 3"]
    );

    // auditd writes a last line, renames, and a writer still holding the old file appends to it.
    append(&log, b"line 4\n");
    let mut writer = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    rotate(&log);
    std::io::Write::write_all(&mut writer, b"line 5\n").unwrap();

    // The new file does not exist yet: the old one is read on.
    let (lines, notices) = poll(&mut follower);
    assert_eq!(
        lines,
        [
            got(b"line 4", old, 28, Ending::Newline),
            got(b"line 5", old, 35, Ending::Newline)
        ]
    );
    assert_eq!(notices, []);

    append(&log, b"line 6\nline 7\n");
    let new = id(&log);
    let (lines, notices) = poll(&mut follower);
    assert_eq!(
        lines,
        [
            got(b"line 6", new, 7, Ending::Newline),
            got(b"line 7", new, 14, Ending::Newline)
        ]
    );
    assert_eq!(
        notices,
        [
            Notice::Finished {
                file: old,
                offset: 35
            },
            Notice::Opened {
                file: new,
                path: log.clone(),
                offset: 0
            }
        ]
    );
}

#[test]
fn rotation_with_new_file_already_written_finishes_the_old_file_first() {
    let dir = Dir::new("rename-fast");
    let log = dir.log();
    append(&log, b"a1\n");
    let mut follower = Follower::open(Config::new(&log), None).unwrap();
    assert_eq!(texts(&poll(&mut follower).0), ["a1"]);
    append(&log, b"a2\na3");
    rotate(&log);
    append(&log, b"b1\nb2\n");
    let (lines, _) = drain(&mut follower);
    assert_eq!(texts(&lines), ["a2", "a3", "b1", "b2"]);
    // The old file ended without `\n`: nothing will complete it.
    assert_eq!(lines[1].ending, Ending::Truncated);
    assert_eq!((lines[1].file, lines[1].offset), (id(&dir.rotated(1)), 8));
}

#[test]
fn truncation_restarts_at_zero_on_the_same_inode() {
    let dir = Dir::new("truncate");
    let log = dir.log();
    append(&log, b"old 1\nold 2\n");
    let file = id(&log);
    let mut follower = Follower::open(Config::new(&log), None).unwrap();
    assert_eq!(texts(&poll(&mut follower).0), ["old 1", "old 2"]);

    truncate(&log);
    let batch = follower.poll().unwrap();
    assert_eq!(
        batch.notices(),
        [Notice::Truncated {
            file,
            offset: 12,
            size: 0
        }]
    );
    // No line, but the position moved: a restart must not trust offset 12 any more.
    assert_eq!(
        (batch.len(), batch.checkpoint()),
        (0, Some(position(&log, 0)))
    );

    append(&log, b"new 1\n");
    assert_eq!(
        poll(&mut follower),
        (vec![got(b"new 1", file, 6, Ending::Newline)], vec![])
    );

    // Truncated again and refilled (to fewer bytes than were read) between two polls.
    truncate(&log);
    append(&log, b"x\n");
    let (lines, notices) = poll(&mut follower);
    assert_eq!(lines, [got(b"x", file, 2, Ending::Newline)]);
    assert_eq!(
        notices,
        [Notice::Truncated {
            file,
            offset: 6,
            size: 2
        }]
    );
    assert_eq!(id(&log), file);
}

#[test]
fn regression_two_rotations_before_the_new_file_exists() {
    let dir = Dir::new("two-rotations-missing");
    let log = dir.log();
    append(&log, b"a1\n");
    let mut follower = Follower::open(Config::new(&log), None).unwrap();
    assert_eq!(texts(&poll(&mut follower).0), ["a1"]);
    append(&log, b"a2\n");
    rotate(&log);
    append(&log, b"b1\n");
    rotate(&log);
    // audit.log is missing, but audit.log.1 is newer than the file being read.
    assert_eq!(texts(&drain(&mut follower).0), ["a2", "b1"]);
    append(&log, b"c1\n");
    assert_eq!(texts(&drain(&mut follower).0), ["c1"]);
}

#[test]
fn regression_two_rotations_between_polls() {
    let dir = Dir::new("two-rotations");
    let log = dir.log();
    append(&log, b"a1\n");
    let mut follower = Follower::open(Config::new(&log), None).unwrap();
    assert_eq!(texts(&poll(&mut follower).0), ["a1"]);
    append(&log, b"a2\n");
    rotate(&log);
    append(&log, b"b1\n");
    rotate(&log);
    append(&log, b"c1\n");
    let (a, b, c) = (id(&dir.rotated(2)), id(&dir.rotated(1)), id(&log));
    let (lines, notices) = drain(&mut follower);
    assert_eq!(texts(&lines), ["a2", "b1", "c1"]);
    assert_eq!(
        notices,
        [
            Notice::Finished { file: a, offset: 6 },
            Notice::Opened {
                file: b,
                path: dir.rotated(1),
                offset: 0
            },
            Notice::Opened {
                file: c,
                path: log.clone(),
                offset: 0
            },
            Notice::Finished { file: b, offset: 3 },
        ]
    );
}

#[test]
fn regression_file_created_and_rotated_before_it_was_first_seen() {
    let dir = Dir::new("rotated-unseen");
    let log = dir.log();
    append(&dir.rotated(1), b"there before the start\n");
    let mut follower = Follower::open(Config::new(&log), None).unwrap();
    assert_eq!(poll(&mut follower), (vec![], vec![]));
    append(&log, b"new 1\n");
    rotate(&log);
    append(&log, b"new 2\n");
    assert_eq!(texts(&drain(&mut follower).0), ["new 1", "new 2"]);
}

#[test]
fn restart_from_checkpoint_after_kill_yields_exactly_the_remaining_lines() {
    let dir = Dir::new("restart");
    let log = dir.log();
    append(&log, b"line 1\nline 2\nline 3\nline 4\nline 5\n");
    let file = id(&log);
    let config = Config {
        max_bytes_per_poll: 20,
        ..Config::new(&log)
    };

    let mut first = Follower::open(config.clone(), None).unwrap();
    let batch = first.poll().unwrap();
    assert_eq!(
        batch.lines().map(|l| l.bytes).collect::<Vec<_>>(),
        [b"line 1", b"line 2"]
    );
    batch
        .checkpoint()
        .unwrap()
        .store(&dir.checkpoint())
        .unwrap();
    // Read, but killed before handling it: not checkpointed.
    assert_eq!(texts(&poll(&mut first).0), ["line 3", "line 4", "line 5"]);
    drop(first);

    let checkpoint = Checkpoint::load(&dir.checkpoint()).unwrap();
    assert_eq!(checkpoint, Some(position(&log, 14)));
    let mut second = Follower::open(config.clone(), checkpoint).unwrap();
    let (lines, notices) = drain(&mut second);
    assert_eq!(
        lines,
        [
            got(b"line 3", file, 21, Ending::Newline),
            got(b"line 4", file, 28, Ending::Newline),
            got(b"line 5", file, 35, Ending::Newline)
        ]
    );
    assert_eq!(
        notices,
        [Notice::Opened {
            file,
            path: log.clone(),
            offset: 14
        }]
    );

    // Killed while holding a partial line: it is read again, whole, after the restart.
    append(&log, b"line 6 part");
    position(&log, 35).store(&dir.checkpoint()).unwrap();
    assert_eq!(drain(&mut second).0, []);
    drop(second);
    append(&log, b"ial\n");
    let mut third = Follower::open(config, Checkpoint::load(&dir.checkpoint()).unwrap()).unwrap();
    assert_eq!(
        drain(&mut third).0,
        [got(b"line 6 partial", file, 50, Ending::Newline)]
    );
}

#[test]
fn rotation_while_stopped_reads_the_rest_of_the_rotated_file_first() {
    let dir = Dir::new("stopped");
    let log = dir.log();
    append(&log, b"line 1\nline 2\nline 3\n");
    let old = id(&log);
    let mut follower = Follower::open(
        Config {
            max_bytes_per_poll: 14,
            ..Config::new(&log)
        },
        None,
    )
    .unwrap();
    let batch = follower.poll().unwrap();
    assert_eq!(batch.len(), 2);
    let checkpoint = batch.checkpoint().unwrap();
    drop(follower);

    append(&log, b"line 4\n");
    rotate(&log);
    append(&log, b"line 5\nline 6\n");
    let new = id(&log);

    let mut follower = Follower::open(Config::new(&log), Some(checkpoint)).unwrap();
    let (lines, notices) = drain(&mut follower);
    assert_eq!(
        lines,
        [
            got(b"line 3", old, 21, Ending::Newline),
            got(b"line 4", old, 28, Ending::Newline),
            got(b"line 5", new, 7, Ending::Newline),
            got(b"line 6", new, 14, Ending::Newline)
        ]
    );
    assert_eq!(
        notices,
        [
            Notice::Opened {
                file: old,
                path: dir.rotated(1),
                offset: 14
            },
            Notice::Opened {
                file: new,
                path: log.clone(),
                offset: 0
            },
            Notice::Finished {
                file: old,
                offset: 28
            },
        ]
    );
}

#[test]
fn two_rotations_while_stopped_read_every_newer_file_in_order() {
    let dir = Dir::new("stopped-twice");
    let log = dir.log();
    append(&log, b"a1\na2\n");
    append(&dir.rotated(1), b"older, handled\n");
    let mut follower = Follower::open(
        Config {
            max_bytes_per_poll: 3,
            ..Config::new(&log)
        },
        None,
    )
    .unwrap();
    let checkpoint = follower.poll().unwrap().checkpoint().unwrap();
    drop(follower);

    rotate(&log);
    append(&log, b"b1\n");
    rotate(&log);
    append(&log, b"c1\n");
    assert!(dir.rotated(3).exists());

    let mut follower = Follower::open(Config::new(&log), Some(checkpoint)).unwrap();
    assert_eq!(texts(&drain(&mut follower).0), ["a2", "b1", "c1"]);
}

#[test]
fn checkpointed_file_deleted_while_stopped_reports_a_possible_gap_and_reads_what_is_left() {
    let dir = Dir::new("gap");
    let log = dir.log();
    append(&log, b"lost\n");
    let mut follower = Follower::open(Config::new(&log), None).unwrap();
    let checkpoint = follower.poll().unwrap().checkpoint().unwrap();
    drop(follower);

    rotate(&log);
    append(&log, b"kept 1\n");
    rotate(&log);
    // The new file is created before the old one is deleted: a reused inode would look like the
    // checkpointed file (a limit of (dev, inode) identity).
    append(&log, b"kept 2\n");
    std::fs::remove_file(dir.rotated(2)).unwrap();

    let mut follower = Follower::open(Config::new(&log), Some(checkpoint)).unwrap();
    let (lines, notices) = drain(&mut follower);
    assert_eq!(texts(&lines), ["kept 1", "kept 2"]);
    assert_eq!(notices[0], Notice::PossibleGap { checkpoint });
}

#[test]
fn truncated_while_stopped_restarts_at_zero() {
    let dir = Dir::new("truncated-stopped");
    let log = dir.log();
    let old: Vec<u8> = (0..10)
        .flat_map(|i| format!("type=OLD msg=audit(1700000000.{i:03}:{i}): x\n").into_bytes())
        .collect();
    append(&log, &old);
    let file = id(&log);
    let checkpoint = position(&log, 300);

    // Cut to 100 bytes: the first bytes are the same file, the offset is beyond its end.
    std::fs::OpenOptions::new()
        .write(true)
        .open(&log)
        .unwrap()
        .set_len(100)
        .unwrap();
    let mut follower = Follower::open(Config::new(&log), Some(checkpoint)).unwrap();
    let (lines, notices) = drain(&mut follower);
    assert_eq!(
        texts(&lines),
        [
            "type=OLD msg=audit(1700000000.000:0): x",
            "type=OLD msg=audit(1700000000.001:1): x"
        ]
    );
    assert_eq!(
        notices,
        [
            Notice::Truncated {
                file,
                offset: 300,
                size: 100
            },
            Notice::Opened {
                file,
                path: log.clone(),
                offset: 0
            }
        ]
    );
}

#[test]
fn regression_an_inode_given_to_a_new_file_is_not_taken_for_the_checkpointed_one() {
    // auditd deletes the oldest rotated file and creates audit.log right after: the new file
    // often gets the deleted file's inode. Simulated on one inode: the bytes are all new.
    let dir = Dir::new("inode-reused");
    let log = dir.log();
    let old: Vec<u8> = (0..10)
        .flat_map(|i| format!("type=OLD msg=audit(1700000000.{i:03}:{i}): x\n").into_bytes())
        .collect();
    append(&log, &old);
    let checkpoint = position(&log, 200);
    truncate(&log);
    let new: Vec<u8> = (0..10)
        .flat_map(|i| format!("type=NEW msg=audit(1800000000.{i:03}:{i}): y\n").into_bytes())
        .collect();
    append(&log, &new);
    assert_eq!(id(&log), checkpoint.file());

    let mut follower = Follower::open(Config::new(&log), Some(checkpoint)).unwrap();
    let (lines, notices) = drain(&mut follower);
    assert_eq!(lines.len(), 10, "every line of the new file, from 0");
    assert_eq!(texts(&lines)[0], "type=NEW msg=audit(1800000000.000:0): y");
    assert_eq!(notices[0], Notice::PossibleGap { checkpoint });
}

#[test]
fn backfill_reads_rotated_files_oldest_first() {
    let dir = Dir::new("backfill");
    let log = dir.log();
    append(&dir.rotated(10), b"ten\n");
    append(&dir.rotated(3), b"three\n");
    append(&dir.rotated(2), b"two a\ntwo b\n");
    append(&dir.rotated(1), b"one\n");
    append(&log, b"live\n");
    append(&dir.path.join("audit.log.bak"), b"not rotated\n");
    append(&dir.path.join("audit.log.01"), b"not rotated\n");
    append(&dir.path.join("audit.log.1.gz"), b"not rotated\n");

    let backfill = Config {
        backfill_rotated: true,
        ..Config::new(&log)
    };
    let mut follower = Follower::open(backfill, None).unwrap();
    assert_eq!(
        texts(&drain(&mut follower).0),
        ["ten", "three", "two a", "two b", "one", "live"]
    );

    let mut follower = Follower::open(Config::new(&log), None).unwrap();
    assert_eq!(texts(&drain(&mut follower).0), ["live"]);
}

#[test]
fn a_ten_megabyte_line_comes_through_whole() {
    let dir = Dir::new("long");
    let log = dir.log();
    let long: Vec<u8> = (0..10 * 1024 * 1024)
        .map(|i| b'a' + (i % 26) as u8)
        .collect();
    append(&log, &long[..3_000_000]);
    let file = id(&log);
    let mut follower = Follower::open(
        Config {
            max_bytes_per_poll: 1 << 20,
            ..Config::new(&log)
        },
        None,
    )
    .unwrap();
    assert_eq!(drain(&mut follower).0, []);
    assert_eq!(follower.partial_len(), 3_000_000);
    append(&log, &long[3_000_000..]);
    append(&log, b"\nafter\n");
    let (lines, _) = drain(&mut follower);
    assert_eq!(lines.len(), 2);
    assert!(lines[0].bytes == long, "the long line differs");
    assert_eq!(
        (lines[0].file, lines[0].offset, lines[0].ending),
        (file, 10_485_761, Ending::Newline)
    );
    assert_eq!(lines[1], got(b"after", file, 10_485_767, Ending::Newline));
}

#[test]
fn lines_longer_than_the_limit_are_split_with_exact_positions_whatever_the_read_size() {
    let dir = Dir::new("split");
    let log = dir.log();
    append(&log, b"abcdefghij\nxy\n0123456789abc");
    let file = id(&log);
    for chunk_bytes in [1, 2, 3, 4, 5, 7, 64] {
        let config = Config {
            chunk_bytes,
            max_line_bytes: 4,
            ..Config::new(&log)
        };
        let mut follower = Follower::open(config, None).unwrap();
        let (lines, _) = drain(&mut follower);
        let expected = [
            got(b"abcd", file, 4, Ending::Split),
            got(b"efgh", file, 8, Ending::Split),
            got(b"ij", file, 11, Ending::Newline),
            got(b"xy", file, 14, Ending::Newline),
            got(b"0123", file, 18, Ending::Split),
            got(b"4567", file, 22, Ending::Split),
            got(b"89ab", file, 26, Ending::Split),
        ];
        assert_eq!(lines, expected, "chunk_bytes {chunk_bytes}");
        // At most `max_line_bytes` are held.
        assert_eq!(follower.partial_len(), 1, "chunk_bytes {chunk_bytes}");
    }
}

#[test]
fn binary_garbage_passes_through_as_bytes() {
    let dir = Dir::new("binary");
    let log = dir.log();
    let garbage: Vec<u8> = (0..=255u8).filter(|&b| b != b'\n').collect();
    let mut input = garbage.clone();
    input.extend_from_slice(b"\n\xff\xfe\x00\r\x1d\n\n");
    append(&log, &input);
    let mut follower = Follower::open(Config::new(&log), None).unwrap();
    let (lines, _) = drain(&mut follower);
    let bytes: Vec<&[u8]> = lines.iter().map(|l| l.bytes.as_slice()).collect();
    assert_eq!(bytes, [&garbage[..], b"\xff\xfe\x00\r\x1d", b""]);
}

#[test]
fn a_missing_file_is_waited_for() {
    let dir = Dir::new("missing");
    let log = dir.log();
    let mut follower = Follower::open(Config::new(&log), None).unwrap();
    assert_eq!(poll(&mut follower), (vec![], vec![]));
    assert_eq!(follower.read_position(), None);
    append(&log, b"hello\n");
    let file = id(&log);
    assert_eq!(
        poll(&mut follower),
        (
            vec![got(b"hello", file, 6, Ending::Newline)],
            vec![Notice::Opened {
                file,
                path: log.clone(),
                offset: 0
            }]
        )
    );
}

#[test]
fn checkpoint_files_round_trip_and_bad_ones_are_named() {
    let dir = Dir::new("checkpoint");
    let path = dir.checkpoint();
    assert_eq!(Checkpoint::load(&path).unwrap(), None);
    let checkpoint = Checkpoint {
        head: 0x0123_4567_89ab_cdef,
        dev: 64768,
        inode: 131_073,
        offset: 987_654_321,
    };
    checkpoint.store(&path).unwrap();
    assert_eq!(Checkpoint::load(&path).unwrap(), Some(checkpoint));
    Checkpoint {
        offset: 1,
        ..checkpoint
    }
    .store(&path)
    .unwrap();
    assert_eq!(
        Checkpoint::load(&path).unwrap(),
        Some(Checkpoint {
            offset: 1,
            ..checkpoint
        })
    );
    let names: Vec<_> = std::fs::read_dir(&dir.path)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["follow.checkpoint"]);

    std::fs::write(&path, b"dev 1\n").unwrap();
    match Checkpoint::load(&path) {
        Err(Error::BadCheckpoint { path: p, reason }) => {
            assert_eq!((p, reason), (path.clone(), "missing or unknown header"))
        }
        other => panic!("expected BadCheckpoint, got {other:?}"),
    }
    std::fs::write(&path, b"\xff\xfe").unwrap();
    match Checkpoint::load(&path) {
        Err(Error::BadCheckpoint { reason, .. }) => assert_eq!(reason, "not UTF-8"),
        other => panic!("expected BadCheckpoint, got {other:?}"),
    }
}
