//! Transports that misbehave on purpose, and card-file surgery for forged cards.

use std::collections::VecDeque;
use std::path::Path;

use kartika_card::{Transport, TransportError};
use kartika_vcard::VirtualCard;

/// Passes `remaining` APDUs to the card, then behaves as if the card left the reader:
/// before the card sees the next command, or (with `lose_answer`) after it processed it.
pub struct PullAfter<'a> {
    pub card: &'a mut VirtualCard,
    pub remaining: usize,
    pub lose_answer: bool,
}

impl Transport for PullAfter<'_> {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        if self.remaining == 0 {
            if self.lose_answer {
                self.card.process(command);
            }
            self.card.power_off();
            return Err(TransportError::CardRemoved);
        }
        self.remaining -= 1;
        Ok(self.card.process(command))
    }
}

/// Answers with canned responses, in order, and records what it was sent.
pub struct Scripted {
    pub answers: VecDeque<Vec<u8>>,
    pub sent: Vec<Vec<u8>>,
}

impl Scripted {
    pub fn new(answers: impl IntoIterator<Item = Vec<u8>>) -> Self {
        Self {
            answers: answers.into_iter().collect(),
            sent: Vec::new(),
        }
    }
}

impl Transport for Scripted {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.sent.push(command.to_vec());
        self.answers.pop_front().ok_or(TransportError::CardRemoved)
    }
}

pub fn hex(text: &str) -> Vec<u8> {
    hex::decode(text.replace(' ', "")).expect("test hex")
}

/// Rewrites one field of a virtual card's file, as a forger with a card writer would.
pub fn edit_card_file(path: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let mut json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    edit(&mut json);
    std::fs::write(path, serde_json::to_vec(&json).unwrap()).unwrap();
}
