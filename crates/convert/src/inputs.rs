//! The inputs of a conversion: files, directories and glob patterns, expanded and ordered,
//! then read one after another as one stream of records.

use std::path::{Path, PathBuf};

use crate::{ConvertError, ConvertOptions, Format, Source, open_source};
use oembeddings::batch::Batch;
use oembeddings::read::Narrowing;

/// The files that `inputs` name, in the order they are read.
///
/// A file is itself. A directory stands for the data files in it: a Hugging Face dataset
/// directory (a `README.md` and `data/`) for the Parquet shards in `data/`; any other
/// directory for its `.parquet`, `.jsonl` and `.ndjson` files and SkyPilot's parts
/// (`…_part_N`, or a `…_part_N` directory holding `data.parquet`), hidden names left out. A
/// path that does not exist and holds `*`, `?` or `[` is a glob pattern. Within each
/// argument, SkyPilot's parts (`{prefix}_{start}_{end}.parquet_part_{n}`) are ordered by
/// prefix, `{start}`, `{end}` and `{n}` as numbers, everything else by name; the arguments
/// keep their order.
pub fn expand(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, ConvertError> {
    let mut files = Vec::new();
    for input in inputs {
        let mut found = if input.is_dir() {
            directory(input)?
        } else if !input.exists() && is_pattern(input) {
            pattern(input)?
        } else {
            vec![input.clone()]
        };
        found.sort_by_cached_key(|path| order_key(path));
        files.append(&mut found);
    }
    Ok(files)
}

fn is_pattern(path: &Path) -> bool {
    path.to_string_lossy().contains(['*', '?', '['])
}

fn pattern(input: &Path) -> Result<Vec<PathBuf>, ConvertError> {
    let text = input.to_string_lossy().into_owned();
    let no_input = |reason| ConvertError::NoInput {
        pattern: text.clone(),
        reason,
    };
    let paths = glob::glob(&text).map_err(|_| no_input("not a valid glob pattern"))?;
    let mut files = Vec::new();
    for path in paths {
        let path =
            path.map_err(|e| ConvertError::io(e.path(), std::io::Error::other(e.to_string())))?;
        if path.is_file() {
            files.push(path);
        }
    }
    if files.is_empty() {
        return Err(no_input("the pattern matches no file"));
    }
    Ok(files)
}

fn directory(dir: &Path) -> Result<Vec<PathBuf>, ConvertError> {
    let data = dir.join("data");
    if dir.join("README.md").is_file() && data.is_dir() {
        let files = entries(&data)?
            .into_iter()
            .filter(|p| p.is_file() && has_extension(p, &["parquet"]))
            .collect::<Vec<_>>();
        return non_empty(dir, files);
    }
    let mut files = Vec::new();
    for path in entries(dir)? {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if path.is_file()
            && (has_extension(&path, &["parquet", "jsonl", "ndjson"])
                || part_number(&name).is_some())
        {
            files.push(path);
        } else if path.is_dir()
            && part_number(&name).is_some()
            && path.join("data.parquet").is_file()
        {
            files.push(path.join("data.parquet"));
        }
    }
    non_empty(dir, files)
}

fn entries(dir: &Path) -> Result<Vec<PathBuf>, ConvertError> {
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| ConvertError::io(dir, e))? {
        let entry = entry.map_err(|e| ConvertError::io(dir, e))?;
        // Hidden names include the temporary files of outputs being written.
        if !entry.file_name().to_string_lossy().starts_with('.') {
            paths.push(entry.path());
        }
    }
    Ok(paths)
}

fn non_empty(dir: &Path, files: Vec<PathBuf>) -> Result<Vec<PathBuf>, ConvertError> {
    if files.is_empty() {
        return Err(ConvertError::NoInput {
            pattern: dir.display().to_string(),
            reason: "the directory holds no records file (.parquet, .jsonl, SkyPilot parts)",
        });
    }
    Ok(files)
}

fn has_extension(path: &Path, extensions: &[&str]) -> bool {
    path.extension()
        .is_some_and(|e| extensions.iter().any(|x| e.eq_ignore_ascii_case(x)))
}

/// `(prefix, start, end, n)` of a SkyPilot part's name,
/// `{prefix}_{start}_{end}.parquet_part_{n}` with an optional `.parquet` after it.
pub(crate) fn part_number(name: &str) -> Option<(String, u64, u64, u64)> {
    let name = name.strip_suffix(".parquet").unwrap_or(name);
    let (stem, n) = name.rsplit_once("_part_")?;
    let n = n.parse().ok()?;
    let stem = stem.strip_suffix(".parquet").unwrap_or(stem);
    let (rest, end) = stem.rsplit_once('_')?;
    let (prefix, start) = rest.rsplit_once('_')?;
    Some((prefix.to_owned(), start.parse().ok()?, end.parse().ok()?, n))
}

/// Sorts parts numerically and everything else by name (a part directory's `data.parquet`
/// by its directory's name).
fn order_key(path: &Path) -> (String, u64, u64, u64, PathBuf) {
    let name = |p: &Path| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let mut own = name(path);
    if own == "data.parquet"
        && let Some(parent) = path.parent()
    {
        own = name(parent);
    }
    match part_number(&own) {
        Some((prefix, start, end, n)) => (prefix, start, end, n, path.to_path_buf()),
        None => (own, 0, 0, 0, path.to_path_buf()),
    }
}

