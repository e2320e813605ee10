//! Integration tests of the core on every backend: DuckDB (files on disk and in memory) and the
//! PostgreSQL and MySQL servers on 127.0.0.1. One test binary, so DuckDB is linked once.

mod algebra;
mod populate;
mod support;

use datajoint_core::value::{date_from_ymd, parse_datetime};
use datajoint_core::*;
use support::{for_each_backend, TestDb};

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
    for_each_backend(|db| {
        let s = db.schema("types");
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
    });
}

#[test]
fn values_are_validated_against_the_heading() {
    for_each_backend(|db| {
        let s = db.schema("val");
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
    });
}

#[test]
fn restrictions_fetch_options_and_delete() {
    for_each_backend(|db| {
        let s = db.schema("q");
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
                ..Default::default()
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
        assert_eq!(
            e.code,
            ErrorCode::UnknownAttribute,
            "{}: {}",
            db.backend,
            e.message
        );
        for bad in ["item_id = = 1", "nosuchfn(item_id) = 1"] {
            let e = t.restrict_sql(bad).unwrap().count().unwrap_err();
            assert_eq!(
                e.code,
                ErrorCode::Backend,
                "{}: {bad}: {}",
                db.backend,
                e.message
            );
        }
        // delete
        assert_eq!(by_sql.delete().unwrap(), 3);
        assert_eq!(t.count().unwrap(), 7);
        assert_eq!(t.delete().unwrap(), 7);
        assert_eq!(t.count().unwrap(), 0);
    });
}

#[test]
fn batches_are_atomic_and_duplicates_are_handled() {
    for_each_backend(|db| {
        let s = db.schema("atomic");
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
    });
}

#[test]
fn foreign_keys_parts_and_reading_back_from_a_new_connection() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lab.duckdb");
    let file = serde_json::json!({ "database.path": path.to_str().unwrap() }).to_string();
    for b in support::backends() {
        let db = TestDb::open_with(&b, &file);
        let schema_name = db.schema_name("lab");
        db.conn.close(); // DuckDB: one process may hold the file once
        {
            let c = db.reconnect();
            let s = c.schema(&schema_name, true).unwrap();
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
            // deleting a parent would take its dependents (the preview counts them) ...
            let preview = subject
                .delete_with(&DeleteOptions {
                    dry_run: true,
                    ..Default::default()
                })
                .unwrap();
            let per: Vec<(&str, u64)> = preview
                .tables
                .iter()
                .map(|(_, t, n)| (t.as_str(), *n))
                .collect();
            assert_eq!(
                per,
                [
                    ("#subject", 1),
                    ("session", 1),
                    ("session__unit", 1),
                    ("__spike_rate", 0)
                ]
            );
            // ... and a part's rows alone are refused; nothing is deleted
            let e = unit.delete().unwrap_err();
            assert_eq!(e.code, ErrorCode::Integrity, "{}", e.message);
            assert_eq!(subject.count().unwrap(), 1);
            assert_eq!(unit.count().unwrap(), 1);
            assert_eq!(
                s.list_tables().unwrap(),
                ["#subject", "__spike_rate", "session", "session__unit"]
            );
            c.close();
            assert_eq!(code(subject.count()), ErrorCode::Closed);
            assert_eq!(code(s.list_tables()), ErrorCode::Closed);
            c.close(); // idempotent
        }
        let c = db.reconnect();
        assert!(c.list_schemas().unwrap().contains(&schema_name));
        let s = c.schema(&schema_name, false).unwrap();
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
        assert!(!c.list_schemas().unwrap().contains(&schema_name));
    }
}

#[test]
fn singleton_table_holds_one_row() {
    for_each_backend(|db| {
        let s = db.schema("single");
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
    });
}

