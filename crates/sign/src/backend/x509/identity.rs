//! Who signed: what no go-embeddingsdb peer checks. The certificate's chain to roots the user
//! trusts (a PEM file, or Mozilla's roots compiled in), the DNS name it must carry (TLS rules,
//! wildcards included), and revocation by the CRLs the user gives, at one point in time.
//!
//! Certificates of a TLS authority live about 90 days; an archive must verify for years. The
//! chain is therefore checked at a time the caller chooses: by default the newest `created`
//! among the verified records, which the signer chose, so a check passes for any key that was
//! valid at some time the signer claims. [`IdentityReport`] says which time was used and why.

use std::path::Path;
use std::time::Duration;

use oembeddings::input::{limits, read_capped};

use rustls_pki_types::{
    CertificateDer, CertificateRevocationListDer, ServerName, TrustAnchor, UnixTime,
};
use serde::Serialize;
use webpki::{
    CertRevocationList, EndEntityCert, KeyUsage, OwnedCertRevocationList, RevocationCheckDepth,
    RevocationOptionsBuilder, UnknownStatusPolicy,
};

use super::certificate::{CertificateChain, CertificateInfo, rfc3339};
use super::error::X509Error;
use super::pem;
use crate::error::SignError;

/// Roots a chain must lead to.
#[derive(Debug, Clone)]
pub struct TrustAnchors {
    anchors: Vec<TrustAnchor<'static>>,
    source: String,
}

impl TrustAnchors {
    /// Roots from PEM `CERTIFICATE` blocks; `source` names them in reports (e.g. the file).
    pub fn from_pem(text: &[u8], source: impl Into<String>) -> Result<Self, X509Error> {
        let mut anchors = Vec::new();
        for (i, (label, der)) in pem::decode_blocks(text)?.into_iter().enumerate() {
            if label != pem::CERTIFICATE {
                return Err(X509Error::WrongPemType {
                    found: label,
                    expected: pem::CERTIFICATE,
                });
            }
            let der = CertificateDer::from(der);
            let anchor =
                webpki::anchor_from_trusted_cert(&der).map_err(|e| X509Error::BadAnchor {
                    index: i + 1,
                    reason: e.to_string(),
                })?;
            anchors.push(anchor.to_owned());
        }
        if anchors.is_empty() {
            return Err(X509Error::Empty("root certificate"));
        }
        Ok(Self {
            anchors,
            source: source.into(),
        })
    }

    /// Roots from the PEM file `path` (at most [`limits::CERTIFICATES_FILE`]); errors name it.
    pub fn from_file(path: &Path) -> Result<Self, SignError> {
        let bytes = read_capped(path, limits::CERTIFICATES_FILE).map_err(SignError::io(path))?;
        Self::from_pem(&bytes, format!("the roots in {}", path.display())).map_err(|e| {
            SignError::Key {
                path: path.to_path_buf(),
                message: e.to_string(),
            }
        })
    }

    /// Mozilla's roots for TLS servers, as compiled in (`webpki-roots`).
    pub fn webpki_roots() -> Self {
        Self {
            anchors: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            source: "Mozilla's TLS roots (webpki-roots)".to_owned(),
        }
    }

    /// Where the roots come from.
    pub fn source(&self) -> &str {
        &self.source
    }
}

/// Certificate revocation lists.
#[derive(Debug)]
pub struct Crls {
    crls: Vec<CertRevocationList<'static>>,
}

