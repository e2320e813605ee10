// cross_cpp — the C++ half of the C++ <-> MATLAB/Octave cross-language test (tests/cross/run.sh).
//
//   cross_cpp write <dir> <schema>   declare <schema>.FromCpp and write the reference rows through datajoint.hpp
//   cross_cpp read  <dir> <schema>   read <schema>.FromOctave (written by cross_octave.m) and compare each value
//   cross_cpp drop  <dir> <schema>   drop the schema if it exists (servers; run.sh calls it at the end)
//
// Both sides use the backend under test (DJ_TEST_BACKEND / DJ_TEST_CONFIG, see
// bindings/cpp/tests/backend_env.hpp; DuckDB: the file <dir>/cross.duckdb), the same schema name
// (unique on the servers, chosen by run.sh) and the file store <dir>/store (default store
// "main"). Prints "ok <check>" / "FAIL <check>: ..." lines; exit status 1 on any failure.
// The expected values are the same constants as in cross_octave.m.
#include <datajoint.hpp>

#include "backend_env.hpp"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

namespace {

int g_failed = 0;

void report(bool ok, const std::string& what, const std::string& detail = "") {
    if (ok) {
        std::cout << "ok   cpp: " << what << "\n";
    } else {
        ++g_failed;
        std::cout << "FAIL cpp: " << what << (detail.empty() ? "" : ": " + detail) << "\n";
    }
}

template <class A, class B>
void expect_eq(const A& got, const B& want, const std::string& what) {
    std::ostringstream d;
    const bool ok = got == want;
    if (!ok) d << "got " << got << ", expected " << want;
    report(ok, what, d.str());
}

using djtest::json_str;

dj::Connection open(const std::string& dir) {
    const std::string extra = "{\"npy_cache.path\": " + json_str(dir + "/cache") +
                              ", \"stores\": {\"default\": \"main\", \"main\": {\"protocol\": \"file\", "
                              "\"location\": " + json_str(dir + "/store") + "}}}";
    dj::Connection c = dj::Connection::connect("", djtest::config_json(extra, dir + "/cross.duckdb"));
    if (c.backend() != djtest::backend())
        throw dj::Error(DJ_E_CONFIG, "connected to " + c.backend() + ", expected " + djtest::backend());
    return c;
}

// The table both sides declare (FromCpp and FromOctave).
const char* kDefinition = R"(
    # cross-language reference rows
    id : int32
    ---
    i8 : int8
    i16 : int16
    i32 : int32
    i64 : int64
    f32 : float32
    f64 : float64
    b : bool
    dec : decimal(10,2)
    vc : varchar(64)
    e : enum('red','green','blue')
    d : date
    dt : datetime(6)
    by : bytes
    js : json
    u : uuid
    n = null : float64
    arr = null : <npy@>
)";

const char* kUnicode = "h\xC3\xA9llo w\xC3\xB6rld \xE2\x9C\x93 \xE6\x97\xA5\xE6\x9C\xAC";  // "héllo wörld ✓ 日本"

struct Expected {
    int32_t id;
    int8_t i8;
    int16_t i16;
    int32_t i32;
    int64_t i64;
    float f32;
    double f64;
    bool b;
    std::string dec, vc, e, d, dt;
    dj::Bytes by;
    std::string js, u;
    bool n_null;
    double n;
};

std::vector<Expected> expected_rows() {
    return {
        {1, -128, -32768, std::numeric_limits<int32_t>::min(), std::numeric_limits<int64_t>::min(), -1.5f, -2.25e300,
         true, "-12.50", kUnicode, "green", "2024-05-01", "2024-05-01 12:30:15.123456", {0, 1, 2, 255},
         R"({"a":1,"b":[true,null]})", "0c7e4b76-1f3a-4a8e-9d2f-5b6c7d8e9f01", true, 0},
        {2, 127, 32767, std::numeric_limits<int32_t>::max(), std::numeric_limits<int64_t>::max(), 3.25f,
         3.141592653589793, false, "99999999.99", "", "red", "1999-12-31", "1970-01-01 00:00:00", {}, "[]",
         "ffffffff-ffff-ffff-ffff-ffffffffffff", false, 0.5},
    };
}

