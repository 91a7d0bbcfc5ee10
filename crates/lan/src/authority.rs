//! TLS without a public CA. The Puskesmas makes its own certificate authority on the
//! server PC; its node key (which the registry root certified) vouches for it by signing
//! the CA certificate's hash. A workstation that trusts the registry root checks the
//! voucher once, then trusts only that CA: the server's certificate (renewed at each start)
//! must name [`SERVER_NAME`] and chain to it, and the workstation's own certificate, issued
//! when an admin approves it, chains to it too.

use std::path::Path;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PublicKeyData, SignatureAlgorithm, PKCS_ECDSA_P256_SHA256,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{crypto, RootCertStore, ServerConfig};

use kartika_card::crypto::{NodeCertificate, NodeCredentials, PublicKey, TrustAnchors};

/// The name every clinic server's certificate carries and every workstation checks,
/// whatever address it reaches the server at.
pub const SERVER_NAME: &str = "kartika-server.lan";
/// What the node key signs: this label, then the SHA-256 of the CA certificate.
const VOUCHER_LABEL: &[u8] = b"KARTIKA-LAN-CA-V1";
const CA_KEY: &str = "puskesmas-ca.key";
const CA_CERT: &str = "puskesmas-ca.pem";
const VOUCHER: &str = "puskesmas-ca.voucher";

/// Why the Puskesmas's authority cannot be made, loaded or trusted.
#[derive(Debug, thiserror::Error)]
pub enum AuthorityError {
    /// A file of the authority.
    #[error("{path}: {reason}")]
    File {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// A certificate could not be made.
    #[error("a certificate could not be made: {0}")]
    Certificate(String),
    /// The voucher does not hold.
    #[error("the server's certificate authority is not this Puskesmas's: {0}")]
    NotVouched(String),
}

/// The CA certificate and the node's word for it: what a workstation checks once.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Voucher {
    /// The CA certificate, PEM.
    pub ca_pem: String,
    /// The node certificate (7F21 TLV, hex) whose key signed.
    pub node_certificate: String,
    /// The node key's signature over the label and the CA certificate's SHA-256, hex.
    pub signature: String,
}

/// The Puskesmas's certificate authority, on the server PC.
pub struct Authority {
    ca: Issuer<'static, KeyPair>,
    ca_der: Vec<u8>,
    voucher: Voucher,
}

impl Authority {
    /// Loads the authority kept in `folder`, or makes one vouched for by `node` when the
    /// folder holds none. The CA key is written readable by its owner only.
    pub fn open_or_create(folder: &Path, node: &NodeCredentials) -> Result<Self, AuthorityError> {
        if !folder.join(CA_KEY).exists() {
            create(folder, node)?;
        }
        Self::open(folder, node.certificate().node_id())
    }

    /// Loads the authority of the Puskesmas `facility_code` kept in `folder` (to approve a
    /// workstation on the server PC while the server runs).
    pub fn open(folder: &Path, facility_code: &str) -> Result<Self, AuthorityError> {
        let key_path = folder.join(CA_KEY);
        let key_pem = read(&key_path)?;
        let key = KeyPair::from_pem(&key_pem).map_err(|e| file_error(&key_path, e))?;
        let ca_pem = read(&folder.join(CA_CERT))?;
        let ca_der = pem_body(&ca_pem).map_err(|e| file_error(&folder.join(CA_CERT), e))?;
        let voucher_path = folder.join(VOUCHER);
        let voucher: Voucher = serde_json::from_str(&read(&voucher_path)?)
            .map_err(|e| file_error(&voucher_path, e))?;
        Ok(Self {
            ca: Issuer::new(ca_params(facility_code), key),
            ca_der,
            voucher,
        })
    }

    /// What the server hands a workstation being set up.
    pub fn voucher(&self) -> &Voucher {
        &self.voucher
    }

