//! LZ-String's `compressToEncodedURIComponent` and `decompressFromEncodedURIComponent`
//! (pieroxy's lz-string, which BPJS's services use on every answer): an LZW over the
//! text's UTF-16 code units, six bits to a character of a URI-safe alphabet.

const ALPHABET: &[u8; 65] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+-$";

/// Why a text is not LZ-String's.
#[derive(Debug, PartialEq, Eq)]
pub struct NotLzString;

/// Compresses `text` as LZ-String's `compressToEncodedURIComponent` does.
pub fn compress_to_encoded_uri_component(text: &str) -> String {
    let units: Vec<u16> = text.encode_utf16().collect();
    let mut out = Writer::new();
    let mut dictionary: std::collections::HashMap<Vec<u16>, u32> = Default::default();
    let mut to_create: std::collections::HashSet<Vec<u16>> = Default::default();
    let (mut enlarge_in, mut dict_size, mut num_bits) = (2u32, 3u32, 2u32);
    let mut w: Vec<u16> = Vec::new();
    let grow = |enlarge_in: &mut u32, num_bits: &mut u32| {
        *enlarge_in -= 1;
        if *enlarge_in == 0 {
            *enlarge_in = 1 << *num_bits;
            *num_bits += 1;
        }
    };
    let emit = |w: &[u16],
                out: &mut Writer,
                to_create: &mut std::collections::HashSet<Vec<u16>>,
                dictionary: &std::collections::HashMap<Vec<u16>, u32>,
                enlarge_in: &mut u32,
                num_bits: &mut u32| {
        if to_create.remove(w) {
            let unit = u32::from(w[0]);
            if unit < 256 {
                out.write(0, *num_bits);
                out.write(unit, 8);
            } else {
                out.write(1, *num_bits);
                out.write(unit, 16);
            }
            grow(enlarge_in, num_bits);
        } else {
            out.write(dictionary[w], *num_bits);
        }
        grow(enlarge_in, num_bits);
    };
    for &c in &units {
        let single = vec![c];
        if !dictionary.contains_key(&single) {
            dictionary.insert(single.clone(), dict_size);
            dict_size += 1;
            to_create.insert(single);
        }
        let mut wc = w.clone();
        wc.push(c);
        if dictionary.contains_key(&wc) {
            w = wc;
        } else {
            emit(
                &w,
                &mut out,
                &mut to_create,
                &dictionary,
                &mut enlarge_in,
                &mut num_bits,
            );
            dictionary.insert(wc, dict_size);
            dict_size += 1;
            w = vec![c];
        }
    }
    if !w.is_empty() {
        emit(
            &w,
            &mut out,
            &mut to_create,
            &dictionary,
            &mut enlarge_in,
            &mut num_bits,
        );
    }
    out.write(2, num_bits);
    out.finish()
}

/// Bits, least significant first, six to a character of the alphabet.
struct Writer {
    text: String,
    value: u32,
    position: u32,
}

impl Writer {
    fn new() -> Self {
        Self {
            text: String::new(),
            value: 0,
            position: 0,
        }
    }

    fn write(&mut self, mut value: u32, bits: u32) {
        for _ in 0..bits {
            self.push_bit(value & 1);
            value >>= 1;
        }
    }

    fn push_bit(&mut self, bit: u32) {
        self.value = (self.value << 1) | bit;
        if self.position == 5 {
            self.position = 0;
            self.text.push(char::from(ALPHABET[self.value as usize]));
            self.value = 0;
        } else {
            self.position += 1;
        }
    }

    fn finish(mut self) -> String {
        // The last character is filled up with zeros, as lz-string does.
        loop {
            self.value <<= 1;
            if self.position == 5 {
                self.text.push(char::from(ALPHABET[self.value as usize]));
                return self.text;
            }
            self.position += 1;
        }
    }
}

