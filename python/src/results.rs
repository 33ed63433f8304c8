//! What calls return to Python: frozen classes built from the library's own types (no JSON
//! text in between), with value equality, a repr like a dataclass's, and pickling (engines
//! send results between processes). Summaries that Python sees as dicts are [`PlainData`].

use std::collections::BTreeMap;

use pyo3::IntoPyObjectExt;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde::Serialize;
use serde_json::Value;

use crate::errors::Error;
use crate::wording;

/// A result class: `hashable` (value equality and a hash, for classes of scalar fields) or
/// `unhashable` (value equality: the struct's `PartialEq`, derived or written out), the
/// struct, and one `#[pymethods]` block with the constructor (taking every field, in order),
/// `__repr__`, `__getnewargs__` (for pickle and copy) and the class's own methods. The
/// `#[pyclass]` options are written here, not passed in, so that pyo3's generated code sees
/// them in one hygiene context.
macro_rules! result_class {
    (hashable $($rest:tt)*) => {
        result_class! {
            @class [
                #[pyclass(frozen, get_all, eq, hash, from_py_object, module = "oembeddings")]
                #[derive(Debug, Clone, PartialEq, Eq, Hash)]
            ]
            $($rest)*
        }
    };
    (unhashable $($rest:tt)*) => {
        result_class! {
            @class [
                #[pyclass(frozen, get_all, eq, module = "oembeddings")]
            ]
            $($rest)*
        }
    };
    (
        @class [$($attribute:tt)*]
        $(#[$meta:meta])*
        struct $name:ident { $( $(#[$field_meta:meta])* $field:ident : $ty:ty ),* $(,)? }
        new($($signature:tt)*);
        $($method:item)*
    ) => {
        $(#[$meta])*
        $($attribute)*
        pub(crate) struct $name {
            $( $(#[$field_meta])* pub(crate) $field: $ty ),*
        }

        #[pymethods]
        impl $name {
            #[new]
            #[pyo3(signature = ($($signature)*))]
            #[allow(clippy::too_many_arguments)]
            fn new($($field: $ty),*) -> Self {
                Self { $($field),* }
            }

            fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
                let fields: Vec<String> = vec![$(
                    format!(
                        "{}={}",
                        stringify!($field),
                        (&self.$field).into_bound_py_any(py)?.repr()?
                    )
                ),*];
                Ok(format!("{}({})", stringify!($name), fields.join(", ")))
            }

            fn __getnewargs__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
                PyTuple::new(py, [$((&self.$field).into_bound_py_any(py)?),*])
            }

            $($method)*
        }
    };
}

result_class! {
    hashable
    /// One broken rule at one place: `rule` is a stable id such as `OE110`.
    struct Finding {
        /// The rule id.
        rule: String,
        /// `error` or `warning`.
        severity: String,
        /// What is wrong, in one line.
        message: String,
        /// 0-based row of the record, for record findings.
        row: Option<u64>,
        /// The record key, when known.
        key: Option<String>,
    }
    new(rule, severity, message, row = None, key = None);
}

impl Finding {
    /// The finding as plain data, for [`ValidationReport::to_dict`].
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("rule", &self.rule)?;
        d.set_item("severity", &self.severity)?;
        d.set_item("message", &self.message)?;
        d.set_item("row", self.row)?;
        d.set_item("key", &self.key)?;
        Ok(d)
    }
}

impl From<oembeddings_validate::Finding> for Finding {
    fn from(f: oembeddings_validate::Finding) -> Self {
        Self {
            rule: f.rule.to_string(),
            severity: f.severity.to_string(),
            message: f.message,
            row: f.row,
            key: f.key,
        }
    }
}

result_class! {
    unhashable
    /// The findings of one file (or batch). `ok` is true when there are no errors.
    #[derive(Debug)]
    struct ValidationReport {
        /// The file (or the batch's name).
        path: String,
        /// Whether there are no errors (warnings allowed).
        ok: bool,
        /// `full` or `metadata-only`.
        mode: String,
        /// Records checked (full mode) or declared by the footer (metadata-only).
        records: u64,
        /// Error findings, including those not listed.
        errors: u64,
        /// Warning findings, including those not listed.
        warnings: u64,
        /// The findings listed (`Finding`s), file findings first, then by row; one list,
        /// made once, so that reading it is cheap however long it is.
        findings: Py<PyList>,
        /// Per rule id, findings beyond the per-rule limit, counted but not listed.
        suppressed: BTreeMap<String, u64>,
    }
    new(path, ok, mode, records, errors, warnings, findings, suppressed);

    /// The report as plain data (the CLI's `--format json` shape, `valid` = `ok`).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("path", &self.path)?;
        d.set_item("valid", self.ok)?;
        d.set_item("mode", &self.mode)?;
        d.set_item("records", self.records)?;
        d.set_item("errors", self.errors)?;
        d.set_item("warnings", self.warnings)?;
        let findings = self
            .findings
            .bind(py)
            .iter()
            .map(|f| f.cast::<Finding>()?.get().to_dict(py))
            .collect::<PyResult<Vec<_>>>()?;
        d.set_item("findings", findings)?;
        d.set_item("suppressed", &self.suppressed)?;
        Ok(d)
    }
}

impl ValidationReport {
    /// The Python view of a file report.
    pub(crate) fn from_report(
        py: Python<'_>,
        r: oembeddings_validate::FileReport,
    ) -> Result<Self, Error> {
        Ok(Self {
            path: r.path.to_string_lossy().into_owned(),
            ok: r.valid,
            mode: name_of(&r.mode)?,
            records: r.records,
            errors: r.errors,
            warnings: r.warnings,
            findings: PyList::new(py, r.findings.into_iter().map(Finding::from))?.unbind(),
            suppressed: r.suppressed,
        })
    }
}

impl PartialEq for ValidationReport {
    fn eq(&self, other: &Self) -> bool {
        self.path == other.path
            && self.ok == other.ok
            && self.mode == other.mode
            && self.records == other.records
            && self.errors == other.errors
            && self.warnings == other.warnings
            && self.suppressed == other.suppressed
            && python_eq(&self.findings, &other.findings)
    }
}

result_class! {
    hashable
    /// The parts of a conventional name
    /// `{provider}-{source}-{dimensions}-{model}-{YYYYMMDD}.parquet`.
    struct FileName {
        /// The provider slug.
        provider: String,
        /// The source slug (may contain `-`).
        source: String,
        /// The vector dimensions.
        dimensions: u64,
        /// The model slug (may contain `-`).
        model: String,
        /// The release date, `YYYYMMDD`.
        date: String,
    }
    new(provider, source, dimensions, model, date);
}

impl From<oembeddings::FileName> for FileName {
    fn from(n: oembeddings::FileName) -> Self {
        Self {
            provider: n.provider,
            source: n.source,
            dimensions: n.dimensions as u64,
            model: n.model,
            date: oembeddings::name::format_date(n.date),
        }
    }
}

result_class! {
    unhashable
    /// A key file: algorithm (`ed25519` or `openpgp`) and id (key id or fingerprint); the
    /// files written, for a key just generated; the other details, for a key described.
    #[derive(Debug, PartialEq)]
    struct KeyInfo {
        /// `ed25519` or `openpgp`.
        algorithm: String,
        /// The minisign key id or the OpenPGP fingerprint.
        id: String,
        /// The secret key file, for a key just generated.
        secret: Option<String>,
        /// The public key file, for a key just generated.
        public: Option<String>,
        /// Everything else `oembeddings key show --json` says, for a key described.
        details: PlainData,
    }
    new(algorithm, id, secret = None, public = None, details = PlainData::empty_object());
}

impl KeyInfo {
    /// A key generated into these files.
    pub(crate) fn generated(
        description: oembeddings_sign::keys::KeyDescription,
        files: &oembeddings_sign::key_pair::KeyPairFiles,
    ) -> Self {
        Self {
            algorithm: description.algorithm.to_owned(),
            id: description.id,
            secret: Some(files.secret.to_string_lossy().into_owned()),
            public: Some(files.public.to_string_lossy().into_owned()),
            details: PlainData::empty_object(),
        }
    }

    /// A key file described.
    pub(crate) fn described(
        description: oembeddings_sign::keys::KeyDescription,
    ) -> Result<Self, Error> {
        let mut details = serde_json::to_value(&description)?;
        if let Value::Object(map) = &mut details {
            map.remove("algorithm");
            map.remove("id");
        }
        Ok(Self {
            algorithm: description.algorithm.to_owned(),
            id: description.id,
            secret: None,
            public: None,
            details: PlainData(details),
        })
    }
}

result_class! {
    hashable
    /// One thing verification found wrong: `invalid`, `missing` or `extra`, at a row and
    /// record key (or file name, for releases).
    struct Problem {
        /// `invalid`, `missing` or `extra`.
        kind: String,
        /// What is wrong, in one line.
        message: String,
        /// 0-based row in the data file, when the record is in it.
        row: Option<u64>,
        /// The record key (or file name, for releases).
        key: Option<String>,
    }
    new(kind, message, row = None, key = None);
}

impl Problem {
    /// The problem as plain data, for [`VerifyReport::to_dict`].
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("kind", &self.kind)?;
        d.set_item("message", &self.message)?;
        d.set_item("row", self.row)?;
        d.set_item("key", &self.key)?;
        Ok(d)
    }

    fn from_problem(p: oembeddings_sign::Problem) -> Result<Self, Error> {
        Ok(Self {
            kind: name_of(&p.kind)?,
            message: p.message,
            row: p.row,
            key: p.key,
        })
    }
}

result_class! {
    hashable
    /// Who signed, as the signature says.
    struct Signer {
        /// `ed25519` or `openpgp`.
        algorithm: String,
        /// The OpenPGP fingerprint of the signing key, or the minisign key id.
        key: String,
        /// The primary user id of an OpenPGP certificate.
        user_id: Option<String>,
        /// When the signature was made (RFC 3339), when the format records it.
        signed_at: Option<String>,
        /// The trusted comment of a minisign signature.
        trusted_comment: Option<String>,
    }
    new(algorithm, key, user_id = None, signed_at = None, trusted_comment = None);
}

impl Signer {
    /// The signer as plain data, for [`VerifyReport::to_dict`].
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("algorithm", &self.algorithm)?;
        d.set_item("key", &self.key)?;
        d.set_item("user_id", &self.user_id)?;
        d.set_item("signed_at", &self.signed_at)?;
        d.set_item("trusted_comment", &self.trusted_comment)?;
        Ok(d)
    }
}

impl From<oembeddings_sign::report::Signer> for Signer {
    fn from(s: oembeddings_sign::report::Signer) -> Self {
        Self {
            algorithm: s.algorithm.to_owned(),
            key: s.key,
            user_id: s.user_id,
            signed_at: s.signed_at,
            trusted_comment: s.trusted_comment,
        }
    }
}

result_class! {
    unhashable
    /// The outcome of a verification. `ok` is true only when every signature checked is by
    /// the given key and valid (and none is missing, unless allowed): it fails closed. The
    /// report is also truthy exactly when `ok`.
    #[derive(Debug)]
    struct VerifyReport {
        /// The data file or release directory.
        path: String,
        /// `file`, `records-native`, `records-compatible` or `release`; `records` when record
        /// verification could not begin (no signatures found, or a sidecar or manifest
        /// missing or malformed).
        check: String,
        /// Whether verification passed.
        ok: bool,
        /// Signatures that verified for unchanged records (or files).
        valid: u64,
        /// Invalid signatures, changed or misplaced records (or files).
        invalid: u64,
        /// Records (or files) without a signature.
        missing: u64,
        /// Signatures without a record (or listed files that are absent).
        extra: u64,
        /// The signer, when a signature verified.
        signer: Option<Py<Signer>>,
        /// The problems listed (`Problem`s); one list, made once.
        problems: Py<PyList>,
        /// Problems found but not listed.
        unlisted: u64,
        /// Observations that are not problems.
        notes: Vec<String>,
        /// Records signed with attributes carried over by go-embeddingsdb's earlier signer.
        carried: u64,
        /// An X.509 signer's certificate and what was, and was not, checked of its identity
        /// (a dict as `--format json` prints it).
        identity: Option<PlainData>,
    }
    new(
        path, check, ok, valid, invalid, missing, extra, signer, problems, unlisted, notes,
        carried = 0, identity = None
    );

    /// The report as the CLI's `--format json` prints it.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("path", &self.path)?;
        d.set_item("check", &self.check)?;
        d.set_item("ok", self.ok)?;
        d.set_item("valid", self.valid)?;
        d.set_item("invalid", self.invalid)?;
        d.set_item("missing", self.missing)?;
        d.set_item("extra", self.extra)?;
        let signer = self.signer.as_ref().map(|s| s.get().to_dict(py)).transpose()?;
        d.set_item("signer", signer)?;
        let problems = self
            .problems
            .bind(py)
            .iter()
            .map(|p| p.cast::<Problem>()?.get().to_dict(py))
            .collect::<PyResult<Vec<_>>>()?;
        d.set_item("problems", problems)?;
        d.set_item("unlisted", self.unlisted)?;
        d.set_item("notes", &self.notes)?;
        d.set_item("carried", self.carried)?;
        d.set_item("identity", &self.identity)?;
        Ok(d)
    }

    fn __bool__(&self) -> bool {
        self.ok
    }
}

