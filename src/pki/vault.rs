//! A workspace sealed with a passphrase: Argon2id derives a 256-bit key, AES-256-GCM encrypts the
//! workspace and authenticates it together with the header (format, version, KDF parameters,
//! nonce), so a changed byte anywhere, a wrong passphrase or weakened parameters are refused.
//!
//! ```text
//! {"format":"hubcert-workspace","version":1,
//!  "kdf":{"name":"argon2id","memoryKib":19456,"iterations":2,"parallelism":1,"salt":"<base64, 16 bytes>"},
//!  "cipher":{"name":"aes-256-gcm","nonce":"<base64, 12 bytes>"},
//!  "ciphertext":"<base64: encrypted workspace JSON, then the 16-byte tag>"}
//! ```
//! The additional authenticated data is the file's JSON without `ciphertext`, keys in the order
//! above. Parameters are OWASP's minimum for Argon2id (19 MiB, 2 passes, 1 lane); a file asking
//! for less is refused, so nobody can hand a user a file that is cheap to brute-force, and so is
//! one asking for much more (over 64 MiB, 8 passes, 4 lanes, or 64 MiB × 3 passes of work), so
//! nobody can hand a user a file that holds the page for minutes: both before any derivation.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::Aes256Gcm;
use argon2::{Algorithm, Argon2, Params, Version};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{KdfRefusal, PassphraseWeakness, PkiError};

/// What the file says it is.
pub const VAULT_FORMAT: &str = "hubcert-workspace";
/// The format version this code writes and reads.
pub const VAULT_VERSION: u32 = 1;
/// The shortest passphrase accepted for a new vault.
pub const MIN_PASSPHRASE_CHARS: usize = 12;

/// The largest workspace file read (a fleet of 100,000 devices with keys fits).
pub const MAX_VAULT_BYTES: usize = 256 << 20;

/// Checks a workspace file's size before it is read.
pub fn vault_size_ok(len: usize) -> Result<(), PkiError> {
    if len > MAX_VAULT_BYTES {
        return Err(damaged(format!(
            "it has {len} bytes, more than a workspace holds ({} MiB at most): choose the .hubcert file saved from this page",
            MAX_VAULT_BYTES >> 20
        )));
    }
    Ok(())
}

