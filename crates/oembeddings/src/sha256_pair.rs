//! SHA-256 of two independent messages at once.
//!
//! One SHA-256 stream on the x86 SHA extensions is bound by the latency of
//! `sha256rnds2`: every instruction waits for the one before it, and the unit sits idle in
//! between. Two streams stepped through the same rounds fill that gap: on this project's
//! benchmark machine (AMD EPYC) two 4.7 KB messages hash 1.5 to 1.8 times faster together
//! than one after the other. Signing a file needs two kinds of hashing that can be paired this way:
//! a digest per record ([`digest_pair`]), and the whole file's SHA-256, which pairs with the
//! record digests ([`digest_beside`]).
//!
//! The digests are those of ordinary SHA-256 (FIPS 180-4); differential tests against
//! `sha2` pin that down. Without the extensions (or off x86-64), messages are hashed one
//! after the other with `sha2`.

use bytes::Bytes;
use sha2::digest::generic_array::GenericArray;
use sha2::{Digest, Sha256};

/// A message given as consecutive byte segments, hashed as their concatenation.
pub type Segments<'a> = [&'a [u8]];

/// The SHA-256 digests of two messages, each the concatenation of its segments.
pub fn digest_pair(a: &Segments<'_>, b: &Segments<'_>) -> ([u8; 32], [u8; 32]) {
    #[cfg(target_arch = "x86_64")]
    if shani::available() {
        return hash_pair_with(a, b, shani::compress_two_checked);
    }
    (digest(a), digest(b))
}

/// SHA-256 of one message given as segments.
pub fn digest(segments: &Segments<'_>) -> [u8; 32] {
    let mut h = Sha256::new();
    for segment in segments {
        h.update(segment);
    }
    h.finalize().into()
}

/// A SHA-256 computation over a long stream of bytes (a whole file) that is fed whole
/// 64-byte blocks, so that its blocks can be paired with other messages' blocks.
#[derive(Debug, Clone)]
pub(crate) struct Stream {
    state: [u32; 8],
    /// Bytes hashed so far.
    len: u64,
}

impl Default for Stream {
    fn default() -> Self {
        Self { state: H0, len: 0 }
    }
}

impl Stream {
    /// Bytes hashed so far.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Hashes whole blocks (`blocks.len()` a multiple of 64; a shorter rest is ignored).
    pub(crate) fn update_blocks(&mut self, blocks: &[u8]) {
        let whole = blocks.len() / 64 * 64;
        compress_one(&mut self.state, &blocks[..whole]);
        self.len += whole as u64;
    }

    /// The digest of the stream followed by `rest` (any length).
    pub(crate) fn finish(mut self, rest: &[u8]) -> [u8; 32] {
        let mut blocks = Blocks::new(std::slice::from_ref(&rest));
        blocks.len = self.len;
        loop {
            let next = blocks.peek();
            if next.is_empty() {
                break;
            }
            compress_one(&mut self.state, next);
            let n = next.len();
            blocks.consume(n);
        }
        digest_bytes(&self.state)
    }
}

/// Where a [`Stream`]'s next blocks come from, for [`digest_beside`].
pub(crate) trait StreamSource {
    /// The stream being hashed.
    fn stream(&mut self) -> &mut Stream;
    /// Its next whole blocks that are available now (a multiple of 64 bytes), or nothing.
    fn next_blocks(&mut self) -> Bytes;
    /// Marks `bytes` of what [`StreamSource::next_blocks`] gave as hashed.
    fn consume(&mut self, bytes: usize);
}