/// Number of rows of a Parquet input, from its footer; `None` for other inputs, and for a
/// footer that cannot be read (the input's reader then says why).
fn parquet_rows(path: &Path) -> Option<u64> {
    let builder = crate::direct::footer(path).ok()??;
    u64::try_from(builder.metadata().file_metadata().num_rows()).ok()
}

/// The inputs read one after another, each opened when the one before is done.
pub(crate) struct Chain<'a> {
    files: std::vec::IntoIter<(PathBuf, Format)>,
    options: &'a ConvertOptions,
    current: Option<(PathBuf, Box<dyn Source>)>,
    total: Option<u64>,
    narrowing: Narrowing,
    failed: bool,
}

impl<'a> Chain<'a> {
    /// Opens the first input; the others wait their turn.
    pub(crate) fn open(
        files: Vec<(PathBuf, Format)>,
        options: &'a ConvertOptions,
    ) -> Result<Self, ConvertError> {
        let total = if files.len() > 1 {
            files
                .iter()
                .map(|(path, format)| match format {
                    Format::Jsonl => None,
                    _ => parquet_rows(path),
                })
                .sum::<Option<u64>>()
        } else {
            None
        };
        let mut chain = Self {
            files: files.into_iter(),
            options,
            current: None,
            total,
            narrowing: Narrowing::default(),
            failed: false,
        };
        chain.advance()?;
        if chain.total.is_none() {
            chain.total = chain.current.as_ref().and_then(|(_, s)| s.total());
        }
        Ok(chain)
    }

    fn advance(&mut self) -> Result<bool, ConvertError> {
        if let Some((_, source)) = self.current.take() {
            self.add_narrowing(source.narrowing());
        }
        let Some((path, format)) = self.files.next() else {
            return Ok(false);
        };
        let source = open_source(&path, format, self.options)?;
        self.current = Some((path, source));
        Ok(true)
    }

    fn add_narrowing(&mut self, narrowing: Narrowing) {
        self.narrowing.values += narrowing.values;
        if self.narrowing.first_row.is_none() {
            self.narrowing.first_row = narrowing.first_row;
        }
    }

    /// The input the last batch came from.
    pub(crate) fn path(&self) -> &Path {
        self.current.as_ref().map_or(Path::new(""), |(p, _)| p)
    }

    /// Records of all inputs, when known up front.
    pub(crate) fn total(&self) -> Option<u64> {
        self.total
    }

    /// float64 values changed when narrowed, over every input read.
    pub(crate) fn narrowing(&self) -> Narrowing {
        let mut all = self.narrowing;
        if let Some((_, source)) = &self.current {
            let current = source.narrowing();
            all.values += current.values;
            all.first_row = all.first_row.or(current.first_row);
        }
        all
    }
}

impl Iterator for Chain<'_> {
    type Item = Result<Batch, ConvertError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        loop {
            let (_, source) = self.current.as_mut()?;
            match source.next() {
                Some(Ok(batch)) => return Some(Ok(batch)),
                Some(Err(e)) => {
                    self.failed = true;
                    return Some(Err(e));
                }
                None => match self.advance() {
                    Ok(true) => {}
                    Ok(false) => return None,
                    Err(e) => {
                        self.failed = true;
                        return Some(Err(e));
                    }
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn part_names_order_by_start_then_part() {
        assert_eq!(
            part_number("embeddings_10000_20000.parquet_part_3.parquet"),
            Some(("embeddings".to_owned(), 10000, 20000, 3))
        );
        assert_eq!(
            part_number("embeddings_0_10000.parquet_part_12"),
            Some(("embeddings".to_owned(), 0, 10000, 12))
        );
        assert_eq!(part_number("records.parquet"), None);
    }

    #[test]
    fn directories_and_patterns_expand_in_part_order() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "embeddings_20000_30000.parquet_part_0.parquet",
            "embeddings_0_10000.parquet_part_10.parquet",
            "embeddings_0_10000.parquet_part_2.parquet",
            ".embeddings_0_10000.parquet_part_1.parquet.tmp",
            "notes.txt",
        ] {
            std::fs::write(dir.path().join(name), b"").unwrap();
        }
        let last = dir.path().join("embeddings_0_10000.parquet_part_11");
        std::fs::create_dir(&last).unwrap();
        std::fs::write(last.join("data.parquet"), b"").unwrap();
        let names = |files: Vec<PathBuf>| {
            files
                .iter()
                .map(|p| p.strip_prefix(dir.path()).unwrap().display().to_string())
                .collect::<Vec<_>>()
        };
        let want = [
            "embeddings_0_10000.parquet_part_2.parquet",
            "embeddings_0_10000.parquet_part_10.parquet",
            "embeddings_0_10000.parquet_part_11/data.parquet",
            "embeddings_20000_30000.parquet_part_0.parquet",
        ];
        assert_eq!(names(expand(&[dir.path().to_path_buf()]).unwrap()), want);
        let pattern = dir.path().join("embeddings_*.parquet");
        assert_eq!(
            names(expand(&[pattern]).unwrap()),
            [want[0], want[1], want[3]]
        );
        let nothing = dir.path().join("none_*.parquet");
        assert!(matches!(
            expand(&[nothing]),
            Err(ConvertError::NoInput { .. })
        ));
    }
}