int write(const std::string& dir, const std::string& schema) {
    dj::Connection conn = open(dir);
    std::cout << "backend " << conn.backend() << ", schema " << schema << "\n";
    dj::Table t = conn.schema(schema).declare("FromCpp", dj::Tier::Manual, kDefinition);
    // Row 1: a C-order float64 (2,3,4) array with a[i,j,k] = 100i + 10j + k.
    std::vector<double> a3(24);
    for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 3; ++j)
            for (int k = 0; k < 4; ++k) a3[(i * 3 + j) * 4 + k] = 100.0 * i + 10.0 * j + k;
    // Row 2: a C-order int16 (3,2) array [[1,2],[3,4],[5,6]].
    std::vector<int16_t> a2 = {1, 2, 3, 4, 5, 6};
    for (const Expected& x : expected_rows()) {
        dj::Row r;
        r.set("id", x.id).set("i8", x.i8).set("i16", x.i16).set("i32", x.i32).set("i64", x.i64);
        r.set("f32", x.f32).set("f64", x.f64).set("b", x.b).set("dec", dj::Decimal{x.dec}).set("vc", x.vc);
        r.set("e", x.e).set("d", dj::Date{static_cast<int32_t>(dj::Datetime::parse(x.d).micros / 86400000000LL)});
        r.set("dt", dj::Datetime::parse(x.dt)).set("by", x.by).set("js", dj::Json{x.js}).set("u", dj::Uuid::parse(x.u));
        if (x.n_null) r.set("n", dj::null);
        else r.set("n", x.n);
        if (x.id == 1) r.set("arr", dj::array(a3, {2, 3, 4}, dj::Order::C));
        else r.set("arr", dj::array(a2, {3, 2}, dj::Order::C));
        t.insert1(r);
    }
    expect_eq(t.count(), uint64_t{2}, "wrote FromCpp");
    return g_failed == 0 ? 0 : 1;
}

template <class T>
T at(const dj::ArrayView& v, std::initializer_list<int64_t> idx) {
    const std::vector<int64_t> st = v.strides();
    int64_t off = 0;
    std::size_t k = 0;
    for (int64_t i : idx) off += i * st[k++];
    T x;
    std::memcpy(&x, static_cast<const uint8_t*>(v.data()) + off, sizeof(T));
    return x;
}

