//! Key and certificate files: private keys as PKCS#8 PEM (mode 0600), public keys as
//! SubjectPublicKeyInfo PEM (both readable by openssl), node certificates as the 7F21
//! bytes the card holds.

use std::fs;
use std::path::Path;

use anyhow::{bail, Context, Result};
use kartika_card::crypto::{NodeCertificate, NodeCredentials, PublicKey};
use p256::ecdsa::{SigningKey, VerifyingKey};
use p256::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};

/// Writes a file that must not exist yet; private keys get mode 0600.
fn write_new(path: &Path, bytes: &[u8], private: bool) -> Result<()> {
    let readers = if private {
        kartika_durable::Readers::Owner
    } else {
        kartika_durable::Readers::Anyone
    };
    kartika_durable::create_new(path, bytes, readers).with_context(|| {
        if path.exists() {
            format!(
                "{} already exists; refusing to overwrite a key",
                path.display()
            )
        } else {
            format!("cannot create {}", path.display())
        }
    })
}

pub fn write_private_key(path: &Path, key: &SigningKey) -> Result<()> {
    let pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .context("cannot encode the private key")?;
    write_new(path, pem.as_bytes(), true)
}

pub fn write_public_key(path: &Path, key: &PublicKey) -> Result<()> {
    let pem = key
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .context("cannot encode the public key")?;
    write_new(path, pem.as_bytes(), false)
}

pub fn read_private_key(path: &Path) -> Result<SigningKey> {
    let pem =
        fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    SigningKey::from_pkcs8_pem(&pem).map_err(|e| {
        anyhow::anyhow!(
            "{} is not a P-256 private key in PKCS#8 PEM: {e}",
            path.display()
        )
    })
}

pub fn read_public_key(path: &Path) -> Result<PublicKey> {
    let pem =
        fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    VerifyingKey::from_public_key_pem(&pem)
        .map(PublicKey::from_verifying_key)
        .map_err(|e| anyhow::anyhow!("{} is not a P-256 public key in PEM: {e}", path.display()))
}

pub fn write_certificate(path: &Path, certificate: &NodeCertificate) -> Result<()> {
    fs::write(path, certificate.to_tlv())
        .with_context(|| format!("cannot write {}", path.display()))
}

pub fn read_certificate(path: &Path) -> Result<NodeCertificate> {
    let bytes = fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    NodeCertificate::from_tlv(&bytes)
        .with_context(|| format!("{} is not a node certificate", path.display()))
}

/// A node's folder: node.key and node.cert, checked to belong together.
pub fn read_node_credentials(dir: &Path) -> Result<NodeCredentials> {
    let key = read_private_key(&dir.join("node.key"))?;
    let certificate_path = dir.join("node.cert");
    if !certificate_path.exists() {
        bail!(
            "{} is missing; certify the node first (kartika root certify --node {})",
            certificate_path.display(),
            dir.display()
        );
    }
    let certificate = read_certificate(&certificate_path)?;
    NodeCredentials::new(key, certificate).with_context(|| format!("in {}", dir.display()))
}
