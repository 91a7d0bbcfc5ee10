//! The patient's PIN, in a type that never shows itself in logs.

use std::fmt;

use zeroize::Zeroizing;

use crate::DataError;

/// A PIN of 4 to 8 ASCII digits. `Debug` prints `REDACTED`; memory is wiped on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct Pin(Zeroizing<Vec<u8>>);

impl Pin {
    /// Checks the PIN's form: 4 to 8 digits.
    pub fn new(text: &str) -> Result<Self, DataError> {
        Self::from_bytes(text.as_bytes())
    }

    /// Checks the PIN's form from raw bytes, as they arrive in an APDU.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DataError> {
        if !(4..=8).contains(&bytes.len()) || !bytes.iter().all(u8::is_ascii_digit) {
            return Err(DataError::invalid("PIN", "must be 4 to 8 digits"));
        }
        Ok(Self(Zeroizing::new(bytes.to_vec())))
    }

    /// The digits, as they travel to the card.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(REDACTED)")
    }
}
