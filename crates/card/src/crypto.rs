//! ECDSA P-256 with SHA-256 (card-application.md §5): public keys as 65-byte points,
//! DER signatures, the domain-separated messages, node certificates and the security object.

use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use time::Date;

use crate::model::{format_compact_date, parse_compact_date};
use crate::tlv::{encode, encode_into, tags, Template};
use crate::DataError;

/// The label of node certificates.
pub const LABEL_NODE: &[u8] = b"KARTIKA-NODE-V1";
/// The label of the issuer's signature over a card.
pub const LABEL_CARD: &[u8] = b"KARTIKA-CARD-V1";
/// The label of INTERNAL AUTHENTICATE.
pub const LABEL_AUTH: &[u8] = b"KARTIKA-AUTH-V1";
/// The label of EXTERNAL AUTHENTICATE.
pub const LABEL_TERMINAL: &[u8] = b"KARTIKA-TERM-V1";
/// The longest DER signature of P-256.
pub const MAX_SIGNATURE_LEN: usize = 72;

/// A P-256 public key, kept with its 65-byte uncompressed encoding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    key: VerifyingKey,
    bytes: [u8; 65],
}

impl PublicKey {
    /// Reads an uncompressed point (`04 || X || Y`) that lies on the curve.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DataError> {
        let array: [u8; 65] = bytes
            .try_into()
            .map_err(|_| DataError::invalid("public key", "must be 65 bytes"))?;
        if array[0] != 0x04 {
            return Err(DataError::invalid(
                "public key",
                "must be an uncompressed point",
            ));
        }
        let key = VerifyingKey::from_sec1_bytes(&array)
            .map_err(|_| DataError::invalid("public key", "is not a point on P-256"))?;
        Ok(Self { key, bytes: array })
    }

    /// The public half of a signing key.
    pub fn of(signing_key: &SigningKey) -> Self {
        Self::from_verifying_key(*signing_key.verifying_key())
    }

    /// Wraps a verifying key.
    pub fn from_verifying_key(key: VerifyingKey) -> Self {
        let point = key.to_encoded_point(false);
        let mut bytes = [0u8; 65];
        bytes.copy_from_slice(point.as_bytes());
        Self { key, bytes }
    }

    /// The 65-byte encoding.
    pub fn to_bytes(&self) -> [u8; 65] {
        self.bytes
    }

    /// The key for `p256` APIs.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.key
    }

    /// Whether `signature` (DER, low-s or high-s: Java Cards do not normalize s) signs
    /// `message` under this key.
    ///
    /// Verification is the hot path of every tap, so it runs on `ring`, whose assembly
    /// P-256 is about ten times faster here than the pure-Rust `p256` (see
    /// docs/benchmarks.md); `p256` keeps keys, encodings and signing.
    pub fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        if signature.len() > MAX_SIGNATURE_LEN {
            return false;
        }
        ring::signature::UnparsedPublicKey::new(
            &ring::signature::ECDSA_P256_SHA256_ASN1,
            &self.bytes,
        )
        .verify(message, signature)
        .is_ok()
    }
}

/// Signs `message` (SHA-256 inside) and returns the DER signature.
pub fn sign(key: &SigningKey, message: &[u8]) -> Vec<u8> {
    let signature: Signature = key.sign(message);
    signature.to_der().as_bytes().to_vec()
}

/// What a node may do, from its certificate (DF53).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Roles(pub u8);

impl Roles {
    /// Bit 0: may authenticate as a staff terminal.
    pub const TERMINAL: u8 = 0x01;
    /// Bit 1: may issue cards.
    pub const ISSUER: u8 = 0x02;

    /// Whether the terminal role is held.
    pub fn terminal(self) -> bool {
        self.0 & Self::TERMINAL != 0
    }

    /// Whether the card-issuer role is held.
    pub fn issuer(self) -> bool {
        self.0 & Self::ISSUER != 0
    }

    /// Parses a comma-separated list such as `terminal,issuer`.
    pub fn parse_list(text: &str) -> Result<Self, DataError> {
        let mut bits = 0;
        for name in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            bits |= match name {
                "terminal" => Self::TERMINAL,
                "issuer" => Self::ISSUER,
                other => {
                    return Err(DataError::invalid(
                        "roles",
                        format!("unknown role \"{other}\"; the roles are terminal and issuer"),
                    ))
                }
            };
        }
        if bits == 0 {
            return Err(DataError::invalid(
                "roles",
                "name at least one of terminal, issuer",
            ));
        }
        Ok(Self(bits))
    }
}

