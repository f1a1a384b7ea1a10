//! What the app reads from Azure and from its user, in `iothub`: the first byte picks one, the
//! rest is its input. IoT Hub's and DPS's error texts (`decode_error`, with the page's
//! certificates to match), a batch's device ids and ranges (`parse_device_ids`), connection
//! strings, thumbprints, device and enrollment-group answers.
#![no_main]
use hubcert::iothub::{
    decode_error, parse_device_ids, parse_group, parse_groups, thumbprint, ConnectionString,
    HubDevice, KnownCertificate,
};
use libfuzzer_sys::fuzz_target;

/// The most a batch makes in the fuzzer: a range may not expand past it.
const MAX_IDS: usize = 10_000;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    match which % 4 {
        0 => {
            let known = [KnownCertificate {
                label: "Device sensor-1".into(),
                common_name: "sensor-1".into(),
                sha1: "a9993e364706816aba3e25717850c26c9cd0d89d".into(),
                sha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad".into(),
            }];
            for d in decode_error(text, &known) {
                assert!(!d.title.is_empty());
            }
        }
        1 => {
            if let Ok(ids) = parse_device_ids(text, MAX_IDS) {
                assert!(!ids.is_empty() && ids.len() <= MAX_IDS, "{} ids", ids.len());
            }
        }
        2 => {
            let _ = ConnectionString::parse(text);
            let _ = thumbprint(text);
        }
        _ => {
            let _ = HubDevice::parse(text);
            let _ = parse_group(text);
            let _ = parse_groups(text);
        }
    }
});
