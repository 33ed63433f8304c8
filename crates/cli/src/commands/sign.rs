//! `oembeddings sign`, `oembeddings verify` and `oembeddings release`.

use std::path::PathBuf;
use std::process::ExitCode;

use oembeddings_sign::x509::{Crls, IdentityPolicy, TrustAnchors, identity};
use oembeddings_sign::{
    Profile, PublicKey, RecordVerifyOptions, SecretKey, SignError, VerifyReport, compatible,
    discover, file, keys, native, release,
};

use crate::commands::keys::password;
use crate::output::{self, CliResult, FormatArgs, ReportFormat};

/// Sign a file, or each of its records.
///
/// Without --records: a detached signature of the whole file, FILE.asc (armored OpenPGP,
/// verifiable with gpg --verify and sqv) or FILE.minisig (verifiable with minisign -V).
///
/// With --records: a signature per record. The native profile (default) writes
/// {root}.sigs.parquet and a signed manifest {root}.manifest.json(.minisig|.asc) binding the
/// file's name, size, SHA-256, row count and record digests. The compatible profile writes
/// go-embeddingsdb's {root}-signatures.parquet and {root}-signatures.pub, with an OpenPGP key
/// (pgp://) or an X.509 certificate and its key (tls://: --certificate CERT.pem --key KEY.pem).
#[derive(Debug, clap::Args)]
pub struct SignArgs {
    /// The file to sign.
    file: PathBuf,
    #[command(flatten)]
    key: SecretKeyArgs,
    /// Sign each record instead of the file.
    #[arg(long)]
    records: bool,
    /// Record signature profile.
    #[arg(long, value_enum, default_value_t = Profile::Native, requires = "records")]
    profile: Profile,
    /// Compatible profile: sign with this X.509 certificate (PEM, leaf first); --key is then
    /// its private key (PEM: PKCS#8, PKCS#1 or SEC1), as go-embeddingsdb's tls:// signer.
    #[arg(long, value_name = "CERT", requires = "records")]
    certificate: Option<PathBuf>,
    /// Compatible profile: also write the public key into the sidecar's footer
    /// (embeddingsdb:signatures:public_key), as go-embeddingsdb's -embed-public-key does.
    #[arg(long, requires = "records")]
    embed_public_key: bool,
}

/// The secret key a signing command uses.
#[derive(Debug, clap::Args)]
pub struct SecretKeyArgs {
    /// The secret key (OpenPGP or minisign).
    #[arg(long, value_name = "SECRET")]
    key: PathBuf,
    /// Choose a certificate of an OpenPGP keyring by fingerprint or key id.
    #[arg(long, value_name = "FPR")]
    fingerprint: Option<String>,
    /// Read the key's password from this file's first line (or set $OEMBEDDINGS_PASSWORD).
    #[arg(long, value_name = "FILE")]
    password_file: Option<PathBuf>,
}

impl SecretKeyArgs {
    /// Loads the key, warning when its file is readable by others.
    fn load(&self) -> Result<SecretKey, output::CliError> {
        let password = password(self.password_file.as_deref())?;
        let key = SecretKey::load(&self.key, password.as_deref(), self.fingerprint.as_deref())?;
        // After loading: a public key named by mistake gets that error, not a chmod warning.
        for warning in keys::secret_file_warnings(&self.key) {
            output::warning(warning);
        }
        Ok(key)
    }
}

pub fn sign(args: &SignArgs) -> CliResult {
    let key = match &args.certificate {
        Some(certificate) => {
            if args.profile != Profile::Compatible {
                return Err(
                    "--certificate signs in the compatible profile (--profile compatible)"
                        .to_owned()
                        .into(),
                );
            }
            for warning in keys::secret_file_warnings(&args.key.key) {
                output::warning(warning);
            }
            SecretKey::load_x509(certificate, &args.key.key)?
        }
        None => args.key.load()?,
    };
    if !args.records {
        let out = file::sign_file(&args.file, &key)?;
        output::note(format!(
            "{}: signed with {} key {}",
            out.display(),
            key.algorithm(),
            key.key_id()
        ));
        return Ok(ExitCode::SUCCESS);
    }
    match args.profile {
        Profile::Native => {
            let signed = native::sign_records(&args.file, &key)?;
            output::note(format!(
                "{}: signed {} with {} key {}; wrote {}, {} and {}",
                args.file.display(),
                output::count(signed.records, "record", "records"),
                key.algorithm(),
                key.key_id(),
                signed.sidecar.display(),
                signed.manifest.display(),
                signed.manifest_signature.display()
            ));
        }
        Profile::Compatible => {
            let mut options = compatible::CompatibleSignOptions::default();
            options.embed_public_key = args.embed_public_key;
            let signed = compatible::sign_records_with(&args.file, &key, &options)?;
            output::note(format!(
                "{}: signed {} (go-embeddingsdb profile) with {} key {}; wrote {} and {}",
                args.file.display(),
                output::count(signed.records, "record", "records"),
                key.algorithm(),
                key.key_id(),
                signed.sidecar.display(),
                signed.public_key.display()
            ));
        }
        other => return Err(format!("--profile {other}: cannot sign records").into()),
    }
    Ok(ExitCode::SUCCESS)
}

