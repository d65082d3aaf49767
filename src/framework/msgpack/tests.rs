use super::*;
use crate::framework::types::CodecError;
use crate::framework::value::UnknownRefinements;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn n(s: &str) -> TfValue {
    TfValue::Number(s.parse().unwrap())
}

fn s(x: &str) -> TfValue {
    TfValue::string(x)
}

#[track_caller]
fn rt(v: &TfValue, ty: &Type) -> Vec<u8> {
    let bytes = encode(v, ty).unwrap_or_else(|e| panic!("encode {v:?}: {e}"));
    let back = decode(&bytes, ty).unwrap_or_else(|e| panic!("decode {bytes:02x?}: {e}"));
    assert_eq!(&back, v, "round trip through {bytes:02x?}");
    bytes
}

fn refined() -> UnknownRefinements {
    UnknownRefinements {
        nullness: Some(false),
        string_prefix: Some("https://".into()),
        number_lower: Some(("0".parse().unwrap(), true)),
        number_upper: Some(("0.1000000000000000000001".parse().unwrap(), false)),
        length_lower: Some(1),
        length_upper: Some(10),
    }
}

#[test]
fn primitives_round_trip() {
    assert_eq!(rt(&s("hello"), &Type::String), hex("a5 68656c6c6f"));
    assert_eq!(rt(&s(""), &Type::String), hex("a0"));
    rt(&s(&"x".repeat(300)), &Type::String);
    rt(&s("ünïcødé ✓"), &Type::String);
    assert_eq!(rt(&TfValue::Bool(true), &Type::Bool), hex("c3"));
    assert_eq!(rt(&TfValue::Bool(false), &Type::Bool), hex("c2"));
    for t in [Type::String, Type::Number, Type::Bool, Type::Dynamic] {
        assert_eq!(rt(&TfValue::Null, &t), hex("c0"));
        assert_eq!(rt(&TfValue::unknown(), &t), hex("d4 00 00"));
    }
}

#[test]
fn numbers_encoding() {
    assert_eq!(rt(&n("0"), &Type::Number), hex("00"));
    assert_eq!(rt(&n("1"), &Type::Number), hex("01"));
    assert_eq!(rt(&n("-1"), &Type::Number), hex("ff"));
    assert_eq!(rt(&n("300"), &Type::Number), hex("cd 012c"));
    assert_eq!(rt(&n("-200"), &Type::Number), hex("d1 ff38"));
    assert_eq!(
        rt(&n("9223372036854775807"), &Type::Number),
        hex("cf 7fffffffffffffff")
    );
    assert_eq!(
        rt(&n("-9223372036854775808"), &Type::Number),
        hex("d3 8000000000000000")
    );
    assert_eq!(
        rt(&n("18446744073709551615"), &Type::Number),
        hex("cf ffffffffffffffff")
    );
    // fractional, exactly representable as f64 (shortest form round-trips)
    assert_eq!(rt(&n("1.5"), &Type::Number), hex("cb 3ff8000000000000"));
    assert_eq!(rt(&n("0.1"), &Type::Number), hex("cb 3fb999999999999a"));
    // integral but beyond u64, and exact as f64
    assert_eq!(rt(&n("1e20"), &Type::Number), hex("cb 4415af1d78b58c40"));
    // arbitrary precision is kept as strings
    let big = "123456789012345678901234567890";
    let mut expect = vec![0xbe];
    expect.extend_from_slice(big.as_bytes());
    assert_eq!(rt(&n(big), &Type::Number), expect);
    let frac = "0.1000000000000000000001";
    let mut expect = vec![0xb8];
    expect.extend_from_slice(frac.as_bytes());
    assert_eq!(rt(&n(frac), &Type::Number), expect);
    rt(&n("-1e-300"), &Type::Number);
    rt(&n("1.7976931348623157e308"), &Type::Number);
    rt(&n("1e400"), &Type::Number);
}

