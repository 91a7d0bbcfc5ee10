//! Check characters: Luhn for card numbers, Luhn mod 30 for patient numbers.

/// The 30 characters of patient numbers (OpenMRS idgen's Luhn mod-30 alphabet): digits and
/// upper-case letters without B, I, O, Q, S and Z, which are easily misread for digits.
pub const MOD30_ALPHABET: &[u8; 30] = b"0123456789ACDEFGHJKLMNPRTUVWXY";

/// The Luhn check digit that makes `digits` followed by it valid; `None` if not all digits.
pub fn luhn_check_digit(digits: &str) -> Option<char> {
    let codes: Option<Vec<u32>> = digits.chars().map(|c| c.to_digit(10)).collect();
    let sum = luhn_sum(&codes?, 10, 2);
    char::from_digit((10 - sum % 10) % 10, 10)
}

/// Whether `digits` ends in a correct Luhn check digit.
pub fn luhn_valid(digits: &str) -> bool {
    let codes: Option<Vec<u32>> = digits.chars().map(|c| c.to_digit(10)).collect();
    match codes {
        Some(codes) if !codes.is_empty() => luhn_sum(&codes, 10, 1).is_multiple_of(10),
        _ => false,
    }
}

/// The Luhn mod-30 check character for `payload`; `None` if a character is outside
/// [`MOD30_ALPHABET`].
pub fn mod30_check_char(payload: &str) -> Option<char> {
    let codes = mod30_codes(payload)?;
    let sum = luhn_sum(&codes, 30, 2);
    let index = ((30 - sum % 30) % 30) as usize;
    MOD30_ALPHABET.get(index).map(|&b| char::from(b))
}

/// Whether `text` ends in a correct Luhn mod-30 check character.
pub fn mod30_valid(text: &str) -> bool {
    match mod30_codes(text) {
        Some(codes) if codes.len() >= 2 => luhn_sum(&codes, 30, 1).is_multiple_of(30),
        _ => false,
    }
}

fn mod30_codes(text: &str) -> Option<Vec<u32>> {
    text.bytes()
        .map(|b| {
            MOD30_ALPHABET
                .iter()
                .position(|&a| a == b)
                .map(|i| i as u32)
        })
        .collect()
}

/// Luhn mod N: from the right, every second code point is doubled (the first factor is
/// `first_factor`) and the base-N digits of each product are added.
fn luhn_sum(codes: &[u32], n: u32, first_factor: u32) -> u32 {
    let mut factor = first_factor;
    let mut sum = 0;
    for &code in codes.iter().rev() {
        let addend = code * factor;
        sum += addend / n + addend % n;
        factor = if factor == 2 { 1 } else { 2 };
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_matches_the_textbook_example() {
        assert_eq!(luhn_check_digit("7992739871"), Some('3'));
        assert!(luhn_valid("79927398713"));
        assert!(!luhn_valid("79927398710"));
    }

    #[test]
    fn mod30_check_char_makes_a_valid_number_and_catches_one_typo() {
        let payload = "P36740100000123";
        let check = mod30_check_char(payload).unwrap();
        let number = format!("{payload}{check}");
        assert!(mod30_valid(&number));
        let typo = number.replacen('1', "7", 1);
        assert!(!mod30_valid(&typo));
    }

    #[test]
    fn mod30_refuses_letters_outside_the_alphabet() {
        assert_eq!(mod30_check_char("ABC"), None);
        assert!(!mod30_valid("0O"));
    }
}
