//! Container and pod identity from `/proc/PID/cgroup`, and namespace inode ids from
//! `/proc/PID/ns/*`.
//!
//! The recognisers are pure functions over the file's bytes; [`read_cgroup`], [`container_of`]
//! and [`read_namespaces`] fetch the bytes through a [`HostView`]. A path that names no known
//! runtime yields `None`, not an error: most processes of a host are in no container. This module
//! knows the cgroup naming of runtimes, not their APIs: it never asks a daemon for names or labels.

use std::path::PathBuf;

use crate::error::is_gone;
use crate::{Error, HostView};

/// The runtime whose cgroup naming a path matched.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Runtime {
    /// Docker (`/docker/<id>` with the cgroupfs driver, `docker-<id>.scope` with systemd).
    Docker,
    /// containerd: the CRI plugin (`cri-containerd-<id>.scope`) or nerdctl (`nerdctl-<id>.scope`).
    Containerd,
    /// CRI-O (`crio-<id>.scope`).
    CriO,
    /// Podman (`libpod-<id>.scope`).
    Podman,
    /// A Kubernetes container under the cgroupfs driver (`/kubepods/<qos>/pod<uid>/<id>`): the
    /// path does not name the runtime.
    Kubernetes,
    /// LXC 4+ (`lxc.payload.<name>`) or the legacy `/lxc/<name>`.
    Lxc,
    /// A systemd-machined machine (`machine.slice/machine-<name>.scope`), e.g. systemd-nspawn.
    Nspawn,
}

impl Runtime {
    /// Returns the runtime's stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Runtime::Docker => "docker",
            Runtime::Containerd => "containerd",
            Runtime::CriO => "cri-o",
            Runtime::Podman => "podman",
            Runtime::Kubernetes => "kubernetes",
            Runtime::Lxc => "lxc",
            Runtime::Nspawn => "nspawn",
        }
    }
}

/// The container a process runs in (or monitors).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Container {
    pub runtime: Runtime,
    /// The runtime's id: 64 lowercase hex digits for OCI runtimes, the name for LXC and machines.
    pub id: String,
    /// The Kubernetes pod UID, with dashes (`_` in systemd slice names is turned back into `-`).
    pub pod_uid: Option<String>,
    /// The process is the runtime's monitor for the container (`crio-conmon-<id>.scope`,
    /// `libpod-conmon-<id>.scope`), not a process inside it.
    pub monitor: bool,
}

/// One line of `/proc/PID/cgroup`: `hierarchy-ID:controller-list:path`; cgroup v2 is `0::path`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct CgroupLine<'a> {
    pub hierarchy: u32,
    pub controllers: &'a [u8],
    pub path: &'a [u8],
}

/// Splits `/proc/PID/cgroup` into lines; malformed lines are skipped.
///
/// The path is everything after the second colon: a cgroup name may itself contain colons.
pub fn parse_cgroup(content: &[u8]) -> Vec<CgroupLine<'_>> {
    content
        .split(|&b| b == b'\n')
        .filter_map(|line| {
            let first = line.iter().position(|&b| b == b':')?;
            let hierarchy = vocab::parse_u32(&line[..first])?;
            let rest = &line[first + 1..];
            let second = rest.iter().position(|&b| b == b':')?;
            Some(CgroupLine {
                hierarchy,
                controllers: &rest[..second],
                path: &rest[second + 1..],
            })
        })
        .collect()
}

/// Returns the cgroup v2 path (the `0::` line), if the process has one.
pub fn unified_path(content: &[u8]) -> Option<&[u8]> {
    parse_cgroup(content)
        .into_iter()
        .find(|l| l.hierarchy == 0 && l.controllers.is_empty())
        .map(|l| l.path)
}

/// Returns the container named by the first line of `/proc/PID/cgroup` whose path names one.
pub fn container_from_cgroup(content: &[u8]) -> Option<Container> {
    parse_cgroup(content)
        .iter()
        .find_map(|line| container_from_path(line.path))
}

/// Returns the container a single cgroup path names: the innermost runtime component wins, the
/// pod UID is taken from any component.
pub fn container_from_path(path: &[u8]) -> Option<Container> {
    let path = std::str::from_utf8(path).ok()?;
    let components: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    let mut pod_uid = None;
    let mut found: Option<(Runtime, String, bool)> = None;
    for (i, component) in components.iter().enumerate() {
        if let Some(uid) = pod_uid_of(&components[..i], component) {
            pod_uid = Some(uid);
            continue;
        }
        if let Some(hit) = runtime_component(&components[..i], component) {
            found = Some(hit);
        }
    }
    // Under the cgroupfs driver a Kubernetes container is a bare id below its pod.
    if found.is_none() && pod_uid.is_some() {
        if let Some(last) = components.last().filter(|c| is_container_id(c)) {
            found = Some((Runtime::Kubernetes, (*last).to_owned(), false));
        }
    }
    let (runtime, id, monitor) = found?;
    Some(Container {
        runtime,
        id,
        pod_uid,
        monitor,
    })
}

/// Recognises a pod component: `kubepods[-qos]-pod<uid>.slice` (systemd driver, `-` in the UID
/// escaped as `_`) or `pod<uid>` below `kubepods` (cgroupfs driver).
fn pod_uid_of(parents: &[&str], component: &str) -> Option<String> {
    let raw = if let Some(slice) = component
        .strip_prefix("kubepods-")
        .and_then(|c| c.strip_suffix(".slice"))
    {
        slice
            .rsplit_once('-')
            .map_or(slice, |(_, last)| last)
            .strip_prefix("pod")?
    } else if parents
        .iter()
        .any(|p| *p == "kubepods" || p.starts_with("kubepods."))
    {
        component.strip_prefix("pod")?
    } else {
        return None;
    };
    let uid = raw.replace('_', "-");
    is_pod_uid(&uid).then_some(uid)
}

