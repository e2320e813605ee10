// `<npy@store>` arrays through the C++ binding: every dtype × shape × order round trips through
// Row and Batch inserts, lazy refs, zero-copy maps of local files, views that outlive everything,
// ranged row reads, bad input, orphan-free failed inserts and deletes, corrupt files, and the
// same against an S3 server when DJ_TEST_S3_ENDPOINT names one.
#include "test_util.hpp"

#include <algorithm>
#include <complex>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <type_traits>

using namespace djtest;

// ---------------------------------------------------------------- compile-time mapping

static_assert(dj::dtype_of<bool>() == dj::Dtype::Bool);
static_assert(dj::dtype_of<int8_t>() == dj::Dtype::Int8);
static_assert(dj::dtype_of<int16_t>() == dj::Dtype::Int16);
static_assert(dj::dtype_of<int32_t>() == dj::Dtype::Int32);
static_assert(dj::dtype_of<int64_t>() == dj::Dtype::Int64);
static_assert(dj::dtype_of<long long>() == dj::Dtype::Int64);
static_assert(dj::dtype_of<uint8_t>() == dj::Dtype::Uint8);
static_assert(dj::dtype_of<uint16_t>() == dj::Dtype::Uint16);
static_assert(dj::dtype_of<uint32_t>() == dj::Dtype::Uint32);
static_assert(dj::dtype_of<uint64_t>() == dj::Dtype::Uint64);
static_assert(dj::dtype_of<unsigned long long>() == dj::Dtype::Uint64);
static_assert(dj::dtype_of<float>() == dj::Dtype::Float32);
static_assert(dj::dtype_of<const double>() == dj::Dtype::Float64);
static_assert(dj::dtype_of<std::complex<float>>() == dj::Dtype::Complex64);
static_assert(dj::dtype_of<std::complex<double>>() == dj::Dtype::Complex128);
static_assert(!dj::has_dtype_v<char> && !dj::has_dtype_v<char32_t> && !dj::has_dtype_v<long double> &&
              !dj::has_dtype_v<std::string> && !dj::has_dtype_v<dj::Date>);
static_assert(static_cast<int32_t>(dj::Dtype::Unicode) == DJ_DTYPE_UNICODE &&
              static_cast<int32_t>(dj::Dtype::Float16) == DJ_DTYPE_FLOAT16 &&
              static_cast<int32_t>(dj::Order::F) == DJ_ORDER_F);
static_assert(dj::dtype_itemsize(dj::Dtype::Complex128) == 16 && dj::dtype_itemsize(dj::Dtype::Bytes) == 0);
static_assert(!std::is_copy_constructible_v<dj::NpyRef> && std::is_nothrow_move_constructible_v<dj::NpyRef> &&
              std::is_nothrow_move_assignable_v<dj::NpyRef> && std::is_nothrow_destructible_v<dj::NpyRef>);
static_assert(!std::is_copy_constructible_v<dj::ArrayView> && !std::is_copy_assignable_v<dj::ArrayView> &&
              std::is_nothrow_move_constructible_v<dj::ArrayView> && std::is_nothrow_move_assignable_v<dj::ArrayView> &&
              std::is_nothrow_destructible_v<dj::ArrayView>);

// dj::array refuses temporaries (the insert would read freed memory) and packed std::vector<bool>.
template <class V, class = void>
struct can_make_array : std::false_type {};
template <class V>
struct can_make_array<V, std::void_t<decltype(dj::array(std::declval<V>(), std::vector<int64_t>{}))>> : std::true_type {};
static_assert(can_make_array<const std::vector<float>&>::value && can_make_array<std::vector<int16_t>&>::value);
static_assert(can_make_array<const double*>::value && can_make_array<std::span<const uint8_t>>::value);
static_assert(!can_make_array<std::vector<float>&&>::value && !can_make_array<std::vector<float>>::value);
static_assert(!can_make_array<const std::vector<bool>&>::value);

namespace {

// ---------------------------------------------------------------- helpers

fs::path make_dir(const fs::path& p) {
    fs::create_directories(p);
    return p;
}

/// Regular files under a folder (recursively).
std::vector<fs::path> files_under(const fs::path& dir) {
    std::vector<fs::path> out;
    std::error_code ec;
    if (!fs::exists(dir, ec)) return out;
    for (auto it = fs::recursive_directory_iterator(dir, ec); it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) break;
        if (it->is_regular_file(ec)) out.push_back(it->path());
    }
    return out;
}

/// The file a /proc/self/maps mapping containing `p` belongs to ("" if none or anonymous).
std::string mapping_file_of(const void* p) {
    const auto addr = reinterpret_cast<uintptr_t>(p);
    std::ifstream maps("/proc/self/maps");
    std::string line;
    while (std::getline(maps, line)) {
        std::istringstream is(line);
        std::string range, perms, offset, dev, inode, path;
        is >> range >> perms >> offset >> dev >> inode;
        std::getline(is >> std::ws, path);
        const auto dash = range.find('-');
        const uintptr_t lo = std::stoull(range.substr(0, dash), nullptr, 16);
        const uintptr_t hi = std::stoull(range.substr(dash + 1), nullptr, 16);
        if (addr >= lo && addr < hi) return path;
    }
    return "";
}

std::string canonical_str(const fs::path& p) { return fs::canonical(p).string(); }

std::vector<uint8_t> bytes_of(const dj::ArrayView& v) {
    const auto b = v.bytes();
    return std::vector<uint8_t>(b.begin(), b.end());
}

/// Byte strides of a contiguous layout.
std::vector<int64_t> strides_of(const std::vector<int64_t>& shape, int64_t itemsize, dj::Order order) {
    std::vector<int64_t> s(shape.size());
    int64_t acc = itemsize;
    if (order == dj::Order::F) {
        for (std::size_t i = 0; i < shape.size(); ++i) {
            s[i] = acc;
            acc *= shape[i];
        }
    } else {
        for (std::size_t i = shape.size(); i-- > 0;) {
            s[i] = acc;
            acc *= shape[i];
        }
    }
    return s;
}

uint64_t count_of(const std::vector<int64_t>& shape) {
    uint64_t n = 1;
    for (auto d : shape) n *= static_cast<uint64_t>(d);
    return n;
}

// ---------------------------------------------------------------- the dtype matrix

template <class T>
dj::ArrayIn typed(const std::vector<uint8_t>& buf, std::vector<int64_t> shape, dj::Order order) {
    return dj::array(reinterpret_cast<const T*>(buf.data()), std::move(shape), order);
}

struct DtypeCase {
    const char* label;
    dj::Dtype dtype;
    int64_t itemsize;
    const char* numpy_name;
    dj::ArrayIn (*make)(const std::vector<uint8_t>&, std::vector<int64_t>, dj::Order);
};

