//! `auditmesh-loadgen`: spawns a program (default `/bin/true`) at a fixed rate for a fixed time
//! and prints what it achieved as one JSON object on stdout — the load of the host-agent
//! benchmarks (`bench/agent.sh`).
//!
//! Spawner threads follow an absolute schedule (`schedule`): each sleeps until its next tick's
//! deadline with `clock_nanosleep(TIMER_ABSTIME)` and spawns with `posix_spawn` (glibc's is
//! `clone(CLONE_VM | CLONE_VFORK)`: no page-table copy, so 5,000+ spawns/s fit on two cores). A
//! late tick is spawned at once, so a short stall is caught up; ticks still unspawned at twice
//! the duration are skipped and counted. One reaper thread waits for every child. It is not a
//! benchmark of its own and measures nothing but its schedule.

mod schedule;

use std::ffi::{CString, OsString};
use std::os::unix::ffi::OsStrExt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;

use schedule::{fell_behind, lag_ns, spawner_threads, Schedule};

/// Spawns a program at a fixed rate and reports the achieved rate as JSON.
#[derive(Parser, Debug)]
#[command(name = "auditmesh-loadgen", version)]
struct Args {
    /// Spawns per second.
    #[arg(long, default_value_t = 1000)]
    rate: u64,
    /// Length of the run in seconds (fractions allowed).
    #[arg(long, default_value_t = 30.0)]
    duration: f64,
    /// Spawner threads (0 = one per 1,500 spawns/s, at most 8).
    #[arg(long, default_value_t = 0)]
    threads: u64,
    /// Program to spawn, with its arguments after `--`.
    #[arg(default_value = "/bin/true")]
    program: Vec<OsString>,
}

/// What one spawner thread did.
#[derive(Default)]
struct SpawnerReport {
    spawned: u64,
    errors: u64,
    first_error: Option<i32>,
    skipped: u64,
    late_over_1ms: u64,
    max_lag_ns: u64,
    sum_lag_ns: u128,
    last_spawn_ns: u64,
}

fn now_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid out-pointer; CLOCK_MONOTONIC always exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn sleep_until_ns(deadline: u64) {
    let ts = libc::timespec {
        tv_sec: (deadline / 1_000_000_000) as libc::time_t,
        tv_nsec: (deadline % 1_000_000_000) as libc::c_long,
    };
    loop {
        // SAFETY: `ts` is a valid timespec; no remainder is needed with TIMER_ABSTIME.
        let rc = unsafe {
            libc::clock_nanosleep(libc::CLOCK_MONOTONIC, libc::TIMER_ABSTIME, &ts, std::ptr::null_mut())
        };
        if rc != libc::EINTR {
            return;
        }
    }
}

/// The program's argv and the environment, as C pointers kept alive by their owners.
struct Command {
    path: CString,
    _args: Vec<CString>,
    argv: Vec<*mut libc::c_char>,
}

// SAFETY: the pointers in `argv` point into `_args`, which `Command` owns and never mutates.
unsafe impl Send for Command {}
unsafe impl Sync for Command {}

impl Command {
    fn new(program: &[OsString]) -> Result<Command, String> {
        let args: Vec<CString> = program
            .iter()
            .map(|a| CString::new(a.as_bytes()).map_err(|_| format!("argument {a:?} contains a NUL byte")))
            .collect::<Result<_, _>>()?;
        let path = args[0].clone();
        let mut argv: Vec<*mut libc::c_char> = args.iter().map(|a| a.as_ptr() as *mut libc::c_char).collect();
        argv.push(std::ptr::null_mut());
        Ok(Command { path, _args: args, argv })
    }

    /// Spawns the program once; returns the errno on failure.
    fn spawn(&self) -> Result<(), i32> {
        extern "C" {
            static environ: *const *mut libc::c_char;
        }
        let mut pid: libc::pid_t = 0;
        // SAFETY: path and argv are NUL-terminated and outlive the call; environ is the
        // process's environment, which nothing in this program modifies.
        let rc = unsafe {
            libc::posix_spawn(&mut pid, self.path.as_ptr(), std::ptr::null(), std::ptr::null(), self.argv.as_ptr(), environ)
        };
        if rc == 0 {
            Ok(())
        } else {
            Err(rc)
        }
    }
}

fn spawner(cmd: &Command, sched: Schedule, thread: u64, threads: u64, start: u64, cutoff: u64) -> SpawnerReport {
    let mut r = SpawnerReport::default();
    for k in sched.ticks_of(thread, threads) {
        let due = start + sched.due_ns(k);
        let mut now = now_ns();
        if now < due {
            sleep_until_ns(due);
            now = now_ns();
        }
        if now >= cutoff {
            r.skipped += 1;
            continue;
        }
        let lag = lag_ns(due, now);
        r.max_lag_ns = r.max_lag_ns.max(lag);
        r.sum_lag_ns += u128::from(lag);
        if lag > 1_000_000 {
            r.late_over_1ms += 1;
        }
        match cmd.spawn() {
            Ok(()) => r.spawned += 1,
            Err(e) => {
                r.errors += 1;
                r.first_error.get_or_insert(e);
            }
        }
        r.last_spawn_ns = now_ns();
    }
    r
}

