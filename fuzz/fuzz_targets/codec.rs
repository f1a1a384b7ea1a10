//! The MQTT 3.1.1 codec (`hubcert::mqtt::read`, `write`) on arbitrary bytes in any split: it never
//! panics, never takes more bytes than it was given, and a packet it reads is written back to bytes
//! that read as the same packet (and, written again, the same bytes).
#![no_main]
use bytes::BytesMut;
use hubcert::mqtt::{encode, read, read_from};
use libfuzzer_sys::fuzz_target;

/// localhub's `max_packet_bytes` default.
const MAX: usize = 256 * 1024;

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    // Whole: what was read round-trips.
    if let Ok(Some((packet, used))) = read(rest, MAX) {
        assert!(used <= rest.len());
        let bytes = encode(&packet).expect("a packet read can be written");
        assert_eq!(read(&bytes, MAX), Ok(Some((packet.clone(), bytes.len()))));
        assert_eq!(encode(&packet).as_deref(), Ok(&bytes[..]));
    }
    // In pieces: the same packets as when whole.
    let mut whole = Vec::new();
    let mut at = 0;
    while let Ok(Some((p, used))) = read(&rest[at..], MAX) {
        whole.push(p);
        at += used;
    }
    let mut pieces = Vec::new();
    let mut buf = BytesMut::new();
    'reading: for chunk in rest.chunks(usize::from(split).max(1)) {
        buf.extend_from_slice(chunk);
        loop {
            match read_from(&mut buf, MAX) {
                Ok(Some(p)) => pieces.push(p),
                Ok(None) => break,
                Err(_) => break 'reading,
            }
        }
    }
    assert_eq!(pieces, whole);
});
