//! The JSON encoding of Terraform values (`RawState.json` and the `DynamicValue.json`
//! fallback), directed by a [`Type`].
//!
//! Same shapes as cty's JSON format: null is `null`, numbers are JSON numbers (kept exact: the
//! input is parsed by a small parser here that keeps number text, because serde_json without
//! `arbitrary_precision` would round big numbers to `f64`), lists/sets/tuples are arrays,
//! maps/objects are objects, a value at a `dynamic` position is `{"value":…,"type":…}`.
//! Unknown values cannot be represented.
//!
//! Like cty, decoding is lenient with primitives: a string may come as a JSON number or bool,
//! a number or bool as a JSON string (old state files contain such values).

mod decoder;
mod encoder;
mod parser;
#[cfg(test)]
mod tests;

use super::types::{CodecError, Type};
use super::value::TfValue;

/// Nesting limit for JSON input.
const MAX_DEPTH: usize = 128;

/// Options for [`decode_with`].
#[derive(Clone, Copy, Debug, Default)]
pub struct DecodeOptions {
    /// Drop object attributes the type does not know instead of failing (useful for stored
    /// state written by an older schema of the same version, as terraform-plugin-framework does).
    pub ignore_undefined_attributes: bool,
}

/// Decodes a JSON value of type `ty`.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<TfValue, CodecError> {
    decode_with(bytes, ty, DecodeOptions::default())
}

/// Decodes a JSON value of type `ty` with options.
pub fn decode_with(bytes: &[u8], ty: &Type, opts: DecodeOptions) -> Result<TfValue, CodecError> {
    let node = parser::parse(bytes)?;
    decoder::decode_node(node, ty, opts)
}

/// Encodes `value` as JSON according to `ty`; fails on unknown values.
pub fn encode(value: &TfValue, ty: &Type) -> Result<Vec<u8>, CodecError> {
    encoder::encode_all(value, ty)
}
