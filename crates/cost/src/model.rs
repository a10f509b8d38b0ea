//! The frame every cost model runs in.
//!
//! A [`Model`] names a resource type, the service line it appears under in
//! the monthly report, the usage figures it reads, and either a pricing
//! function or the reason the type costs nothing by itself. The pricing
//! function works through a [`Ctx`], which:
//!
//! - reads usage figures and records each one it used, with its source, so
//!   the estimate lists exactly what it assumed;
//! - resolves prices (a live [`PriceSource`] first, then the catalog, then
//!   the catalog's us-east-1 price with a note);
//! - reads properties, turning an intrinsic function or a wrong literal into
//!   an honest "unknown" rather than a guess or an error;
//! - multiplies with overflow checks, since usage and properties are input.

use infraguard_core::{CostComponent, Money, UsageAssumption};
use rust_decimal::Decimal;
use serde_json::Value;

use crate::catalog::{
    CATALOG_REGION, Price, PriceCatalog, PriceSource, SOURCE_MEMORY, SOURCE_PRICES_MD,
};
use crate::dec::dec;
use crate::usage::{MAX_USAGE, SOURCE_DEFAULT, Usage, UsageKey};

/// Hours in a month, the convention of AWS's calculator and Infracost.
pub(crate) const HOURS_PER_MONTH: Decimal = dec("730");
pub(crate) const THOUSAND: Decimal = dec("1000");
pub(crate) const TEN_THOUSAND: Decimal = dec("10000");
pub(crate) const MILLION: Decimal = dec("1000000");
pub(crate) const MIB_PER_GIB: Decimal = dec("1024");

/// How a type is priced.
pub(crate) enum Pricing {
    /// Priced from properties and usage.
    Priced(fn(&mut Ctx<'_>, &Value)),
    /// No charge for the resource itself; the text says why (and where the
    /// related charges land, if anywhere).
    Free(&'static str),
}

pub(crate) struct Model {
    pub type_name: &'static str,
    /// Line of the monthly report this type's cost is added to.
    pub service: &'static str,
    pub usage: &'static [UsageKey],
    pub pricing: Pricing,
}

pub(crate) const fn key(
    key: &'static str,
    unit: &'static str,
    default: &str,
    description: &'static str,
) -> UsageKey {
    UsageKey {
        key,
        unit,
        default: dec(default),
        description,
    }
}

/// Marker: the property could not be read; `Ctx` has already marked the
/// estimate unknown and said why.
pub(crate) struct Unreadable;

pub(crate) struct Ctx<'a> {
    region: &'a str,
    usage: &'a Usage,
    keys: &'static [UsageKey],
    live: Option<&'a dyn PriceSource>,
    pub components: Vec<CostComponent>,
    pub assumptions: Vec<UsageAssumption>,
    pub notes: Vec<String>,
    pub known: bool,
    fell_back: bool,
    unverified: Vec<String>,
    /// Keys priced by a live source, with that source's label.
    live_priced: Vec<(String, String)>,
}

impl<'a> Ctx<'a> {
    pub fn new(
        region: &'a str,
        usage: &'a Usage,
        keys: &'static [UsageKey],
        live: Option<&'a dyn PriceSource>,
    ) -> Self {
        Ctx {
            region,
            usage,
            keys,
            live,
            components: Vec::new(),
            assumptions: Vec::new(),
            notes: Vec::new(),
            known: true,
            fell_back: false,
            unverified: Vec::new(),
            live_priced: Vec::new(),
        }
    }

    /// The figure for a usage key (override or default), recorded once in
    /// the assumptions.
    pub fn usage(&mut self, key: &str) -> Decimal {
        let Some(spec) = self.keys.iter().find(|k| k.key == key) else {
            // A model reading a key it did not declare is a bug in this
            // crate; the unit tests run every model, so this stays unseen.
            self.unknown(format!(
                "internal: usage key `{key}` is not declared for this type"
            ));
            return Decimal::ZERO;
        };
        let (value, source) = match self.usage.get(key) {
            Some(v) => (v.value, v.source.clone()),
            None => (spec.default, SOURCE_DEFAULT.to_string()),
        };
        if !self.assumptions.iter().any(|a| a.key == key) {
            self.assumptions.push(UsageAssumption {
                key: key.to_string(),
                value: value.normalize(),
                unit: spec.unit.to_string(),
                source,
            });
        }
        value
    }

    fn resolve(&mut self, price_key: &str) -> Option<Price> {
        if let Some(live) = self.live
            && let Some(p) = live.price(price_key, self.region)
        {
            return Some(p);
        }
        let (p, fell_back) = PriceCatalog.lookup(price_key, self.region)?;
        self.fell_back |= fell_back;
        Some(p.clone())
    }

    /// Whether a price exists for `price_key` (to name an unknown class
    /// before charging anything for it).
    pub fn has_price(&self, price_key: &str) -> bool {
        self.live
            .and_then(|l| l.price(price_key, self.region))
            .is_some()
            || PriceCatalog.lookup(price_key, self.region).is_some()
    }

    /// Add a component: `quantity` in the price's unit times the price.
    pub fn charge(&mut self, name: impl Into<String>, price_key: &str, quantity: Decimal) {
        let name = name.into();
        let Some(price) = self.resolve(price_key) else {
            self.unknown(format!(
                "unknown price `{price_key}` for {name}: not included"
            ));
            return;
        };
        let Some(cost) = quantity.checked_mul(price.usd.0) else {
            self.unknown(format!("{name}: quantity {quantity} is too large to price"));
            return;
        };
        if price.source == SOURCE_MEMORY {
            self.unverified.push(price.key.to_string());
        } else if price.source != SOURCE_PRICES_MD {
            self.live_priced
                .push((price.source.to_string(), price.key.to_string()));
        }
        self.components.push(CostComponent {
            name,
            unit: price.unit.to_string(),
            monthly_quantity: quantity.normalize(),
            price: price.usd,
            monthly_cost: Money(cost.normalize()),
        });
    }

    /// Split `quantity` over tiers `(size, price key)`; the last tier's size
    /// is ignored (it takes the rest). The first tier is always shown, even
    /// at zero, so the reader sees the rate that applies.
    pub fn charge_tiers(&mut self, name: &str, tiers: &[(Decimal, &str, &str)], quantity: Decimal) {
        let mut left = quantity;
        for (i, (size, label, price_key)) in tiers.iter().enumerate() {
            let last = i + 1 == tiers.len();
            let here = if last { left } else { left.min(*size) };
            if i == 0 || here > Decimal::ZERO {
                self.charge(format!("{name} ({label})"), price_key, here);
            }
            left -= here;
            if left <= Decimal::ZERO {
                break;
            }
        }
    }

    /// `a * b`, or the estimate marked unknown when it overflows.
    pub fn mul(&mut self, a: Decimal, b: Decimal) -> Option<Decimal> {
        let product = a.checked_mul(b);
        if product.is_none() {
            self.unknown(format!("{a} × {b} is too large to compute"));
        }
        product
    }

    pub fn note(&mut self, note: impl Into<String>) {
        let note = note.into();
        if !self.notes.contains(&note) {
            self.notes.push(note);
        }
    }

    /// Something is missing: the total is a lower bound.
    pub fn unknown(&mut self, note: impl Into<String>) {
        self.known = false;
        self.note(note);
    }

    /// A string property, `Ok(None)` when absent.
    pub fn text<'v>(
        &mut self,
        props: &'v Value,
        pointer: &str,
    ) -> Result<Option<&'v str>, Unreadable> {
        match self.lookup(props, pointer)? {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(other) => Err(self.unreadable(pointer, other, "a string")),
        }
    }

