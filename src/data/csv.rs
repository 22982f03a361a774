//! Numeric CSV (optionally gzip-compressed) to a matrix.
//!
//! Comma-separated numbers, one sample per line. A first line none of whose fields is a number
//! is a header and skipped; a first line with some numeric fields and some not is a typo in the
//! first data row and refused (taking it as a header would silently drop a row). A leading
//! byte-order mark is dropped. Every row must have the same number of fields and every field
//! must be a finite number: otherwise an [`Error::Format`] names the line and column. The text
//! is read with the caps of [`super::files`].

use crate::error::{Error, Result};
use nalgebra::DMatrix;
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
            Err(_)
                if rows.is_empty()
                    && width.is_none()
                    && lineno == 0
                    && line.split(',').all(|f| f.trim().parse::<f64>().is_err()) =>
            {
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
    parse(&super::files::read_text(path)?, path)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_is_a_first_line_without_numbers_and_a_typo_is_an_error() {
        let p = Path::new("x.csv");
        let m = parse("a,b,c\n1,2,3\n4,5,6\n", p).unwrap();
        assert_eq!((m.nrows(), m.ncols()), (2, 3));
        let e = parse("1,2x,3\n4,5,6\n7,8,9\n", p).unwrap_err().to_string();
        assert!(e.contains("line 1: field 2 is not a number"), "{e}");
        let m = parse("1,2,3\n4,5,6\n", p).unwrap();
        assert_eq!(m[(1, 2)], 6.0);
        let e = parse("1,2\n3,nan\n", p).unwrap_err().to_string();
        assert!(e.contains("line 2: field 2 is not finite"), "{e}");
        let e = parse("label,x\n", p).unwrap_err().to_string();
        assert!(e.contains("no data rows"), "{e}");
    }
}
