//! The `timeouts` block (`create`, `update`, `delete`), as users of the
//! azuread and aws providers know it.

use std::time::Duration;

use super::schema::{Attribute, Block, NestedBlock, Nesting};
use super::validators::duration;
use super::value::TfValue;

/// The nested block resources with limits offer.
pub const BLOCK: &str = "timeouts";

/// The nested `timeouts` block with the given operations and their defaults (e.g.
/// `[("create", 20 min)]`), each an optional duration string.
pub fn timeouts_block(operations: &[(&str, Duration)]) -> NestedBlock {
    let mut block = Block::new("How long each operation may take, e.g. \"30m\" or \"1h\".");
    for (op, default) in operations {
        block = block.attribute(
            Attribute::string(*op)
                .optional()
                .describe(format!(
                    "Time limit for {op}, e.g. \"30m\"; {} when left out.",
                    human(*default)
                ))
                .validate(duration()),
        );
    }
    NestedBlock::new(BLOCK, Nesting::Single, block)
}

/// The timeout for `operation` from a resource value's `timeouts` block, or
/// `default` when it is not set (or the block is absent).
pub fn timeout_for(value: &TfValue, operation: &str, default: Duration) -> Duration {
    value
        .get_attr(BLOCK)
        .and_then(|t| t.get_attr(operation))
        .and_then(|v| v.as_str())
        .and_then(|s| parse_duration(s).ok())
        .unwrap_or(default)
}

/// `1h30m`, `45s`: how Terraform users write durations.
pub fn human(d: Duration) -> String {
    let secs = d.as_secs();
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 || out.is_empty() {
        out.push_str(&format!("{s}s"));
    }
    out
}

/// Parses a Go-style duration: one or more `<number><unit>` with units
/// `h`, `m`, `s`, `ms` (e.g. `1h30m`, `45m`, `2.5s`).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || {
        format!(
            "{text:?} is not a duration: use a number and a unit, such as \"30s\", \"45m\" or \"1h30m\"."
        )
    };
    if text.is_empty() {
        return Err(bad());
    }
    let mut total = 0f64;
    let mut rest = text;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        if num_len == 0 {
            return Err(bad());
        }
        let number: f64 = rest[..num_len].parse().map_err(|_| bad())?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            _ => return Err(bad()),
        };
        total += number * seconds;
        rest = &rest[unit_len..];
    }
    Ok(Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn parses_go_durations() {
        assert_eq!(parse_duration("45m").unwrap(), Duration::from_secs(2700));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("2.5s").unwrap(), Duration::from_millis(2500));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        for bad in ["", "10", "m", "1d", "1h-2m", "abc"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn timeout_for_reads_block_or_default() {
        let mut t = BTreeMap::new();
        t.insert("create".to_string(), TfValue::String("2m".into()));
        t.insert("delete".to_string(), TfValue::Null);
        let mut v = BTreeMap::new();
        v.insert(BLOCK.to_string(), TfValue::Object(t));
        let value = TfValue::Object(v);
        let d = Duration::from_secs(5);
        assert_eq!(timeout_for(&value, "create", d), Duration::from_secs(120));
        assert_eq!(timeout_for(&value, "delete", d), d);
        assert_eq!(timeout_for(&TfValue::Null, "create", d), d);
    }
}
