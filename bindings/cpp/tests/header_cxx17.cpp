// datajoint.h + datajoint.hpp must compile warning-free as C++17 (-Wall -Wextra -Werror), using the
// dj::span fallback, and every template of the binding is instantiated here once.
#include "datajoint.h"
#include "datajoint.hpp"

#include <complex>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <string>
#include <type_traits>

static_assert(__cplusplus < 202002L, "this translation unit is meant to be compiled as C++17");
static_assert(!std::is_copy_constructible_v<dj::Connection> && std::is_nothrow_move_constructible_v<dj::Connection>);
static_assert(!std::is_copy_constructible_v<dj::Schema> && std::is_nothrow_move_constructible_v<dj::Schema>);
static_assert(!std::is_copy_constructible_v<dj::Table> && std::is_nothrow_move_constructible_v<dj::Table>);
static_assert(!std::is_copy_constructible_v<dj::Row> && std::is_nothrow_move_constructible_v<dj::Row>);
static_assert(!std::is_copy_constructible_v<dj::Result> && std::is_nothrow_move_constructible_v<dj::Result>);
static_assert(std::is_nothrow_destructible_v<dj::Connection> && std::is_nothrow_destructible_v<dj::Table>);
static_assert(std::is_base_of_v<std::runtime_error, dj::Error> && std::is_base_of_v<dj::Error, dj::NotUnique>);
static_assert(!std::is_copy_constructible_v<dj::NpyRef> && std::is_nothrow_move_constructible_v<dj::NpyRef>);
static_assert(!std::is_copy_constructible_v<dj::ArrayView> && std::is_nothrow_move_constructible_v<dj::ArrayView>);
static_assert(std::is_nothrow_destructible_v<dj::ArrayView> && std::is_nothrow_destructible_v<dj::NpyRef>);
static_assert(dj::dtype_of<std::complex<double>>() == dj::Dtype::Complex128 && dj::dtype_of<uint16_t>() == dj::Dtype::Uint16);
static_assert(dj::kind_of<uint64_t>() == DJ_KIND_UINT64 && dj::kind_of<unsigned long long>() == DJ_KIND_UINT64 &&
              dj::kind_of<int64_t>() == DJ_KIND_INT64);

// <npy@> arrays through a file store in a temporary folder (C++17: dj::span, no mdspan).
static int arrays() {
    namespace fs = std::filesystem;
    const fs::path dir = fs::temp_directory_path() / ("dj_header_cxx17_" + std::to_string(std::rand()));
    fs::create_directories(dir / "store");
    int bad = 0;
    {
        auto conn = dj::Connection::connect(
            "", R"({"database.path": ":memory:", "stores": {"default": "main", "main": {"protocol": "file", "location": ")" +
                    (dir / "store").string() + "\"}}}");
        auto t = conn.schema("cxx17").declare("Rec", dj::Tier::Manual, "rec_id : int32\n---\narr = null : <npy@>");
        const std::vector<float> v{1, 2, 3, 4, 5, 6};
        const std::vector<std::complex<double>> z{{1, -1}, {2, -2}};
        const uint16_t half[2] = {0x3c00, 0xc000};
        const char s5[] = "abcdefghij";
        const char32_t u2[] = U"xyzw";
        t.insert1(dj::Row().set("rec_id", 1).set("arr", dj::array(v, {2, 3}, dj::Order::F)));
        dj::Batch b;
        b.add("rec_id", std::vector<int32_t>{2, 3, 4, 5, 6, 7})
            .add_arrays("arr", {dj::array(z), dj::array(dj::span<const float>(v.data(), v.size()), {6}),
                                dj::float16_array(half, {2}), dj::bytes_array(s5, 5, {2}), dj::unicode_array(u2, 2, {2}),
                                dj::ArrayIn{}},
                        {true, true, true, true, true, false});
        t.insert(b);
        dj::Result r = t.fetch(dj::FetchOptions{{}, "rec_id", -1, 0});
        dj::NpyRef ref = r.npyref("arr", 0);
        bad += ref.is_loaded() || ref.dtype() != dj::Dtype::Float32 || ref.dtype_name() != "float32";
        bad += ref.shape() != std::vector<int64_t>{2, 3} || ref.ndim() != 2 || ref.size() != 6 || ref.nbytes() != 24;
        bad += ref.path().empty() || ref.store() != "main" || ref.itemsize() != 4;
        dj::ArrayView m = ref.map();
        bad += !m.is_mapped() || !m.is_f_order() || m.is_c_order() || m.values<float>()[5] != 6.0f;
        bad += m.strides() != std::vector<int64_t>{4, 8} || m.shape() != std::vector<int64_t>{2, 3};
        bad += ref.load().bytes().size() != 24 || !ref.is_loaded();
        bad += r.npyref("arr", 2).read_rows(1, 3).values<float>()[0] != 2.0f;
        bad += r.npyref(1, 1).load().values<std::complex<double>>()[1] != std::complex<double>(2, -2);
        bad += r.npyref("arr", 3).map().dtype() != dj::Dtype::Float16;
        bad += r.npyref("arr", 4).map().itemsize() != 5 || r.npyref("arr", 5).map().itemsize() != 8;
        try {
            (void)r.npyref("arr", 6);
            bad++;
        } catch (const dj::NotFound&) {
        }
        const dj::StoreStats st = conn.store_stats();
        bad += st.requests == 0 || st.bytes_written == 0;
        conn.close();
        bad += m.values<float>()[0] != 1.0f;  // views outlive the connection
    }
    fs::remove_all(dir);
    return bad;
}

