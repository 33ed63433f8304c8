//! Attribute templates: text with `{name}` placeholders filled per record (`{objectID}` for the
//! Met's layout, `{idx}` and `{path}` for SkyPilot's parts).

/// A parsed template.
#[derive(Debug, Clone)]
pub(crate) struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone)]
enum Part {
    Text(String),
    Field(String),
}

impl Template {
    /// Parses `text`; a `{` without its `}` is kept as text.
    pub(crate) fn parse(text: &str) -> Self {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            let Some(close) = rest[open..].find('}') else {
                break;
            };
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_owned()));
            }
            parts.push(Part::Field(rest[open + 1..open + close].to_owned()));
            rest = &rest[open + close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        Self { parts }
    }

    /// The placeholders' names, in order.
    pub(crate) fn fields(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Field(name) => Some(name.as_str()),
            Part::Text(_) => None,
        })
    }

    /// Fills the template into `out` (cleared first), asking `value` for each placeholder.
    pub(crate) fn fill<'v>(
        &self,
        out: &mut String,
        mut value: impl FnMut(&str) -> Result<&'v str, String>,
    ) -> Result<(), String> {
        out.clear();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Field(name) => out.push_str(value(name)?),
            }
        }
        Ok(())
    }
}

/// Sets `key` to `value` in a map reused from record to record, reusing the stored string.
pub(crate) fn set(map: &mut std::collections::BTreeMap<String, String>, key: &str, value: &str) {
    match map.get_mut(key) {
        Some(slot) => {
            slot.clear();
            slot.push_str(value);
        }
        None => {
            map.insert(key.to_owned(), value.to_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn placeholders_are_found_and_filled() {
        let t = Template::parse("https://x/{objectID}/{Link Resource}.jpg");
        assert_eq!(
            t.fields().collect::<Vec<_>>(),
            ["objectID", "Link Resource"]
        );
        let mut out = String::new();
        t.fill(&mut out, |name| {
            Ok(if name == "objectID" { "7" } else { "r" })
        })
        .unwrap();
        assert_eq!(out, "https://x/7/r.jpg");
        assert_eq!(Template::parse("no braces").fields().count(), 0);
        let open = Template::parse("a{b");
        open.fill(&mut out, |_| Err("unused".into())).unwrap();
        assert_eq!(out, "a{b");
    }
}
