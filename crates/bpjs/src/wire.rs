//! What every request to BPJS carries and how every answer comes back, as BPJS publishes
//! it for P-Care and Antrean FKTP: the consumer's HMAC signature over its id and the time,
//! and the `response` of an answer encrypted with a key made of the consumer's id, its
//! secret and the request's own timestamp, then LZ-String-compressed.

use aes::cipher::{block_padding::Pkcs7, BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::lz;

type Aes256CbcDec = cbc::Decryptor<aes::Aes256>;
type Aes256CbcEnc = cbc::Encryptor<aes::Aes256>;

/// Why an answer's `response` could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WireError {
    /// Not base64.
    #[error("BPJS's answer is not base64 where an encrypted response was expected")]
    NotBase64,
    /// The key does not open it: another consumer's, or another request's timestamp.
    #[error("BPJS's answer does not open with this consumer's key and the request's time; check the cons-id and secret")]
    WrongKey,
    /// Opened, but not LZ-String's compression of a text.
    #[error("BPJS's answer opened but is not a compressed text")]
    NotCompressed,
}

/// `X-signature`: base64(HMAC-SHA256(key = the consumer's secret, message = cons-id + "&"
/// + timestamp)).
pub fn signature(cons_id: &str, secret: &str, timestamp: &str) -> String {
    sign(&format!("{cons_id}&{timestamp}"), secret)
}

/// base64(HMAC-SHA256(key, message)), as BPJS's own example states it.
pub fn sign(message: &str, key: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(message.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The key and IV of one request's answer: SHA-256(cons-id + secret + timestamp), its
/// first sixteen bytes the IV.
fn key_of(cons_id: &str, secret: &str, timestamp: &str) -> ([u8; 32], [u8; 16]) {
    let key: [u8; 32] = Sha256::digest(format!("{cons_id}{secret}{timestamp}")).into();
    let mut iv = [0u8; 16];
    iv.copy_from_slice(&key[..16]);
    (key, iv)
}

/// Opens an encrypted `response`: base64, AES-256-CBC with PKCS#7, then LZ-String's
/// `decompressFromEncodedURIComponent`; the JSON text it held.
pub fn open_response(
    cons_id: &str,
    secret: &str,
    timestamp: &str,
    response: &str,
) -> Result<String, WireError> {
    let sealed = base64::engine::general_purpose::STANDARD
        .decode(response.trim())
        .map_err(|_| WireError::NotBase64)?;
    let (key, iv) = key_of(cons_id, secret, timestamp);
    let opened = Aes256CbcDec::new(&key.into(), &iv.into())
        .decrypt_padded_vec_mut::<Pkcs7>(&sealed)
        .map_err(|_| WireError::WrongKey)?;
    let packed = String::from_utf8(opened).map_err(|_| WireError::WrongKey)?;
    lz::decompress_from_encoded_uri_component(&packed).map_err(|_| WireError::NotCompressed)
}

/// Seals `json` as BPJS seals a `response` (for the testkit's BPJS, which must answer as
/// the real one does).
pub fn seal_response(cons_id: &str, secret: &str, timestamp: &str, json: &str) -> String {
    let packed = lz::compress_to_encoded_uri_component(json);
    let (key, iv) = key_of(cons_id, secret, timestamp);
    let sealed = Aes256CbcEnc::new(&key.into(), &iv.into())
        .encrypt_padded_vec_mut::<Pkcs7>(packed.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(sealed)
}

/// `X-authorization` for P-Care: "Basic " + base64(username:password:095).
pub fn pcare_authorization(username: &str, password: &str) -> String {
    let login = format!("{username}:{password}:095");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(login)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_matches_bpjss_own_example() {
        assert_eq!(
            sign("aaa", "bbb"),
            "20BKS3PWnD3XU4JbSSZvVlGi2WWnDa8Sv9uHJ+wsELA="
        );
        assert_eq!(signature("aa", "bbb", "a").len(), 44);
        assert_eq!(signature("aa", "bbb", "a"), sign("aa&a", "bbb"));
    }

    #[test]
    fn a_sealed_response_opens_with_the_same_request_only() {
        let json = r#"{"noKartu":"0001234567890","aktif":true}"#;
        let sealed = seal_response("1234", "rahasia", "1733500000", json);
        assert_eq!(
            open_response("1234", "rahasia", "1733500000", &sealed).unwrap(),
            json
        );
        assert_ne!(
            open_response("1234", "rahasia", "1733500001", &sealed),
            Ok(json.to_owned()),
            "another request's timestamp"
        );
        assert_ne!(
            open_response("1234", "lain", "1733500000", &sealed),
            Ok(json.to_owned())
        );
        assert_eq!(
            open_response("1234", "rahasia", "1733500000", "%%%"),
            Err(WireError::NotBase64)
        );
    }

    /// Sealed by Node's crypto and lz-string 1.5.0, as BPJS's own servers seal it.
    #[test]
    fn an_answer_sealed_elsewhere_opens() {
        let sealed = "959ntaF+Z02J9vH7FR0SnwQNL2FXe27VbUH4hMU+T24vJFdD+Y3IQ/tQeVsWwdjN10HnCxBzOZnISCKYpqD6lltYxxa0kOSjFSAw3DLy/Fe6wwqyyMZuaP2SB0REL6aHuT+4cD5x27YnWQLJcGb3V/NTbI89zkiKDPDwhTXYtDk=";
        let json =
            r#"{"noKartu":"0001234567890","nama":"SITI RAHAYU","aktif":true,"ketAktif":"AKTIF"}"#;
        assert_eq!(
            open_response("1234", "rahasia", "1733500000", sealed).unwrap(),
            json
        );
        assert_eq!(seal_response("1234", "rahasia", "1733500000", json), sealed);
    }

    #[test]
    fn the_pcare_login_is_username_password_and_095() {
        assert_eq!(
            pcare_authorization("user", "pass"),
            "Basic dXNlcjpwYXNzOjA5NQ=="
        );
    }
}
