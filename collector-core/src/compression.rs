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

/// Decompresses `input` into a new buffer of at most `max` bytes, growing `reservation` as
/// the buffer grows.
pub(crate) fn decompress(
    encoding: Encoding,
    input: &[u8],
    max: usize,
    reservation: &mut Reservation,
) -> Result<Vec<u8>, DecompressError> {
    match encoding {
        Encoding::Identity => read_capped(input, max, reservation),
        Encoding::Gzip => read_capped(flate2::read::MultiGzDecoder::new(input), max, reservation),
        Encoding::Zlib => read_capped(flate2::read::ZlibDecoder::new(input), max, reservation),
        Encoding::Zstd => {
            let d = zstd::stream::read::Decoder::new(input)
                .map_err(|e| DecompressError::Corrupt(e.to_string()))?;
            read_capped(d, max, reservation)
        }
        Encoding::Snappy if input.starts_with(SNAPPY_STREAM_ID) => {
            read_capped(snap::read::FrameDecoder::new(input), max, reservation)
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
        Encoding::Lz4 => read_capped(lz4_flex::frame::FrameDecoder::new(input), max, reservation),
    }
}

fn grow(reservation: &mut Reservation, to: usize) -> Result<(), DecompressError> {
    if to > reservation.bytes() && !reservation.try_grow(to - reservation.bytes()) {
        return Err(DecompressError::OverBudget);
    }
    Ok(())
}

fn read_capped<R: Read>(
    mut r: R,
    max: usize,
    reservation: &mut Reservation,
) -> Result<Vec<u8>, DecompressError> {
    let mut out: Vec<u8> = Vec::new();
    loop {
        if out.len() == out.capacity() {
            // One byte past the cap tells "exactly max" from "more than max".
            let want = (out.capacity() + STEP).min(max + 1);
            if want <= out.len() {
                return Err(DecompressError::TooLarge(max));
            }
            grow(reservation, want)?;
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
            let bomb = encode(enc, &zeros);
            let budget = Budget::new(100 << 20);
            let mut r = budget.try_reserve(0).unwrap();
            let err = decompress(enc, &bomb, 1 << 20, &mut r).unwrap_err();
            assert_eq!(err, DecompressError::TooLarge(1 << 20), "{enc:?}");
            assert!(
                r.bytes() <= (1 << 20) + STEP + 1,
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
        Encoding::Zstd => feed(zstd::stream::write::Encoder::new(out, 3)?, chunks)?.finish()?,
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