impl VerifyReport {
    /// The Python view of a verification report.
    pub(crate) fn from_report(
        py: Python<'_>,
        r: oembeddings_sign::VerifyReport,
    ) -> Result<Self, Error> {
        let problems = r
            .problems
            .into_iter()
            .map(|mut p| {
                p.message = wording::python(py, &p.message);
                Problem::from_problem(p)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            path: r.path.to_string_lossy().into_owned(),
            check: r.check.to_owned(),
            ok: r.ok,
            valid: r.valid,
            invalid: r.invalid,
            missing: r.missing,
            extra: r.extra,
            signer: r.signer.map(|s| Py::new(py, Signer::from(s))).transpose()?,
            problems: PyList::new(py, problems)?.unbind(),
            unlisted: r.unlisted,
            notes: r.notes.iter().map(|n| wording::python(py, n)).collect(),
            carried: r.carried,
            identity: r
                .identity
                .as_ref()
                .map(|i| PlainData::of(i).map(|d| d.worded(py)))
                .transpose()?,
        })
    }
}

impl PartialEq for VerifyReport {
    fn eq(&self, other: &Self) -> bool {
        let signers_equal = match (&self.signer, &other.signer) {
            (Some(a), Some(b)) => a.get() == b.get(),
            (None, None) => true,
            _ => false,
        };
        self.path == other.path
            && self.check == other.check
            && self.ok == other.ok
            && self.valid == other.valid
            && self.invalid == other.invalid
            && self.missing == other.missing
            && self.extra == other.extra
            && signers_equal
            && python_eq(&self.problems, &other.problems)
            && self.unlisted == other.unlisted
            && self.notes == other.notes
            && self.carried == other.carried
            && self.identity == other.identity
    }
}

