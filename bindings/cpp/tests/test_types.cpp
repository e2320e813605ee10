// Round trip of every core type through the row path (Row + insert1/insert) and the columnar
// path (Batch), NULLs, defaults, and the table heading.
#include "test_util.hpp"

#include <cstring>
#include <limits>

using namespace djtest;

namespace {

const char* const kAllTypes = R"(
    # every core type
    id : int32                      # row number
    ---
    i8 : int8
    i16 : int16
    i32 : int32
    i64 : int64
    f32 : float32
    f64 : float64
    b : bool
    dec : decimal(10,2)
    ch : char(4)
    vc : varchar(64)                # unicode text
    en : enum('red','green','blue')
    d : date
    dt : datetime
    dt6 : datetime(6)
    by : bytes
    js : json
    uu : uuid
)";

struct Expected {
    int32_t id;
    int8_t i8;
    int16_t i16;
    int32_t i32;
    int64_t i64;
    float f32;
    double f64;
    bool b;
    std::string dec;
    std::string ch;
    std::string vc;
    std::string en;
    dj::Date d;
    dj::Datetime dt;
    dj::Datetime dt6;
    dj::Bytes by;
    std::string js;
    dj::Uuid uu;
};

std::vector<Expected> expected_rows() {
    dj::Uuid ones;
    ones.bytes.fill(0xFF);
    return {
        {0, std::numeric_limits<int8_t>::min(), std::numeric_limits<int16_t>::min(),
         std::numeric_limits<int32_t>::min(), std::numeric_limits<int64_t>::min(), std::numeric_limits<float>::lowest(),
         std::numeric_limits<double>::lowest(), false, "-12345.67", "abcd", "Grüße, 日本語 🎉", "red",
         dj::Date::ymd(1900, 1, 1), dj::Datetime::parse("1960-06-15 12:00:00"),
         dj::Datetime::parse("1969-12-31 23:59:59.999999"), dj::Bytes{0, 1, 0, 255}, R"({"a":1,"b":[true,null]})",
         dj::Uuid::parse("123e4567-e89b-12d3-a456-426614174000")},
        {1, std::numeric_limits<int8_t>::max(), std::numeric_limits<int16_t>::max(),
         std::numeric_limits<int32_t>::max(), std::numeric_limits<int64_t>::max(), std::numeric_limits<float>::max(),
         std::numeric_limits<double>::max(), true, "99999999.99", "", "", "blue", dj::Date::ymd(9999, 12, 31),
         dj::Datetime::parse("9999-12-31 23:59:59"), dj::Datetime::parse("2024-02-29 12:34:56.123456"), dj::Bytes{},
         R"([1,"x",null])", ones},
        {2, 0, 0, 0, 0, 0.1f, 0.1, true, "0.00", "日本", "plain ascii", "green", dj::Date{0}, dj::Datetime{0},
         dj::Datetime{1}, dj::Bytes{0}, R"("hello")", dj::Uuid{}},
    };
}

dj::Row row_of(const Expected& e) {
    return dj::Row()
        .set("id", e.id)
        .set("i8", e.i8)
        .set("i16", e.i16)
        .set("i32", e.i32)
        .set("i64", e.i64)
        .set("f32", e.f32)
        .set("f64", e.f64)
        .set("b", e.b)
        .set("dec", dj::Decimal{e.dec})
        .set("ch", e.ch)
        .set("vc", std::string_view(e.vc))
        .set("en", e.en.c_str())
        .set("d", e.d)
        .set("dt", e.dt)
        .set("dt6", e.dt6)
        .set("by", e.by)
        .set("js", dj::Json{e.js})
        .set("uu", e.uu);
}

dj::Batch batch_of(const std::vector<Expected>& rows) {
    std::vector<int32_t> id;
    std::vector<int8_t> i8;
    std::vector<int16_t> i16;
    std::vector<int32_t> i32;
    std::vector<int64_t> i64;
    std::vector<float> f32;
    std::vector<double> f64;
    std::vector<bool> b;
    std::vector<std::string> dec, ch, vc, en, js;
    std::vector<dj::Date> d;
    std::vector<dj::Datetime> dt, dt6;
    std::vector<dj::Bytes> by;
    std::vector<dj::Uuid> uu;
    for (const auto& e : rows) {
        id.push_back(e.id);
        i8.push_back(e.i8);
        i16.push_back(e.i16);
        i32.push_back(e.i32);
        i64.push_back(e.i64);
        f32.push_back(e.f32);
        f64.push_back(e.f64);
        b.push_back(e.b);
        dec.push_back(e.dec);
        ch.push_back(e.ch);
        vc.push_back(e.vc);
        en.push_back(e.en);
        d.push_back(e.d);
        dt.push_back(e.dt);
        dt6.push_back(e.dt6);
        by.push_back(e.by);
        js.push_back(e.js);
        uu.push_back(e.uu);
    }
    dj::Batch batch;
    batch.add("id", id)
        .add("i8", i8)
        .add("i16", i16)
        .add("i32", i32)
        .add("i64", i64)
        .add("f32", f32)
        .add("f64", f64)
        .add("b", b)
        .add_decimals("dec", dec)
        .add_strings("ch", ch)
        .add("vc", vc)
        .add_strings("en", en)
        .add("d", d)
        .add("dt", dt)
        .add("dt6", dt6)
        .add_bytes("by", by)
        .add_json("js", js)
        .add("uu", uu);
    return batch;
}