/// At least 25 malformed definitions, each rejected with the definition code and the line.
#[test]
fn malformed_definitions_are_rejected_with_the_line() {
    for_each_backend(|db| {
        let c = &db.conn;
        let s = db.schema("bad");
        s.declare("Parent", Tier::Manual, "parent_id : int32")
            .unwrap();
        let cases: &[(&str, usize)] = &[
            ("id int32", 1),
            ("id : ", 1),
            ("Id : int32", 1),
            ("_id : int32", 1),
            ("id : int24", 1),
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
                e.message.contains(&format!("`{}`.`bad`", s.name())),
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
    });
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

/// The reference's conventions, read back from each catalog: foreign-key copies take their type
/// from the parent (no marker on PostgreSQL and DuckDB; the parent's comment on MySQL), defaults
/// come back as the declared literal, enums and lineage as the reference keeps them.
#[test]
fn reference_conventions_in_the_catalog() {
    for_each_backend(|db| {
        let s = db.schema("conv");
        let subject = s
            .declare(
                "Subject",
                Tier::Lookup,
                "subject_id : int32  # the \"id\"\n---\nsex = 'F' : enum('M','F')\nuid = null : uuid",
            )
            .unwrap();
        let session = s
            .declare(
                "Session",
                Tier::Manual,
                "-> Subject\nsession_id : int16\n---\n-> [nullable] Subject.proj(buddy='subject_id')\n\
                 note = \"n/a: none\" : varchar(30)\nweight = 5 : float64\nok = 1 : bool\n\
                 started = CURRENT_TIMESTAMP : datetime",
            )
            .unwrap();
        let _ = subject;
        // a second connection reads everything from the catalog
        let c2 = if db.backend == "duckdb" {
            db.conn.clone()
        } else {
            db.reconnect()
        };
        let h = c2
            .schema(s.name(), false)
            .unwrap()
            .table("Session")
            .unwrap()
            .heading()
            .clone();
        let a = |n: &str| h.get(n).unwrap().clone();
        assert_eq!(a("subject_id").declared_type, "int32");
        assert_eq!(a("buddy").declared_type, "int32");
        assert!(a("buddy").nullable && !a("buddy").in_key);
        assert_eq!(
            a("note").default,
            Some(declare::Default::Literal("n/a: none".into()))
        );
        assert_eq!(
            a("weight").default,
            Some(declare::Default::Literal("5".into()))
        );
        assert!(matches!(a("ok").ty, AttrType::Core(CoreType::Bool)));
        assert_eq!(
            a("started").default,
            Some(declare::Default::Expression("CURRENT_TIMESTAMP".into()))
        );
        let sh = c2
            .schema(s.name(), false)
            .unwrap()
            .table("Subject")
            .unwrap();
        assert_eq!(
            sh.heading().get("subject_id").unwrap().comment,
            "the \"id\""
        );
        assert_eq!(
            sh.heading().get("sex").unwrap().default,
            Some(declare::Default::Literal("F".into()))
        );
        // lineage: native keys are their own origin, FK copies inherit the parent's
        let lin = session.lineage().unwrap();
        let origin = format!("{}.#subject.subject_id", s.name());
        assert_eq!(
            lin,
            vec![
                ("subject_id".to_string(), origin.clone()),
                (
                    "session_id".to_string(),
                    format!("{}.session.session_id", s.name())
                ),
                ("buddy".to_string(), origin),
            ]
        );
        // dropping a table removes its lineage rows
        let tmp = s
            .declare("Scratch", Tier::Manual, "scratch_id : int32")
            .unwrap();
        assert_eq!(tmp.lineage().unwrap().len(), 1);
        tmp.drop().unwrap();
        assert!(tmp.lineage().unwrap().is_empty());
        // what the server's catalog holds, byte for byte where the reference reads it
        if db.backend != "duckdb" {
            let q = match db.backend.as_str() {
                "postgresql" => format!(
                    "SELECT a.attname, coalesce(col_description(c.oid, a.attnum), '<null>') FROM pg_attribute a \
                     JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
                     WHERE n.nspname = '{}' AND c.relname = 'session' AND a.attnum > 0 ORDER BY a.attnum",
                    s.name()
                ),
                _ => format!(
                    "SELECT COLUMN_NAME, COLUMN_COMMENT FROM information_schema.COLUMNS WHERE \
                     TABLE_SCHEMA = '{}' AND TABLE_NAME = 'session' ORDER BY ORDINAL_POSITION",
                    s.name()
                ),
            };
            let out = support::raw_sql(&db.backend, &q);
            let fk_comment = if db.backend == "postgresql" {
                "<null>"
            } else {
                "the \"id\""
            };
            assert!(
                out.contains(&format!("subject_id\t{fk_comment}\n")),
                "{out}"
            );
            assert!(out.contains("session_id\t:int16:\n"), "{out}");
            assert!(out.contains("note\t:varchar(30):\n"), "{out}");
            if db.backend == "postgresql" {
                let t = support::raw_sql(
                    "postgresql",
                    &format!(
                        "SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a JOIN pg_class c \
                         ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE \
                         n.nspname = '{}' AND c.relname = '#subject' AND a.attname = 'sex'",
                        s.name()
                    ),
                );
                assert!(t.trim().ends_with("enum_724cdf44"), "{t}");
            }
        }
    });
}

/// Native SQL types (as DataJoint MATLAB and Python 0.x declared them) declared through a
/// definition, inserted and fetched; unsigned integers travel in the next wider kind and
/// `bigint unsigned` as uint64.
#[test]
fn native_types_round_trip() {
    for_each_backend(|db| {
        let s = db.schema("native");
        let def = match db.backend.as_str() {
            "postgresql" => "id : integer\n---\nr : real\nt : text\nc : char(3)\ntm : time\nts : timestamp\nnum : numeric(6,3)",
            _ => "id : int unsigned\n---\nu8 : tinyint unsigned\nsu : smallint unsigned\nbig : bigint unsigned\n\
                  f : float\nd : double\nraw : longblob\nts = null : timestamp\ntm : time\nyr : year\ntxt : text\n\
                  num : decimal(6,3) unsigned",
        };
        let t = s.declare("Legacy", Tier::Manual, def).unwrap();
        let row = if db.backend == "postgresql" {
            Row::new()
                .with("id", 7)
                .with("r", 1.5)
                .with("t", "long text")
                .with("c", "abc")
                .with("tm", "12:34:56.5")
                .with("ts", "2024-01-02 03:04:05")
                .with("num", Value::Decimal("123.456".into()))
        } else {
            Row::new()
                .with("id", Value::Int(4_294_967_295))
                .with("u8", 255)
                .with("su", 65535)
                .with("big", Value::UInt(u64::MAX))
                .with("f", 1.5)
                .with("d", 2.25)
                .with("raw", Value::Bytes(vec![0, 255, 7]))
                .with("tm", "12:34:56")
                .with("yr", 2024)
                .with("txt", "text")
                .with("num", Value::Decimal("123.456".into()))
        };
        t.insert1(&row, InsertOptions::default()).unwrap();
        let r = t.fetch1(&FetchOptions::default()).unwrap();
        let got = r.row(0);
        for (name, v) in &row.values {
            let want = match (name.as_str(), v) {
                ("tm", Value::String(s)) if s.ends_with(".5") => {
                    Value::String("12:34:56.500000".into())
                }
                ("ts", Value::String(s)) => Value::Datetime(parse_datetime(s).unwrap()),
                _ => v.clone(),
            };
            assert_eq!(got.get(name), Some(&want), "{}: {name}", db.backend);
        }
        if db.backend != "postgresql" {
            let kinds: Vec<(String, Kind)> = r
                .attributes
                .iter()
                .map(|a| (a.name.clone(), a.ty.kind()))
                .collect();
            assert!(kinds.contains(&("id".into(), Kind::Int64)));
            assert!(kinds.contains(&("u8".into(), Kind::Int16)));
            assert!(kinds.contains(&("big".into(), Kind::UInt64)));
            // out of the native range: a type error before anything is written
            let e = t
                .insert1(
                    &row.clone().with("id", 8).with("u8", 256),
                    InsertOptions::default(),
                )
                .unwrap_err();
            assert_eq!(e.code, ErrorCode::Type, "{}", e.message);
            assert!(e.message.contains("u8"), "{}", e.message);
        }
        // native types keep only the user comment: reopened, they read back from the SQL type
        let h = s.table("Legacy").unwrap().heading().clone();
        assert!(matches!(h.get("id").unwrap().ty, AttrType::Native(_)));
        // a native type the backend does not have is a definition error naming it
        if db.backend == "postgresql" {
            let e = s
                .declare("Nope", Tier::Manual, "id : int unsigned")
                .unwrap_err();
            assert_eq!(e.code, ErrorCode::Definition, "{}", e.message);
            assert!(e.message.contains("int unsigned"), "{}", e.message);
        }
    });
}

/// Tables written by older pipelines with raw SQL (no `:type:` comments, native types, blobs in
/// plain longblob columns) open by name and fetch.
#[test]
fn legacy_tables_written_with_raw_sql_open_and_fetch() {
    for b in support::backends().into_iter().filter(|b| b != "duckdb") {
        let db = TestDb::open(&b);
        let s = db.schema("legacy");
        let n = s.name().to_string();
        if b == "mysql" {
            support::raw_sql(
                &b,
                &format!(
                    "CREATE TABLE `{n}`.`old` (`id` int(10) unsigned NOT NULL COMMENT 'the id', \
                     `t` tinyint(4) NOT NULL DEFAULT '3', `big` bigint(20) unsigned DEFAULT NULL, \
                     `blob` longblob, `ts` timestamp NULL DEFAULT NULL, `tm` time DEFAULT NULL, \
                     `yr` year(4) DEFAULT NULL, `e` enum('x','y') DEFAULT 'x', `z` date DEFAULT NULL, \
                     PRIMARY KEY (`id`)) ENGINE=InnoDB COMMENT='from matlab'; \
                     INSERT INTO `{n}`.`old` VALUES (4294967295, -128, 18446744073709551615, \
                     x'6d596d0041', '2024-01-02 03:04:05', '-838:59:59', 1999, 'y', '2020-02-29'), \
                     (1, 3, NULL, NULL, NULL, NULL, NULL, 'x', NULL)"
                ),
            );
        } else {
            support::raw_sql(
                &b,
                &format!(
                    "CREATE TABLE \"{n}\".\"old\" (\"id\" integer PRIMARY KEY, \"t\" smallint NOT NULL DEFAULT 3, \
                     \"big\" numeric, \"blob\" bytea, \"ts\" timestamp with time zone, \"tm\" time, \
                     \"flag\" boolean, \"u\" uuid, \"c\" character(4), \"z\" date); \
                     COMMENT ON TABLE \"{n}\".\"old\" IS 'from elsewhere'; \
                     INSERT INTO \"{n}\".\"old\" VALUES (2147483647, -32768, 18446744073709551615, \
                     '\\x6d596d0041', '2024-01-02 03:04:05+00', '23:59:59', true, \
                     '123e4567-e89b-12d3-a456-426614174000', 'ab', '2020-02-29'), \
                     (1, 3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)"
                ),
            );
        }
        let t = s.table("old").unwrap();
        let h = t.heading();
        assert_eq!(h.primary_key_names(), ["id"]);
        assert_eq!(
            h.get("t").unwrap().default,
            Some(declare::Default::Literal("3".into()))
        );
        let rs = t
            .fetch(&FetchOptions {
                order_by: Some("id DESC".into()),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(rs.nrows, 2);
        let r = rs.row(0);
        let ts = Value::Datetime(parse_datetime("2024-01-02 03:04:05").unwrap());
        let z = Value::Date(date_from_ymd(2020, 2, 29).unwrap());
        let blob = Value::Bytes(b"mYm\0A".to_vec());
        if b == "mysql" {
            assert_eq!(r.get("id"), Some(&Value::Int(4_294_967_295)));
            assert_eq!(r.get("t"), Some(&Value::Int(-128)));
            assert_eq!(r.get("big"), Some(&Value::UInt(u64::MAX)));
            assert_eq!(r.get("tm"), Some(&Value::String("-838:59:59".into())));
            assert_eq!(r.get("yr"), Some(&Value::Int(1999)));
            assert_eq!(r.get("e"), Some(&Value::String("y".into())));
        } else {
            assert_eq!(r.get("id"), Some(&Value::Int(2_147_483_647)));
            assert_eq!(r.get("t"), Some(&Value::Int(-32768)));
            assert_eq!(
                r.get("big"),
                Some(&Value::Decimal("18446744073709551615".into()))
            );
            assert_eq!(r.get("tm"), Some(&Value::String("23:59:59".into())));
            assert_eq!(r.get("flag"), Some(&Value::Bool(true)));
            assert_eq!(r.get("c"), Some(&Value::String("ab".into())));
            let u = uuid::Uuid::parse_str("123e4567-e89b-12d3-a456-426614174000").unwrap();
            assert_eq!(r.get("u"), Some(&Value::Uuid(*u.as_bytes())));
        }
        assert_eq!(
            r.get("blob"),
            Some(&blob),
            "raw bytes, as the reference returns them"
        );
        assert_eq!(r.get("ts"), Some(&ts));
        assert_eq!(r.get("z"), Some(&z));
        assert_eq!(rs.row(1).get("blob"), Some(&Value::Null));
        if b == "mysql" {
            // auto_increment keys may be left out, as the reference allows
            support::raw_sql(
                &b,
                &format!(
                    "CREATE TABLE `{n}`.`auto` (`id` int NOT NULL AUTO_INCREMENT, \
                     `v` varchar(10) NOT NULL, PRIMARY KEY (`id`)) ENGINE=InnoDB"
                ),
            );
            let auto = s.table("auto").unwrap();
            auto.insert_rows(
                &[Row::new().with("v", "a"), Row::new().with("v", "b")],
                InsertOptions::default(),
            )
            .unwrap();
            let ids = auto.keys(&FetchOptions::default()).unwrap();
            assert_eq!(ids.row(1).get("id"), Some(&Value::Int(2)));
        }
        // and they can be written
        t.insert1(
            &Row::new()
                .with("id", 5)
                .with("t", 1)
                .with("blob", Value::Bytes(vec![1])),
            InsertOptions::default(),
        )
        .unwrap();
        assert_eq!(t.count().unwrap(), 3);
    }
}

/// Wrong credentials, an unreachable host and bad settings fail with `Connection`/`Config`
/// errors whose messages never contain the password.
#[test]
fn connection_failures_never_show_the_password() {
    let secret = "s3cr3t-Pa55";
    for b in support::backends().into_iter().filter(|b| b != "duckdb") {
        let mut cases = vec![
            // nothing listens on port 1
            format!(
                r#"{{"database.host": "127.0.0.1", "database.port": 1, "database.password": "{secret}"}}"#
            ),
        ];
        if b == "mysql" {
            let user = format!("djt_pw_{}", std::process::id());
            support::raw_sql(
                &b,
                &format!("DROP USER IF EXISTS '{user}'@'%'; CREATE USER '{user}'@'%' IDENTIFIED BY 'right-one'"),
            );
            cases.push(format!(
                r#"{{"database.user": "{user}", "database.password": "{secret}"}}"#
            ));
        } else {
            // 127.0.0.1 trusts every password here: an unknown role and an unknown database
            cases.push(format!(
                r#"{{"database.user": "no_such_role_x", "database.password": "{secret}"}}"#
            ));
            cases.push(format!(
                r#"{{"database.name": "no_such_db_x", "database.password": "{secret}"}}"#
            ));
        }
        for extra in cases {
            let mut cfg = Config::empty();
            cfg.apply_overrides_json(&support::server_overrides(&b))
                .unwrap();
            cfg.apply_overrides_json(&extra).unwrap();
            let t0 = std::time::Instant::now();
            let e = Connection::open(cfg).unwrap_err();
            assert_eq!(e.code, ErrorCode::Connection, "{b} {extra}: {}", e.message);
            assert!(!e.message.contains(secret), "{b}: {}", e.message);
            assert!(!format!("{e:?}").contains(secret));
            assert!(t0.elapsed().as_secs() < 15);
        }
        if b == "mysql" {
            let user = format!("djt_pw_{}", std::process::id());
            support::raw_sql(&b, &format!("DROP USER IF EXISTS '{user}'@'%'"));
        }
    }
    let mut cfg = Config::empty();
    cfg.apply_overrides_json(r#"{"database.backend": "postgresql", "database.port": "abc"}"#)
        .unwrap();
    assert_eq!(Connection::open(cfg).unwrap_err().code, ErrorCode::Config);
}

fn kill_session(backend: &str, id: i64) {
    let sql = if backend == "postgresql" {
        format!("SELECT pg_terminate_backend({id})")
    } else {
        format!("KILL CONNECTION {id}")
    };
    support::raw_sql(backend, &sql);
}

/// The server ends the session between two calls: the next call reports `Connection` (or, when
/// the loss was already noticed, reconnects at once), the one after works on a new session.
#[test]
fn a_killed_session_is_reported_and_the_next_call_reconnects() {
    for b in support::backends().into_iter().filter(|b| b != "duckdb") {
        let db = TestDb::open(&b);
        let s = db.schema("killed");
        let t = s.declare("Item", Tier::Manual, "id : int32").unwrap();
        t.insert1(&Row::new().with("id", 1), InsertOptions::default())
            .unwrap();
        let before = db.conn.session_id().unwrap();
        assert!(before > 0);
        kill_session(&b, before);
        std::thread::sleep(std::time::Duration::from_millis(200));
        match t.count() {
            Ok(n) => assert_eq!(n, 1),
            Err(e) => assert_eq!(e.code, ErrorCode::Connection, "{b}: {}", e.message),
        }
        assert_eq!(t.count().unwrap(), 1, "{b}: the next call reconnects");
        let after = db.conn.session_id().unwrap();
        assert_ne!(before, after);
        t.insert1(&Row::new().with("id", 2), InsertOptions::default())
            .unwrap();
        assert_eq!(t.count().unwrap(), 2);
    }
}

/// A batch with arrays whose session is killed while it waits for a lock leaves no rows and no
/// objects behind.
#[test]
fn a_batch_interrupted_by_a_lost_connection_leaves_nothing() {
    for b in support::backends().into_iter().filter(|b| b != "duckdb") {
        let store = tempfile::tempdir().unwrap();
        let stores = serde_json::json!({"stores": {"default": "main",
            "main": {"protocol": "file", "location": store.path().to_str().unwrap()}}})
        .to_string();
        let db = TestDb::open_with(&b, &stores);
        let s = db.schema("cut");
        let t = s
            .declare("Rec", Tier::Manual, "id : int32\n---\nx : <npy@>")
            .unwrap();
        let full = if b == "postgresql" {
            format!("\"{}\".\"rec\"", s.name())
        } else {
            format!("`{}`.`rec`", s.name())
        };
        // another session holds the table locked for a while
        let lock = if b == "postgresql" {
            format!(
                "BEGIN; LOCK TABLE {full} IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(4); COMMIT;"
            )
        } else {
            format!("LOCK TABLES {full} WRITE; SELECT SLEEP(4); UNLOCK TABLES;")
        };
        let mut locker = support::raw_command(&b, &lock)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(700));
        let sid = db.conn.session_id().unwrap();
        let killer = {
            let b = b.clone();
            std::thread::spawn(move || {
                std::thread::sleep(std::time::Duration::from_millis(1200));
                kill_session(&b, sid);
            })
        };
        let arrays: Vec<value::ArrayValue> = (0..5)
            .map(|k| {
                value::ArrayValue::new(
                    npy::Dtype::Float64,
                    vec![4],
                    false,
                    (0..4)
                        .flat_map(|i| ((k * 4 + i) as f64).to_le_bytes())
                        .collect(),
                )
            })
            .collect();
        let ids: Vec<i32> = (0..5).collect();
        let e = t
            .insert_columns(
                &[
                    InputColumn {
                        name: "id",
                        data: InputData::Int32(&ids),
                        validity: None,
                    },
                    InputColumn {
                        name: "x",
                        data: InputData::Array(&arrays),
                        validity: None,
                    },
                ],
                5,
                InsertOptions::default(),
            )
            .unwrap_err();
        killer.join().unwrap();
        let _ = locker.wait();
        assert_eq!(e.code, ErrorCode::Connection, "{b}: {}", e.message);
        assert_eq!(t.count().unwrap(), 0, "{b}: no rows");
        let files: Vec<_> = walk(store.path());
        assert!(files.is_empty(), "{b}: orphaned objects {files:?}");
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// Helper run as a child process by `two_processes_insert_into_one_table_at_once`.
#[test]
fn child_inserter() {
    let Ok(spec) = std::env::var("DJ_CHILD_INSERT") else {
        return;
    };
    let parts: Vec<&str> = spec.split(':').collect();
    let (backend, schema, lo, hi) = (parts[0], parts[1], parts[2], parts[3]);
    let (lo, hi): (i32, i32) = (lo.parse().unwrap(), hi.parse().unwrap());
    let c = support::connect(backend, "{}");
    let t = c.schema(schema, false).unwrap().table("Shared").unwrap();
    for chunk in (lo..hi).collect::<Vec<i32>>().chunks(250) {
        let v: Vec<f64> = chunk.iter().map(|&i| i as f64).collect();
        t.insert_columns(
            &[
                InputColumn {
                    name: "id",
                    data: InputData::Int32(chunk),
                    validity: None,
                },
                InputColumn {
                    name: "v",
                    data: InputData::Float64(&v),
                    validity: None,
                },
            ],
            chunk.len(),
            InsertOptions {
                skip_duplicates: true,
                ..Default::default()
            },
        )
        .unwrap();
    }
}

/// Two processes insert overlapping key ranges into one table at once (skip-duplicates):
/// every row arrives exactly once.
#[test]
fn two_processes_insert_into_one_table_at_once() {
    for b in support::backends().into_iter().filter(|b| b != "duckdb") {
        let db = TestDb::open(&b);
        let s = db.schema("shared");
        let t = s
            .declare("Shared", Tier::Manual, "id : int32\n---\nv : float64")
            .unwrap();
        let exe = std::env::current_exe().unwrap();
        let spawn = |lo: i32, hi: i32| {
            std::process::Command::new(&exe)
                .args([
                    "--exact",
                    "child_inserter",
                    "--nocapture",
                    "--test-threads",
                    "1",
                ])
                .env("DJ_CHILD_INSERT", format!("{b}:{}:{lo}:{hi}", s.name()))
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        };
        let (mut p1, mut p2) = (spawn(0, 3000), spawn(1500, 4500));
        assert!(p1.wait().unwrap().success());
        assert!(p2.wait().unwrap().success());
        assert_eq!(t.count().unwrap(), 4500, "{b}");
        let rs = t
            .fetch(&FetchOptions {
                order_by: Some("id".into()),
                ..Default::default()
            })
            .unwrap();
        match &rs.column("id").unwrap().data {
            ColumnData::Int32(v) => assert_eq!(v, &(0..4500).collect::<Vec<i32>>()),
            other => panic!("{other:?}"),
        }
    }
}

/// A duplicate key in row k of a batch with arrays: no rows and no objects.
#[test]
fn a_duplicate_in_a_batch_with_arrays_leaves_nothing() {
    for b in support::backends() {
        let store = tempfile::tempdir().unwrap();
        let stores = serde_json::json!({"stores": {"default": "main",
            "main": {"protocol": "file", "location": store.path().to_str().unwrap()}}})
        .to_string();
        let db = TestDb::open_with(&b, &stores);
        let s = db.schema("dup");
        let t = s
            .declare(
                "Rec",
                Tier::Manual,
                "id : int32\n---\nx : <npy@>\ny : float64",
            )
            .unwrap();
        let arrays: Vec<value::ArrayValue> = (0..6)
            .map(|_| value::ArrayValue::new(npy::Dtype::Int16, vec![2], false, vec![1, 0, 2, 0]))
            .collect();
        let ids = [0, 1, 2, 3, 1, 5];
        let finite = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0];
        let cols = [
            InputColumn {
                name: "id",
                data: InputData::Int32(&ids),
                validity: None,
            },
            InputColumn {
                name: "x",
                data: InputData::Array(&arrays),
                validity: None,
            },
            InputColumn {
                name: "y",
                data: InputData::Float64(&finite),
                validity: None,
            },
        ];
        let e = t
            .insert_columns(&cols, 6, InsertOptions::default())
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::Duplicate, "{b}: {}", e.message);
        assert_eq!(t.count().unwrap(), 0);
        assert!(walk(store.path()).is_empty(), "{b}: orphaned objects");
        // ±inf: stored where the backend can, a type error before any upload on MySQL
        let y_inf = [0.0, 1.0, 2.0, f64::INFINITY, 4.0, 5.0];
        let mut ids2 = ids;
        ids2[4] = 4;
        let cols2 = [
            InputColumn {
                name: "id",
                data: InputData::Int32(&ids2),
                validity: None,
            },
            InputColumn {
                name: "x",
                data: InputData::Array(&arrays),
                validity: None,
            },
            InputColumn {
                name: "y",
                data: InputData::Float64(&y_inf),
                validity: None,
            },
        ];
        let r = t.insert_columns(&cols2, 6, InsertOptions::default());
        if b == "mysql" {
            let e = r.unwrap_err();
            assert_eq!(e.code, ErrorCode::Type, "{}", e.message);
            assert!(
                e.message.contains("'y'") && e.message.contains("row 3"),
                "{}",
                e.message
            );
            assert!(
                walk(store.path()).is_empty(),
                "objects uploaded before the type error"
            );
        } else {
            assert_eq!(r.unwrap(), 6);
        }
    }
}

/// skip_duplicates follows each backend's reference behaviour: MySQL's `ON DUPLICATE KEY`
/// skips a clash on any unique index, PostgreSQL's `ON CONFLICT (pk)` only on the primary key
/// (DuckDB as PostgreSQL); replace updates the row in place on all three.
#[test]
fn skip_duplicates_and_replace_follow_each_backend() {
    for_each_backend(|db| {
        let s = db.schema("skip");
        let t = s
            .declare(
                "Person",
                Tier::Manual,
                "person_id : int32\n---\nemail : varchar(64)\nage = null : int16\nunique index (email)",
            )
            .unwrap();
        let row = |id: i32, email: &str, age: i64| {
            Row::new()
                .with("person_id", id)
                .with("email", email)
                .with("age", age)
        };
        t.insert1(&row(1, "a@x", 30), InsertOptions::default())
            .unwrap();
        let skip = InsertOptions {
            skip_duplicates: true,
            ..Default::default()
        };
        // same key: skipped everywhere, the old row stays
        assert_eq!(t.insert1(&row(1, "b@x", 99), skip).unwrap(), 0);
        // new key, clashing secondary unique value
        let r = t.insert1(&row(2, "a@x", 40), skip);
        if db.backend == "mysql" {
            assert_eq!(r.unwrap(), 0, "MySQL skips any unique clash");
        } else {
            assert_eq!(r.unwrap_err().code, ErrorCode::Duplicate, "{}", db.backend);
        }
        assert_eq!(t.count().unwrap(), 1);
        // replace: the row is updated in place, attributes not given keep their values
        let n = t
            .insert1(
                &Row::new().with("person_id", 1).with("email", "c@x"),
                InsertOptions {
                    replace: true,
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(n, 1);
        let got = t.fetch1(&FetchOptions::default()).unwrap().row(0);
        assert_eq!(got.get("email"), Some(&Value::String("c@x".into())));
        assert_eq!(got.get("age"), Some(&Value::Int(30)));
    });
}

/// `database.use_tls`: unset uses TLS when the server offers it (PostgreSQL here does, MariaDB
/// does not), `true` requires it, `false` turns it off.
#[test]
fn use_tls_follows_the_setting() {
    for b in support::backends().into_iter().filter(|b| b != "duckdb") {
        let tls_of = |c: &Connection| -> String {
            let id = c.session_id().unwrap();
            if b == "postgresql" {
                support::raw_sql(&b, &format!("SELECT ssl FROM pg_stat_ssl WHERE pid = {id}"))
                    .trim()
                    .to_string()
            } else {
                String::new()
            }
        };
        let unset = support::connect(&b, "{}");
        let off = support::connect(&b, r#"{"database.use_tls": false}"#);
        if b == "postgresql" {
            assert_eq!(tls_of(&unset), "t", "prefer: encrypted when offered");
            assert_eq!(tls_of(&off), "f");
            let on = support::connect(&b, r#"{"database.use_tls": true}"#);
            assert_eq!(tls_of(&on), "t");
        } else {
            let mut cfg = Config::empty();
            cfg.apply_overrides_json(&support::server_overrides(&b))
                .unwrap();
            cfg.apply_overrides_json(r#"{"database.use_tls": "true"}"#)
                .unwrap();
            let e = Connection::open(cfg).unwrap_err();
            assert_eq!(e.code, ErrorCode::Connection, "{}", e.message);
            assert_eq!(unset.list_schemas().is_ok(), off.list_schemas().is_ok());
        }
    }
}