#[test]
fn numbers_as_terraform_sends_them() {
    let ty = Type::Number;
    let d = |h: &str| decode(&hex(h), &ty).unwrap();
    assert_eq!(d("2a"), n("42"));
    assert_eq!(d("e0"), n("-32"));
    assert_eq!(d("cc ff"), n("255"));
    assert_eq!(d("cd ffff"), n("65535"));
    assert_eq!(d("ce ffffffff"), n("4294967295"));
    assert_eq!(d("cf ffffffffffffffff"), n("18446744073709551615"));
    assert_eq!(d("d0 80"), n("-128"));
    assert_eq!(d("d1 8000"), n("-32768"));
    assert_eq!(d("d2 80000000"), n("-2147483648"));
    assert_eq!(d("d3 8000000000000000"), n("-9223372036854775808"));
    // a non-negative value in a signed encoding
    assert_eq!(d("d3 0000000000000005"), n("5"));
    // float64 3.14 and float32 1.5
    assert_eq!(d("cb 40091eb851eb851f"), n("3.14"));
    assert_eq!(d("ca 3fc00000"), n("1.5"));
    // float64 that is integral
    assert_eq!(d("cb 4059000000000000"), n("100"));
    // decimal strings, including exponent form
    assert_eq!(d("a4 302e3235"), n("0.25"));
    assert_eq!(d("a4 31652b33"), n("1000"));
    // NaN / infinity / non-number strings are errors, not panics
    assert!(decode(&hex("cb 7ff8000000000000"), &ty).is_err());
    assert!(decode(&hex("cb 7ff0000000000000"), &ty).is_err());
    let e = decode(&hex("a3 616263"), &ty).unwrap_err();
    assert!(e.to_string().contains("not a number"), "{e}");
}

#[test]
fn collections_round_trip() {
    let lt = Type::list(Type::String);
    assert_eq!(
        rt(
            &TfValue::List(vec![s("a"), TfValue::Null, TfValue::unknown()]),
            &lt
        ),
        hex("93 a161 c0 d40000")
    );
    rt(&TfValue::List(vec![]), &lt);
    // set order is preserved
    let st = Type::set(Type::Number);
    rt(&TfValue::Set(vec![n("3"), n("1"), n("2")]), &st);
    let mt = Type::map(Type::Bool);
    assert_eq!(
        rt(
            &TfValue::map([("b", TfValue::Bool(true)), ("a", TfValue::Null)]),
            &mt
        ),
        hex("82 a161 c0 a162 c3")
    );
    let tt = Type::Tuple(vec![Type::String, Type::Number, Type::list(Type::Bool)]);
    rt(
        &TfValue::Tuple(vec![
            s("x"),
            n("1.25"),
            TfValue::List(vec![TfValue::Bool(true)]),
        ]),
        &tt,
    );
    rt(&TfValue::Tuple(vec![]), &Type::Tuple(vec![]));
    // nested: list(set(map(list(string))))
    let deep = Type::list(Type::set(Type::map(Type::list(Type::String))));
    rt(
        &TfValue::List(vec![
            TfValue::Set(vec![
                TfValue::map([("k", TfValue::List(vec![s("v"), TfValue::unknown()]))]),
                TfValue::Null,
                TfValue::unknown(),
            ]),
            TfValue::Null,
        ]),
        &deep,
    );
    // large collections use 16-bit length headers
    let many: Vec<TfValue> = (0..70000).map(|i| TfValue::number(i as i64)).collect();
    rt(&TfValue::List(many), &Type::list(Type::Number));
}

fn api_type() -> Type {
    Type::object_with_optional(
        [
            ("id", Type::String),
            ("display_name", Type::String),
            (
                "api",
                Type::object([(
                    "scopes",
                    Type::list(Type::object([("value", Type::String)])),
                )]),
            ),
            ("count", Type::Number),
        ],
        ["count"],
    )
}

#[test]
fn objects_round_trip() {
    let ty = api_type();
    let v = TfValue::object([
        ("id", TfValue::unknown()),
        ("display_name", s("x")),
        (
            "api",
            TfValue::object([(
                "scopes",
                TfValue::List(vec![
                    TfValue::object([("value", s("read"))]),
                    TfValue::object([("value", TfValue::Null)]),
                ]),
            )]),
        ),
        ("count", TfValue::Null),
    ]);
    rt(&v, &ty);
    for i in ["id", "display_name", "api", "count"] {
        let mut w = v.clone();
        *w.get_attr_mut(i).unwrap() = TfValue::Null;
        rt(&w, &ty);
        let at = ty.attribute_types().unwrap()[i].clone();
        *w.get_attr_mut(i).unwrap() = TfValue::unknown_refined(refined().for_type(&at));
        rt(&w, &ty);
    }
    rt(&TfValue::Null, &ty);
    rt(&TfValue::unknown(), &ty);
    // empty object
    assert_eq!(
        rt(
            &TfValue::object(Vec::<(String, TfValue)>::new()),
            &Type::object(Vec::<(String, Type)>::new())
        ),
        hex("80")
    );
    // attributes missing from the value are encoded as nil
    let bytes = encode(&TfValue::object([("display_name", s("x"))]), &ty).unwrap();
    let back = decode(&bytes, &ty).unwrap();
    assert!(back.get_attr("id").unwrap().is_null());
    assert_eq!(back.get_attr("display_name").unwrap().as_str(), Some("x"));
}

