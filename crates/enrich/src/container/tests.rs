//! Tests of container recognition on `/proc/PID/cgroup` content shaped exactly like what each
//! runtime writes, with the source of each format, and of namespace links.

use super::*;
use crate::FakeHost;

const ID: &str = "8c4a3f0b2e5d47a19f6c3b8e0d2a7f51c9e4b6d8a0f3c5e7b9d1a2c4e6f8b0d2";
const POD: &str = "6f3d2a1b-4c5e-4f70-8a9b-0c1d2e3f4a5b";
const POD_ESCAPED: &str = "6f3d2a1b_4c5e_4f70_8a9b_0c1d2e3f4a5b";

fn check(content: &str, expected: Option<(Runtime, &str, Option<&str>, bool)>) {
    let expected = expected.map(|(runtime, id, pod, monitor)| Container {
        runtime,
        id: id.to_owned(),
        pod_uid: pod.map(str::to_owned),
        monitor,
    });
    assert_eq!(
        container_from_cgroup(content.as_bytes()),
        expected,
        "{content}"
    );
}

/// Docker, cgroupfs driver, cgroup v1: moby's default cgroup parent is `/docker` and runc's fs
/// driver joins parent and container id (moby `daemon/daemon_unix.go`, `cgroupParent = "/docker"`).
#[test]
fn docker_cgroupfs_v1() {
    let content = format!(
        "12:pids:/docker/{ID}\n11:memory:/docker/{ID}\n4:cpu,cpuacct:/docker/{ID}\n1:name=systemd:/docker/{ID}\n0::/system.slice/containerd.service\n"
    );
    check(&content, Some((Runtime::Docker, ID, None, false)));
}

/// Docker, systemd driver, cgroup v2: moby passes `system.slice:docker:<id>` and runc's systemd
/// driver names the unit `<prefix>-<name>.scope` (runc `libcontainer/cgroups/systemd`,
/// `getUnitName`).
#[test]
fn docker_systemd_v2() {
    check(
        &format!("0::/system.slice/docker-{ID}.scope\n"),
        Some((Runtime::Docker, ID, None, false)),
    );
}

/// containerd's CRI plugin with kubelet's systemd driver, cgroup v2, a Burstable pod: containerd
/// builds `<slice>:cri-containerd:<id>` (`getCgroupsPath` in containerd's CRI server), kubelet
/// names the pod slice `kubepods-burstable-pod<uid, '-' → '_'>.slice` (kubelet
/// `cgroup_manager_linux.go`, `ToSystemd`/`escapeSystemdCgroupName`).
#[test]
fn containerd_cri_kubernetes_systemd_v2() {
    let content = format!(
        "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{POD_ESCAPED}.slice/cri-containerd-{ID}.scope\n"
    );
    check(&content, Some((Runtime::Containerd, ID, Some(POD), false)));
}

/// CRI-O, Guaranteed pod (no QoS slice), cgroup v1: CRI-O's systemd cgroup manager names the
/// container scope `crio-<id>.scope` and the monitor's `crio-conmon-<id>.scope` (cri-o
/// `internal/config/cgmgr/systemd.go`).
#[test]
fn crio_kubernetes_v1_and_its_conmon() {
    let content = format!(
        "11:memory:/kubepods.slice/kubepods-pod{POD_ESCAPED}.slice/crio-{ID}.scope\n\
         1:name=systemd:/kubepods.slice/kubepods-pod{POD_ESCAPED}.slice/crio-{ID}.scope\n"
    );
    check(&content, Some((Runtime::CriO, ID, Some(POD), false)));
    let conmon = format!("0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{POD_ESCAPED}.slice/crio-conmon-{ID}.scope\n");
    check(&conmon, Some((Runtime::CriO, ID, Some(POD), true)));
}

/// Podman, rootful with systemd: default parent `machine.slice`, container unit
/// `createUnitName("libpod", id)` = `libpod-<id>.scope`, monitor `libpod-conmon-<id>.scope`
/// (podman `libpod/oci_conmon_linux.go`); rootless under the user's own slice.
#[test]
fn podman_rootful_rootless_and_conmon() {
    check(
        &format!("0::/machine.slice/libpod-{ID}.scope\n"),
        Some((Runtime::Podman, ID, None, false)),
    );
    check(
        &format!("0::/machine.slice/libpod-conmon-{ID}.scope\n"),
        Some((Runtime::Podman, ID, None, true)),
    );
    check(
        &format!("0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-{ID}.scope/container\n"),
        Some((Runtime::Podman, ID, None, false)),
    );
}

/// kubelet's cgroupfs driver, cgroup v1: `/kubepods/<qos>/pod<uid>/<container id>`; the path does
/// not name the runtime (kubelet `pod_container_manager_linux.go`, `GetPodContainerName`).
#[test]
fn kubernetes_cgroupfs_v1() {
    let content = format!("9:memory:/kubepods/besteffort/pod{POD}/{ID}\n0::/\n");
    check(&content, Some((Runtime::Kubernetes, ID, Some(POD), false)));
    let guaranteed = format!("0::/kubepods/pod{POD}/{ID}\n");
    check(
        &guaranteed,
        Some((Runtime::Kubernetes, ID, Some(POD), false)),
    );
}

/// Kubernetes with Docker (dockershim, systemd driver): the container scope is Docker's, the pod
/// slice kubelet's.
#[test]
fn docker_under_kubernetes() {
    let content = format!("0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{POD_ESCAPED}.slice/docker-{ID}.scope\n");
    check(&content, Some((Runtime::Docker, ID, Some(POD), false)));
}