/// Argon2id cost: memory in KiB, passes, lanes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KdfCost {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes over the memory.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl KdfCost {
    /// OWASP's minimum for Argon2id: 19 MiB, 2 passes, 1 lane. What new vaults use.
    pub const OWASP: Self = Self {
        memory_kib: 19_456,
        iterations: 2,
        parallelism: 1,
    };

    /// The most memory a file may ask for: 64 MiB, RFC 9106's second recommended Argon2id
    /// choice, above every one of OWASP's (the largest is 46 MiB) and 3.4 times what hubcert
    /// writes; any browser tab has it to give.
    pub const MAX_MEMORY_KIB: u32 = 64 << 10;
    /// The most passes a file may ask for: 8 (OWASP's choices take 1 to 5, RFC 9106's 1 or 3).
    pub const MAX_ITERATIONS: u32 = 8;
    /// The most lanes a file may ask for: 4, RFC 9106's. The page runs lanes one after the other
    /// (no threads in WebAssembly), so more lanes buy nothing here.
    pub const MAX_PARALLELISM: u32 = 4;
    /// The costliest parameters accepted, as memory × passes: RFC 9106's 64 MiB with 3 passes,
    /// five times what hubcert writes (unlocking a workspace takes about 0.1 s in a browser,
    /// so a file can hold the page about half a second at most).
    pub const MAX_WORK: Self = Self {
        memory_kib: 64 << 10,
        iterations: 3,
        parallelism: 4,
    };

    fn work(self) -> u64 {
        u64::from(self.memory_kib) * u64::from(self.iterations)
    }

    /// Whether a file may ask for these parameters: at least OWASP's minimum (memory × passes,
    /// and memory at least 7 MiB, OWASP's smallest), and no costlier than what hubcert writes
    /// with a margin (the bounds above), so that a file cannot make the page derive for minutes
    /// or ask it for gigabytes. Cheap: run before any key is derived.
    pub fn check(self) -> Result<(), PkiError> {
        let refusal = if self.memory_kib > Self::MAX_MEMORY_KIB {
            Some(KdfRefusal::Memory {
                max_kib: Self::MAX_MEMORY_KIB,
            })
        } else if self.iterations > Self::MAX_ITERATIONS {
            Some(KdfRefusal::Passes {
                max: Self::MAX_ITERATIONS,
            })
        } else if !(1..=Self::MAX_PARALLELISM).contains(&self.parallelism) {
            Some(KdfRefusal::Lanes {
                max: Self::MAX_PARALLELISM,
            })
        } else if self.work() > Self::MAX_WORK.work() {
            Some(KdfRefusal::Work {
                max_memory_kib: Self::MAX_WORK.memory_kib,
                max_passes: Self::MAX_WORK.iterations,
            })
        } else if self.work() < Self::OWASP.work() || self.memory_kib < 7_168 {
            Some(KdfRefusal::TooWeak)
        } else {
            None
        };
        match refusal {
            None => Ok(()),
            Some(refusal) => Err(PkiError::VaultKdfRefused {
                memory_kib: self.memory_kib,
                iterations: self.iterations,
                parallelism: self.parallelism,
                refusal,
            }),
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Kdf {
    name: String,
    #[serde(flatten)]
    cost: KdfCost,
    salt: String,
}

#[derive(Serialize, Deserialize)]
struct Cipher {
    name: String,
    nonce: String,
}

/// The header, authenticated with the content.
#[derive(Serialize, Deserialize)]
struct Header {
    format: String,
    version: u32,
    kdf: Kdf,
    cipher: Cipher,
}

#[derive(Serialize, Deserialize)]
struct Sealed {
    #[serde(flatten)]
    header: Header,
    ciphertext: String,
}

fn damaged(detail: impl Into<String>) -> PkiError {
    PkiError::VaultInvalid {
        detail: detail.into(),
    }
}

fn derive(passphrase: &str, salt: &[u8], cost: KdfCost) -> Result<Zeroizing<[u8; 32]>, PkiError> {
    let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, Some(32))
        .map_err(|e| {
            damaged(format!(
                "its key derivation parameters are not usable ({e})"
            ))
        })?;
    let mut key = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase.as_bytes(), salt, key.as_mut())
        .map_err(|e| damaged(format!("the key could not be derived ({e})")))?;
    Ok(key)
}

/// The fewest different characters a new passphrase may have.
pub const MIN_PASSPHRASE_DISTINCT: usize = 5;

/// Rows a run may follow, forwards or backwards (letters wrap from z to a, digits from 9 to 0,
/// keys along the keyboard's rows in order).
const RUNS: [&str; 3] = [
    "abcdefghijklmnopqrstuvwxyz",
    "1234567890",
    "qwertyuiopasdfghjklzxcvbnm",
];

/// Whether every character of `chars` follows the one before it along one of [`RUNS`], all in
/// the same direction.
fn is_run(chars: &[char]) -> bool {
    RUNS.iter().any(|row| {
        let row: Vec<char> = row.chars().collect();
        let at = |c: &char| row.iter().position(|r| *r == c.to_ascii_lowercase());
        let step = |w: &[char]| Some((at(&w[1])? + row.len() - at(&w[0])?) % row.len());
        let first = chars.windows(2).next().and_then(step);
        first.is_some_and(|d| {
            (d == 1 || d == row.len() - 1) && chars.windows(2).all(|w| step(w) == Some(d))
        })
    })
}