void expect_rows(const dj::Result& r, const std::vector<Expected>& rows) {
    ASSERT_EQ(r.nrows(), rows.size());
    ASSERT_EQ(r.ncols(), 18u);
    const auto id = r.column("id").values<int32_t>();
    const auto i8 = r.column("i8").values<int8_t>();
    const auto i16 = r.column("i16").values<int16_t>();
    const auto i32 = r.column("i32").values<int32_t>();
    const auto i64 = r.column("i64").values<int64_t>();
    const auto f32 = r.column("f32").values<float>();
    const auto f64 = r.column("f64").values<double>();
    const auto b = r.column("b").values<uint8_t>();
    const auto d = r.column("d").values<dj::Date>();
    const auto dt = r.column("dt").values<dj::Datetime>();
    const auto dt6 = r.column("dt6").values<dj::Datetime>();
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const Expected& e = rows[i];
        SCOPED_TRACE("row " + std::to_string(i));
        EXPECT_EQ(id[i], e.id);
        EXPECT_EQ(i8[i], e.i8);
        EXPECT_EQ(i16[i], e.i16);
        EXPECT_EQ(i32[i], e.i32);
        EXPECT_EQ(i64[i], e.i64);
        EXPECT_EQ(f32[i], e.f32);
        EXPECT_EQ(f64[i], e.f64);
        EXPECT_EQ(b[i] != 0, e.b);
        EXPECT_EQ(r.column("dec").str(i), e.dec);
        EXPECT_EQ(r.column("ch").str(i), e.ch);
        EXPECT_EQ(r.column("vc").str(i), e.vc);
        EXPECT_EQ(r.column("en").str(i), e.en);
        EXPECT_EQ(dj::to_string(d[i]), dj::to_string(e.d));
        EXPECT_EQ(dt[i].micros, e.dt.micros) << dj::to_string(dt[i]) << " vs " << dj::to_string(e.dt);
        EXPECT_EQ(dt6[i].micros, e.dt6.micros) << dj::to_string(dt6[i]) << " vs " << dj::to_string(e.dt6);
        const auto bytes = r.column("by").bytes(i);
        EXPECT_EQ(dj::Bytes(bytes.begin(), bytes.end()), e.by);
        expect_json(r.column("js").str(i), e.js);
        EXPECT_EQ(dj::to_string(r.column("uu").uuid(i)), dj::to_string(e.uu));
        for (std::size_t c = 0; c < r.ncols(); ++c) EXPECT_FALSE(r.column(c).is_null(i)) << r.column(c).name();
    }
    for (std::size_t c = 0; c < r.ncols(); ++c) EXPECT_FALSE(r.column(c).has_nulls());
}

void expect_kinds(const dj::Result& r) {
    const std::vector<std::pair<const char*, int>> kinds = {
        {"id", DJ_KIND_INT32},       {"i8", DJ_KIND_INT8},     {"i16", DJ_KIND_INT16},   {"i32", DJ_KIND_INT32},
        {"i64", DJ_KIND_INT64},      {"f32", DJ_KIND_FLOAT32}, {"f64", DJ_KIND_FLOAT64}, {"b", DJ_KIND_BOOL},
        {"dec", DJ_KIND_DECIMAL},    {"ch", DJ_KIND_STRING},   {"vc", DJ_KIND_STRING},   {"en", DJ_KIND_STRING},
        {"d", DJ_KIND_DATE},         {"dt", DJ_KIND_DATETIME}, {"dt6", DJ_KIND_DATETIME}, {"by", DJ_KIND_BYTES},
        {"js", DJ_KIND_JSON},        {"uu", DJ_KIND_UUID},
    };
    for (const auto& [name, kind] : kinds) {
        const auto col = r.column(name);
        EXPECT_EQ(col.kind(), kind) << name << " is " << dj::kind_name(col.kind());
        EXPECT_EQ(col.in_key(), std::string(name) == "id") << name;
    }
    EXPECT_EQ(r.column("dec").type(), "decimal(10,2)");
    EXPECT_EQ(r.column("dt6").type(), "datetime(6)");
    EXPECT_EQ(r.column("en").type(), "enum('red','green','blue')");
}

}  // namespace

class Types : public DbTest {};

TEST_F(Types, RowPathRoundTripsEveryCoreType) {
    auto t = schema.declare("AllTypes", dj::Tier::Manual, kAllTypes);
    const auto rows = expected_rows();
    // First row with insert1, the others as one row batch.
    EXPECT_EQ(t.insert1(row_of(rows[0])), 1u);
    std::vector<dj::Row> rest;
    for (std::size_t i = 1; i < rows.size(); ++i) rest.push_back(row_of(rows[i]));
    EXPECT_EQ(t.insert(rest), rows.size() - 1);

    const dj::Result r = t.fetch({{}, "id", -1, 0});
    expect_kinds(r);
    expect_rows(r, rows);
}