#[test]
fn object_as_terraform_sends_it() {
    // {"id": unknown (fixext1 type 0), "display_name": "x"}
    let ty = Type::object([("id", Type::String), ("display_name", Type::String)]);
    let bytes = hex("82 a2 6964 d4 00 00 ac 646973706c61795f6e616d65 a1 78");
    let v = decode(&bytes, &ty).unwrap();
    assert!(v.get_attr("id").unwrap().is_unknown());
    assert_eq!(v.get_attr("display_name").unwrap().as_str(), Some("x"));
    // key order does not matter; a missing attribute is null
    let bytes = hex("81 ac 646973706c61795f6e616d65 a1 78");
    let v = decode(&bytes, &ty).unwrap();
    assert!(v.get_attr("id").unwrap().is_null());
    // map16 header and str8 keys are fine too
    let bytes = hex("de 0001 d9 02 6964 d9 01 79");
    let v = decode(&bytes, &ty).unwrap();
    assert_eq!(v.get_attr("id").unwrap().as_str(), Some("y"));
    // unknown payloads of any size and extension codes other than 12
    for h in [
        "d5 00 0000",
        "c7 00 00",
        "c7 03 05 010203",
        "d8 01 00112233445566778899aabbccddeeff",
    ] {
        let bytes = [hex("81 a2 6964"), hex(h)].concat();
        let v = decode(&bytes, &ty).unwrap();
        assert_eq!(v.get_attr("id"), Some(&TfValue::unknown()), "{h}");
    }
}

