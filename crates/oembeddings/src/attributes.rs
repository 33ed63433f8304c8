//! The OEmbeddings attribute convention: the least metadata a shared embedding needs to show a
//! preview of what was embedded and to credit and link back to its provider.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::record::Attributes;
use crate::uri::is_absolute_uri;

/// Keys every OEmbeddings attribute set must hold.
pub const REQUIRED_KEYS: [&str; 7] = [
    "type",
    "preview",
    "subject_url",
    "subject_title",
    "subject_creditline",
    "provider_name",
    "provider_url",
];

/// What was embedded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AttributeType {
    /// An image; `preview` is then a URI of (a preview of) the image.
    Image,
    /// A text; `preview` is then the text (or an excerpt).
    Text,
}

impl AttributeType {
    /// The attribute value: `image` or `text`.
    pub fn as_str(self) -> &'static str {
        match self {
            AttributeType::Image => "image",
            AttributeType::Text => "text",
        }
    }
}

/// The OEmbeddings attributes of a record, parsed and checked.
///
/// Keys beyond the convention are kept in [`OEmbeddings::extra`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(
    title = "OEmbeddings",
    description = "OEmbeddings attributes of a record. All values are strings; extra keys are allowed.",
    transform = image_preview_is_uri
)]
pub struct OEmbeddings {
    /// What was embedded: `image` or `text`.
    #[serde(rename = "type")]
    pub kind: AttributeType,
    /// A URI of the image when `type` is `image`, else the embedded text. Never empty.
    #[schemars(length(min = 1))]
    pub preview: String,
    /// A web page (or resource) for the depiction. Optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String", url, length(min = 1))]
    pub depiction_url: Option<String>,
    /// A web page (or resource) for the subject of the depiction.
    #[schemars(url, length(min = 1))]
    pub subject_url: String,
    /// Title of the subject; may be empty.
    pub subject_title: String,
    /// Credit line or attribution of the subject; may be empty.
    pub subject_creditline: String,
    /// Name of the provider (holder) of the subject. Never empty.
    #[schemars(length(min = 1))]
    pub provider_name: String,
    /// Home page of the provider.
    #[schemars(url, length(min = 1))]
    pub provider_url: String,
    /// Attributes outside the convention, kept as they are.
    #[serde(flatten)]
    pub extra: BTreeMap<String, String>,
}

/// `preview` must be a URI when `type` is `image` (as in go-embeddingsdb's JSON Schema).
fn image_preview_is_uri(schema: &mut schemars::Schema) {
    schema.insert(
        "if".into(),
        serde_json::json!({
            "properties": { "type": { "const": "image" } },
            "required": ["type"]
        }),
    );
    schema.insert(
        "then".into(),
        serde_json::json!({
            "properties": { "preview": { "format": "uri" } },
            "required": ["preview"]
        }),
    );
}

/// One way in which attributes miss the OEmbeddings convention.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AttributeProblem {
    /// A required key is absent.
    Missing {
        /// The key.
        key: &'static str,
    },
    /// `type` is neither `image` nor `text`.
    InvalidType {
        /// The value found.
        value: String,
    },
    /// A key that must not be empty is empty.
    Empty {
        /// The key.
        key: &'static str,
    },
    /// A key that must hold an absolute URI does not.
    NotUri {
        /// The key.
        key: &'static str,
        /// The value found.
        value: String,
    },
}

impl AttributeProblem {
    /// The attribute key the problem is about.
    pub fn key(&self) -> &'static str {
        match self {
            AttributeProblem::Missing { key }
            | AttributeProblem::Empty { key }
            | AttributeProblem::NotUri { key, .. } => key,
            AttributeProblem::InvalidType { .. } => "type",
        }
    }
}

impl fmt::Display for AttributeProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttributeProblem::Missing { key } => write!(f, "required attribute '{key}' is missing"),
            AttributeProblem::InvalidType { value } => {
                write!(
                    f,
                    "attribute 'type' is {value:?}; expected \"image\" or \"text\""
                )
            }
            AttributeProblem::Empty { key } => write!(f, "attribute '{key}' must not be empty"),
            AttributeProblem::NotUri { key, value } => {
                write!(f, "attribute '{key}' is not an absolute URI: {value:?}")
            }
        }
    }
}

impl std::error::Error for AttributeProblem {}

impl OEmbeddings {
    /// Every way in which `attributes` miss the convention; empty when they conform.
    pub fn problems(attributes: &Attributes<'_>) -> Vec<AttributeProblem> {
        let mut problems = Vec::new();
        Self::check(attributes, |p| problems.push(p));
        problems
    }