result_class! {
    unhashable
    /// What `verify` found beside a file and checked, as `gpg --verify FILE` finds its
    /// signature: each signature the key can check is verified (`checked`, one report each),
    /// the others are listed with the key they need (`not_checked`). `ok` (and the report's
    /// truth) only when at least one was checked and every one checked verified.
    #[derive(Debug)]
    struct DiscoveryReport {
        /// The data file.
        path: String,
        /// Whether at least one signature was checked and none failed.
        ok: bool,
        /// A `VerifyReport` for each signature checked.
        checked: Py<PyList>,
        /// Signatures found that the key cannot check: dicts of `kind`, `path` and `reason`.
        not_checked: PlainData,
        /// Every place a signature was looked for.
        looked_for: Vec<String>,
    }
    new(path, ok, checked, not_checked, looked_for);

    /// The report as the CLI's `verify --format json` prints it.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("path", &self.path)?;
        d.set_item("ok", self.ok)?;
        let checked = self
            .checked
            .bind(py)
            .iter()
            .map(|r| r.cast::<VerifyReport>()?.get().to_dict(py))
            .collect::<PyResult<Vec<_>>>()?;
        d.set_item("checked", checked)?;
        d.set_item("not_checked", &self.not_checked)?;
        d.set_item("looked_for", &self.looked_for)?;
        Ok(d)
    }

    fn __bool__(&self) -> bool {
        self.ok
    }
}