#[test]
fn refined_unknowns() {
    // An unknown string as Terraform sends it: ext8 (c7), length 0x0d, type 12 (0c),
    // payload built by hand:
    // 82                      map of 2
    //   01 c2                 nullness: false (definitely not null)
    //   02 a8 68747470733a2f2f string prefix "https://"
    let payload = hex("82 01 c2 02 a8 68747470733a2f2f");
    assert_eq!(payload.len(), 0x0d);
    let bytes = [hex("c7 0d 0c"), payload].concat();
    let v = decode(&bytes, &Type::String).unwrap();
    let r = v.refinements().expect("refined");
    assert!(r.definitely_not_null());
    assert_eq!(r.string_prefix.as_deref(), Some("https://"));
    assert_eq!(r.number_lower, None);
    assert_eq!(r.length_lower, None);
    // An unknown list: {1: false, 5: 1, 6: 10}
    let v = decode(
        &hex("c7 07 0c 83 01 c2 05 01 06 0a"),
        &Type::list(Type::String),
    )
    .unwrap();
    let r = v.refinements().expect("refined");
    assert!(r.definitely_not_null());
    assert_eq!((r.length_lower, r.length_upper), (Some(1), Some(10)));
    // the same payload at a dynamic position: Terraform never refines those
    let v = decode(&hex("c7 07 0c 83 01 c2 05 01 06 0a"), &Type::Dynamic).unwrap();
    assert_eq!(v, TfValue::unknown());
    // number bounds: {3: [0, true], 4: [float64 2.5, false], 99: "ignored"}
    let payload = hex("83 03 92 00 c3 04 92 cb 4004000000000000 c2 63 a1 78");
    let bytes = [hex("c7"), vec![payload.len() as u8], hex("0c"), payload].concat();
    let v = decode(&bytes, &Type::Number).unwrap();
    let r = v.refinements().unwrap();
    assert_eq!(r.number_lower, Some(("0".parse().unwrap(), true)));
    assert_eq!(r.number_upper, Some(("2.5".parse().unwrap(), false)));
    // a big bound sent as a decimal string
    let v = decode(
        &hex(
            "c7 23 0c 81 04 92 be 313233343536373839303132333435363738393031323334353637383930 c3",
        ),
        &Type::Number,
    )
    .unwrap();
    assert_eq!(
        v.refinements().unwrap().number_upper,
        Some(("123456789012345678901234567890".parse().unwrap(), true))
    );
    // nullness only
    let v = decode(&hex("c7 03 0c 81 01 c2"), &Type::list(Type::String)).unwrap();
    assert!(v.refinements().unwrap().definitely_not_null());
    // a malformed or empty payload degrades to a plain unknown
    assert_eq!(
        decode(&hex("c7 01 0c 81"), &Type::String).unwrap(),
        TfValue::unknown()
    );
    assert_eq!(
        decode(&hex("d4 0c 80"), &Type::String).unwrap(),
        TfValue::unknown()
    );
    // values of an unexpected shape are ignored, the rest is kept
    let v = decode(&hex("c7 06 0c 82 01 a1 78 05 03"), &Type::set(Type::String)).unwrap();
    assert_eq!(v.refinements().unwrap().length_lower, Some(3));
    assert_eq!(v.refinements().unwrap().nullness, None);
    // round trip: the refinements that apply to each type survive; the others are dropped
    // (Terraform rejects e.g. a string prefix on a number) and dynamic gets none
    for ty in [
        Type::String,
        Type::Number,
        Type::list(Type::Bool),
        Type::set(Type::String),
        Type::map(Type::Number),
        Type::object([("a", Type::String)]),
        Type::Tuple(vec![Type::String]),
        Type::Bool,
        Type::Dynamic,
    ] {
        let applicable = refined().for_type(&ty);
        rt(&TfValue::unknown_refined(applicable.clone()), &ty);
        let bytes = encode(&TfValue::unknown_refined(refined()), &ty).unwrap();
        assert_eq!(
            decode(&bytes, &ty).unwrap(),
            TfValue::unknown_refined(applicable),
            "{ty}"
        );
    }
    assert_eq!(
        encode(&TfValue::unknown_refined(refined()), &Type::Dynamic).unwrap(),
        hex("d4 00 00")
    );
    let full = refined();
    let singles = [
        (
            Type::Bool,
            UnknownRefinements {
                nullness: full.nullness,
                ..Default::default()
            },
        ),
        (
            Type::String,
            UnknownRefinements {
                string_prefix: full.string_prefix.clone(),
                ..Default::default()
            },
        ),
        (
            Type::Number,
            UnknownRefinements {
                number_lower: full.number_lower.clone(),
                ..Default::default()
            },
        ),
        (
            Type::Number,
            UnknownRefinements {
                number_upper: full.number_upper.clone(),
                ..Default::default()
            },
        ),
        (
            Type::list(Type::String),
            UnknownRefinements {
                length_lower: full.length_lower,
                ..Default::default()
            },
        ),
        (
            Type::map(Type::String),
            UnknownRefinements {
                length_upper: full.length_upper,
                ..Default::default()
            },
        ),
    ];
    for (ty, r) in singles {
        rt(&TfValue::unknown_refined(r), &ty);
    }
    // long string prefixes are cut (Terraform limits the payload to 1 KiB)
    let long = UnknownRefinements {
        string_prefix: Some("é".repeat(600)),
        ..Default::default()
    };
    let bytes = encode(&TfValue::unknown_refined(long), &Type::String).unwrap();
    assert!(bytes.len() < 270, "{}", bytes.len());
    let back = decode(&bytes, &Type::String).unwrap();
    let prefix = back.refinements().unwrap().string_prefix.clone().unwrap();
    assert!(prefix.len() <= 255 && "é".repeat(600).starts_with(&prefix));
    // the exact encoding of a nullness-only refinement
    let bytes = encode(
        &TfValue::unknown_refined(UnknownRefinements {
            nullness: Some(false),
            ..Default::default()
        }),
        &Type::String,
    )
    .unwrap();
    assert_eq!(bytes, hex("c7 03 0c 81 01 c2"));
}