/// Verify a file's signature, or each of its records, against the one key you trust.
///
/// Fails closed: exit 0 only when every signature checked is by KEY and valid, and at least
/// one was checked. By default, every signature found next to FILE is checked, as gpg and
/// minisign find theirs: detached (FILE.asc, FILE.sig, FILE.minisig), the native profile's
/// manifest and sidecar ({root}.manifest.json, {root}.sigs.parquet) and go-embeddingsdb's
/// sidecar ({root}-signatures.parquet); those of another kind of key are listed as not
/// checked. --signature SIG checks that detached signature only. --records (or --sidecar,
/// --manifest, --profile) checks the record signatures only and requires them: every record
/// against its sidecar, the profile found from the files unless --profile says. Records
/// without a signature, signatures without a record and invalid signatures are each counted
/// and listed.
///
/// go-embeddingsdb's X.509 signatures (compatible profile) verify with the signer's
/// certificate as KEY (PEM; a chain leaf first). Its identity is checked only when asked: the
/// chain to --ca roots or Mozilla's (--webpki-roots), the name (--identity), revocation
/// (--crl), at --at or the newest `created` among the verified records; the report says what
/// was and was not checked. A key embedded in the sidecar is never trusted: without --key,
/// verification stops and names it.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The file to verify.
    file: PathBuf,
    /// The public key to trust (OpenPGP certificate or keyring, minisign .pub, or X.509
    /// certificate in PEM).
    #[arg(long, value_name = "PUBLIC")]
    key: Option<PathBuf>,
    /// With a keyring: the certificate to trust, by fingerprint or key id.
    #[arg(long, value_name = "FPR")]
    fingerprint: Option<String>,
    /// The detached signature to check (only it; default: every signature found next to
    /// FILE).
    #[arg(long, value_name = "SIG", conflicts_with_all = ["records", "sidecar", "manifest"])]
    signature: Option<PathBuf>,
    /// Check the record signatures only, and require them: against SIDECAR, or the sidecar
    /// and manifest next to FILE. Without it, every signature found next to FILE is checked.
    #[arg(long, value_name = "SIDECAR", num_args = 0..=1)]
    records: Option<Option<PathBuf>>,
    /// The record signatures' sidecar (implies --records; same as --records SIDECAR, which
    /// takes the next argument as its value).
    #[arg(long, value_name = "SIDECAR", conflicts_with = "records")]
    sidecar: Option<PathBuf>,
    /// Record signature profile (implies --records; default: found from the files).
    #[arg(long, value_enum)]
    profile: Option<Profile>,
    /// Native profile: the signed manifest (implies --records; default {root}.manifest.json
    /// next to FILE). Name it when FILE was renamed after signing, e.g. with
    /// --allow-rewritten for a converted copy.
    #[arg(long, value_name = "MANIFEST")]
    manifest: Option<PathBuf>,
    /// Let records without a signature pass (they are still listed).
    #[arg(long)]
    allow_missing: bool,
    /// Native profile: accept a file whose bytes differ from the signed one when every
    /// record verifies in order (a converted or re-written file).
    #[arg(long)]
    allow_rewritten: bool,
    /// Native profile, hf:// files: compare the manifest's size and SHA-256 with those the
    /// Hugging Face Hub announces for the file, without reading it (the report says so).
    /// Without it, the file's bytes are always read and hashed.
    #[arg(long)]
    trust_server_digest: bool,
    /// X.509: the certificate chain must lead to one of these roots (PEM).
    #[arg(long, value_name = "FILE")]
    ca: Option<PathBuf>,
    /// X.509: the certificate chain must lead to one of Mozilla's roots (compiled in).
    #[arg(long, conflicts_with = "ca")]
    webpki_roots: bool,
    /// X.509: the certificate must be valid for this DNS name (TLS rules, wildcards too).
    #[arg(long, value_name = "DNSNAME")]
    identity: Option<String>,
    /// X.509: check the chain at this time (YYYY-MM-DD or RFC 3339; default: the newest
    /// `created` among the verified records).
    #[arg(long, value_name = "DATE")]
    at: Option<String>,
    /// X.509: certificate revocation lists (PEM or DER) covering every certificate of the chain.
    #[arg(long, value_name = "FILE")]
    crl: Vec<PathBuf>,
    /// Compatible profile: let records signed with attributes carried over by
    /// go-embeddingsdb's earlier signer pass (they are still counted and listed).
    #[arg(long)]
    accept_carried_attributes: bool,
    #[command(flatten)]
    format: FormatArgs,
}