impl DiscoveryReport {
    /// The Python view of what verifying everything beside a file found.
    pub(crate) fn from_report(
        py: Python<'_>,
        r: oembeddings_sign::discover::DiscoveryReport,
    ) -> Result<Self, Error> {
        let not_checked = PlainData::of(&r.not_checked)?.worded(py);
        let checked = r
            .checked
            .into_iter()
            .map(|report| Py::new(py, VerifyReport::from_report(py, report)?).map_err(Error::from))
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(Self {
            path: r.path.to_string_lossy().into_owned(),
            ok: r.ok,
            checked: PyList::new(py, checked)?.unbind(),
            not_checked,
            looked_for: r
                .looked_for
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect(),
        })
    }
}

impl PartialEq for DiscoveryReport {
    fn eq(&self, other: &Self) -> bool {
        self.path == other.path
            && self.ok == other.ok
            && python_eq(&self.checked, &other.checked)
            && self.not_checked == other.not_checked
            && self.looked_for == other.looked_for
    }
}

/// Whether two lists are equal as Python compares them (element by element, with each
/// element's `__eq__`); a comparison that raises is not equal.
fn python_eq(a: &Py<PyList>, b: &Py<PyList>) -> bool {
    Python::attach(|py| a.bind(py).as_any().eq(b.bind(py)).unwrap_or(false))
}

