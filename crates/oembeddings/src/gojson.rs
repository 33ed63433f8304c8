//! Byte-exact reproduction of Go's `encoding/json.Marshal` output.
//!
//! The records this crate prints as JSON Lines, and the bytes that signatures
//! are computed over, are defined by a Go tool that serialises them with
//! `encoding/json` (Go 1.22 or newer; the producer is built with Go 1.26).
//! Every function here appends to a caller-owned `Vec<u8>` exactly the bytes
//! that `json.Marshal` would produce for the corresponding Go value:
//!
//! | function              | Go value            |
//! |-----------------------|---------------------|
//! | [`write_string`]      | `string`            |
//! | [`write_f32`]         | `float32`           |
//! | [`write_f32_slice`]   | `[]float32`         |
//! | [`write_i64`]         | `int64`             |
//! | [`write_string_map`]  | `map[string]string` |
//!
//! Apart from growing the output vector, no function allocates.
//!
//! # Rules reproduced
//!
//! Strings (Go's `encodeState.string` with HTML escaping on):
//! * `"` and `\` are written as `\"` and `\\`; `\n`, `\r`, `\t` by name;
//!   backspace (0x08) and form feed (0x0C) as `\b` and `\f` (Go 1.22+;
//!   earlier Go wrote `\u0008` and `\u000c`);
//! * every other byte below 0x20 as `\u00xx` with lowercase hex digits;
//! * `<`, `>` and `&` as `\u003c`, `\u003e` and `\u0026`;
//! * U+2028 and U+2029 as `\u2028` and `\u2029`;
//! * DEL (0x7F) and all other valid UTF-8 are copied unchanged (a literal,
//!   well-formed U+FFFD stays literal);
//! * invalid UTF-8 is decoded as Go's `utf8.DecodeRuneInString` does: each
//!   byte at which no valid sequence starts becomes `\ufffd`, and decoding
//!   resumes at the next byte. So `E2 82 41` becomes `\ufffd\ufffdA`, and
//!   UTF-8-encoded surrogates (`ED A0 80`), overlong forms (`C0 80`,
//!   `E0 80 80`), code points above U+10FFFF and truncated sequences give
//!   one `\ufffd` per byte.
//!
//! `float32` (Go's `floatEncoder` with `bits == 32`): NaN and ±Inf are
//! errors; otherwise the shortest decimal that round-trips through `float32`
//! is written in plain positional notation when `1e-6 <= |f| < 1e21` (or
//! `f` is zero), and in exponent notation otherwise, as `d.ddde+XX`
//! (at least two exponent digits) or `d.ddde-X` (Go's "clean up `e-09` to
//! `e-9`" step). Negative zero is written `-0`.
//!
//! `map[string]string`: entries sorted by the raw bytes of the key (before
//! escaping), written as `{"k":"v",...}`.
//!
//! # Go versions
//!
//! The output is that of Go 1.26's `encoding/json` (checked against Go
//! 1.26.6: all 2^32 `float32` bit patterns, and a randomised corpus of
//! strings, maps, slices and integers). Other Go versions differ in a few
//! places:
//! * Go before 1.22 writes backspace and form feed as `\u0008` and `\u000c`;
//! * Go 1.26 prints `float32` ±2^-12 as `0.00024414063`, where ryu, Go 1.25
//!   and Go 1.27 print `0.00024414062`; this module follows Go 1.26;
//! * Go 1.27 (whose `encoding/json` runs on the `encoding/json/v2`
//!   implementation), and Go 1.25/1.26 built with `GOEXPERIMENT=jsonv2`,
//!   write each invalid byte as a raw U+FFFD (bytes `EF BF BD`) instead of
//!   the escape `\ufffd`.

use std::fmt;

/// The error returned when a `float32` to encode is NaN or infinite.
///
/// Go's `json.Marshal` fails with an `UnsupportedValueError` for such values
/// and produces no output at all; the writers here return this error and leave
/// the output vector as it was before the call.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct NonFiniteFloat {
    /// Index of the offending element in the slice being encoded
    /// (always 0 for [`write_f32`]).
    pub index: usize,
    /// The offending value (NaN, `+Inf` or `-Inf`).
    pub value: f32,
}

impl fmt::Display for NonFiniteFloat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Go's message is "json: unsupported value: " followed by
        // strconv.FormatFloat(v, 'g', -1, 32), i.e. NaN, +Inf or -Inf.
        let name = if self.value.is_nan() {
            "NaN"
        } else if self.value > 0.0 {
            "+Inf"
        } else {
            "-Inf"
        };
        write!(
            f,
            "json: unsupported value: {name} (float32 element {})",
            self.index
        )
    }
}

