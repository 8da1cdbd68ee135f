//! Sealing secrets at rest under the operator's master key: AES-256-GCM with ring.
//!
//! Used for the signing keys every node shares through the database (see
//! `docs/adr/0002-shared-signing-keys.md`). A sealed blob is
//!
//! ```text
//! version (1 byte, = 1) || nonce (12 bytes, random per seal) || ciphertext || tag (16 bytes)
//! ```
//!
//! The caller's *associated data* (for a signing key, its `kid`) is authenticated but not
//! stored: a blob opens only for the row it was sealed for, so blobs cannot be swapped between
//! rows. A wrong master key, a changed byte or a different associated value all fail the same
//! way ([`SealError::Rejected`]); GCM cannot tell them apart, and neither should an attacker.
//!
//! Random 96-bit nonces are safe here: one master key seals a handful of keys, far below the
//! 2^32 messages after which random GCM nonces would risk repeating.

use base64::Engine;
use base64::alphabet;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

/// The format version written as the first byte of every sealed blob.
const VERSION: u8 = 1;
/// Length of a master key in bytes (AES-256).
pub const MASTER_KEY_LEN: usize = 32;
/// Bytes a sealed blob adds to its plaintext: version, nonce and tag.
pub const OVERHEAD: usize = 1 + NONCE_LEN + 16;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// The configured master key is not usable. The message never contains the key itself.
    #[error("{0}")]
    BadMasterKey(String),
    /// The blob is too short to be sealed data, or was written by a newer format.
    #[error("sealed data is malformed: {0}")]
    Malformed(String),
    /// Authentication failed: wrong master key, tampered bytes, or sealed for another record.
    #[error("sealed data does not open with this master key (wrong key, or the data was altered)")]
    Rejected,
    /// The operating system's random number generator failed.
    #[error("the system random number generator failed")]
    Random,
}

/// The 256-bit key that seals secrets at rest. Its `Debug` never shows the key.
pub struct MasterKey {
    key: LessSafeKey,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(***)")
    }
}

/// Base64 that accepts padding or its absence, as operators paste keys either way.
const fn lenient(alphabet: &'static alphabet::Alphabet) -> GeneralPurpose {
    GeneralPurpose::new(
        alphabet,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    )
}
const LENIENT_STANDARD: GeneralPurpose = lenient(&alphabet::STANDARD);
const LENIENT_URL_SAFE: GeneralPurpose = lenient(&alphabet::URL_SAFE);

impl MasterKey {
    pub fn from_bytes(bytes: &[u8; MASTER_KEY_LEN]) -> Self {
        // AES-256 accepts any 32 bytes; ring only refuses keys of the wrong length.
        let unbound = UnboundKey::new(&AES_256_GCM, bytes).expect("a 32-byte AES-256 key");
        Self {
            key: LessSafeKey::new(unbound),
        }
    }

