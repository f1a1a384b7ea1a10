//! Bytes from an MQTT server, in arbitrary splits, into a connected client session.
#![no_main]
use hubcert::mqtt::{ConnectOptions, Session};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let options = ConnectOptions {
        client_id: "fuzz".into(),
        username: "hub/fuzz/?api-version=2021-04-12".into(),
        password: None,
        keep_alive_secs: 30,
        clean_session: true,
    };
    let Ok(mut session) = Session::connect(&options, 0) else {
        return;
    };
    // The first byte chooses where the input is split, so partial packets are covered.
    let (split, rest) = match data.split_first() {
        Some((s, rest)) => (usize::from(*s).max(1), rest),
        None => return,
    };
    let mut now = 0;
    for chunk in rest.chunks(split) {
        now += 100;
        if session.receive(chunk, now).is_err() {
            return;
        }
        let _ = session.take_outgoing();
    }
    let _ = session.tick(now + 60_000);
});
