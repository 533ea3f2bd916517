//! The exactly-once property: random lines written in random pieces, with rotations by rename,
//! truncations, polls with random budgets, and kills (with or without a batch read but not
//! handled) followed by restarts from the last checkpoint. The caller handles each batch and then
//! checkpoints `Batch::checkpoint`, atomically with handling (as a caller that stores the
//! checkpoint after each durably handled batch does).
//!
//! What is asserted: the handled lines, concatenated, are exactly the written lines, once each, in
//! order, all ending with `\n`. Preconditions, which are the follower's documented limits:
//! rotations and truncations happen at line boundaries (auditd writes whole lines), and a
//! truncation happens when the follower has caught up and is polled before the next write (a
//! truncation followed by writes past the old position before a poll cannot be seen by polling).
//! Rotated files are never deleted (deleting one the follower has not read loses lines by design).

mod support;

use follow::{Checkpoint, Config, Ending, Follower};
use proptest::prelude::*;
use support::{append, rotate, truncate, Dir};

#[derive(Debug, Clone)]
enum Op {
    /// Writes the next `n` bytes of the stream (a piece may end mid-line).
    Write(usize),
    Poll,
    /// Completes the current line, then renames audit.log to audit.log.1 (shifting the others).
    Rotate,
    /// Completes the current line, lets the follower catch up, truncates audit.log, polls.
    Truncate,
    /// Kills the follower and starts a new one from the checkpoint.
    Restart,
    /// Polls, is killed before handling the batch, and restarts from the checkpoint.
    KillAfterRead,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (1usize..120).prop_map(Op::Write),
        4 => Just(Op::Poll),
        1 => Just(Op::Rotate),
        1 => Just(Op::Truncate),
        1 => Just(Op::Restart),
        1 => Just(Op::KillAfterRead),
    ]
}

fn line() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => proptest::collection::vec(b'a'..=b'z', 0..30),
        1 => proptest::collection::vec(any::<u8>().prop_filter("no newline", |b| *b != b'\n'), 0..30),
    ]
}

struct Caller {
    config: Config,
    follower: Follower,
    checkpoint: Option<Checkpoint>,
    handled: Vec<Vec<u8>>,
}

impl Caller {
    fn poll(&mut self) -> bool {
        let before = self.follower.read_position();
        let batch = self.follower.poll().unwrap();
        for line in batch.lines() {
            assert_eq!(
                line.ending,
                Ending::Newline,
                "line {:?}",
                String::from_utf8_lossy(line.bytes)
            );
            self.handled.push(line.bytes.to_vec());
        }
        if let Some(checkpoint) = batch.checkpoint() {
            self.checkpoint = Some(checkpoint);
        }
        !batch.is_empty() || !batch.notices().is_empty() || self.follower.read_position() != before
    }

    fn drain(&mut self) {
        while self.poll() {}
    }

    fn restart(&mut self) {
        self.follower = Follower::open(self.config.clone(), self.checkpoint).unwrap();
    }
}

fn run(lines: &[Vec<u8>], ops: &[Op], chunk_bytes: usize, max_bytes_per_poll: usize) {
    let dir = Dir::new("property");
    let log = dir.log();
    let stream: Vec<u8> = lines
        .iter()
        .flat_map(|l| l.iter().copied().chain([b'\n']))
        .collect();
    let mut written = 0;
    // A restart before any checkpoint is a first start: with backfill, it reads every file,
    // which is right because nothing was handled yet.
    let config = Config {
        chunk_bytes,
        max_bytes_per_poll,
        backfill_rotated: true,
        ..Config::new(&log)
    };
    let follower = Follower::open(config.clone(), None).unwrap();
    let mut caller = Caller {
        config,
        follower,
        checkpoint: None,
        handled: Vec::new(),
    };

    let complete_line = |written: &mut usize| {
        if *written > 0 && stream[*written - 1] != b'\n' {
            let end = *written + memchr::memchr(b'\n', &stream[*written..]).unwrap() + 1;
            append(&log, &stream[*written..end]);
            *written = end;
        }
    };
    for op in ops {
        match op {
            Op::Write(n) => {
                let end = (written + n).min(stream.len());
                if end > written {
                    append(&log, &stream[written..end]);
                    written = end;
                }
            }
            Op::Poll => {
                caller.poll();
            }
            Op::Rotate => {
                complete_line(&mut written);
                if log.exists() {
                    rotate(&log);
                }
            }
            Op::Truncate => {
                complete_line(&mut written);
                caller.drain();
                if log.exists() {
                    truncate(&log);
                }
                caller.poll();
            }
            Op::Restart => caller.restart(),
            Op::KillAfterRead => {
                caller.follower.poll().unwrap();
                caller.restart();
            }
        }
    }
    if written < stream.len() {
        append(&log, &stream[written..]);
    }
    caller.drain();
    assert_eq!(caller.follower.partial_len(), 0);
    assert!(
        caller.handled == lines,
        "handled {:?}\nwritten {:?}",
        caller.handled,
        lines
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn every_written_line_is_handled_exactly_once_in_order(
        lines in proptest::collection::vec(line(), 0..60),
        ops in proptest::collection::vec(op(), 0..60),
        chunk_bytes in 1usize..64,
        max_bytes_per_poll in 1usize..200,
    ) {
        run(&lines, &ops, chunk_bytes, max_bytes_per_poll);
    }
}