result_class! {
    unhashable
    /// What a conversion did: records read, written and skipped (with the first skips).
    #[derive(Debug, PartialEq)]
    struct ConvertSummary {
        /// The input, as given (the first, when there were several).
        input: String,
        /// Every file read, in order.
        inputs: Vec<String>,
        /// The output.
        output: String,
        /// The input's format.
        source_format: String,
        /// The output's format.
        target_format: String,
        /// Records read.
        read: u64,
        /// Records written.
        written: u64,
        /// Records a store already held and left as they were (Chroma's add mode).
        unchanged: u64,
        /// Records skipped.
        skipped: u64,
        /// Records skipped, per rule.
        skipped_by_rule: BTreeMap<String, u64>,
        /// The first records skipped: row, key, rule and message of each.
        skips: Vec<PlainData>,
        /// The files written, relative to the output.
        files: Vec<String>,
        /// Attribute keys a store could not take as they are -> the keys they are stored
        /// under.
        renamed: BTreeMap<String, String>,
    }
    new(input, inputs, output, source_format, target_format, read, written, unchanged,
        skipped, skipped_by_rule, skips, files, renamed);
}

impl ConvertSummary {
    /// The Python view of a conversion summary.
    pub(crate) fn from_summary(
        py: Python<'_>,
        s: oembeddings_convert::ConvertSummary,
    ) -> Result<Self, Error> {
        Ok(Self {
            input: s.input.to_string_lossy().into_owned(),
            inputs: s
                .inputs
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect(),
            output: s.output.to_string_lossy().into_owned(),
            source_format: s.from.to_string(),
            target_format: s.to.to_string(),
            read: s.read,
            written: s.written,
            unchanged: s.unchanged,
            skipped: s.skipped,
            skipped_by_rule: s
                .skipped_by_rule
                .into_iter()
                .map(|(rule, n)| (rule.to_owned(), n))
                .collect(),
            skips: s
                .skips
                .iter()
                .map(|skip| PlainData::of(skip).map(|d| d.worded(py)))
                .collect::<Result<_, _>>()?,
            files: s.files,
            renamed: s.renamed,
        })
    }
}

/// The name a library enum serialises as (`metadata-only`, `missing`): the one place those
/// names are written is the library's serde attributes.
fn name_of(value: &impl Serialize) -> Result<String, Error> {
    match serde_json::to_value(value)? {
        Value::String(name) => Ok(name),
        other => Ok(other.to_string()),
    }
}

/// Plain Python data (`None`, `bool`, `int`, `float`, `str`, `list`, `dict`) of a library
/// value that serialises: the results whose Python type is a dict.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PlainData(Value);