impl std::error::Error for NonFiniteFloat {}

// ---------------------------------------------------------------------------
// Strings
// ---------------------------------------------------------------------------

/// Byte class: ASCII that is copied verbatim.
const SAFE: u8 = 0;
/// Byte class: ASCII that must be escaped.
const ESCAPE: u8 = 1;
/// Byte class: first byte of a (possibly invalid) multi-byte sequence.
const NON_ASCII: u8 = 2;

const fn build_class_table() -> [u8; 256] {
    let mut table = [SAFE; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        table[i] = if b >= 0x80 {
            NON_ASCII
        } else if b < 0x20 || b == b'"' || b == b'\\' || b == b'<' || b == b'>' || b == b'&' {
            ESCAPE
        } else {
            SAFE
        };
        i += 1;
    }
    table
}

static CLASS: [u8; 256] = build_class_table();

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends the escape sequence for an ASCII byte whose class is [`ESCAPE`].
#[inline]
fn write_ascii_escape(out: &mut Vec<u8>, b: u8) {
    match b {
        b'"' => out.extend_from_slice(b"\\\""),
        b'\\' => out.extend_from_slice(b"\\\\"),
        b'\n' => out.extend_from_slice(b"\\n"),
        b'\r' => out.extend_from_slice(b"\\r"),
        b'\t' => out.extend_from_slice(b"\\t"),
        0x08 => out.extend_from_slice(b"\\b"),
        0x0C => out.extend_from_slice(b"\\f"),
        // Other control characters and the HTML-sensitive '<', '>', '&'.
        _ => out.extend_from_slice(&[
            b'\\',
            b'u',
            b'0',
            b'0',
            HEX[usize::from(b >> 4)],
            HEX[usize::from(b & 0xF)],
        ]),
    }
}

/// Whether the byte at `i` exists and lies in `lo..=hi`.
#[inline]
fn byte_in(s: &[u8], i: usize, lo: u8, hi: u8) -> bool {
    matches!(s.get(i), Some(&b) if lo <= b && b <= hi)
}

/// Length of the valid UTF-8 sequence starting at `s[i]` (which is >= 0x80),
/// or 0 if none starts there. Mirrors the acceptance ranges of Go's
/// `utf8.DecodeRune` (which are those of RFC 3629: no overlong forms, no
/// surrogates, nothing above U+10FFFF).
#[inline]
fn utf8_sequence_len(s: &[u8], i: usize) -> usize {
    let (second_lo, second_hi, len) = match s[i] {
        0xC2..=0xDF => (0x80, 0xBF, 2),
        0xE0 => (0xA0, 0xBF, 3),
        0xE1..=0xEC | 0xEE..=0xEF => (0x80, 0xBF, 3),
        0xED => (0x80, 0x9F, 3),
        0xF0 => (0x90, 0xBF, 4),
        0xF1..=0xF3 => (0x80, 0xBF, 4),
        0xF4 => (0x80, 0x8F, 4),
        _ => return 0,
    };
    if !byte_in(s, i + 1, second_lo, second_hi) {
        return 0;
    }
    if len >= 3 && !byte_in(s, i + 2, 0x80, 0xBF) {
        return 0;
    }
    if len == 4 && !byte_in(s, i + 3, 0x80, 0xBF) {
        return 0;
    }
    len
}

/// Appends `s` as a JSON string exactly as Go's `json.Marshal(string(s))`
/// writes it, quotes included.
///
/// `s` is taken as raw bytes, like a Go string, and may hold invalid UTF-8:
/// every byte at which no valid UTF-8 sequence starts is written as
/// `\ufffd`. See the [module documentation](self) for the full escaping
/// rules. Runs of bytes that need no escaping are copied in one piece.
pub fn write_string(out: &mut Vec<u8>, s: &[u8]) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    let mut start = 0;
    let mut i = 0;
    while i < s.len() {
        let b = s[i];
        match CLASS[usize::from(b)] {
            SAFE => i += 1,
            ESCAPE => {
                out.extend_from_slice(&s[start..i]);
                write_ascii_escape(out, b);
                i += 1;
                start = i;
            }
            _ => {
                let len = utf8_sequence_len(s, i);
                if len == 0 {
                    out.extend_from_slice(&s[start..i]);
                    out.extend_from_slice(b"\\ufffd");
                    i += 1;
                    start = i;
                } else if len == 3 && b == 0xE2 && s[i + 1] == 0x80 && (s[i + 2] & 0xFE) == 0xA8 {
                    // U+2028 (E2 80 A8) or U+2029 (E2 80 A9).
                    out.extend_from_slice(&s[start..i]);
                    out.extend_from_slice(b"\\u202");
                    out.push(HEX[usize::from(s[i + 2] & 0xF)]);
                    i += 3;
                    start = i;
                } else {
                    i += len;
                }
            }
        }
    }
    out.extend_from_slice(&s[start..]);
    out.push(b'"');
}