/// Static pods get a 32-hex-digit config hash as UID (kubelet `pkg/kubelet/config`).
#[test]
fn static_pod_uid_without_dashes() {
    let content = format!("0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod2c2a3d2b8e6f4a1c9b0d7e5f3a1b2c4d.slice/cri-containerd-{ID}.scope\n");
    check(
        &content,
        Some((
            Runtime::Containerd,
            ID,
            Some("2c2a3d2b8e6f4a1c9b0d7e5f3a1b2c4d"),
            false,
        )),
    );
}

/// nerdctl (containerd without Kubernetes) names its scope `nerdctl-<id>.scope`.
#[test]
fn nerdctl() {
    check(
        &format!("0::/system.slice/nerdctl-{ID}.scope\n"),
        Some((Runtime::Containerd, ID, None, false)),
    );
}

/// LXC 4.0 and later put the payload in `lxc.payload.<name>` (LXC `src/lxc/cgroups/cgfsng.c`,
/// `lxc.payload.` prefix); systemd inside the container makes its own groups below. LXC before 4.0
/// used `/lxc/<name>`.
#[test]
fn lxc() {
    check(
        "0::/lxc.payload.web01/system.slice/cron.service\n",
        Some((Runtime::Lxc, "web01", None, false)),
    );
    check(
        "5:memory:/lxc/db\n",
        Some((Runtime::Lxc, "db", None, false)),
    );
    check("0::/lxc.monitor.web01\n", None);
}

/// systemd-nspawn registers with systemd-machined: `machine.slice/machine-<escaped name>.scope`,
/// the payload in a `payload` child on the unified hierarchy (systemd `src/nspawn/nspawn-cgroup.c`);
/// names are unit-escaped (`-` → `\x2d`). libvirt's QEMU guests register the same way and are
/// virtual machines, not containers.
#[test]
fn nspawn_and_not_qemu() {
    check(
        "0::/machine.slice/machine-debian\\x2dbuster.scope/payload\n",
        Some((Runtime::Nspawn, "debian-buster", None, false)),
    );
    check(
        "0::/machine.slice/machine-qemu\\x2d1\\x2dwin10.scope/libvirt/emulator\n",
        None,
    );
}

#[test]
fn host_processes_are_in_no_container() {
    for content in [
        "0::/\n",
        "0::/init.scope\n",
        "0::/user.slice/user-1000.slice/session-2.scope\n",
        "0::/system.slice/docker.service\n",
        "0::/system.slice/containerd.service\n",
        "0::/kubepods.slice/kubepods-burstable.slice\n",
        "",
        "garbage\n\n::\n",
    ] {
        check(content, None);
    }
}

#[test]
fn ids_must_look_like_ids() {
    check(&format!("0::/docker/{}\n", &ID[..63]), None);
    check(
        &format!("0::/system.slice/docker-{}.scope\n", ID.to_uppercase()),
        None,
    );
    check(&format!("0::/docker/{ID}x\n"), None);
    // A bad pod UID is no pod, and a bare id below it no Kubernetes container.
    check(
        &format!("0::/kubepods/besteffort/podnot-a-uid/{ID}\n"),
        None,
    );
}

#[test]
fn parses_lines_with_colons_in_the_path() {
    let lines = parse_cgroup(b"4:cpu,cpuacct:/a:b\n0::/x\nbad\n");
    assert_eq!(
        lines,
        vec![
            CgroupLine {
                hierarchy: 4,
                controllers: b"cpu,cpuacct",
                path: b"/a:b"
            },
            CgroupLine {
                hierarchy: 0,
                controllers: b"",
                path: b"/x"
            },
        ]
    );
    assert_eq!(unified_path(b"4:cpu:/a\n0::/x\n"), Some(&b"/x"[..]));
    assert_eq!(unified_path(b"4:cpu:/a\n"), None);
}

#[test]
fn container_of_reads_through_the_host_and_reports_a_gone_process() {
    let host = FakeHost::new();
    host.set_file(
        "/proc/77/cgroup",
        format!("0::/system.slice/docker-{ID}.scope\n"),
    );
    assert_eq!(container_of(&host, 77).unwrap().unwrap().id, ID);
    let err = container_of(&host, 78).unwrap_err();
    assert!(matches!(err, Error::ProcGone { pid: 78 }), "{err:?}");
    assert_eq!(err.counter(), crate::Counter::ProcGone);
}

#[test]
fn namespace_links() {
    assert_eq!(
        parse_namespace_link("mnt", b"mnt:[4026531841]"),
        Some(4_026_531_841)
    );
    assert_eq!(parse_namespace_link("mnt", b"net:[4026531841]"), None);
    assert_eq!(parse_namespace_link("pid", b"pid:[]"), None);
    assert_eq!(parse_namespace_link("pid", b"pid:[12"), None);
    let host = FakeHost::new();
    for (i, kind) in NAMESPACE_KINDS.iter().enumerate().take(6) {
        host.set_link(
            format!("/proc/5/ns/{kind}"),
            format!("{kind}:[{}]", 4_026_531_830 + i as u64),
        );
    }
    // No cgroup namespace (kernels before 4.6).
    let ns = read_namespaces(&host, 5).unwrap();
    assert_eq!(
        ns,
        Namespaces {
            mnt: Some(4_026_531_830),
            pid: Some(4_026_531_831),
            net: Some(4_026_531_832),
            uts: Some(4_026_531_833),
            ipc: Some(4_026_531_834),
            user: Some(4_026_531_835),
            cgroup: None,
        }
    );
    assert!(matches!(
        read_namespaces(&host, 6),
        Err(Error::ProcGone { pid: 6 })
    ));
}
