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

#[derive(Clone, Copy, Debug)]
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

/// The parsed header of a `.npy` file.
#[derive(Clone, Debug)]
struct Header {
    dtype: Dtype,
    descr: String,
    fortran: bool,
    shape: Vec<usize>,
    /// Offset of the payload.
    data_start: usize,
    /// Number of elements.
    count: usize,
}

impl Header {
    fn payload_bytes(&self) -> usize {
        self.count * self.dtype.size()
    }
}

/// Longest header accepted (numpy writes at most a few hundred bytes; 1 MiB of header is hostile).
const MAX_HEADER: usize = 1 << 20;

/// Parses the header from the first bytes of a file (at least the header's length of them).
fn parse_header(bytes: &[u8], path: &Path) -> Result<Header> {
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
    if hlen > MAX_HEADER {
        return Err(bad(&format!(
            "header of {hlen} bytes (at most {MAX_HEADER})"
        )));
    }
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
        .filter(|c| c.checked_mul(dtype.size()).is_some())
        .ok_or_else(|| bad("shape overflows"))?;
    Ok(Header {
        dtype,
        descr: descr.to_string(),
        fortran,
        shape,
        data_start: end,
        count,
    })
}

fn payload_mismatch(h: &Header, have: u64, path: &Path) -> Error {
    Error::format(
        path,
        format!(
            "payload has {have} bytes but shape {:?} of {} needs {}",
            h.shape,
            h.descr,
            h.payload_bytes()
        ),
    )
}

/// Parses `.npy` bytes; `path` is only used in error messages.
pub fn parse(bytes: &[u8], path: &Path) -> Result<NdArray> {
    let h = parse_header(bytes, path)?;
    let payload = &bytes[h.data_start..];
    if payload.len() != h.payload_bytes() {
        return Err(payload_mismatch(&h, payload.len() as u64, path));
    }
    let raw: Vec<f64> = payload
        .chunks_exact(h.dtype.size())
        .map(|c| h.dtype.read(c))
        .collect();
    let data = if h.fortran && h.shape.len() > 1 {
        fortran_to_c(&raw, &h.shape)
    } else {
        raw
    };
    Ok(NdArray {
        shape: h.shape,
        data,
    })
}

/// Reads a `.npy` file.
pub fn read(path: &Path) -> Result<NdArray> {
    parse(&super::files::read(path)?, path)
}