    /// The value at `pointer`; when it is absent because an enclosing object
    /// is an intrinsic function (`"ProvisionedThroughput": {"Fn::If": …}`),
    /// that is unreadable too, not "absent".
    fn lookup<'v>(
        &mut self,
        props: &'v Value,
        pointer: &str,
    ) -> Result<Option<&'v Value>, Unreadable> {
        if let Some(v) = props.pointer(pointer) {
            return Ok(Some(v));
        }
        let mut parent = pointer;
        while let Some(cut) = parent.rfind('/') {
            parent = &parent[..cut];
            if parent.is_empty() {
                break;
            }
            if let Some(v) = props.pointer(parent).filter(|v| is_intrinsic(v)) {
                return Err(self.unreadable(parent, v, "an object"));
            }
        }
        Ok(None)
    }

    /// The length of a list property: 0 when absent.
    pub fn list_len(&mut self, props: &Value, pointer: &str) -> Result<usize, Unreadable> {
        match self.lookup(props, pointer)? {
            None | Some(Value::Null) => Ok(0),
            Some(Value::Array(items)) => Ok(items.len()),
            Some(other) => Err(self.unreadable(pointer, other, "a list")),
        }
    }

    /// A number property (a JSON number or a numeric string, as
    /// CloudFormation accepts both), `Ok(None)` when absent.
    pub fn number(&mut self, props: &Value, pointer: &str) -> Result<Option<Decimal>, Unreadable> {
        let parsed = match self.lookup(props, pointer)? {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Number(n)) => parse_decimal(&n.to_string()),
            Some(Value::String(s)) => parse_decimal(s),
            Some(_) => None,
        };
        match parsed {
            Some(d) if !d.is_sign_negative() && d <= MAX_USAGE => Ok(Some(d)),
            _ => {
                let value = props.pointer(pointer).unwrap_or(&Value::Null);
                Err(self.unreadable(pointer, value, "a number from 0 to 10^12"))
            }
        }
    }

    /// A boolean property (`true` or `"true"`), `Ok(None)` when absent.
    pub fn flag(&mut self, props: &Value, pointer: &str) -> Result<Option<bool>, Unreadable> {
        match self.lookup(props, pointer)? {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(other) => Err(self.unreadable(pointer, other, "true or false")),
        }
    }

    fn unreadable(&mut self, pointer: &str, value: &Value, expected: &str) -> Unreadable {
        let shown = value.to_string();
        let shown = if shown.chars().count() > 80 {
            format!("{}…", shown.chars().take(80).collect::<String>())
        } else {
            shown
        };
        let what = if is_intrinsic(value) {
            "not a literal value (an intrinsic function)".to_string()
        } else {
            format!("not {expected}")
        };
        self.unknown(format!(
            "property {} is {shown}, {what}: cannot price what depends on it",
            display_path(pointer)
        ));
        Unreadable
    }

    /// Close the estimate: region fallback and unverified-price notes.
    pub fn finish(mut self) -> infraguard_core::CostEstimate {
        if self.fell_back {
            self.note(format!(
                "no {} prices in the catalog: {CATALOG_REGION} prices used (AWS prices differ by region)",
                self.region
            ));
        }
        if !self.unverified.is_empty() {
            let mut keys = std::mem::take(&mut self.unverified);
            keys.dedup();
            self.note(format!(
                "prices from memory, not verified here: {}",
                keys.join(", ")
            ));
        }
        let mut sources: Vec<String> = self.live_priced.iter().map(|(s, _)| s.clone()).collect();
        sources.dedup();
        for source in sources {
            let keys: Vec<&str> = self
                .live_priced
                .iter()
                .filter(|(s, _)| *s == source)
                .map(|(_, k)| k.as_str())
                .collect();
            let note = format!("prices from {source}: {}", keys.join(", "));
            self.note(note);
        }
        let mut total = Decimal::ZERO;
        for c in &self.components {
            match total.checked_add(c.monthly_cost.0) {
                Some(t) => total = t,
                None => {
                    self.known = false;
                    self.notes.push("total is too large to compute".to_string());
                    break;
                }
            }
        }
        infraguard_core::CostEstimate {
            monthly_usd: Money(total.normalize()),
            breakdown: self.components,
            assumptions: self.assumptions,
            notes: self.notes,
            known: self.known,
        }
    }
}

