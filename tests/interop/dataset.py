"""The interop dataset: one schema with every core type, a Lookup, a Part, foreign keys (renamed
and nullable ones too, and a uuid key) and <npy@main> columns, with deterministic rows.

It is the single source of truth for both directions:
  * DataJoint Python declares these tables and inserts these rows (dj_side.py write), and
    libdatajoint's dump of them is compared with `expected_tokens` (dj_side.py check-dump);
  * libdatajoint declares the same tables and inserts the same rows from `plan_lines`
    (interop.cpp write), and DataJoint Python reads them back (dj_side.py read).

Values cross the C++ program as tokens: N (NULL), B:0/1, I:<int>, F:<hex of the float64 bits>,
S:<hex of UTF-8>, X:<hex bytes>, D:<decimal text>, d:<days since 1970-01-01>,
T:<microseconds since the epoch>, U:<32 hex digits>, J:<hex of JSON text>,
A:<dtype>:<dim,dim,...>:<C|F>:<hex data> (an array; the C++ dump adds the ref's path and store).

Key comments hold no `"`: on MySQL the reference copies a parent key's comment unescaped into
the child's `COMMENT "…"` and its own DDL breaks (libdatajoint escapes it).
"""

import datetime as dt
import decimal
import json
import struct
import uuid

import numpy as np

DEVICE = """# recording devices
device_id : uuid    # the device's uuid
---
label : varchar(32)
"""

SUBJECT = """# experimental animals
subject_id : int32  # the animal's id
---
species = "mouse" : varchar(30)
sex = 'U' : enum('M','F','U')
born = null : date
weight = null : float32    # grams
"""

SESSION = """# a recording session
-> Subject
session_id : int16
---
-> [nullable] Subject.proj(buddy_id='subject_id')
-> [nullable] Device
started : datetime(3)
t0 = null : datetime
note = "" : varchar(255)   # free text, may hold "quotes"
flag : bool
price = null : decimal(10,2)
code = null : char(4)
i8 = null : int8
i64 = null : int64
f64 = null : float64
raw = null : bytes
doc = null : json
uid = null : uuid
index (started)
"""

TRIAL = """# trials of a session
-> master
trial : int32
---
outcome : enum('hit','miss','it''s late')
trace = null : <npy@main>
image = null : <npy@main>
"""

# (class name, tier, definition, master class or None), in declaration order
TABLES = [
    ("Device", "Lookup", DEVICE, None),
    ("Subject", "Lookup", SUBJECT, None),
    ("Session", "Manual", SESSION, None),
    ("Trial", "Part", TRIAL, "Session"),
]

SQL_NAMES = {"Device": "#device", "Subject": "#subject", "Session": "session", "Trial": "session__trial"}

UUIDS = [uuid.UUID("123e4567-e89b-12d3-a456-426614174000"), uuid.UUID("00000000-0000-4000-8000-0000000000ff")]


def _trace(k):
    return np.arange(12, dtype=np.float32).reshape(3, 4) * (k + 1) - 5.5


def _image(k):
    a = (np.arange(24, dtype=np.int16).reshape(2, 3, 4) * (k - 3)).astype(np.int16)
    return np.asfortranarray(a)


