//! # oembeddings-fuzz
//!
//! One harness per parser of outside bytes, as a user's command reaches it: Parquet files
//! (footer only, and every record), our footer rewriter, JSON Lines, the Met's input,
//! SkyPilot's parts and the pickles in them, a Chroma server's answers,
//! OpenPGP certificates and signatures, minisign keys and signatures, signature sidecars,
//! record manifests and release manifests, file names, the Hub's answers, locations.
//!
//! A harness takes any bytes and must return without panicking; errors are the expected
//! outcome of almost every input. A panic inside a decoder we do not own is contained by the
//! library (see [`oembeddings::contain`]) and counted apart ([`contained_panics`]); any other
//! panic is a finding. The same functions run under libFuzzer (`fuzz/`, `scripts/fuzz`) and
//! replay the committed corpora in `cargo test` (`tests/replay.rs`), without a second,
//! instrumented build.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use oembeddings::read::{FileObserver, ParquetSource, ReadOptions};
use oembeddings_convert::{ConvertOptions, Format};
use oembeddings_sign::keys::{self, KeyKind};
use oembeddings_sign::native::NativeVerifyOptions;
use oembeddings_sign::{PublicKey, SecretKey, compatible, minisign, native, openpgp, release};

/// A harness: any bytes in, nothing out.
pub type Harness = fn(&[u8]);

/// Every harness, by the name of its fuzz target and corpus folder.
pub const TARGETS: &[(&str, Harness)] = &[
    ("parquet_open", parquet_open),
    ("parquet_read", parquet_read),
    ("footer", footer),
    ("jsonl", jsonl),
    ("met", met),
    ("openpgp_cert", openpgp_cert),
    ("openpgp_signature", openpgp_signature),
    ("minisign_key", minisign_key),
    ("minisign_signature", minisign_signature),
    ("sidecar", sidecar),
    ("manifest", manifest),
    ("release_manifest", release_manifest),
    ("file_name", file_name),
    ("x509_certificate", x509_certificate),
    ("x509_signature", x509_signature),
    ("x509_crl", x509_crl),
    ("skypilot_pickle", skypilot_pickle),
    ("skypilot_part", skypilot_part),
    ("chroma_answer", chroma_answer),
    ("hub_answer", hub_answer),
    ("location", location),
];

/// The harness named `name`.
pub fn harness(name: &str) -> Option<Harness> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, h)| *h)
}

/// How many panics inside decoders this process has contained so far.
pub fn contained_panics() -> u64 {
    oembeddings::contain::contained_count()
}

/// Where in the decoders' sources those panics arose (the bugs that remain upstream).
pub fn contained_sites() -> Vec<String> {
    oembeddings::contain::contained_sites()
}

/// Runs `harness` on `data` for a fuzzer, and prints each new place in a dependency where a
/// contained panic arose (`oembeddings-fuzz: contained panic at FILE:LINE`), so that a run's
/// log lists the decoder bugs that remain upstream.
pub fn fuzz_one(harness: Harness, data: &[u8]) {
    static REPORTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let before = contained_panics();
    harness(data);
    if contained_panics() != before {
        let sites = contained_sites();
        let reported = REPORTED.swap(sites.len(), std::sync::atomic::Ordering::Relaxed);
        for site in sites.iter().skip(reported) {
            eprintln!("oembeddings-fuzz: contained panic at {site}");
        }
    }
}

/// The shipped example: 24 records in go-embeddingsdb's layout.
const EXAMPLE: &[u8] =
    include_bytes!("../../../examples/data/sfomuseum-collection-512-mobileclip-20260413.parquet");

