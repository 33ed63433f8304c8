//! Python's wording of the library's messages. The library names an option as the command
//! line spells it (`--from`, `--allow-rewritten`, `--met-metadata`); a Python caller passes
//! keyword arguments instead. Each `--option` that names a keyword argument of this module's
//! functions becomes that argument (`--from` → `from_=`; a switch, whose default is `False`,
//! as `allow_rewritten=True`), one that names an option of `convert`'s `met` dict becomes
//! that key (`--met-metadata` → `met["metadata"]`), and any other (`gpg --verify`) stays as
//! written.
//!
//! The Python names are read from the functions' own signatures and from
//! [`crate::files::MET_OPTIONS`], so that no name is written twice.

use std::collections::HashMap;

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyCFunction};

/// The prefix of the options that `convert` takes in its `met` dict on the command line.
const MET_PREFIX: &str = "met_";

/// `message` with each command-line option that Python spells otherwise in Python's words.
pub(crate) fn python(py: Python<'_>, message: &str) -> String {
    let keywords = keywords(py);
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find("--") {
        let (before, from_dashes) = rest.split_at(at);
        out.push_str(before);
        let name_len = from_dashes[2..]
            .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
            .unwrap_or(from_dashes.len() - 2);
        let name = &from_dashes[2..2 + name_len];
        // `--name` only at the start of a word: not the tail of `a--b`.
        let starts_word = out
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '-'));
        match python_name(name, keywords).filter(|_| starts_word && !name.is_empty()) {
            Some(python) => out.push_str(&python),
            None => out.push_str(&from_dashes[..2 + name_len]),
        }
        rest = &from_dashes[2 + name_len..];
    }
    out.push_str(rest);
    out
}

/// How Python spells the command line's `--{name}`, when it takes that option at all.
fn python_name(name: &str, keywords: &HashMap<String, String>) -> Option<String> {
    let snake = name.replace('-', "_");
    // A Python keyword (`from`) gets a trailing underscore as an argument (`from_`).
    if let Some(written) = keywords
        .get(&snake)
        .or_else(|| keywords.get(&format!("{snake}_")))
    {
        return Some(written.clone());
    }
    let met = snake.strip_prefix(MET_PREFIX).unwrap_or(&snake);
    crate::files::MET_OPTIONS
        .contains(&met)
        .then(|| format!("met[{met:?}]"))
}

/// The keyword arguments of this module's functions, each as a message writes it: `name=`,
/// or `name=True` for a switch.
fn keywords(py: Python<'_>) -> &'static HashMap<String, String> {
    static KEYWORDS: PyOnceLock<HashMap<String, String>> = PyOnceLock::new();
    // Without the names (which cannot happen in a module that imported), messages keep the
    // command line's spelling: better than failing to raise the error they belong to.
    KEYWORDS.get_or_init(py, || read_keywords(py).unwrap_or_default())
}

fn read_keywords(py: Python<'_>) -> PyResult<HashMap<String, String>> {
    let module = py.import("oembeddings._native")?;
    let signature = py.import("inspect")?.getattr("signature")?;
    let mut names = HashMap::new();
    for name in module.dir()? {
        let item = module.getattr(name.extract::<String>()?)?;
        if !item.is_instance_of::<PyCFunction>() {
            continue;
        }
        let parameters = signature.call1((item,))?.getattr("parameters")?;
        for parameter in parameters.call_method0("values")?.try_iter()? {
            let parameter = parameter?;
            let name: String = parameter.getattr("name")?.extract()?;
            let default = parameter.getattr("default")?;
            let switch = default.is_instance_of::<PyBool>() && !default.is_truthy()?;
            let written = if switch {
                format!("{name}=True")
            } else {
                format!("{name}=")
            };
            names.insert(name, written);
        }
    }
    Ok(names)
}