    /// Parses a key written in base64, standard (`+/`) or URL-safe (`-_`) alphabet, with or
    /// without padding; surrounding whitespace is ignored. Anything that does not decode to
    /// exactly 32 bytes is refused.
    pub fn from_base64(text: &str) -> Result<Self, SealError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(SealError::BadMasterKey("the master key is empty".into()));
        }
        let bytes = LENIENT_STANDARD
            .decode(text)
            .or_else(|_| LENIENT_URL_SAFE.decode(text))
            .map_err(|_| {
                SealError::BadMasterKey(
                    "the master key is not valid base64 (standard or URL-safe alphabet)".into(),
                )
            })?;
        let bytes: [u8; MASTER_KEY_LEN] = bytes.as_slice().try_into().map_err(|_| {
            SealError::BadMasterKey(format!(
                "the master key must be {MASTER_KEY_LEN} bytes (44 base64 characters), but it decodes to {} bytes",
                bytes.len()
            ))
        })?;
        Ok(Self::from_bytes(&bytes))
    }

    /// A fresh random key, in the standard base64 form [`MasterKey::from_base64`] reads.
    pub fn generate_base64() -> Result<String, SealError> {
        let mut bytes = [0u8; MASTER_KEY_LEN];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| SealError::Random)?;
        Ok(STANDARD.encode(bytes))
    }

    /// Encrypts `plaintext`, binding it to `associated` (e.g. the record's id).
    pub fn seal(&self, associated: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| SealError::Random)?;
        let mut out = Vec::with_capacity(plaintext.len() + OVERHEAD);
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plaintext);
        let tag = self
            .key
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(associated),
                &mut out[1 + NONCE_LEN..],
            )
            .map_err(|_| SealError::Malformed("plaintext too long for AES-GCM".into()))?;
        out.extend_from_slice(tag.as_ref());
        Ok(out)
    }

    /// Decrypts a blob made by [`MasterKey::seal`] with the same `associated` value.
    pub fn open(&self, associated: &[u8], sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        if sealed.len() < OVERHEAD {
            return Err(SealError::Malformed(format!(
                "{} bytes is shorter than the {OVERHEAD}-byte minimum",
                sealed.len()
            )));
        }
        if sealed[0] != VERSION {
            return Err(SealError::Malformed(format!(
                "unknown format version {} (this build reads version {VERSION})",
                sealed[0]
            )));
        }
        let nonce: [u8; NONCE_LEN] = sealed[1..1 + NONCE_LEN]
            .try_into()
            .expect("length checked above");
        let mut buf = sealed[1 + NONCE_LEN..].to_vec();
        let plain_len = self
            .key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(associated),
                &mut buf,
            )
            .map_err(|_| SealError::Rejected)?
            .len();
        buf.truncate(plain_len);
        Ok(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};

    fn key(byte: u8) -> MasterKey {
        MasterKey::from_bytes(&[byte; MASTER_KEY_LEN])
    }

    #[test]
    fn a_sealed_secret_opens_with_the_same_key_and_associated_data() {
        let k = key(7);
        let sealed = k.seal(b"kid-1", b"private key bytes").unwrap();
        assert_eq!(sealed[0], VERSION);
        assert_eq!(sealed.len(), b"private key bytes".len() + OVERHEAD);
        assert!(
            !sealed.windows(7).any(|w| w == b"private"),
            "the plaintext is not visible"
        );
        assert_eq!(k.open(b"kid-1", &sealed).unwrap(), b"private key bytes");
        assert_eq!(
            k.open(b"", &k.seal(b"", b"").unwrap()).unwrap(),
            b"",
            "empty values round-trip"
        );
    }

    #[test]
    fn every_seal_uses_a_fresh_nonce() {
        let k = key(7);
        assert_ne!(
            k.seal(b"a", b"same").unwrap(),
            k.seal(b"a", b"same").unwrap()
        );
    }

    #[test]
    fn a_wrong_master_key_is_rejected() {
        let sealed = key(7).seal(b"kid-1", b"secret").unwrap();
        assert_eq!(key(8).open(b"kid-1", &sealed), Err(SealError::Rejected));
    }

    #[test]
    fn any_tampered_byte_is_rejected() {
        let k = key(7);
        let sealed = k.seal(b"kid-1", b"secret").unwrap();
        for i in 1..sealed.len() {
            let mut evil = sealed.clone();
            evil[i] ^= 0x01;
            assert_eq!(
                k.open(b"kid-1", &evil),
                Err(SealError::Rejected),
                "byte {i}"
            );
        }
        let mut other_version = sealed.clone();
        other_version[0] = 2;
        assert!(matches!(
            k.open(b"kid-1", &other_version),
            Err(SealError::Malformed(_))
        ));
        assert!(matches!(
            k.open(b"kid-1", &sealed[..OVERHEAD - 1]),
            Err(SealError::Malformed(_))
        ));
        assert_eq!(
            k.open(b"kid-1", &sealed[..sealed.len() - 1]),
            Err(SealError::Rejected),
            "truncated"
        );
    }

    #[test]
    fn a_blob_moved_to_another_record_is_rejected() {
        let k = key(7);
        let sealed = k.seal(b"kid-1", b"secret").unwrap();
        assert_eq!(k.open(b"kid-2", &sealed), Err(SealError::Rejected));
    }

    #[test]
    fn master_keys_parse_from_either_base64_alphabet_with_or_without_padding() {
        // 0xfb 0xff… encodes with `+` / `/` in standard and `-` / `_` in URL-safe base64.
        let bytes = [0xfb_u8; MASTER_KEY_LEN];
        let k = MasterKey::from_bytes(&bytes);
        let sealed = k.seal(b"x", b"y").unwrap();
        for text in [
            STANDARD.encode(bytes),
            URL_SAFE.encode(bytes),
            URL_SAFE_NO_PAD.encode(bytes),
            format!("  {}\n", STANDARD.encode(bytes)),
        ] {
            let parsed = MasterKey::from_base64(&text).unwrap();
            assert_eq!(parsed.open(b"x", &sealed).unwrap(), b"y", "{text:?}");
        }
        let generated = MasterKey::generate_base64().unwrap();
        assert_eq!(generated.len(), 44);
        MasterKey::from_base64(&generated).unwrap();
        assert_ne!(generated, MasterKey::generate_base64().unwrap());
    }

    #[test]
    fn master_keys_of_the_wrong_size_or_alphabet_are_refused_clearly() {
        let short = STANDARD.encode([1u8; 16]);
        let err = MasterKey::from_base64(&short).unwrap_err().to_string();
        assert!(
            err.contains("must be 32 bytes") && err.contains("16 bytes"),
            "{err}"
        );
        let long = STANDARD.encode([1u8; 33]);
        assert!(MasterKey::from_base64(&long).is_err());
        let err = MasterKey::from_base64("not base64!")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not valid base64"), "{err}");
        assert!(
            !err.contains("not base64!"),
            "the key is never echoed: {err}"
        );
        assert!(MasterKey::from_base64("").is_err());
        assert!(MasterKey::from_base64("   ").is_err());
    }

    #[test]
    fn debug_never_shows_the_key() {
        assert_eq!(format!("{:?}", key(7)), "MasterKey(***)");
    }
}