const std::vector<DtypeCase>& dtype_cases() {
    static const std::vector<DtypeCase> cases = {
        {"bool", dj::Dtype::Bool, 1, "bool", typed<bool>},
        {"int8", dj::Dtype::Int8, 1, "int8", typed<int8_t>},
        {"int16", dj::Dtype::Int16, 2, "int16", typed<int16_t>},
        {"int32", dj::Dtype::Int32, 4, "int32", typed<int32_t>},
        {"int64", dj::Dtype::Int64, 8, "int64", typed<int64_t>},
        {"uint8", dj::Dtype::Uint8, 1, "uint8", typed<uint8_t>},
        {"uint16", dj::Dtype::Uint16, 2, "uint16", typed<uint16_t>},
        {"uint32", dj::Dtype::Uint32, 4, "uint32", typed<uint32_t>},
        {"uint64", dj::Dtype::Uint64, 8, "uint64", typed<uint64_t>},
        {"float16", dj::Dtype::Float16, 2, "float16",
         [](const std::vector<uint8_t>& b, std::vector<int64_t> s, dj::Order o) {
             return dj::float16_array(reinterpret_cast<const uint16_t*>(b.data()), std::move(s), o);
         }},
        {"float32", dj::Dtype::Float32, 4, "float32", typed<float>},
        {"float64", dj::Dtype::Float64, 8, "float64", typed<double>},
        {"complex64", dj::Dtype::Complex64, 8, "complex64", typed<std::complex<float>>},
        {"complex128", dj::Dtype::Complex128, 16, "complex128", typed<std::complex<double>>},
        {"bytes_S5", dj::Dtype::Bytes, 5, "|S5",
         [](const std::vector<uint8_t>& b, std::vector<int64_t> s, dj::Order o) {
             return dj::bytes_array(b.data(), 5, std::move(s), o);
         }},
        {"unicode_U3", dj::Dtype::Unicode, 12, "<U3",
         [](const std::vector<uint8_t>& b, std::vector<int64_t> s, dj::Order o) {
             return dj::unicode_array(reinterpret_cast<const char32_t*>(b.data()), 3, std::move(s), o);
         }},
    };
    return cases;
}

/// Deterministic sample bytes that are valid for the dtype (bool 0/1, real code points for U).
std::vector<uint8_t> sample(const DtypeCase& c, uint64_t count, uint32_t seed) {
    std::vector<uint8_t> out(static_cast<std::size_t>(count * static_cast<uint64_t>(c.itemsize)));
    uint32_t x = seed * 2654435761u + 12345u;
    auto next = [&] {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        return x;
    };
    if (c.dtype == dj::Dtype::Bool) {
        for (auto& b : out) b = static_cast<uint8_t>(next() & 1);
    } else if (c.dtype == dj::Dtype::Unicode) {
        static const char32_t chars[] = {U'a', U'Z', U'7', U'\u00e9', U'\u4e2d', U'\U0001F600', 0};
        for (std::size_t i = 0; i + 4 <= out.size(); i += 4) {
            const char32_t ch = chars[next() % 7];
            for (int k = 0; k < 4; ++k) out[i + k] = static_cast<uint8_t>(ch >> (8 * k));
        }
    } else {
        for (auto& b : out) b = static_cast<uint8_t>(next() >> 7);
    }
    return out;
}

const std::vector<std::vector<int64_t>>& shapes() {
    static const std::vector<std::vector<int64_t>> s = {{}, {7}, {2, 3, 4}};
    return s;
}

/// Check a view against the array that was inserted.
void expect_view(const dj::ArrayView& v, const DtypeCase& c, const std::vector<int64_t>& shape, dj::Order order,
                 const std::vector<uint8_t>& expected, bool mapped, const std::string& what) {
    SCOPED_TRACE(what);
    ASSERT_TRUE(static_cast<bool>(v));
    EXPECT_EQ(v.dtype(), c.dtype);
    EXPECT_EQ(v.itemsize(), c.itemsize);
    EXPECT_EQ(v.ndim(), shape.size());
    EXPECT_EQ(v.shape(), shape);
    EXPECT_EQ(v.size(), count_of(shape));
    EXPECT_EQ(v.nbytes(), expected.size());
    // numpy records 0-d and 1-d arrays as C order; they are both C and F contiguous.
    const dj::Order stored = shape.size() > 1 ? order : dj::Order::C;
    EXPECT_EQ(v.strides(), strides_of(shape, c.itemsize, stored));
    EXPECT_EQ(v.is_c_order(), order == dj::Order::C || shape.size() <= 1);
    EXPECT_EQ(v.is_f_order(), order == dj::Order::F || shape.size() <= 1);
    EXPECT_TRUE(v.is_readonly());
    EXPECT_EQ(v.is_mapped(), mapped);
    EXPECT_TRUE(bytes_of(v) == expected) << "data differs";
}

/// One table and the arrays inserted into it (the buffers must outlive the inserts).
struct Inserted {
    int32_t id;
    const DtypeCase* c;
    std::vector<int64_t> shape;
    dj::Order order;
    std::vector<uint8_t> data;
};

/// Insert every shape × order of `c`, through Row (ids base..) and through Batch (ids base+50..).
std::vector<Inserted> insert_matrix(const dj::Table& t, const DtypeCase& c, int32_t base) {
    std::vector<Inserted> rows;
    uint32_t seed = static_cast<uint32_t>(base) + 1;
    for (const auto& shape : shapes())
        for (dj::Order order : {dj::Order::C, dj::Order::F}) {
            rows.push_back({base + static_cast<int32_t>(rows.size()), &c, shape, order, sample(c, count_of(shape), seed++)});
        }
    const std::size_t n = rows.size();
    // Row path: one insert1 per array.
    for (std::size_t i = 0; i < n; ++i) {
        const auto& r = rows[i];
        const dj::ArrayIn a = c.make(r.data, r.shape, r.order);
        EXPECT_EQ(a.nbytes, r.data.size());
        EXPECT_EQ(t.insert1(dj::Row().set("rec_id", r.id).set("arr", a)), 1u);
    }
    // Batch path: all of them again in one columnar insert.
    for (std::size_t i = 0; i < n; ++i) {
        Inserted copy = rows[i];
        copy.id = base + 50 + static_cast<int32_t>(i);
        copy.data = sample(c, count_of(copy.shape), seed++);
        rows.push_back(std::move(copy));
    }
    std::vector<int32_t> ids;
    std::vector<dj::ArrayIn> arrays;
    for (std::size_t i = n; i < rows.size(); ++i) {
        ids.push_back(rows[i].id);
        arrays.push_back(c.make(rows[i].data, rows[i].shape, rows[i].order));
    }
    dj::Batch b;
    b.add("rec_id", ids).add_arrays("arr", std::move(arrays));
    EXPECT_EQ(t.insert(b), n);
    return rows;
}