impl PlainData {
    /// The plain data of a library value.
    pub(crate) fn of(value: &impl Serialize) -> Result<Self, Error> {
        Ok(Self(serde_json::to_value(value)?))
    }

    /// An empty dict.
    fn empty_object() -> Self {
        Self(Value::Object(serde_json::Map::new()))
    }

    /// The data with every string in Python's words ([`wording`]).
    fn worded(mut self, py: Python<'_>) -> Self {
        fn word(py: Python<'_>, value: &mut Value) {
            match value {
                Value::String(s) => *s = wording::python(py, s),
                Value::Array(items) => items.iter_mut().for_each(|v| word(py, v)),
                Value::Object(map) => map.values_mut().for_each(|v| word(py, v)),
                Value::Null | Value::Bool(_) | Value::Number(_) => {}
            }
        }
        word(py, &mut self.0);
        self
    }
}

impl From<Value> for PlainData {
    fn from(value: Value) -> Self {
        Self(value)
    }
}

fn to_python<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => b.into_bound_py_any(py)?,
        Value::Number(n) => {
            if let Some(i) = n.as_u64() {
                i.into_bound_py_any(py)?
            } else if let Some(i) = n.as_i64() {
                i.into_bound_py_any(py)?
            } else {
                n.as_f64().into_bound_py_any(py)?
            }
        }
        Value::String(s) => s.into_bound_py_any(py)?,
        Value::Array(items) => PyList::new(
            py,
            items
                .iter()
                .map(|v| to_python(py, v))
                .collect::<PyResult<Vec<_>>>()?,
        )?
        .into_any(),
        Value::Object(map) => {
            let d = PyDict::new(py);
            for (k, v) in map {
                d.set_item(k, to_python(py, v)?)?;
            }
            d.into_any()
        }
    })
}

fn from_python(ob: &Bound<'_, PyAny>) -> PyResult<Value> {
    Ok(if ob.is_none() {
        Value::Null
    } else if let Ok(b) = ob.cast::<PyBool>() {
        Value::Bool(b.is_true())
    } else if ob.is_instance_of::<PyInt>() {
        match ob.extract::<i64>() {
            Ok(i) => Value::from(i),
            Err(_) => Value::from(ob.extract::<u64>()?),
        }
    } else if let Ok(f) = ob.cast::<PyFloat>() {
        serde_json::Number::from_f64(f.value())
            .map(Value::Number)
            .ok_or_else(|| PyTypeError::new_err(format!("{} is not a finite number", f.value())))?
    } else if let Ok(s) = ob.cast::<PyString>() {
        Value::String(s.to_str()?.to_owned())
    } else if let Ok(d) = ob.cast::<PyDict>() {
        let mut map = serde_json::Map::new();
        for (k, v) in d.iter() {
            map.insert(k.extract::<String>()?, from_python(&v)?);
        }
        Value::Object(map)
    } else if ob.is_instance_of::<PyList>() || ob.is_instance_of::<PyTuple>() {
        Value::Array(
            ob.try_iter()?
                .map(|item| from_python(&item?))
                .collect::<PyResult<_>>()?,
        )
    } else {
        return Err(PyTypeError::new_err(format!(
            "{} is not plain data (None, bool, int, float, str, list, dict)",
            ob.get_type().name()?
        )));
    })
}

impl<'py> IntoPyObject<'py> for &PlainData {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Self::Output> {
        to_python(py, &self.0)
    }
}

impl<'py> IntoPyObject<'py> for PlainData {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Self::Output> {
        to_python(py, &self.0)
    }
}

impl<'a, 'py> FromPyObject<'a, 'py> for PlainData {
    type Error = PyErr;

    fn extract(ob: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        from_python(&ob).map(Self)
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Finding>()?;
    m.add_class::<ValidationReport>()?;
    m.add_class::<FileName>()?;
    m.add_class::<KeyInfo>()?;
    m.add_class::<Problem>()?;
    m.add_class::<Signer>()?;
    m.add_class::<VerifyReport>()?;
    m.add_class::<DiscoveryReport>()?;
    m.add_class::<ConvertSummary>()?;
    Ok(())
}