fn print(report: &VerifyReport, format: &FormatArgs) -> CliResult {
    match format.get() {
        ReportFormat::Text => output::out!("{}", report.to_text())?,
        ReportFormat::Json => output::json(report)?,
    }
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The identity checks asked for on the command line.
fn identity_policy(args: &VerifyArgs) -> Result<IdentityPolicy, output::CliError> {
    let mut policy = IdentityPolicy::default();
    if let Some(ca) = &args.ca {
        policy.anchors = Some(TrustAnchors::from_file(ca)?);
    } else if args.webpki_roots {
        policy.anchors = Some(TrustAnchors::webpki_roots());
    }
    policy.dns_name = args.identity.clone();
    for path in &args.crl {
        let crls = Crls::from_file(path)?;
        match &mut policy.crls {
            Some(all) => all.extend(crls),
            None => policy.crls = Some(crls),
        }
    }
    if let Some(at) = &args.at {
        policy.at = Some(identity::parse_time(at).map_err(|e| format!("--at {e}"))?);
    }
    Ok(policy)
}

pub fn verify(args: &VerifyArgs) -> CliResult {
    let Some(key_file) = &args.key else {
        let refusal = match &args.records {
            Some(records) => compatible::refuse_without_key(&args.file, records.as_deref()),
            None => SignError::NoKey {
                data: args.file.clone(),
            },
        };
        return Err(refusal.into());
    };
    let key = PublicKey::load(key_file, args.fingerprint.as_deref())?;
    let progress = output::transfer_progress(format!("verifying {}", args.file.display()));
    if let Some(signature) = &args.signature {
        let report = file::verify_file(&args.file, &key, Some(signature))?;
        drop(progress);
        return print(&report, &args.format);
    }
    let mut options = RecordVerifyOptions::default();
    options.profile = args.profile;
    options.sidecar = args
        .sidecar
        .clone()
        .or_else(|| args.records.clone().flatten());
    options.manifest = args.manifest.clone();
    options.allow_missing = args.allow_missing;
    options.allow_rewritten = args.allow_rewritten;
    options.trust_server_digest = args.trust_server_digest;
    options.identity = identity_policy(args)?;
    options.accept_carried_attributes = args.accept_carried_attributes;
    let records_named = args.records.is_some()
        || args.sidecar.is_some()
        || args.manifest.is_some()
        || args.profile.is_some();
    if records_named {
        let report = oembeddings_sign::verify_records(&args.file, &key, &options)?;
        drop(progress);
        return print(&report, &args.format);
    }
    let report = discover::verify_found(&args.file, &key, options)?;
    drop(progress);
    match args.format.get() {
        ReportFormat::Text => output::out!("{}", report.to_text())?,
        ReportFormat::Json => output::json(&report)?,
    }
    if report.checked.is_empty() && report.not_checked.is_empty() {
        output::note(format!(
            "hint: if {} is a renamed or converted copy of a signed file, name that file's \
             manifest with --manifest (and --allow-rewritten), or its sidecar with --sidecar",
            args.file.display()
        ));
    }
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Sign or verify a whole release directory.
#[derive(Debug, clap::Subcommand)]
pub enum ReleaseCommand {
    /// Write DIR/release.json listing every file (name, size, SHA-256; rows and record-digest
    /// root for record files) and its detached signature.
    Sign {
        /// The release directory.
        dir: PathBuf,
        #[command(flatten)]
        key: SecretKeyArgs,
    },
    /// Check DIR against its signed release.json: missing, extra and changed files.
    Verify {
        /// The release directory.
        dir: PathBuf,
        /// The public key to trust.
        #[arg(long, value_name = "PUBLIC")]
        key: PathBuf,
        /// With a keyring: the certificate to trust.
        #[arg(long, value_name = "FPR")]
        fingerprint: Option<String>,
        #[command(flatten)]
        format: FormatArgs,
    },
}

pub fn release(command: &ReleaseCommand) -> CliResult {
    match command {
        ReleaseCommand::Sign { dir, key } => {
            let key = key.load()?;
            let signed = release::sign_release(dir, &key)?;
            output::note(format!(
                "{}: {} listed; signature {}",
                signed.manifest.display(),
                output::count(signed.files as u64, "file", "files"),
                signed.signature.display()
            ));
            Ok(ExitCode::SUCCESS)
        }
        ReleaseCommand::Verify {
            dir,
            key,
            fingerprint,
            format,
        } => {
            let key = PublicKey::load(key, fingerprint.as_deref())?;
            let progress = output::transfer_progress(format!("verifying {}", dir.display()));
            let report = release::verify_release(dir, &key)?;
            drop(progress);
            print(&report, format)
        }
    }
}