/// Fetch the rows back and check refs (no I/O), load and map.
void verify_matrix(const dj::Table& t, const std::vector<Inserted>& rows, const std::string& store, bool map_is_mapped) {
    for (const auto& r : rows) {
        const std::string what = std::string(r.c->label) + " ndim " + std::to_string(r.shape.size()) +
                                 (r.order == dj::Order::C ? " C" : " F") + " id " + std::to_string(r.id);
        SCOPED_TRACE(what);
        const dj::Result res = t.restrict("rec_id = " + std::to_string(r.id)).fetch1();
        const dj::NpyRef ref = res.npyref("arr", 0);
        EXPECT_EQ(ref.dtype(), r.c->dtype);
        EXPECT_EQ(ref.itemsize(), r.c->itemsize);
        EXPECT_EQ(ref.dtype_name(), r.c->numpy_name);
        EXPECT_EQ(ref.shape(), r.shape);
        EXPECT_EQ(ref.ndim(), r.shape.size());
        EXPECT_EQ(ref.size(), count_of(r.shape));
        EXPECT_EQ(ref.nbytes(), r.data.size());
        EXPECT_EQ(ref.store(), store);
        EXPECT_NE(ref.path().find(".npy"), std::string::npos) << ref.path();
        EXPECT_FALSE(ref.is_loaded());
        expect_view(ref.load(), *r.c, r.shape, r.order, r.data, false, "load");
        EXPECT_TRUE(ref.is_loaded());
        expect_view(ref.map(), *r.c, r.shape, r.order, r.data, map_is_mapped, "map");
        // A fresh ref maps without having loaded first.
        const dj::NpyRef ref2 = res.npyref(res.index_of("arr"), 0);
        expect_view(ref2.map(), *r.c, r.shape, r.order, r.data, map_is_mapped, "map of a fresh ref");
        EXPECT_FALSE(ref2.is_loaded());
    }
}

const char* kRecDefinition = R"(
    rec_id : int32
    ---
    arr = null : <npy@>
)";

/// Settings of a private in-memory database when the backend under test is DuckDB ("" otherwise).
std::string memory_db() { return on_duckdb() ? R"("database.path": ":memory:", )" : ""; }

/// Fixture: a database of the backend under test (DuckDB: in memory) with a file store "main"
/// (the default) in a fresh folder.
class Npy : public ::testing::Test {
protected:
    TestDb db;  // first member: destroyed last
    TempDir& dir = db.dir;
    fs::path store_dir = make_dir(dir.path() / "store");
    fs::path cache_dir = dir.path() / "cache";
    std::string overrides = "{" + memory_db() + R"("npy_cache.path": )" + json_str(cache_dir.string()) +
                            R"(, "stores": {"default": "main", "main": {"protocol": "file", "location": )" +
                            json_str(store_dir.string()) + "}}}";
    dj::Connection conn = db.connect(overrides);
    std::string schema_name = db.name("lab");
    dj::Schema schema = conn.schema(schema_name);

    dj::Table rec() const { return schema.declare("Rec", dj::Tier::Manual, kRecDefinition); }

    std::vector<fs::path> store_files() const { return files_under(store_dir); }
};

class NpyDtype : public Npy, public ::testing::WithParamInterface<std::size_t> {};

}  // namespace

// ---------------------------------------------------------------- round trips

TEST_P(NpyDtype, RoundTripsEveryShapeAndOrderThroughRowAndBatch) {
    const DtypeCase& c = dtype_cases()[GetParam()];
    const dj::Table t = rec();
    const std::vector<Inserted> rows = insert_matrix(t, c, 0);
    ASSERT_EQ(rows.size(), 12u);
    EXPECT_EQ(t.count(), 12u);
    EXPECT_EQ(store_files().size(), 12u);
    verify_matrix(t, rows, "main", /*map_is_mapped=*/true);
}

INSTANTIATE_TEST_SUITE_P(AllDtypes, NpyDtype, ::testing::Range<std::size_t>(0, 16),
                         [](const ::testing::TestParamInfo<std::size_t>& info) {
                             return std::string(dtype_cases()[info.param].label);
                         });

TEST(NpyMatrix, CoversEveryDtype) {
    ASSERT_EQ(dtype_cases().size(), 16u);
    for (int code = DJ_DTYPE_BOOL; code <= DJ_DTYPE_UNICODE; ++code)
        EXPECT_TRUE(std::any_of(dtype_cases().begin(), dtype_cases().end(),
                                [&](const DtypeCase& c) { return static_cast<int>(c.dtype) == code; }))
            << code;
}

// Typed C++ elements: dj::array over vectors / spans / pointers, values<T>() on the way out.
template <class T>
class NpyTyped : public Npy {};
using ElementTypes = ::testing::Types<bool, int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t,
                                     float, double, std::complex<float>, std::complex<double>>;
TYPED_TEST_SUITE(NpyTyped, ElementTypes);

TYPED_TEST(NpyTyped, TypedHelpersAndValues) {
    using T = TypeParam;
    std::array<T, 12> values{};
    for (std::size_t i = 0; i < values.size(); ++i) {
        if constexpr (std::is_same_v<T, bool>) values[i] = (i % 3) == 0;
        else if constexpr (std::is_same_v<T, std::complex<float>> || std::is_same_v<T, std::complex<double>>)
            values[i] = T(static_cast<typename T::value_type>(i) + 0.5f, -static_cast<typename T::value_type>(i));
        else values[i] = static_cast<T>(i * 7 + 1);
    }
    const dj::Table t = this->rec();
    t.insert1(dj::Row().set("rec_id", 1).set("arr", dj::array(values.data(), {3, 4})));
    t.insert1(dj::Row().set("rec_id", 2).set("arr", dj::array(values.data(), {3, 4}, dj::Order::F)));
    if constexpr (!std::is_same_v<T, bool>) {
        const std::vector<T> vec(values.begin(), values.end());
        const dj::span<const T> sp(vec.data(), vec.size());
        dj::Batch b;
        b.add("rec_id", std::vector<int32_t>{3, 4, 5})
            .add_arrays("arr", {dj::array(vec), dj::array(vec, {2, 6}), dj::array(sp, {12, 1}, dj::Order::F)});
        t.insert(b);
    }
    const dj::Result r = t.fetch({{}, "rec_id", -1, 0});
    for (std::size_t i = 0; i < r.nrows(); ++i) {
        SCOPED_TRACE("row " + std::to_string(i));
        const dj::NpyRef ref = r.npyref("arr", i);
        EXPECT_EQ(ref.dtype(), dj::dtype_of<T>());
        const dj::ArrayView v = ref.map();
        const dj::span<const T> got = v.values<T>();
        ASSERT_EQ(got.size(), values.size());
        EXPECT_TRUE(std::equal(got.begin(), got.end(), values.begin()));
        using Other = std::conditional_t<std::is_same_v<T, double>, float, double>;
        EXPECT_THROW((void)v.values<Other>(), dj::TypeError);
    }
    EXPECT_EQ(r.npyref("arr", 1).load().is_f_order(), true);
}

