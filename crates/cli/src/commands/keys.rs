//! `oembeddings keygen` and `oembeddings key show`.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use oembeddings::input::{limits, read_capped};
use oembeddings_sign::SignError;
use oembeddings_sign::key_pair::write_key_pair;
use oembeddings_sign::keys::{self, describe};

use crate::output::{self, CliResult, FormatArgs};

/// Generate a signing key: an OpenPGP certificate (for gpg, sqv and go-embeddingsdb's record
/// signatures) or an Ed25519 key in minisign's format.
///
/// Writes the secret key to OUT (mode 0600) and the public key to OUT.pub. Publish the .pub
/// file (or its fingerprint / key id) so that others can verify what you sign. The secret key
/// is protected with the password from --password-file or $OEMBEDDINGS_PASSWORD when given.
#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("kind").required(true).args(["openpgp", "ed25519"]))]
pub struct KeygenArgs {
    /// An OpenPGP certificate with an Ed25519 signing subkey.
    #[arg(long, requires = "userid")]
    openpgp: bool,
    /// An Ed25519 key pair in minisign's key formats (usable with `minisign -p OUT.pub`).
    #[arg(long)]
    ed25519: bool,
    /// The OpenPGP user id, e.g. "SFO Museum <collections@sfomuseum.org>".
    #[arg(long, value_name = "NAME <EMAIL>")]
    userid: Option<String>,
    /// Where to write the secret key (the public key goes to OUT.pub).
    #[arg(short, long, value_name = "OUT")]
    output: PathBuf,
    /// Read the password protecting the secret key from this file's first line.
    #[arg(long, value_name = "FILE")]
    password_file: Option<PathBuf>,
    /// Replace existing key files.
    #[arg(long)]
    force: bool,
}

/// Read the password for a key: --password-file's first line, else $OEMBEDDINGS_PASSWORD.
pub fn password(file: Option<&Path>) -> Result<Option<String>, output::CliError> {
    if let Some(file) = file {
        let bytes = read_capped(file, limits::PASSWORD_FILE)
            .map_err(|e| format!("{}: {e}", file.display()))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| format!("{}: a password file must be UTF-8 text", file.display()))?;
        return Ok(Some(text.lines().next().unwrap_or_default().to_owned()));
    }
    Ok(std::env::var("OEMBEDDINGS_PASSWORD").ok())
}

pub fn keygen(args: &KeygenArgs) -> CliResult {
    let password = password(args.password_file.as_deref())?;
    let kind = if args.openpgp {
        keys::KeyKind::OpenPgp
    } else {
        keys::KeyKind::Ed25519
    };
    let userid = args.userid.as_deref().unwrap_or_default();
    let (secret, public) = keys::generate(kind, userid, password.as_deref())?;
    let files =
        write_key_pair(&args.output, &secret, &public, args.force).map_err(|e| match &e {
            SignError::Io { source, .. } if source.kind() == ErrorKind::AlreadyExists => {
                output::CliError::from(format!("{e}; give --force to replace it"))
            }
            _ => e.into(),
        })?;
    let description = describe(&files.public)?;
    output::outln!("{}", description.id)?;
    output::note(format!(
        "wrote {} secret key {} (mode 0600{}) and public key {}",
        description.algorithm,
        args.output.display(),
        if password.is_some() {
            ", password-protected"
        } else {
            ""
        },
        files.public.display()
    ));
    Ok(ExitCode::SUCCESS)
}

/// Show a key file: algorithm, fingerprint or key id, user ids, validity.
#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// A secret or public key file (OpenPGP or minisign).
    file: PathBuf,
    #[command(flatten)]
    format: FormatArgs,
}

/// Work with key files.
#[derive(Debug, clap::Subcommand)]
pub enum KeyCommand {
    /// Show a key file's fingerprint / key id and details.
    Show(ShowArgs),
}

pub fn key(command: &KeyCommand) -> CliResult {
    match command {
        KeyCommand::Show(args) => {
            let d = describe(&args.file)?;
            if args.format.is_json() {
                output::json(&d)?;
            } else {
                output::outln!("algorithm    {}", d.algorithm)?;
                output::outln!(
                    "{}  {}",
                    if d.algorithm == "openpgp" {
                        "fingerprint"
                    } else {
                        "key id     "
                    },
                    if d.id.is_empty() {
                        "(encrypted; see the .pub file)"
                    } else {
                        &d.id
                    }
                )?;
                for u in &d.user_ids {
                    output::outln!("user id      {u}")?;
                }
                if let Some(c) = &d.created {
                    output::outln!("created      {c}")?;
                }
                // Every key but an X.509 private key (whose validity is its certificate's)
                // says when it expires; a key without an expiry time never does.
                match &d.expires {
                    Some(e) => output::outln!("expires      {e}")?,
                    None if d.algorithm != keys::X509 => output::outln!("expires      never")?,
                    None => {}
                }
                if d.revoked {
                    output::outln!("revoked      yes")?;
                }
                for k in &d.signing_keys {
                    output::outln!("signing key  {k}")?;
                }
                output::outln!(
                    "secret       {}",
                    if d.secret {
                        if d.encrypted {
                            "yes (password-protected)"
                        } else {
                            "yes"
                        }
                    } else {
                        "no"
                    }
                )?;
            }
            for w in keys::secret_file_warnings(&args.file)
                .into_iter()
                .filter(|_| d.secret)
            {
                output::warning(w);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