/// Reads a 2-D `.npy` file straight into a column-major n × d matrix, streaming the payload in
/// 1 MiB chunks: the only full-size allocation is the matrix itself (the whole-file route holds
/// the bytes, the converted values and the transposed copy at once). The file's length is
/// checked against the header before anything is allocated, and a NaN or infinite entry is
/// refused by its row and column.
pub fn read_matrix(path: &Path) -> Result<nalgebra::DMatrix<f64>> {
    use std::io::Read;
    let io_err = |source| Error::Io {
        path: path.into(),
        source,
    };
    let (mut file, len) = super::files::open(path, super::files::max_file_bytes())?;
    let mut head = Vec::new();
    (&mut file)
        .take(12 + MAX_HEADER as u64)
        .read_to_end(&mut head)
        .map_err(io_err)?;
    let h = parse_header(&head, path)?;
    if h.shape.len() != 2 {
        return Err(Error::format(
            path,
            format!("expected a 2-D array (n × d), got shape {:?}", h.shape),
        ));
    }
    let have = len.saturating_sub(h.data_start as u64);
    if have != h.payload_bytes() as u64 {
        return Err(payload_mismatch(&h, have, path));
    }
    let (n, d) = (h.shape[0], h.shape[1]);
    let mut m = nalgebra::DMatrix::<f64>::zeros(n, d);
    let buf = m.as_mut_slice();
    let size = h.dtype.size();
    // The bytes already read past the header, then the rest of the file.
    let mut pending: Vec<u8> = head[h.data_start..].to_vec();
    let mut k = 0usize;
    let mut chunk = vec![0u8; 1 << 20];
    loop {
        let whole = pending.len() / size * size;
        for c in pending[..whole].chunks_exact(size) {
            let v = h.dtype.read(c);
            // Element k in file order: C order is row-major, Fortran order column-major.
            let (i, j) = if h.fortran {
                (k % n.max(1), k / n.max(1))
            } else {
                (k / d.max(1), k % d.max(1))
            };
            if !v.is_finite() {
                return Err(Error::format(
                    path,
                    format!(
                        "row {}, column {} is {v} (data must be finite)",
                        i + 1,
                        j + 1
                    ),
                ));
            }
            buf[i + j * n] = v;
            k += 1;
        }
        pending.drain(..whole);
        let got = file.read(&mut chunk).map_err(io_err)?;
        if got == 0 {
            break;
        }
        pending.extend_from_slice(&chunk[..got]);
    }
    if k != h.count {
        return Err(payload_mismatch(&h, (k * size) as u64, path));
    }
    Ok(m)
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

    /// A version-`major` file with the given dtype and raw little-endian payload.
    fn with_dtype(major: u8, descr: &str, shape: &str, payload: &[u8]) -> Vec<u8> {
        let header =
            format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}\n");
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&[major, 0]);
        if major == 1 {
            out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        } else {
            out.extend_from_slice(&(header.len() as u32).to_le_bytes());
        }
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(payload);
        out
    }

    #[test]
    fn written_payloads_start_on_a_64_byte_boundary() {
        // The format's requirement: magic + version + length + header is a multiple of 64.
        for shape in [
            vec![0],
            vec![3],
            vec![2, 3],
            vec![1_234, 67],
            vec![1, 2, 3, 4, 5, 6, 7],
        ] {
            let count: usize = shape.iter().product();
            let bytes = to_bytes(&shape, &vec![1.5; count]);
            let h = parse_header(&bytes, Path::new("t")).unwrap();
            assert_eq!(h.data_start % 64, 0, "{shape:?}");
            assert_eq!(bytes[h.data_start - 1], b'\n', "{shape:?}");
            assert_eq!(bytes.len(), h.data_start + 8 * count);
        }
    }

    #[test]
    fn every_supported_dtype_and_header_version_reads() {
        let t = Path::new("t");
        let i4: Vec<u8> = [-3i32, 7].iter().flat_map(|v| v.to_le_bytes()).collect();
        let i8: Vec<u8> = [-3i64, 7].iter().flat_map(|v| v.to_le_bytes()).collect();
        let f4: Vec<u8> = [-3.0f32, 7.5]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let f8: Vec<u8> = [-3.0f64, 7.5]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let cases: Vec<(&str, Vec<u8>, Vec<f64>)> = vec![
            ("<i4", i4, vec![-3.0, 7.0]),
            ("<i8", i8, vec![-3.0, 7.0]),
            ("<f4", f4, vec![-3.0, 7.5]),
            ("<f8", f8, vec![-3.0, 7.5]),
            ("|i1", vec![253, 7], vec![-3.0, 7.0]),
            ("|u1", vec![253, 7], vec![253.0, 7.0]),
        ];
        for (descr, payload, want) in cases {
            for major in [1, 2, 3] {
                let a = parse(&with_dtype(major, descr, "(2,)", &payload), t)
                    .unwrap_or_else(|e| panic!("{descr} v{major}: {e}"));
                assert_eq!(a.data, want, "{descr} v{major}");
            }
        }
        // A version-2 file cut inside its 4-byte header length, an absurd header length, an
        // unknown version and dtype.
        let v2 = with_dtype(2, "<f8", "(2,)", &[0; 16]);
        assert!(parse(&v2[..11], t)
            .unwrap_err()
            .to_string()
            .contains("truncated"));
        let mut huge = v2.clone();
        huge[8..12].copy_from_slice(&(MAX_HEADER as u32 + 1).to_le_bytes());
        assert!(parse(&huge, t)
            .unwrap_err()
            .to_string()
            .contains("header of"));
        let mut v9 = v2.clone();
        v9[6] = 9;
        assert!(parse(&v9, t).unwrap_err().to_string().contains("version 9"));
        assert!(parse(&with_dtype(1, ">f8", "(2,)", &[0; 16]), t)
            .unwrap_err()
            .to_string()
            .contains("unsupported dtype"));
    }

    #[test]
    fn streamed_matrix_equals_the_whole_file_route_in_both_orders() {
        let dir = std::env::temp_dir().join(format!("dimple-npy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // 300 × 500 f64 = 1.2 MB: more than one 1 MiB chunk, with an element split across two.
        let (n, d) = (300, 500);
        let data: Vec<f64> = (0..n * d).map(|k| (k as f64 * 0.37).sin()).collect();
        let bytes = to_bytes(&[n, d], &data);
        let c_path = dir.join("c.npy");
        std::fs::write(&c_path, &bytes).unwrap();
        let m = read_matrix(&c_path).unwrap();
        assert_eq!(m, nalgebra::DMatrix::from_row_slice(n, d, &data));
        // The same values in Fortran order: the payload is the column-major buffer.
        let mut fb = to_bytes(&[n, d], m.as_slice());
        let p = fb.windows(5).position(|w| w == b"False").unwrap();
        fb.splice(p..p + 5, b"True ".iter().cloned());
        let f_path = dir.join("f.npy");
        std::fs::write(&f_path, &fb).unwrap();
        assert_eq!(read_matrix(&f_path).unwrap(), m);
        // Truncated, padded, non-finite (named by row and column, 1-based), 1-D.
        std::fs::write(&f_path, &bytes[..bytes.len() - 4]).unwrap();
        assert!(read_matrix(&f_path)
            .unwrap_err()
            .to_string()
            .contains("payload"));
        let mut padded = bytes.clone();
        padded.extend_from_slice(&[0; 8]);
        std::fs::write(&f_path, &padded).unwrap();
        assert!(read_matrix(&f_path).is_err());
        let mut with_nan = data.clone();
        with_nan[2 * d + 6] = f64::NAN;
        std::fs::write(&f_path, to_bytes(&[n, d], &with_nan)).unwrap();
        let e = read_matrix(&f_path).unwrap_err().to_string();
        assert!(e.contains("row 3, column 7"), "{e}");
        std::fs::write(&f_path, to_bytes(&[4], &[1.0, 2.0, 3.0, 4.0])).unwrap();
        assert!(read_matrix(&f_path)
            .unwrap_err()
            .to_string()
            .contains("2-D"));
        std::fs::remove_dir_all(&dir).ok();
    }
}
