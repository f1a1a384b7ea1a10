//! Bytes from DPS, in arbitrary splits, into a device's registration flow, with time passing.
#![no_main]
use hubcert::mqtt::Provisioning;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(mut p) = Provisioning::connect("0ne00000000", "fuzz-device", None, 0) else {
        return;
    };
    let (split, rest) = match data.split_first() {
        Some((s, rest)) => (usize::from(*s).max(1), rest),
        None => return,
    };
    let mut now = 0;
    for chunk in rest.chunks(split) {
        now += 1_000;
        if p.receive(chunk, now).is_err() || p.tick(now).is_err() {
            return;
        }
        let _ = p.take_outgoing();
    }
});
