//! The msgpack encoding of Terraform values (`DynamicValue.msgpack`), directed by a [`Type`].
//!
//! Follows cty's msgpack format, which Terraform uses:
//! - null is `nil`; an unknown is any extension value: code 0 = plain unknown, code 12 = refined
//!   unknown whose payload is a msgpack map with integer keys (1 nullness, 2 string prefix,
//!   3/4 number lower/upper bound as `[number, inclusive]`, 5/6 collection length bounds);
//!   other codes are read as plain unknowns.
//! - numbers are ints, floats or decimal strings (arbitrary precision);
//! - lists, sets and tuples are arrays; maps and objects are maps keyed by string;
//! - a value at a `dynamic` position is `[type JSON as bin, value]`, except a null or unknown
//!   of unknown type, which is bare.

mod decoder;
mod encoder;
#[cfg(test)]
mod tests;

use super::types::{CodecError, Type};
use super::value::TfValue;

/// Nesting limit for decoding (types from the data itself, via `dynamic`, could otherwise nest
/// arbitrarily deep).
const MAX_DEPTH: usize = 128;

/// Extension code of a plain unknown.
const EXT_UNKNOWN: i8 = 0;
/// Extension code of a refined unknown.
const EXT_REFINED_UNKNOWN: i8 = 12;

const REFN_NULLNESS: i64 = 1;
const REFN_STRING_PREFIX: i64 = 2;
const REFN_NUMBER_LOWER: i64 = 3;
const REFN_NUMBER_UPPER: i64 = 4;
const REFN_LENGTH_LOWER: i64 = 5;
const REFN_LENGTH_UPPER: i64 = 6;

/// Decodes a msgpack value of type `ty`.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<TfValue, CodecError> {
    decoder::decode_all(bytes, ty)
}

/// Encodes `value` as msgpack according to `ty`.
pub fn encode(value: &TfValue, ty: &Type) -> Result<Vec<u8>, CodecError> {
    encoder::encode_all(value, ty)
}
