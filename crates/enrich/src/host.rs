//! The host as enrichment sees it: the [`HostView`] trait, the real [`ProcFs`] and the in-memory
//! [`FakeHost`] for tests.
//!
//! Paths are absolute host paths (`/proc/42/cgroup`, `/etc/passwd`). This module does IO and
//! nothing else: it knows nothing about what the files mean.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs;
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

/// Read access to the host (and write access for small state files).
///
/// `modified` and `write_file` have defaults that say "unsupported", so a read-only view only
/// implements the three reads.
pub trait HostView {
    /// Returns the whole content of a file.
    fn read_file(&self, path: &Path) -> io::Result<Vec<u8>>;
    /// Returns the names of a directory's entries, in no particular order.
    fn read_dir(&self, path: &Path) -> io::Result<Vec<OsString>>;
    /// Returns the target of a symbolic link.
    fn read_link(&self, path: &Path) -> io::Result<PathBuf>;
    /// Returns a file's modification time.
    fn modified(&self, path: &Path) -> io::Result<SystemTime> {
        let _ = path;
        Err(io::Error::from(io::ErrorKind::Unsupported))
    }
    /// Replaces a file's content as one step: readers see the old or the new content, never a mix.
    fn write_file(&self, path: &Path, content: &[u8]) -> io::Result<()> {
        let _ = (path, content);
        Err(io::Error::from(io::ErrorKind::Unsupported))
    }
}

/// The real host, optionally seen under a root (`/host` when the agent runs in a container with
/// the host's `/proc` and `/etc` mounted there).
#[derive(Clone, Debug)]
pub struct ProcFs {
    root: PathBuf,
}

impl Default for ProcFs {
    fn default() -> Self {
        ProcFs::new()
    }
}

impl ProcFs {
    /// Returns a view of the host this process runs on.
    pub fn new() -> ProcFs {
        ProcFs {
            root: PathBuf::from("/"),
        }
    }

    /// Returns a view of a host whose file system is mounted at `root`.
    pub fn with_root(root: impl Into<PathBuf>) -> ProcFs {
        ProcFs { root: root.into() }
    }

    fn resolve(&self, path: &Path) -> PathBuf {
        let relative: PathBuf = path
            .components()
            .filter(|c| !matches!(c, Component::RootDir))
            .collect();
        self.root.join(relative)
    }
}

impl HostView for ProcFs {
    fn read_file(&self, path: &Path) -> io::Result<Vec<u8>> {
        fs::read(self.resolve(path))
    }

    fn read_dir(&self, path: &Path) -> io::Result<Vec<OsString>> {
        fs::read_dir(self.resolve(path))?
            .map(|entry| entry.map(|e| e.file_name()))
            .collect()
    }

    fn read_link(&self, path: &Path) -> io::Result<PathBuf> {
        fs::read_link(self.resolve(path))
    }

    fn modified(&self, path: &Path) -> io::Result<SystemTime> {
        fs::metadata(self.resolve(path))?.modified()
    }

    /// Writes a temporary file beside the target, fsyncs it, renames it over the target and
    /// fsyncs the directory, so a crash leaves the old or the new content.
    fn write_file(&self, path: &Path, content: &[u8]) -> io::Result<()> {
        let target = self.resolve(path);
        let dir = target
            .parent()
            .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
        let mut name = target
            .file_name()
            .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?
            .to_owned();
        name.push(".tmp");
        let temp = dir.join(name);
        {
            let mut file = fs::File::create(&temp)?;
            file.write_all(content)?;
            file.sync_all()?;
        }
        fs::rename(&temp, &target)?;
        fs::File::open(dir)?.sync_all()
    }
}

/// An in-memory host for tests: files, links and modification times set by the test.
///
/// Directories exist implicitly: `read_dir` lists the names one level below a path.
#[derive(Debug, Default)]
pub struct FakeHost {
    state: Mutex<FakeState>,
}

#[derive(Debug, Default)]
struct FakeState {
    files: BTreeMap<PathBuf, (Vec<u8>, SystemTime)>,
    links: BTreeMap<PathBuf, PathBuf>,
}

