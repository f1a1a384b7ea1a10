//! MQTT frames over a byte stream: read one packet (waiting for the rest of a partial one), write
//! one. Shared by the hub's device sessions and DPS's registrations; the codec is the core's
//! (`hubcert::mqtt`).

use bytes::BytesMut;
use hubcert::mqtt::{read_from, write, Packet};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Reads one packet of at most `max` bytes (fixed header included).
pub(crate) async fn read_packet<R: AsyncRead + Unpin>(
    rd: &mut R,
    buf: &mut BytesMut,
    max: usize,
) -> Result<Packet, String> {
    loop {
        match read_from(buf, max) {
            Ok(Some(p)) => return Ok(p),
            Ok(None) => {}
            Err(e) => return Err(format!("malformed MQTT packet ({e})")),
        }
        match rd.read_buf(buf).await {
            Ok(0) => return Err("connection closed".into()),
            Ok(_) => {}
            Err(e) => return Err(format!("read failed: {e}")),
        }
    }
}

/// Encodes one packet and sends it.
pub(crate) async fn send<W: AsyncWrite + Unpin>(wr: &mut W, packet: &Packet) -> Result<(), String> {
    let mut out = BytesMut::new();
    write(packet, &mut out).map_err(|e| format!("encode failed: {e}"))?;
    wr.write_all(&out)
        .await
        .map_err(|e| format!("write failed: {e}"))?;
    wr.flush().await.map_err(|e| format!("write failed: {e}"))
}