TEST_F(Npy, EmptyAndThirtyTwoDimensionalArrays) {
    const dj::Table t = rec();
    const std::vector<float> none;
    const float one = 2.5f;
    const std::vector<int64_t> ones(32, 1);
    t.insert1(dj::Row().set("rec_id", 1).set("arr", dj::array(none, {0})));
    t.insert1(dj::Row().set("rec_id", 2).set("arr", dj::array(none, {3, 0}, dj::Order::F)));
    t.insert1(dj::Row().set("rec_id", 3).set("arr", dj::array(&one, ones)));
    const dj::Result r = t.fetch({{}, "rec_id", -1, 0});
    for (std::size_t i = 0; i < 2; ++i) {
        const dj::NpyRef ref = r.npyref("arr", i);
        EXPECT_EQ(ref.size(), 0u);
        EXPECT_EQ(ref.load().nbytes(), 0u);
        EXPECT_EQ(ref.map().nbytes(), 0u);
        EXPECT_EQ(ref.map().values<float>().size(), 0u);
    }
    EXPECT_EQ(r.npyref("arr", 1).shape(), (std::vector<int64_t>{3, 0}));
    const dj::NpyRef big = r.npyref("arr", 2);
    EXPECT_EQ(big.ndim(), 32u);
    EXPECT_EQ(big.map().values<float>()[0], 2.5f);
    EXPECT_EQ(big.map().shape(), ones);
}

TEST_F(Npy, NullArraysAndWrongColumns) {
    const dj::Table t = rec();
    const std::vector<double> v{1, 2, 3};
    t.insert1(dj::Row().set("rec_id", 1).set("arr", std::optional<dj::ArrayIn>{}));
    t.insert1(dj::Row().set("rec_id", 2).set("arr", dj::null));
    dj::Batch b;
    b.add("rec_id", std::vector<int32_t>{3, 4}).add_arrays("arr", {dj::ArrayIn{}, dj::array(v)}, {false, true});
    t.insert(b);
    const dj::Result r = t.fetch({{}, "rec_id", -1, 0});
    ASSERT_EQ(r.nrows(), 4u);
    EXPECT_TRUE(r.column("arr").is_null(0));
    for (std::size_t i : {0, 1, 2}) EXPECT_THROW((void)r.npyref("arr", i), dj::NotFound) << i;
    EXPECT_EQ(r.npyref("arr", 3).load().values<double>()[2], 3.0);
    EXPECT_THROW((void)r.npyref("rec_id", 3), dj::TypeError);
    EXPECT_THROW((void)r.npyref("arr", 4), dj::InvalidArgument);
    EXPECT_THROW((void)r.npyref("nope", 0), dj::UnknownAttribute);
    EXPECT_THROW((void)t.keys().npyref("rec_id", 0), dj::TypeError);
    EXPECT_EQ(store_files().size(), 1u);
}

// ---------------------------------------------------------------- laziness and zero copy

TEST_F(Npy, FetchingRowsAndMakingRefsDoesNoStoreRequests) {
    const dj::Table t = rec();
    std::vector<std::vector<double>> data(40);
    std::vector<dj::ArrayIn> arrays;
    std::vector<int32_t> ids;
    for (int i = 0; i < 40; ++i) {
        data[i].assign(100 + i, i * 0.25);
        arrays.push_back(dj::array(data[i], {static_cast<int64_t>(data[i].size())}));
        ids.push_back(i);
    }
    dj::Batch b;
    b.add("rec_id", ids).add_arrays("arr", std::move(arrays));
    t.insert(b);
    const dj::StoreStats after_insert = conn.store_stats();
    EXPECT_GE(after_insert.requests, 40u);
    EXPECT_GT(after_insert.bytes_written, 40u * 100u * 8u);

    const dj::StoreStats before = conn.store_stats();
    {
        const dj::Result r = t.fetch({{}, "rec_id", -1, 0});
        const dj::Result one = t.restrict("rec_id = 7").fetch1();
        std::vector<dj::NpyRef> refs;
        for (std::size_t i = 0; i < r.nrows(); ++i) {
            refs.push_back(r.npyref("arr", i));
            const dj::NpyRef& ref = refs.back();
            EXPECT_EQ(ref.shape(), (std::vector<int64_t>{static_cast<int64_t>(100 + i)}));
            EXPECT_EQ(ref.dtype(), dj::Dtype::Float64);
            EXPECT_EQ(ref.dtype_name(), "float64");
            EXPECT_EQ(ref.nbytes(), (100 + i) * 8);
            EXPECT_FALSE(ref.path().empty());
            EXPECT_EQ(ref.store(), "main");
            EXPECT_FALSE(ref.is_loaded());
        }
        EXPECT_EQ(one.npyref("arr", 0).size(), 107u);
    }
    const dj::StoreStats after = conn.store_stats();
    EXPECT_EQ(after.requests, before.requests);
    EXPECT_EQ(after.bytes_read, before.bytes_read);
    EXPECT_EQ(after.bytes_written, before.bytes_written);

    // Loading reads; a second load of the same ref is served from memory.
    const dj::NpyRef ref = t.restrict("rec_id = 3").fetch1().npyref("arr", 0);
    (void)ref.load();
    const dj::StoreStats loaded = conn.store_stats();
    EXPECT_GT(loaded.requests, after.requests);
    EXPECT_GE(loaded.bytes_read, after.bytes_read + 103 * 8);
    EXPECT_EQ(ref.load().values<double>()[0], 0.75);
    EXPECT_EQ(conn.store_stats().requests, loaded.requests);
    // Named and default store agree; an unknown store is a store error.
    EXPECT_EQ(conn.store_stats("main").requests, conn.store_stats().requests);
    EXPECT_THROW((void)conn.store_stats("nowhere"), dj::StoreError);
}

TEST_F(Npy, MapOfAFileStoreIsAMappingOfTheNpyFile) {
    const dj::Table t = rec();
    std::vector<int32_t> values(4096);
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<int32_t>(i * 3);
    t.insert1(dj::Row().set("rec_id", 1).set("arr", dj::array(values, {64, 64})));
    const dj::NpyRef ref = t.fetch1().npyref("arr", 0);
    const fs::path file = store_dir / ref.path();
    ASSERT_TRUE(fs::is_regular_file(file)) << file;

    const dj::StoreStats before = conn.store_stats();
    const dj::ArrayView m = ref.map();
    EXPECT_TRUE(m.is_mapped());
    EXPECT_TRUE(m.flags() & DJ_VIEW_MAPPED);
    EXPECT_TRUE(m.flags() & DJ_VIEW_READONLY);
    EXPECT_EQ(mapping_file_of(m.data()), canonical_str(file));
    EXPECT_EQ(mapping_file_of(static_cast<const uint8_t*>(m.data()) + m.nbytes() - 1), canonical_str(file));
    EXPECT_EQ(m.values<int32_t>()[4095], 4095 * 3);
    EXPECT_EQ(conn.store_stats().bytes_read, before.bytes_read) << "a local map reads nothing through the store";

    const dj::ArrayView l = ref.load();
    EXPECT_FALSE(l.is_mapped());
    EXPECT_NE(mapping_file_of(l.data()), canonical_str(file));
    EXPECT_NE(l.data(), m.data());
}