    /// A TLS configuration with a fresh server certificate (naming [`SERVER_NAME`], a year
    /// long), asking for a workstation's certificate and accepting a connection without one
    /// (the set-up's own requests; the server refuses everything else without one).
    pub fn server_tls(&self) -> Result<tokio_rustls::TlsAcceptor, AuthorityError> {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(cert_error)?;
        let mut params =
            CertificateParams::new(vec![SERVER_NAME.to_owned()]).map_err(cert_error)?;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        valid_for(&mut params, 365);
        let certificate = params.signed_by(&key, &self.ca).map_err(cert_error)?;
        let provider = Arc::new(crypto::ring::default_provider());
        let mut roots = RootCertStore::empty();
        roots
            .add(CertificateDer::from(self.ca_der.clone()))
            .map_err(cert_error)?;
        let clients =
            WebPkiClientVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
                .allow_unauthenticated()
                .build()
                .map_err(cert_error)?;
        // TLS 1.3 only: Kartika's own PCs all speak it, and in 1.2 the workstation's
        // certificate (its name) would cross the LAN in the clear.
        let config = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&tokio_rustls::rustls::version::TLS13])
            .map_err(cert_error)?
            .with_client_cert_verifier(clients)
            .with_single_cert(
                vec![
                    certificate.der().clone(),
                    CertificateDer::from(self.ca_der.clone()),
                ],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            )
            .map_err(cert_error)?;
        Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
    }

    /// A workstation's certificate for its P-256 public key (65 bytes, uncompressed), five
    /// years long, in DER.
    pub fn workstation_certificate(
        &self,
        name: &str,
        public_key: &[u8],
    ) -> Result<Vec<u8>, AuthorityError> {
        let key = WorkstationKey::new(public_key)?;
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(cert_error)?;
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        valid_for(&mut params, 5 * 365);
        let certificate = params.signed_by(&key, &self.ca).map_err(cert_error)?;
        Ok(certificate.der().to_vec())
    }
}

/// Checks that `voucher` is the word of the Puskesmas `facility_code`'s node, under a
/// registry root of `trust`; answers the CA certificate (PEM) to pin: the one the node
/// signed, written anew from the bytes checked, never the text as it came. A voucher
/// holding anything besides that one certificate is refused: a certificate appended by a
/// server in the middle would otherwise be pinned beside the genuine one.
pub fn verify_voucher(
    voucher: &Voucher,
    facility_code: &str,
    trust: &TrustAnchors,
) -> Result<String, AuthorityError> {
    let refuse = |why: &str| AuthorityError::NotVouched(why.to_owned());
    let node_tlv = hex::decode(&voucher.node_certificate)
        .map_err(|_| refuse("the node certificate is not hex"))?;
    let node = NodeCertificate::from_tlv(&node_tlv).map_err(|e| refuse(&e.to_string()))?;
    if !trust.certifies(&node) {
        return Err(refuse(
            "its node certificate is not signed by a registry root this workstation trusts",
        ));
    }
    if node.node_id() != facility_code {
        return Err(AuthorityError::NotVouched(format!(
            "it is vouched for by node {}, not by {facility_code}",
            node.node_id()
        )));
    }
    let ca_der = only_certificate(&voucher.ca_pem).map_err(|e| refuse(&e))?;
    let signature =
        hex::decode(&voucher.signature).map_err(|_| refuse("the signature is not hex"))?;
    if !node
        .public_key()
        .verifies(&voucher_message(&ca_der), &signature)
    {
        return Err(refuse(
            "the node's signature does not match the CA certificate",
        ));
    }
    Ok(certificate_pem(&ca_der))
}

/// The DER of the one certificate `pem` holds; an error when it holds none, more than
/// one, or anything else (a key, a second block of another kind).
pub fn only_certificate(pem: &str) -> Result<Vec<u8>, String> {
    let blocks = pem.matches("-----BEGIN ").count();
    if blocks != 1 {
        return Err(format!(
            "it must hold exactly one CA certificate, and holds {blocks} PEM blocks"
        ));
    }
    pem_body(pem)
}

/// A certificate as PEM, written from its DER.
fn certificate_pem(der: &[u8]) -> String {
    let body = ::pem::Pem::new("CERTIFICATE", der.to_vec());
    ::pem::encode(&body)
}