TEST_F(Types, BatchPathRoundTripsEveryCoreType) {
    auto t = schema.declare("AllTypes", dj::Tier::Manual, kAllTypes);
    const auto rows = expected_rows();
    const dj::Batch batch = batch_of(rows);
    EXPECT_EQ(batch.nrows(), rows.size());
    EXPECT_EQ(batch.ncols(), 18u);
    EXPECT_EQ(t.insert(batch), rows.size());

    const dj::Result r = t.fetch({{}, "id", -1, 0});
    expect_kinds(r);
    expect_rows(r, rows);
}

TEST_F(Types, RowAndBatchPathsStoreIdenticalValues) {
    auto a = schema.declare("ViaRows", dj::Tier::Manual, kAllTypes);
    auto b = schema.declare("ViaBatch", dj::Tier::Manual, kAllTypes);
    const auto rows = expected_rows();
    for (const auto& e : rows) a.insert1(row_of(e));
    b.insert(batch_of(rows));
    const dj::Result ra = a.fetch({{}, "id", -1, 0});
    const dj::Result rb = b.fetch({{}, "id", -1, 0});
    ASSERT_EQ(ra.nrows(), rb.nrows());
    for (std::size_t c = 0; c < ra.ncols(); ++c)
        for (std::size_t i = 0; i < ra.nrows(); ++i)
            EXPECT_EQ(ra.column(c).to_string(i), rb.column(c).to_string(i)) << ra.column(c).name() << " row " << i;
}

TEST_F(Types, UnicodeIsCountedInCharactersNotBytes) {
    auto t = schema.declare("Text", dj::Tier::Manual, "id : int32\n---\ns : varchar(4)\nc : char(2)");
    t.insert1(dj::Row().set("id", 1).set("s", "日本語🎉").set("c", "ßü"));  // 4 and 2 characters
    EXPECT_EQ(t.fetch1().column("s").str(0), "日本語🎉");
    EXPECT_EQ(t.fetch1().column("c").str(0), "ßü");
    EXPECT_EQ(error_code_of([&] { t.insert1(dj::Row().set("id", 2).set("s", "日本語🎉!").set("c", "a")); }), DJ_E_TYPE);
}

TEST_F(Types, StringsWithEmbeddedNulAreRejectedOrKeptExactly) {
    // Text attributes go through dj_row_set_string_n: the length is explicit. A NUL inside UTF-8
    // text is valid UTF-8; bytes attributes keep it for sure.
    auto t = schema.declare("Blob", dj::Tier::Manual, "id : int32\n---\ndata : bytes");
    const dj::Bytes payload{'a', 0, 'b', 0, 0, 'c'};
    t.insert1(dj::Row().set("id", 1).set("data", payload));
    dj::Batch batch;
    batch.add("id", std::vector<int32_t>{2}).add_bytes("data", {dj::Bytes(1024, 0)});
    t.insert(batch);
    const dj::Result r = t.fetch({{}, "id", -1, 0});
    const auto b0 = r.column("data").bytes(0);
    const auto b1 = r.column("data").bytes(1);
    EXPECT_EQ(dj::Bytes(b0.begin(), b0.end()), payload);
    EXPECT_EQ(b1.size(), 1024u);
    EXPECT_EQ(r.column("data").to_string(0), "<6 bytes>");
}

TEST_F(Types, TextIsParsedForTypedAttributes) {
    // A string value is parsed for date, datetime, uuid, decimal and json attributes.
    auto t = schema.declare("Parsed", dj::Tier::Manual, R"(
        id : int32
        ---
        d : date
        dt : datetime(3)
        u : uuid
        x : decimal(6,3)
        j : json
        f : float64
        n : int16
    )");
    t.insert1(dj::Row()
                  .set("id", 1)
                  .set("d", "2024-02-29")
                  .set("dt", "2024-02-29T12:00:00.250")
                  .set("u", "123E4567-E89B-12D3-A456-426614174000")
                  .set("x", "1.5")
                  .set("j", R"({"k":[1,2]})")
                  .set("f", 3)          // integer into float64
                  .set("n", 12.0));     // integral float into int16
    const dj::Result r = t.fetch1();
    EXPECT_EQ(dj::to_string(r.column("d").values<dj::Date>()[0]), "2024-02-29");
    EXPECT_EQ(dj::to_string(r.column("dt").values<dj::Datetime>()[0]), "2024-02-29 12:00:00.250000");
    EXPECT_EQ(dj::to_string(r.column("u").uuid(0)), "123e4567-e89b-12d3-a456-426614174000");
    EXPECT_EQ(r.column("x").str(0), "1.500");
    expect_json(r.column("j").str(0), R"({"k":[1,2]})");
    EXPECT_EQ(r.column("f").values<double>()[0], 3.0);
    EXPECT_EQ(r.column("n").values<int16_t>()[0], 12);
    EXPECT_EQ(error_code_of([&] { t.insert1(dj::Row().set("id", 2).set("d", "2024-02-30").set("dt", "x").set("u", "x").set("x", "1").set("j", "1").set("f", 1).set("n", 1)); }),
              DJ_E_TYPE);
    EXPECT_EQ(error_code_of([&] { t.insert1(dj::Row().set("id", 2).set("d", "2024-02-28").set("dt", "2024-01-01").set("u", "123e4567-e89b-12d3-a456-426614174000").set("x", "1").set("j", "1").set("f", 1).set("n", 12.5)); }),
              DJ_E_TYPE);
}