#[test]
fn dynamic_values() {
    // dynamic holding an object
    let ot = Type::object([("a", Type::String), ("b", Type::list(Type::Number))]);
    let v = TfValue::Dynamic(
        ot.clone(),
        Box::new(TfValue::object([
            ("a", s("x")),
            ("b", TfValue::List(vec![n("1"), n("2.5")])),
        ])),
    );
    rt(&v, &Type::Dynamic);
    // dynamic holding a list, inside an object attribute
    let outer = Type::object([("any", Type::Dynamic)]);
    let v = TfValue::object([(
        "any",
        TfValue::Dynamic(
            Type::list(Type::String),
            Box::new(TfValue::List(vec![s("p"), TfValue::unknown()])),
        ),
    )]);
    rt(&v, &outer);
    // dynamic with a typed null / typed unknown inside
    rt(
        &TfValue::Dynamic(Type::String, Box::new(TfValue::Null)),
        &Type::Dynamic,
    );
    rt(
        &TfValue::Dynamic(Type::Bool, Box::new(TfValue::unknown())),
        &Type::Dynamic,
    );
    // nested dynamic
    let inner_ty = Type::object([("d", Type::Dynamic)]);
    let v = TfValue::Dynamic(
        inner_ty.clone(),
        Box::new(TfValue::object([(
            "d",
            TfValue::Dynamic(Type::Number, Box::new(n("7"))),
        )])),
    );
    rt(&v, &Type::Dynamic);
    // exact bytes: ["string" as bin8, "hi"]
    let v = TfValue::Dynamic(Type::String, Box::new(s("hi")));
    assert_eq!(
        rt(&v, &Type::Dynamic),
        hex("92 c4 08 22737472696e6722 a2 6869")
    );
    // a plain value at a dynamic position gets its type inferred
    let bytes = encode(&s("hi"), &Type::Dynamic).unwrap();
    assert_eq!(bytes, hex("92 c4 08 22737472696e6722 a2 6869"));
    assert!(encode(&TfValue::List(vec![]), &Type::Dynamic).is_err());
}

#[test]
fn dynamic_as_terraform_sends_it() {
    // [bin8 `["list","string"]`, ["a"]]
    let tj = br#"["list","string"]"#;
    let bytes = [
        hex("92 c4"),
        vec![tj.len() as u8],
        tj.to_vec(),
        hex("91 a1 61"),
    ]
    .concat();
    let v = decode(&bytes, &Type::Dynamic).unwrap();
    assert_eq!(
        v,
        TfValue::Dynamic(
            Type::list(Type::String),
            Box::new(TfValue::List(vec![s("a")]))
        )
    );
    assert_eq!(v.as_elements().unwrap().len(), 1);
    // the type as a str instead of bin is accepted
    let bytes = [hex("92 b1"), tj.to_vec(), hex("91 a1 61")].concat();
    assert!(decode(&bytes, &Type::Dynamic).is_ok());
    // bare nil / unknown at a dynamic position
    assert_eq!(decode(&hex("c0"), &Type::Dynamic).unwrap(), TfValue::Null);
    assert_eq!(
        decode(&hex("d4 00 00"), &Type::Dynamic).unwrap(),
        TfValue::unknown()
    );
    // [type, nil]
    let bytes = hex("92 c4 08 22737472696e6722 c0");
    assert_eq!(
        decode(&bytes, &Type::Dynamic).unwrap(),
        TfValue::Dynamic(Type::String, Box::new(TfValue::Null))
    );
    // errors: wrong arity, bad type JSON, value not matching the carried type
    assert!(decode(&hex("91 c0"), &Type::Dynamic).is_err());
    assert!(decode(&hex("a1 61"), &Type::Dynamic).is_err());
    let e = decode(&hex("92 c4 03 6e6f70 c0"), &Type::Dynamic).unwrap_err();
    assert!(e.to_string().contains("invalid type"), "{e}");
    let e = decode(&hex("92 c4 08 22737472696e6722 01"), &Type::Dynamic).unwrap_err();
    assert!(matches!(e, CodecError::Mismatch { .. }), "{e}");
}

