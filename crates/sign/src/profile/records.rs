//! Record verification whichever profile signed the file: the profile is named, or found
//! from the sidecar's columns or from the files next to the data file.

use std::path::{Path, PathBuf};

use crate::error::SignError;
use crate::keys::PublicKey;
use crate::profile::native::NativeVerifyOptions;
use crate::report::VerifyReport;
use crate::{compatible, native, profile_of};

/// A record signature profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Profile {
    /// Ours: per-record signatures plus a signed manifest.
    Native,
    /// go-embeddingsdb's OpenPGP or X.509 signatures over each record's Go JSON.
    Compatible,
}

oembeddings::named_enum!(Profile, "profile",
    Native => "native",
        "Ours: per-record signatures plus a signed manifest; detects deleted, added, reordered \
         and moved records. Ed25519 or OpenPGP keys";
    Compatible => "compatible",
        "go-embeddingsdb's: OpenPGP or X.509 signatures over each record's Go JSON, in \
         {root}-signatures.parquet";
);

impl Profile {
    /// The profile of `data`'s signatures: `named` if given; else that of `sidecar`, from
    /// its columns; else native when the manifest exists, compatible when the Go tool's
    /// sidecar exists next to `data`.
    pub fn find(
        data: &Path,
        named: Option<Profile>,
        sidecar: Option<&Path>,
        manifest: Option<&Path>,
    ) -> Result<Profile, SignError> {
        if let Some(profile) = named {
            return Ok(profile);
        }
        if let Some(sidecar) = sidecar {
            return Ok(match profile_of(sidecar)? {
                "compatible" => Profile::Compatible,
                _ => Profile::Native,
            });
        }
        if manifest.is_some() || oembeddings::input::exists(native::manifest_path(data)) {
            Ok(Profile::Native)
        } else if oembeddings::input::exists(compatible::sidecar_path(data)) {
            Ok(Profile::Compatible)
        } else {
            Err(SignError::NoRecordSignatures {
                data: data.to_path_buf(),
                native: native::manifest_path(data),
                compatible: compatible::sidecar_path(data),
            })
        }
    }
}

/// How to verify records (see [`verify_records`]).
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct RecordVerifyOptions {
    /// The profile; found with [`Profile::find`] when `None`.
    pub profile: Option<Profile>,
    /// The sidecar (default: next to the data file).
    pub sidecar: Option<PathBuf>,
    /// Native profile: the manifest (default: next to the data file).
    pub manifest: Option<PathBuf>,
    /// Let records without a signature pass (they are still listed).
    pub allow_missing: bool,
    /// Native profile: accept a rewritten file whose records all verify in order.
    pub allow_rewritten: bool,
    /// Compatible profile, X.509 keys: what to check of the signer's identity.
    pub identity: crate::x509::IdentityPolicy,
    /// Compatible profile: let records signed with attributes carried over by
    /// go-embeddingsdb's earlier signer pass (still counted and listed).
    pub accept_carried_attributes: bool,
    /// Native profile: for a file on the Hugging Face Hub, compare the manifest's size and
    /// SHA-256 with those the Hub announces instead of reading the file (the report says
    /// so). Without it, or where the server announces none, the bytes are read and hashed.
    pub trust_server_digest: bool,
}

/// Verifies every record of `data` against its signatures by `key`, in either profile.
pub fn verify_records(
    data: &Path,
    key: &PublicKey,
    options: &RecordVerifyOptions,
) -> Result<VerifyReport, SignError> {
    let profile = Profile::find(
        data,
        options.profile,
        options.sidecar.as_deref(),
        options.manifest.as_deref(),
    )?;
    match profile {
        Profile::Native => {
            let native_options = NativeVerifyOptions {
                sidecar: options.sidecar.clone(),
                manifest: options.manifest.clone(),
                allow_missing: options.allow_missing,
                allow_rewritten: options.allow_rewritten,
                trust_server_digest: options.trust_server_digest,
            };
            native::verify_records(data, key, &native_options)
        }
        Profile::Compatible => compatible::verify(
            data,
            key,
            options.sidecar.as_deref(),
            options.allow_missing,
            options.accept_carried_attributes,
            &options.identity,
        ),
    }
}
