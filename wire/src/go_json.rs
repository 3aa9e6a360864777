//! JSON exactly as Go's `encoding/json` writes it, which is what Ollama puts on the wire.
//!
//! Two details differ from serde_json's defaults and are visible to byte-level clients:
//! `<`, `>`, `&`, U+2028 and U+2029 inside strings are written as `\u003c`, `\u003e`, `\u0026`,
//! `\u2028`, `\u2029`; floats are written in their shortest form without a fraction when they
//! have none (`1`, not `1.0`) and with an exponent only below 1e-6 or from 1e21 (`1e-7`,
//! `1e+21`); and timestamps use RFC 3339 with nanoseconds, trailing zeros trimmed.

use std::io;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter};

/// A compact formatter that escapes the characters Go's encoder escapes for HTML safety.
#[derive(Debug, Default, Clone, Copy)]
pub struct GoFormatter;

impl Formatter for GoFormatter {
    fn write_string_fragment<W>(&mut self, writer: &mut W, fragment: &str) -> io::Result<()>
    where
        W: ?Sized + io::Write,
    {
        let bytes = fragment.as_bytes();
        let mut start = 0;
        let mut i = 0;
        while i < bytes.len() {
            let escape: Option<&[u8]> = match bytes[i] {
                b'<' => Some(b"\\u003c"),
                b'>' => Some(b"\\u003e"),
                b'&' => Some(b"\\u0026"),
                // U+2028 and U+2029 are E2 80 A8 / E2 80 A9 in UTF-8.
                0xE2 if bytes.get(i + 1) == Some(&0x80) && bytes.get(i + 2) == Some(&0xA8) => {
                    Some(b"\\u2028")
                }
                0xE2 if bytes.get(i + 1) == Some(&0x80) && bytes.get(i + 2) == Some(&0xA9) => {
                    Some(b"\\u2029")
                }
                _ => None,
            };
            if let Some(escape) = escape {
                writer.write_all(&bytes[start..i])?;
                writer.write_all(escape)?;
                i += if bytes[i] == 0xE2 { 3 } else { 1 };
                start = i;
            } else {
                i += 1;
            }
        }
        writer.write_all(&bytes[start..])
    }

    fn write_char_escape<W>(
        &mut self,
        writer: &mut W,
        char_escape: serde_json::ser::CharEscape,
    ) -> io::Result<()>
    where
        W: ?Sized + io::Write,
    {
        CompactFormatter.write_char_escape(writer, char_escape)
    }

    fn write_f64<W>(&mut self, writer: &mut W, value: f64) -> io::Result<()>
    where
        W: ?Sized + io::Write,
    {
        writer.write_all(go_float(value, value.abs() < 1e-6 || value.abs() >= 1e21).as_bytes())
    }

    fn write_f32<W>(&mut self, writer: &mut W, value: f32) -> io::Result<()>
    where
        W: ?Sized + io::Write,
    {
        writer.write_all(go_float(value, value.abs() < 1e-6 || value.abs() >= 1e21).as_bytes())
    }
}

/// `strconv.AppendFloat(f, 'f' or 'e', -1)` as `encoding/json` calls it: the shortest digits that
/// read back to the same value, in plain notation, or in exponent notation with a signed
/// exponent (`1e-7`, `1.5e+21`) when `exponent` (and the value is not zero).
fn go_float<F>(value: F, exponent: bool) -> String
where
    F: std::fmt::Display + std::fmt::LowerExp + PartialEq + Default,
{
    if !exponent || value == F::default() {
        return value.to_string();
    }
    let text = format!("{value:e}");
    match text.split_once('e') {
        Some((mantissa, power)) if !power.starts_with('-') => format!("{mantissa}e+{power}"),
        _ => text,
    }
}

/// Serializes `value` as Go would, appending to `out`.
pub fn write<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> serde_json::Result<()> {
    let mut serializer = serde_json::Serializer::with_formatter(out, GoFormatter);
    value.serialize(&mut serializer)
}

/// Serializes `value` as Go would.
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(256);
    write(&mut out, value)?;
    Ok(out)
}

/// Formats a UTC instant like Go's `time.RFC3339Nano`: fractional seconds with trailing zeros
/// trimmed (and no fraction at all when it is zero), `Z` suffix.
pub fn rfc3339_nano(instant: DateTime<Utc>) -> String {
    let mut text = instant.format("%Y-%m-%dT%H:%M:%S").to_string();
    let nanos = instant.timestamp_subsec_nanos();
    if nanos != 0 {
        let fraction = format!("{nanos:09}");
        text.push('.');
        text.push_str(fraction.trim_end_matches('0'));
    }
    text.push('Z');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn html_characters_are_escaped_like_go() {
        let bytes = to_vec(&"<think>a & b</think>\u{2028}é").expect("serializes");
        assert_eq!(
            String::from_utf8(bytes).expect("utf8"),
            r#""\u003cthink\u003ea \u0026 b\u003c/think\u003e\u2028é""#
        );
    }

    #[test]
    fn control_characters_keep_standard_escapes() {
        let bytes = to_vec(&"a\"b\\c\n\u{1}").expect("serializes");
        assert_eq!(bytes, br#""a\"b\\c\n\u0001""#);
    }

    #[test]
    fn floats_are_written_as_strconv_writes_them() {
        let cases: [(f64, &str); 9] = [
            (1.0, "1"),
            (0.0, "0"),
            (-2.0, "-2"),
            (0.7, "0.7"),
            (1e-5, "0.00001"),
            (1e-7, "1e-7"),
            (2.5e-10, "2.5e-10"),
            (1e20, "100000000000000000000"),
            (1.5e21, "1.5e+21"),
        ];
        for (value, expected) in cases {
            let text = String::from_utf8(to_vec(&value).expect("serializes")).expect("utf8");
            assert_eq!(text, expected, "{value:?}");
        }
        let single = String::from_utf8(to_vec(&0.1_f32).expect("serializes")).expect("utf8");
        assert_eq!(single, "0.1");
        assert_eq!(to_vec(&f64::NAN).expect("serializes"), b"null");
    }

    #[test]
    fn rfc3339_nano_trims_trailing_zeros() {
        let base = Utc
            .with_ymd_and_hms(2026, 8, 21, 10, 15, 4)
            .single()
            .expect("valid");
        assert_eq!(rfc3339_nano(base), "2026-08-21T10:15:04Z");
        let frac = base + chrono::Duration::nanoseconds(900_000_000);
        assert_eq!(rfc3339_nano(frac), "2026-08-21T10:15:04.9Z");
        let fine = base + chrono::Duration::nanoseconds(123_456_789);
        assert_eq!(rfc3339_nano(fine), "2026-08-21T10:15:04.123456789Z");
    }
}
