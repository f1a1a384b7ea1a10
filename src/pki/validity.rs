use super::Field;
use super::PkiError;

/// A certificate lifetime in whole days, as entered by the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ValidityDays(u32);

impl ValidityDays {
    /// The longest lifetime this tool issues: 30 years covers any root CA a fleet outlives.
    pub const MAX: u32 = 10_950;
    /// The seed guide's root CA lifetime (`-days 3650`).
    pub const SEED_ROOT: Self = Self(3650);
    /// The seed guide's device certificate lifetime (`-days 365`).
    pub const SEED_DEVICE: Self = Self(365);
    /// The seed guide's verification certificate lifetime (`-days 1`).
    pub const ONE_DAY: Self = Self(1);

    /// Checks a number of days.
    pub fn new(days: u32) -> Result<Self, PkiError> {
        match days {
            0 => Err(PkiError::ValidityZero),
            d if d > Self::MAX => Err(PkiError::ValidityTooLong {
                days: d,
                max: Self::MAX,
            }),
            d => Ok(Self(d)),
        }
    }

    /// Reads what the user typed in a validity field.
    pub fn parse(input: &str) -> Result<Self, PkiError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(PkiError::FieldEmpty {
                field: Field::ValidityDays,
            });
        }
        match trimmed.parse::<u64>() {
            Ok(d) => Self::new(u32::try_from(d).unwrap_or(u32::MAX)),
            Err(_) => Err(PkiError::ValidityNotANumber {
                input: trimmed.to_owned(),
            }),
        }
    }

    /// The number of days.
    pub fn days(self) -> u32 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validity_bounds_are_enforced() {
        assert_eq!(
            ValidityDays::parse(" 365 ").map(ValidityDays::days),
            Ok(365)
        );
        assert_eq!(ValidityDays::parse("0"), Err(PkiError::ValidityZero));
        assert_eq!(
            ValidityDays::parse("10951"),
            Err(PkiError::ValidityTooLong {
                days: 10951,
                max: ValidityDays::MAX
            })
        );
        assert_eq!(
            ValidityDays::parse("99999999999"),
            Err(PkiError::ValidityTooLong {
                days: u32::MAX,
                max: ValidityDays::MAX
            })
        );
        assert_eq!(
            ValidityDays::parse("-3"),
            Err(PkiError::ValidityNotANumber { input: "-3".into() })
        );
        assert_eq!(
            ValidityDays::parse(""),
            Err(PkiError::FieldEmpty {
                field: Field::ValidityDays
            })
        );
    }
}
