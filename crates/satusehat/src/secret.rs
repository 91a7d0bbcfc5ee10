//! The client secret and the CA: files of the data folder, owner-only, never in the store.

use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::SatusehatError;

/// The secret's file, in the folder beside the store.
pub const SECRET_FILE: &str = "satusehat-secret";
/// The CA certificates to trust instead of the system's (tests, a proxy), when given.
const CA_FILE: &str = "satusehat-ca.pem";

/// The client secret: prints as `…` wherever it is formatted.
#[derive(Clone)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// The secret as typed or read; a trailing newline is not part of it.
    pub fn new(text: &str) -> Self {
        Self(Zeroizing::new(
            text.trim_end_matches(['\r', '\n']).to_owned(),
        ))
    }

    /// For the token request's body only.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

/// On the wire (the admin's set-up sent to the server PC, over the LAN's TLS) the secret
/// travels as text; it is formatted nowhere.
impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, to: S) -> Result<S::Ok, S::Error> {
        to.serialize_str(self.expose())
    }
}

impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(from: D) -> Result<Self, D::Error> {
        let text = Zeroizing::new(String::deserialize(from)?);
        Ok(Self::new(&text))
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("…")
    }
}

fn beside(store: &Path, name: &str) -> PathBuf {
    store
        .parent()
        .map_or_else(|| PathBuf::from(name), |folder| folder.join(name))
}

/// Keeps the secret (and the CA, when given) beside the store at `store`, owner-only.
pub fn save_link_files(
    store: &Path,
    secret: &Secret,
    ca_pem: Option<&[u8]>,
) -> Result<(), SatusehatError> {
    write_private(&beside(store, SECRET_FILE), secret.expose().as_bytes())?;
    let ca = beside(store, CA_FILE);
    match ca_pem {
        Some(pem) => write_private(&ca, pem),
        None => match std::fs::remove_file(&ca) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(file_error(&ca, &e)),
            _ => Ok(()),
        },
    }
}

/// The secret kept beside the store at `store`.
pub fn read_secret(store: &Path) -> Result<Secret, SatusehatError> {
    let path = beside(store, SECRET_FILE);
    let text =
        Zeroizing::new(
            std::fs::read_to_string(&path).map_err(|e| SatusehatError::Secret {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?,
        );
    Ok(Secret::new(&text))
}

/// The CA kept beside the store at `store`, if one was given at set-up.
pub fn read_ca(store: &Path) -> Result<Option<Vec<u8>>, SatusehatError> {
    let path = beside(store, CA_FILE);
    match std::fs::read(&path) {
        Ok(pem) => Ok(Some(pem)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(file_error(&path, &e)),
    }
}

fn file_error(path: &Path, e: &std::io::Error) -> SatusehatError {
    SatusehatError::File {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

/// A power cut leaves the old file or the new, and no one but the owner reads either.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), SatusehatError> {
    kartika_durable::replace(path, bytes, kartika_durable::Readers::Owner)
        .map_err(|e| file_error(path, &e))
}
