//! Enums with user-facing names: one table per enum gives its names, and from it come
//! `Display`, `FromStr`, `Serialize` and, behind a `clap` feature, `clap::ValueEnum`.

/// Implements an enum's names from one table: `ALL` and `name()`, `Display` and `FromStr`
/// (both the names; a wrong name is an [`UnknownName`](crate::error::UnknownName)), a
/// `Serialize` as the name and, when the calling crate's `clap` feature is on,
/// `clap::ValueEnum` with each variant's help line.
///
/// A variant may have aliases after its name (`L2 => "l2" | "euclidean", "..."`): `FromStr`
/// and clap accept them, and everything prints the name.
///
/// ```ignore
/// oembeddings::named_enum! {
///     /// The distance an index uses.
///     DistanceMetric, "distance metric",
///     Cosine => "cosine", "Cosine distance (zero vectors are refused).";
///     Euclidean => "euclidean", "Euclidean distance.";
/// }
/// ```
///
/// The calling crate needs `serde` as a dependency, and a `clap` feature that enables an
/// optional `clap` dependency.
#[macro_export]
macro_rules! named_enum {
    ($ty:ident, $what:literal,
     $($variant:ident => $name:literal $(| $alias:literal)*, $help:literal;)+) => {
        impl $ty {
            /// Every value, in the order the documentation lists them.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// The name users give: on the command line, in Python, in JSON output.
            pub fn name(self) -> &'static str {
                match self {
                    $($ty::$variant => $name),+
                }
            }
        }

        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.name())
            }
        }

        impl ::std::str::FromStr for $ty {
            type Err = $crate::error::UnknownName;

            fn from_str(s: &str) -> ::std::result::Result<Self, Self::Err> {
                $($(
                    if s == $alias {
                        return Ok($ty::$variant);
                    }
                )*)+
                $crate::error::UnknownName::find($what, s, Self::ALL, Self::name)
            }
        }

        impl ::serde::Serialize for $ty {
            fn serialize<S: ::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.name())
            }
        }

        #[cfg(feature = "clap")]
        impl ::clap::ValueEnum for $ty {
            fn value_variants<'a>() -> &'a [Self] {
                Self::ALL
            }

            fn to_possible_value(&self) -> ::std::option::Option<::clap::builder::PossibleValue> {
                let (help, aliases): (&str, &[&str]) = match self {
                    $($ty::$variant => ($help, &[$($alias),*])),+
                };
                Some(
                    ::clap::builder::PossibleValue::new(self.name())
                        .help(help)
                        .aliases(aliases.iter().copied()),
                )
            }
        }
    };
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    /// A test enum.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Colour {
        Red,
        DarkBlue,
    }

    crate::named_enum!(Colour, "colour",
        Red => "red", "Red.";
        DarkBlue => "dark-blue" | "navy" | "marine", "Dark blue.";
    );

    #[test]
    fn names_round_trip_and_wrong_names_list_the_right_ones() {
        for &colour in Colour::ALL {
            assert_eq!(colour.to_string().parse::<Colour>().unwrap(), colour);
        }
        assert_eq!(Colour::DarkBlue.to_string(), "dark-blue");
        assert_eq!("navy".parse::<Colour>().unwrap(), Colour::DarkBlue);
        assert_eq!("marine".parse::<Colour>().unwrap(), Colour::DarkBlue);
        assert_eq!(
            serde_json::to_string(&Colour::DarkBlue).unwrap(),
            "\"dark-blue\""
        );
        assert_eq!(
            "blue".parse::<Colour>().unwrap_err().to_string(),
            "unknown colour \"blue\"; expected one of red, dark-blue"
        );
    }
}
