use super::*;
use crate::framework::value::UnknownRefinements;

fn n(s: &str) -> TfValue {
    TfValue::Number(s.parse().unwrap())
}

fn s(x: &str) -> TfValue {
    TfValue::string(x)
}

#[track_caller]
fn rt(v: &TfValue, ty: &Type) -> String {
    let bytes = encode(v, ty).unwrap_or_else(|e| panic!("encode {v:?}: {e}"));
    let text = String::from_utf8(bytes.clone()).unwrap();
    // the output is valid JSON
    serde_json::from_slice::<serde_json::Value>(&bytes)
        .unwrap_or_else(|e| panic!("invalid JSON {text}: {e}"));
    let back = decode(&bytes, ty).unwrap_or_else(|e| panic!("decode {text}: {e}"));
    assert_eq!(&back, v, "round trip through {text}");
    text
}

#[test]
fn primitives() {
    assert_eq!(
        rt(&s("a\"b\\c\n✓\u{1}"), &Type::String),
        r#""a\"b\\c\n✓\u0001""#
    );
    assert_eq!(rt(&TfValue::Bool(true), &Type::Bool), "true");
    assert_eq!(rt(&n("-12.5"), &Type::Number), "-12.5");
    for t in [
        Type::String,
        Type::Number,
        Type::Bool,
        Type::Dynamic,
        Type::list(Type::String),
    ] {
        assert_eq!(rt(&TfValue::Null, &t), "null");
    }
}

