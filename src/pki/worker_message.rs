//! What the page and a batch worker say to each other: one request and one reply type, both
//! sides building and reading JSON strings with them (postMessage carries the text), but for
//! devices made, which go packed, as bytes.

use serde::{Deserialize, Serialize};

use super::batch::{BatchJob, BatchMade};
use super::pkcs12::KeyExportJob;

/// What the page asks a worker.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum WorkerRequest {
    /// Issue a part of a batch.
    Batch(BatchJob),
    /// Make a password-protected key file (a `.pfx` or an encrypted key).
    Export(KeyExportJob),
}

/// What a worker answers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum WorkerReply {
    /// Loaded: messages sent from now on are heard (earlier ones were lost).
    Ready,
    /// Devices made since the last reply, in the order of the job's ids.
    Made(Vec<BatchMade>),
    /// The same, packed ([`BatchMade::pack`]): sent as the bytes themselves (an `ArrayBuffer`
    /// handed over, not copied), never as JSON.
    #[serde(skip)]
    Packed(PackedDevices),
    /// The job is done.
    Done {
        /// How many devices it made.
        count: usize,
        /// What signed ("WebCrypto", or "WebAssembly (why not WebCrypto)").
        signer: String,
    },
    /// The key file, base64.
    Exported(String),
    /// What failed, in words for the page.
    Error(String),
}

/// Devices packed as bytes ([`BatchMade::pack`]); they hold keys: shown as their size only.
#[derive(Clone, Default)]
pub struct PackedDevices(zeroize::Zeroizing<Vec<u8>>);

impl From<Vec<u8>> for PackedDevices {
    fn from(bytes: Vec<u8>) -> Self {
        Self(zeroize::Zeroizing::new(bytes))
    }
}

impl std::ops::Deref for PackedDevices {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for PackedDevices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<redacted, {} bytes>", self.0.len())
    }
}

impl WorkerRequest {
    /// The message's text.
    pub fn to_json(&self) -> Result<String, String> {
        serde_json::to_string(self).map_err(|e| format!("the job could not be written: {e}"))
    }

    /// Reads a message's text.
    pub fn from_json(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|e| format!("not a job for this worker: {e}"))
    }
}

impl WorkerReply {
    /// The reply's text (strings, numbers and certificates' bytes: it always serialises).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a reply's text.
    pub fn from_json(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|_| "a worker sent a damaged message".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_read_back_as_written_and_damage_is_refused() {
        for reply in [
            WorkerReply::Ready,
            WorkerReply::Made(Vec::new()),
            WorkerReply::Done {
                count: 500,
                signer: "WebCrypto".into(),
            },
            WorkerReply::Exported("AAEC".into()),
            WorkerReply::Error("the CA's key was refused".into()),
        ] {
            let text = reply.to_json();
            assert_eq!(WorkerReply::from_json(&text).map(|r| r.to_json()), Ok(text));
        }
        assert_eq!(WorkerReply::Ready.to_json(), "\"ready\"");
        assert!(WorkerReply::from_json("{\"made\": 3}").is_err());
        assert!(WorkerReply::from_json("").is_err());
    }

    #[test]
    fn a_request_that_is_not_a_job_is_refused_with_a_reason() {
        let e = WorkerRequest::from_json("{\"batch\": {\"ids\": []}}").unwrap_err();
        assert!(e.starts_with("not a job for this worker"), "{e}");
        assert!(WorkerRequest::from_json("{\"mine\": 1}").is_err());
    }
}