/// Keys, signed files and a scratch directory, made once per process.
struct Fixture {
    dir: tempfile::TempDir,
    ed25519: SecretKey,
    ed25519_public: PublicKey,
    openpgp: SecretKey,
    openpgp_public: PublicKey,
    openpgp_cert: openpgp::OpenPgpCert,
    /// A data file signed natively (sidecar, manifest and its signature beside it).
    signed: PathBuf,
    /// A release directory holding a copy of the example.
    release: PathBuf,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let pair = |kind: KeyKind, name: &str| {
            let (secret, public) = keys::generate(kind, "Fuzz <fuzz@example.org>", None).unwrap();
            let secret_path = dir.path().join(name);
            let public_path = dir.path().join(format!("{name}.pub"));
            fs::write(&secret_path, secret).unwrap();
            fs::write(&public_path, public).unwrap();
            (
                SecretKey::load(&secret_path, None, None).unwrap(),
                PublicKey::load(&public_path, None).unwrap(),
                public_path,
            )
        };
        let (ed25519, ed25519_public, _) = pair(KeyKind::Ed25519, "ed.key");
        let (openpgp, openpgp_public, openpgp_public_path) = pair(KeyKind::OpenPgp, "pgp.key");
        let openpgp_cert =
            openpgp::load_cert(&fs::read(openpgp_public_path).unwrap(), None).unwrap();
        let signed = dir.path().join("signed").join(EXAMPLE_NAME);
        fs::create_dir_all(signed.parent().unwrap()).unwrap();
        fs::write(&signed, EXAMPLE).unwrap();
        native::sign_records(&signed, &ed25519).unwrap();
        let release = dir.path().join("release");
        fs::create_dir_all(&release).unwrap();
        Fixture {
            dir,
            ed25519,
            ed25519_public,
            openpgp,
            openpgp_public,
            openpgp_cert,
            signed,
            release,
        }
    })
}

const EXAMPLE_NAME: &str = "sfomuseum-collection-512-mobileclip-20260413.parquet";

/// `bytes` written to a file named `name` in the scratch directory.
fn file_of(name: &str, bytes: &[u8]) -> PathBuf {
    let path = fixture().dir.path().join(name);
    fs::write(&path, bytes).unwrap();
    path
}

/// Sees the bytes a reader shows it, and checks they come in order without gaps.
#[derive(Default)]
struct CountBytes(std::sync::atomic::AtomicU64);

impl FileObserver for CountBytes {
    fn observe(&self, bytes: &[u8]) -> bool {
        self.0
            .fetch_add(bytes.len() as u64, std::sync::atomic::Ordering::Relaxed);
        true
    }
}

/// The footer only: open, describe, and validate without reading the data.
pub fn parquet_open(data: &[u8]) {
    let path = file_of("open.parquet", data);
    if let Ok(source) = ParquetSource::open(&path) {
        let _ = oembeddings::inspect::Inspection::of(&source);
        let _ = source.layout();
    }
    let options = oembeddings_validate::Options::default().with_metadata_only(true);
    let _ = oembeddings_validate::validate(&path, &options);
}

/// Every record: the validator (which reads on past bad values), a strict read with an
/// observer, the statistics.
pub fn parquet_read(data: &[u8]) {
    let path = file_of("read.parquet", data);
    let _ = oembeddings_validate::validate(&path, &oembeddings_validate::Options::default());
    if let Ok(source) = ParquetSource::open(&path) {
        let observer = Arc::new(CountBytes::default());
        let options = ReadOptions::default()
            .with_batch_size(7)
            .with_observer(observer.clone());
        if let Ok(mut reader) = source.records(&options) {
            for batch in reader.by_ref() {
                let Ok(batch) = batch else { break };
                for record in batch.records() {
                    let _ = record.key();
                }
            }
            if let Ok(Some(size)) = reader.read_to_end() {
                assert_eq!(size, data.len() as u64, "the observer saw another file");
            }
        }
    }
    if let Ok(source) = ParquetSource::open(&path) {
        let _ = oembeddings::Statistics::gather(source);
    }
}

/// Our footer rewriter: read the key/values, write them back, read them again.
pub fn footer(data: &[u8]) {
    use oembeddings::footer;
    if let Ok(key_values) = footer::key_values(data) {
        let _ = footer::raw_fields(data);
        // A footer that cannot be rewritten (a signed one, say) is refused, not damaged; one
        // that can keeps every key/value.
        if let Ok(rewritten) = footer::with_key_values(data, &key_values) {
            assert_eq!(footer::key_values(&rewritten).unwrap(), key_values);
        }
    }
}

/// JSON Lines records in, Parquet out.
pub fn jsonl(data: &[u8]) {
    convert_from(Format::Jsonl, "input.jsonl", data);
}

/// The Met's layout in, Parquet out.
pub fn met(data: &[u8]) {
    convert_from(Format::Met, "input-met.parquet", data);
}