#[test]
fn numbers_keep_precision() {
    for text in [
        "123456789012345678901234567890",
        "0.1000000000000000000001",
        "18446744073709551616",
        "-9223372036854775809",
        "1e+100",
        "1.5e-100",
        "0",
    ] {
        assert_eq!(rt(&n(text), &Type::Number), text);
    }
    // input forms that JSON allows, normalized
    let d = |t: &str| decode(t.as_bytes(), &Type::Number).unwrap();
    assert_eq!(d("1.50"), n("1.5"));
    assert_eq!(d("1E3"), n("1000"));
    assert_eq!(d("-0"), n("0"));
    assert_eq!(
        d("123456789012345678901234567890.000000000000000000001"),
        n("123456789012345678901234567890.000000000000000000001")
    );
    // a number in a string (old states)
    assert_eq!(d(r#""42""#), n("42"));
}

#[test]
fn lenient_primitives_like_cty() {
    assert_eq!(decode(b"12", &Type::String).unwrap(), s("12"));
    assert_eq!(decode(b"true", &Type::String).unwrap(), s("true"));
    assert_eq!(
        decode(br#""false""#, &Type::Bool).unwrap(),
        TfValue::Bool(false)
    );
    assert!(decode(br#""yes""#, &Type::Bool).is_err());
    assert!(decode(br#""x1""#, &Type::Number).is_err());
}

fn state_type() -> Type {
    Type::object_with_optional(
        [
            ("id", Type::String),
            ("tags", Type::map(Type::String)),
            ("ports", Type::set(Type::Number)),
            (
                "api",
                Type::object([(
                    "scopes",
                    Type::list(Type::object([("value", Type::String)])),
                )]),
            ),
            ("pair", Type::Tuple(vec![Type::String, Type::Bool])),
            ("extra", Type::Dynamic),
        ],
        ["tags"],
    )
}

#[test]
fn structures_round_trip() {
    let ty = state_type();
    let v = TfValue::object([
        ("id", s("abc")),
        (
            "tags",
            TfValue::map([("env", s("prod")), ("team", TfValue::Null)]),
        ),
        ("ports", TfValue::Set(vec![n("443"), n("80")])),
        (
            "api",
            TfValue::object([(
                "scopes",
                TfValue::List(vec![TfValue::object([("value", s("read"))])]),
            )]),
        ),
        ("pair", TfValue::Tuple(vec![s("k"), TfValue::Bool(false)])),
        (
            "extra",
            TfValue::Dynamic(
                Type::object([("n", Type::Number), ("l", Type::list(Type::String))]),
                Box::new(TfValue::object([
                    ("n", n("0.1000000000000000000001")),
                    ("l", TfValue::List(vec![s("x")])),
                ])),
            ),
        ),
    ]);
    let text = rt(&v, &ty);
    assert!(text.contains(
        r#""extra":{"value":{"l":["x"],"n":0.1000000000000000000001},"type":["object",{"l":["list","string"],"n":"number"}]}"#
    ), "{text}");
    for attr in ["id", "tags", "ports", "api", "pair", "extra"] {
        let mut w = v.clone();
        *w.get_attr_mut(attr).unwrap() = TfValue::Null;
        rt(&w, &ty);
    }
    rt(
        &TfValue::Dynamic(
            Type::list(Type::Number),
            Box::new(TfValue::List(vec![n("1")])),
        ),
        &Type::Dynamic,
    );
    rt(
        &TfValue::Dynamic(Type::String, Box::new(TfValue::Null)),
        &Type::Dynamic,
    );
}

#[test]
fn decode_state_as_terraform_stores_it() {
    let ty = state_type();
    let text = r#" {
        "id": "abc",
        "ports": [80, 443],
        "api": {"scopes": [{"value": "read"}, {"value": null}]},
        "pair": ["k", true],
        "extra": {"type": "string", "value": "hi"},
        "tags": {"a": "\u00e9\ud83d\ude00"}
    } "#;
    let v = decode(text.as_bytes(), &ty).unwrap();
    assert_eq!(v.get_attr("id").unwrap().as_str(), Some("abc"));
    assert_eq!(
        v.get_attr("ports").unwrap(),
        &TfValue::Set(vec![n("80"), n("443")])
    );
    assert_eq!(
        v.get_attr("extra").unwrap(),
        &TfValue::Dynamic(Type::String, Box::new(s("hi")))
    );
    assert_eq!(
        v.get_attr("tags").unwrap().get_key("a").unwrap().as_str(),
        Some("é😀")
    );
    // missing attributes are null
    let v = decode(br#"{"id":"x"}"#, &ty).unwrap();
    assert!(v.get_attr("api").unwrap().is_null());
    // extra attributes: an error naming them, or dropped on request
    let e = decode(br#"{"id":"x","old":1,"older":{}}"#, &ty).unwrap_err();
    assert!(e.to_string().contains(r#""old", "older""#), "{e}");
    let v = decode_with(
        br#"{"id":"x","old":1}"#,
        &ty,
        DecodeOptions {
            ignore_undefined_attributes: true,
        },
    )
    .unwrap();
    assert_eq!(v.get_attr("id").unwrap().as_str(), Some("x"));
    assert!(v.get_attr("old").is_none());
}

#[test]
fn unknowns_cannot_be_encoded() {
    let ty = Type::object([("a", Type::list(Type::String))]);
    let v = TfValue::object([("a", TfValue::List(vec![s("x"), TfValue::unknown()]))]);
    let e = encode(&v, &ty).unwrap_err();
    assert_eq!(
        e,
        CodecError::Unknown {
            path: ".a[1]".into()
        }
    );
    let r = TfValue::unknown_refined(UnknownRefinements {
        nullness: Some(false),
        ..Default::default()
    });
    assert!(encode(&r, &Type::String).is_err());
}

#[test]
fn errors() {
    let ty = state_type();
    let e = decode(br#"{"api":{"scopes":[{"value":"a"},{"value":[]}]}}"#, &ty).unwrap_err();
    assert_eq!(
        e.to_string(),
        "at .api.scopes[1].value: expected string, found JSON array"
    );
    let e = decode(br#"{"tags":{"k":{}}}"#, &ty).unwrap_err();
    assert_eq!(e.path(), Some(r#".tags["k"]"#));
    let e = decode(br#"{"pair":["a"]}"#, &ty).unwrap_err();
    assert!(matches!(e, CodecError::Mismatch { .. }), "{e}");
    // bad UTF-8
    assert!(matches!(
        decode(b"\"\xff\"", &Type::String).unwrap_err(),
        CodecError::InvalidUtf8 { .. }
    ));
    // truncated
    for t in [
        "",
        "{",
        r#"{"id""#,
        r#"{"id":"#,
        r#"{"id":"ab"#,
        "[1,",
        "tru",
        r#""\u00"#,
        "-",
    ] {
        let e = decode(t.as_bytes(), &ty)
            .or_else(|_| decode(t.as_bytes(), &Type::list(Type::Number)))
            .or_else(|_| decode(t.as_bytes(), &Type::String))
            .or_else(|_| decode(t.as_bytes(), &Type::Bool))
            .unwrap_err();
        assert!(matches!(e, CodecError::Truncated { .. }), "{t:?}: {e}");
    }
    // malformed
    for t in [
        "01",
        "1.",
        ".5",
        "1e",
        "+1",
        "[1 2]",
        "{\"a\" 1}",
        "{a:1}",
        "nul",
        "\"\\x\"",
        "\"\\ud800\"",
        "\"a\nb\"",
        "[1,]",
        "NaN",
        "{\"a\":1,}",
    ] {
        assert!(decode(t.as_bytes(), &Type::Dynamic).is_err(), "{t}");
        assert!(
            decode(t.as_bytes(), &Type::list(Type::Number)).is_err(),
            "{t}"
        );
    }
    // trailing data, duplicates
    assert!(matches!(
        decode(b"1 2", &Type::Number).unwrap_err(),
        CodecError::TrailingData { count: 1 }
    ));
    assert!(decode(br#"{"id":"a","id":"b"}"#, &ty).is_err());
    assert!(decode(br#"{"a":"a","a":"b"}"#, &Type::map(Type::String)).is_err());
    // dynamic shape
    assert!(decode(br#"{"value":1}"#, &Type::Dynamic).is_err());
    assert!(decode(br#"{"type":"number"}"#, &Type::Dynamic).is_err());
    assert!(decode(br#"{"type":"nope","value":1}"#, &Type::Dynamic).is_err());
    assert!(decode(br#"{"type":"number","value":1,"x":2}"#, &Type::Dynamic).is_err());
    assert!(decode(b"1", &Type::Dynamic).is_err());
    // deep nesting is an error, not a stack overflow
    let deep = "[".repeat(100_000);
    assert!(decode(deep.as_bytes(), &Type::Dynamic).is_err());
}