int read(const std::string& dir, const std::string& schema) {
    dj::Connection conn = open(dir);
    dj::Table t = conn.schema(schema, false).table("FromOctave");
    dj::FetchOptions o;
    o.order_by = "id";
    dj::Result r = t.fetch(o);
    expect_eq(r.nrows(), std::size_t{2}, "FromOctave rows");
    if (r.nrows() != 2) return 1;
    const auto rows = expected_rows();
    for (std::size_t i = 0; i < 2; ++i) {
        const Expected& x = rows[i];
        const std::string p = "FromOctave row " + std::to_string(x.id) + " ";
        expect_eq(r.column("id").values<int32_t>()[i], x.id, p + "id");
        expect_eq(int(r.column("i8").values<int8_t>()[i]), int(x.i8), p + "int8");
        expect_eq(r.column("i16").values<int16_t>()[i], x.i16, p + "int16");
        expect_eq(r.column("i32").values<int32_t>()[i], x.i32, p + "int32");
        expect_eq(r.column("i64").values<int64_t>()[i], x.i64, p + "int64");
        expect_eq(r.column("f32").values<float>()[i], x.f32, p + "float32");
        expect_eq(r.column("f64").values<double>()[i], x.f64, p + "float64");
        expect_eq(bool(r.column("b").values<uint8_t>()[i]), x.b, p + "bool");
        expect_eq(std::string(r.column("dec").str(i)), x.dec, p + "decimal");
        expect_eq(std::string(r.column("vc").str(i)), x.vc, p + "varchar (unicode)");
        expect_eq(std::string(r.column("e").str(i)), x.e, p + "enum");
        expect_eq(dj::to_string(r.column("d").values<dj::Date>()[i]), x.d, p + "date");
        expect_eq(r.column("dt").values<dj::Datetime>()[i].micros, dj::Datetime::parse(x.dt).micros, p + "datetime");
        const auto by = r.column("by").bytes(i);
        report(dj::Bytes(by.begin(), by.end()) == x.by, p + "bytes");
        expect_eq(std::string(r.column("js").str(i)), djtest::json_as_stored(x.js), p + "json");
        expect_eq(dj::to_string(r.column("u").uuid(i)), x.u, p + "uuid");
        expect_eq(r.column("n").is_null(i), x.n_null, p + "NULL");
        if (!x.n_null) expect_eq(r.column("n").values<double>()[i], x.n, p + "nullable float");
    }
    // Row 1: Octave's int32 2x3x4 array A with A(i+1,j+1,k+1) = 100i + 10j + k must be numpy's a[i,j,k].
    {
        const dj::NpyRef ref = r.npyref("arr", 0);
        expect_eq(ref.dtype_name(), std::string("int32"), "npy 3-D dtype");
        report(ref.shape() == std::vector<int64_t>{2, 3, 4}, "npy 3-D shape (2,3,4)");
        const dj::ArrayView v = ref.load();
        int bad = 0;
        for (int64_t i = 0; i < 2; ++i)
            for (int64_t j = 0; j < 3; ++j)
                for (int64_t k = 0; k < 4; ++k)
                    bad += at<int32_t>(v, {i, j, k}) != 100 * i + 10 * j + k;
        report(bad == 0, "npy 3-D a[i,j,k] == 100i+10j+k (numpy semantics)", std::to_string(bad) + " mismatches");
        report(v.is_f_order(), "npy 3-D written by Octave is Fortran order");
        const dj::ArrayView m = ref.map();
        report(at<int32_t>(m, {1, 2, 3}) == 123 && m.is_mapped(), "npy 3-D map a[1,2,3] == 123");
    }
    // Row 2: single([1 2 3 4 5]) is numpy shape (1,5); a 0-d would need dj.npy.
    {
        const dj::NpyRef ref = r.npyref("arr", 1);
        expect_eq(ref.dtype_name(), std::string("float32"), "npy row vector dtype");
        report(ref.shape() == std::vector<int64_t>{1, 5}, "npy row vector shape (1,5)");
        const dj::ArrayView v = ref.load();
        int bad = 0;
        for (int64_t j = 0; j < 5; ++j) bad += at<float>(v, {0, j}) != float(j + 1);
        report(bad == 0, "npy row vector values");
    }
    // Octave also wrote a 0-d and a 1-d array into FromOctaveShapes.
    {
        dj::Table s = conn.schema(schema, false).table("FromOctaveShapes");
        dj::Result rs = s.fetch(o);
        const dj::NpyRef z = rs.npyref("arr", 0);
        report(z.shape().empty(), "npy 0-d shape ()");
        expect_eq(z.load().values<double>()[0], 42.0, "npy 0-d value");
        const dj::NpyRef one = rs.npyref("arr", 1);
        report(one.shape() == std::vector<int64_t>{4}, "npy 1-d shape (4,)");
        const auto vals = one.load().values<int64_t>();
        report(vals.size() == 4 && vals[0] == -1 && vals[3] == std::numeric_limits<int64_t>::max(), "npy 1-d values");
        const dj::ArrayView rows = one.read_rows(1, 3);
        report(rows.shape() == std::vector<int64_t>{2} && rows.values<int64_t>()[0] == 2, "npy 1-d read_rows");
    }
    return g_failed == 0 ? 0 : 1;
}

}  // namespace

int drop(const std::string& dir, const std::string& schema) {
    dj::Connection conn = open(dir);
    const std::vector<std::string> names = conn.schemas();
    for (const auto& n : names)
        if (n == schema) conn.schema(schema, false).drop();
    bool left = false;
    for (const auto& n : conn.schemas()) left = left || n == schema;
    report(!left, "schema " + schema + " dropped");
    return left ? 1 : 0;
}

int main(int argc, char** argv) {
    if (argc != 4) {
        std::cerr << "usage: cross_cpp write|read|drop <dir> <schema>\n";
        return 2;
    }
    try {
        const std::string mode = argv[1];
        if (mode == "write") return write(argv[2], argv[3]);
        if (mode == "read") return read(argv[2], argv[3]);
        if (mode == "drop") return drop(argv[2], argv[3]);
        std::cerr << "unknown mode " << mode << "\n";
        return 2;
    } catch (const dj::Error& e) {
        std::cout << "FAIL cpp: " << e.code_name() << ": " << e.what() << "\n";
        return 1;
    }
}
