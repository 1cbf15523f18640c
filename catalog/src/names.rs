//! `names!`: an enum of fixed lower-case names (a status, a role, a kind), with its wire name
//! (the variant's in snake case), the list of all values, `Display`, and `FromStr` whose error
//! lists what is accepted. Every such vocabulary of the catalog is declared through it, so they
//! parse and print alike.

/// Declares `enum $name { $variant = "wire", … }` with serde names, `ALL`, `as_str`, `Display`
/// and `FromStr` (error `$error`, which says what was expected).
#[macro_export]
macro_rules! names {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident / $error:ident ($what:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        // The wire names are the variants' in snake case (what `rename_all` gives, and what the
        // OpenAPI document reads); `as_str` spells them out, and the catalog's tests check that
        // both agree for every vocabulary.
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize, utoipa::ToSchema,
        )]
        #[serde(rename_all = "snake_case")]
        $vis enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire),+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        #[doc = concat!("A name that is not a ", $what, ".")]
        #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
        #[error("unknown {} {:?} (expected {})", $what, .0, [$($wire),+].join(", "))]
        pub struct $error(pub String);

        impl std::str::FromStr for $name {
            type Err = $error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::ALL.iter().copied().find(|v| v.as_str() == s).ok_or_else(|| $error(s.to_string()))
            }
        }
    };
}

#[cfg(test)]
mod tests {
    crate::names! {
        /// A test vocabulary.
        pub enum Colour / UnknownColour ("colour") { Red = "red", LightBlue = "light_blue" }
    }

    #[test]
    fn names_round_trip_through_text_and_json() {
        for c in Colour::ALL {
            assert_eq!(c.as_str().parse::<Colour>(), Ok(*c));
            assert_eq!(serde_json::to_string(c).unwrap(), format!("\"{c}\""));
        }
        assert_eq!(serde_json::from_str::<Colour>("\"light_blue\"").unwrap(), Colour::LightBlue);
    }

    #[test]
    fn an_unknown_name_says_what_is_accepted() {
        let e = "green".parse::<Colour>().unwrap_err();
        assert_eq!(e.to_string(), "unknown colour \"green\" (expected red, light_blue)");
    }
}