// ---------------------------------------------------------------- lifetimes

TEST_F(Npy, ViewsOutliveRefResultTableAndConnection) {
    std::vector<uint16_t> values(30 * 10);
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<uint16_t>(i * 11);
    const std::vector<uint8_t> expected(reinterpret_cast<const uint8_t*>(values.data()),
                                        reinterpret_cast<const uint8_t*>(values.data() + values.size()));
    dj::ArrayView mapped, loaded, rows;
    std::optional<dj::NpyRef> kept;
    {
        auto c = db.connect(overrides);
        auto s = c.schema(db.name("life"));
        auto t = s.declare("Rec", dj::Tier::Manual, kRecDefinition);
        t.insert1(dj::Row().set("rec_id", 1).set("arr", dj::array(values, {30, 10})));
        {
            dj::Result r = t.fetch1();
            dj::NpyRef ref = r.npyref("arr", 0);
            mapped = ref.map();
            loaded = ref.load();
            rows = ref.read_rows(2, 5);
            kept.emplace(r.npyref("arr", 0));
        }  // ref and result gone
        c.close();
    }  // table, schema and connection gone
    std::vector<std::vector<uint8_t>> churn;
    for (int i = 0; i < 200; ++i) churn.emplace_back(4096, static_cast<uint8_t>(0xA5));

    ASSERT_TRUE(mapped && loaded && rows);
    EXPECT_TRUE(mapped.is_mapped());
    EXPECT_EQ(bytes_of(mapped), expected);
    EXPECT_EQ(bytes_of(loaded), expected);
    EXPECT_EQ(rows.shape(), (std::vector<int64_t>{3, 10}));
    EXPECT_EQ(bytes_of(rows), std::vector<uint8_t>(expected.begin() + 2 * 20, expected.begin() + 5 * 20));
    // The ref itself keeps working without its connection (stores do not need the database).
    EXPECT_EQ(bytes_of(kept->load()), expected);

    // Moving transfers ownership; reset and release free exactly once.
    dj::ArrayView moved = std::move(mapped);
    EXPECT_FALSE(mapped);
    EXPECT_EQ(mapped.data(), nullptr);
    EXPECT_EQ(mapped.size(), 0u);
    EXPECT_THROW((void)mapped.values<uint16_t>(), dj::InvalidHandle);
    EXPECT_EQ(bytes_of(moved), expected);
    moved = std::move(loaded);
    EXPECT_EQ(bytes_of(moved), expected);
    moved.reset();
    EXPECT_FALSE(moved);
    dj_array_view raw = rows.release();
    EXPECT_FALSE(rows);
    dj_array_view copy = raw;  // a bitwise move is allowed by the ABI
    EXPECT_EQ(std::memcmp(copy.data, expected.data() + 40, 60), 0);
    dj_array_view_release(&copy);
    EXPECT_TRUE(copy.release == nullptr);
    dj_array_view_release(&copy);     // released views are ignored
    dj_array_view_release(nullptr);   // so is NULL
}

TEST_F(Npy, MappedViewSurvivesDeletionOfItsRow) {
    const dj::Table t = rec();
    std::vector<double> values(1000, 1.25);
    t.insert1(dj::Row().set("rec_id", 1).set("arr", dj::array(values)));
    const dj::NpyRef ref = t.fetch1().npyref("arr", 0);
    const dj::ArrayView m = ref.map();
    EXPECT_EQ(t.del(), 1u);
    EXPECT_TRUE(store_files().empty());
    EXPECT_EQ(m.values<double>()[999], 1.25);
    EXPECT_THROW((void)t.restrict("rec_id = 1").fetch1(), dj::NotFound);
}

// ---------------------------------------------------------------- ranged reads

TEST_F(Npy, ReadRowsReturnsTheRightBytes) {
    const dj::Table t = rec();
    std::vector<int32_t> m(100 * 7);
    for (std::size_t i = 0; i < m.size(); ++i) m[i] = static_cast<int32_t>(i);
    std::vector<float> vec(50);
    for (std::size_t i = 0; i < vec.size(); ++i) vec[i] = static_cast<float>(i) / 4;
    t.insert1(dj::Row().set("rec_id", 1).set("arr", dj::array(m, {100, 7})));
    t.insert1(dj::Row().set("rec_id", 2).set("arr", dj::array(vec, {50}, dj::Order::F)));  // 1-d: rows are fine
    t.insert1(dj::Row().set("rec_id", 3).set("arr", dj::array(m, {100, 7}, dj::Order::F)));
    t.insert1(dj::Row().set("rec_id", 4).set("arr", dj::array(&vec[3], {})));
    const dj::Result r = t.fetch({{}, "rec_id", -1, 0});

    const dj::NpyRef ref = r.npyref("arr", 0);
    const dj::ArrayView rows = ref.read_rows(10, 20);
    EXPECT_EQ(rows.shape(), (std::vector<int64_t>{10, 7}));
    EXPECT_EQ(rows.strides(), (std::vector<int64_t>{28, 4}));
    EXPECT_TRUE(rows.is_c_order());
    const auto got = rows.values<int32_t>();
    ASSERT_EQ(got.size(), 70u);
    EXPECT_TRUE(std::equal(got.begin(), got.end(), m.begin() + 70));
    EXPECT_FALSE(ref.is_loaded()) << "read_rows does not load the array";
    EXPECT_EQ(ref.read_rows(0, 100).nbytes(), m.size() * 4);
    EXPECT_EQ(ref.read_rows(99, 100).values<int32_t>()[6], 699);
    const dj::ArrayView none = ref.read_rows(5, 5);
    EXPECT_EQ(none.nbytes(), 0u);
    EXPECT_EQ(none.shape(), (std::vector<int64_t>{0, 7}));
    EXPECT_THROW((void)ref.read_rows(90, 101), dj::InvalidArgument);
    EXPECT_THROW((void)ref.read_rows(20, 10), dj::InvalidArgument);

    // After load, rows come from memory (no store request).
    (void)ref.load();
    const auto before = conn.store_stats();
    EXPECT_EQ(ref.read_rows(50, 52).values<int32_t>()[0], 350);
    EXPECT_EQ(conn.store_stats().requests, before.requests);

    const dj::ArrayView v1 = r.npyref("arr", 1).read_rows(48, 50);
    EXPECT_EQ(v1.values<float>()[1], 49.0f / 4);
    const int code = error_code_of([&] { (void)r.npyref("arr", 2).read_rows(0, 1); });
    EXPECT_EQ(code, DJ_E_UNSUPPORTED) << "F-order rows are not contiguous";
    EXPECT_THROW((void)r.npyref("arr", 3).read_rows(0, 1), dj::InvalidArgument) << "0-d arrays have no rows";
}

// ---------------------------------------------------------------- bad input