/// A pickle of one SkyPilot row, as the strict reader decodes it: a `(str, 1-d float array)`
/// pair or a refusal, never a call.
pub fn skypilot_pickle(data: &[u8]) {
    if let Ok(pair) = oembeddings_convert::skypilot::pickle::decode(data) {
        assert!(pair.narrowed <= pair.vector.len() as u64);
    }
}

/// A SkyPilot part (Parquet with `idx` and pickled `output` columns) in, Parquet out.
pub fn skypilot_part(data: &[u8]) {
    let mut skypilot = oembeddings_convert::skypilot::SkypilotOptions::default();
    skypilot.provider = Some("fuzz".to_owned());
    skypilot.model = Some("clip".to_owned());
    skypilot.created = Some(0);
    skypilot.templates = vec![("preview".to_owned(), "https://fuzz/{path}/{idx}".to_owned())];
    let options = ConvertOptions::new(Format::Parquet)
        .with_from(Format::Skypilot)
        .with_skypilot(skypilot);
    convert_with("embeddings_0_10.parquet_part_0.parquet", data, &options);
}

/// What a Chroma server answers (pre-flight checks, a collection, an error, a page of
/// records), parsed, and a page turned into records as `--from chroma` does, in both orders.
pub fn chroma_answer(data: &[u8]) {
    use oembeddings_convert::chroma::{api, page_records};
    let _ = api::parse_preflight(data);
    let _ = api::parse_collection(data);
    let _ = api::parse_error(data);
    for ordered in [false, true] {
        let Ok(page) = api::parse_page(data) else {
            return;
        };
        let ids = page.ids.len();
        if let Ok(batch) = page_records("http://fuzz", page, 0, ordered) {
            assert_eq!(batch.num_rows(), ids, "records lost from a page");
        }
    }
}

/// A location as every command takes one: a path or a URL (`https://`, `s3://`, `gs://`, `az://`,
/// `hf://`), and a release prefix. What parses as a URL prints back as one that parses to the
/// same location.
pub fn location(data: &[u8]) {
    use oembeddings_remote::Location;
    let text = String::from_utf8_lossy(data);
    for parsed in [Location::parse(&text), Location::parse_prefix(&text)] {
        let Ok(location) = parsed else { continue };
        if let Location::Hub(repo) = &location {
            let _ = repo.resolve_path(&repo.revision);
        }
        if location.is_remote() && !matches!(location, Location::Http(_)) {
            let printed = location.to_string();
            let again = Location::parse_prefix(&printed);
            assert_eq!(again.ok(), Some(location), "{printed}");
        }
    }
}

/// What the Hugging Face Hub answers: a resolve answer's headers (the input's lines as
/// `name: value`), a revision, a page of a tree listing, a `Link` header. Every path a
/// listing gives must stay inside the repository.
pub fn hub_answer(data: &[u8]) {
    use oembeddings_remote::{next_link, parse_resolve_answer, parse_revision, parse_tree_page};
    let text = String::from_utf8_lossy(data);
    let headers: Vec<(String, String)> = text
        .lines()
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.to_owned()))
        .collect();
    if let Ok(digest) = parse_resolve_answer(|name| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    }) {
        assert_eq!(digest.commit.len(), 40);
        assert!(digest.sha256.as_ref().is_none_or(|s| s.len() == 64));
    }
    if let Ok(commit) = parse_revision(data) {
        assert!(commit.len() == 40 && commit.bytes().all(|b| b.is_ascii_hexdigit()));
    }
    if let Ok(files) = parse_tree_page(data) {
        for (path, _) in files {
            assert!(!path.starts_with('/') && !path.split('/').any(|p| p == ".." || p.is_empty()));
        }
    }
    let _ = next_link(&text);
}

fn convert_from(from: Format, name: &str, data: &[u8]) {
    convert_with(
        name,
        data,
        &ConvertOptions::new(Format::Parquet).with_from(from),
    );
}

fn convert_with(name: &str, data: &[u8], options: &ConvertOptions) {
    let input = file_of(name, data);
    let output = fixture().dir.path().join("converted.parquet");
    let _ = fs::remove_file(&output);
    let _ = oembeddings_convert::convert(&input, &output, options, &mut |_, _| {});
}

/// OpenPGP certificates and keyrings, armored or binary, as a user's key file.
pub fn openpgp_cert(data: &[u8]) {
    if let Ok(certs) = openpgp::load_certs(data) {
        for cert in &certs {
            let _ = openpgp::key_info(cert);
        }
    }
    let path = file_of("cert.pgp", data);
    let _ = PublicKey::load(&path, None);
    let _ = keys::describe(&path);
}