/// 7F21: the registry root's statement that a node's key belongs to a Puskesmas, with its
/// roles and an end date.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeCertificate {
    node_id: String,
    public_key: PublicKey,
    valid_until: Date,
    roles: Roles,
    signature: Vec<u8>,
}

impl NodeCertificate {
    /// The root certifies a node.
    pub fn issue(
        root: &SigningKey,
        node_id: &str,
        public_key: PublicKey,
        valid_until: Date,
        roles: Roles,
    ) -> Result<Self, DataError> {
        check_node_id(node_id.as_bytes())?;
        let mut certificate = Self {
            node_id: node_id.to_owned(),
            public_key,
            valid_until,
            roles,
            signature: Vec::new(),
        };
        certificate.signature = sign(root, &certificate.signed_message());
        Ok(certificate)
    }

    /// `"KARTIKA-NODE-V1" || DF50 TLV || DF51 TLV || DF52 TLV || DF53 TLV`.
    pub fn signed_message(&self) -> Vec<u8> {
        let mut message = LABEL_NODE.to_vec();
        message.extend_from_slice(&self.fields_tlv());
        message
    }

    fn fields_tlv(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(120);
        encode_into(&mut out, tags::NODE_ID, self.node_id.as_bytes());
        encode_into(&mut out, tags::NODE_PUBLIC_KEY, &self.public_key.to_bytes());
        encode_into(
            &mut out,
            tags::NODE_VALID_UNTIL,
            format_compact_date(self.valid_until).as_bytes(),
        );
        encode_into(&mut out, tags::NODE_ROLES, &[self.roles.0]);
        out
    }

    /// The 7F21 template.
    pub fn to_tlv(&self) -> Vec<u8> {
        let mut body = self.fields_tlv();
        encode_into(&mut body, tags::ROOT_SIGNATURE, &self.signature);
        encode(tags::NODE_CERTIFICATE, &body)
    }

    /// Reads a 7F21 template (the signature is not checked here: see [`Self::verifies_under`]).
    pub fn from_tlv(bytes: &[u8]) -> Result<Self, DataError> {
        let t = Template::parse(bytes, tags::NODE_CERTIFICATE, "a node certificate (7F21)")?;
        let node_id = t.required(tags::NODE_ID, "node id")?;
        check_node_id(node_id)?;
        let roles = match t.required(tags::NODE_ROLES, "node roles")? {
            [bits] => Roles(*bits),
            _ => return Err(DataError::invalid("node roles", "must be one byte")),
        };
        let signature = t.required(tags::ROOT_SIGNATURE, "root signature")?;
        if signature.len() > MAX_SIGNATURE_LEN {
            return Err(DataError::invalid("root signature", "longer than 72 bytes"));
        }
        Ok(Self {
            node_id: String::from_utf8_lossy(node_id).into_owned(),
            public_key: PublicKey::from_bytes(
                t.required(tags::NODE_PUBLIC_KEY, "node public key")?,
            )?,
            valid_until: parse_compact_date(
                t.required(tags::NODE_VALID_UNTIL, "node valid-until date")?,
                "node valid-until date",
            )?,
            roles,
            signature: signature.to_vec(),
        })
    }

    /// Whether the root key signed this certificate.
    pub fn verifies_under(&self, root: &PublicKey) -> bool {
        root.verifies(&self.signed_message(), &self.signature)
    }

    /// The node's id (its facility code, usually).
    pub fn node_id(&self) -> &str {
        &self.node_id
    }

    /// The node's public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public_key
    }

    /// The last day the certificate is valid.
    pub fn valid_until(&self) -> Date {
        self.valid_until
    }

    /// The node's roles.
    pub fn roles(&self) -> Roles {
        self.roles
    }
}

fn check_node_id(bytes: &[u8]) -> Result<(), DataError> {
    if (1..=32).contains(&bytes.len()) && bytes.iter().all(|b| b.is_ascii_graphic()) {
        Ok(())
    } else {
        Err(DataError::invalid(
            "node id",
            "must be 1 to 32 printable ASCII characters",
        ))
    }
}

/// A node's signing key with its certificate: what a Puskesmas holds to issue cards and
/// to authenticate as a staff terminal.
#[derive(Clone)]
pub struct NodeCredentials {
    key: SigningKey,
    certificate: NodeCertificate,
}

impl std::fmt::Debug for NodeCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeCredentials")
            .field("node_id", &self.certificate.node_id)
            .finish_non_exhaustive()
    }
}

impl NodeCredentials {
    /// Pairs a key with its certificate; refuses a certificate for another key.
    pub fn new(key: SigningKey, certificate: NodeCertificate) -> Result<Self, DataError> {
        if PublicKey::of(&key) != certificate.public_key {
            return Err(DataError::invalid(
                "node certificate",
                "was made for another key; certify this node's node.pub again",
            ));
        }
        Ok(Self { key, certificate })
    }