TEST_F(Npy, BadArraysAreRejected) {
    const dj::Table t = rec();
    const std::vector<int32_t> v(6, 1);
    auto set = [&](const dj::ArrayIn& a) { dj::Row().set("rec_id", 1).set("arr", a); };
    auto with = [&](auto f) {
        dj::ArrayIn a = dj::array(v, {2, 3});
        f(a);
        return a;
    };
    // Object-like or unknown dtype codes.
    for (int32_t code : {0, 17, 99, -1}) {
        const dj::ArrayIn a = with([&](dj::ArrayIn& x) { x.dtype = static_cast<dj::Dtype>(code); });
        EXPECT_EQ(error_code_of([&] { set(a); }), DJ_E_TYPE) << code;
    }
    // nbytes that do not match the shape.
    EXPECT_EQ(error_code_of([&] { set(dj::array(v, {2, 2})); }), DJ_E_TYPE);
    EXPECT_EQ(error_code_of([&] { set(dj::array(v, {7})); }), DJ_E_TYPE);
    EXPECT_EQ(error_code_of([&] { set(dj::array(v, {})); }), DJ_E_TYPE);
    EXPECT_EQ(error_code_of([&] { set(with([](dj::ArrayIn& x) { x.dtype = dj::Dtype::Float64; })); }), DJ_E_TYPE);
    // Negative extent, bad order, too many dimensions, NULL data, bad S/U width.
    EXPECT_EQ(error_code_of([&] { set(dj::array(v, {-2, -3})); }), DJ_E_INVALID_ARG);
    EXPECT_EQ(error_code_of([&] { set(with([](dj::ArrayIn& x) { x.shape = {6, -1}; })); }), DJ_E_INVALID_ARG);
    EXPECT_EQ(error_code_of([&] { set(with([](dj::ArrayIn& x) { x.order = static_cast<dj::Order>(2); })); }),
              DJ_E_INVALID_ARG);
    EXPECT_EQ(error_code_of([&] { set(with([](dj::ArrayIn& x) { x.order = static_cast<dj::Order>(-1); })); }),
              DJ_E_INVALID_ARG);
    EXPECT_EQ(error_code_of([&] { set(with([](dj::ArrayIn& x) { x.shape = std::vector<int64_t>(33, 1); x.nbytes = 4; })); }),
              DJ_E_INVALID_ARG);
    EXPECT_EQ(error_code_of([&] { set(with([](dj::ArrayIn& x) { x.data = nullptr; })); }), DJ_E_INVALID_ARG);
    EXPECT_EQ(error_code_of([&] { set(dj::bytes_array(v.data(), 0, {2})); }), DJ_E_INVALID_ARG);
    EXPECT_EQ(error_code_of([&] { set(dj::unicode_array(nullptr, 0, {0})); }), DJ_E_INVALID_ARG);
    // The C call with a NULL array.
    dj::Row row;
    EXPECT_EQ(dj_row_set_array(row.get(), "arr", nullptr), DJ_E_INVALID_ARG);

    // The same checks on the columnar path (at insert time), naming the row.
    const std::vector<int32_t> ids{1, 2};
    for (auto bad : {with([](dj::ArrayIn& x) { x.dtype = static_cast<dj::Dtype>(0); }), dj::array(v, {5}),
                     dj::array(v, {-6}), with([](dj::ArrayIn& x) { x.order = static_cast<dj::Order>(9); })}) {
        dj::Batch b;
        b.add("rec_id", ids).add_arrays("arr", {dj::array(v, {6}), bad});
        const int code = error_code_of([&] { t.insert(b); });
        EXPECT_TRUE(code == DJ_E_TYPE || code == DJ_E_INVALID_ARG) << code;
        EXPECT_NE(error_message_of(code, [&] { t.insert(b); }).find("row 1"), std::string::npos);
    }
    // A value that is not an array, and an array for a plain attribute.
    EXPECT_THROW(t.insert1(dj::Row().set("rec_id", 1).set("arr", "text")), dj::TypeError);
    const dj::Table plain = schema.declare("Plain", dj::Tier::Manual, "id : int32\n---\nx : float64");
    EXPECT_THROW(plain.insert1(dj::Row().set("id", 1).set("x", dj::array(v))), dj::TypeError);
    EXPECT_EQ(t.count(), 0u);
    EXPECT_EQ(plain.count(), 0u);
    EXPECT_TRUE(store_files().empty());
}

TEST_F(Npy, BadDefinitions) {
    EXPECT_EQ(error_code_of([&] { (void)schema.declare("A", dj::Tier::Manual, "id : int32\n---\narr : <npy@nowhere>"); }),
              DJ_E_STORE);
    EXPECT_THROW((void)schema.declare("B", dj::Tier::Manual, "id : int32\n---\narr : <npy@nowhere>"), dj::StoreError);
    EXPECT_EQ(error_code_of([&] { (void)schema.declare("C", dj::Tier::Manual, "id : int32\n---\narr : <npy>"); }),
              DJ_E_DEFINITION);
    EXPECT_EQ(error_code_of([&] { (void)schema.declare("D", dj::Tier::Manual, "id : int32\n---\narr = 1 : <npy@>"); }),
              DJ_E_DEFINITION);
    // A bare @ with no default store configured.
    auto plain = dj::Connection::connect("", config_json(on_duckdb() ? R"({"database.path": ":memory:"})" : "{}", db.duckdb_path()));
    auto s = plain.schema(db.name("plain"));
    EXPECT_EQ(error_code_of([&] { (void)s.declare("E", dj::Tier::Manual, "id : int32\n---\narr : <npy@>"); }), DJ_E_STORE);
    EXPECT_THROW((void)plain.store_stats(), dj::StoreError);
    EXPECT_TRUE(schema.tables().empty());
}

// ---------------------------------------------------------------- no orphans