/// The SHA-256 digests of `messages`, each hashed alone, with the blocks of a long stream
/// hashed beside them in the other lane while `source` has any; messages with no stream
/// bytes to pair with are paired with each other.
pub(crate) fn digest_beside(
    messages: &[&Segments<'_>],
    source: &mut impl StreamSource,
) -> Vec<[u8; 32]> {
    #[cfg(target_arch = "x86_64")]
    if shani::available() {
        return digest_beside_with(messages, source, shani::compress_two_checked);
    }
    messages.iter().map(|m| digest(m)).collect()
}

/// [`digest_beside`] with a given two-lane compression.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
fn digest_beside_with(
    messages: &[&Segments<'_>],
    source: &mut impl StreamSource,
    compress_two: impl Fn(&mut [u32; 8], &[u8], &mut [u32; 8], &[u8]) + Copy,
) -> Vec<[u8; 32]> {
    let mut digests = Vec::with_capacity(messages.len());
    let mut next = 0;
    while let Some(message) = messages.get(next) {
        if source.next_blocks().is_empty() {
            // Nothing of the stream to pair with: pair two messages.
            match messages.get(next + 1) {
                Some(partner) => {
                    let (a, b) = hash_pair_with(message, partner, compress_two);
                    digests.extend([a, b]);
                    next += 2;
                }
                None => {
                    digests.push(digest(message));
                    next += 1;
                }
            }
            continue;
        }
        let mut blocks = Blocks::new(message);
        let mut state = H0;
        loop {
            let ours = blocks.peek();
            if ours.is_empty() {
                break;
            }
            let theirs = source.next_blocks();
            let n = ours.len().min(theirs.len());
            if n == 0 {
                compress_one(&mut state, ours);
                let n = ours.len();
                blocks.consume(n);
                continue;
            }
            let stream = source.stream();
            compress_two(&mut state, &ours[..n], &mut stream.state, &theirs[..n]);
            stream.len += n as u64;
            blocks.consume(n);
            source.consume(n);
        }
        digests.push(digest_bytes(&state));
        next += 1;
    }
    digests
}

/// The initial hash value (FIPS 180-4, 5.3.3).
const H0: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// Splits a message into 64-byte blocks, padded as SHA-256 pads, without copying the
/// blocks that lie whole inside one segment.
struct Blocks<'a, 'b> {
    segments: &'b Segments<'a>,
    /// The segment being read and the offset in it.
    segment: usize,
    offset: usize,
    /// Bytes of the message so far, for the length in the padding.
    len: u64,
    /// Blocks assembled across a segment boundary or with the padding, and how far they
    /// have been consumed.
    staged: [u8; 128],
    staged_range: std::ops::Range<usize>,
    /// The padding has been staged: nothing follows what is staged.
    padded: bool,
}

impl<'a, 'b> Blocks<'a, 'b> {
    fn new(segments: &'b Segments<'a>) -> Self {
        Self {
            segments,
            segment: 0,
            offset: 0,
            len: 0,
            staged: [0; 128],
            staged_range: 0..0,
            padded: false,
        }
    }

    /// The next whole blocks (a non-zero multiple of 64 bytes), or nothing at the end.
    /// They stay next until [`Blocks::consume`] is called.
    fn peek(&mut self) -> &[u8] {
        if self.staged_range.is_empty() {
            if self.padded {
                return &[];
            }
            while self
                .segments
                .get(self.segment)
                .is_some_and(|s| self.offset == s.len())
            {
                self.segment += 1;
                self.offset = 0;
            }
            if let Some(rest) = self.segments.get(self.segment).map(|s| &s[self.offset..])
                && rest.len() >= 64
            {
                return &rest[..rest.len() / 64 * 64];
            }
            self.stage();
        }
        &self.staged[self.staged_range.clone()]
    }

    /// Gathers the next 64 bytes into `staged`, or the last bytes and the padding.
    fn stage(&mut self) {
        let mut filled = 0;
        while filled < 64 {
            let Some(segment) = self.segments.get(self.segment) else {
                break;
            };
            let take = (segment.len() - self.offset).min(64 - filled);
            self.staged[filled..filled + take]
                .copy_from_slice(&segment[self.offset..self.offset + take]);
            filled += take;
            self.offset += take;
            if self.offset == segment.len() {
                self.segment += 1;
                self.offset = 0;
            }
        }
        self.len += filled as u64;
        if filled == 64 {
            self.staged_range = 0..64;
            return;
        }
        // The message ends here: 0x80, zeros, and its length in bits, big-endian, in the
        // last 8 bytes of one block or, when fewer than 9 bytes are left, of a second.
        let end = if filled < 56 { 64 } else { 128 };
        self.staged[filled] = 0x80;
        self.staged[filled + 1..end - 8].fill(0);
        self.staged[end - 8..end].copy_from_slice(&self.len.wrapping_mul(8).to_be_bytes());
        self.staged_range = 0..end;
        self.padded = true;
    }

    /// Marks `bytes` (whole blocks of what [`Blocks::peek`] returned) as hashed.
    fn consume(&mut self, bytes: usize) {
        if self.staged_range.is_empty() {
            self.offset += bytes;
            self.len += bytes as u64;
        } else {
            self.staged_range.start += bytes;
        }
    }
}

/// Big-endian words of a state.
fn digest_bytes(state: &[u32; 8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (o, word) in out.chunks_exact_mut(4).zip(state) {
        o.copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// Compresses whole blocks into a state, one lane.
fn compress_one(state: &mut [u32; 8], blocks: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    if shani::available() {
        shani::compress_one_checked(state, blocks);
        return;
    }
    compress_portable(state, blocks);
}

/// Compresses whole blocks into a state with `sha2`, a block per call (`sha2` takes its
/// own block type, which a byte slice is not).
fn compress_portable(state: &mut [u32; 8], blocks: &[u8]) {
    let (blocks, _) = blocks.as_chunks::<64>();
    for block in blocks {
        sha2::compress256(state, std::slice::from_ref(GenericArray::from_slice(block)));
    }
}

/// Hashes two messages, compressing their blocks two at a time with `compress_two` for as
/// long as both have blocks left.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
fn hash_pair_with(
    a: &Segments<'_>,
    b: &Segments<'_>,
    compress_two: impl Fn(&mut [u32; 8], &[u8], &mut [u32; 8], &[u8]) + Copy,
) -> ([u8; 32], [u8; 32]) {
    let (mut blocks_a, mut blocks_b) = (Blocks::new(a), Blocks::new(b));
    let (mut state_a, mut state_b) = (H0, H0);
    loop {
        let (next_a, next_b) = (blocks_a.peek(), blocks_b.peek());
        let n = match (next_a.is_empty(), next_b.is_empty()) {
            (true, true) => break,
            (false, true) => {
                compress_one(&mut state_a, next_a);
                let n = next_a.len();
                blocks_a.consume(n);
                continue;
            }
            (true, false) => {
                compress_one(&mut state_b, next_b);
                let n = next_b.len();
                blocks_b.consume(n);
                continue;
            }
            (false, false) => {
                let n = next_a.len().min(next_b.len());
                compress_two(&mut state_a, &next_a[..n], &mut state_b, &next_b[..n]);
                n
            }
        };
        blocks_a.consume(n);
        blocks_b.consume(n);
    }
    (digest_bytes(&state_a), digest_bytes(&state_b))
}

/// The two-stream compression on the x86 SHA extensions.
#[cfg(target_arch = "x86_64")]
mod shani {
    use std::arch::x86_64::{
        __m128i, _mm_add_epi32, _mm_alignr_epi8, _mm_blend_epi16, _mm_set_epi32,
        _mm_sha256msg1_epu32, _mm_sha256msg2_epu32, _mm_sha256rnds2_epu32, _mm_shuffle_epi8,
        _mm_shuffle_epi32,
    };
    use std::sync::OnceLock;

    /// Whether this CPU has the SHA extensions and the SSE levels the code below uses.
    pub(super) fn available() -> bool {
        static AVAILABLE: OnceLock<bool> = OnceLock::new();
        *AVAILABLE.get_or_init(|| {
            std::arch::is_x86_feature_detected!("sha")
                && std::arch::is_x86_feature_detected!("sse2")
                && std::arch::is_x86_feature_detected!("ssse3")
                && std::arch::is_x86_feature_detected!("sse4.1")
        })
    }

    /// [`compress_two`] for callers that cannot enable the features themselves.
    pub(super) fn compress_two_checked(
        state_a: &mut [u32; 8],
        blocks_a: &[u8],
        state_b: &mut [u32; 8],
        blocks_b: &[u8],
    ) {
        if !available() {
            super::compress_portable(state_a, blocks_a);
            super::compress_portable(state_b, blocks_b);
            return;
        }
        #[allow(unsafe_code)]
        // SAFETY: `compress_two` needs the SHA extensions, SSE2, SSSE3 and SSE4.1, and
        // `available()` has just found all of them.
        unsafe {
            compress_two(state_a, blocks_a, state_b, blocks_b)
        }
    }

    /// [`compress_single`] for callers that cannot enable the features themselves.
    pub(super) fn compress_one_checked(state: &mut [u32; 8], blocks: &[u8]) {
        if !available() {
            super::compress_portable(state, blocks);
            return;
        }
        #[allow(unsafe_code)]
        // SAFETY: as in `compress_two_checked`.
        unsafe {
            compress_single(state, blocks)
        }
    }

    /// The round constants (FIPS 180-4, 4.2.2).
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];

    /// A state as the SHA instructions hold it: words A, B, E, F and C, D, G, H.
    #[derive(Clone, Copy)]
    struct State {
        abef: __m128i,
        cdgh: __m128i,
    }

    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    fn load_state(state: &[u32; 8]) -> State {
        let [a, b, c, d, e, f, g, h] = state.map(|w| w as i32);
        // `_mm_set_epi32` takes the highest lane first.
        let abcd = _mm_set_epi32(d, c, b, a);
        let efgh = _mm_set_epi32(h, g, f, e);
        let badc = _mm_shuffle_epi32(abcd, 0xB1);
        let hgfe = _mm_shuffle_epi32(efgh, 0x1B);
        State {
            abef: _mm_alignr_epi8(badc, hgfe, 8),
            cdgh: _mm_blend_epi16(hgfe, badc, 0xF0),
        }
    }

    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    fn store_state(s: State, state: &mut [u32; 8]) {
        let feba = _mm_shuffle_epi32(s.abef, 0x1B);
        let dchg = _mm_shuffle_epi32(s.cdgh, 0xB1);
        let abcd: [u32; 4] = zerocopy::transmute!(_mm_blend_epi16(feba, dchg, 0xF0));
        let efgh: [u32; 4] = zerocopy::transmute!(_mm_alignr_epi8(dchg, feba, 8));
        state[..4].copy_from_slice(&abcd);
        state[4..].copy_from_slice(&efgh);
    }

    /// The four message vectors of a block: its sixteen big-endian words.
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    fn load_block(block: &[u8; 64]) -> [__m128i; 4] {
        let swap = _mm_set_epi32(0x0c0d0e0f, 0x08090a0b, 0x04050607, 0x00010203);
        let quarters: &[[u8; 16]; 4] = zerocopy::transmute_ref!(block);
        let [q0, q1, q2, q3] = *quarters;
        [
            _mm_shuffle_epi8(zerocopy::transmute!(q0), swap),
            _mm_shuffle_epi8(zerocopy::transmute!(q1), swap),
            _mm_shuffle_epi8(zerocopy::transmute!(q2), swap),
            _mm_shuffle_epi8(zerocopy::transmute!(q3), swap),
        ]
    }

    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    fn constants(group: usize) -> __m128i {
        let k = |i: usize| K[4 * group + i] as i32;
        _mm_set_epi32(k(3), k(2), k(1), k(0))
    }

    /// The next four words of a block's message schedule, into the ring `$w` of its last
    /// sixteen (four vectors), for group `$g` of four rounds from the fifth on:
    /// W[t] = σ1(W[t-2]) + W[t-7] + σ0(W[t-15]) + W[t-16].
    macro_rules! schedule {
        ($w:ident, $g:expr) => {{
            const I: usize = $g % 4;
            if $g >= 4 {
                $w[I] = _mm_sha256msg2_epu32(
                    _mm_add_epi32(
                        _mm_sha256msg1_epu32($w[I], $w[($g + 1) % 4]),
                        _mm_alignr_epi8($w[($g + 3) % 4], $w[($g + 2) % 4], 4),
                    ),
                    $w[($g + 3) % 4],
                );
            }
            _mm_add_epi32($w[I], constants($g))
        }};
    }

    /// The first two of a group's four rounds, with `$m` = W + K: the result is the new
    /// A, B, E, F, and the old A, B, E, F become C, D, G, H.
    macro_rules! first_two_rounds {
        ($s:ident, $m:expr) => {
            $s.cdgh = _mm_sha256rnds2_epu32($s.cdgh, $s.abef, $m)
        };
    }

    /// The last two rounds, on the high half of `$m`, swapping the roles back.
    macro_rules! last_two_rounds {
        ($s:ident, $m:expr) => {
            $s.abef = _mm_sha256rnds2_epu32($s.abef, $s.cdgh, _mm_shuffle_epi32($m, 0x0E))
        };
    }

    /// `$group!(0)` to `$group!(15)`: a block's sixteen groups of four rounds, unrolled so
    /// that the message ring stays in registers.
    macro_rules! sixteen_groups {
        ($group:ident) => {
            $group!(0);
            $group!(1);
            $group!(2);
            $group!(3);
            $group!(4);
            $group!(5);
            $group!(6);
            $group!(7);
            $group!(8);
            $group!(9);
            $group!(10);
            $group!(11);
            $group!(12);
            $group!(13);
            $group!(14);
            $group!(15);
        };
    }

    /// Compresses `blocks_a` into `state_a` and `blocks_b` into `state_b`, which hold the
    /// same number of whole 64-byte blocks; the rounds of the two alternate.
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    fn compress_two(
        state_a: &mut [u32; 8],
        blocks_a: &[u8],
        state_b: &mut [u32; 8],
        blocks_b: &[u8],
    ) {
        let (blocks_a, _) = blocks_a.as_chunks::<64>();
        let (blocks_b, _) = blocks_b.as_chunks::<64>();
        let (mut sa, mut sb) = (load_state(state_a), load_state(state_b));
        for (block_a, block_b) in blocks_a.iter().zip(blocks_b) {
            let (start_a, start_b) = (sa, sb);
            let (mut wa, mut wb) = (load_block(block_a), load_block(block_b));
            macro_rules! group {
                ($g:expr) => {{
                    let (ma, mb) = (schedule!(wa, $g), schedule!(wb, $g));
                    first_two_rounds!(sa, ma);
                    first_two_rounds!(sb, mb);
                    last_two_rounds!(sa, ma);
                    last_two_rounds!(sb, mb);
                }};
            }
            sixteen_groups!(group);
            sa.abef = _mm_add_epi32(sa.abef, start_a.abef);
            sa.cdgh = _mm_add_epi32(sa.cdgh, start_a.cdgh);
            sb.abef = _mm_add_epi32(sb.abef, start_b.abef);
            sb.cdgh = _mm_add_epi32(sb.cdgh, start_b.cdgh);
        }
        store_state(sa, state_a);
        store_state(sb, state_b);
    }

    /// Compresses whole 64-byte blocks into a state, one lane: `sha2`'s own SHA-extension
    /// code does the same, but only through its block type, a block per call.
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    fn compress_single(state: &mut [u32; 8], blocks: &[u8]) {
        let (blocks, _) = blocks.as_chunks::<64>();
        let mut s = load_state(state);
        for block in blocks {
            let start = s;
            let mut w = load_block(block);
            macro_rules! group {
                ($g:expr) => {{
                    let m = schedule!(w, $g);
                    first_two_rounds!(s, m);
                    last_two_rounds!(s, m);
                }};
            }
            sixteen_groups!(group);
            s.abef = _mm_add_epi32(s.abef, start.abef);
            s.cdgh = _mm_add_epi32(s.cdgh, start.cdgh);
        }
        store_state(s, state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic bytes that differ from message to message.
    fn bytes(seed: u64, len: usize) -> Vec<u8> {
        let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    /// Cuts `message` at `cuts` (offsets, any order, repeats allowed: empty segments).
    fn split<'a>(message: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
        let mut cuts: Vec<usize> = cuts.iter().map(|&c| c.min(message.len())).collect();
        cuts.sort_unstable();
        let mut segments = Vec::new();
        let mut at = 0;
        for c in cuts {
            segments.push(&message[at..c]);
            at = c;
        }
        segments.push(&message[at..]);
        segments
    }

    fn sha256(message: &[u8]) -> [u8; 32] {
        Sha256::digest(message).into()
    }

    /// Lengths at and around every padding boundary, and record-sized ones.
    const LENGTHS: &[usize] = &[
        0, 1, 2, 31, 54, 55, 56, 57, 63, 64, 65, 118, 119, 120, 127, 128, 129, 191, 192, 193, 1000,
        4608, 4790,
    ];

    #[test]
    fn pairs_hash_as_sha256_at_every_length() {
        for (i, &len_a) in LENGTHS.iter().enumerate() {
            for (j, &len_b) in LENGTHS.iter().enumerate() {
                let a = bytes(i as u64, len_a);
                let b = bytes(1000 + j as u64, len_b);
                let expected = (sha256(&a), sha256(&b));
                assert_eq!(digest_pair(&[&a], &[&b]), expected, "{len_a} {len_b}");
                #[cfg(target_arch = "x86_64")]
                if shani::available() {
                    assert_eq!(
                        hash_pair_with(&[&a], &[&b], shani::compress_two_checked),
                        expected
                    );
                }
                // The portable path, which machines without the extensions take.
                assert_eq!((digest(&[&a]), digest(&[&b])), expected);
            }
        }
    }

    /// The machines this project is built and tested on have the SHA extensions: the
    /// tests above would pass on the portable path alone, so make sure they ran the other.
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn the_extensions_are_used_where_present() {
        assert_eq!(
            shani::available(),
            std::arch::is_x86_feature_detected!("sha")
        );
    }

    #[test]
    fn segments_join_at_any_offset() {
        let a = bytes(7, 4790);
        let b = bytes(8, 300);
        let expected = (sha256(&a), sha256(&b));
        // Cuts inside blocks, on block boundaries, empty segments, one-byte segments.
        let cut_sets: &[&[usize]] = &[
            &[],
            &[0],
            &[1],
            &[63],
            &[64],
            &[65, 65],
            &[150, 4758],
            &[3, 4, 5, 6, 200, 201, 4700],
            &[64, 128, 4736],
            &[4789],
            &[4790, 4790],
        ];
        for cuts_a in cut_sets {
            for cuts_b in cut_sets {
                let (sa, sb) = (split(&a, cuts_a), split(&b, cuts_b));
                assert_eq!(digest_pair(&sa, &sb), expected, "{cuts_a:?} {cuts_b:?}");
                assert_eq!(digest_pair(&sb, &sa), (expected.1, expected.0));
            }
        }
    }

    #[test]
    fn pairs_of_many_messages() {
        // Pseudo-random lengths and cuts, the way record encodings vary.
        for n in 0..300u64 {
            let a = bytes(n, (n as usize * 37) % 700);
            let b = bytes(n + 10_000, (n as usize * 101) % 5000);
            let cut_a = [(n as usize * 13) % 97, (n as usize * 29) % 701];
            let cut_b = [(n as usize * 7) % 64, (n as usize * 31) % 5003];
            let got = digest_pair(&split(&a, &cut_a), &split(&b, &cut_b));
            assert_eq!(got, (sha256(&a), sha256(&b)), "message pair {n}");
        }
    }

    /// A stream delivered in runs of whole blocks of varying size, with gaps.
    struct Chunks {
        stream: Stream,
        runs: std::collections::VecDeque<Bytes>,
        /// Calls of `next_blocks` left that find nothing (a reader that has not caught up).
        dry: usize,
    }

    impl StreamSource for Chunks {
        fn stream(&mut self) -> &mut Stream {
            &mut self.stream
        }
        fn next_blocks(&mut self) -> Bytes {
            if self.dry > 0 {
                self.dry -= 1;
                return Bytes::new();
            }
            while self.runs.front().is_some_and(Bytes::is_empty) {
                self.runs.pop_front();
            }
            self.runs.front().cloned().unwrap_or_default()
        }
        fn consume(&mut self, bytes: usize) {
            if let Some(run) = self.runs.front_mut() {
                *run = run.slice(bytes..);
            }
        }
    }

    #[test]
    fn messages_beside_a_stream_hash_both() {
        let stream_bytes = bytes(99, 64 * 301 + 17);
        let whole = stream_bytes.len() / 64 * 64;
        let messages: Vec<Vec<u8>> = (0..23)
            .map(|i| bytes(i, (i as usize * 613) % 5000))
            .collect();
        let expected: Vec<[u8; 32]> = messages.iter().map(|m| sha256(m)).collect();
        for (dry, run_blocks) in [(0, 1), (0, 7), (3, 64), (1, 1000), (40, 5)] {
            let runs = stream_bytes[..whole]
                .chunks(64 * run_blocks)
                .map(Bytes::copy_from_slice)
                .collect();
            let mut source = Chunks {
                stream: Stream::default(),
                runs,
                dry,
            };
            let segments: Vec<Vec<&[u8]>> = messages
                .iter()
                .enumerate()
                .map(|(i, m)| split(m, &[i * 7, i * 131]))
                .collect();
            let refs: Vec<&Segments<'_>> = segments.iter().map(Vec::as_slice).collect();
            // In two calls, as a signer does batch by batch.
            let mut got = digest_beside(&refs[..10], &mut source);
            got.extend(digest_beside(&refs[10..], &mut source));
            assert_eq!(got, expected, "dry {dry}, runs of {run_blocks} blocks");
            // The stream: whatever the messages did not take, then the partial block.
            let mut stream = source.stream.clone();
            let taken = stream.len() as usize;
            assert!(
                taken > 0 || dry >= 40,
                "dry {dry}, runs of {run_blocks} blocks"
            );
            stream.update_blocks(&stream_bytes[taken..whole]);
            assert_eq!(stream.finish(&stream_bytes[whole..]), sha256(&stream_bytes));
        }
    }

    #[test]
    fn one_changed_bit_changes_only_its_own_digest() {
        let a = bytes(1, 4608);
        let mut b = a.clone();
        b[4000] ^= 0x10;
        let (da, db) = digest_pair(&[&a], &[&b]);
        assert_eq!(da, sha256(&a));
        assert_eq!(db, sha256(&b));
        assert_ne!(da, db);
    }
}