TEST_F(Types, DatetimeWithoutPrecisionHasWholeSeconds) {
    auto t = schema.declare("Clock", dj::Tier::Manual, "id : int32\n---\nt0 : datetime\nt6 : datetime(6)");
    const auto when = dj::Datetime::parse("2024-05-06 07:08:09.123456");
    t.insert1(dj::Row().set("id", 1).set("t0", when).set("t6", when));
    const dj::Result r = t.fetch1();
    EXPECT_EQ(dj::to_string(r.column("t0").values<dj::Datetime>()[0]), "2024-05-06 07:08:09");
    EXPECT_EQ(dj::to_string(r.column("t6").values<dj::Datetime>()[0]), "2024-05-06 07:08:09.123456");
}

TEST_F(Types, DatesOutsideTheSupportedRangeAreRejected) {
    // datetime values are limited to years 1..9999 (DJ_E_TYPE otherwise); date values should be too.
    auto t = schema.declare("Day", dj::Tier::Manual, "id : int32\n---\nday : date");
    t.insert1(dj::Row().set("id", 1).set("day", dj::Date::ymd(1, 1, 1)));
    t.insert1(dj::Row().set("id", 2).set("day", dj::Date::ymd(9999, 12, 31)));
    const dj::Result r = t.fetch({{}, "id", -1, 0});
    EXPECT_EQ(dj::to_string(r.column("day").values<dj::Date>()[0]), "0001-01-01");
    EXPECT_EQ(dj::to_string(r.column("day").values<dj::Date>()[1]), "9999-12-31");
    for (const dj::Date d : {dj::Date::ymd(10000, 1, 1), dj::Date{std::numeric_limits<int32_t>::max()},
                             dj::Date{std::numeric_limits<int32_t>::min()}}) {
        SCOPED_TRACE(d.days);
        EXPECT_EQ(error_code_of([&] { t.insert1(dj::Row().set("id", 3).set("day", d)); }), DJ_E_TYPE);
        (void)t.restrict("id = 3").del();
        EXPECT_EQ(error_code_of([&] { t.insert(dj::Batch().add("id", std::vector<int32_t>{3}).add("day", std::vector<dj::Date>{d})); }),
                  DJ_E_TYPE);
        (void)t.restrict("id = 3").del();
    }
}

TEST_F(Types, ExtremeDatetimesAreRejectedWithoutOverflow) {
    // Rounding to the attribute's precision must not overflow int64 before the range check.
    auto t = schema.declare("Instant", dj::Tier::Manual, "id : int32\n---\nt0 : datetime\nt6 : datetime(6)");
    for (const int64_t us : {std::numeric_limits<int64_t>::max() - 1, std::numeric_limits<int64_t>::min()}) {
        SCOPED_TRACE(us);
        const std::string msg = error_message_of(DJ_E_TYPE, [&] {
            t.insert1(dj::Row().set("id", 1).set("t0", dj::Datetime{us}).set("t6", dj::Datetime{0}));
        });
        EXPECT_NE(msg.find(std::to_string(us)), std::string::npos) << "the message should quote the value given: " << msg;
        EXPECT_EQ(error_code_of([&] { t.insert1(dj::Row().set("id", 1).set("t0", dj::Datetime{0}).set("t6", dj::Datetime{us})); }),
                  DJ_E_TYPE);
    }
    EXPECT_EQ(t.count(), 0u);
}

TEST_F(Types, InfinityIsStoredExceptOnMysql) {
    // ±inf is a float value on DuckDB and PostgreSQL; MySQL/MariaDB cannot hold it (DJ_E_TYPE).
    auto t = schema.declare("Inf", dj::Tier::Manual, "id : int32\n---\nf32 = null : float32\nf64 = null : float64");
    const double inf = std::numeric_limits<double>::infinity();
    int32_t id = 0;
    for (const double v : {inf, -inf}) {
        SCOPED_TRACE(v);
        const int32_t row_id = ++id, batch_id = ++id;
        auto by_row = [&] { t.insert1(dj::Row().set("id", row_id).set("f64", v).set("f32", static_cast<float>(v))); };
        dj::Batch b;
        b.add("id", std::vector<int32_t>{batch_id}).add("f32", std::vector<float>{static_cast<float>(v)}).add("f64", std::vector<double>{v});
        if (on_mysql()) {
            const std::string msg = error_message_of(DJ_E_TYPE, by_row);
            EXPECT_NE(msg.find("'f"), std::string::npos) << "the message names the attribute: " << msg;
            EXPECT_EQ(error_code_of([&] { t.insert(b); }), DJ_E_TYPE);
        } else {
            by_row();
            t.insert(b);
            const dj::Result r = t.restrict("id >= " + std::to_string(row_id)).fetch({{}, "id", -1, 0});
            ASSERT_EQ(r.nrows(), 2u);
            for (std::size_t i = 0; i < 2; ++i) {
                EXPECT_EQ(r.column("f64").values<double>()[i], v);
                EXPECT_EQ(r.column("f32").values<float>()[i], static_cast<float>(v));
            }
        }
    }
    EXPECT_EQ(t.count(), on_mysql() ? 0u : 4u);
}

// ---------------------------------------------------------------- NULLs

