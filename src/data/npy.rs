//! Reading and writing NumPy `.npy` files (format versions 1.0–3.0).
//!
//! Supported element types: `<f8`, `<f4`, `<i8`, `<i4`, `|i1`, `|u1` (read; converted to f64)
//! and `<f8` (written). C order and Fortran order are both read; files are written in C order.
//! Every malformed input — bad magic, truncated header or data, an unsupported dtype, a shape
//! whose size overflows or does not match the payload — is an [`Error::Format`], never a panic.

use crate::error::{Error, Result};
use std::path::Path;

const MAGIC: &[u8] = b"\x93NUMPY";

/// An n-dimensional array of f64 in C (row-major) order.
#[derive(Clone, Debug, PartialEq)]
pub struct NdArray {
    /// Shape, outermost first.
    pub shape: Vec<usize>,
    /// Elements in C order.
    pub data: Vec<f64>,
}

#[derive(Clone, Copy)]
enum Dtype {
    F8,
    F4,
    I8,
    I4,
    I1,
    U1,
}

impl Dtype {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "<f8" | "=f8" => Some(Self::F8),
            "<f4" | "=f4" => Some(Self::F4),
            "<i8" | "=i8" => Some(Self::I8),
            "<i4" | "=i4" => Some(Self::I4),
            "|i1" | "i1" => Some(Self::I1),
            "|u1" | "u1" | "|b1" => Some(Self::U1),
            _ => None,
        }
    }
    fn size(self) -> usize {
        match self {
            Self::F8 | Self::I8 => 8,
            Self::F4 | Self::I4 => 4,
            Self::I1 | Self::U1 => 1,
        }
    }
    fn read(self, b: &[u8]) -> f64 {
        match self {
            Self::F8 => f64::from_le_bytes(b.try_into().unwrap_or([0; 8])),
            Self::F4 => f32::from_le_bytes(b.try_into().unwrap_or([0; 4])) as f64,
            Self::I8 => i64::from_le_bytes(b.try_into().unwrap_or([0; 8])) as f64,
            Self::I4 => i32::from_le_bytes(b.try_into().unwrap_or([0; 4])) as f64,
            Self::I1 => b[0] as i8 as f64,
            Self::U1 => b[0] as f64,
        }
    }
}

/// Parses `.npy` bytes; `path` is only used in error messages.
pub fn parse(bytes: &[u8], path: &Path) -> Result<NdArray> {
    let bad = |msg: &str| Error::format(path, msg.to_string());
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err(bad("not a .npy file (missing \\x93NUMPY magic)"));
    }
    let major = bytes[6];
    let (hlen, start): (usize, usize) = match major {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 => {
            if bytes.len() < 12 {
                return Err(bad("truncated header"));
            }
            (
                u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
                12,
            )
        }
        v => return Err(bad(&format!("unsupported .npy format version {v}"))),
    };
    let end = start
        .checked_add(hlen)
        .filter(|&e| e <= bytes.len())
        .ok_or_else(|| bad("truncated header"))?;
    let header = std::str::from_utf8(&bytes[start..end]).map_err(|_| bad("header is not text"))?;
    let descr = dict_value(header, "descr").ok_or_else(|| bad("header has no 'descr'"))?;
    let descr = descr.trim_matches(|c| c == '\'' || c == '"');
    let dtype = Dtype::parse(descr).ok_or_else(|| {
        bad(&format!(
            "unsupported dtype {descr} (supported: <f8, <f4, <i8, <i4, |i1, |u1)"
        ))
    })?;
    let fortran = match dict_value(header, "fortran_order").map(str::trim) {
        Some("True") => true,
        Some("False") => false,
        _ => return Err(bad("header has no valid 'fortran_order'")),
    };
    let shape_txt = dict_value(header, "shape").ok_or_else(|| bad("header has no 'shape'"))?;
    let shape =
        parse_shape(shape_txt).ok_or_else(|| bad(&format!("malformed shape {shape_txt}")))?;
    let count = shape
        .iter()
        .try_fold(1usize, |a, &s| a.checked_mul(s))
        .ok_or_else(|| bad("shape overflows"))?;
    let payload = &bytes[end..];
    let need = count
        .checked_mul(dtype.size())
        .ok_or_else(|| bad("shape overflows"))?;
    if payload.len() != need {
        return Err(bad(&format!(
            "payload has {} bytes but shape {:?} of {descr} needs {need}",
            payload.len(),
            shape
        )));
    }
    let raw: Vec<f64> = payload
        .chunks_exact(dtype.size())
        .map(|c| dtype.read(c))
        .collect();
    let data = if fortran && shape.len() > 1 {
        fortran_to_c(&raw, &shape)
    } else {
        raw
    };
    Ok(NdArray { shape, data })
}

