//! Integration tests of the core against a real DuckDB database (files on disk and in memory).
//! One test binary, so DuckDB is linked once.

use datajoint_core::value::{date_from_ymd, parse_datetime};
use datajoint_core::*;

fn mem() -> Connection {
    Connection::open_duckdb(":memory:").unwrap()
}

fn code<T>(r: Result<T>) -> ErrorCode {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.code,
    }
}

const ALL_TYPES: &str = "
# every core type
id : int32
---
i8 = null : int8
i16 = null : int16
i64 = null : int64
f32 = null : float32
f64 = null : float64
flag = null : bool
price = null : decimal(10,2)
code = null : char(4)
label = null : varchar(64)
born = null : date
seen = null : datetime
seen6 = null : datetime(6)
blob = null : bytes
doc = null : json
uid = null : uuid
mood = null : enum('happy', 'sad', 'it''s ok')
";

fn full_row(id: i64) -> Row {
    Row::new()
        .with("id", id)
        .with("i8", Value::Int(-128))
        .with("i16", Value::Int(32767))
        .with("i64", Value::Int(i64::MIN))
        .with("f32", Value::Float(1.5))
        .with("f64", Value::Float(-2.25e300))
        .with("flag", true)
        .with("price", Value::Decimal("-12345678.90".into()))
        .with("code", "abcd")
        .with("label", "Grüße, 日本語 🎉")
        .with("born", Value::Date(date_from_ymd(1999, 12, 31).unwrap()))
        .with("seen", "2024-01-02 03:04:05")
        .with(
            "seen6",
            Value::Datetime(parse_datetime("2024-01-02T03:04:05.123456").unwrap()),
        )
        .with("blob", Value::Bytes(vec![0, 1, 2, 0, 255]))
        .with(
            "doc",
            Value::Json(r#"{"a": [1, 2, {"b": null}], "c": "d"}"#.into()),
        )
        .with("uid", "123e4567-e89b-12d3-a456-426614174000")
        .with("mood", "it's ok")
}

fn check_full_row(rs: &ResultSet, i: usize, id: i64) {
    let r = rs.row(i);
    assert_eq!(r.get("id"), Some(&Value::Int(id)));
    assert_eq!(r.get("i8"), Some(&Value::Int(-128)));
    assert_eq!(r.get("i16"), Some(&Value::Int(32767)));
    assert_eq!(r.get("i64"), Some(&Value::Int(i64::MIN)));
    assert_eq!(r.get("f32"), Some(&Value::Float(1.5)));
    assert_eq!(r.get("f64"), Some(&Value::Float(-2.25e300)));
    assert_eq!(r.get("flag"), Some(&Value::Bool(true)));
    assert_eq!(r.get("price"), Some(&Value::Decimal("-12345678.90".into())));
    assert_eq!(r.get("code"), Some(&Value::String("abcd".into())));
    assert_eq!(
        r.get("label"),
        Some(&Value::String("Grüße, 日本語 🎉".into()))
    );
    assert_eq!(
        r.get("born"),
        Some(&Value::Date(date_from_ymd(1999, 12, 31).unwrap()))
    );
    assert_eq!(
        r.get("seen"),
        Some(&Value::Datetime(
            parse_datetime("2024-01-02 03:04:05").unwrap()
        ))
    );
    assert_eq!(
        r.get("seen6"),
        Some(&Value::Datetime(
            parse_datetime("2024-01-02 03:04:05.123456").unwrap()
        ))
    );
    assert_eq!(r.get("blob"), Some(&Value::Bytes(vec![0, 1, 2, 0, 255])));
    let doc: serde_json::Value = match r.get("doc") {
        Some(Value::Json(s)) => serde_json::from_str(s).unwrap(),
        other => panic!("doc: {other:?}"),
    };
    assert_eq!(doc, serde_json::json!({"a": [1, 2, {"b": null}], "c": "d"}));
    let u = uuid::Uuid::parse_str("123e4567-e89b-12d3-a456-426614174000").unwrap();
    assert_eq!(r.get("uid"), Some(&Value::Uuid(*u.as_bytes())));
    assert_eq!(r.get("mood"), Some(&Value::String("it's ok".into())));
}

#[test]
fn every_type_round_trips_through_rows_and_columns() {
    let c = mem();
    let s = c.schema("types", true).unwrap();
    let t = s.declare("AllTypes", Tier::Manual, ALL_TYPES).unwrap();
    assert_eq!(t.name(), "all_types");
    assert_eq!(t.heading().comment, "every core type");
    // rows path, with a row of NULLs
    t.insert1(&full_row(1), InsertOptions::default()).unwrap();
    t.insert1(&Row::new().with("id", 2), InsertOptions::default())
        .unwrap();
    // columnar path from owned columns built by fetching the row back
    let rs = t
        .restrict_key(&Row::new().with("id", 1))
        .unwrap()
        .fetch(&FetchOptions::default())
        .unwrap();
    check_full_row(&rs, 0, 1);
    let mut cols: Vec<(String, Column)> = rs
        .attributes
        .iter()
        .zip(&rs.columns)
        .map(|(a, c)| (a.name.clone(), c.clone()))
        .collect();
    cols[0].1.data = ColumnData::Int32(vec![3]);
    t.insert_owned_columns(&cols, InsertOptions::default())
        .unwrap();
    let rs = t
        .fetch(&FetchOptions {
            order_by: Some("id".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(rs.nrows, 3);
    check_full_row(&rs, 0, 1);
    check_full_row(&rs, 2, 3);
    let nulls = rs.row(1);
    for (name, v) in &nulls.values {
        if name != "id" {
            assert_eq!(v, &Value::Null, "{name}");
        }
    }
    // extreme integers and float special values
    let t2 = s
        .declare(
            "Ints",
            Tier::Manual,
            "a : int8\nb : int16\nc : int32\nd : int64\n---\ne = null : float32",
        )
        .unwrap();
    for (a, b, cc, d) in [
        (i8::MIN as i64, i16::MIN as i64, i32::MIN as i64, i64::MIN),
        (i8::MAX as i64, i16::MAX as i64, i32::MAX as i64, i64::MAX),
    ] {
        t2.insert1(
            &Row::new()
                .with("a", a)
                .with("b", b)
                .with("c", cc)
                .with("d", d)
                .with("e", f64::NAN),
            InsertOptions::default(),
        )
        .unwrap();
    }
    let rs = t2
        .fetch(&FetchOptions {
            order_by: Some("a".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(rs.row(0).get("d"), Some(&Value::Int(i64::MIN)));
    assert_eq!(rs.row(1).get("d"), Some(&Value::Int(i64::MAX)));
    assert_eq!(
        rs.row(1).get("e"),
        Some(&Value::Null),
        "NaN is stored as NULL"
    );
}

#[test]
fn values_are_validated_against_the_heading() {
    let c = mem();
    let s = c.schema("val", true).unwrap();
    let t = s.declare("AllTypes", Tier::Manual, ALL_TYPES).unwrap();
    let bad: Vec<(&str, Value, ErrorCode)> = vec![
        ("i8", Value::Int(128), ErrorCode::Type),
        ("i16", Value::Int(-32769), ErrorCode::Type),
        ("i8", Value::Float(1.5), ErrorCode::Type),
        ("i64", Value::Float(9.25e18), ErrorCode::Type),
        ("i64", Value::Float(-9.3e18), ErrorCode::Type),
        ("i8", Value::String("1".into()), ErrorCode::Type),
        ("f32", Value::Float(1e300), ErrorCode::Type),
        ("flag", Value::Int(2), ErrorCode::Type),
        (
            "price",
            Value::Decimal("123456789.00".into()),
            ErrorCode::Type,
        ),
        ("price", Value::Decimal("1.234".into()), ErrorCode::Type),
        ("price", Value::Decimal("abc".into()), ErrorCode::Type),
        ("code", Value::String("abcde".into()), ErrorCode::Type),
        ("born", Value::String("1999-02-30".into()), ErrorCode::Type),
        ("seen", Value::String("yesterday".into()), ErrorCode::Type),
        ("blob", Value::String("text".into()), ErrorCode::Type),
        ("doc", Value::Json("{bad json".into()), ErrorCode::Type),
        ("uid", Value::String("not-a-uuid".into()), ErrorCode::Type),
        ("uid", Value::Bytes(vec![1, 2, 3]), ErrorCode::Type),
        ("mood", Value::String("angry".into()), ErrorCode::Type),
        ("nonexistent", Value::Int(1), ErrorCode::UnknownAttribute),
    ];
    for (name, v, expected) in bad {
        let row = Row::new().with("id", 1).with(name, v.clone());
        let err = t.insert1(&row, InsertOptions::default()).unwrap_err();
        assert_eq!(err.code, expected, "{name} = {v:?}: {}", err.message);
        assert!(
            err.message.contains(name),
            "message names the attribute: {}",
            err.message
        );
        assert!(
            err.message.contains("all_types"),
            "message names the table: {}",
            err.message
        );
    }
    assert_eq!(t.count().unwrap(), 0);
    // NULL into a non-nullable attribute, missing key
    assert_eq!(
        code(t.insert1(
            &Row::new().with("id", Value::Null),
            InsertOptions::default()
        )),
        ErrorCode::Type
    );
    assert_eq!(
        code(t.insert1(&Row::new().with("label", "x"), InsertOptions::default())),
        ErrorCode::InvalidArgument
    );
    // ignore_extra_fields
    t.insert1(
        &Row::new().with("id", 1).with("extra", 5),
        InsertOptions {
            ignore_extra_fields: true,
            ..Default::default()
        },
    )
    .unwrap();
    // accepted conversions: integral float to int, int to decimal/float, numeric decimal text
    t.insert1(
        &Row::new()
            .with("id", 2.0)
            .with("i8", 5.0)
            .with("price", Value::Int(7))
            .with("f64", Value::Int(3)),
        InsertOptions::default(),
    )
    .unwrap();
    let r = t
        .restrict_key(&Row::new().with("id", 2))
        .unwrap()
        .fetch1(&FetchOptions::default())
        .unwrap()
        .row(0);
    assert_eq!(r.get("price"), Some(&Value::Decimal("7.00".into())));
    assert_eq!(r.get("f64"), Some(&Value::Float(3.0)));
}

#[test]
fn restrictions_fetch_options_and_delete() {
    let c = mem();
    let s = c.schema("q", true).unwrap();
    let t = s
        .declare(
            "Item",
            Tier::Manual,
            "item_id : int32\n---\nname : varchar(20)\nweight = null : float64",
        )
        .unwrap();
    let rows: Vec<Row> = (0..10)
        .map(|i| {
            Row::new()
                .with("item_id", i)
                .with("name", format!("item{}", i % 3))
                .with(
                    "weight",
                    if i == 9 {
                        Value::Null
                    } else {
                        Value::Float(i as f64 / 2.0)
                    },
                )
        })
        .collect();
    assert_eq!(t.insert_rows(&rows, InsertOptions::default()).unwrap(), 10);
    assert_eq!(t.count().unwrap(), 10);
    let by_key = t
        .restrict_key(&Row::new().with("item_id", 3).with("unrelated", 1))
        .unwrap();
    assert_eq!(by_key.count().unwrap(), 1);
    let by_null = t
        .restrict_key(&Row::new().with("weight", Value::Null))
        .unwrap();
    assert_eq!(by_null.count().unwrap(), 1);
    let by_keys = t
        .restrict_keys(&[
            Row::new().with("item_id", 1),
            Row::new().with("item_id", 2),
            Row::new().with("item_id", 99),
        ])
        .unwrap();
    assert_eq!(by_keys.count().unwrap(), 2);
    assert_eq!(t.restrict_keys(&[]).unwrap().count().unwrap(), 0);
    let by_sql = t.restrict_sql("weight > 2 AND name <> 'item0'").unwrap();
    assert_eq!(by_sql.count().unwrap(), 3); // 5, 7, 8
    let chained = by_sql.restrict_sql("item_id < 8").unwrap();
    assert_eq!(chained.count().unwrap(), 2);
    assert_eq!(t.exclude_sql("item_id < 8").unwrap().count().unwrap(), 2);
    assert_eq!(
        t.exclude_key(&Row::new().with("item_id", 0))
            .unwrap()
            .count()
            .unwrap(),
        9
    );
    // a wrongly typed key value is an error, not an empty match
    assert_eq!(
        code(t.restrict_key(&Row::new().with("item_id", "x"))),
        ErrorCode::Type
    );
    // order, limit, offset, attributes
    let rs = t
        .fetch(&FetchOptions {
            attributes: Some(vec!["name".into(), "KEY".into()]),
            order_by: Some("name DESC, item_id".into()),
            limit: Some(3),
            offset: Some(1),
        })
        .unwrap();
    assert_eq!(
        rs.attributes
            .iter()
            .map(|a| a.name.as_str())
            .collect::<Vec<_>>(),
        ["name", "item_id"]
    );
    let ids: Vec<Value> = (0..rs.nrows)
        .map(|i| rs.row(i).get("item_id").unwrap().clone())
        .collect();
    assert_eq!(ids, [Value::Int(5), Value::Int(8), Value::Int(1)]);
    let keys = t
        .keys(&FetchOptions {
            order_by: Some("KEY DESC".into()),
            limit: Some(2),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(keys.attributes.len(), 1);
    assert_eq!(keys.row(0).get("item_id"), Some(&Value::Int(9)));
    assert_eq!(
        code(t.fetch(&FetchOptions {
            attributes: Some(vec!["nope".into()]),
            ..Default::default()
        })),
        ErrorCode::UnknownAttribute
    );
    assert_eq!(
        code(t.fetch(&FetchOptions {
            order_by: Some("nope".into()),
            ..Default::default()
        })),
        ErrorCode::UnknownAttribute
    );
    assert_eq!(
        code(t.fetch(&FetchOptions {
            order_by: Some("name; DROP".into()),
            ..Default::default()
        })),
        ErrorCode::InvalidArgument
    );
    // fetch1
    assert_eq!(by_key.fetch1(&FetchOptions::default()).unwrap().nrows, 1);
    assert_eq!(
        code(
            t.restrict_key(&Row::new().with("item_id", 42))
                .unwrap()
                .fetch1(&FetchOptions::default())
        ),
        ErrorCode::NotFound
    );
    assert_eq!(
        code(by_keys.fetch1(&FetchOptions::default())),
        ErrorCode::NotUnique
    );
    // bad SQL restriction is a backend error naming the table
    let e = t
        .restrict_sql("no_such_column = 1")
        .unwrap()
        .count()
        .unwrap_err();
    assert!(e.message.contains("item"), "{}", e.message);
    // delete
    assert_eq!(by_sql.delete().unwrap(), 3);
    assert_eq!(t.count().unwrap(), 7);
    assert_eq!(t.delete().unwrap(), 7);
    assert_eq!(t.count().unwrap(), 0);
}

#[test]
fn batches_are_atomic_and_duplicates_are_handled() {
    let c = mem();
    let s = c.schema("atomic", true).unwrap();
    let t = s
        .declare(
            "Trial",
            Tier::Manual,
            "trial : int32\n---\nvalue : int8\nnote = 'none' : varchar(10)",
        )
        .unwrap();
    // row k invalid (out of range): nothing is written, the error names row k
    let ids: Vec<i32> = (0..100).collect();
    let mut vals: Vec<i64> = vec![1; 100];
    vals[50] = 1000;
    let cols = [
        InputColumn {
            name: "trial",
            data: InputData::Int32(&ids),
            validity: None,
        },
        InputColumn {
            name: "value",
            data: InputData::Int64(&vals),
            validity: None,
        },
    ];
    let e = t
        .insert_columns(&cols, 100, InsertOptions::default())
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Type);
    assert!(e.message.contains("row 50"), "{}", e.message);
    assert_eq!(t.count().unwrap(), 0);
    // duplicate inside the batch: detected by the database, whole batch rolled back
    let mut dup_ids = ids.clone();
    dup_ids[70] = 3;
    vals[50] = 1;
    let cols = [
        InputColumn {
            name: "trial",
            data: InputData::Int32(&dup_ids),
            validity: None,
        },
        InputColumn {
            name: "value",
            data: InputData::Int64(&vals),
            validity: None,
        },
    ];
    assert_eq!(
        code(t.insert_columns(&cols, 100, InsertOptions::default())),
        ErrorCode::Duplicate
    );
    assert_eq!(t.count().unwrap(), 0);
    // a good batch; default applied for the omitted attribute
    let cols = [
        InputColumn {
            name: "trial",
            data: InputData::Int32(&ids[..10]),
            validity: None,
        },
        InputColumn {
            name: "value",
            data: InputData::Int64(&vals[..10]),
            validity: None,
        },
    ];
    assert_eq!(
        t.insert_columns(&cols, 10, InsertOptions::default())
            .unwrap(),
        10
    );
    let r = t
        .restrict_key(&Row::new().with("trial", 0))
        .unwrap()
        .fetch1(&FetchOptions::default())
        .unwrap();
    assert_eq!(r.row(0).get("note"), Some(&Value::String("none".into())));
    // duplicate against existing rows
    let one = Row::new().with("trial", 5).with("value", 9);
    assert_eq!(
        code(t.insert1(&one, InsertOptions::default())),
        ErrorCode::Duplicate
    );
    // skip_duplicates: existing kept, new inserted
    let rows = vec![one.clone(), Row::new().with("trial", 50).with("value", 9)];
    let n = t
        .insert_rows(
            &rows,
            InsertOptions {
                skip_duplicates: true,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(n, 1);
    let v = |id: i32| {
        t.restrict_key(&Row::new().with("trial", id))
            .unwrap()
            .fetch1(&FetchOptions::default())
            .unwrap()
            .row(0)
            .get("value")
            .cloned()
    };
    assert_eq!(v(5), Some(Value::Int(1)));
    // replace: existing updated
    t.insert_rows(
        &rows,
        InsertOptions {
            replace: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(v(5), Some(Value::Int(9)));
    assert_eq!(t.count().unwrap(), 11);
    // rows with different attribute sets
    let mixed = vec![
        Row::new().with("trial", 60).with("value", 1),
        Row::new().with("trial", 61),
    ];
    assert_eq!(
        code(t.insert_rows(&mixed, InsertOptions::default())),
        ErrorCode::InvalidArgument
    );
    // mismatched column lengths and bad offsets
    let cols = [
        InputColumn {
            name: "trial",
            data: InputData::Int32(&ids[..3]),
            validity: None,
        },
        InputColumn {
            name: "value",
            data: InputData::Int64(&vals[..2]),
            validity: None,
        },
    ];
    assert_eq!(
        code(t.insert_columns(&cols, 3, InsertOptions::default())),
        ErrorCode::InvalidArgument
    );
    let bad_offsets = [0i64, 5, 2];
    let cols = [
        InputColumn {
            name: "trial",
            data: InputData::Int32(&ids[80..82]),
            validity: None,
        },
        InputColumn {
            name: "value",
            data: InputData::Int64(&vals[..2]),
            validity: None,
        },
        InputColumn {
            name: "note",
            data: InputData::String {
                offsets: &bad_offsets,
                bytes: b"hello",
            },
            validity: None,
        },
    ];
    assert_eq!(
        code(t.insert_columns(&cols, 2, InsertOptions::default())),
        ErrorCode::InvalidArgument
    );
    let bad_utf8 = [0i64, 2];
    let cols = [
        InputColumn {
            name: "trial",
            data: InputData::Int32(&ids[80..81]),
            validity: None,
        },
        InputColumn {
            name: "value",
            data: InputData::Int64(&vals[..1]),
            validity: None,
        },
        InputColumn {
            name: "note",
            data: InputData::String {
                offsets: &bad_utf8,
                bytes: &[0xff, 0xfe],
            },
            validity: None,
        },
    ];
    assert_eq!(
        code(t.insert_columns(&cols, 1, InsertOptions::default())),
        ErrorCode::InvalidArgument
    );
    assert_eq!(t.count().unwrap(), 11);
}

#[test]
fn foreign_keys_parts_and_reading_back_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lab.duckdb");
    {
        let c = Connection::open_duckdb(path.to_str().unwrap()).unwrap();
        let s = c.schema("lab", true).unwrap();
        let subject = s
            .declare(
                "Subject",
                Tier::Lookup,
                "# animals\nsubject_id : int32  # id\n---\nspecies = \"mouse\" : varchar(30)",
            )
            .unwrap();
        assert_eq!(subject.name(), "#subject");
        let session = s
            .declare(
                "Session",
                Tier::Manual,
                "-> Subject\nsession_id : int16\n---\n-> [nullable] Subject.proj(buddy_id='subject_id')\nstarted = CURRENT_TIMESTAMP : datetime\nunique index (started, session_id)",
            )
            .unwrap();
        let h = session.heading();
        assert_eq!(h.primary_key_names(), ["subject_id", "session_id"]);
        assert!(h.get("buddy_id").unwrap().nullable);
        assert_eq!(h.get("subject_id").unwrap().declared_type, "int32");
        let unit = s
            .declare_part(
                &session,
                "Unit",
                "-> master\nunit : int8\n---\nrate : float32",
            )
            .unwrap();
        assert_eq!(unit.name(), "session__unit");
        let computed = s
            .declare(
                "SpikeRate",
                Tier::Computed,
                "-> Session\n---\nrate : float64",
            )
            .unwrap();
        assert_eq!(computed.name(), "__spike_rate");
        assert_eq!(computed.tier(), Some(Tier::Computed));
        // declaring again returns the existing table
        assert_eq!(
            s.declare("Subject", Tier::Lookup, "subject_id : int32")
                .unwrap()
                .heading(),
            subject.heading()
        );

        subject
            .insert1(&Row::new().with("subject_id", 1), InsertOptions::default())
            .unwrap();
        session
            .insert1(
                &Row::new().with("subject_id", 1).with("session_id", 1),
                InsertOptions::default(),
            )
            .unwrap();
        // missing parent
        assert_eq!(
            code(session.insert1(
                &Row::new().with("subject_id", 2).with("session_id", 1),
                InsertOptions::default()
            )),
            ErrorCode::Integrity
        );
        assert_eq!(
            code(
                session.insert1(
                    &Row::new()
                        .with("subject_id", 1)
                        .with("session_id", 2)
                        .with("buddy_id", 7),
                    InsertOptions::default()
                )
            ),
            ErrorCode::Integrity
        );
        unit.insert1(
            &Row::new()
                .with("subject_id", 1)
                .with("session_id", 1)
                .with("unit", 3)
                .with("rate", 2.5),
            InsertOptions::default(),
        )
        .unwrap();
        // deleting a referenced parent is refused, nothing is deleted
        let e = subject.delete().unwrap_err();
        assert_eq!(e.code, ErrorCode::Integrity, "{}", e.message);
        assert_eq!(subject.count().unwrap(), 1);
        assert_eq!(
            s.list_tables().unwrap(),
            ["#subject", "__spike_rate", "session", "session__unit"]
        );
        c.close();
        assert_eq!(code(subject.count()), ErrorCode::Closed);
        assert_eq!(code(s.list_tables()), ErrorCode::Closed);
        c.close(); // idempotent
    }
    let c = Connection::open_duckdb(path.to_str().unwrap()).unwrap();
    assert_eq!(c.list_schemas().unwrap(), ["lab"]);
    let s = c.schema("lab", false).unwrap();
    let session = s.table("Session").unwrap();
    let h = session.heading();
    assert_eq!(h.primary_key_names(), ["subject_id", "session_id"]);
    let started = h.get("started").unwrap();
    assert_eq!(started.declared_type, "datetime");
    assert!(matches!(
        started.default,
        Some(declare::Default::Expression(_))
    ));
    assert_eq!(s.table("#subject").unwrap().heading().comment, "animals");
    assert_eq!(
        s.table("Subject")
            .unwrap()
            .heading()
            .get("subject_id")
            .unwrap()
            .comment,
        "id"
    );
    assert_eq!(s.table("Session.Unit").unwrap().count().unwrap(), 1);
    assert_eq!(code(s.table("Nope")), ErrorCode::NotFound);
    assert_eq!(code(c.schema("nope", false)), ErrorCode::NotFound);
    let r = session.fetch1(&FetchOptions::default()).unwrap();
    assert!(matches!(r.row(0).get("started"), Some(Value::Datetime(_))));
    s.drop().unwrap();
    assert!(c.list_schemas().unwrap().is_empty());
}

#[test]
fn singleton_table_holds_one_row() {
    let c = mem();
    let s = c.schema("single", true).unwrap();
    let t = s
        .declare("Settings", Tier::Manual, "---\nmode : varchar(10)")
        .unwrap();
    assert!(t.heading().primary_key_names().is_empty());
    t.insert1(&Row::new().with("mode", "fast"), InsertOptions::default())
        .unwrap();
    assert_eq!(
        code(t.insert1(&Row::new().with("mode", "slow"), InsertOptions::default())),
        ErrorCode::Duplicate
    );
    assert_eq!(
        t.fetch1(&FetchOptions::default())
            .unwrap()
            .row(0)
            .get("mode"),
        Some(&Value::String("fast".into()))
    );
    // reopened heading hides the _singleton column
    assert_eq!(s.table("Settings").unwrap().heading().names(), ["mode"]);
}

/// At least 25 malformed definitions, each rejected with the definition code and the line.
#[test]
fn malformed_definitions_are_rejected_with_the_line() {
    let c = mem();
    let s = c.schema("bad", true).unwrap();
    s.declare("Parent", Tier::Manual, "parent_id : int32")
        .unwrap();
    let cases: &[(&str, usize)] = &[
        ("id int32", 1),
        ("id : ", 1),
        ("Id : int32", 1),
        ("_id : int32", 1),
        ("id : int", 1),
        ("id : varchar", 1),
        ("id : varchar(0)", 1),
        ("id : decimal(50,2)", 1),
        ("id : decimal(5,6)", 1),
        ("id : datetime(7)", 1),
        ("id : enum()", 1),
        ("id : enum('a','a')", 1),
        ("id = null : int32", 1),
        ("id : int32\n---\n---\nx : int32", 3),
        ("data : json", 1),
        ("-> [nullable] Parent", 1),
        ("-> [bogus] Parent", 1),
        ("-> NoSuchTable", 1),
        ("-> Parent.proj(x=y)", 1),
        ("-> Parent.proj(x='not_pk')", 1),
        ("id : int32\nid : int16", 2),
        ("id : int32\nindex(nope)", 2),
        ("id : int32 # :bad comment", 1),
        ("id : <blob", 1),
        ("id : int32\n---\nb = 'x' : bytes", 3),
        ("id : int32(4)", 1),
        ("id : int32\n-> master", 2),
        ("# :bad table comment\nid : int32", 1),
        ("id : int32\n--- x", 2),
        ("->", 1),
        ("id : int32\nunique index()", 2),
        ("id = : int32", 1),
        ("id : <npy@>", 1),
        ("\n\nid : int32\nx y z", 4),
        ("id : enum('a', 'b'", 1),
        ("id : int32\n---\nx : varchar(65536)", 3),
    ];
    assert!(cases.len() >= 25);
    for (def, line) in cases {
        let e = s.declare("Bad", Tier::Manual, def).unwrap_err();
        assert_eq!(e.code, ErrorCode::Definition, "{def:?}: {}", e.message);
        assert!(
            e.message.contains(&format!("line {line}")),
            "{def:?} should name line {line}: {}",
            e.message
        );
        assert!(
            e.message.contains("`bad`.`bad`"),
            "{def:?} should name the table: {}",
            e.message
        );
    }
    assert_eq!(
        s.list_tables().unwrap(),
        ["parent"],
        "no table was left behind"
    );
    assert_eq!(
        code(s.declare("lowercase", Tier::Manual, "id : int32")),
        ErrorCode::InvalidArgument
    );
    assert_eq!(code(c.schema("bad name", true)), ErrorCode::InvalidArgument);
}

#[test]
fn config_selects_the_duckdb_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("datajoint.json"),
        r#"{"database": {"backend": "duckdb", "path": "from_config.duckdb"}}"#,
    )
    .unwrap();
    let c = Connection::connect(Some(&dir.path().join("datajoint.json")), None).unwrap();
    c.schema("cfg", true).unwrap();
    assert_eq!(c.backend_kind().unwrap(), "duckdb");
    c.close();
    assert!(dir.path().join("from_config.duckdb").exists());
    let c = Connection::connect(
        Some(&dir.path().join("datajoint.json")),
        Some(r#"{"database.path": ":memory:"}"#),
    )
    .unwrap();
    assert!(c.list_schemas().unwrap().is_empty());
    assert_eq!(
        code(Connection::connect(
            Some(&dir.path().join("datajoint.json")),
            Some("{bad")
        )),
        ErrorCode::Config
    );
}