// ---------------------------------------------------------------------------
// Floats
// ---------------------------------------------------------------------------

/// Whether Go's float encoder uses exponent format for this finite `float32`.
///
/// Go compares in `float32`: `float32(abs) < 1e-6 || float32(abs) >= 1e21`,
/// where the constants are rounded to the nearest `float32`, exactly as the
/// Rust literals below are.
#[inline]
fn go_uses_exponent(f: f32) -> bool {
    let abs = f.abs();
    // Same as `abs < 1e-6 || abs >= 1e21` for the finite values used here.
    abs != 0.0 && !(1e-6..1e21).contains(&abs)
}

/// Bits of 2^-12 = 0.000244140625, the one `float32` magnitude whose
/// shortest digits Go 1.26 chooses differently from ryu.
///
/// Its 8-digit candidates 0.00024414062 and 0.00024414063 are equally near.
/// Ryu (and Go up to 1.25, which used Ryu) breaks the tie to even (`...62`).
/// Go 1.26 switched `strconv` to Dragonbox, whose float32 code checks the
/// float64 binary exponent (-77) instead of the float32 one (-35) for the
/// tie rule of powers of two, so for 2^-12 = 2^23 * 2^-35 it rounds up and
/// prints `0.00024414063`. (The misplaced check at -77, i.e. 2^-54, does
/// not change that value's output.) An exhaustive comparison of all 2^32
/// bit patterns against Go 1.26.6 found no other difference; Go 1.25 and
/// Go 1.27 print `0.00024414062`.
const GO126_TIE_BITS: u32 = 0x3980_0000;

/// Appends ±2^-12 as Go 1.26 does (see [`GO126_TIE_BITS`]).
#[cold]
fn write_go126_tie(out: &mut Vec<u8>, f: f32) {
    if f.is_sign_negative() {
        out.push(b'-');
    }
    out.extend_from_slice(b"0.00024414063");
}

/// Scratch buffers of the two shortest-digit printers.
///
/// Ryu and Żmij both print the shortest round-trip digits, the closest to the value, like
/// Go's `strconv.AppendFloat(_, _, _, -1, 32)`. Żmij is about 1.5 times faster; in the range
/// of embedding components, `1e-5 <= |f| < 1e12`, its output equals ryu's byte for byte once
/// a trailing `.0` is cut (checked for every f32 of that range, both signs, when Żmij was
/// adopted; a test samples it). Outside that range the layout fix-ups below are written
/// against ryu's output, so ryu prints those values.
#[derive(Default)]
struct Printers {
    ryu: ryu::Buffer,
    zmij: zmij::Buffer,
}

impl Printers {
    /// `f` in Go's layout when it lies in the common range (embedding components), where
    /// Żmij's output is Go's once a trailing `.0` is cut: both are positional there, with
    /// plenty of margin around ryu's cutoffs (shortest digits below 1e-6 or from 1e13 on)
    /// and Go's. `None` for any other value, and for Go 1.26's tie ([`GO126_TIE_BITS`]).
    #[inline]
    fn common(&mut self, f: f32) -> Option<&[u8]> {
        if f.to_bits() & 0x7FFF_FFFF == GO126_TIE_BITS || !(1e-5..1e12).contains(&f.abs()) {
            return None;
        }
        let s = self.zmij.format_finite(f).as_bytes();
        Some(s.strip_suffix(b".0").unwrap_or(s))
    }
}