/// Reads a `.npy` file.
pub fn read(path: &Path) -> Result<NdArray> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.into(),
        source,
    })?;
    parse(&bytes, path)
}

/// Serialises an f64 array as `.npy` (version 1.0, C order).
pub fn to_bytes(shape: &[usize], data: &[f64]) -> Vec<u8> {
    let shape_txt = match shape.len() {
        1 => format!("({},)", shape[0]),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape_txt}, }}");
    let total = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - total % 64) % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + 8 * data.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in data {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// Writes an f64 array as `.npy`.
pub fn write(path: &Path, shape: &[usize], data: &[f64]) -> Result<()> {
    std::fs::write(path, to_bytes(shape, data)).map_err(|source| Error::Io {
        path: path.into(),
        source,
    })
}

fn dict_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let k1 = format!("'{key}'");
    let k2 = format!("\"{key}\"");
    let pos = header.find(&k1).or_else(|| header.find(&k2))?;
    let rest = &header[pos + k1.len()..];
    let rest = rest.trim_start().strip_prefix(':')?.trim_start();
    if rest.starts_with('(') {
        let close = rest.find(')')?;
        Some(&rest[..=close])
    } else {
        let end = rest.find([',', '}']).unwrap_or(rest.len());
        Some(rest[..end].trim())
    }
}

fn parse_shape(s: &str) -> Option<Vec<usize>> {
    let inner = s.trim().strip_prefix('(')?.strip_suffix(')')?;
    inner
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| t.trim_end_matches('L').parse::<usize>().ok())
        .collect()
}

fn fortran_to_c(raw: &[f64], shape: &[usize]) -> Vec<f64> {
    let nd = shape.len();
    let mut out = vec![0.0; raw.len()];
    let mut idx = vec![0usize; nd];
    for v in raw {
        // idx runs in Fortran order (first index fastest); place at its C-order offset.
        let mut off = 0;
        for (a, &i) in idx.iter().enumerate() {
            off = off * shape[a] + i;
        }
        out[off] = *v;
        for a in 0..nd {
            idx[a] += 1;
            if idx[a] < shape[a] {
                break;
            }
            idx[a] = 0;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_fortran_order() {
        let bytes = to_bytes(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let a = parse(&bytes, Path::new("t")).unwrap();
        assert_eq!(a.shape, vec![2, 3]);
        assert_eq!(a.data, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let mut fb = bytes.clone();
        let p = fb
            .windows(5)
            .position(|w| w == b"False")
            .expect("header names fortran_order");
        fb.splice(p..p + 5, b"True ".iter().cloned());
        let b = parse(&fb, Path::new("t")).unwrap();
        // Fortran payload 1..6 for shape (2,3) is [[1,3,5],[2,4,6]].
        assert_eq!(b.data, vec![1.0, 3.0, 5.0, 2.0, 4.0, 6.0]);
    }

    #[test]
    fn truncated_and_garbage_are_errors() {
        let bytes = to_bytes(&[4], &[1.0, 2.0, 3.0, 4.0]);
        for cut in [0, 5, 9, 20, bytes.len() - 1] {
            assert!(parse(&bytes[..cut], Path::new("t")).is_err(), "cut {cut}");
        }
        assert!(parse(b"hello world, not npy", Path::new("t")).is_err());
    }
}
