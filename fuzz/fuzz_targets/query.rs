//! The twin query's text as localhub reads it (`contract::DeviceQuery`): any bytes, no panic and
//! no exhausted stack, however deep the parentheses.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = std::str::from_utf8(data).map(hubcert::contract::DeviceQuery::parse);
});