/// The shortest piece `chars` is made of, typed again and again (the last time perhaps cut
/// short): 1 for "aaaa", 3 for "abcabcab", `chars.len()` when there is none. Linear (the
/// Knuth-Morris-Pratt prefix function), so a pasted megabyte is judged at once.
fn shortest_period(chars: &[char]) -> usize {
    // border[i]: the length of the longest proper prefix of chars[..=i] that is also its suffix.
    let mut border: Zeroizing<Vec<usize>> = Zeroizing::new(vec![0; chars.len()]);
    for i in 1..chars.len() {
        let mut k = border[i - 1];
        while k > 0 && chars[i] != chars[k] {
            k = border[k - 1];
        }
        if chars[i] == chars[k] {
            k += 1;
        }
        border[i] = k;
    }
    chars.len() - border.last().copied().unwrap_or(0)
}

/// Checks a new passphrase: at least [`MIN_PASSPHRASE_CHARS`] characters, and not one a guesser
/// tries first: one character repeated, a shorter piece repeated, a run of consecutive letters,
/// digits or keys, or fewer than [`MIN_PASSPHRASE_DISTINCT`] different characters. A few
/// unrelated words pass all of these.
pub fn check_passphrase(passphrase: &str) -> Result<(), PkiError> {
    let chars: Zeroizing<Vec<char>> = Zeroizing::new(passphrase.chars().collect());
    if chars.len() < MIN_PASSPHRASE_CHARS {
        return Err(PkiError::PassphraseTooShort {
            chars: chars.len(),
            min: MIN_PASSPHRASE_CHARS,
        });
    }
    let weak = |weakness| Err(PkiError::PassphraseWeak { weakness });
    match shortest_period(&chars) {
        1 => return weak(PassphraseWeakness::OneCharacter),
        piece_chars if piece_chars <= chars.len() / 2 => {
            return weak(PassphraseWeakness::Repeated { piece_chars })
        }
        _ => {}
    }
    if is_run(&chars) {
        return weak(PassphraseWeakness::Run);
    }
    let mut distinct = chars.clone();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < MIN_PASSPHRASE_DISTINCT {
        return weak(PassphraseWeakness::FewDistinct {
            distinct: distinct.len(),
            min: MIN_PASSPHRASE_DISTINCT,
        });
    }
    Ok(())
}

/// Seals `plaintext` (the workspace's JSON) under `passphrase` with `cost`; the file's text.
pub fn seal(plaintext: &[u8], passphrase: &str, cost: KdfCost) -> Result<String, PkiError> {
    check_passphrase(passphrase)?;
    cost.check()?;
    let mut salt = [0u8; 16];
    let mut nonce = [0u8; 12];
    getrandom::fill(&mut salt).map_err(|_| PkiError::Random)?;
    getrandom::fill(&mut nonce).map_err(|_| PkiError::Random)?;
    let header = Header {
        format: VAULT_FORMAT.into(),
        version: VAULT_VERSION,
        kdf: Kdf {
            name: "argon2id".into(),
            cost,
            salt: BASE64.encode(salt),
        },
        cipher: Cipher {
            name: "aes-256-gcm".into(),
            nonce: BASE64.encode(nonce),
        },
    };
    let aad = serde_json::to_vec(&header).map_err(|e| damaged(e.to_string()))?;
    let key = derive(passphrase, &salt, cost)?;
    let cipher = Aes256Gcm::new_from_slice(key.as_ref()).map_err(|e| damaged(e.to_string()))?;
    let ciphertext = cipher
        .encrypt(
            &nonce.into(),
            Payload {
                msg: plaintext,
                aad: &aad,
            },
        )
        .map_err(|_| damaged("encryption failed"))?;
    serde_json::to_string_pretty(&Sealed {
        header,
        ciphertext: BASE64.encode(ciphertext),
    })
    .map_err(|e| damaged(e.to_string()))
}

