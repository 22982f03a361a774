//! Numeric CSV (optionally gzip-compressed) to a matrix.
//!
//! Comma-separated numbers, one sample per line; a first line that does not parse as numbers is
//! taken as a header and skipped. Every row must have the same number of fields and every field
//! must be a finite number: otherwise an [`Error::Format`] names the line and column.

use crate::error::{Error, Result};
use nalgebra::DMatrix;
use std::io::Read;
use std::path::Path;

/// Parses CSV text into an n × c matrix.
pub fn parse(text: &str, path: &Path) -> Result<DMatrix<f64>> {
    let mut rows: Vec<Vec<f64>> = Vec::new();
    let mut width = None;
    for (lineno, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let parsed: std::result::Result<Vec<f64>, _> =
            line.split(',').map(|f| f.trim().parse::<f64>()).collect();
        let values = match parsed {
            Ok(v) => v,
            Err(_) if rows.is_empty() && width.is_none() && lineno == 0 => {
                width = Some(line.split(',').count());
                continue;
            }
            Err(_) => {
                let col = line
                    .split(',')
                    .position(|f| f.trim().parse::<f64>().is_err())
                    .unwrap_or(0);
                return Err(Error::format(
                    path,
                    format!("line {}: field {} is not a number", lineno + 1, col + 1),
                ));
            }
        };
        if let Some(col) = values.iter().position(|v| !v.is_finite()) {
            return Err(Error::format(
                path,
                format!("line {}: field {} is not finite", lineno + 1, col + 1),
            ));
        }
        match width {
            None => width = Some(values.len()),
            Some(w) if w != values.len() => {
                return Err(Error::format(
                    path,
                    format!(
                        "line {} has {} fields, expected {w}",
                        lineno + 1,
                        values.len()
                    ),
                ))
            }
            _ => {}
        }
        rows.push(values);
    }
    if rows.is_empty() {
        return Err(Error::format(path, "no data rows"));
    }
    let c = rows[0].len();
    Ok(DMatrix::from_fn(rows.len(), c, |i, j| rows[i][j]))
}

/// Reads a `.csv` or `.csv.gz` file.
pub fn read(path: &Path) -> Result<DMatrix<f64>> {
    let io = |source| Error::Io {
        path: path.into(),
        source,
    };
    let bytes = std::fs::read(path).map_err(io)?;
    let text = if path.extension().is_some_and(|e| e == "gz") {
        let mut s = String::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut s)
            .map_err(|e| Error::format(path, format!("gzip: {e}")))?;
        s
    } else {
        String::from_utf8(bytes).map_err(|_| Error::format(path, "not UTF-8 text"))?
    };
    parse(&text, path)
}

/// Writes a matrix as CSV with full round-trip precision.
pub fn write(path: &Path, m: &DMatrix<f64>) -> Result<()> {
    let mut s = String::new();
    for r in m.row_iter() {
        let line: Vec<String> = r.iter().map(|v| format!("{v:?}")).collect();
        s.push_str(&line.join(","));
        s.push('\n');
    }
    std::fs::write(path, s).map_err(|source| Error::Io {
        path: path.into(),
        source,
    })
}