TEST_F(Npy, FailedBatchesLeaveNoRowsAndNoFiles) {
    const dj::Table t = rec();
    const dj::Table strict = schema.declare("Strict", dj::Tier::Manual, "rec_id : int32\n---\narr : <npy@>");
    std::vector<std::vector<float>> data(100);
    for (int i = 0; i < 100; ++i) data[i].assign(256, static_cast<float>(i));
    std::vector<int32_t> ids(100);
    for (int i = 0; i < 100; ++i) ids[i] = i;
    auto arrays = [&] {
        std::vector<dj::ArrayIn> a;
        for (const auto& d : data) a.push_back(dj::array(d, {16, 16}));
        return a;
    };
    auto rows_of = [&](const std::vector<int32_t>& keys) {
        std::vector<dj::Row> rows;
        for (int i = 0; i < 100; ++i) rows.push_back(dj::Row().set("rec_id", keys[i]).set("arr", dj::array(data[i], {16, 16})));
        return rows;
    };
    auto expect_clean = [&](const dj::Table& table, uint64_t rows, std::size_t files, const char* what) {
        EXPECT_EQ(table.count(), rows) << what;
        EXPECT_EQ(store_files().size(), files) << what;
    };

    {  // Batch: row 60 has a bad array.
        auto a = arrays();
        a[60].shape = {16, 15};
        dj::Batch b;
        b.add("rec_id", ids).add_arrays("arr", std::move(a));
        EXPECT_THROW(t.insert(b), dj::TypeError);
        expect_clean(t, 0, 0, "bad array at row 60 (batch)");
    }
    {  // Batch: row 60 repeats the key of row 10.
        auto keys = ids;
        keys[60] = 10;
        dj::Batch b;
        b.add("rec_id", keys).add_arrays("arr", arrays());
        EXPECT_THROW(t.insert(b), dj::Duplicate);
        expect_clean(t, 0, 0, "duplicate key at row 60 (batch)");
    }
    {  // Batch: row 60 is NULL in a non-nullable attribute.
        std::vector<bool> valid(100, true);
        valid[60] = false;
        dj::Batch b;
        b.add("rec_id", ids).add_arrays("arr", arrays(), valid);
        EXPECT_THROW(strict.insert(b), dj::TypeError);
        expect_clean(strict, 0, 0, "NULL at row 60 (batch)");
    }
    {  // Rows: row 60 repeats a key.
        auto keys = ids;
        keys[60] = 10;
        EXPECT_THROW(t.insert(rows_of(keys)), dj::Duplicate);
        expect_clean(t, 0, 0, "duplicate key at row 60 (rows)");
    }
    {  // Rows: row 60 holds text instead of an array.
        auto rows = rows_of(ids);
        rows[60].set("arr", "not an array");
        EXPECT_THROW(t.insert(rows), dj::TypeError);
        expect_clean(t, 0, 0, "text at row 60 (rows)");
    }
    {  // A row that exists already: only it and its file remain.
        t.insert1(dj::Row().set("rec_id", 1000).set("arr", dj::array(data[0], {16, 16})));
        auto keys = ids;
        keys[60] = 1000;
        dj::Batch b;
        b.add("rec_id", keys).add_arrays("arr", arrays());
        EXPECT_THROW(t.insert(b), dj::Duplicate);
        expect_clean(t, 1, 1, "existing key at row 60 (batch)");
        EXPECT_THROW(t.insert(rows_of(keys)), dj::Duplicate);
        expect_clean(t, 1, 1, "existing key at row 60 (rows)");
    }
    // And the same batch without the fault goes in whole.
    dj::Batch good;
    good.add("rec_id", ids).add_arrays("arr", arrays());
    EXPECT_EQ(t.insert(good), 100u);
    expect_clean(t, 101, 101, "good batch");
}

TEST_F(Npy, DeletingRowsDeletesTheirFiles) {
    const dj::Table t = rec();
    std::vector<std::vector<int64_t>> data(10);
    dj::Batch b;
    std::vector<int32_t> ids;
    std::vector<dj::ArrayIn> arrays;
    for (int i = 0; i < 10; ++i) {
        data[i].assign(50, i);
        ids.push_back(i);
        arrays.push_back(dj::array(data[i], {5, 10}));
    }
    b.add("rec_id", ids).add_arrays("arr", std::move(arrays));
    t.insert(b);
    ASSERT_EQ(store_files().size(), 10u);

    const dj::Result doomed = t.restrict("rec_id < 3").fetch();
    std::vector<fs::path> doomed_files;
    for (std::size_t i = 0; i < doomed.nrows(); ++i) doomed_files.push_back(store_dir / doomed.npyref("arr", i).path());
    for (const auto& f : doomed_files) EXPECT_TRUE(fs::exists(f)) << f;
    EXPECT_EQ(t.restrict("rec_id < 3").del(), 3u);
    for (const auto& f : doomed_files) EXPECT_FALSE(fs::exists(f)) << f;
    EXPECT_EQ(store_files().size(), 7u);
    EXPECT_EQ(error_code_of([&] { (void)doomed.npyref("arr", 0).load(); }), DJ_E_NOT_FOUND);

    // Replacing a row deletes the replaced object.
    const std::vector<int64_t> other(50, 99);
    dj::InsertOptions replace;
    replace.replace = true;
    t.insert1(dj::Row().set("rec_id", 5).set("arr", dj::array(other, {50})), replace);
    EXPECT_EQ(store_files().size(), 7u);
    EXPECT_EQ(t.restrict("rec_id = 5").fetch1().npyref("arr", 0).load().values<int64_t>()[49], 99);

    EXPECT_EQ(t.del(), 7u);
    EXPECT_TRUE(store_files().empty());
}

TEST_F(Npy, CorruptOrTruncatedFilesAreCodecErrors) {
    const dj::Table t = rec();
    const std::vector<double> v{1.5, -2.0, 3.25, 4.0};
    for (int i = 0; i < 3; ++i) t.insert1(dj::Row().set("rec_id", i).set("arr", dj::array(v, {2, 2})));
    const dj::Result r = t.fetch({{}, "rec_id", -1, 0});
    auto file = [&](std::size_t i) { return store_dir / r.npyref("arr", i).path(); };
    {  // garbage instead of an .npy file
        std::ofstream(file(0), std::ios::binary | std::ios::trunc) << "garbage that is not an npy file";
        EXPECT_EQ(error_code_of([&] { (void)r.npyref("arr", 0).load(); }), DJ_E_CODEC);
        EXPECT_EQ(error_code_of([&] { (void)r.npyref("arr", 0).map(); }), DJ_E_CODEC);
        EXPECT_THROW((void)r.npyref("arr", 0).load(), dj::CodecError);
    }
    {  // truncated: the last 5 bytes are missing
        const auto size = fs::file_size(file(1));
        fs::resize_file(file(1), size - 5);
        EXPECT_EQ(error_code_of([&] { (void)r.npyref("arr", 1).load(); }), DJ_E_CODEC);
        EXPECT_EQ(error_code_of([&] { (void)r.npyref("arr", 1).map(); }), DJ_E_CODEC);
    }
    {  // a valid .npy file of another shape than the row records
        std::string npy;
        {
            const dj::ArrayView ok = r.npyref("arr", 2).load();
            EXPECT_EQ(ok.values<double>()[3], 4.0);
        }
        std::ifstream in(file(2), std::ios::binary);
        npy.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        const auto at = npy.find("(2, 2)");
        ASSERT_NE(at, std::string::npos) << npy.substr(0, 128);
        npy.replace(at, 6, "(4,)  ");
        std::ofstream(file(2), std::ios::binary | std::ios::trunc) << npy;
        EXPECT_EQ(error_code_of([&] { (void)r.npyref("arr", 2).load(); }), DJ_E_CODEC);
        EXPECT_EQ(error_code_of([&] { (void)r.npyref("arr", 2).map(); }), DJ_E_CODEC);
    }
    {  // a missing file
        fs::remove(file(2));
        EXPECT_EQ(error_code_of([&] { (void)r.npyref("arr", 2).load(); }), DJ_E_NOT_FOUND);
        EXPECT_EQ(error_code_of([&] { (void)r.npyref("arr", 2).map(); }), DJ_E_NOT_FOUND);
    }
}