/// Appends a finite `f` in Go's layout.
///
/// Outside the common range ([`Printers::common`]), ryu lays the shortest digits out
/// differently from Go: it switches to exponent notation outside `1e-6 <= |f| < 1e13`,
/// writes exponents without a `+` sign, and appends `.0` to integers. The usual cases are
/// patched up in place; anything else goes through [`write_f32_general`].
fn write_finite_f32(out: &mut Vec<u8>, printers: &mut Printers, f: f32) {
    if let Some(s) = printers.common(f) {
        out.extend_from_slice(s);
        return;
    }
    if f.to_bits() & 0x7FFF_FFFF == GO126_TIE_BITS {
        write_go126_tie(out, f);
        return;
    }
    let s = printers.ryu.format_finite(f).as_bytes();
    let exponent_format = go_uses_exponent(f);
    match (s.iter().position(|&c| c == b'e'), exponent_format) {
        (None, false) => {
            // Positional in both; Go prints integers without ".0".
            let body = s.strip_suffix(b".0").unwrap_or(s);
            out.extend_from_slice(body);
        }
        (Some(e), true) => {
            let (mantissa, exp) = s.split_at(e + 1);
            out.extend_from_slice(mantissa);
            if exp.first() != Some(&b'-') {
                // Go: "e+XX" with at least two digits.
                out.push(b'+');
                if exp.len() == 1 {
                    out.push(b'0');
                }
            }
            // Negative exponents: Go writes at least two digits and then
            // cleans "e-0X" up to "e-X", which is what ryu prints.
            out.extend_from_slice(exp);
        }
        _ => write_f32_general(out, s, exponent_format),
    }
}

/// Re-renders ryu's output `s` (a finite, non-zero-or-zero number in any of
/// ryu's layouts) in Go's positional (`exponent_format == false`) or
/// exponent layout.
#[cold]
fn write_f32_general(out: &mut Vec<u8>, s: &[u8], exponent_format: bool) {
    // Decompose into significant digits d[0..nd] and a decimal point
    // position dp, so that |value| = 0.d[0]d[1]...d[nd-1] * 10^dp.
    let mut digits = [0u8; 40];
    let mut nd = 0usize;
    let mut point: i32 = 0;
    let mut seen_point = false;
    let mut exp10: i32 = 0;
    let negative = s.first() == Some(&b'-');
    let mut rest = if negative { &s[1..] } else { s };
    while let Some((&c, tail)) = rest.split_first() {
        rest = tail;
        match c {
            b'0'..=b'9' => {
                if !seen_point {
                    point += 1;
                }
                if nd == 0 && c == b'0' {
                    // Leading zero: not significant, shifts the point.
                    point -= 1;
                } else if nd < digits.len() {
                    digits[nd] = c;
                    nd += 1;
                }
            }
            b'.' => seen_point = true,
            b'e' => {
                let (neg_exp, exp_digits) = match rest.split_first() {
                    Some((b'-', t)) => (true, t),
                    Some((b'+', t)) => (false, t),
                    _ => (false, rest),
                };
                let magnitude = exp_digits
                    .iter()
                    .fold(0i32, |acc, &d| acc * 10 + i32::from(d.wrapping_sub(b'0')));
                exp10 = if neg_exp { -magnitude } else { magnitude };
                break;
            }
            _ => {}
        }
    }
    while nd > 0 && digits[nd - 1] == b'0' {
        nd -= 1;
    }

    if negative {
        out.push(b'-');
    }
    if nd == 0 {
        out.push(b'0');
        return;
    }
    let digits = &digits[..nd];
    let dp = point + exp10;

    if exponent_format {
        out.push(digits[0]);
        if nd > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        out.push(b'e');
        let exp = dp - 1;
        if exp < 0 {
            out.push(b'-');
        } else {
            out.push(b'+');
            if exp < 10 {
                out.push(b'0');
            }
        }
        write_u64(out, u64::from(exp.unsigned_abs()));
    } else {
        // Integer part.
        if dp > 0 {
            let int_digits = dp as usize; // dp > 0
            if int_digits >= nd {
                out.extend_from_slice(digits);
                out.resize(out.len() + (int_digits - nd), b'0');
            } else {
                out.extend_from_slice(&digits[..int_digits]);
            }
        } else {
            out.push(b'0');
        }
        // Fraction.
        if (nd as i32) > dp {
            out.push(b'.');
            if dp < 0 {
                out.resize(out.len() + dp.unsigned_abs() as usize, b'0');
            }
            let from = if dp > 0 { dp as usize } else { 0 };
            out.extend_from_slice(&digits[from..]);
        }
    }
}