impl Crls {
    /// CRLs from the file `path` (at most [`limits::CRL_FILE`]); errors name it.
    pub fn from_file(path: &Path) -> Result<Self, SignError> {
        let bytes = read_capped(path, limits::CRL_FILE).map_err(SignError::io(path))?;
        Self::from_pem_or_der(&bytes).map_err(|e| SignError::Key {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    }

    /// CRLs from PEM `X509 CRL` blocks, or one DER CRL.
    pub fn from_pem_or_der(bytes: &[u8]) -> Result<Self, X509Error> {
        let ders: Vec<Vec<u8>> = if pem::is_pem(bytes) {
            let mut out = Vec::new();
            for (label, der) in pem::decode_blocks(bytes)? {
                if label != "X509 CRL" {
                    return Err(X509Error::WrongPemType {
                        found: label,
                        expected: "X509 CRL",
                    });
                }
                out.push(der);
            }
            out
        } else {
            vec![bytes.to_vec()]
        };
        let mut crls = Vec::new();
        for (i, der) in ders.into_iter().enumerate() {
            let der = CertificateRevocationListDer::from(der);
            let crl = OwnedCertRevocationList::from_der(&der).map_err(|e| X509Error::BadCrl {
                index: i + 1,
                reason: e.to_string(),
            })?;
            crls.push(CertRevocationList::from(crl));
        }
        Ok(Self { crls })
    }

    /// Adds the lists of `other`.
    pub fn extend(&mut self, other: Crls) {
        self.crls.extend(other.crls);
    }

    /// How many lists.
    pub fn len(&self) -> usize {
        self.crls.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.crls.is_empty()
    }
}

/// What to check of the signer's identity.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct IdentityPolicy {
    /// The roots the chain must lead to; none: the certificate given is trusted as is
    /// (pinned by the user), as go-embeddingsdb trusts it.
    pub anchors: Option<TrustAnchors>,
    /// The DNS name the leaf must be valid for (needs `anchors`).
    pub dns_name: Option<String>,
    /// CRLs to check every certificate of the chain against (needs `anchors`).
    pub crls: Option<Crls>,
    /// The time (Unix seconds) to check the chain at; none: the newest `created` among the
    /// verified records.
    pub at: Option<u64>,
}

impl IdentityPolicy {
    /// Refuses checks that mean nothing without a chain, and names that are not DNS names.
    pub fn validate(&self) -> Result<(), String> {
        if self.anchors.is_none() {
            if self.dns_name.is_some() {
                return Err(
                    "--identity needs --ca or --webpki-roots: anyone can make a \
                            certificate with any name; only a chain to roots you trust binds it"
                        .into(),
                );
            }
            if self.crls.is_some() {
                return Err("--crl needs --ca or --webpki-roots".into());
            }
            if self.at.is_some() {
                return Err(
                    "--at needs --ca or --webpki-roots (it is the time the chain is \
                            checked at)"
                        .into(),
                );
            }
        }
        if let Some(name) = &self.dns_name {
            ServerName::try_from(name.as_str())
                .ok()
                .filter(|n| matches!(n, ServerName::DnsName(_)))
                .ok_or_else(|| format!("--identity {name}: not a DNS name"))?;
        }
        Ok(())
    }
}

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "detail", rename_all = "kebab-case")]
pub enum Check {
    /// Checked, and it holds.
    Passed(String),
    /// Checked, and it does not hold: the verification fails.
    Failed(String),
    /// Not checked, and why.
    NotChecked(String),
}

impl Check {
    fn label(&self) -> (&'static str, &str) {
        match self {
            Check::Passed(d) => ("passed", d),
            Check::Failed(d) => ("FAILED", d),
            Check::NotChecked(d) => ("not checked", d),
        }
    }
}

/// The signer's certificate and what was, and was not, checked of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IdentityReport {
    /// The signing certificate (the leaf).
    pub certificate: CertificateInfo,
    /// Certificates given after the leaf (intermediates), by subject.
    pub intermediates: Vec<String>,
    /// What the key is trusted by: pinned by the user, or a chain to roots.
    pub trust: String,
    /// The chain to the roots, at `time`.
    pub chain: Check,
    /// The DNS name.
    pub name: Check,
    /// Revocation.
    pub revocation: Check,
    /// The time the chain was checked at (RFC 3339), when it was.
    pub time: Option<String>,
    /// Why that time.
    pub time_source: Option<String>,
}

