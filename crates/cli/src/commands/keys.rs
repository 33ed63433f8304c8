//! `oembeddings keygen` and `oembeddings key show`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use oembeddings::atomic::AtomicFile;
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
        let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
        return Ok(Some(text.lines().next().unwrap_or_default().to_owned()));
    }
    Ok(std::env::var("OEMBEDDINGS_PASSWORD").ok())
}

fn write(path: &Path, bytes: &[u8], private: bool, force: bool) -> Result<(), output::CliError> {
    if path.exists() && !force {
        return Err(format!(
            "{}: already exists; give --force to replace it",
            path.display()
        )
        .into());
    }
    let out = if private {
        AtomicFile::create_private(path)
    } else {
        AtomicFile::create(path)
    }
    .map_err(|e| format!("{}: {e}", path.display()))?;
    out.file()
        .write_all(bytes)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    out.commit()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(())
}

pub fn keygen(args: &KeygenArgs) -> CliResult {
    let password = password(args.password_file.as_deref())?;
    let public_path = {
        let mut s = args.output.as_os_str().to_owned();
        s.push(".pub");
        PathBuf::from(s)
    };
    let (secret, public) = if args.openpgp {
        let userid = args.userid.as_deref().unwrap_or_default();
        keys::generate_openpgp(userid, password.as_deref())?
    } else {
        let (s, p) = keys::generate_ed25519(password.as_deref())?;
        (s.into_bytes(), p.into_bytes())
    };
    write(&args.output, &secret, true, args.force)?;
    write(&public_path, &public, false, args.force)?;
    let description = describe(&public_path)?;
    println!("{}", description.id);
    output::note(format!(
        "wrote {} secret key {} (mode 0600{}) and public key {}",
        description.algorithm,
        args.output.display(),
        if password.is_some() {
            ", password-protected"
        } else {
            ""
        },
        public_path.display()
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
                println!("algorithm    {}", d.algorithm);
                println!(
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
                );
                for u in &d.user_ids {
                    println!("user id      {u}");
                }
                if let Some(c) = &d.created {
                    println!("created      {c}");
                }
                if let Some(e) = &d.expires {
                    println!("expires      {e}");
                }
                if d.revoked {
                    println!("revoked      yes");
                }
                for k in &d.signing_keys {
                    println!("signing key  {k}");
                }
                println!(
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
                );
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