namespace {
const char* const kNullable = R"(
    id : int32
    ---
    i8 = null : int8
    i16 = null : int16
    i32 = null : int32
    i64 = null : int64
    f32 = null : float32
    f64 = null : float64
    b = null : bool
    dec = null : decimal(10,2)
    ch = null : char(4)
    vc = null : varchar(64)
    en = null : enum('red','green')
    d = null : date
    dt = null : datetime
    by = null : bytes
    js = null : json
    uu = null : uuid
)";

const std::vector<std::string> kNullableNames = {"i8", "i16", "i32", "i64", "f32", "f64", "b",  "dec",
                                                 "ch", "vc",  "en",  "d",   "dt",  "by",  "js", "uu"};

dj::Row full_nullable_row(int32_t id) {
    return dj::Row()
        .set("id", id)
        .set("i8", int8_t{-8})
        .set("i16", int16_t{-16})
        .set("i32", -32)
        .set("i64", int64_t{-64})
        .set("f32", 3.25f)
        .set("f64", -6.5)
        .set("b", false)
        .set("dec", dj::Decimal{"-0.50"})
        .set("ch", "ab")
        .set("vc", "Grüße")
        .set("en", "green")
        .set("d", dj::Date::ymd(2000, 1, 1))
        .set("dt", dj::Datetime::parse("2000-01-01 10:00:00"))
        .set("by", dj::Bytes{0})
        .set("js", dj::Json{"null"})
        .set("uu", dj::Uuid::parse("00000000-0000-0000-0000-000000000001"));
}

void expect_full_values(const dj::Result& r, std::size_t i) {
    EXPECT_EQ(r.column("i8").values<int8_t>()[i], -8);
    EXPECT_EQ(r.column("i16").values<int16_t>()[i], -16);
    EXPECT_EQ(r.column("i32").values<int32_t>()[i], -32);
    EXPECT_EQ(r.column("i64").values<int64_t>()[i], -64);
    EXPECT_EQ(r.column("f32").values<float>()[i], 3.25f);
    EXPECT_EQ(r.column("f64").values<double>()[i], -6.5);
    EXPECT_EQ(r.column("b").values<uint8_t>()[i], 0);
    EXPECT_EQ(r.column("dec").str(i), "-0.50");
    EXPECT_EQ(r.column("ch").str(i), "ab");
    EXPECT_EQ(r.column("vc").str(i), "Grüße");
    EXPECT_EQ(r.column("en").str(i), "green");
    EXPECT_EQ(dj::to_string(r.column("d").values<dj::Date>()[i]), "2000-01-01");
    EXPECT_EQ(dj::to_string(r.column("dt").values<dj::Datetime>()[i]), "2000-01-01 10:00:00");
    EXPECT_EQ(r.column("by").bytes(i).size(), 1u);
    EXPECT_EQ(r.column("js").str(i), "null");  // the JSON document `null`, not SQL NULL
    EXPECT_EQ(dj::to_string(r.column("uu").uuid(i)), "00000000-0000-0000-0000-000000000001");
}
}  // namespace

TEST_F(Types, NullsThroughTheRowPath) {
    auto t = schema.declare("Maybe", dj::Tier::Manual, kNullable);
    // Row 1: everything omitted (defaults to NULL). Row 2: explicit NULLs (nullptr, dj::null,
    // empty std::optional). Row 3: values.
    t.insert1(dj::Row().set("id", 1));
    dj::Row explicit_nulls;
    explicit_nulls.set("id", 2);
    for (std::size_t k = 0; k < kNullableNames.size(); ++k) {
        if (k % 3 == 0) explicit_nulls.set(kNullableNames[k], nullptr);
        else if (k % 3 == 1) explicit_nulls.set(kNullableNames[k], dj::null);
        else explicit_nulls.set(kNullableNames[k], std::optional<int>{});
    }
    t.insert1(explicit_nulls);
    t.insert1(full_nullable_row(3));
    // NaN means NULL for numeric attributes (the reference's rule).
    t.insert1(dj::Row().set("id", 4).set("f64", std::numeric_limits<double>::quiet_NaN()));

    const dj::Result r = t.fetch({{}, "id", -1, 0});
    ASSERT_EQ(r.nrows(), 4u);
    for (const auto& name : kNullableNames) {
        SCOPED_TRACE(name);
        const auto col = r.column(name);
        EXPECT_TRUE(col.has_nulls());
        EXPECT_TRUE(col.is_null(0));
        EXPECT_TRUE(col.is_null(1));
        EXPECT_FALSE(col.is_null(2));
        EXPECT_EQ(col.to_string(0), "NULL");
    }
    expect_full_values(r, 2);
    EXPECT_TRUE(r.column("f64").is_null(3));
    EXPECT_FALSE(r.column("id").has_nulls());
}

