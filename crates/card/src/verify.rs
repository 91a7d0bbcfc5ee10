//! Deciding whether a card is genuine (card-application.md §5): the checks a host runs on
//! what the card sent, with nothing but the trusted root keys and today's date.

use time::Date;

use crate::crypto::{internal_auth_message, SecurityObject, TrustAnchors};
use crate::model::{format_iso_date, Identity};

/// Whether the card can be trusted, and if not, why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Certificate chain, card signature, fresh challenge and expiry all hold.
    Genuine,
    /// The card must not be accepted.
    NotGenuine(Rejection),
}

impl Verdict {
    /// Whether the card passed every check.
    pub fn is_genuine(&self) -> bool {
        matches!(self, Self::Genuine)
    }
}

/// Why a card is not accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// FF20 could not be read as the contract says.
    #[error("the card's identity data is damaged or forged ({0})")]
    MalformedIdentity(String),
    /// FF21 could not be read as the contract says.
    #[error("the card's security data is damaged or forged ({0})")]
    MalformedSecurityObject(String),
    /// The issuing node's certificate is not signed by a trusted root.
    #[error(
        "the card was issued by a Puskesmas this registry does not know (untrusted certificate)"
    )]
    UntrustedIssuer,
    /// The issuing node lacks the card-issuer role.
    #[error("the card was issued by a node that may not issue cards")]
    IssuerNotAllowed,
    /// The issuing node's certificate had expired when the card was issued.
    #[error("the card was issued after its issuer's certificate expired ({0})")]
    IssuerCertificateExpired(String),
    /// The card names one Puskesmas as its issuer (DF0B) and another signed it (DF50).
    #[error("the card says it was issued by {card_says} but was signed by {signed_by}")]
    IssuerMismatch {
        /// DF0B, the facility on the card.
        card_says: String,
        /// DF50, the node that signed it.
        signed_by: String,
    },
    /// The identity or the card key differs from what the issuer signed.
    #[error("the card's data has been changed since it was issued (signature does not match)")]
    AlteredData,
    /// The card could not prove it holds the key it was issued with.
    #[error("the card failed the challenge: it is a copy, not the card that was issued")]
    ChallengeFailed,
    /// The card's expiry date has passed.
    #[error("the card expired on {0}; issue the patient a new card")]
    Expired(String),
}

/// What a host needs to judge a card: the bytes it read and the answer to its challenge.
#[derive(Clone, Debug)]
pub struct Evidence<'a> {
    /// The identity as parsed.
    pub identity: &'a Identity,
    /// FF20 exactly as the card sent it.
    pub identity_tlv: &'a [u8],
    /// FF21 as parsed, or why it could not be.
    pub security_object: Result<&'a SecurityObject, String>,
    /// The challenge sent with INTERNAL AUTHENTICATE.
    pub challenge: &'a [u8; 32],
    /// The card's answer to it.
    pub challenge_signature: &'a [u8],
}

/// Runs every check in the order a person would explain them; the first failure decides.
pub fn judge(evidence: &Evidence<'_>, trust: &TrustAnchors, today: Date) -> Verdict {
    let reject = Verdict::NotGenuine;
    let security = match &evidence.security_object {
        Ok(security) => *security,
        Err(problem) => return reject(Rejection::MalformedSecurityObject(problem.clone())),
    };
    let certificate = security.certificate();
    if !trust.certifies(certificate) {
        return reject(Rejection::UntrustedIssuer);
    }
    if !certificate.roles().issuer() {
        return reject(Rejection::IssuerNotAllowed);
    }
    if certificate.valid_until() < evidence.identity.issue_date {
        return reject(Rejection::IssuerCertificateExpired(format_iso_date(
            certificate.valid_until(),
        )));
    }
    if certificate.node_id() != evidence.identity.facility_code.as_str() {
        return reject(Rejection::IssuerMismatch {
            card_says: evidence.identity.facility_code.to_string(),
            signed_by: certificate.node_id().to_owned(),
        });
    }
    if !security.signature_matches(evidence.identity_tlv) {
        return reject(Rejection::AlteredData);
    }
    let message = internal_auth_message(
        evidence.challenge,
        evidence.identity.card_number.as_str().as_bytes(),
    );
    if !security
        .card_public_key()
        .verifies(&message, evidence.challenge_signature)
    {
        return reject(Rejection::ChallengeFailed);
    }
    if evidence.identity.expiry_date < today {
        return reject(Rejection::Expired(format_iso_date(
            evidence.identity.expiry_date,
        )));
    }
    Verdict::Genuine
}

/// What a tap read found: the identity, and whether the card is genuine.
#[derive(Clone, Debug)]
pub struct CardReading {
    /// The identity the card holds.
    pub identity: Identity,
    /// FF20 exactly as the card sent it (what the issuer signed).
    pub identity_tlv: Vec<u8>,
    /// FF21 exactly as the card sent it.
    pub security_tlv: Vec<u8>,
    /// The verdict.
    pub verdict: Verdict,
    /// The card's signature over the challenge: with a presence challenge it proves to the
    /// registry that the card was here (see [`crate::presence`]).
    pub challenge_signature: Vec<u8>,
    /// The card key the issuer signed (DF10), when the security data could be read.
    pub card_public_key: Option<[u8; 65]>,
    /// The node that signed the card (DF50), when the security data could be read.
    pub issuer_node: Option<String>,
}