/// The SHA-256 of a certificate, as the server recognises a workstation by it.
pub fn fingerprint(certificate_der: &[u8]) -> [u8; 32] {
    Sha256::digest(certificate_der).into()
}

/// A workstation's new key: the private key (PKCS#8 PEM) to keep, and the public key to
/// send for approval.
pub fn new_workstation_key() -> Result<(String, Vec<u8>), AuthorityError> {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(cert_error)?;
    Ok((key.serialize_pem(), key.public_key_raw().to_vec()))
}

fn create(folder: &Path, node: &NodeCredentials) -> Result<(), AuthorityError> {
    std::fs::create_dir_all(folder).map_err(|e| file_error(folder, e))?;
    // The authority's folder is its owner's only, whatever the umask or the folder above.
    kartika_durable::restrict_to_owner(folder).map_err(|e| file_error(folder, e))?;
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(cert_error)?;
    let certificate = ca_params(node.certificate().node_id())
        .self_signed(&key)
        .map_err(cert_error)?;
    let voucher = Voucher {
        ca_pem: certificate.pem(),
        node_certificate: hex::encode(node.certificate().to_tlv()),
        signature: hex::encode(node.sign(&voucher_message(certificate.der()))),
    };
    let voucher_json = serde_json::to_string_pretty(&voucher).map_err(cert_error)?;
    // The key last: a folder with a key holds the whole authority.
    write(&folder.join(VOUCHER), voucher_json.as_bytes(), false)?;
    write(&folder.join(CA_CERT), certificate.pem().as_bytes(), false)?;
    write(&folder.join(CA_KEY), key.serialize_pem().as_bytes(), true)
}

/// The CA's name and constraints; the same each time, so a loaded CA key issues
/// certificates that chain to the certificate made with it.
fn ca_params(facility_code: &str) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name.push(
        DnType::CommonName,
        format!("Kartika Puskesmas {facility_code} CA"),
    );
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    valid_for(&mut params, 20 * 365);
    params
}

/// From yesterday (a PC's clock a little behind) for `days`.
fn valid_for(params: &mut CertificateParams, days: i64) {
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(days);
}

fn voucher_message(ca_der: &[u8]) -> Vec<u8> {
    let mut message = VOUCHER_LABEL.to_vec();
    message.extend_from_slice(&Sha256::digest(ca_der));
    message
}

/// A workstation's public key, checked to be a point of P-256.
struct WorkstationKey(Vec<u8>);

impl WorkstationKey {
    fn new(raw: &[u8]) -> Result<Self, AuthorityError> {
        PublicKey::from_bytes(raw)
            .map_err(|e| AuthorityError::Certificate(format!("the workstation's key: {e}")))?;
        Ok(Self(raw.to_vec()))
    }
}

impl PublicKeyData for WorkstationKey {
    fn der_bytes(&self) -> &[u8] {
        &self.0
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        &PKCS_ECDSA_P256_SHA256
    }
}

/// The DER inside the first PEM block.
fn pem_body(pem: &str) -> Result<Vec<u8>, String> {
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    CertificateDer::from_pem_slice(pem.as_bytes())
        .map(|der| der.to_vec())
        .map_err(|e| format!("not a PEM certificate: {e}"))
}

fn read(path: &Path) -> Result<String, AuthorityError> {
    std::fs::read_to_string(path).map_err(|e| file_error(path, e))
}

fn write(path: &Path, bytes: &[u8], private: bool) -> Result<(), AuthorityError> {
    let readers = if private {
        kartika_durable::Readers::Owner
    } else {
        kartika_durable::Readers::Anyone
    };
    kartika_durable::replace(path, bytes, readers).map_err(|e| file_error(path, e))
}

fn file_error(path: &Path, error: impl std::fmt::Display) -> AuthorityError {
    AuthorityError::File {
        path: path.display().to_string(),
        reason: error.to_string(),
    }
}

fn cert_error(error: impl std::fmt::Display) -> AuthorityError {
    AuthorityError::Certificate(error.to_string())
}