impl IdentityReport {
    /// Whether nothing checked failed.
    pub fn passed(&self) -> bool {
        ![&self.chain, &self.name, &self.revocation]
            .iter()
            .any(|c| matches!(c, Check::Failed(_)))
    }

    /// Lines for a text report.
    pub fn to_lines(&self) -> Vec<String> {
        let c = &self.certificate;
        let mut out = vec![
            format!(
                "signer certificate: subject \"{}\", DNS names [{}], issuer \"{}\", {} key, SHA-256 {}",
                c.subject,
                c.dns_names.join(", "),
                c.issuer,
                c.key,
                c.sha256_fingerprint
            ),
            format!(
                "signer certificate valid {} to {}",
                c.not_before, c.not_after
            ),
            format!("trust: {}", self.trust),
        ];
        if let (Some(time), Some(source)) = (&self.time, &self.time_source) {
            out.push(format!("checked at {time} ({source})"));
        }
        for (what, check) in [
            ("chain", &self.chain),
            ("name", &self.name),
            ("revocation", &self.revocation),
        ] {
            let (status, detail) = check.label();
            out.push(format!("{what}: {status}: {detail}"));
        }
        out
    }
}

/// The report for a certificate trusted as given (no roots): nothing of its identity checked.
pub fn pinned(chain: &CertificateChain) -> IdentityReport {
    IdentityReport {
        certificate: chain.leaf().info(),
        intermediates: chain.intermediates().iter().map(|c| c.subject()).collect(),
        trust: "pinned: the certificate given as the key is trusted as it is".to_owned(),
        chain: Check::NotChecked("no --ca or --webpki-roots".to_owned()),
        name: Check::NotChecked("no --identity (and no roots to bind a name)".to_owned()),
        revocation: Check::NotChecked("no --crl".to_owned()),
        time: None,
        time_source: None,
    }
}

/// Checks `chain` against `policy` at `at` (Unix seconds), chosen for `time_source`.
pub fn check(
    chain: &CertificateChain,
    policy: &IdentityPolicy,
    at: u64,
    time_source: String,
) -> IdentityReport {
    let mut report = pinned(chain);
    let Some(anchors) = &policy.anchors else {
        return report;
    };
    report.trust = format!("a chain to {}", anchors.source);
    report.time = Some(rfc3339(at));
    report.time_source = Some(time_source);
    let leaf_der = CertificateDer::from(chain.leaf().der());
    let leaf = match EndEntityCert::try_from(&leaf_der) {
        Ok(leaf) => leaf,
        Err(e) => {
            report.chain = Check::Failed(format!("the certificate cannot be checked: {e}"));
            report.name = Check::NotChecked("the chain failed".into());
            report.revocation = Check::NotChecked("the chain failed".into());
            return report;
        }
    };
    let intermediates: Vec<CertificateDer<'_>> = chain
        .intermediates()
        .iter()
        .map(|c| CertificateDer::from(c.der()))
        .collect();
    let crls: Vec<&CertRevocationList<'_>> = policy
        .crls
        .as_ref()
        .map(|c| c.crls.iter().collect())
        .unwrap_or_default();
    // Every certificate of the chain must be covered by a CRL given: a status that no list
    // gives fails (fail closed).
    let revocation = RevocationOptionsBuilder::new(&crls).ok().map(|b| {
        b.with_depth(RevocationCheckDepth::Chain)
            .with_status_policy(UnknownStatusPolicy::Deny)
            .build()
    });
    let time = UnixTime::since_unix_epoch(Duration::from_secs(at));
    // A TLS certificate (go-embeddingsdb's tls:// and acm:// signers use them): when it lists
    // extended key usages, TLS server authentication must be one.
    let verified = leaf.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        &anchors.anchors,
        &intermediates,
        time,
        KeyUsage::server_auth(),
        revocation,
        None,
    );
    match verified {
        Ok(path) => {
            let through = path.intermediate_certificates().count();
            report.chain = Check::Passed(format!(
                "leads to a root of {} through {through} intermediate certificate(s), all valid at {}",
                anchors.source,
                rfc3339(at)
            ));
            report.revocation = match &policy.crls {
                Some(c) => Check::Passed(format!(
                    "no certificate of the chain is revoked by the {} CRL(s) given",
                    c.len()
                )),
                None => Check::NotChecked("no --crl".to_owned()),
            };
        }
        Err(e) => {
            let revocation_error = matches!(
                e,
                webpki::Error::CertRevoked | webpki::Error::UnknownRevocationStatus
            );
            if revocation_error {
                report.chain = Check::Passed(format!("leads to a root of {}", anchors.source));
                report.revocation = Check::Failed(match e {
                    webpki::Error::CertRevoked => "a certificate of the chain is revoked".into(),
                    _ => "no CRL given covers every certificate of the chain (give the CRL of \
                          each issuing authority)"
                        .into(),
                });
            } else {
                report.chain = Check::Failed(chain_error(&e, at));
                report.revocation = Check::NotChecked("the chain failed".into());
            }
        }
    }
    report.name = match &policy.dns_name {
        None => Check::NotChecked("no --identity".to_owned()),
        Some(name) => match ServerName::try_from(name.as_str()) {
            Ok(server) => match leaf.verify_is_valid_for_subject_name(&server) {
                Ok(()) => Check::Passed(format!("the certificate is valid for {name}")),
                Err(_) => Check::Failed(format!(
                    "the certificate is not valid for {name} (it names [{}])",
                    report.certificate.dns_names.join(", ")
                )),
            },
            Err(_) => Check::Failed(format!("{name} is not a DNS name")),
        },
    };
    report
}

