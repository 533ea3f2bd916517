//! Netlink message framing: `struct nlmsghdr` and the kernel's audit length quirks.
//!
//! Pure: iterates the messages of one received datagram in place. Knows nothing about sockets.

use vocab::RecordType;

/// The size of `struct nlmsghdr` (already 4-byte aligned).
pub const NLMSG_HDRLEN: usize = 16;

/// Audit record types start here; lower numbers are netlink control and audit commands.
const FIRST_RECORD_TYPE: u16 = 1100;

/// `struct nlmsghdr`, read from bytes in native byte order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    pub len: u32,
    pub kind: u16,
    pub flags: u16,
    pub seq: u32,
    pub pid: u32,
}

impl Header {
    pub(crate) fn read(b: &[u8]) -> Option<Header> {
        let b = b.get(..NLMSG_HDRLEN)?;
        let u32_at = |i: usize| u32::from_ne_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        Some(Header {
            len: u32_at(0),
            kind: u16::from_ne_bytes([b[4], b[5]]),
            flags: u16::from_ne_bytes([b[6], b[7]]),
            seq: u32_at(8),
            pid: u32_at(12),
        })
    }

    pub(crate) fn write(&self, out: &mut [u8]) {
        out[0..4].copy_from_slice(&self.len.to_ne_bytes());
        out[4..6].copy_from_slice(&self.kind.to_ne_bytes());
        out[6..8].copy_from_slice(&self.flags.to_ne_bytes());
        out[8..12].copy_from_slice(&self.seq.to_ne_bytes());
        out[12..16].copy_from_slice(&self.pid.to_ne_bytes());
    }
}

/// The messages of one datagram, as `(nlmsg_type, payload)`, borrowed from the receive buffer.
///
/// Audit records (types ≥ 1100) come one per datagram, and their `nlmsg_len` is unreliable: the
/// unicast (daemon) path sets it to the payload length *without* the header — a quirk auditd
/// depends on — while the multicast path sets the full length. A record whose `nlmsg_len` is
/// either of those, or impossible, takes the rest of the datagram as its payload. Payloads may
/// or may not end in NUL; `parse::parse_netlink` trims it. Other messages (replies, `NLMSG_ERROR`)
/// are framed by the standard rules. A truncated trailing header ends the iteration.
#[derive(Clone, Debug)]
pub struct Messages<'a> {
    rest: &'a [u8],
    /// Sequence number of the current message, for matching replies.
    pub(crate) last: Option<Header>,
}

impl<'a> Messages<'a> {
    /// Frames the messages of one datagram.
    pub fn new(datagram: &'a [u8]) -> Messages<'a> {
        Messages {
            rest: datagram,
            last: None,
        }
    }
}

impl<'a> Iterator for Messages<'a> {
    type Item = (RecordType, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let header = Header::read(self.rest)?;
        self.last = Some(header);
        let rem = self.rest.len();
        let len = header.len as usize;
        let whole = header.kind >= FIRST_RECORD_TYPE
            && (len == rem || len + NLMSG_HDRLEN == rem || len < NLMSG_HDRLEN || len > rem);
        let end = if whole || len < NLMSG_HDRLEN || len > rem {
            rem
        } else {
            len
        };
        let payload = &self.rest[NLMSG_HDRLEN..end];
        let next = end.saturating_add(3) & !3;
        self.rest = self.rest.get(next..).unwrap_or(&[]);
        Some((RecordType(u32::from(header.kind)), payload))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn datagram(kind: u16, len: u32, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![0; NLMSG_HDRLEN];
        Header {
            len,
            kind,
            flags: 0,
            seq: 7,
            pid: 0,
        }
        .write(&mut v);
        v.extend_from_slice(payload);
        v
    }

    fn check(datagram: &[u8], expect: &[(u32, &[u8])]) {
        let got: Vec<(u32, &[u8])> = Messages::new(datagram).map(|(t, p)| (t.0, p)).collect();
        assert_eq!(got, expect);
    }

    const TEXT: &[u8] = b"audit(1700000000.123:42): pid=1 comm=\"true\"";

    #[test]
    fn unicast_record_len_excludes_header() {
        check(&datagram(1300, TEXT.len() as u32, TEXT), &[(1300, TEXT)]);
    }

    #[test]
    fn multicast_record_len_includes_header() {
        check(
            &datagram(1300, (TEXT.len() + NLMSG_HDRLEN) as u32, TEXT),
            &[(1300, TEXT)],
        );
    }

    #[test]
    fn record_with_impossible_len_takes_the_rest() {
        check(
            &datagram(1320, 0, b"audit(1.2:3): "),
            &[(1320, b"audit(1.2:3): ")],
        );
        check(
            &datagram(1320, 9999, b"audit(1.2:3): "),
            &[(1320, b"audit(1.2:3): ")],
        );
    }

    #[test]
    fn record_keeps_trailing_nul_for_the_parser() {
        let mut text = TEXT.to_vec();
        text.push(0);
        check(&datagram(1300, text.len() as u32, &text), &[(1300, &text)]);
    }

    #[test]
    fn two_replies_in_one_datagram() {
        let status = [1u8; 44];
        let mut d = datagram(1000, (NLMSG_HDRLEN + 44) as u32, &status);
        d.extend(datagram(2, (NLMSG_HDRLEN + 4) as u32, &[0, 0, 0, 0]));
        check(&d, &[(1000, &status), (2, &[0, 0, 0, 0])]);
    }

    #[test]
    fn reply_is_padded_to_four_bytes() {
        let mut d = datagram(1000, (NLMSG_HDRLEN + 3) as u32, &[9, 9, 9, 0]);
        d.extend(datagram(3, NLMSG_HDRLEN as u32, &[]));
        check(&d, &[(1000, &[9, 9, 9]), (3, &[])]);
    }

    #[test]
    fn truncated_header_ends_iteration() {
        check(&[1, 2, 3], &[]);
        check(&[], &[]);
    }

    #[test]
    fn records_parse_with_the_parser() {
        let d = datagram(1300, TEXT.len() as u32, TEXT);
        let (t, p) = Messages::new(&d).next().unwrap();
        let record = parse::parse_netlink(t, p).unwrap();
        assert_eq!(record.id.serial.0, 42);
    }
}