/// Opens a sealed workspace with `passphrase`: its JSON. A wrong passphrase and a changed file
/// look the same to AES-GCM and are refused with one message naming both.
pub fn open(sealed: &str, passphrase: &str) -> Result<Zeroizing<Vec<u8>>, PkiError> {
    let file: Sealed = serde_json::from_str(sealed).map_err(|e| {
        damaged(format!(
            "it is not a hubcert workspace file ({e}); choose the .hubcert file saved from this page"
        ))
    })?;
    let h = &file.header;
    if h.format != VAULT_FORMAT {
        return Err(damaged(format!(
            "its format is '{}', not {VAULT_FORMAT}",
            h.format
        )));
    }
    if h.version != VAULT_VERSION {
        return Err(damaged(format!(
            "it is version {} of the format; this page reads version {VAULT_VERSION}",
            h.version
        )));
    }
    if h.kdf.name != "argon2id" || h.cipher.name != "aes-256-gcm" {
        return Err(damaged(format!(
            "it uses {} and {}; this page reads argon2id and aes-256-gcm",
            h.kdf.name, h.cipher.name
        )));
    }
    // Before anything is derived (or even decoded): a file must not be able to hold the page.
    h.kdf.cost.check()?;
    let b64 = |what: &str, s: &str| {
        BASE64
            .decode(s)
            .map_err(|_| damaged(format!("its {what} is not base64")))
    };
    let salt = b64("salt", &h.kdf.salt)?;
    let nonce: [u8; 12] = b64("nonce", &h.cipher.nonce)?
        .try_into()
        .map_err(|_| damaged("its nonce is not 12 bytes"))?;
    if salt.len() < 16 {
        return Err(damaged("its salt is shorter than 16 bytes"));
    }
    let ciphertext = b64("ciphertext", &file.ciphertext)?;
    let aad = serde_json::to_vec(h).map_err(|e| damaged(e.to_string()))?;
    let key = derive(passphrase, &salt, h.kdf.cost)?;
    let cipher = Aes256Gcm::new_from_slice(key.as_ref()).map_err(|e| damaged(e.to_string()))?;
    cipher
        .decrypt(
            &nonce.into(),
            Payload {
                msg: &ciphertext,
                aad: &aad,
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| PkiError::VaultNotOpened)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASS: &str = "correct horse battery";

    #[test]
    fn a_sealed_workspace_opens_with_its_passphrase_only() {
        let plain = br#"{"cas":[],"note":"keys live here"}"#;
        let sealed = seal(plain, PASS, KdfCost::OWASP).unwrap();
        assert!(!sealed.contains("keys live here"));
        let v: serde_json::Value = serde_json::from_str(&sealed).unwrap();
        assert_eq!(v["format"], VAULT_FORMAT);
        assert_eq!(v["kdf"]["memoryKib"], 19_456);
        assert_eq!(*open(&sealed, PASS).unwrap(), plain.to_vec());
        assert_eq!(
            open(&sealed, "correct horse battery!"),
            Err(PkiError::VaultNotOpened)
        );
        // Two seals of the same content differ (fresh salt and nonce).
        assert_ne!(seal(plain, PASS, KdfCost::OWASP).unwrap(), sealed);
    }

    #[test]
    fn a_changed_byte_or_weakened_header_is_refused_by_name() {
        let sealed = seal(b"{}", PASS, KdfCost::OWASP).unwrap();
        let mut v: serde_json::Value = serde_json::from_str(&sealed).unwrap();
        // One bit of the ciphertext.
        let mut ct = BASE64.decode(v["ciphertext"].as_str().unwrap()).unwrap();
        ct[0] ^= 1;
        let mut flipped = v.clone();
        flipped["ciphertext"] = BASE64.encode(&ct).into();
        assert_eq!(
            open(&flipped.to_string(), PASS),
            Err(PkiError::VaultNotOpened)
        );
        // The header is authenticated: a more costly KDF claim changes the AAD.
        let mut costlier = v.clone();
        costlier["kdf"]["iterations"] = 3.into();
        assert_eq!(
            open(&costlier.to_string(), PASS),
            Err(PkiError::VaultNotOpened)
        );
        // Weakened parameters are refused before any work.
        v["kdf"]["memoryKib"] = 64.into();
        let e = open(&v.to_string(), PASS).unwrap_err();
        assert_eq!(
            e,
            PkiError::VaultKdfRefused {
                memory_kib: 64,
                iterations: 2,
                parallelism: 1,
                refusal: KdfRefusal::TooWeak
            }
        );
        assert!(e.to_string().contains("weaker than OWASP"), "{e}");
        for (bad, says) in [
            ("not json", "not a hubcert workspace file"),
            (
                r#"{"format":"x","version":1,"kdf":{"name":"argon2id","memoryKib":19456,"iterations":2,"parallelism":1,"salt":""},"cipher":{"name":"aes-256-gcm","nonce":""},"ciphertext":""}"#,
                "format is 'x'",
            ),
            (
                r#"{"format":"hubcert-workspace","version":9,"kdf":{"name":"argon2id","memoryKib":19456,"iterations":2,"parallelism":1,"salt":""},"cipher":{"name":"aes-256-gcm","nonce":""},"ciphertext":""}"#,
                "version 9",
            ),
        ] {
            let e = open(bad, PASS).unwrap_err().to_string();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    fn cost(memory_kib: u32, iterations: u32, parallelism: u32) -> KdfCost {
        KdfCost {
            memory_kib,
            iterations,
            parallelism,
        }
    }

    fn refusal(c: KdfCost) -> Option<KdfRefusal> {
        match c.check() {
            Ok(()) => None,
            Err(PkiError::VaultKdfRefused {
                memory_kib,
                iterations,
                parallelism,
                refusal,
            }) => {
                assert_eq!(cost(memory_kib, iterations, parallelism), c);
                Some(refusal)
            }
            Err(e) => panic!("{e:?}"),
        }
    }

    #[test]
    fn kdf_bounds_are_what_hubcert_writes_with_a_margin() {
        use KdfRefusal::*;
        let mem = Some(Memory { max_kib: 65_536 });
        let passes = Some(Passes { max: 8 });
        let lanes = Some(Lanes { max: 4 });
        let work = Some(Work {
            max_memory_kib: 65_536,
            max_passes: 3,
        });
        for (c, want) in [
            // What hubcert writes, OWASP's first choice and RFC 9106's second.
            (KdfCost::OWASP, None),
            (cost(47_104, 1, 1), None),
            (cost(65_536, 3, 4), None),
            // OWASP's choices with less memory × passes than 19 MiB × 2 stay refused, as before.
            (cost(12_288, 3, 1), Some(TooWeak)),
            (cost(7_168, 5, 1), Some(TooWeak)),
            // Memory: 64 MiB is the most.
            (cost(65_536, 1, 1), None),
            (cost(65_537, 1, 1), mem),
            (cost(1 << 20, 1, 1), mem),
            (cost(u32::MAX, 1, 1), mem),
            // Passes: 8 is the most.
            (cost(19_456, 8, 1), None),
            (cost(19_456, 9, 1), passes),
            (cost(19_456, u32::MAX, 1), passes),
            // Lanes: 1 to 4.
            (cost(19_456, 2, 4), None),
            (cost(19_456, 2, 5), lanes),
            (cost(19_456, 2, 0), lanes),
            // Memory × passes: 64 MiB × 3 is the most.
            (cost(65_536, 4, 1), work),
            (cost(32_768, 6, 1), None),
            (cost(32_769, 6, 1), work),
            // OWASP's minimum: 19 MiB × 2 passes of work, 7 MiB of memory.
            (cost(19_456, 1, 1), Some(TooWeak)),
            (cost(38_912, 1, 1), None),
            (cost(7_167, 8, 1), Some(TooWeak)),
            (cost(19_456, 0, 1), Some(TooWeak)),
            // The hostile file: 1 GiB × 64 passes × 16 lanes names its memory first.
            (cost(1 << 20, 64, 16), mem),
        ] {
            assert_eq!(refusal(c), want, "{c:?}");
        }
        // The figures the messages give for hubcert's own files are what it writes.
        let e = cost(1 << 20, 64, 16).check().unwrap_err().to_string();
        assert!(
            e.starts_with("This workspace file asks for 1 GiB of memory to open; hubcert's own files ask for 19 MiB, and this page opens none asking for more than 64 MiB."),
            "{e}"
        );
        assert!(
            e.contains("not made by hubcert or has been tampered with"),
            "{e}"
        );
        assert_eq!(KdfCost::OWASP.memory_kib, 19 << 10);
        assert_eq!(KdfCost::OWASP.iterations, 2);
        assert_eq!(KdfCost::OWASP.parallelism, 1);
        for (c, says) in [
            (cost(19_456, 9, 1), "asks for 9 passes over its memory"),
            (
                cost(19_456, 2, 16),
                "asks for 16 lanes to open; hubcert's own files use 1",
            ),
            (cost(0, 2, 0), "asks for 0 lanes"),
            (
                cost(65_536, 4, 1),
                "asks for 64 MiB of memory with 4 passes to open (memory × passes: 256 MiB)",
            ),
            (
                cost(7_000, 8, 1),
                "(6.8 MiB with 8 passes, where at least 19 MiB with 2",
            ),
            (cost(400, 1, 1), "(400 KiB with 1 pass, where"),
        ] {
            let e = c.check().unwrap_err().to_string();
            assert!(e.contains(says), "{c:?}: {e}");
        }
        // Sealing is held to the same bounds.
        assert!(matches!(
            seal(b"{}", PASS, cost(131_072, 2, 1)),
            Err(PkiError::VaultKdfRefused { .. })
        ));
    }

    /// A file (or an IndexedDB entry) asking for Argon2id with 1 GiB × 64 passes × 16 lanes:
    /// deriving would hold the page for over a minute. It is refused before anything is
    /// derived, at once; a file hubcert wrote still opens.
    #[test]
    fn a_hostile_vault_is_refused_before_any_derivation() {
        let sealed = seal(br#"{"cas":[]}"#, PASS, KdfCost::OWASP).unwrap();
        let mut v: serde_json::Value = serde_json::from_str(&sealed).unwrap();
        v["kdf"]["memoryKib"] = (1u32 << 20).into();
        v["kdf"]["iterations"] = 64.into();
        v["kdf"]["parallelism"] = 16.into();
        let hostile = v.to_string();
        let started = std::time::Instant::now();
        let e = open(&hostile, PASS).unwrap_err();
        let elapsed = started.elapsed();
        println!(
            "hostile vault (1 GiB, 64 passes, 16 lanes) refused in {} µs",
            elapsed.as_micros()
        );
        assert_eq!(
            e,
            PkiError::VaultKdfRefused {
                memory_kib: 1 << 20,
                iterations: 64,
                parallelism: 16,
                refusal: KdfRefusal::Memory { max_kib: 65_536 }
            }
        );
        // Far less than one derivation of hubcert's own parameters would take.
        assert!(elapsed < std::time::Duration::from_secs(2), "{elapsed:?}");
        // Refused whatever the passphrase, and whatever the rest of the file holds.
        v["ciphertext"] = "not even base64".into();
        assert_eq!(open(&v.to_string(), "").unwrap_err(), e);

        let started = std::time::Instant::now();
        assert_eq!(*open(&sealed, PASS).unwrap(), br#"{"cas":[]}"#.to_vec());
        println!(
            "a vault hubcert wrote opened in {} ms",
            started.elapsed().as_millis()
        );
    }

    #[test]
    fn weak_passphrases_are_refused_with_what_is_wrong() {
        use PassphraseWeakness::*;
        let weak = |weakness| Err(PkiError::PassphraseWeak { weakness });
        for (p, want) in [
            ("aaaaaaaaaaaa", weak(OneCharacter)),
            ("............................", weak(OneCharacter)),
            ("ababababababab", weak(Repeated { piece_chars: 2 })),
            ("abcabcabcabc", weak(Repeated { piece_chars: 3 })),
            ("abcabcabcabcab", weak(Repeated { piece_chars: 3 })),
            ("passwordpassword", weak(Repeated { piece_chars: 8 })),
            ("123456789012", weak(Run)),
            ("abcdefghijkl", weak(Run)),
            ("ABCDEFGHIJKLMNOP", weak(Run)),
            ("lkjihgfedcba", weak(Run)),
            ("098765432109", weak(Run)),
            ("uvwxyzabcdef", weak(Run)),
            ("qwertyuiopas", weak(Run)),
            (
                "aaaaaaaaaaab",
                weak(FewDistinct {
                    distinct: 2,
                    min: 5,
                }),
            ),
            ("abcdabcdabce", Ok(())),
            ("1122334411223345", Ok(())),
            (
                "112233441122334",
                weak(FewDistinct {
                    distinct: 4,
                    min: 5,
                }),
            ),
            // Long enough, varied enough.
            ("twelve-chars", Ok(())),
            ("correct horse battery", Ok(())),
            ("a long enough phrase", Ok(())),
            ("123456789013", Ok(())),
            ("abcdefghijkm", Ok(())),
            ("Zürich Bahnhof 7", Ok(())),
        ] {
            assert_eq!(check_passphrase(p), want, "{p}");
        }
        // The period is the shortest: "abab…" is a 2-character piece, not a 4-character one.
        assert_eq!(shortest_period(&"abababab".chars().collect::<Vec<_>>()), 2);
        assert_eq!(shortest_period(&"abcabcab".chars().collect::<Vec<_>>()), 3);
        assert_eq!(shortest_period(&"abcabd".chars().collect::<Vec<_>>()), 6);
        assert_eq!(shortest_period(&"aabaaba".chars().collect::<Vec<_>>()), 3);
        // A pasted megabyte is judged at once (the period is found in linear time).
        let started = std::time::Instant::now();
        let pasted = format!("{}b", "a".repeat(1 << 20));
        assert_eq!(
            check_passphrase(&pasted),
            weak(FewDistinct {
                distinct: 2,
                min: 5
            })
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        // Length is checked first, and counted in characters.
        assert_eq!(
            check_passphrase("aaaa"),
            Err(PkiError::PassphraseTooShort { chars: 4, min: 12 })
        );
        assert_eq!(
            check_passphrase("ééééééééééé"),
            Err(PkiError::PassphraseTooShort { chars: 11, min: 12 })
        );
        // The messages say what is wrong and what to do, and never echo the passphrase.
        for (p, says) in [
            ("aaaaaaaaaaaa", "one character typed again and again"),
            (
                "passwordpassword",
                "the same 8 characters typed again and again",
            ),
            (
                "123456789012",
                "a run of consecutive letters, digits or keys",
            ),
            (
                "aaaaaaaaaaab",
                "only 2 different characters (at least 5 are needed)",
            ),
        ] {
            let e = check_passphrase(p).unwrap_err().to_string();
            assert!(e.contains(says), "{p}: {e}");
            assert!(e.contains("Choose a few unrelated words"), "{e}");
            assert!(!e.contains(p), "{e}");
        }
        // Sealing refuses them too; opening a file sealed before is not the place to judge.
        assert_eq!(
            seal(b"{}", "aaaaaaaaaaaa", KdfCost::OWASP),
            weak(OneCharacter).map(|()| String::new())
        );
    }

    #[test]
    fn short_passphrases_are_refused_when_sealing() {
        let e = seal(b"{}", "eleven-char", KdfCost::OWASP).unwrap_err();
        assert_eq!(e, PkiError::PassphraseTooShort { chars: 11, min: 12 });
        assert!(e.to_string().contains("12"), "{e}");
        assert!(seal(b"{}", "twelve-chars", KdfCost::OWASP).is_ok());
        let weak = KdfCost {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
        };
        assert!(seal(b"{}", PASS, weak).is_err());
    }
}