def rows():
    """{class name: [row dict, ...]} with Python values as DataJoint Python takes them."""
    out = {
        "Device": [
            {"device_id": UUIDS[0], "label": "probe A"},
            {"device_id": UUIDS[1], "label": "Grüße 日本 🎉"},
        ],
        "Subject": [
            {"subject_id": 1, "species": "mouse", "sex": "F", "born": dt.date(2024, 5, 1), "weight": 21.5},
            {"subject_id": 2, "species": "rat", "sex": "M", "born": None, "weight": None},
            {"subject_id": -2147483648, "species": "edge 'quote' \"dq\" \\ back", "sex": "U",
             "born": dt.date(1, 1, 1), "weight": -0.25},
        ],
        "Session": [],
        "Trial": [],
    }
    for k in range(4):
        out["Session"].append({
            "subject_id": 1 if k < 3 else 2,
            "session_id": k + 1 if k < 3 else 32767,
            "buddy_id": 2 if k == 1 else None,
            "device_id": UUIDS[k % 2] if k != 2 else None,
            "started": dt.datetime(2024, 1, 2, 3, 4, 5, 123000) + dt.timedelta(days=k),
            "t0": dt.datetime(1999, 12, 31, 23, 59, 59) if k == 0 else None,
            "note": ["", "a \"quoted\" note", "back\\slash, it's fine", "日本語"][k],
            "flag": k % 2 == 0,
            "price": decimal.Decimal(["-12345678.90", "0.05", "7.00", "99999999.99"][k]),
            "code": ["abcd", "WXYZ", None, "x  y"][k],
            "i8": [-128, 127, 0, None][k],
            "i64": [-(2**63), 2**63 - 1, 42, None][k],
            "f64": [-2.25e300, 3.141592653589793, 0.0, None][k],
            "raw": [bytes([0, 1, 2, 0, 255]), b"", None, b"\x00" * 3][k],
            "doc": [{"a": [1, 2, {"b": None}], "c": "d"}, [1, "two", 3.5], "just a string", None][k],
            "uid": [UUIDS[1], None, UUIDS[0], None][k],
        })
    for k in range(5):
        out["Trial"].append({
            "subject_id": 1,
            "session_id": 1 + k % 2,
            "trial": k,
            "outcome": ["hit", "miss", "it's late"][k % 3],
            "trace": _trace(k) if k != 3 else None,
            "image": _image(k) if k % 2 == 0 else None,
        })
    return out


def _hex(b):
    return bytes(b).hex()


def token(value, declared):
    """The canonical token of a Python value of an attribute declared as `declared`."""
    if value is None:
        return "N"
    t = declared.lower()
    if t.startswith("<npy"):
        a = np.asarray(value)
        order = "F" if (a.ndim > 1 and a.flags.f_contiguous and not a.flags.c_contiguous) else "C"
        data = a.tobytes(order="F" if order == "F" else "C")
        return f"A:{a.dtype.str.lstrip('<|=')}:{','.join(map(str, a.shape))}:{order}:{data.hex()}"
    if t == "bool":
        return f"B:{int(bool(value))}"
    if t.startswith(("int", "tinyint", "smallint", "bigint")):
        return f"I:{int(value)}"
    if t.startswith("float"):
        f = float(np.float32(value)) if t == "float32" else float(value)
        return "F:" + struct.pack(">d", f).hex()
    if t.startswith("decimal"):
        return f"D:{value}"
    if t == "date":
        return f"d:{(value - dt.date(1970, 1, 1)).days}"
    if t.startswith("datetime"):
        delta = value - dt.datetime(1970, 1, 1)
        return f"T:{(delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds}"
    if t == "uuid":
        return f"U:{uuid.UUID(str(value)).hex}"
    if t == "json":
        return "J:" + _hex(json.dumps(value).encode())
    if t == "bytes":
        return f"X:{_hex(value)}"
    return "S:" + _hex(str(value).encode())


def attribute_types():
    """{class name: {attribute: declared type}} including foreign-key copies."""
    own = {}
    for cls, _, definition, _ in TABLES:
        attrs = {}
        for line in definition.splitlines():
            line = line.split("#")[0].strip() if not line.strip().startswith("#") else ""
            if not line or line.startswith("---") or line.startswith("index"):
                continue
            if line.startswith("->"):
                continue
            name, _, typ = line.partition(":")
            name = name.split("=")[0].strip()
            attrs[name] = typ.strip()
        own[cls] = attrs
    own["Session"].update({"subject_id": "int32", "buddy_id": "int32", "device_id": "uuid"})
    own["Trial"].update({"subject_id": "int32", "session_id": "int16"})
    return own


def expected_tokens():
    """{sql table name: sorted list of {attr: token}} — what a dump must show."""
    types = attribute_types()
    out = {}
    for cls, rs in rows().items():
        out[SQL_NAMES[cls]] = [
            {a: token(v, types[cls][a]) for a, v in r.items()} for r in rs
        ]
    return out


def plan_lines():
    """What interop.cpp executes to declare and insert the dataset."""
    types = attribute_types()
    lines = []
    data = rows()
    for cls, tier, definition, master in TABLES:
        lines.append(f"TABLE\t{cls}\t{tier}\t{master or '-'}\t{_hex(definition.encode())}")
        for r in data[cls]:
            lines.append(f"ROW\t{cls}")
            for a, v in r.items():
                lines.append(f"VAL\t{a}\t{token(v, types[cls][a])}")
            lines.append("END")
    return "\n".join(lines) + "\n"