impl FakeHost {
    /// Returns an empty host.
    pub fn new() -> FakeHost {
        FakeHost::default()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, FakeState> {
        // A test that panicked while holding the lock leaves consistent maps behind.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Creates or replaces a file, with modification time `UNIX_EPOCH`.
    pub fn set_file(&self, path: impl Into<PathBuf>, content: impl Into<Vec<u8>>) {
        self.set_file_modified(path, content, SystemTime::UNIX_EPOCH);
    }

    /// Creates or replaces a file with the given modification time.
    pub fn set_file_modified(
        &self,
        path: impl Into<PathBuf>,
        content: impl Into<Vec<u8>>,
        modified: SystemTime,
    ) {
        self.state()
            .files
            .insert(path.into(), (content.into(), modified));
    }

    /// Creates or replaces a symbolic link.
    pub fn set_link(&self, path: impl Into<PathBuf>, target: impl Into<PathBuf>) {
        self.state().links.insert(path.into(), target.into());
    }

    /// Removes every file and link at or below `path` (a process exiting).
    pub fn remove_tree(&self, path: &Path) {
        let mut state = self.state();
        state.files.retain(|p, _| !p.starts_with(path));
        state.links.retain(|p, _| !p.starts_with(path));
    }

    /// Returns a file's content, if it exists.
    pub fn file(&self, path: &Path) -> Option<Vec<u8>> {
        self.state()
            .files
            .get(path)
            .map(|(content, _)| content.clone())
    }
}

impl HostView for FakeHost {
    fn read_file(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.file(path)
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
    }

    fn read_dir(&self, path: &Path) -> io::Result<Vec<OsString>> {
        let state = self.state();
        let mut names: Vec<OsString> = state
            .files
            .keys()
            .chain(state.links.keys())
            .filter_map(|p| p.strip_prefix(path).ok())
            .filter_map(|rest| rest.components().next())
            .map(|c| c.as_os_str().to_owned())
            .collect();
        names.sort();
        names.dedup();
        if names.is_empty() {
            return Err(io::Error::from(io::ErrorKind::NotFound));
        }
        Ok(names)
    }

    fn read_link(&self, path: &Path) -> io::Result<PathBuf> {
        self.state()
            .links
            .get(path)
            .cloned()
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
    }

    fn modified(&self, path: &Path) -> io::Result<SystemTime> {
        self.state()
            .files
            .get(path)
            .map(|(_, m)| *m)
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
    }

    fn write_file(&self, path: &Path, content: &[u8]) -> io::Result<()> {
        self.set_file(path, content);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fake_host_lists_one_level_and_reports_missing_paths() {
        let host = FakeHost::new();
        host.set_file("/proc/1/stat", "x");
        host.set_file("/proc/22/stat", "y");
        host.set_link("/proc/22/exe", "/bin/sh");
        assert_eq!(
            host.read_dir(Path::new("/proc")).unwrap(),
            vec![OsString::from("1"), OsString::from("22")]
        );
        assert_eq!(
            host.read_link(Path::new("/proc/22/exe")).unwrap(),
            PathBuf::from("/bin/sh")
        );
        assert_eq!(
            host.read_file(Path::new("/proc/3/stat"))
                .unwrap_err()
                .kind(),
            io::ErrorKind::NotFound
        );
        host.remove_tree(Path::new("/proc/22"));
        assert_eq!(
            host.read_dir(Path::new("/proc")).unwrap(),
            vec![OsString::from("1")]
        );
    }

    #[test]
    fn proc_fs_resolves_paths_under_its_root() {
        let host = ProcFs::with_root("/host");
        assert_eq!(
            host.resolve(Path::new("/proc/1/cgroup")),
            PathBuf::from("/host/proc/1/cgroup")
        );
        assert_eq!(
            ProcFs::new().resolve(Path::new("/etc/passwd")),
            PathBuf::from("/etc/passwd")
        );
    }
}
