//! Request decompression with a cap on the output and on the memory budget, so a
//! compression bomb costs at most the cap (never unbounded reads).
//!
//! The output grows in steps; before each step the reservation on the collector's budget is
//! grown, and past `max` bytes decoding stops with [`DecompressError::TooLarge`].

use std::io::Read;

use crate::memory::Reservation;

/// A body or message encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Encoding {
    Identity,
    Gzip,
    /// `zlib` and `deflate` (HTTP's `deflate` is zlib-wrapped; Go reads both with zlib).
    Zlib,
    Zstd,
    /// Block or framed snappy, told apart by the stream identifier (as Go does).
    Snappy,
    /// LZ4 frame format.
    Lz4,
}

impl Encoding {
    /// An HTTP `Content-Encoding` or gRPC `grpc-encoding` value.
    pub(crate) fn parse(name: &str) -> Option<Encoding> {
        match name.trim().to_ascii_lowercase().as_str() {
            "" | "identity" | "none" => Some(Encoding::Identity),
            "gzip" | "x-gzip" => Some(Encoding::Gzip),
            "zlib" | "deflate" => Some(Encoding::Zlib),
            "zstd" => Some(Encoding::Zstd),
            "snappy" | "x-snappy-framed" => Some(Encoding::Snappy),
            "lz4" => Some(Encoding::Lz4),
            _ => None,
        }
    }
}

/// Why a body could not be decompressed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum DecompressError {
    /// The output would exceed the cap.
    TooLarge(usize),
    /// The budget refused the memory.
    OverBudget,
    /// Not valid data for the encoding.
    Corrupt(String),
}

impl std::fmt::Display for DecompressError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecompressError::TooLarge(max) => {
                write!(f, "decompressed body exceeds the limit of {max} bytes")
            }
            DecompressError::OverBudget => f.write_str("not enough memory budget to decompress"),
            DecompressError::Corrupt(m) => write!(f, "invalid compressed data: {m}"),
        }
    }
}

const SNAPPY_STREAM_ID: &[u8] = b"\xff\x06\x00\x00sNaPpY";
const STEP: usize = 64 * 1024;

/// What a deflate decoder (gzip, zlib) holds besides its output: its 32 KiB window, its
/// state and the input buffer of the reader around it.
const INFLATE_STATE: usize = 96 << 10;

/// What a zstd decoder holds besides its window: the decoding context, one block and the
/// input buffer of the reader around it.
const ZSTD_STATE: usize = 384 << 10;

/// The largest zstd window decoded, unless the output cap needs more: what zstd's own
/// command line and the common encoders use (level 19 is 8 MiB).
const ZSTD_WINDOW_MAX: u64 = 8 << 20;

/// Decompresses `input` into a new buffer of at most `max` bytes, growing `reservation` as
/// the buffer grows. What the decoder itself holds (its window, which a zstd or lz4 frame
/// header declares in a few bytes) is reserved before the decoder is built and released
/// when it is done, so the reservation ends at the output's size.
pub(crate) fn decompress(
    encoding: Encoding,
    input: &[u8],
    max: usize,
    reservation: &mut Reservation,
) -> Result<Vec<u8>, DecompressError> {
    let out = match encoding {
        Encoding::Identity => read_capped(input, max, reservation, 0),
        Encoding::Gzip => read_capped(
            flate2::read::MultiGzDecoder::new(input),
            max,
            reservation,
            INFLATE_STATE,
        ),
        Encoding::Zlib => read_capped(
            flate2::read::ZlibDecoder::new(input),
            max,
            reservation,
            INFLATE_STATE,
        ),
        Encoding::Zstd => {
            let window = zstd_window(input, max)?;
            let state = usize::try_from(window).unwrap_or(usize::MAX) + ZSTD_STATE;
            grow(reservation, state)?;
            let mut d = zstd::stream::read::Decoder::new(input)
                .map_err(|e| DecompressError::Corrupt(e.to_string()))?;
            // Later frames of the stream may not declare more than the first was allowed.
            d.window_log_max(window_log(zstd_window_limit(max)))
                .map_err(|e| DecompressError::Corrupt(e.to_string()))?;
            read_capped(d, max, reservation, state)
        }
        Encoding::Snappy if input.starts_with(SNAPPY_STREAM_ID) => {
            // Framed snappy works in chunks of at most 64 KiB, compressed and not.
            read_capped(
                snap::read::FrameDecoder::new(input),
                max,
                reservation,
                128 << 10,
            )
        }
        Encoding::Snappy => {
            // Block format states its length up front: check it before allocating.
            let len = snap::raw::decompress_len(input)
                .map_err(|e| DecompressError::Corrupt(e.to_string()))?;
            if len > max {
                return Err(DecompressError::TooLarge(max));
            }
            grow(reservation, len)?;
            snap::raw::Decoder::new()
                .decompress_vec(input)
                .map_err(|e| DecompressError::Corrupt(e.to_string()))
        }
        Encoding::Lz4 => {
            let state = lz4_state(input);
            grow(reservation, state)?;
            read_capped(
                lz4_flex::frame::FrameDecoder::new(input),
                max,
                reservation,
                state,
            )
        }
    }?;
    // The decoder and its window are gone: only the output stays reserved.
    reservation.shrink_to(out.capacity());
    Ok(out)
}