int main() {
    auto conn = dj::Connection::duckdb(":memory:");
    auto schema = conn.schema("cxx17");
    auto t = schema.declare("Thing", dj::Tier::Lookup, R"(
        # things of all kinds
        thing_id : int32
        ---
        i8 = null : int8
        i16 = null : int16
        i64 = null : int64
        f32 = null : float32
        f64 = null : float64
        flag = null : bool
        label = null : varchar(32)
        data = null : bytes
        day = null : date
        at = null : datetime(6)
        uid = null : uuid
        price = null : decimal(8,2)
        doc = null : json
        big = null : bigint unsigned
    )");
    t.insert1(dj::Row()
                  .set("thing_id", 1)
                  .set("i8", int8_t{-1})
                  .set("i16", short{2})
                  .set("i64", 3LL)
                  .set("f32", 1.5f)
                  .set("f64", 2.5)
                  .set("flag", true)
                  .set("label", "one")
                  .set("data", dj::Bytes{0, 1})
                  .set("day", dj::Date::ymd(2024, 1, 2))
                  .set("at", dj::Datetime::parse("2024-01-02 03:04:05.000006"))
                  .set("uid", dj::Uuid::parse("123e4567-e89b-12d3-a456-426614174000"))
                  .set("price", dj::Decimal{"1.50"})
                  .set("doc", dj::Json{"{}"})
                  .set("big", std::numeric_limits<uint64_t>::max()));
    dj::Batch b;
    b.add("thing_id", std::vector<int32_t>{2, 3})
        .add("i8", std::vector<int8_t>{1, 2})
        .add("i16", std::vector<int16_t>{1, 2})
        .add("i64", std::vector<int64_t>{1, 2}, {true, false})
        .add("f32", std::vector<float>{1, 2})
        .add("f64", std::vector<double>{1, 2})
        .add("flag", std::vector<bool>{true, false})
        .add_strings("label", {"two", "three"})
        .add_bytes("data", {dj::Bytes{}, dj::Bytes{9}})
        .add("day", std::vector<dj::Date>{dj::Date{0}, dj::Date{1}})
        .add("at", std::vector<dj::Datetime>{dj::Datetime{0}, dj::Datetime{1}})
        .add("uid", std::vector<dj::Uuid>(2))
        .add_decimals("price", {"1", "2.25"})
        .add_json("doc", {"[]", "\"s\""})
        .add("big", std::vector<uint64_t>{0, uint64_t{1} << 63});
    t.insert(b, dj::InsertOptions{});

    dj::Result r = t.restrict("thing_id >= 1").exclude(dj::Row().set("thing_id", 99)).fetch(dj::FetchOptions{{}, "thing_id", -1, 0});
    int bad = 0;
    bad += r.nrows() != 3;
    dj::span<const int32_t> ids = r.column("thing_id").values<int32_t>();
    bad += ids.size() != 3 || ids[0] != 1 || ids[2] != 3;
    bad += r.column("i8").values<int8_t>()[0] != -1;
    bad += r.column("i16").values<int16_t>()[0] != 2;
    bad += !r.column("i64").is_null(2);
    bad += r.column("f32").values<float>()[0] != 1.5f;
    bad += r.column("f64").values<double>()[0] != 2.5;
    bad += r.column("flag").values<uint8_t>()[0] != 1;
    bad += r.column("label").str(1) != "two";
    bad += r.column("data").bytes(0).size() != 2;
    bad += dj::to_string(r.column("day").values<dj::Date>()[0]) != "2024-01-02";
    bad += dj::to_string(r.column("at").values<dj::Datetime>()[0]) != "2024-01-02 03:04:05.000006";
    bad += dj::to_string(r.column("uid").uuid(0)) != "123e4567-e89b-12d3-a456-426614174000";
    bad += r.column("price").str(0) != "1.50";
    bad += r.column("doc").to_string(0).empty();
    bad += r.column("big").kind() != DJ_KIND_UINT64;
    bad += r.column("big").values<uint64_t>()[0] != std::numeric_limits<uint64_t>::max();
    bad += r.column("big").values<uint64_t>()[2] != uint64_t{1} << 63;
    bad += r.column("big").to_string(0) != "18446744073709551615";
    bad += t.count() != 3;
    try {
        (void)t.fetch1();
        bad++;
    } catch (const dj::NotUnique& e) {
        bad += e.code() != DJ_E_NOT_UNIQUE;
    }
    conn.close();
    bad += arrays();
    std::printf("header_cxx17: %s (ABI %u.%u)\n", bad == 0 ? "ok" : "FAILED", dj::abi_version() >> 16,
                dj::abi_version() & 0xFFFFu);
    return bad == 0 ? 0 : 1;
}