#[test]
fn errors_say_where() {
    let ty = api_type();
    // .api.scopes[1].value is an integer
    let bytes = encode(
        &TfValue::object([(
            "api",
            TfValue::object([(
                "scopes",
                TfValue::List(vec![
                    TfValue::object([("value", s("a"))]),
                    TfValue::object([("value", s("b"))]),
                ]),
            )]),
        )]),
        &ty,
    )
    .unwrap();
    let pos = bytes.windows(2).rposition(|w| w == [0xa1, b'b']).unwrap();
    let mut bad = bytes.clone();
    bad[pos] = 0x07;
    bad.remove(pos + 1);
    let e = decode(&bad, &ty).unwrap_err();
    assert_eq!(
        e.to_string(),
        "at .api.scopes[1].value: expected string, found msgpack integer"
    );
    assert_eq!(e.path(), Some(".api.scopes[1].value"));
    // wrong type at the root
    let e = decode(&hex("a1 61"), &Type::Bool).unwrap_err();
    assert_eq!(
        e.to_string(),
        "at (root): expected bool, found msgpack string"
    );
    // map keys appear in paths
    let e = decode(&hex("81 a1 6b a1 76"), &Type::map(Type::Number)).unwrap_err();
    assert_eq!(e.path(), Some(r#"["k"]"#));
    // extra attributes are named
    let ty2 = Type::object([("id", Type::String)]);
    let e = decode(
        &hex("83 a2 6964 c0 a1 78 93 01 02 03 a1 79 81 a1 61 c0"),
        &ty2,
    )
    .unwrap_err();
    assert_eq!(
        e,
        CodecError::UnexpectedAttributes {
            path: String::new(),
            names: vec!["x".into(), "y".into()],
            ty: "object({id=string})".into()
        }
    );
    // encode errors carry paths as well
    let e = encode(&TfValue::object([("id", TfValue::Bool(true))]), &ty2).unwrap_err();
    assert_eq!(e.to_string(), "at .id: expected string, found bool");
    let e = encode(&TfValue::object([("nope", TfValue::Null)]), &ty2).unwrap_err();
    assert!(e.to_string().contains("\"nope\""), "{e}");
    let e = encode(&TfValue::List(vec![s("a")]), &Type::set(Type::String)).unwrap_err();
    assert!(matches!(e, CodecError::Mismatch { .. }));
    let e = encode(
        &TfValue::Tuple(vec![s("a")]),
        &Type::Tuple(vec![Type::String, Type::String]),
    )
    .unwrap_err();
    assert!(matches!(e, CodecError::Mismatch { .. }));
}

#[test]
fn malformed_input_is_an_error_not_a_panic() {
    let ty = api_type();
    // bad UTF-8 in a string value and in a key
    let e = decode(&hex("a2 c328"), &Type::String).unwrap_err();
    assert!(matches!(e, CodecError::InvalidUtf8 { .. }), "{e}");
    let e = decode(&hex("81 a2 ff fe c0"), &ty).unwrap_err();
    assert!(matches!(e, CodecError::InvalidUtf8 { .. }), "{e}");
    // truncated inputs
    for h in [
        "",
        "a5 6865",
        "cd 01",
        "cb 3ff0",
        "92 01",
        "82 a2 6964 c0",
        "c7 05 00 01",
        "d4 00",
        "da 00",
        "dc 00",
        "92 c4 08 2273",
    ] {
        let e = decode(&hex(h), &Type::list(Type::Number))
            .or_else(|_| decode(&hex(h), &Type::String))
            .or_else(|_| decode(&hex(h), &ty))
            .or_else(|_| decode(&hex(h), &Type::Dynamic))
            .unwrap_err();
        assert!(
            matches!(
                e,
                CodecError::Truncated { .. } | CodecError::Mismatch { .. }
            ),
            "{h}: {e}"
        );
    }
    assert!(matches!(
        decode(&hex("a5 6865"), &Type::String).unwrap_err(),
        CodecError::Truncated { .. }
    ));
    // trailing data
    assert_eq!(
        decode(&hex("c3 c3"), &Type::Bool).unwrap_err(),
        CodecError::TrailingData { count: 1 }
    );
    // duplicate keys
    assert!(decode(&hex("82 a1 61 01 a1 61 02"), &Type::map(Type::Number)).is_err());
    assert!(decode(&hex("82 a2 6964 c0 a2 6964 c0"), &ty).is_err());
    // non-string map keys, tuple arity
    assert!(decode(&hex("81 01 02"), &Type::map(Type::Number)).is_err());
    assert!(
        decode(
            &hex("91 01"),
            &Type::Tuple(vec![Type::Number, Type::Number])
        )
        .is_err()
    );
    // reserved marker, huge declared lengths
    assert!(decode(&hex("c1"), &Type::Number).is_err());
    assert!(decode(&hex("dd ffffffff"), &Type::list(Type::Number)).is_err());
    assert!(decode(&hex("df ffffffff"), &Type::map(Type::Number)).is_err());
    assert!(decode(&hex("c6 ffffffff"), &Type::Dynamic).is_err());
    // deeply nested dynamic values hit the depth limit instead of the stack
    let mut bytes = Vec::new();
    for _ in 0..10_000 {
        bytes.extend(hex("92 c4 09 2264796e616d696322"));
    }
    bytes.push(0xc0);
    let e = decode(&bytes, &Type::Dynamic).unwrap_err();
    assert!(e.to_string().contains("nesting"), "{e}");
    // every prefix of a valid message fails cleanly
    let v = TfValue::object([
        ("id", s("abc")),
        ("display_name", TfValue::unknown_refined(refined())),
        ("count", n("0.1000000000000000000001")),
    ]);
    let good = encode(&v, &ty).unwrap();
    for i in 0..good.len() {
        assert!(decode(&good[..i], &ty).is_err(), "prefix {i}");
    }
}