/// Appends `f` exactly as Go's `json.Marshal(float32(f))` writes it.
///
/// Returns [`NonFiniteFloat`] (with `index` 0) for NaN and ±Inf, which Go
/// refuses to encode; nothing is written then. See the
/// [module documentation](self) for the layout rules.
pub fn write_f32(out: &mut Vec<u8>, f: f32) -> Result<(), NonFiniteFloat> {
    if !f.is_finite() {
        return Err(NonFiniteFloat { index: 0, value: f });
    }
    write_finite_f32(out, &mut Printers::default(), f);
    Ok(())
}

/// Appends `values` exactly as Go's `json.Marshal([]float32(values))`
/// writes a non-nil slice: `[a,b,c]` without spaces, `[]` when empty.
///
/// If an element is NaN or infinite, returns [`NonFiniteFloat`] carrying the
/// index of the first such element, and truncates `out` back to its length
/// before the call (Go returns no output on error).
pub fn write_f32_slice(out: &mut Vec<u8>, values: &[f32]) -> Result<(), NonFiniteFloat> {
    let start_len = out.len();
    // Typical normalised components take 10 to 12 bytes with the comma.
    out.reserve(2 + values.len() * 12);
    out.push(b'[');
    let mut printers = Printers::default();
    let mut stage = Stage::new();
    for (index, &value) in values.iter().enumerate() {
        if !value.is_finite() {
            out.truncate(start_len);
            return Err(NonFiniteFloat { index, value });
        }
        if index > 0 {
            stage.push(out, b',');
        }
        match printers.common(value) {
            Some(s) => stage.append(out, s),
            None => {
                stage.flush(out);
                write_finite_f32(out, &mut printers, value);
            }
        }
    }
    stage.flush(out);
    out.push(b']');
    Ok(())
}

/// A stack buffer that a vector's numbers are printed into before they are appended to the
/// output in large pieces: appending each number to the `Vec` itself, a `memcpy` call of
/// unknown length with a capacity check and a length update, cost a quarter of the time to
/// print one.
struct Stage {
    bytes: [u8; Stage::SIZE],
    len: usize,
}

impl Stage {
    const SIZE: usize = 2048;
    /// Room kept free for one append: a number of the fast range is at most 16 bytes, and
    /// `append` writes whole 16-byte pieces.
    const ROOM: usize = 32;

    fn new() -> Self {
        Stage {
            bytes: [0; Stage::SIZE],
            len: 0,
        }
    }

    #[inline]
    fn push(&mut self, out: &mut Vec<u8>, b: u8) {
        if self.len + Stage::ROOM > Stage::SIZE {
            self.flush(out);
        }
        self.bytes[self.len] = b;
        self.len += 1;
    }

    /// Appends `s` with fixed-size copies when it is 4 to 32 bytes long, as printed numbers
    /// are: two overlapping copies of a fixed size cover any length from that size to twice
    /// it, where a copy of unknown length is a `memcpy` call.
    #[inline]
    fn append(&mut self, out: &mut Vec<u8>, s: &[u8]) {
        let n = s.len();
        if !(4..=Stage::ROOM).contains(&n) {
            self.flush(out);
            out.extend_from_slice(s);
            return;
        }
        if self.len + Stage::ROOM > Stage::SIZE {
            self.flush(out);
        }
        let dst = &mut self.bytes[self.len..self.len + Stage::ROOM];
        if n >= 16 {
            dst[..16].copy_from_slice(&s[..16]);
            dst[n - 16..n].copy_from_slice(&s[n - 16..]);
        } else if n >= 8 {
            dst[..8].copy_from_slice(&s[..8]);
            dst[n - 8..n].copy_from_slice(&s[n - 8..]);
        } else {
            dst[..4].copy_from_slice(&s[..4]);
            dst[n - 4..n].copy_from_slice(&s[n - 4..]);
        }
        self.len += n;
    }

    fn flush(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.bytes[..self.len]);
        self.len = 0;
    }
}

// ---------------------------------------------------------------------------
// Integers
// ---------------------------------------------------------------------------

/// Appends the decimal digits of `v`.
fn write_u64(out: &mut Vec<u8>, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut pos = buf.len();
    loop {
        pos -= 1;
        buf[pos] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[pos..]);
}

/// Appends `v` exactly as Go's `json.Marshal(int64(v))` writes it: plain
/// decimal with a leading `-` for negative values.
pub fn write_i64(out: &mut Vec<u8>, v: i64) {
    if v < 0 {
        out.push(b'-');
    }
    write_u64(out, v.unsigned_abs());
}

// ---------------------------------------------------------------------------
// Maps
// ---------------------------------------------------------------------------