TEST_F(Types, NullsThroughTheBatchPath) {
    auto t = schema.declare("Maybe", dj::Tier::Manual, kNullable);
    const std::vector<bool> valid = {false, true, false};
    dj::Batch b;
    b.add("id", std::vector<int32_t>{1, 2, 3})
        .add("i8", std::vector<int8_t>{0, -8, 0}, valid)
        .add("i16", std::vector<int16_t>{0, -16, 0}, valid)
        .add("i32", std::vector<int32_t>{0, -32, 0}, valid)
        .add("i64", std::vector<int64_t>{0, -64, 0}, valid)
        .add("f32", std::vector<float>{0, 3.25f, 0}, valid)
        .add("f64", std::vector<double>{0, -6.5, 0}, valid)
        .add("b", std::vector<bool>{true, false, true}, valid)
        .add_decimals("dec", {"", "-0.50", "garbage is not read"}, valid)
        .add_strings("ch", {"", "ab", ""}, valid)
        .add_strings("vc", {"", "Grüße", ""}, valid)
        .add_strings("en", {"", "green", "not a member"}, valid)
        .add("d", std::vector<dj::Date>{{0}, dj::Date::ymd(2000, 1, 1), {0}}, valid)
        .add("dt", std::vector<dj::Datetime>{{0}, dj::Datetime::parse("2000-01-01 10:00:00"), {0}}, valid)
        .add_bytes("by", {{}, {0}, {}}, valid)
        .add_json("js", {"", "null", "{"}, valid)
        .add("uu", std::vector<dj::Uuid>{{}, dj::Uuid::parse("00000000-0000-0000-0000-000000000001"), {}}, valid);
    EXPECT_EQ(t.insert(b), 3u);

    const dj::Result r = t.fetch({{}, "id", -1, 0});
    ASSERT_EQ(r.nrows(), 3u);
    for (const auto& name : kNullableNames) {
        SCOPED_TRACE(name);
        const auto col = r.column(name);
        EXPECT_TRUE(col.is_null(0));
        EXPECT_FALSE(col.is_null(1));
        EXPECT_TRUE(col.is_null(2));
    }
    expect_full_values(r, 1);
}

TEST_F(Types, NullIsRejectedForRequiredAttributes) {
    auto t = schema.declare("Required", dj::Tier::Manual, "id : int32\n---\nv : int32");
    const std::string msg = error_message_of(DJ_E_TYPE, [&] { t.insert1(dj::Row().set("id", 1).set("v", nullptr)); });
    EXPECT_NE(msg.find("'v'"), std::string::npos) << msg;
    dj::Batch b;
    b.add("id", std::vector<int32_t>{1, 2}).add("v", std::vector<int32_t>{1, 2}, {true, false});
    EXPECT_EQ(error_code_of([&] { t.insert(b); }), DJ_E_TYPE);
    EXPECT_EQ(t.count(), 0u);
}

// ---------------------------------------------------------------- defaults and heading

namespace {
const char* const kDefaults = R"(
    # defaults of several kinds
    id : int32
    ---
    n = 7 : int32               # a number
    s = "hello, world" : varchar(20)
    f = 2.5 : float64
    mode = 'b' : enum('a','b')
    day = "2020-01-01" : date
    price = 1.5 : decimal(5,2)
    note = null : varchar(10)
)";

void expect_defaults(const dj::Result& r, std::size_t i) {
    EXPECT_EQ(r.column("n").values<int32_t>()[i], 7);
    EXPECT_EQ(r.column("s").str(i), "hello, world");
    EXPECT_EQ(r.column("f").values<double>()[i], 2.5);
    EXPECT_EQ(r.column("mode").str(i), "b");
    EXPECT_EQ(dj::to_string(r.column("day").values<dj::Date>()[i]), "2020-01-01");
    EXPECT_EQ(r.column("price").str(i), "1.50");
    EXPECT_TRUE(r.column("note").is_null(i));
}
}  // namespace

TEST_F(Types, DefaultsAreAppliedWhenAttributesAreOmitted) {
    auto t = schema.declare("Defaults", dj::Tier::Manual, kDefaults);
    t.insert1(dj::Row().set("id", 1));                         // row path
    t.insert(dj::Batch().add("id", std::vector<int32_t>{2}));  // batch path
    t.insert1(dj::Row().set("id", 3).set("n", 8).set("note", "given"));
    const dj::Result r = t.fetch({{}, "id", -1, 0});
    ASSERT_EQ(r.nrows(), 3u);
    expect_defaults(r, 0);
    expect_defaults(r, 1);
    EXPECT_EQ(r.column("n").values<int32_t>()[2], 8);
    EXPECT_EQ(r.column("note").str(2), "given");
    EXPECT_EQ(r.column("s").str(2), "hello, world");
}

TEST_F(Types, HeadingDescribesEveryAttribute) {
    auto t = schema.declare("Defaults", dj::Tier::Manual, kDefaults);
    EXPECT_EQ(t.name(), "defaults");
    EXPECT_EQ(t.comment(), "defaults of several kinds");
    const auto attrs = t.attributes();
    ASSERT_EQ(attrs.size(), 8u);
    EXPECT_EQ(attrs[0].name, "id");
    EXPECT_EQ(attrs[0].type, "int32");
    EXPECT_TRUE(attrs[0].in_key);
    EXPECT_FALSE(attrs[0].nullable);
    EXPECT_FALSE(attrs[0].default_value.has_value());
    EXPECT_EQ(attrs[0].kind, DJ_KIND_INT32);

    EXPECT_EQ(attrs[1].name, "n");
    EXPECT_FALSE(attrs[1].in_key);
    EXPECT_EQ(attrs[1].comment, "a number");
    ASSERT_TRUE(attrs[1].default_value.has_value());
    EXPECT_EQ(*attrs[1].default_value, "7");

    EXPECT_EQ(attrs[2].type, "varchar(20)");
    ASSERT_TRUE(attrs[2].default_value.has_value());
    EXPECT_EQ(*attrs[2].default_value, "hello, world");
    EXPECT_EQ(attrs[2].kind, DJ_KIND_STRING);

    EXPECT_EQ(attrs[4].type, "enum('a','b')");
    EXPECT_EQ(attrs[6].kind, DJ_KIND_DECIMAL);

    EXPECT_EQ(attrs[7].name, "note");
    EXPECT_TRUE(attrs[7].nullable);
    ASSERT_TRUE(attrs[7].default_value.has_value());
    EXPECT_EQ(*attrs[7].default_value, "NULL");
}

