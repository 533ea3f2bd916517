//! Host identity: a host UUID generated once and kept in the state directory, the boot id and
//! the hostname.
//!
//! The UUID comes from the kernel (`/proc/sys/kernel/random/uuid`) the first time and is read back
//! from `STATE_DIR/host-uuid` afterwards, so it survives reboots and agent upgrades; deleting the
//! file makes a new identity. This module does not pick the state directory: the caller does.

use std::io;
use std::path::{Path, PathBuf};

use crate::{Error, HostView};

/// Where the kernel hands out a fresh random UUID on every read.
pub const KERNEL_UUID: &str = "/proc/sys/kernel/random/uuid";
/// The kernel's id of the current boot.
pub const BOOT_ID: &str = "/proc/sys/kernel/random/boot_id";
/// The kernel's hostname (of the agent's UTS namespace).
pub const HOSTNAME: &str = "/proc/sys/kernel/hostname";
/// The file in the state directory that keeps the host UUID.
pub const HOST_UUID_FILE: &str = "host-uuid";

/// Who this host is.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct HostIdentity {
    /// Persisted across reboots: lowercase UUID text.
    pub host_uuid: String,
    /// New on every boot: lowercase UUID text.
    pub boot_id: String,
    pub hostname: String,
}

impl HostIdentity {
    /// Loads the host identity, creating the persisted UUID in `state_dir` on first use.
    ///
    /// A damaged UUID file is an error, not silently replaced: replacing it would make the host
    /// look like a new one to the fleet.
    pub fn load(host: &dyn HostView, state_dir: &Path) -> Result<HostIdentity, Error> {
        let host_uuid = load_or_create_uuid(host, &state_dir.join(HOST_UUID_FILE))?;
        let boot_id = read_uuid(host, Path::new(BOOT_ID))?;
        let hostname = read_trimmed(host, Path::new(HOSTNAME))?;
        Ok(HostIdentity {
            host_uuid,
            boot_id,
            hostname,
        })
    }
}

fn load_or_create_uuid(host: &dyn HostView, path: &Path) -> Result<String, Error> {
    match host.read_file(path) {
        Ok(content) => validated(path, &content),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let fresh = read_uuid(host, Path::new(KERNEL_UUID))?;
            let mut line = fresh.clone().into_bytes();
            line.push(b'\n');
            host.write_file(path, &line)
                .map_err(|source| Error::HostIdentity {
                    path: path.to_owned(),
                    source,
                })?;
            Ok(fresh)
        }
        Err(source) => Err(Error::HostIdentity {
            path: path.to_owned(),
            source,
        }),
    }
}

fn read_uuid(host: &dyn HostView, path: &Path) -> Result<String, Error> {
    let content = host.read_file(path).map_err(|source| Error::HostIdentity {
        path: path.to_owned(),
        source,
    })?;
    validated(path, &content)
}

fn read_trimmed(host: &dyn HostView, path: &Path) -> Result<String, Error> {
    let content = host.read_file(path).map_err(|source| Error::HostIdentity {
        path: path.to_owned(),
        source,
    })?;
    Ok(String::from_utf8_lossy(content.trim_ascii()).into_owned())
}

fn validated(path: &Path, content: &[u8]) -> Result<String, Error> {
    let text = content.trim_ascii();
    if is_uuid(text) {
        Ok(String::from_utf8_lossy(text).to_ascii_lowercase())
    } else {
        Err(Error::HostIdentity {
            path: PathBuf::from(path),
            source: io::Error::new(io::ErrorKind::InvalidData, "not a uuid"),
        })
    }
}

fn is_uuid(s: &[u8]) -> bool {
    s.len() == 36
        && s.iter().enumerate().all(|(i, b)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                *b == b'-'
            } else {
                b.is_ascii_hexdigit()
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FakeHost;

    const UUID_A: &str = "0f5c1f0e-3c4b-4f7e-9a51-6b0d8b1c2a33";
    const BOOT: &str = "8d1e6c8a-59a4-4d3e-8f4c-2f7a9b6e1d05";

    fn host() -> FakeHost {
        let host = FakeHost::new();
        host.set_file(KERNEL_UUID, format!("{UUID_A}\n"));
        host.set_file(BOOT_ID, format!("{BOOT}\n"));
        host.set_file(HOSTNAME, "web-01\n");
        host
    }

    #[test]
    fn creates_the_uuid_once_and_reads_it_back() {
        let host = host();
        let first = HostIdentity::load(&host, Path::new("/var/lib/auditmesh")).unwrap();
        assert_eq!(
            first,
            HostIdentity {
                host_uuid: UUID_A.into(),
                boot_id: BOOT.into(),
                hostname: "web-01".into()
            }
        );
        assert_eq!(
            host.file(Path::new("/var/lib/auditmesh/host-uuid"))
                .unwrap(),
            format!("{UUID_A}\n").into_bytes()
        );
        // The kernel hands out a new UUID on every read; the persisted one must win.
        host.set_file(KERNEL_UUID, "11111111-2222-4333-8444-555555555555\n");
        let second = HostIdentity::load(&host, Path::new("/var/lib/auditmesh")).unwrap();
        assert_eq!(second.host_uuid, UUID_A);
    }

    #[test]
    fn a_damaged_uuid_file_is_an_error_not_a_new_identity() {
        let host = host();
        host.set_file("/state/host-uuid", "garbage\n");
        let err = HostIdentity::load(&host, Path::new("/state")).unwrap_err();
        assert!(
            matches!(&err, Error::HostIdentity { path, .. } if path == Path::new("/state/host-uuid")),
            "{err:?}"
        );
        assert_eq!(err.counter(), crate::Counter::HostIdentityUnavailable);
    }

    #[test]
    fn a_missing_boot_id_is_an_error_naming_the_file() {
        let host = FakeHost::new();
        host.set_file(KERNEL_UUID, UUID_A);
        let err = HostIdentity::load(&host, Path::new("/state")).unwrap_err();
        assert!(
            matches!(&err, Error::HostIdentity { path, .. } if path == Path::new(BOOT_ID)),
            "{err:?}"
        );
    }
}
