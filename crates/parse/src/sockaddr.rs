//! Decodes the `saddr=` field of SOCKADDR records: the raw `struct sockaddr` the process passed
//! to the kernel, hex-encoded.
//!
//! The family is in the host's byte order; ports are in network order. Logs from big-endian
//! hosts are recognised by a family that only makes sense the other way round.

/// A decoded socket address. Invalid or short input is still a value, never an error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SockAddr<'a> {
    Inet { addr: [u8; 4], port: u16 },
    Inet6 { addr: [u8; 16], port: u16, flowinfo: u32, scope_id: u32 },
    /// A path socket; the kernel copies the whole buffer, so bytes after the first NUL are dropped.
    Unix { path: &'a [u8] },
    /// An abstract socket: the name after the leading NUL, up to the address length.
    AbstractUnix { name: &'a [u8] },
    /// `AF_UNIX` with no path (an unnamed socket, e.g. from `socketpair`).
    UnnamedUnix,
    Netlink { pid: u32, groups: u32 },
    /// Any other family; `data` are the bytes after the family.
    Other { family: u16, data: &'a [u8] },
    /// Fewer bytes than the family needs (or than a family at all).
    TooShort { family: Option<u16>, data: &'a [u8] },
}

const AF_UNIX: u16 = 1;
const AF_INET: u16 = 2;
const AF_INET6: u16 = 10;
const AF_NETLINK: u16 = 16;

impl SockAddr<'_> {
    /// Returns the family's name as `ausearch -i` prints it.
    pub fn family_name(&self) -> Option<&'static str> {
        match self {
            SockAddr::Inet { .. } => Some("inet"),
            SockAddr::Inet6 { .. } => Some("inet6"),
            SockAddr::Unix { .. } | SockAddr::AbstractUnix { .. } | SockAddr::UnnamedUnix => Some("local"),
            SockAddr::Netlink { .. } => Some("netlink"),
            SockAddr::Other { .. } | SockAddr::TooShort { .. } => None,
        }
    }
}

/// Decodes raw `struct sockaddr` bytes.
pub fn decode_sockaddr(bytes: &[u8]) -> SockAddr<'_> {
    if bytes.len() < 2 {
        return SockAddr::TooShort { family: None, data: bytes };
    }
    let le = u16::from_le_bytes([bytes[0], bytes[1]]);
    let be = u16::from_be_bytes([bytes[0], bytes[1]]);
    let known = |f| matches!(f, AF_UNIX | AF_INET | AF_INET6 | AF_NETLINK);
    let (family, big_endian) = if !known(le) && known(be) { (be, true) } else { (le, false) };
    let data = &bytes[2..];
    let short = SockAddr::TooShort { family: Some(family), data };
    let u32_at = |at: usize| -> u32 {
        let b = [data[at], data[at + 1], data[at + 2], data[at + 3]];
        if big_endian { u32::from_be_bytes(b) } else { u32::from_le_bytes(b) }
    };
    match family {
        AF_INET if data.len() >= 6 => SockAddr::Inet {
            port: u16::from_be_bytes([data[0], data[1]]),
            addr: [data[2], data[3], data[4], data[5]],
        },
        AF_INET6 if data.len() >= 26 => {
            let mut addr = [0; 16];
            addr.copy_from_slice(&data[6..22]);
            SockAddr::Inet6 {
                port: u16::from_be_bytes([data[0], data[1]]),
                flowinfo: u32::from_be_bytes([data[2], data[3], data[4], data[5]]),
                addr,
                scope_id: u32_at(22),
            }
        }
        AF_INET6 if data.len() >= 22 => {
            let mut addr = [0; 16];
            addr.copy_from_slice(&data[6..22]);
            let port = u16::from_be_bytes([data[0], data[1]]);
            SockAddr::Inet6 { port, flowinfo: u32::from_be_bytes([data[2], data[3], data[4], data[5]]), addr, scope_id: 0 }
        }
        AF_UNIX => match data.first() {
            None => SockAddr::UnnamedUnix,
            Some(0) => {
                let name = &data[1..];
                if name.iter().all(|&b| b == 0) && name.len() > 100 { SockAddr::UnnamedUnix } else { SockAddr::AbstractUnix { name } }
            }
            Some(_) => {
                let end = memchr::memchr(0, data).unwrap_or(data.len());
                SockAddr::Unix { path: &data[..end] }
            }
        },
        AF_NETLINK if data.len() >= 10 => SockAddr::Netlink { pid: u32_at(2), groups: u32_at(6) },
        AF_INET | AF_INET6 | AF_NETLINK => short,
        _ => SockAddr::Other { family, data },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode_hex;

    fn dec(hex: &str) -> SockAddr<'static> {
        let bytes: &'static [u8] = Box::leak(decode_hex(hex.as_bytes()).unwrap().into_boxed_slice());
        decode_sockaddr(bytes)
    }

    #[test]
    fn families() {
        assert_eq!(dec("02000050A9FEA9FE0000000000000000"), SockAddr::Inet { addr: [169, 254, 169, 254], port: 80 });
        assert_eq!(
            dec("0A000016000000000000000000000000000000000000000000000000"),
            SockAddr::Inet6 { addr: [0; 16], port: 22, flowinfo: 0, scope_id: 0 }
        );
        assert_eq!(
            dec("01002F7661722F72756E2F6E7363642F736F636B65740000603B7B47FC7F"),
            SockAddr::Unix { path: b"/var/run/nscd/socket" }
        );
        assert_eq!(dec("0100006162"), SockAddr::AbstractUnix { name: b"ab" });
        assert_eq!(dec("0100"), SockAddr::UnnamedUnix);
        assert_eq!(dec("100000000000000000000000"), SockAddr::Netlink { pid: 0, groups: 0 });
        assert_eq!(dec("00000000000000000000000000000000"), SockAddr::Other { family: 0, data: &[0; 14] });
        assert_eq!(dec("0200"), SockAddr::TooShort { family: Some(2), data: &[] });
        assert_eq!(dec("02"), SockAddr::TooShort { family: None, data: &[2] });
    }

    #[test]
    fn big_endian_host() {
        assert_eq!(dec("0002005A7F000001"), SockAddr::Inet { addr: [127, 0, 0, 1], port: 90 });
    }
}
