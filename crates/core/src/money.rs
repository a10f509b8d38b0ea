//! Money and cost estimates.
//!
//! Money is an exact decimal number of US dollars: prices such as
//! $0.0000166667 per GB-second must not be rounded before they are multiplied.

use std::fmt;
use std::ops::{Add, Mul};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// An exact amount of US dollars. Serialized as a decimal string (`"15.44"`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Money(pub Decimal);

impl Money {
    pub const ZERO: Money = Money(Decimal::ZERO);

    /// Parse a decimal string such as `"0.023"`.
    pub fn parse(s: &str) -> Option<Money> {
        s.trim()
            .trim_start_matches('$')
            .parse::<Decimal>()
            .ok()
            .map(Money)
    }

    pub fn from_cents(cents: i64) -> Money {
        Money(Decimal::new(cents, 2))
    }

    /// Rounded to cents, half away from zero, as accounting does.
    pub fn round_cents(self) -> Money {
        Money(
            self.0
                .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero),
        )
    }

    /// Exact value without trailing zeros, e.g. `0.0000166667`.
    pub fn to_exact_string(self) -> String {
        self.0.normalize().to_string()
    }

    pub fn as_f64(self) -> f64 {
        use rust_decimal::prelude::ToPrimitive;
        self.0.to_f64().unwrap_or(0.0)
    }
}

/// `$15.44`: rounded to cents.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "${:.2}", self.round_cents().0)
    }
}

impl Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        Money(self.0 + rhs.0)
    }
}

impl Mul<Decimal> for Money {
    type Output = Money;
    fn mul(self, rhs: Decimal) -> Money {
        Money(self.0 * rhs)
    }
}

impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, Add::add)
    }
}

/// One line of an estimate, shaped like an Infracost cost component.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CostComponent {
    pub name: String,
    /// Unit of `monthlyQuantity` (`GB`, `1k requests`, `hours`).
    pub unit: String,
    #[serde(rename = "monthlyQuantity")]
    pub monthly_quantity: Decimal,
    /// Price per unit.
    pub price: Money,
    #[serde(rename = "monthlyCost")]
    pub monthly_cost: Money,
}

/// A usage figure the estimate assumed, and where it came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UsageAssumption {
    /// Usage key (`storage_gb`, `monthly_requests`, ...).
    pub key: String,
    pub value: Decimal,
    pub unit: String,
    /// `default`, `usage file`, or `argument`.
    pub source: String,
}

/// The monthly cost of one resource.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CostEstimate {
    pub monthly_usd: Money,
    pub breakdown: Vec<CostComponent>,
    pub assumptions: Vec<UsageAssumption>,
    /// Caveats a reader must see (free type, region fallback, unknown price).
    pub notes: Vec<String>,
    /// False when no cost model covers the type: the total is then a lower
    /// bound of zero, and the gate treats the cost as unknown.
    pub known: bool,
}

impl CostEstimate {
    /// The value for the `CostEstimate` tag: `0.25 USD/month`.
    ///
    /// The seed writes `$0.25/month`, but `$` is outside the characters AWS
    /// allows in tag values (letters, digits, spaces, `_ . : / = + - @`), so
    /// real AWS would refuse the tag.
    pub fn tag_value(&self) -> String {
        if self.known {
            format!("{:.2} USD/month", self.monthly_usd.round_cents().0)
        } else {
            "unknown".to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_rounds_half_away_from_zero_for_display() {
        assert_eq!(Money::parse("15.445").unwrap().to_string(), "$15.45");
        assert_eq!(Money::parse("0.004").unwrap().to_string(), "$0.00");
        assert_eq!(
            Money::parse("0.0000166667").unwrap().to_exact_string(),
            "0.0000166667"
        );
    }

    #[test]
    fn money_serializes_as_decimal_string() {
        let m = Money::parse("15.44").unwrap();
        assert_eq!(serde_json::to_string(&m).unwrap(), "\"15.44\"");
    }
}