/// A chain error in words.
fn chain_error(e: &webpki::Error, at: u64) -> String {
    match e {
        webpki::Error::CertExpired { .. } => format!(
            "a certificate of the chain had expired at {} (use --at to check at another time)",
            rfc3339(at)
        ),
        webpki::Error::CertNotValidYet { .. } => format!(
            "a certificate of the chain was not yet valid at {} (use --at to check at another time)",
            rfc3339(at)
        ),
        webpki::Error::UnknownIssuer => {
            "no chain to the roots given (an unknown issuer, or intermediates missing from --key)"
                .to_owned()
        }
        webpki::Error::RequiredEkuNotFoundContext(_) => {
            "the certificate is not for TLS server authentication (extended key usage)".to_owned()
        }
        other => format!("the chain does not verify: {other}"),
    }
}

/// Parses a time given by a user (`--at`): RFC 3339 (`2026-04-13T00:00:00Z`) or a date
/// (`2026-04-13`, midnight UTC); returns Unix seconds.
pub fn parse_time(text: &str) -> Result<u64, String> {
    use time::format_description::well_known::Rfc3339;
    let t = time::OffsetDateTime::parse(text, &Rfc3339)
        .or_else(|_| {
            time::Date::parse(
                text,
                time::macros::format_description!("[year]-[month]-[day]"),
            )
            .map(|d| d.midnight().assume_utc())
        })
        .map_err(|_| format!("{text}: not a date (YYYY-MM-DD) or an RFC 3339 time"))?;
    u64::try_from(t.unix_timestamp()).map_err(|_| format!("{text}: before 1970"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_as_dates_or_rfc3339() {
        assert_eq!(parse_time("1970-01-02"), Ok(86_400));
        assert_eq!(parse_time("1970-01-01T00:01:00Z"), Ok(60));
        assert!(parse_time("yesterday").is_err());
        assert!(parse_time("1969-12-31").is_err());
    }

    #[test]
    fn identity_checks_without_roots_are_refused() {
        let mut policy = IdentityPolicy {
            dns_name: Some("sfomuseum.org".into()),
            ..Default::default()
        };
        assert!(policy.validate().unwrap_err().contains("--ca"));
        policy.anchors = Some(TrustAnchors::webpki_roots());
        assert_eq!(policy.validate(), Ok(()));
        policy.dns_name = Some("not a name!".into());
        assert!(policy.validate().is_err());
    }
}