    /// The certificate.
    pub fn certificate(&self) -> &NodeCertificate {
        &self.certificate
    }

    /// Signs with the node key.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        sign(&self.key, message)
    }
}

/// FF21: the card's public key and the issuing node's certificate and signature over it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecurityObject {
    card_public_key: PublicKey,
    certificate: NodeCertificate,
    issuer_signature: Vec<u8>,
}

impl SecurityObject {
    /// The issuer signs a card: its identity exactly as stored and its public key.
    pub fn issue(
        issuer: &NodeCredentials,
        identity_tlv: &[u8],
        card_public_key: PublicKey,
    ) -> Self {
        let message = card_signed_message(identity_tlv, &card_public_key);
        Self {
            issuer_signature: issuer.sign(&message),
            card_public_key,
            certificate: issuer.certificate.clone(),
        }
    }

    /// The FF21 template.
    pub fn to_tlv(&self) -> Vec<u8> {
        let mut body = encode(tags::CARD_PUBLIC_KEY, &self.card_public_key.to_bytes());
        body.extend_from_slice(&self.certificate.to_tlv());
        encode_into(&mut body, tags::ISSUER_SIGNATURE, &self.issuer_signature);
        encode(tags::SECURITY_OBJECT, &body)
    }

    /// Reads an FF21 template.
    pub fn from_tlv(bytes: &[u8]) -> Result<Self, DataError> {
        let t = Template::parse(bytes, tags::SECURITY_OBJECT, "the security object (FF21)")?;
        let signature = t.required(tags::ISSUER_SIGNATURE, "issuer signature")?;
        if signature.len() > MAX_SIGNATURE_LEN {
            return Err(DataError::invalid(
                "issuer signature",
                "longer than 72 bytes",
            ));
        }
        Ok(Self {
            card_public_key: PublicKey::from_bytes(
                t.required(tags::CARD_PUBLIC_KEY, "card public key")?,
            )?,
            certificate: NodeCertificate::from_tlv(
                &t.required_object(tags::NODE_CERTIFICATE, "node certificate")?,
            )?,
            issuer_signature: signature.to_vec(),
        })
    }

    /// The card's own public key (DF10).
    pub fn card_public_key(&self) -> &PublicKey {
        &self.card_public_key
    }

    /// The issuing node's certificate.
    pub fn certificate(&self) -> &NodeCertificate {
        &self.certificate
    }

    /// Whether the issuer's signature covers exactly this identity and key.
    pub fn signature_matches(&self, identity_tlv: &[u8]) -> bool {
        let message = card_signed_message(identity_tlv, &self.card_public_key);
        self.certificate
            .public_key
            .verifies(&message, &self.issuer_signature)
    }
}

/// `"KARTIKA-CARD-V1" || SHA-256(FF20 TLV as stored) || DF10 TLV`.
fn card_signed_message(identity_tlv: &[u8], card_public_key: &PublicKey) -> Vec<u8> {
    let mut message = LABEL_CARD.to_vec();
    message.extend_from_slice(&Sha256::digest(identity_tlv));
    encode_into(
        &mut message,
        tags::CARD_PUBLIC_KEY,
        &card_public_key.to_bytes(),
    );
    message
}

/// `"KARTIKA-AUTH-V1" || challenge || DF01 value`: what the card signs for INTERNAL
/// AUTHENTICATE.
pub fn internal_auth_message(challenge: &[u8], card_number: &[u8]) -> Vec<u8> {
    [LABEL_AUTH, challenge, card_number].concat()
}

/// `"KARTIKA-TERM-V1" || card challenge || DF01 value`: what a terminal signs for
/// EXTERNAL AUTHENTICATE.
pub fn terminal_auth_message(challenge: &[u8], card_number: &[u8]) -> Vec<u8> {
    [LABEL_TERMINAL, challenge, card_number].concat()
}

/// The registry root keys a host trusts to certify nodes.
#[derive(Clone, Debug, Default)]
pub struct TrustAnchors {
    roots: Vec<PublicKey>,
}

impl TrustAnchors {
    /// Trust these roots.
    pub fn new(roots: Vec<PublicKey>) -> Self {
        Self { roots }
    }

    /// The roots, in the order given.
    pub fn roots(&self) -> &[PublicKey] {
        &self.roots
    }

    /// Whether some trusted root signed `certificate`.
    pub fn certifies(&self, certificate: &NodeCertificate) -> bool {
        self.roots
            .iter()
            .any(|root| certificate.verifies_under(root))
    }
}