TEST_F(Types, TierSetsTheTableNamePrefix) {
    EXPECT_EQ(schema.declare("Animal", dj::Tier::Lookup, "animal : varchar(8)").name(), "#animal");
    EXPECT_EQ(schema.declare("RawScan", dj::Tier::Manual, "scan_id : int32").name(), "raw_scan");
    EXPECT_EQ(schema.declare("Loaded", dj::Tier::Imported, "-> RawScan").name(), "_loaded");
    EXPECT_EQ(schema.declare("Analysis", dj::Tier::Computed, "-> Loaded").name(), "__analysis");
    const auto tables = schema.tables();
    EXPECT_EQ(tables, (std::vector<std::string>{"#animal", "__analysis", "_loaded", "raw_scan"}));
    // Declaring an existing table opens it.
    EXPECT_EQ(schema.declare("Animal", dj::Tier::Lookup, "animal : varchar(8)").name(), "#animal");
}

// ---------------------------------------------------------------- uint64 (native bigint unsigned)

namespace {
constexpr uint64_t kU64Max = std::numeric_limits<uint64_t>::max();
const char* const kUnsigned = "id : int32\n---\nx = null : bigint unsigned";
}  // namespace

TEST_F(Types, BigintUnsignedHoldsTheWholeUint64Range) {
    if (on_postgres()) {
        // PostgreSQL has no unsigned integers: the native MySQL type is a definition error there.
        const std::string msg = error_message_of(DJ_E_DEFINITION, [&] { (void)schema.declare("Unsigned", dj::Tier::Manual, kUnsigned); });
        EXPECT_NE(msg.find("unsigned"), std::string::npos) << msg;
        EXPECT_TRUE(schema.tables().empty());
        return;
    }
    auto t = schema.declare("Unsigned", dj::Tier::Manual, kUnsigned);
    const auto attrs = t.attributes();
    ASSERT_EQ(attrs.size(), 2u);
    EXPECT_EQ(attrs[1].kind, DJ_KIND_UINT64) << dj::kind_name(attrs[1].kind);
    EXPECT_STREQ(dj::kind_name(DJ_KIND_UINT64), "uint64");
    // Row path: beyond int64, zero, and a plain int.
    EXPECT_EQ(t.insert1(dj::Row().set("id", 1).set("x", kU64Max)), 1u);
    EXPECT_EQ(t.insert1(dj::Row().set("id", 2).set("x", uint64_t{0})), 1u);
    EXPECT_EQ(t.insert1(dj::Row().set("id", 3).set("x", 12345)), 1u);
    // Batch path: a DJ_KIND_UINT64 buffer with a NULL.
    dj::Batch b;
    b.add("id", std::vector<int32_t>{4, 5, 6}).add("x", std::vector<uint64_t>{kU64Max, uint64_t{1} << 63, 7}, {true, true, false});
    EXPECT_EQ(b.descriptors()[1].kind, DJ_KIND_UINT64);
    EXPECT_EQ(t.insert(b), 3u);

    const dj::Result r = t.fetch({{}, "id", -1, 0});
    ASSERT_EQ(r.nrows(), 6u);
    const auto col = r.column("x");
    EXPECT_EQ(col.kind(), DJ_KIND_UINT64);
    const auto x = col.values<uint64_t>();
    EXPECT_EQ(x[0], kU64Max);
    EXPECT_EQ(x[1], 0u);
    EXPECT_EQ(x[2], 12345u);
    EXPECT_EQ(x[3], kU64Max);
    EXPECT_EQ(x[4], uint64_t{1} << 63);
    EXPECT_TRUE(col.is_null(5));
    EXPECT_FALSE(col.is_null(0));
    EXPECT_EQ(col.to_string(0), "18446744073709551615");
    EXPECT_THROW((void)col.values<int64_t>(), dj::TypeError);
    // Restrictions by SQL and by key compare the full range.
    EXPECT_EQ(t.restrict("x = 18446744073709551615").count(), 2u);
    EXPECT_EQ(t.restrict(dj::Row().set("x", kU64Max)).count(), 2u);
    EXPECT_EQ(t.restrict("x > 9223372036854775807").count(), 3u);
    // Out of range: negative values through both paths; nothing is written.
    EXPECT_EQ(error_code_of([&] { t.insert1(dj::Row().set("id", 7).set("x", -1)); }), DJ_E_TYPE);
    EXPECT_EQ(error_code_of([&] { t.insert(dj::Batch().add("id", std::vector<int32_t>{7}).add("x", std::vector<int64_t>{-1})); }),
              DJ_E_TYPE);
    EXPECT_EQ(t.count(), 6u);
    // The heading read back from the database keeps the kind.
    EXPECT_EQ(db.connect().schema(schema_name, false).table("Unsigned").attributes()[1].kind, DJ_KIND_UINT64);
}

