//! uid/gid → names from `/etc/passwd` and `/etc/group`, cached and refreshed when the files change.
//!
//! The cache checks the files at most every `refresh_interval_secs` (the caller passes the time in
//! seconds; nothing here reads a clock), and only on a miss or when the caller asks: a
//! modification time that moved (`HostView::modified`) makes it re-read; a view without
//! modification times re-reads on every check. A uid without a name is normal (deleted users,
//! users of a container's own `/etc/passwd`): the lookup says `None` and the caller counts it.
//! This module does not ask NSS (LDAP, sssd): only the files.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::{Counter, Counters, Error, HostView};

/// How [`UserNames`] finds and refreshes its files.
#[derive(Clone, Debug)]
pub struct Config {
    pub passwd: PathBuf,
    pub group: PathBuf,
    /// The least time between two checks of the files, in seconds.
    pub refresh_interval_secs: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            passwd: PathBuf::from("/etc/passwd"),
            group: PathBuf::from("/etc/group"),
            refresh_interval_secs: 30,
        }
    }
}

/// The names cache.
#[derive(Debug)]
pub struct UserNames {
    config: Config,
    users: HashMap<u32, String>,
    groups: HashMap<u32, String>,
    passwd_seen: Option<SystemTime>,
    group_seen: Option<SystemTime>,
    last_check: Option<u64>,
}

impl UserNames {
    /// Returns an empty cache; the first lookup or [`UserNames::refresh`] fills it.
    pub fn new(config: Config) -> UserNames {
        UserNames {
            config,
            users: HashMap::new(),
            groups: HashMap::new(),
            passwd_seen: None,
            group_seen: None,
            last_check: None,
        }
    }

    /// Returns the cached name of user `uid`.
    pub fn user(&self, uid: u32) -> Option<&str> {
        self.users.get(&uid).map(String::as_str)
    }

    /// Returns the cached name of group `gid`.
    pub fn group(&self, gid: u32) -> Option<&str> {
        self.groups.get(&gid).map(String::as_str)
    }

    /// Returns the name of user `uid`, checking the files first when it is not cached and the
    /// refresh interval has passed. Moves `user_unknown` (and `passwd_unreadable`) on a miss.
    pub fn resolve_user(
        &mut self,
        host: &dyn HostView,
        uid: u32,
        now_secs: u64,
        counters: &mut Counters,
    ) -> Option<&str> {
        if !self.users.contains_key(&uid) {
            self.refresh_counted(host, now_secs, counters);
        }
        let name = self.users.get(&uid).map(String::as_str);
        if name.is_none() {
            counters.add(Counter::UserUnknown);
        }
        name
    }

    /// Returns the name of group `gid`, like [`UserNames::resolve_user`].
    pub fn resolve_group(
        &mut self,
        host: &dyn HostView,
        gid: u32,
        now_secs: u64,
        counters: &mut Counters,
    ) -> Option<&str> {
        if !self.groups.contains_key(&gid) {
            self.refresh_counted(host, now_secs, counters);
        }
        let name = self.groups.get(&gid).map(String::as_str);
        if name.is_none() {
            counters.add(Counter::GroupUnknown);
        }
        name
    }

    fn refresh_counted(&mut self, host: &dyn HostView, now_secs: u64, counters: &mut Counters) {
        for error in self.refresh(host, now_secs) {
            counters.add(error.counter());
        }
    }

    /// Re-reads the files that changed, unless the last check is less than the refresh interval
    /// ago. Returns the files that could not be read; their previous names are kept.
    pub fn refresh(&mut self, host: &dyn HostView, now_secs: u64) -> Vec<Error> {
        if let Some(last) = self.last_check {
            if now_secs.saturating_sub(last) < self.config.refresh_interval_secs {
                return Vec::new();
            }
        }
        self.last_check = Some(now_secs);
        let mut errors = Vec::new();
        match reload(host, &self.config.passwd, &mut self.passwd_seen) {
            Ok(Some(content)) => self.users = parse_id_file(&content),
            Ok(None) => {}
            Err(source) => errors.push(Error::PasswdUnreadable {
                path: self.config.passwd.clone(),
                source,
            }),
        }
        match reload(host, &self.config.group, &mut self.group_seen) {
            Ok(Some(content)) => self.groups = parse_id_file(&content),
            Ok(None) => {}
            Err(source) => errors.push(Error::GroupUnreadable {
                path: self.config.group.clone(),
                source,
            }),
        }
        errors
    }
}

/// Returns the file's content when it changed since `seen` (or when the view has no modification
/// times), `None` when it did not.
fn reload(
    host: &dyn HostView,
    path: &Path,
    seen: &mut Option<SystemTime>,
) -> std::io::Result<Option<Vec<u8>>> {
    let modified = host.modified(path).ok();
    if modified.is_some() && modified == *seen {
        return Ok(None);
    }
    let content = host.read_file(path)?;
    *seen = modified;
    Ok(Some(content))
}

