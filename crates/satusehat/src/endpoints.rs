//! Where SATUSEHAT answers: its three published environments, or addresses given by hand.

use std::str::FromStr;

/// One of SATUSEHAT's environments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Environment {
    /// `api-satusehat.kemkes.go.id`.
    Production,
    /// `api-satusehat-stg.dto.kemkes.go.id`, the sandbox.
    Sandbox,
    /// `api-satusehat-dev.dto.kemkes.go.id`.
    Development,
}

impl Environment {
    fn host(self) -> &'static str {
        match self {
            Self::Production => "https://api-satusehat.kemkes.go.id",
            Self::Sandbox => "https://api-satusehat-stg.dto.kemkes.go.id",
            Self::Development => "https://api-satusehat-dev.dto.kemkes.go.id",
        }
    }

    /// The token's base, as SATUSEHAT names it.
    pub fn auth_url(self) -> String {
        format!("{}/oauth2/v1", self.host())
    }

    /// The FHIR base.
    pub fn fhir_url(self) -> String {
        format!("{}/fhir-r4/v1", self.host())
    }
}

impl FromStr for Environment {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim() {
            "production" => Ok(Self::Production),
            "sandbox" | "staging" => Ok(Self::Sandbox),
            "development" => Ok(Self::Development),
            other => Err(format!(
                "\"{other}\" is not a SATUSEHAT environment (sandbox, production, development)"
            )),
        }
    }
}
