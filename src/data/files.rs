//! Opening user files with bounds: regular files only (a FIFO, a directory or `/dev/zero` is
//! refused before a byte is read), a size cap on what is read into memory, and a cap on the
//! decompressed size of gzip input (a small `.gz` can inflate to gigabytes).

use crate::error::{Error, Result};
use std::io::Read;
use std::path::Path;

/// Largest file read into memory whole (safetensors, `.npy` vectors, sweep records): the memory
/// budget's default (half the physical memory) or 16 GiB, whichever is smaller.
pub fn max_file_bytes() -> u64 {
    (crate::budget::Budget::default().bytes() as u64).min(16 << 30)
}

/// Largest CSV text, after decompression (512 MiB: ≈ 30 million numbers; larger data belongs
/// in `.npy`, which streams).
pub const MAX_TEXT_BYTES: u64 = 512 << 20;

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.into(),
        source,
    }
}

/// Opens `path` for reading if it is a regular file no larger than `cap` bytes; returns the
/// file and its size.
pub fn open(path: &Path, cap: u64) -> Result<(std::fs::File, u64)> {
    let file = std::fs::File::open(path).map_err(io_err(path))?;
    let meta = file.metadata().map_err(io_err(path))?;
    if !meta.is_file() {
        return Err(Error::format(
            path,
            "not a regular file (a directory, device or pipe cannot be read as data)",
        ));
    }
    if meta.len() > cap {
        return Err(Error::format(
            path,
            format!(
                "{} is larger than the {} this input may have",
                crate::budget::human(meta.len() as f64),
                crate::budget::human(cap as f64)
            ),
        ));
    }
    Ok((file, meta.len()))
}

/// The whole content of a regular file of at most [`max_file_bytes`].
pub fn read(path: &Path) -> Result<Vec<u8>> {
    let (file, len) = open(path, max_file_bytes())?;
    let mut bytes = Vec::with_capacity(len as usize);
    // `take` bounds the read even if the file grows while it is read.
    file.take(len)
        .read_to_end(&mut bytes)
        .map_err(io_err(path))?;
    Ok(bytes)
}

/// The text of a `.csv` or `.csv.gz` file, at most [`MAX_TEXT_BYTES`] after decompression; a
/// leading UTF-8 byte-order mark is dropped.
pub fn read_text(path: &Path) -> Result<String> {
    read_text_capped(path, MAX_TEXT_BYTES)
}

fn read_text_capped(path: &Path, cap: u64) -> Result<String> {
    let gz = path.extension().is_some_and(|e| e == "gz");
    let (file, _) = open(path, if gz { max_file_bytes() } else { cap })?;
    let mut bytes = Vec::new();
    let read = if gz {
        flate2::read::GzDecoder::new(std::io::BufReader::new(file))
            .take(cap + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::format(path, format!("gzip: {e}")))?
    } else {
        file.take(cap + 1)
            .read_to_end(&mut bytes)
            .map_err(io_err(path))?
    };
    if read as u64 > cap {
        return Err(Error::format(
            path,
            format!(
                "the text is larger than {} (after decompression); store large data as .npy",
                crate::budget::human(cap as f64)
            ),
        ));
    }
    let mut text = String::from_utf8(bytes).map_err(|e| {
        Error::format(
            path,
            format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
        )
    })?;
    if text.starts_with('\u{feff}') {
        text.drain(..'\u{feff}'.len_utf8());
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn tmp(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("dimple-files-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d.join(name)
    }

    #[test]
    fn devices_directories_and_oversized_files_are_refused() {
        let e = read(Path::new("/dev/zero")).unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
        let e = read(&std::env::temp_dir()).unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
        let p = tmp("big.csv");
        std::fs::write(&p, "1,2\n".repeat(100)).unwrap();
        let e = read_text_capped(&p, 100).unwrap_err().to_string();
        assert!(e.contains("larger than"), "{e}");
        assert_eq!(read_text_capped(&p, 400).unwrap().len(), 400);
    }

    #[test]
    fn gzip_is_capped_after_decompression_and_a_bom_is_dropped() {
        let p = tmp("bomb.csv.gz");
        let mut enc = flate2::write::GzEncoder::new(
            std::fs::File::create(&p).unwrap(),
            flate2::Compression::best(),
        );
        enc.write_all(&vec![b'0'; 1 << 20]).unwrap();
        enc.finish().unwrap();
        assert!(std::fs::metadata(&p).unwrap().len() < 10_000);
        let e = read_text_capped(&p, 1 << 16).unwrap_err().to_string();
        assert!(e.contains("after decompression"), "{e}");
        assert_eq!(read_text_capped(&p, 1 << 20).unwrap().len(), 1 << 20);
        let b = tmp("bom.csv");
        std::fs::write(&b, "\u{feff}1,2\n").unwrap();
        assert_eq!(read_text(&b).unwrap(), "1,2\n");
    }
}