/// Decompresses LZ-String's `compressToEncodedURIComponent` output.
pub fn decompress_from_encoded_uri_component(text: &str) -> Result<String, NotLzString> {
    if text.is_empty() {
        return Ok(String::new());
    }
    // A "+" that travelled through a URL may arrive as a space.
    let values = text
        .bytes()
        .map(|b| if b == b' ' { b'+' } else { b })
        .map(|b| {
            ALPHABET
                .iter()
                .position(|a| *a == b)
                .map(|p| p as u32)
                .ok_or(NotLzString)
        })
        .collect::<Result<Vec<u32>, _>>()?;
    let mut reader = Reader {
        values: &values,
        value: values[0],
        position: 32,
        index: 1,
    };
    let mut dictionary: Vec<Vec<u16>> = vec![Vec::new(); 3];
    let (mut enlarge_in, mut num_bits) = (4u32, 3u32);
    let first = match reader.read(2) {
        0 => reader.read(8) as u16,
        1 => reader.read(16) as u16,
        2 => return Ok(String::new()),
        _ => return Err(NotLzString),
    };
    dictionary.push(vec![first]);
    let mut w = vec![first];
    let mut result = w.clone();
    loop {
        if reader.index > values.len() {
            return Err(NotLzString);
        }
        let mut code = reader.read(num_bits) as usize;
        match code {
            0 | 1 => {
                let bits = if code == 0 { 8 } else { 16 };
                dictionary.push(vec![reader.read(bits) as u16]);
                code = dictionary.len() - 1;
                enlarge_in -= 1;
            }
            2 => return String::from_utf16(&result).map_err(|_| NotLzString),
            _ => {}
        }
        if enlarge_in == 0 {
            enlarge_in = 1 << num_bits;
            num_bits += 1;
        }
        let entry = if let Some(known) = dictionary.get(code) {
            known.clone()
        } else if code == dictionary.len() {
            let mut entry = w.clone();
            entry.push(w[0]);
            entry
        } else {
            return Err(NotLzString);
        };
        if entry.is_empty() {
            return Err(NotLzString);
        }
        result.extend_from_slice(&entry);
        let mut next = w.clone();
        next.push(entry[0]);
        dictionary.push(next);
        enlarge_in -= 1;
        w = entry;
        if enlarge_in == 0 {
            enlarge_in = 1 << num_bits;
            num_bits += 1;
        }
        // A hostile answer cannot make the dictionary outgrow what six-bit input allows.
        if dictionary.len() > values.len() * 6 + 4 {
            return Err(NotLzString);
        }
    }
}

struct Reader<'a> {
    values: &'a [u32],
    value: u32,
    position: u32,
    index: usize,
}

impl Reader<'_> {
    fn read(&mut self, bits: u32) -> u32 {
        let mut result = 0;
        for bit in 0..bits {
            let set = self.value & self.position != 0;
            self.position >>= 1;
            if self.position == 0 {
                self.position = 32;
                self.value = self.values.get(self.index).copied().unwrap_or(0);
                self.index += 1;
            }
            if set {
                result |= 1 << bit;
            }
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What lz-string 1.5.0 itself (JavaScript, under Node) gives for these texts.
    #[test]
    fn the_reference_implementations_output_round_trips() {
        let text = "hello, i am a 猫";
        assert_eq!(
            compress_to_encoded_uri_component(text),
            "BYUwNmD2A0AECWsCGBbZtDUzkA"
        );
        // Ports that pad it as base64 ("…kAA$") are read too: the end mark comes first.
        for packed in ["BYUwNmD2A0AECWsCGBbZtDUzkA", "BYUwNmD2A0AECWsCGBbZtDUzkAA$"] {
            assert_eq!(decompress_from_encoded_uri_component(packed).unwrap(), text);
        }
        let json = r#"{"noKartu":"0001234567890","nama":"SITI RAHAYU","aktif":true}"#;
        let by_node = "N4Igdg9g0ghgTgFwK4gFwgAxYIwCYDMALAKwBsA7ABwCcGIANODALYxogDKAkgCpcAEAJQCCACWEBNAKoMQMANYIAlgDM0COEgCmAXyA";
        assert_eq!(compress_to_encoded_uri_component(json), by_node);
        assert_eq!(
            decompress_from_encoded_uri_component(by_node).unwrap(),
            json
        );
    }

    #[test]
    fn long_and_repetitive_texts_round_trip() {
        let json = r#"{"noKartu":"0001234567890","nama":"SITI RAHAYU","aktif":true,"ketAktif":"AKTIF","kdProviderPst":{"kdProvider":"0114A026","nmProvider":"PUSKESMAS PAMULANG"}}"#.repeat(20);
        let packed = compress_to_encoded_uri_component(&json);
        assert!(packed.len() < json.len() / 2);
        assert_eq!(
            decompress_from_encoded_uri_component(&packed).unwrap(),
            json
        );
        for text in ["", "a", "aa", "aaa", "abababababab", "Ñandú – 🐈"] {
            let packed = compress_to_encoded_uri_component(text);
            assert_eq!(
                decompress_from_encoded_uri_component(&packed).unwrap(),
                text,
                "{text}"
            );
        }
    }

    #[test]
    fn what_is_not_lz_string_is_refused_not_panicked_on() {
        for junk in ["!!!!", "AAAA", "////", "BYUw"] {
            let _ = decompress_from_encoded_uri_component(junk);
        }
        assert_eq!(
            decompress_from_encoded_uri_component("ab*c"),
            Err(NotLzString)
        );
    }
}
