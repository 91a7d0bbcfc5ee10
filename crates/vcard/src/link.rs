//! A model of a contact card's serial link, so a demo or benchmark on a virtual card feels
//! what a plastic card costs.

use std::time::Duration;

/// A T=1 link at a fixed baud rate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkModel {
    /// Bits per second on the contact (9600 is the ISO default before speed negotiation).
    pub baud: u32,
}

/// Each character is 11 bit times under T=1 (start, 8 data, parity, 1 guard).
const BITS_PER_CHARACTER: u64 = 11;
/// Prologue (NAD, PCB, LEN) and epilogue (LRC) of each T=1 block.
const BLOCK_FRAMING_BYTES: u64 = 4;
/// Block guard time between the command block and the response block, in bit times.
const BLOCK_GUARD_BITS: u64 = 22;

impl LinkModel {
    /// How long a command of `sent` bytes and its response of `received` bytes take on
    /// the wire.
    pub fn transfer_time(&self, sent: usize, received: usize) -> Duration {
        let characters = sent as u64 + received as u64 + 2 * BLOCK_FRAMING_BYTES;
        let bits = characters * BITS_PER_CHARACTER + BLOCK_GUARD_BITS;
        Duration::from_nanos(bits * 1_000_000_000 / u64::from(self.baud.max(1)))
    }
}