/// A detached OpenPGP signature, checked against the fixture's certificate.
pub fn openpgp_signature(data: &[u8]) {
    let _ = openpgp::verify_detached(&fixture().openpgp_cert, EXAMPLE, data);
    let _ = openpgp::dearmor(data);
}

/// Minisign public and secret key files.
pub fn minisign_key(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = minisign::PublicKey::from_file_text(&text);
    let _ = minisign::PublicKey::from_base64(&text);
    let _ = minisign::SecretKey::from_file_text(&text, Some("password"));
}

/// A `.minisig`, checked against the fixture's key.
pub fn minisign_signature(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let PublicKey::Ed25519(public) = &fixture().ed25519_public else {
        return;
    };
    let _ = minisign::verify(public, EXAMPLE, &text);
}

/// A signature sidecar of either profile, verified with the fixture's keys.
pub fn sidecar(data: &[u8]) {
    let f = fixture();
    let path = file_of("sidecar.parquet", data);
    let _ = oembeddings_sign::profile_of(&path);
    let mut options = NativeVerifyOptions::default();
    options.sidecar = Some(path.clone());
    let _ = native::verify_records(&f.signed, &f.ed25519_public, &options);
    let mut options = compatible::CompatibleVerifyOptions::default();
    options.sidecar = Some(path.clone());
    let _ = compatible::verify_records(&f.signed, &f.openpgp_public, &options);
}

/// A records manifest the publisher's key signed: its JSON and what it claims.
pub fn manifest(data: &[u8]) {
    let f = fixture();
    let manifest = file_of("manifest.json", data);
    sign_beside(&manifest, data, &f.ed25519);
    let mut options = NativeVerifyOptions::default();
    options.manifest = Some(manifest);
    let _ = native::verify_records(&f.signed, &f.ed25519_public, &options);
}

/// A release manifest the publisher's key signed: its JSON and what it claims.
pub fn release_manifest(data: &[u8]) {
    let f = fixture();
    let example = f.release.join(EXAMPLE_NAME);
    if !example.exists() {
        fs::write(&example, EXAMPLE).unwrap();
    }
    let manifest = f.release.join(release::MANIFEST);
    fs::write(&manifest, data).unwrap();
    sign_beside(&manifest, data, &f.openpgp);
    let _ = release::verify_release(&f.release, &f.openpgp_public);
}

/// A file name, as `name` and `validate` parse it.
pub fn file_name(data: &[u8]) {
    let _ = oembeddings::FileName::parse(&String::from_utf8_lossy(data));
}

/// X.509 certificates and chains (PEM), as `--key`, `--ca` and a sidecar's embedded key, and
/// a private key beside a certificate, as `sign --certificate --key` reads them.
pub fn x509_certificate(data: &[u8]) {
    use oembeddings_sign::x509;
    if let Ok(chain) = x509::CertificateChain::from_pem(data) {
        let _ = format!("{chain:?}");
    }
    let _ = x509::TrustAnchors::from_pem(data, "fuzz");
    let _ = x509::pem::decode_blocks(data);
    let _ = x509::X509SecretKey::from_pem(data, data);
    let _ = PublicKey::from_bytes(data, Path::new("fuzz.pem"), None);
}

/// A compatible-profile record signature: PEM `SIGNATURE` or raw.
pub fn x509_signature(data: &[u8]) {
    use oembeddings_sign::x509;
    let _ = x509::pem::decode_signature(data);
    let _ = x509::pem::decode_block(data);
}

/// Certificate revocation lists (PEM or DER), and the times `--at` takes.
pub fn x509_crl(data: &[u8]) {
    use oembeddings_sign::x509;
    let _ = x509::Crls::from_pem_or_der(data);
    let _ = x509::identity::parse_time(&String::from_utf8_lossy(data));
}

/// Writes `key`'s detached signature of `bytes` next to `path`, as a signer does.
fn sign_beside(path: &Path, bytes: &[u8], key: &SecretKey) {
    let signature = key.sign_detached(&mut &bytes[..], path, "fuzz").unwrap();
    let mut name = path.as_os_str().to_owned();
    name.push(key.signature_extension());
    fs::write(PathBuf::from(name), signature).unwrap();
}
