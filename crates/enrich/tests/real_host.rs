//! Enrichment against the real host through `ProcFs`: this process in `/proc/self`, a real
//! cgroup v2 child made for the test with a process moved into it, and real namespaces made with
//! `unshare`. These run as root (CI does); they are never skipped.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, SystemTime};

use enrich::container::{container_of, read_cgroup, read_namespaces, unified_path};
use enrich::process_table::Config;
use enrich::{Container, Counters, HostIdentity, ProcFs, ProcessTable, Runtime, UserNames};

fn unique(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}-{}-{nanos}", std::process::id())
}

fn is_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .is_some_and(|ids| ids.split_whitespace().nth(1) == Some("0"))
}

#[test]
fn namespaces_of_this_process_match_the_inodes_of_its_ns_files() {
    let ns = read_namespaces(&ProcFs::new(), std::process::id()).unwrap();
    let inode = |kind: &str| Some(fs::metadata(format!("/proc/self/ns/{kind}")).unwrap().ino());
    assert_eq!(ns.mnt, inode("mnt"));
    assert_eq!(ns.pid, inode("pid"));
    assert_eq!(ns.net, inode("net"));
    assert_eq!(ns.uts, inode("uts"));
    assert_eq!(ns.ipc, inode("ipc"));
    assert_eq!(ns.user, inode("user"));
    assert_eq!(ns.cgroup, inode("cgroup"));
}

#[test]
fn seeding_from_the_real_proc_finds_this_process_and_its_parent() {
    let mut table = ProcessTable::new(Config::default());
    let mut counters = Counters::default();
    let added = table.seed_from_proc(&ProcFs::new(), &mut counters).unwrap();
    assert!(added >= 2, "{added}");
    let me = table.get(std::process::id()).unwrap();
    let exe = fs::read_link("/proc/self/exe").unwrap();
    assert_eq!(me.exe, exe.into_os_string().into_encoded_bytes());
    assert_eq!(me.ppid, std::os::unix::process::parent_id());
    let argv: Vec<Vec<u8>> = std::env::args_os()
        .map(|a| a.into_encoded_bytes())
        .collect();
    assert_eq!(me.argv, argv);
    let parent = table.parent_of(std::process::id()).unwrap();
    assert_eq!(parent.pid, std::os::unix::process::parent_id());
    assert!(me.exec_time.is_some());
    // Saved and restored, the table still knows this process.
    let restored = ProcessTable::restore(&table.save(), Config::default()).unwrap();
    assert_eq!(
        restored.get(std::process::id()),
        table.get(std::process::id())
    );
}

#[test]
fn host_identity_and_user_names_on_the_real_host() {
    let dir = std::env::temp_dir().join(unique("auditmesh-enrich-state"));
    fs::create_dir(&dir).unwrap();
    let host = ProcFs::new();
    let first = HostIdentity::load(&host, &dir).unwrap();
    let second = HostIdentity::load(&host, &dir).unwrap();
    fs::remove_dir_all(&dir).unwrap();
    assert_eq!(first, second);
    assert_eq!(
        first.boot_id,
        fs::read_to_string("/proc/sys/kernel/random/boot_id")
            .unwrap()
            .trim()
    );
    assert_eq!(
        first.hostname,
        fs::read_to_string("/proc/sys/kernel/hostname")
            .unwrap()
            .trim()
    );
    assert_eq!(first.host_uuid.len(), 36);

    let mut names = UserNames::new(enrich::users::Config::default());
    let mut counters = Counters::default();
    assert_eq!(names.resolve_user(&host, 0, 0, &mut counters), Some("root"));
    assert_eq!(
        names.resolve_group(&host, 0, 0, &mut counters),
        Some("root")
    );
    assert_eq!(
        names.resolve_user(&host, 4_000_000_000, 0, &mut counters),
        None
    );
    assert_eq!(counters.get(enrich::Counter::UserUnknown), 1);
}

/// Returns where cgroup v2 is mounted (`/sys/fs/cgroup` on a unified host, often
/// `/sys/fs/cgroup/unified` on a hybrid one), from `/proc/self/mountinfo`.
fn cgroup2_mount() -> Option<PathBuf> {
    fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .find_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            if right.split(' ').next() != Some("cgroup2") {
                return None;
            }
            left.split(' ').nth(4).map(PathBuf::from)
        })
}

/// A cgroup made for one test, with the processes moved into it; Drop kills them and removes it.
struct CgroupGuard {
    dirs: Vec<PathBuf>,
    children: Vec<Child>,
}

impl Drop for CgroupGuard {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        for dir in self.dirs.iter().rev() {
            // The kernel empties a cgroup shortly after its last process is reaped.
            for _ in 0..100 {
                if fs::remove_dir(dir).is_ok() || !dir.exists() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

#[test]
fn a_process_moved_into_a_real_cgroup_is_seen_there() {
    assert!(
        is_root(),
        "this test makes cgroups and must run as root (CI does)"
    );
    let mount = cgroup2_mount().expect("cgroup v2 is mounted");
    let name = unique("auditmesh-enrich-test");
    let id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let parent = mount.join(&name);
    let leaf = parent.join(format!("docker-{id}.scope"));
    let mut guard = CgroupGuard {
        dirs: Vec::new(),
        children: Vec::new(),
    };
    fs::create_dir(&parent).unwrap();
    guard.dirs.push(parent.clone());
    fs::create_dir(&leaf).unwrap();
    guard.dirs.push(leaf.clone());
    let child = Command::new("sleep").arg("5").spawn().unwrap();
    let pid = child.id();
    guard.children.push(child);
    fs::write(leaf.join("cgroup.procs"), pid.to_string()).unwrap();

    let host = ProcFs::new();
    let content = read_cgroup(&host, pid).unwrap();
    let expected = format!("/{name}/docker-{id}.scope");
    assert_eq!(
        unified_path(&content),
        Some(expected.as_bytes()),
        "{}",
        String::from_utf8_lossy(&content)
    );
    assert_eq!(
        container_of(&host, pid).unwrap(),
        Some(Container {
            runtime: Runtime::Docker,
            id: id.to_owned(),
            pod_uid: None,
            monitor: false
        })
    );
    // The kernel lists the process in the cgroup too.
    assert_eq!(
        fs::read_to_string(leaf.join("cgroup.procs"))
            .unwrap()
            .trim(),
        pid.to_string()
    );

    drop(guard);
    assert!(!Path::new(&parent).exists());
    assert!(matches!(
        read_cgroup(&host, pid),
        Err(enrich::Error::ProcGone { .. })
    ));
}

#[test]
fn a_process_in_new_namespaces_has_other_namespace_ids() {
    assert!(
        is_root(),
        "this test makes namespaces and must run as root (CI does)"
    );
    let mut child = Command::new("unshare")
        .args(["--uts", "--net", "--ipc", "sleep", "5"])
        .spawn()
        .unwrap();
    let pid = child.id();
    let host = ProcFs::new();
    let mine = read_namespaces(&host, std::process::id()).unwrap();
    // unshare execs sleep in place once the namespaces exist; wait for the exec.
    let mut theirs = read_namespaces(&host, pid).unwrap();
    for _ in 0..200 {
        if fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| exe.ends_with("sleep")) {
            theirs = read_namespaces(&host, pid).unwrap();
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_ne!(theirs.uts, mine.uts);
    assert_ne!(theirs.net, mine.net);
    assert_ne!(theirs.ipc, mine.ipc);
    assert_eq!(theirs.mnt, mine.mnt);
    assert_eq!(theirs.pid, mine.pid);
    assert!(theirs.uts.is_some() && theirs.net.is_some());
}
