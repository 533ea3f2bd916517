//! Names for user and group ids from the host's `/etc/passwd` and `/etc/group`, read once.
//!
//! Ids without an entry (deleted users, other hosts' users) simply have no name. NSS sources
//! such as LDAP are not consulted: this is a file reader, not a resolver.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

use anyhow::Context;

/// User and group names by id.
#[derive(Debug, Default)]
pub struct UserDb {
    users: HashMap<u32, String>,
    groups: HashMap<u32, String>,
}

impl UserDb {
    /// Reads a passwd file and a group file.
    pub fn load(passwd: &Path, group: &Path) -> anyhow::Result<UserDb> {
        let read = |path: &Path| std::fs::read(path).with_context(|| format!("cannot read {}", path.display()));
        Ok(UserDb { users: names_by_id(&read(passwd)?), groups: names_by_id(&read(group)?) })
    }
}

/// Reads `name:password:id:…` lines (the layout both files share); the first entry for an id
/// wins, as with `getpwuid`.
fn names_by_id(text: &[u8]) -> HashMap<u32, String> {
    let mut names = HashMap::new();
    for line in text.split(|&b| b == b'\n') {
        if line.starts_with(b"#") {
            continue;
        }
        let mut parts = line.splitn(4, |&b| b == b':');
        let (Some(name), Some(_), Some(id)) = (parts.next(), parts.next(), parts.next()) else { continue };
        let (Ok(name), Some(id)) = (std::str::from_utf8(name), std::str::from_utf8(id).ok().and_then(|s| s.parse().ok())) else {
            continue;
        };
        if !name.is_empty() {
            names.entry(id).or_insert_with(|| name.to_string());
        }
    }
    names
}

impl render::IdNames for UserDb {
    fn user(&self, uid: u32) -> Option<Cow<'_, str>> {
        self.users.get(&uid).map(|n| Cow::Borrowed(n.as_str()))
    }
    fn group(&self, gid: u32) -> Option<Cow<'_, str>> {
        self.groups.get(&gid).map(|n| Cow::Borrowed(n.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_entries_and_skips_junk() {
        let names = names_by_id(b"root:x:0:0:root:/root:/bin/bash\n# comment\nbad line\nbob:x:1000:1000::/home/bob:/bin/sh\nshadow:x:0:0::/:/bin/false\n:x:5:5\nx:x:notanumber:1\n");
        assert_eq!(names.get(&0).map(String::as_str), Some("root"));
        assert_eq!(names.get(&1000).map(String::as_str), Some("bob"));
        assert_eq!(names.len(), 2);
        let groups = names_by_id(b"wheel:x:10:bob,alice\n");
        assert_eq!(groups.get(&10).map(String::as_str), Some("wheel"));
    }
}
