//! How this Puskesmas reaches BPJS: where (P-Care and Antrean FKTP, development or
//! production, or given addresses for tests), who it is (cons-id, provider code, the P-Care
//! login name), in `bpjs.json` beside the store; and its secrets (the consumer secret, the
//! two user keys, the P-Care password) in `bpjs-secrets` beside it, owner-only, never in
//! the SQLite file.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::BpjsError;

const LINK_FILE: &str = "bpjs.json";
const SECRETS_FILE: &str = "bpjs-secrets";
const CA_FILE: &str = "bpjs-ca.pem";

/// BPJS's two environments, as BPJS names their addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Environment {
    /// `apijkn-dev`: for trying the bridge out.
    Development,
    /// `apijkn`: the real one.
    Production,
}

impl Environment {
    /// P-Care's and Antrean FKTP's service bases.
    pub fn urls(self) -> (&'static str, &'static str) {
        match self {
            Self::Development => (
                "https://apijkn-dev.bpjs-kesehatan.go.id/pcare-rest-dev",
                "https://apijkn-dev.bpjs-kesehatan.go.id/antreanfktp_dev",
            ),
            Self::Production => (
                "https://apijkn.bpjs-kesehatan.go.id/pcare-rest",
                "https://apijkn.bpjs-kesehatan.go.id/antreanfktp",
            ),
        }
    }
}

/// Where BPJS is and who this Puskesmas is to it; nothing secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BpjsLink {
    /// P-Care's base, `https://HOST/pcare-rest`.
    pub pcare_url: String,
    /// Antrean FKTP's base, `https://HOST/antreanfktp`.
    pub antrean_url: String,
    /// The consumer id BPJS gave this Puskesmas.
    pub cons_id: String,
    /// The P-Care login name.
    pub pcare_user: String,
    /// The Puskesmas's provider code (kdProvider).
    pub provider_code: String,
}

/// A secret: prints as `…`; a trailing newline of its file is not part of it.
#[derive(Clone)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// The secret as read or typed.
    pub fn new(text: &str) -> Self {
        Self(Zeroizing::new(
            text.trim_end_matches(['\r', '\n']).to_owned(),
        ))
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("…")
    }
}

/// What BPJS must never see written anywhere but in `bpjs-secrets`.
#[derive(Clone, Debug)]
pub struct BpjsSecrets {
    /// The consumer secret (signs every request, opens every answer).
    pub secret: Secret,
    /// P-Care's user key.
    pub pcare_user_key: Secret,
    /// Antrean FKTP's user key.
    pub antrean_user_key: Secret,
    /// The P-Care password.
    pub pcare_password: Secret,
}

#[derive(Serialize, Deserialize)]
struct SecretsFile {
    secret: String,
    pcare_user_key: String,
    antrean_user_key: String,
    pcare_password: String,
}

fn beside(store: &Path, name: &str) -> PathBuf {
    store
        .parent()
        .map_or_else(|| PathBuf::from(name), |folder| folder.join(name))
}

fn file_error(path: &Path, e: impl std::fmt::Display) -> BpjsError {
    BpjsError::File {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), BpjsError> {
    kartika_durable::replace(path, bytes, kartika_durable::Readers::Owner)
        .map_err(|e| file_error(path, e))
}

/// Keeps the link, the secrets and (when given) a CA to trust beside the store at `store`.
pub fn save(
    store: &Path,
    link: &BpjsLink,
    secrets: &BpjsSecrets,
    ca_pem: Option<&[u8]>,
) -> Result<(), BpjsError> {
    let path = beside(store, LINK_FILE);
    let json = serde_json::to_vec_pretty(link).map_err(|e| file_error(&path, e))?;
    write_private(&path, &json)?;
    let kept = Zeroizing::new(
        serde_json::to_vec(&SecretsFile {
            secret: secrets.secret.expose().to_owned(),
            pcare_user_key: secrets.pcare_user_key.expose().to_owned(),
            antrean_user_key: secrets.antrean_user_key.expose().to_owned(),
            pcare_password: secrets.pcare_password.expose().to_owned(),
        })
        .map_err(|e| file_error(&beside(store, SECRETS_FILE), e))?,
    );
    write_private(&beside(store, SECRETS_FILE), &kept)?;
    let ca = beside(store, CA_FILE);
    match ca_pem {
        Some(pem) => write_private(&ca, pem),
        None => match std::fs::remove_file(&ca) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(file_error(&ca, e)),
            _ => Ok(()),
        },
    }
}

/// What `save` kept.
#[derive(Debug)]
pub struct Kept {
    /// Where BPJS is and who this Puskesmas is to it.
    pub link: BpjsLink,
    /// Its secrets.
    pub secrets: BpjsSecrets,
    /// CA certificates to trust instead of the system's, when given.
    pub ca_pem: Option<Vec<u8>>,
}

impl Kept {
    /// Whether `other` is the same set-up, secrets included.
    pub fn same_as(&self, other: &Kept) -> bool {
        let (a, b) = (&self.secrets, &other.secrets);
        self.link == other.link
            && self.ca_pem == other.ca_pem
            && a.secret.expose() == b.secret.expose()
            && a.pcare_user_key.expose() == b.pcare_user_key.expose()
            && a.antrean_user_key.expose() == b.antrean_user_key.expose()
            && a.pcare_password.expose() == b.pcare_password.expose()
    }
}

/// What `save` kept beside the store at `store`: `None` when BPJS was never set up.
pub fn load(store: &Path) -> Result<Option<Kept>, BpjsError> {
    let path = beside(store, LINK_FILE);
    let link: BpjsLink = match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| file_error(&path, e))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(file_error(&path, e)),
    };
    let path = beside(store, SECRETS_FILE);
    let bytes = Zeroizing::new(std::fs::read(&path).map_err(|e| file_error(&path, e))?);
    // The parser's own words could quote the file: say only that it is damaged.
    let kept: SecretsFile = serde_json::from_slice(&bytes)
        .map_err(|_| file_error(&path, "it is damaged; run `kartika bpjs setup` again"))?;
    let secrets = BpjsSecrets {
        secret: Secret::new(&kept.secret),
        pcare_user_key: Secret::new(&kept.pcare_user_key),
        antrean_user_key: Secret::new(&kept.antrean_user_key),
        pcare_password: Secret::new(&kept.pcare_password),
    };
    let ca = beside(store, CA_FILE);
    let ca = match std::fs::read(&ca) {
        Ok(pem) => Some(pem),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(file_error(&ca, e)),
    };
    Ok(Some(Kept {
        link,
        secrets,
        ca_pem: ca,
    }))
}

/// Removes what `save` kept beside the store at `store`: BPJS is not set up any more.
pub fn forget(store: &Path) -> Result<(), BpjsError> {
    for name in [LINK_FILE, SECRETS_FILE, CA_FILE] {
        let path = beside(store, name);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(file_error(&path, e)),
            _ => {}
        }
    }
    Ok(())
}