#if defined(__cpp_lib_mdspan) && __cpp_lib_mdspan >= 202207L
TEST_F(Npy, MdspanViews) {
    const dj::Table t = rec();
    std::vector<float> v(2 * 3 * 4);
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
    t.insert1(dj::Row().set("rec_id", 1).set("arr", dj::array(v, {2, 3, 4})));
    t.insert1(dj::Row().set("rec_id", 2).set("arr", dj::array(v, {2, 3, 4}, dj::Order::F)));
    const dj::Result r = t.fetch({{}, "rec_id", -1, 0});
    const dj::ArrayView c = r.npyref("arr", 0).map();
    const dj::ArrayView f = r.npyref("arr", 1).map();
    const auto mc = c.mdspan<float, 3>();
    EXPECT_EQ(mc.extent(0), 2u);
    EXPECT_EQ(mc.extent(2), 4u);
    EXPECT_EQ((mc[1, 2, 3]), 1 * 12 + 2 * 4 + 3);
    const auto mf = f.mdspan<float, 3, std::layout_left>();
    EXPECT_EQ((mf[1, 2, 3]), 1 + 2 * 2 + 3 * 6);
    const auto sc = c.mdspan<float, 3, std::layout_stride>();
    const auto sf = f.mdspan<float, 3, std::layout_stride>();
    EXPECT_EQ((sc[1, 0, 2]), (mc[1, 0, 2]));
    EXPECT_EQ((sf[1, 0, 2]), (mf[1, 0, 2]));
    EXPECT_THROW(((void)c.mdspan<float, 3, std::layout_left>()), dj::TypeError);
    EXPECT_THROW(((void)f.mdspan<float, 3>()), dj::TypeError);
    EXPECT_THROW(((void)c.mdspan<float, 2>()), dj::TypeError);
    EXPECT_THROW(((void)c.mdspan<double, 3>()), dj::TypeError);
    const float last = f.visit_mdspan<float, 3>([](auto m) { return m[1, 2, 3]; });
    EXPECT_EQ(last, 23.0f);
}
#endif

// ---------------------------------------------------------------- S3

TEST(NpyS3, RoundTripRangedReadsAndDownloadCache) {
    const char* endpoint = std::getenv("DJ_TEST_S3_ENDPOINT");
    // Never skipped: scripts/test starts an S3 server (moto) and sets DJ_TEST_S3_ENDPOINT.
    ASSERT_TRUE(endpoint != nullptr && *endpoint != '\0')
        << "DJ_TEST_S3_ENDPOINT is not set: start an S3-compatible server (scripts/test-services.sh) and name it";
    const char* bucket_env = std::getenv("DJ_TEST_S3_BUCKET");
    const std::string bucket = bucket_env && *bucket_env ? bucket_env : "datajoint-test";
    std::random_device rd;
    const std::string location = "cpp-" + std::to_string(::getpid()) + "-" + std::to_string(rd());
    TestDb db;
    const fs::path cache_dir = db.dir.path() / "cache";
    const std::string overrides =
        "{" + memory_db() + R"("npy_cache.path": )" + json_str(cache_dir.string()) +
        R"(, "stores": {"default": "s3", "s3": {"protocol": "s3", "endpoint": )" + json_str(endpoint) +
        R"(, "bucket": )" + json_str(bucket) + R"(, "location": )" + json_str(location) +
        R"(, "access_key": "testing", "secret_key": "testing", "secure": false}}})";
    auto conn = db.connect(overrides);
    auto schema = conn.schema(db.name("lab"));
    const dj::Table t = schema.declare("Rec", dj::Tier::Manual, kRecDefinition);

    // Every dtype × shape × order, through Row and Batch.
    std::vector<Inserted> all;
    for (std::size_t k = 0; k < dtype_cases().size(); ++k) {
        auto rows = insert_matrix(t, dtype_cases()[k], static_cast<int32_t>(k * 100));
        all.insert(all.end(), rows.begin(), rows.end());
    }
    ASSERT_EQ(t.count(), all.size());
    {
        const auto before = conn.store_stats();
        const dj::Result r = t.fetch();
        for (std::size_t i = 0; i < r.nrows(); ++i) {
            const dj::NpyRef ref = r.npyref("arr", i);
            EXPECT_EQ(ref.size(), count_of(ref.shape()));
            EXPECT_EQ(ref.store(), "s3");
        }
        const auto after = conn.store_stats();
        EXPECT_EQ(after.requests, before.requests) << "fetching rows and making refs does no I/O";
        EXPECT_EQ(after.bytes_read, before.bytes_read);
    }
    verify_matrix(t, all, "s3", /*map_is_mapped=*/true);

    // A 1000 × 1000 float32 array (4 MB): 10 rows come with ranged reads.
    std::vector<float> big(1000 * 1000);
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<float>(i);
    t.insert1(dj::Row().set("rec_id", 50000).set("arr", dj::array(big, {1000, 1000})));
    const dj::Result res = t.restrict("rec_id = 50000").fetch1();
    const dj::NpyRef ref = res.npyref("arr", 0);
    const auto s0 = conn.store_stats();
    const dj::ArrayView rows = ref.read_rows(100, 110);
    const auto s1 = conn.store_stats();
    EXPECT_EQ(rows.shape(), (std::vector<int64_t>{10, 1000}));
    const auto got = rows.values<float>();
    ASSERT_EQ(got.size(), 10000u);
    EXPECT_TRUE(std::equal(got.begin(), got.end(), big.begin() + 100 * 1000));
    EXPECT_LE(s1.bytes_read - s0.bytes_read, 40000u + 4096u) << "ranged read transferred too much";
    EXPECT_LE(s1.requests - s0.requests, 3u);
    EXPECT_FALSE(ref.is_loaded());

    // map downloads once into the cache and maps the cached file; a second map is free.
    const dj::ArrayView m1 = ref.map();
    EXPECT_TRUE(m1.is_mapped());
    EXPECT_EQ(m1.nbytes(), big.size() * 4);
    EXPECT_EQ(std::memcmp(m1.data(), big.data(), big.size() * 4), 0);
    const std::string mapped_file = mapping_file_of(m1.data());
    EXPECT_EQ(fs::path(mapped_file).parent_path().string(), canonical_str(cache_dir)) << mapped_file;
    const auto s2 = conn.store_stats();
    EXPECT_GE(s2.bytes_read - s1.bytes_read, big.size() * 4);
    const dj::NpyRef again = res.npyref("arr", 0);
    const dj::ArrayView m2 = again.map();
    EXPECT_EQ(conn.store_stats().requests, s2.requests) << "the second map is served from the download cache";
    EXPECT_EQ(std::memcmp(m2.data(), big.data(), big.size() * 4), 0);

    // Deleting the rows deletes the objects (the mapped cache copies stay readable).
    EXPECT_EQ(t.del(), all.size() + 1);
    EXPECT_EQ(error_code_of([&] { (void)res.npyref("arr", 0).load(); }), DJ_E_NOT_FOUND);
    EXPECT_EQ(static_cast<const float*>(m1.data())[999999], 999999.0f);
}
