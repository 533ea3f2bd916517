//! Arbitrary bytes as one log line (and as one netlink payload): framing, every field, every
//! decoded value, the fields of nested `msg='…'` values, the ENRICHED suffix, and the socket
//! address of every decoded `saddr`. The parser promises never to panic on any input.

#![no_main]

use libfuzzer_sys::fuzz_target;
use parse::sockaddr::decode_sockaddr;
use parse::{decode, parse_line, parse_netlink, Fields, Record, Value};
use vocab::RecordType;

fn walk(rt: RecordType, fields: Fields<'_>, depth: u32) {
    for f in fields {
        let (v, _diag) = decode(rt, f.name, f.value);
        match &v {
            Value::Nested(msg) if depth < 4 => walk(rt, Fields::nested(msg), depth + 1),
            Value::Str(bytes) if f.name == b"saddr" => {
                let sa = decode_sockaddr(bytes);
                std::hint::black_box(sa.family_name());
                std::hint::black_box(&sa);
            }
            _ => {}
        }
        // Hex decoding of anything, as a renderer of raw values might.
        std::hint::black_box(parse::decode_hex(f.value.bytes()));
        std::hint::black_box(&v);
    }
}

fn check(record: &Record<'_>) {
    walk(record.record_type, Fields::new(record.body), 0);
    if let Some(e) = record.enriched {
        walk(record.record_type, Fields::new(e), 0);
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = parse_line(data) {
        check(&r);
    }
    // The same bytes as a netlink payload, typed by the first two bytes.
    if data.len() >= 2 {
        let rt = RecordType(1100 + u32::from(u16::from_le_bytes([data[0], data[1]]) % 400));
        if let Ok(r) = parse_netlink(rt, &data[2..]) {
            check(&r);
        }
    }
    // Any bytes as sockaddr bytes.
    std::hint::black_box(decode_sockaddr(data));
});