/// The largest zstd window accepted for an output cap of `max` bytes.
fn zstd_window_limit(max: usize) -> u64 {
    ZSTD_WINDOW_MAX.max((max as u64).next_power_of_two())
}

/// The base-2 log of a window size, as zstd's `window_log_max` takes it (at least 10).
fn window_log(window: u64) -> u32 {
    (64 - window.saturating_sub(1).leading_zeros()).clamp(10, 31)
}

/// The window the first zstd frame of `input` makes its decoder allocate (the frame header
/// format of RFC 8878 §3.1.1.1): the declared window, or the content size when that is
/// smaller or the frame is a single segment. Skippable frames before it are passed over.
/// Refuses windows larger than [`zstd_window_limit`]: decoding at most `max` bytes never
/// needs one, and a hostile body can declare 128 MiB (zstd's default limit) in one byte.
/// Input that is not a zstd frame gives 0 here and an error from the decoder.
fn zstd_window(input: &[u8], max: usize) -> Result<u64, DecompressError> {
    const MAGIC: u32 = 0xFD2F_B528;
    let mut at = 0usize;
    let u32_at = |at: usize| -> Option<u32> {
        let b = input.get(at..at.checked_add(4)?)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    loop {
        let Some(magic) = u32_at(at) else {
            return Ok(0);
        };
        if magic & 0xFFFF_FFF0 == 0x184D_2A50 {
            // A skippable frame: magic, 4-byte size, data.
            let Some(size) = u32_at(at + 4) else {
                return Ok(0);
            };
            at = at.saturating_add(8).saturating_add(size as usize);
            continue;
        }
        if magic != MAGIC {
            return Ok(0);
        }
        break;
    }
    let header = &input[at + 4..];
    let Some(&descriptor) = header.first() else {
        return Ok(0);
    };
    let fcs_flag = descriptor >> 6;
    let single_segment = descriptor & 0x20 != 0;
    let did_len = [0usize, 1, 2, 4][usize::from(descriptor & 3)];
    let mut pos = 1;
    let declared = if single_segment {
        None
    } else {
        let Some(&wd) = header.get(pos) else {
            return Ok(0);
        };
        pos += 1;
        let log = 10 + u32::from(wd >> 3);
        let base = 1u64 << log;
        Some(base + (base / 8) * u64::from(wd & 7))
    };
    pos += did_len;
    let fcs_len = match fcs_flag {
        0 if single_segment => 1,
        0 => 0,
        1 => 2,
        2 => 4,
        _ => 8,
    };
    let content = match header.get(pos..pos + fcs_len) {
        Some(b) if fcs_len > 0 => {
            let mut v = [0u8; 8];
            v[..fcs_len].copy_from_slice(b);
            let v = u64::from_le_bytes(v);
            Some(if fcs_len == 2 { v + 256 } else { v })
        }
        _ => None,
    };
    if content.is_some_and(|c| c > max as u64) {
        // The frame says its output is over the cap: no need to decode it to know.
        return Err(DecompressError::TooLarge(max));
    }
    let window = match (declared, content) {
        (Some(w), Some(c)) => w.min(c),
        (Some(w), None) => w,
        (None, Some(c)) => c,
        (None, None) => 0,
    };
    let limit = zstd_window_limit(max);
    if window > limit {
        return Err(DecompressError::Corrupt(format!(
            "zstd frame declares a window of {window} bytes; at most {limit} are decoded here"
        )));
    }
    Ok(window)
}

/// What an lz4 frame decoder holds: an input and an output buffer of the block size its
/// header declares (up to 4 MiB), and the 64 KiB of history linked blocks refer to.
fn lz4_state(input: &[u8]) -> usize {
    const MAGIC: [u8; 4] = [0x04, 0x22, 0x4D, 0x18];
    let block = match input.get(..6) {
        Some(h) if h[..4] == MAGIC => match (h[5] >> 4) & 7 {
            4 => 64 << 10,
            5 => 256 << 10,
            6 => 1 << 20,
            _ => 4 << 20,
        },
        // Not a frame: the decoder fails before allocating its buffers.
        _ => 0,
    };
    2 * block + (64 << 10)
}

fn grow(reservation: &mut Reservation, to: usize) -> Result<(), DecompressError> {
    if to > reservation.bytes() && !reservation.try_grow(to - reservation.bytes()) {
        return Err(DecompressError::OverBudget);
    }
    Ok(())
}

/// Reads `r` to the end into a buffer of at most `max` bytes; before the buffer grows, the
/// reservation is grown to cover it plus `held` (what the decoder holds meanwhile).
fn read_capped<R: Read>(
    mut r: R,
    max: usize,
    reservation: &mut Reservation,
    held: usize,
) -> Result<Vec<u8>, DecompressError> {
    let mut out: Vec<u8> = Vec::new();
    loop {
        if out.len() == out.capacity() {
            // One byte past the cap tells "exactly max" from "more than max".
            let want = (out.capacity() + STEP).min(max + 1);
            if want <= out.len() {
                return Err(DecompressError::TooLarge(max));
            }
            grow(reservation, held.saturating_add(want))?;
            out.reserve_exact(want - out.len());
        }
        let len = out.len();
        let cap = out.capacity();
        out.resize(cap, 0);
        match r.read(&mut out[len..]) {
            Ok(0) => {
                out.truncate(len);
                return Ok(out);
            }
            Ok(n) => {
                out.truncate(len + n);
                if out.len() > max {
                    return Err(DecompressError::TooLarge(max));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => out.truncate(len),
            Err(e) => return Err(DecompressError::Corrupt(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::memory::Budget;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn encode(enc: Encoding, data: &[u8]) -> Vec<u8> {
        match enc {
            Encoding::Identity => data.to_vec(),
            Encoding::Gzip => gzip(data),
            Encoding::Zlib => {
                let mut e =
                    flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
            Encoding::Zstd => zstd::bulk::compress(data, 1).unwrap(),
            Encoding::Snappy => snap::raw::Encoder::new().compress_vec(data).unwrap(),
            Encoding::Lz4 => {
                let mut e = lz4_flex::frame::FrameEncoder::new(Vec::new());
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
        }
    }

    #[test]
    fn every_encoding_round_trips() {
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        for enc in [
            Encoding::Identity,
            Encoding::Gzip,
            Encoding::Zlib,
            Encoding::Zstd,
            Encoding::Snappy,
            Encoding::Lz4,
        ] {
            let budget = Budget::new(10 << 20);
            let mut r = budget.try_reserve(0).unwrap();
            let out = decompress(enc, &encode(enc, &data), 1 << 20, &mut r).unwrap();
            assert_eq!(out, data, "{enc:?}");
            assert!(r.bytes() >= out.len());
        }
        // Framed snappy is detected.
        let mut framed = snap::write::FrameEncoder::new(Vec::new());
        framed.write_all(&data).unwrap();
        let framed = framed.into_inner().unwrap();
        let budget = Budget::new(10 << 20);
        let mut r = budget.try_reserve(0).unwrap();
        assert_eq!(
            decompress(Encoding::Snappy, &framed, 1 << 20, &mut r).unwrap(),
            data
        );
    }

    #[test]
    fn bombs_stop_at_the_cap_and_the_budget() {
        let zeros = vec![0u8; 64 << 20];
        for enc in [
            Encoding::Gzip,
            Encoding::Zstd,
            Encoding::Snappy,
            Encoding::Lz4,
        ] {
            // Streamed, so that no format states the output size up front (except snappy's
            // block format, which always does).
            let bomb = if enc == Encoding::Zstd {
                zstd_stream(&zeros, 21)
            } else {
                encode(enc, &zeros)
            };
            let budget = Budget::new(100 << 20);
            let mut r = budget.try_reserve(0).unwrap();
            let err = decompress(enc, &bomb, 1 << 20, &mut r).unwrap_err();
            assert_eq!(err, DecompressError::TooLarge(1 << 20), "{enc:?}");
            // The output never grew past the cap: what is reserved is the cap plus one
            // step plus what the decoder holds.
            let held = match enc {
                Encoding::Zstd => (2 << 20) + ZSTD_STATE,
                Encoding::Lz4 => lz4_state(&bomb),
                _ => INFLATE_STATE,
            };
            assert!(
                r.bytes() <= (1 << 20) + STEP + 1 + held,
                "{enc:?}: reserved {}",
                r.bytes()
            );
            // A small budget refuses first (snappy's block format states its size up front,
            // so the cap catches it before any allocation).
            if enc == Encoding::Snappy {
                continue;
            }
            let budget = Budget::new(200 << 10);
            let mut r = budget.try_reserve(0).unwrap();
            let err = decompress(enc, &bomb, 1 << 20, &mut r).unwrap_err();
            assert_eq!(err, DecompressError::OverBudget, "{enc:?}");
        }
    }

    /// A zstd stream with no content size in its header and a window of `2^log` bytes.
    fn zstd_stream(data: &[u8], log: u32) -> Vec<u8> {
        let mut e = zstd::stream::write::Encoder::new(Vec::new(), 1).unwrap();
        e.set_parameter(zstd::zstd_safe::CParameter::WindowLog(log))
            .unwrap();
        e.include_contentsize(false).unwrap();
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn the_zstd_window_is_reserved_before_decoding() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let frame = zstd_stream(&data, 23);
        assert_eq!(zstd_window(&frame, 1 << 20), Ok(8 << 20));
        // 8 MiB of window do not fit in 4 MiB of budget: refused before anything is built.
        let budget = Budget::new(4 << 20);
        let mut r = budget.try_reserve(0).unwrap();
        assert_eq!(
            decompress(Encoding::Zstd, &frame, 1 << 20, &mut r),
            Err(DecompressError::OverBudget)
        );
        // With room, it decodes and the reservation ends at the output.
        let budget = Budget::new(16 << 20);
        let mut r = budget.try_reserve(0).unwrap();
        let out = decompress(Encoding::Zstd, &frame, 1 << 20, &mut r).unwrap();
        assert_eq!(out, data);
        assert_eq!(r.bytes(), out.capacity());
        assert_eq!(budget.used(), out.capacity());
    }

    #[test]
    fn hostile_zstd_headers_are_refused_from_the_header() {
        // Magic, a descriptor without content size, and a window of 2^27 (128 MiB).
        let mut frame = 0xFD2F_B528u32.to_le_bytes().to_vec();
        frame.extend_from_slice(&[0x00, (27 - 10) << 3, 0, 0, 0]);
        let budget = Budget::new(1 << 30);
        let mut r = budget.try_reserve(0).unwrap();
        let err = decompress(Encoding::Zstd, &frame, 4 << 20, &mut r).unwrap_err();
        assert!(
            matches!(&err, DecompressError::Corrupt(m) if m.contains("window of 134217728 bytes")),
            "{err:?}"
        );
        assert_eq!(budget.used(), 0);
        // A content size over the cap is refused without decoding.
        let big = zstd::bulk::compress(&vec![0u8; 2 << 20], 1).unwrap();
        let mut r = budget.try_reserve(0).unwrap();
        assert_eq!(
            decompress(Encoding::Zstd, &big, 1 << 20, &mut r),
            Err(DecompressError::TooLarge(1 << 20))
        );
        // Skippable frames before the real one are passed over.
        let mut skip = 0x184D_2A50u32.to_le_bytes().to_vec();
        skip.extend_from_slice(&3u32.to_le_bytes());
        skip.extend_from_slice(b"abc");
        skip.extend_from_slice(&frame);
        assert!(matches!(
            zstd_window(&skip, 4 << 20),
            Err(DecompressError::Corrupt(_))
        ));
    }

    #[test]
    fn lz4_block_buffers_are_reserved_before_decoding() {
        let data = vec![7u8; 100_000];
        let info = lz4_flex::frame::FrameInfo::new().block_size(lz4_flex::frame::BlockSize::Max4MB);
        let mut e = lz4_flex::frame::FrameEncoder::with_frame_info(info, Vec::new());
        e.write_all(&data).unwrap();
        let frame = e.finish().unwrap();
        assert_eq!(lz4_state(&frame), (8 << 20) + (64 << 10));
        let budget = Budget::new(4 << 20);
        let mut r = budget.try_reserve(0).unwrap();
        assert_eq!(
            decompress(Encoding::Lz4, &frame, 1 << 20, &mut r),
            Err(DecompressError::OverBudget)
        );
        let budget = Budget::new(16 << 20);
        let mut r = budget.try_reserve(0).unwrap();
        assert_eq!(
            decompress(Encoding::Lz4, &frame, 1 << 20, &mut r).unwrap(),
            data
        );
    }

    #[test]
    fn exactly_the_cap_is_allowed() {
        let data = vec![1u8; 1000];
        let budget = Budget::new(1 << 20);
        let mut r = budget.try_reserve(0).unwrap();
        assert_eq!(
            decompress(Encoding::Gzip, &gzip(&data), 1000, &mut r)
                .unwrap()
                .len(),
            1000
        );
        let mut r = budget.try_reserve(0).unwrap();
        assert!(decompress(Encoding::Gzip, &gzip(&data), 999, &mut r).is_err());
    }

    #[test]
    fn corrupt_input_is_an_error() {
        let budget = Budget::new(1 << 20);
        for enc in [
            Encoding::Gzip,
            Encoding::Zlib,
            Encoding::Zstd,
            Encoding::Snappy,
            Encoding::Lz4,
        ] {
            let mut r = budget.try_reserve(0).unwrap();
            assert!(
                matches!(
                    decompress(enc, b"definitely not compressed", 1 << 20, &mut r),
                    Err(DecompressError::Corrupt(_))
                ),
                "{enc:?}"
            );
        }
    }
}

/// Compresses `chunks` (one logical buffer in pieces) for sending: gzip, zlib, zstd,
/// framed snappy or lz4. The chunks are streamed into the encoder, never joined first.
pub(crate) fn compress(encoding: Encoding, chunks: &[bytes::Bytes]) -> std::io::Result<Vec<u8>> {
    use std::io::Write;
    let total: usize = chunks.iter().map(bytes::Bytes::len).sum();
    let out = Vec::with_capacity(total / 3 + 64);
    fn feed<W: Write>(mut w: W, chunks: &[bytes::Bytes]) -> std::io::Result<W> {
        for c in chunks {
            w.write_all(c)?;
        }
        Ok(w)
    }
    Ok(match encoding {
        Encoding::Identity => {
            let mut out = out;
            for c in chunks {
                out.extend_from_slice(c);
            }
            out
        }
        Encoding::Gzip => feed(
            flate2::write::GzEncoder::new(out, flate2::Compression::default()),
            chunks,
        )?
        .finish()?,
        Encoding::Zlib => feed(
            flate2::write::ZlibEncoder::new(out, flate2::Compression::default()),
            chunks,
        )?
        .finish()?,
        Encoding::Zstd => {
            // The content size in the frame header lets the receiver size its window to
            // the message instead of to the level's default (2 MiB at level 3).
            let mut e = zstd::stream::write::Encoder::new(out, 3)?;
            e.set_pledged_src_size(Some(total as u64))?;
            feed(e, chunks)?.finish()?
        }
        Encoding::Snappy => feed(snap::write::FrameEncoder::new(out), chunks)?
            .into_inner()
            .map_err(|e| e.into_error())?,
        Encoding::Lz4 => feed(lz4_flex::frame::FrameEncoder::new(out), chunks)?
            .finish()
            .map_err(std::io::Error::other)?,
    })
}

#[cfg(test)]
mod compress_tests {
    use super::*;
    use crate::memory::Budget;

    #[test]
    fn compress_then_decompress() {
        let chunks: Vec<bytes::Bytes> = (0..5)
            .map(|i| bytes::Bytes::from(vec![i as u8; 10_000]))
            .collect();
        let joined: Vec<u8> = chunks.iter().flat_map(|c| c.iter().copied()).collect();
        for enc in [
            Encoding::Identity,
            Encoding::Gzip,
            Encoding::Zlib,
            Encoding::Zstd,
            Encoding::Snappy,
            Encoding::Lz4,
        ] {
            let c = compress(enc, &chunks).unwrap();
            let budget = Budget::new(1 << 20);
            let mut r = budget.try_reserve(0).unwrap();
            assert_eq!(
                decompress(enc, &c, 1 << 20, &mut r).unwrap(),
                joined,
                "{enc:?}"
            );
        }
    }
}