TEST_F(Types, Uint64BuffersAreRangeCheckedForSignedAttributes) {
    auto t = schema.declare("Signed", dj::Tier::Manual, "id : int32\n---\nv : int64\nsmall : int8");
    dj::Batch ok;
    ok.add("id", std::vector<int32_t>{1, 2})
        .add("v", std::vector<uint64_t>{0, static_cast<uint64_t>(std::numeric_limits<int64_t>::max())})
        .add("small", std::vector<uint64_t>{0, 127});
    EXPECT_EQ(t.insert(ok), 2u);
    const dj::Result r = t.fetch({{}, "id", -1, 0});
    EXPECT_EQ(r.column("v").kind(), DJ_KIND_INT64);
    EXPECT_EQ(r.column("v").values<int64_t>()[1], std::numeric_limits<int64_t>::max());
    EXPECT_EQ(r.column("small").values<int8_t>()[1], 127);

    dj::Batch big;
    big.add("id", std::vector<int32_t>{3}).add("v", std::vector<uint64_t>{uint64_t{1} << 63}).add("small", std::vector<uint64_t>{0});
    const std::string msg = error_message_of(DJ_E_TYPE, [&] { t.insert(big); });
    EXPECT_NE(msg.find("'v'"), std::string::npos) << msg;
    dj::Batch small;
    small.add("id", std::vector<int32_t>{3}).add("v", std::vector<uint64_t>{1}).add("small", std::vector<uint64_t>{128});
    EXPECT_EQ(error_code_of([&] { t.insert(small); }), DJ_E_TYPE);
    EXPECT_THROW(t.insert1(dj::Row().set("id", 3).set("v", kU64Max).set("small", 0)), dj::TypeError);
    EXPECT_EQ(t.count(), 2u);
}

// ---------------------------------------------------------------- value helpers

TEST(Values, DateAndDatetimeHelpers) {
    EXPECT_EQ(dj::Date::ymd(1970, 1, 1).days, 0);
    EXPECT_EQ(dj::Date::ymd(1969, 12, 31).days, -1);
    EXPECT_EQ(dj::to_string(dj::Date::ymd(2024, 2, 29)), "2024-02-29");
    EXPECT_EQ(error_code_of([] { (void)dj::Date::ymd(2023, 2, 29); }), DJ_E_INVALID_ARG);
    EXPECT_THROW((void)dj::Date::ymd(2024, 13, 1), dj::InvalidArgument);

    EXPECT_EQ(dj::Datetime::parse("1970-01-01 00:00:01").micros, 1000000);
    EXPECT_EQ(dj::Datetime::parse("1970-01-01T00:00:00.000001Z").micros, 1);
    EXPECT_EQ(dj::Datetime::parse("1970-01-02").micros, 86400LL * 1000000);
    EXPECT_EQ(dj::to_string(dj::Datetime{-1}), "1969-12-31 23:59:59.999999");
    EXPECT_EQ(dj::to_string(dj::Datetime::parse("2024-02-29 12:34")), "2024-02-29 12:34:00");
    EXPECT_THROW((void)dj::Datetime::parse("yesterday"), dj::InvalidArgument);

    const auto u = dj::Uuid::parse("{123E4567-e89b-12d3-a456-426614174000}");
    EXPECT_EQ(u.bytes[0], 0x12);
    EXPECT_EQ(u.bytes[15], 0x00);
    EXPECT_EQ(dj::to_string(u), "123e4567-e89b-12d3-a456-426614174000");
    EXPECT_THROW((void)dj::Uuid::parse("123"), dj::InvalidArgument);
    EXPECT_THROW((void)dj::Uuid::parse("123e4567-e89b-12d3-a456-42661417400g"), dj::InvalidArgument);
}

TEST(Values, FormatBuffersFollowTheSizeProtocol) {
    char small[5];
    std::size_t needed = 0;
    EXPECT_EQ(dj_date_format(0, small, sizeof small, &needed), DJ_E_INVALID_ARG);
    EXPECT_EQ(needed, 10u);
    EXPECT_EQ(small[0], '\0');  // always NUL-terminated when len > 0
    EXPECT_EQ(dj_datetime_format(0, nullptr, 0, &needed), DJ_OK);  // size query
    EXPECT_EQ(needed, 19u);
    char buf[20];
    EXPECT_EQ(dj_datetime_format(0, buf, sizeof buf, nullptr), DJ_OK);
    EXPECT_STREQ(buf, "1970-01-01 00:00:00");
}

TEST(Values, AbiVersionMatchesTheHeader) {
    EXPECT_EQ(dj::abi_version() >> 16, static_cast<uint32_t>(DJ_ABI_VERSION_MAJOR));
    EXPECT_EQ(dj::abi_version() & 0xFFFFu, static_cast<uint32_t>(DJ_ABI_VERSION_MINOR));
    EXPECT_FALSE(dj::version().empty());
    EXPECT_NO_THROW(dj::check_abi());
}