    /// Calls `report` for every way in which `attributes` miss the convention, in a fixed
    /// order (type, missing keys, empty values, URIs). One pass over the entries and no
    /// allocation when they conform: validators call this for every record.
    pub fn check(attributes: &Attributes<'_>, mut report: impl FnMut(AttributeProblem)) {
        // The convention's keys in REQUIRED_KEYS order, then depiction_url; the last
        // occurrence of a key wins, as in a Go map.
        let mut slots: [Option<&str>; 8] = [None; 8];
        for (key, value) in attributes.iter() {
            let slot = match key {
                "type" => 0,
                "preview" => 1,
                "subject_url" => 2,
                "subject_title" => 3,
                "subject_creditline" => 4,
                "provider_name" => 5,
                "provider_url" => 6,
                "depiction_url" => 7,
                _ => continue,
            };
            slots[slot] = Some(value);
        }
        let [
            kind,
            preview,
            subject_url,
            _,
            _,
            provider_name,
            provider_url,
            depiction_url,
        ] = slots;
        match kind {
            None => report(AttributeProblem::Missing { key: "type" }),
            Some("image" | "text") => {}
            Some(other) => report(AttributeProblem::InvalidType {
                value: other.to_owned(),
            }),
        }
        for (key, slot) in REQUIRED_KEYS.iter().zip(slots).skip(1) {
            if slot.is_none() {
                report(AttributeProblem::Missing { key });
            }
        }
        for (key, slot) in [("preview", preview), ("provider_name", provider_name)] {
            if slot == Some("") {
                report(AttributeProblem::Empty { key });
            }
        }
        let image_preview = if kind == Some("image") {
            preview.filter(|p| !p.is_empty())
        } else {
            None
        };
        for (key, slot) in [
            ("subject_url", subject_url),
            ("provider_url", provider_url),
            ("depiction_url", depiction_url),
            ("preview", image_preview),
        ] {
            match slot {
                Some("") => report(AttributeProblem::Empty { key }),
                Some(value) if !is_absolute_uri(value) => report(AttributeProblem::NotUri {
                    key,
                    value: value.to_owned(),
                }),
                _ => {}
            }
        }
    }

    /// Parses and checks attributes; the first problem found is the error.
    pub fn from_attributes(attributes: &Attributes<'_>) -> Result<Self, AttributeProblem> {
        if let Some(problem) = Self::problems(attributes).into_iter().next() {
            return Err(problem);
        }
        let take = |key: &str| attributes.get(key).unwrap_or_default().to_owned();
        let kind = match attributes.get("type") {
            Some("image") => AttributeType::Image,
            _ => AttributeType::Text,
        };
        let extra = attributes
            .iter()
            .filter(|(k, _)| !REQUIRED_KEYS.contains(k) && *k != "depiction_url")
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        Ok(Self {
            kind,
            preview: take("preview"),
            depiction_url: attributes.get("depiction_url").map(str::to_owned),
            subject_url: take("subject_url"),
            subject_title: take("subject_title"),
            subject_creditline: take("subject_creditline"),
            provider_name: take("provider_name"),
            provider_url: take("provider_url"),
            extra,
        })
    }

    /// The attribute map of a record carrying these attributes.
    pub fn to_attributes(&self) -> BTreeMap<String, String> {
        let mut map = self.extra.clone();
        map.insert("type".into(), self.kind.as_str().into());
        map.insert("preview".into(), self.preview.clone());
        map.insert("subject_url".into(), self.subject_url.clone());
        map.insert("subject_title".into(), self.subject_title.clone());
        map.insert("subject_creditline".into(), self.subject_creditline.clone());
        map.insert("provider_name".into(), self.provider_name.clone());
        map.insert("provider_url".into(), self.provider_url.clone());
        if let Some(url) = &self.depiction_url {
            map.insert("depiction_url".into(), url.clone());
        }
        map
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image() -> BTreeMap<String, String> {
        [
            ("type", "image"),
            (
                "preview",
                "https://static.sfomuseum.org/media/152/785/892/3/1527858923_z.jpg",
            ),
            (
                "subject_url",
                "https://collection.sfomuseum.org/objects/1511924931/",
            ),
            (
                "subject_title",
                "San Francisco International Airport, postcard",
            ),
            ("subject_creditline", ""),
            ("provider_name", "SFO Museum"),
            ("provider_url", "x-sfomuseum:object:1846754371"),
            ("colour", "blue"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    #[test]
    fn conforming_attributes_round_trip() {
        let attrs = image();
        let oe = OEmbeddings::from_attributes(&Attributes::Map(&attrs)).unwrap();
        assert_eq!(oe.kind, AttributeType::Image);
        assert_eq!(oe.extra.get("colour").map(String::as_str), Some("blue"));
        assert_eq!(oe.to_attributes(), attrs);
    }

    #[test]
    fn every_problem_is_reported() {
        let mut attrs = image();
        attrs.remove("subject_title");
        attrs.insert("type".into(), "video".into());
        attrs.insert("provider_url".into(), "not a uri".into());
        attrs.insert("provider_name".into(), String::new());
        let problems = OEmbeddings::problems(&Attributes::Map(&attrs));
        assert_eq!(
            problems,
            vec![
                AttributeProblem::InvalidType {
                    value: "video".into()
                },
                AttributeProblem::Missing {
                    key: "subject_title"
                },
                AttributeProblem::Empty {
                    key: "provider_name"
                },
                AttributeProblem::NotUri {
                    key: "provider_url",
                    value: "not a uri".into()
                },
            ]
        );
    }

    #[test]
    fn text_preview_need_not_be_a_uri_but_image_preview_must() {
        let mut attrs = image();
        attrs.insert("preview".into(), "a postcard of the terminal".into());
        let problems = OEmbeddings::problems(&Attributes::Map(&attrs));
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].key(), "preview");
        attrs.insert("type".into(), "text".into());
        assert!(OEmbeddings::problems(&Attributes::Map(&attrs)).is_empty());
    }
}