/// Recognises a runtime's container component; returns (runtime, id, monitor).
fn runtime_component(parents: &[&str], component: &str) -> Option<(Runtime, String, bool)> {
    const SCOPES: [(&str, Runtime, bool); 7] = [
        ("docker-", Runtime::Docker, false),
        ("cri-containerd-", Runtime::Containerd, false),
        ("nerdctl-", Runtime::Containerd, false),
        ("crio-conmon-", Runtime::CriO, true),
        ("crio-", Runtime::CriO, false),
        ("libpod-conmon-", Runtime::Podman, true),
        ("libpod-", Runtime::Podman, false),
    ];
    if let Some(unit) = component.strip_suffix(".scope") {
        for (prefix, runtime, monitor) in SCOPES {
            if let Some(id) = unit.strip_prefix(prefix).filter(|id| is_container_id(id)) {
                return Some((runtime, id.to_owned(), monitor));
            }
        }
        if parents.last() == Some(&"machine.slice") {
            let name = unescape_unit(unit.strip_prefix("machine-")?);
            // libvirt registers its QEMU guests as machines too: virtual machines, not containers.
            return (!name.starts_with("qemu-")).then_some((Runtime::Nspawn, name, false));
        }
        return None;
    }
    if let Some(name) = component
        .strip_prefix("lxc.payload.")
        .filter(|n| !n.is_empty())
    {
        return Some((Runtime::Lxc, name.to_owned(), false));
    }
    match parents.last() {
        Some(&"docker") if is_container_id(component) => {
            Some((Runtime::Docker, component.to_owned(), false))
        }
        Some(&"lxc") if parents.len() == 1 => Some((Runtime::Lxc, component.to_owned(), false)),
        _ => None,
    }
}

/// Tells whether `s` is an OCI container id: 64 lowercase hex digits.
fn is_container_id(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Tells whether `s` is a pod UID: a UUID, or the 32 hex digits kubelet gives static pods.
fn is_pod_uid(s: &str) -> bool {
    let hex = |b: u8| b.is_ascii_hexdigit();
    match s.len() {
        36 => s.bytes().enumerate().all(|(i, b)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                b == b'-'
            } else {
                hex(b)
            }
        }),
        32 => s.bytes().all(hex),
        _ => false,
    }
}

/// Undoes systemd's unit name escaping (`\x2d` → `-`); an invalid escape is kept as it is.
fn unescape_unit(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && bytes.get(i + 1) == Some(&b'x') {
            if let Some(v) = bytes
                .get(i + 2..i + 4)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads `/proc/PID/cgroup`.
pub fn read_cgroup(host: &dyn HostView, pid: u32) -> Result<Vec<u8>, Error> {
    host.read_file(&PathBuf::from(format!("/proc/{pid}/cgroup")))
        .map_err(|source| {
            if is_gone(&source) {
                Error::ProcGone { pid }
            } else {
                Error::CgroupUnreadable { pid, source }
            }
        })
}

/// Returns the container process `pid` runs in, `Ok(None)` when it is in none.
pub fn container_of(host: &dyn HostView, pid: u32) -> Result<Option<Container>, Error> {
    Ok(container_from_cgroup(&read_cgroup(host, pid)?))
}

/// The inode numbers of a process's namespaces; a namespace the kernel does not have (or that
/// could not be read) is `None`.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct Namespaces {
    pub mnt: Option<u64>,
    pub pid: Option<u64>,
    pub net: Option<u64>,
    pub uts: Option<u64>,
    pub ipc: Option<u64>,
    pub user: Option<u64>,
    pub cgroup: Option<u64>,
}

/// The namespace kinds in `/proc/PID/ns`, in the order of [`Namespaces`]' fields.
pub const NAMESPACE_KINDS: [&str; 7] = ["mnt", "pid", "net", "uts", "ipc", "user", "cgroup"];

/// Parses a namespace link target such as `mnt:[4026531841]` for the given kind.
pub fn parse_namespace_link(kind: &str, target: &[u8]) -> Option<u64> {
    let rest = target
        .strip_prefix(kind.as_bytes())?
        .strip_prefix(b":[")?
        .strip_suffix(b"]")?;
    vocab::parse_u64(rest)
}

/// Reads the namespace links of process `pid`. Fails only when none could be read.
pub fn read_namespaces(host: &dyn HostView, pid: u32) -> Result<Namespaces, Error> {
    let mut ids = [None; 7];
    let mut last_error = None;
    for (slot, kind) in ids.iter_mut().zip(NAMESPACE_KINDS) {
        match host.read_link(&PathBuf::from(format!("/proc/{pid}/ns/{kind}"))) {
            Ok(target) => *slot = parse_namespace_link(kind, target.as_os_str().as_encoded_bytes()),
            Err(e) => last_error = Some(e),
        }
    }
    if ids.iter().all(Option::is_none) {
        if let Some(source) = last_error {
            return Err(if is_gone(&source) {
                Error::ProcGone { pid }
            } else {
                Error::NamespaceUnreadable { pid, source }
            });
        }
    }
    let [mnt, pid_ns, net, uts, ipc, user, cgroup] = ids;
    Ok(Namespaces {
        mnt,
        pid: pid_ns,
        net,
        uts,
        ipc,
        user,
        cgroup,
    })
}

#[cfg(test)]
mod tests;