/// Slices up to this length are sorted by insertion sort, which is stable
/// and never allocates; longer ones use the standard library's stable sort.
const INSERTION_SORT_MAX: usize = 32;

/// Stable sort of `entries` by key bytes.
fn sort_entries_by_key(entries: &mut [(&[u8], &[u8])]) {
    if entries.len() <= INSERTION_SORT_MAX {
        for i in 1..entries.len() {
            let mut j = i;
            while j > 0 && entries[j - 1].0 > entries[j].0 {
                entries.swap(j - 1, j);
                j -= 1;
            }
        }
    } else {
        entries.sort_by(|a, b| a.0.cmp(b.0));
    }
}

/// Appends the entries as Go's `json.Marshal(map[string]string)` writes
/// them: `{"k1":"v1","k2":"v2"}` with keys in ascending order of their raw
/// bytes (Go compares the unescaped strings), `{}` when empty. Keys and
/// values are escaped as by [`write_string`].
///
/// `entries` is sorted by key in place (stably). A Go map cannot hold a key
/// twice; if `entries` does, only the **last** occurrence of each key (in
/// the order given) is written, as when the entries are assigned one by one
/// into a Go map (or a map is decoded from a Parquet map column with
/// repeated keys).
///
/// Slices of up to 32 entries are sorted without allocating; longer ones
/// use the standard library's stable sort, which may allocate scratch
/// space.
pub fn write_string_map(out: &mut Vec<u8>, entries: &mut [(&[u8], &[u8])]) {
    sort_entries_by_key(entries);
    out.push(b'{');
    let mut first = true;
    for (i, &(key, value)) in entries.iter().enumerate() {
        if entries.get(i + 1).is_some_and(|next| next.0 == key) {
            // A later entry with the same key wins.
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        write_string(out, key);
        out.push(b':');
        write_string(out, value);
    }
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(s: &[u8]) -> String {
        let mut out = Vec::new();
        write_string(&mut out, s);
        String::from_utf8(out).unwrap()
    }

    fn float(f: f32) -> String {
        let mut out = Vec::new();
        write_f32(&mut out, f).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn floats(v: &[f32]) -> String {
        let mut out = Vec::new();
        write_f32_slice(&mut out, v).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn map(entries: &[(&str, &str)]) -> String {
        let mut e: Vec<(&[u8], &[u8])> = entries
            .iter()
            .map(|(k, v)| (k.as_bytes(), v.as_bytes()))
            .collect();
        let mut out = Vec::new();
        write_string_map(&mut out, &mut e);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_stage_appends_every_length_exactly() {
        let text: Vec<u8> = (0..40u8).map(|i| b'a' + i % 26).collect();
        let mut expected = b"[".to_vec();
        let mut out = b"[".to_vec();
        let mut stage = Stage::new();
        // Enough rounds to flush the stage many times, at every offset.
        for round in 0..300 {
            let n = round % 41;
            stage.append(&mut out, &text[..n]);
            stage.push(&mut out, b',');
            expected.extend_from_slice(&text[..n]);
            expected.push(b',');
        }
        stage.flush(&mut out);
        assert_eq!(out, expected);
    }

    #[test]
    fn a_long_slice_prints_as_its_elements_do_one_by_one() {
        // Long enough to flush the stage many times, with values of every path between
        // fast ones: exponent layout, integers, zero, the Go 1.26 tie, short digits.
        let specials = [
            1e-7f32,
            3e25,
            12.0,
            0.0,
            -0.0,
            f32::from_bits(GO126_TIE_BITS),
            0.5,
            1e12,
            7e-6,
        ];
        let values: Vec<f32> = (0..5000u32)
            .map(|i| {
                if i % 37 == 0 {
                    specials[(i / 37) as usize % specials.len()]
                } else {
                    (i as f32 * 0.618_034).sin() * 0.05
                }
            })
            .collect();
        let mut expected = b"[".to_vec();
        for (i, &v) in values.iter().enumerate() {
            if i > 0 {
                expected.push(b',');
            }
            write_f32(&mut expected, v).unwrap();
        }
        expected.push(b']');
        assert_eq!(floats(&values).as_bytes(), expected.as_slice());
    }

    #[test]
    fn zmij_prints_what_ryu_prints_in_the_fast_range() {
        // Every f32 of the range was compared when Żmij was adopted; this samples it (a
        // stride prime to the mantissa width, so every bit position varies) for future
        // versions of either crate.
        let (lo, hi) = (1e-5f32.to_bits(), 1e12f32.to_bits());
        let (mut r, mut z) = (ryu::Buffer::new(), zmij::Buffer::new());
        let mut checked = 0;
        for bits in (lo..hi).step_by(4099) {
            for f in [f32::from_bits(bits), -f32::from_bits(bits)] {
                let a = r.format_finite(f).as_bytes();
                let b = z.format_finite(f).as_bytes();
                assert_eq!(
                    a.strip_suffix(b".0").unwrap_or(a),
                    b.strip_suffix(b".0").unwrap_or(b),
                    "{bits:#x}"
                );
                checked += 1;
            }
        }
        assert!(checked > 200_000);
    }

    #[test]
    fn string_named_escapes() {
        assert_eq!(string(b"a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(string(b"\n\r\t"), r#""\n\r\t""#);
        // Go 1.22+ (golang.org/cl/521675): backspace and form feed by name.
        assert_eq!(string(b"\x08"), r#""\b""#);
        assert_eq!(string(b"\x0c"), r#""\f""#);
        assert_eq!(string(b"x\x08y\x0cz"), r#""x\by\fz""#);
    }

    #[test]
    fn string_control_and_html() {
        assert_eq!(string(b"\x00\x01\x1f"), r#""\u0000\u0001\u001f""#);
        assert_eq!(string(b"\x0b\x0e\x1a"), r#""\u000b\u000e\u001a""#);
        assert_eq!(
            string(b"<a href=x>&amp;"),
            r#""\u003ca href=x\u003e\u0026amp;""#
        );
        assert_eq!(string(b"\x7f"), "\"\x7f\"");
        assert_eq!(string(b""), r#""""#);
        assert_eq!(string(b"plain ascii /'"), r#""plain ascii /'""#);
    }

    #[test]
    fn string_unicode() {
        assert_eq!(string("é€😀".as_bytes()), "\"é€😀\"");
        assert_eq!(
            string("a\u{2028}b\u{2029}c".as_bytes()),
            r#""a\u2028b\u2029c""#
        );
        // U+2027 and U+202A are not escaped.
        assert_eq!(
            string("\u{2027}\u{202a}".as_bytes()),
            "\"\u{2027}\u{202a}\""
        );
        // A literal, valid U+FFFD stays literal.
        assert_eq!(string("\u{fffd}".as_bytes()), "\"\u{fffd}\"");
    }

    #[test]
    fn string_invalid_utf8() {
        assert_eq!(string(b"\xe2\x82A"), r#""\ufffd\ufffdA""#);
        assert_eq!(string(b"\xff"), r#""\ufffd""#);
        assert_eq!(string(b"\xed\xa0\x80"), r#""\ufffd\ufffd\ufffd""#);
        assert_eq!(string(b"\xc0\x80"), r#""\ufffd\ufffd""#);
        assert_eq!(string(b"\xf4\x90\x80\x80"), r#""\ufffd\ufffd\ufffd\ufffd""#);
        assert_eq!(string(b"ab\xe2\x80"), r#""ab\ufffd\ufffd""#);
        assert_eq!(string(b"\x80<"), r#""\ufffd\u003c""#);
        // Truncated U+2028.
        assert_eq!(string(b"\xe2\x80"), r#""\ufffd\ufffd""#);
    }

    #[test]
    fn floats_positional() {
        assert_eq!(float(0.0), "0");
        assert_eq!(float(-0.0), "-0");
        assert_eq!(float(1.0), "1");
        assert_eq!(float(-2.5), "-2.5");
        assert_eq!(float(0.1), "0.1");
        assert_eq!(float(1e20), "100000000000000000000");
        assert_eq!(float(1e13), "10000000000000");
        assert_eq!(float(123456789.0), "123456790");
        assert_eq!(float(0.000001), "0.000001");
        assert_eq!(float(16777216.0), "16777216");
        assert_eq!(float(3.4028235e20), "340282350000000000000");
        // Go 1.26 quirk: 2^-12 rounds its tie up (ryu: ...062).
        assert_eq!(float(2f32.powi(-12)), "0.00024414063");
        assert_eq!(float(-(2f32.powi(-12))), "-0.00024414063");
        assert_eq!(float(2f32.powi(-11)), "0.00048828125");
    }

    #[test]
    fn floats_exponent() {
        assert_eq!(float(1e21), "1e+21");
        assert_eq!(float(-1e21), "-1e+21");
        assert_eq!(float(1.5e-7), "1.5e-7");
        assert_eq!(float(1e-10), "1e-10");
        assert_eq!(float(f32::MAX), "3.4028235e+38");
        assert_eq!(float(f32::MIN_POSITIVE), "1.1754944e-38");
        assert_eq!(float(f32::from_bits(1)), "1e-45");
        assert_eq!(float(9.999999e-7), "9.999999e-7");
    }

    #[test]
    fn general_renderer_matches_fast_paths() {
        // Force the slow path on the layouts ryu produces.
        let cases: &[(&[u8], bool, &str)] = &[
            (b"1.0", false, "1"),
            (b"12340000000.0", false, "12340000000"),
            (b"-0.001234", false, "-0.001234"),
            (b"1.234e15", false, "1234000000000000"),
            (b"1e20", false, "100000000000000000000"),
            (b"1e-6", false, "0.000001"),
            (b"1.5e-6", false, "0.0000015"),
            (b"1e21", true, "1e+21"),
            (b"-1.25e-7", true, "-1.25e-7"),
            (b"0.0", false, "0"),
            (b"-0.0", false, "-0"),
            (b"5.0", true, "5e+00"),
            (b"0.5", true, "5e-1"),
        ];
        for &(input, exp, want) in cases {
            let mut out = Vec::new();
            write_f32_general(&mut out, input, exp);
            assert_eq!(String::from_utf8(out).unwrap(), want, "{input:?}");
        }
    }

    #[test]
    fn float_errors() {
        let mut out = b"keep".to_vec();
        let err = write_f32(&mut out, f32::NAN).unwrap_err();
        assert_eq!(err.index, 0);
        assert!(err.value.is_nan());
        assert_eq!(out, b"keep");
        assert_eq!(
            err.to_string(),
            "json: unsupported value: NaN (float32 element 0)"
        );
        let err = write_f32_slice(&mut out, &[1.0, 2.0, f32::NEG_INFINITY]).unwrap_err();
        assert_eq!(err.index, 2);
        assert_eq!(out, b"keep");
        assert!(err.to_string().contains("-Inf"));
        let err = write_f32_slice(&mut out, &[f32::INFINITY]).unwrap_err();
        assert!(err.to_string().contains("+Inf"));
    }

    #[test]
    fn float_slices() {
        assert_eq!(floats(&[]), "[]");
        assert_eq!(floats(&[1.0]), "[1]");
        assert_eq!(floats(&[0.5, -0.25, 1e-7, 0.0]), "[0.5,-0.25,1e-7,0]");
    }

    #[test]
    fn integers() {
        let cases: &[(i64, &str)] = &[
            (0, "0"),
            (7, "7"),
            (-7, "-7"),
            (1234567890, "1234567890"),
            (i64::MAX, "9223372036854775807"),
            (i64::MIN, "-9223372036854775808"),
        ];
        for &(v, want) in cases {
            let mut out = Vec::new();
            write_i64(&mut out, v);
            assert_eq!(out, want.as_bytes());
        }
    }

    #[test]
    fn maps() {
        assert_eq!(map(&[]), "{}");
        assert_eq!(map(&[("b", "2"), ("a", "1")]), r#"{"a":"1","b":"2"}"#);
        // Raw byte order: 'B' < 'a' < "é"; "a" < "a<".
        assert_eq!(
            map(&[("é", "x"), ("a<", "y"), ("a", "z"), ("B", "w")]),
            r#"{"B":"w","a":"z","a\u003c":"y","é":"x"}"#
        );
        // Duplicates: the last occurrence wins.
        assert_eq!(
            map(&[("k", "first"), ("j", "0"), ("k", "second"), ("k", "third")]),
            r#"{"j":"0","k":"third"}"#
        );
    }

    #[test]
    fn maps_large_use_stable_sort() {
        let keys: Vec<String> = (0..100).map(|i| format!("k{:03}", (i * 37) % 50)).collect();
        let values: Vec<String> = (0..100).map(|i| i.to_string()).collect();
        let mut entries: Vec<(&[u8], &[u8])> = keys
            .iter()
            .zip(&values)
            .map(|(k, v)| (k.as_bytes(), v.as_bytes()))
            .collect();
        let mut out = Vec::new();
        write_string_map(&mut out, &mut entries);
        let text = String::from_utf8(out).unwrap();
        // Key k000 appears for i = 0 and i = 50; the last (50) wins.
        assert!(text.starts_with(r#"{"k000":"50","k001":"#), "{text}");
        assert_eq!(text.matches(':').count(), 50);
    }
}