/// Waits for children until `done` is set and none is left; returns (exited 0, other).
fn reaper(done: &AtomicBool, ok: &AtomicU64, failed: &AtomicU64) {
    loop {
        let mut status = 0;
        // SAFETY: plain waitpid on any child with a valid status pointer.
        let pid = unsafe { libc::waitpid(-1, &mut status, 0) };
        if pid > 0 {
            if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
                ok.fetch_add(1, Ordering::Relaxed);
            } else {
                failed.fetch_add(1, Ordering::Relaxed);
            }
            continue;
        }
        let err = std::io::Error::last_os_error().raw_os_error();
        if err == Some(libc::EINTR) {
            continue;
        }
        // ECHILD: no child right now.
        if done.load(Ordering::Acquire) {
            return;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn json_string(s: &[u8]) -> String {
    let mut out = String::from("\"");
    for ch in String::from_utf8_lossy(s).chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn main() {
    let args = Args::parse();
    if !(args.duration > 0.0 && args.duration.is_finite()) || args.rate == 0 {
        eprintln!("auditmesh-loadgen: --rate and --duration must be positive");
        std::process::exit(2);
    }
    let cmd = match Command::new(&args.program) {
        Ok(c) => Arc::new(c),
        Err(e) => {
            eprintln!("auditmesh-loadgen: {e}");
            std::process::exit(2);
        }
    };
    let duration_ms = (args.duration * 1000.0).round() as u64;
    let sched = Schedule::new(args.rate, duration_ms);
    let threads = spawner_threads(args.rate, args.threads);

    let done = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let reap = {
        let (done, ok, failed) = (done.clone(), ok.clone(), failed.clone());
        std::thread::spawn(move || reaper(&done, &ok, &failed))
    };

    // Start a little in the future so that every spawner is waiting when tick 0 is due.
    let start = now_ns() + 20_000_000;
    let cutoff = start + 2 * duration_ms * 1_000_000;
    let spawners: Vec<_> = (0..threads)
        .map(|t| {
            let cmd = cmd.clone();
            std::thread::spawn(move || spawner(&cmd, sched, t, threads, start, cutoff))
        })
        .collect();
    let reports: Vec<SpawnerReport> = spawners.into_iter().map(|h| h.join().expect("spawner thread panicked")).collect();
    let spawn_end = reports.iter().map(|r| r.last_spawn_ns).max().unwrap_or(start).max(start + duration_ms * 1_000_000);
    done.store(true, Ordering::Release);
    reap.join().expect("reaper thread panicked");
    let reaped_at = now_ns();

    let spawned: u64 = reports.iter().map(|r| r.spawned).sum();
    let errors: u64 = reports.iter().map(|r| r.errors).sum();
    let skipped: u64 = reports.iter().map(|r| r.skipped).sum();
    let late: u64 = reports.iter().map(|r| r.late_over_1ms).sum();
    let max_lag = reports.iter().map(|r| r.max_lag_ns).max().unwrap_or(0);
    let sum_lag: u128 = reports.iter().map(|r| r.sum_lag_ns).sum();
    let first_error = reports.iter().find_map(|r| r.first_error);
    let elapsed_s = (spawn_end - start) as f64 / 1e9;
    let achieved = spawned as f64 / elapsed_s;
    let behind = fell_behind(args.rate, achieved, skipped) || errors > 0;
    let attempted = spawned + errors;
    let mean_lag_ms = if attempted > 0 { sum_lag as f64 / attempted as f64 / 1e6 } else { 0.0 };

    println!(
        "{{\"program\":{},\"pid\":{},\"rate\":{},\"duration_s\":{},\"threads\":{},\"planned\":{},\"spawned\":{},\
         \"spawn_errors\":{},\"first_spawn_errno\":{},\"skipped\":{},\"exited_ok\":{},\"exited_failed\":{},\
         \"elapsed_s\":{:.3},\"reaped_after_s\":{:.3},\"achieved_rate\":{:.1},\"late_over_1ms\":{},\
         \"mean_lag_ms\":{:.3},\"max_lag_ms\":{:.3},\"fell_behind\":{}}}",
        json_string(cmd.path.as_bytes()),
        std::process::id(),
        args.rate,
        args.duration,
        threads,
        sched.total,
        spawned,
        errors,
        first_error.map_or("null".to_string(), |e| e.to_string()),
        skipped,
        ok.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed),
        elapsed_s,
        (reaped_at - start) as f64 / 1e9,
        achieved,
        late,
        mean_lag_ms,
        max_lag as f64 / 1e6,
        behind,
    );
    if behind {
        eprintln!(
            "auditmesh-loadgen: fell behind: {spawned} of {} spawned in {elapsed_s:.3} s ({achieved:.1}/s for {}/s asked), \
             {skipped} skipped, {errors} spawn errors",
            sched.total, args.rate
        );
    }
}