/// Parses `/etc/passwd` or `/etc/group`: `name:password:id:…`. Comments, blank lines, NIS
/// `+`/`-` entries and lines without a numeric id are skipped; the first name of an id wins, as
/// in `getpwuid`.
pub fn parse_id_file(content: &[u8]) -> HashMap<u32, String> {
    let mut names = HashMap::new();
    for line in content.split(|&b| b == b'\n') {
        if line.is_empty() || line[0] == b'#' || line[0] == b'+' || line[0] == b'-' {
            continue;
        }
        let mut fields = line.split(|&b| b == b':');
        let (Some(name), Some(_password), Some(id)) = (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let Some(id) = vocab::parse_u32(id) else {
            continue;
        };
        if name.is_empty() {
            continue;
        }
        names
            .entry(id)
            .or_insert_with(|| String::from_utf8_lossy(name).into_owned());
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FakeHost;
    use std::time::Duration;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\n\
        # comment\n\
        daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n\
        alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash\n\
        toor:x:0:0:second root:/root:/bin/sh\n\
        broken-line\n\
        +nisuser::::::\n";
    const GROUP: &str = "root:x:0:\nadm:x:4:syslog,alice\nalice:x:1000:\n";

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn host() -> FakeHost {
        let host = FakeHost::new();
        host.set_file_modified("/etc/passwd", PASSWD, at(100));
        host.set_file_modified("/etc/group", GROUP, at(100));
        host
    }

    #[test]
    fn parses_passwd_and_group_with_the_first_name_of_an_id_winning() {
        let users = parse_id_file(PASSWD.as_bytes());
        assert_eq!(users.len(), 3);
        assert_eq!(users[&0], "root");
        assert_eq!(users[&1000], "alice");
        let groups = parse_id_file(GROUP.as_bytes());
        assert_eq!(groups[&4], "adm");
    }

    #[test]
    fn resolves_names_and_counts_deleted_users() {
        let host = host();
        let mut names = UserNames::new(Config::default());
        let mut counters = Counters::default();
        assert_eq!(
            names.resolve_user(&host, 1000, 0, &mut counters),
            Some("alice")
        );
        assert_eq!(names.resolve_group(&host, 4, 0, &mut counters), Some("adm"));
        assert_eq!(names.resolve_user(&host, 1234, 1, &mut counters), None);
        assert_eq!(counters.get(Counter::UserUnknown), 1);
        assert_eq!(counters.get(Counter::PasswdUnreadable), 0);
    }

    #[test]
    fn rereads_a_changed_file_only_after_the_interval() {
        let host = host();
        let mut names = UserNames::new(Config {
            refresh_interval_secs: 10,
            ..Config::default()
        });
        let mut counters = Counters::default();
        assert_eq!(names.resolve_user(&host, 1001, 0, &mut counters), None);
        host.set_file_modified(
            "/etc/passwd",
            format!("{PASSWD}bob:x:1001:1001::/home/bob:/bin/sh\n"),
            at(200),
        );
        // Within the interval a miss does not touch the files.
        assert_eq!(names.resolve_user(&host, 1001, 5, &mut counters), None);
        assert_eq!(
            names.resolve_user(&host, 1001, 10, &mut counters),
            Some("bob")
        );
        // A user deleted later keeps no stale name once the file is re-read.
        host.set_file_modified("/etc/passwd", PASSWD, at(300));
        assert!(names.refresh(&host, 20).is_empty());
        assert_eq!(names.user(1001), None);
        assert_eq!(names.user(0), Some("root"));
    }

    #[test]
    fn an_unchanged_file_is_not_reread() {
        let host = host();
        let mut names = UserNames::new(Config {
            refresh_interval_secs: 0,
            ..Config::default()
        });
        assert!(names.refresh(&host, 0).is_empty());
        // Same modification time, different content: the cache keeps what it read (mtime decides).
        host.set_file_modified("/etc/passwd", "eve:x:0:0::/:/bin/sh\n", at(100));
        assert!(names.refresh(&host, 1).is_empty());
        assert_eq!(names.user(0), Some("root"));
    }

    #[test]
    fn unreadable_files_keep_old_names_and_are_counted() {
        let host = host();
        let mut names = UserNames::new(Config {
            refresh_interval_secs: 0,
            ..Config::default()
        });
        assert!(names.refresh(&host, 0).is_empty());
        host.remove_tree(Path::new("/etc"));
        let errors = names.refresh(&host, 1);
        assert_eq!(errors.len(), 2);
        assert!(
            matches!(&errors[0], Error::PasswdUnreadable { path, .. } if path == Path::new("/etc/passwd"))
        );
        assert!(
            matches!(&errors[1], Error::GroupUnreadable { path, .. } if path == Path::new("/etc/group"))
        );
        assert_eq!(names.user(1000), Some("alice"));
        let mut counters = Counters::default();
        assert_eq!(names.resolve_group(&host, 77, 2, &mut counters), None);
        assert_eq!(counters.get(Counter::PasswdUnreadable), 1);
        assert_eq!(counters.get(Counter::GroupUnreadable), 1);
        assert_eq!(counters.get(Counter::GroupUnknown), 1);
    }
}