/// `Fn::GetAtt`, `Ref`, `Fn::Sub`, ...: a value only CloudFormation knows.
fn is_intrinsic(value: &Value) -> bool {
    value.as_object().is_some_and(|o| {
        o.len() == 1
            && o.keys()
                .all(|k| k == "Ref" || k == "Condition" || k.starts_with("Fn::"))
    })
}

fn display_path(pointer: &str) -> String {
    pointer.trim_start_matches('/').replace('/', ".")
}

fn parse_decimal(text: &str) -> Option<Decimal> {
    use std::str::FromStr;
    let t = text.trim();
    Decimal::from_str(t)
        .ok()
        .or_else(|| Decimal::from_scientific(t).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    static KEYS: &[UsageKey] = &[key("storage_gb", "GB", "10", "stored")];

    #[test]
    fn unreadable_properties_make_the_estimate_unknown_with_the_path_named() {
        let usage = Usage::default();
        let mut ctx = Ctx::new("us-east-1", &usage, KEYS, None);
        let props = json!({"Class": {"Ref": "DbClass"}, "Size": "abc", "Multi": "yes", "N": "20",
            "Throughput": {"Fn::If": ["c", {"Read": 1}, {"Read": 2}]}, "List": [1, 2]});
        assert!(ctx.text(&props, "/Class").is_err());
        assert!(ctx.number(&props, "/Size").is_err());
        assert!(ctx.flag(&props, "/Multi").is_err());
        assert_eq!(ctx.number(&props, "/N").ok().flatten(), Some(dec("20")));
        assert_eq!(ctx.text(&props, "/Absent").ok().flatten(), None);
        assert!(ctx.number(&props, "/Throughput/Read").is_err());
        assert_eq!(ctx.list_len(&props, "/List").ok(), Some(2));
        assert_eq!(ctx.list_len(&props, "/Nothing").ok(), Some(0));
        assert!(ctx.list_len(&props, "/N").is_err());
        let est = ctx.finish();
        assert!(!est.known);
        assert!(
            est.notes[0].contains("Class") && est.notes[0].contains("intrinsic"),
            "{:?}",
            est.notes
        );
        assert!(
            est.notes[1].contains("\"abc\", not a number"),
            "{:?}",
            est.notes
        );
    }

    #[test]
    fn tiers_split_the_quantity_and_overflow_is_unknown_not_a_panic() {
        let usage = Usage::default();
        let mut ctx = Ctx::new("us-east-1", &usage, KEYS, None);
        ctx.charge_tiers(
            "Storage",
            &[
                (
                    dec("51200"),
                    "first 50 TB",
                    "s3.storage.standard.first_50tb",
                ),
                (dec("0"), "rest", "s3.storage.standard.next_450tb"),
            ],
            dec("60000"),
        );
        assert_eq!(ctx.components.len(), 2);
        assert_eq!(ctx.components[1].monthly_quantity, dec("8800"));
        assert!(ctx.mul(Decimal::MAX, dec("2")).is_none());
        ctx.charge("huge", "apigateway.rest.requests", Decimal::MAX);
        let est = ctx.finish();
        assert!(!est.known);
        assert_eq!(est.breakdown.len(), 2);
    }
}
