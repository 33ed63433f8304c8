//! What every crate of the workspace, the command line and the Python package share about
//! errors: one line of text per error, and the error of a name outside a closed set.

use std::fmt;

/// `message` on one line: each line's trailing spaces dropped, lines joined with a space.
///
/// Errors are printed one per line (the command line's `error:` lines, a Python exception's
/// message); a cause with several lines (an OpenPGP parser's context, Arrow's schema dumps)
/// would otherwise break that.
pub fn one_line(message: &str) -> String {
    message
        .split('\n')
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join(" ")
}

/// A name that is not one of a closed set: what `FromStr` of the workspace's named enums
/// (formats, metrics, profiles) returns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub struct UnknownName {
    /// What was being named, e.g. `format`.
    pub what: &'static str,
    /// The name given.
    pub given: String,
    /// The names accepted, in the order the documentation lists them.
    pub expected: Vec<&'static str>,
}

impl UnknownName {
    /// The item of `all` whose `name` is `given`, or an error listing every name.
    pub fn find<T: Copy>(
        what: &'static str,
        given: &str,
        all: &[T],
        name: impl Fn(T) -> &'static str,
    ) -> Result<T, UnknownName> {
        all.iter()
            .copied()
            .find(|&item| name(item) == given)
            .ok_or_else(|| UnknownName {
                what,
                given: given.to_owned(),
                expected: all.iter().map(|&item| name(item)).collect(),
            })
    }
}

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown {} {:?}; expected one of {}",
            self.what,
            self.given,
            self.expected.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn one_line_joins_lines_without_trailing_spaces() {
        assert_eq!(one_line("a  \nb\r\nc"), "a b c");
        assert_eq!(one_line("single"), "single");
    }

    #[test]
    fn unknown_names_list_the_known_ones() {
        let all = [1u8, 2];
        let name = |n: u8| if n == 1 { "one" } else { "two" };
        assert_eq!(UnknownName::find("number", "two", &all, name).unwrap(), 2);
        let e = UnknownName::find("number", "three", &all, name).unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown number \"three\"; expected one of one, two"
        );
    }
}
