//! The static entries of `~/.aws/credentials` and `~/.aws/config` for one profile, as the
//! AWS CLI reads them, for what `object_store`'s environment reading does not cover.

use std::path::PathBuf;

use ini::Ini;

/// A profile's entries that an S3 client needs.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Profile {
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub session_token: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    /// The first entry naming a credential source this tool does not run (SSO, a process,
    /// an assumed role), when the profile has no static keys.
    pub unsupported: Option<&'static str>,
}

/// Entries that name credentials obtained some other way than static keys.
const DYNAMIC: [&str; 6] = [
    "sso_session",
    "sso_start_url",
    "credential_process",
    "role_arn",
    "web_identity_token_file",
    "credential_source",
];

fn home_file(env: &str, default: &str) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(env) {
        return Some(PathBuf::from(path));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".aws").join(default))
}

/// Reads profile `name` (`AWS_PROFILE`, else `default`) from the shared files
/// (`AWS_SHARED_CREDENTIALS_FILE` and `AWS_CONFIG_FILE`, else under `~/.aws`).
pub(crate) fn load(name: &str) -> Result<Profile, String> {
    load_from(
        name,
        home_file("AWS_SHARED_CREDENTIALS_FILE", "credentials"),
        home_file("AWS_CONFIG_FILE", "config"),
    )
}

/// Reads profile `name` from these files. Missing files are empty; unreadable ones are an
/// error naming the file. The credentials file wins over the config file, as in the AWS CLI.
fn load_from(
    name: &str,
    credentials: Option<PathBuf>,
    config: Option<PathBuf>,
) -> Result<Profile, String> {
    let mut profile = Profile::default();
    let read = |path: &PathBuf| -> Result<Option<Ini>, String> {
        match std::fs::metadata(path) {
            Err(_) => Ok(None),
            // The shared files are small; a huge one is not a credentials file.
            Ok(meta) if meta.len() > 1 << 20 => {
                Err(format!("{}: larger than 1 MiB, not read", path.display()))
            }
            Ok(_) => Ini::load_from_file(path)
                .map(Some)
                .map_err(|e| format!("{}: {e}", path.display())),
        }
    };
    let mut dynamic = None;
    let mut take = |section: Option<&ini::Properties>, profile: &mut Profile| {
        let Some(section) = section else { return };
        let get = |key: &str| section.get(key).map(str::to_owned);
        profile.access_key_id = profile
            .access_key_id
            .take()
            .or_else(|| get("aws_access_key_id"));
        profile.secret_access_key = profile
            .secret_access_key
            .take()
            .or_else(|| get("aws_secret_access_key"));
        profile.session_token = profile
            .session_token
            .take()
            .or_else(|| get("aws_session_token"));
        profile.region = profile.region.take().or_else(|| get("region"));
        profile.endpoint_url = profile.endpoint_url.take().or_else(|| get("endpoint_url"));
        if dynamic.is_none() {
            dynamic = DYNAMIC.into_iter().find(|key| section.contains_key(key));
        }
    };
    if let Some(path) = credentials
        && let Some(ini) = read(&path)?
    {
        take(ini.section(Some(name)), &mut profile);
    }
    if let Some(path) = config
        && let Some(ini) = read(&path)?
    {
        let section = if name == "default" {
            ini.section(Some("default"))
        } else {
            ini.section(Some(format!("profile {name}")))
        };
        take(section, &mut profile);
    }
    if profile.access_key_id.is_none() {
        profile.unsupported = dynamic;
    }
    Ok(profile)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn static_keys_and_unsupported_sources_are_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        let credentials = dir.path().join("credentials");
        let config = dir.path().join("config");
        std::fs::write(
            &credentials,
            "[default]\naws_access_key_id = AK\naws_secret_access_key = SK\n",
        )
        .unwrap();
        std::fs::write(
            &config,
            "[default]\nregion = eu-west-3\n[profile sso]\nsso_session = museum\n",
        )
        .unwrap();
        let default = load_from("default", Some(credentials.clone()), Some(config.clone()));
        let default = default.unwrap();
        assert_eq!(default.access_key_id.as_deref(), Some("AK"));
        assert_eq!(default.secret_access_key.as_deref(), Some("SK"));
        assert_eq!(default.region.as_deref(), Some("eu-west-3"));
        assert_eq!(default.unsupported, None);
        let sso = load_from("sso", Some(credentials), Some(config)).unwrap();
        assert_eq!(sso.access_key_id, None);
        assert_eq!(sso.unsupported, Some("sso_session"));
        let none = load_from("x", Some(dir.path().join("missing")), None).unwrap();
        assert_eq!(none, Profile::default());
    }
}
