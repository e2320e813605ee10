// Ownership: results outlive their table and connection; children keep the connection alive;
// wrappers are move-only with noexcept destructors.
#include "test_util.hpp"

#include <type_traits>

using namespace djtest;

static_assert(!std::is_copy_constructible_v<dj::Connection> && !std::is_copy_assignable_v<dj::Connection>);
static_assert(!std::is_copy_constructible_v<dj::Schema> && !std::is_copy_assignable_v<dj::Schema>);
static_assert(!std::is_copy_constructible_v<dj::Table> && !std::is_copy_assignable_v<dj::Table>);
static_assert(!std::is_copy_constructible_v<dj::Row> && !std::is_copy_assignable_v<dj::Row>);
static_assert(!std::is_copy_constructible_v<dj::Result> && !std::is_copy_assignable_v<dj::Result>);
static_assert(std::is_nothrow_move_constructible_v<dj::Connection> && std::is_nothrow_move_assignable_v<dj::Connection>);
static_assert(std::is_nothrow_move_constructible_v<dj::Result> && std::is_nothrow_move_assignable_v<dj::Result>);
static_assert(std::is_nothrow_destructible_v<dj::Connection> && std::is_nothrow_destructible_v<dj::Schema> &&
              std::is_nothrow_destructible_v<dj::Table> && std::is_nothrow_destructible_v<dj::Row> &&
              std::is_nothrow_destructible_v<dj::Result>);
#if defined(__cpp_lib_span)
static_assert(std::is_same_v<dj::span<const int>, std::span<const int>>, "C++20 uses std::span");
#endif

namespace {

dj::Result fetch_and_drop_everything(TestDb& db) {
    auto conn = db.connect();
    auto schema = conn.schema(db.name("life"));
    auto t = schema.declare("Sample", dj::Tier::Manual, R"(
        sample_id : int64
        ---
        label : varchar(32)
        weight = null : float64
        raw = null : bytes
    )");
    dj::Batch b;
    std::vector<int64_t> ids;
    std::vector<std::string> labels;
    std::vector<double> weights;
    std::vector<dj::Bytes> raws;
    for (int i = 0; i < 1000; ++i) {
        ids.push_back(i);
        labels.push_back("sample #" + std::to_string(i));
        weights.push_back(i * 0.5);
        raws.push_back(dj::Bytes(static_cast<std::size_t>(i % 7), static_cast<uint8_t>(i)));
    }
    std::vector<bool> valid(1000, true);
    valid[3] = false;
    b.add("sample_id", ids).add_strings("label", labels).add("weight", weights, valid).add_bytes("raw", raws);
    t.insert(b);
    dj::Result r = t.fetch({{}, "sample_id", -1, 0});
    conn.close();  // close explicitly too: the result must not depend on the database
    return r;      // t, schema and conn are destroyed here
}

}  // namespace

TEST(Lifetime, ResultBuffersOutliveTableAndConnection) {
    TestDb db;
    const dj::Result r = fetch_and_drop_everything(db);
    // Churn the heap a little so a dangling buffer would likely be overwritten.
    std::vector<std::string> noise(2000, std::string(100, 'z'));
    ASSERT_EQ(r.nrows(), 1000u);
    const auto ids = r.column("sample_id").values<int64_t>();
    const auto label = r.column("label");
    const auto weight = r.column("weight");
    for (std::size_t i = 0; i < 1000; ++i) {
        ASSERT_EQ(ids[i], static_cast<int64_t>(i));
        ASSERT_EQ(label.str(i), "sample #" + std::to_string(i));
        ASSERT_EQ(weight.is_null(i), i == 3);
        if (i != 3) {
            ASSERT_EQ(weight.values<double>()[i], i * 0.5);
        }
        ASSERT_EQ(r.column("raw").bytes(i).size(), i % 7);
    }
    // The column names and types are owned by the result as well.
    EXPECT_EQ(label.name(), "label");
    EXPECT_EQ(label.type(), "varchar(32)");
    // The temp dir (and a DuckDB database file) can be removed while the result lives.
    std::error_code ec;
    std::filesystem::remove_all(db.dir.path(), ec);
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(label.str(999), "sample #999");
}

TEST(Lifetime, ColumnViewsStayValidWhenTheResultIsMoved) {
    TestDb db;
    auto conn = db.connect();
    auto t = conn.schema(db.name("m")).declare("Item", dj::Tier::Manual, "item_id : int32\n---\nname : varchar(16)");
    t.insert1(dj::Row().set("item_id", 1).set("name", "one"));
    dj::Result r = t.fetch();
    const dj::ColumnView v = r.column("name");
    dj::Result moved = std::move(r);
    EXPECT_FALSE(static_cast<bool>(r));
    EXPECT_EQ(r.nrows(), 0u);  // an empty Result reports no rows
    EXPECT_EQ(v.str(0), "one");
    EXPECT_EQ(moved.column("name").str(0), "one");
    dj::Result assigned(nullptr);
    assigned = std::move(moved);
    EXPECT_EQ(assigned.nrows(), 1u);
    EXPECT_EQ(v.str(0), "one");
}

TEST(Lifetime, ChildrenKeepTheConnectionAlive) {
    TestDb db;
    std::optional<dj::Table> table;
    {
        auto conn = db.connect();
        auto schema = conn.schema(db.name("alive"));
        table.emplace(schema.declare("Thing", dj::Tier::Manual, "thing_id : int32"));
        // conn and schema wrappers are destroyed (freed, not closed) here.
    }
    table->insert1(dj::Row().set("thing_id", 1));
    EXPECT_EQ(table->count(), 1u);
    dj::Table restricted = table->restrict("thing_id = 1");
    table.reset();
    EXPECT_EQ(restricted.count(), 1u);
    EXPECT_EQ(restricted.fetch1().column("thing_id").values<int32_t>()[0], 1);
}

TEST(Lifetime, HandlesCanBeFreedInAnyOrderThroughTheCAbi) {
    TestDb db;
    const std::string settings = config_json("{}", db.duckdb_path());
    const std::string name = db.name("order");
    dj_conn* c = nullptr;
    ASSERT_EQ(dj_connect(nullptr, settings.c_str(), &c), DJ_OK) << dj_last_error_message();
    dj_schema* s = nullptr;
    ASSERT_EQ(dj_schema_open(c, name.c_str(), 1, &s), DJ_OK);
    dj_table* t = nullptr;
    ASSERT_EQ(dj_table_declare(s, "Thing", DJ_TIER_MANUAL, "thing_id : int32", &t), DJ_OK);
    dj_row* r = nullptr;
    ASSERT_EQ(dj_row_new(&r), DJ_OK);
    ASSERT_EQ(dj_row_set_int(r, "thing_id", 5), DJ_OK);
    ASSERT_EQ(dj_table_insert1(t, r, nullptr, nullptr), DJ_OK);
    dj_result* res = nullptr;
    ASSERT_EQ(dj_table_fetch(t, nullptr, &res), DJ_OK);
    dj_conn_free(c);  // parent first
    dj_schema_free(s);
    uint64_t n = 0;
    EXPECT_EQ(dj_table_count(t, &n), DJ_OK);  // still usable: the table holds the connection
    EXPECT_EQ(n, 1u);
    dj_table_free(t);
    dj_row_free(r);
    dj_column_view v;
    ASSERT_EQ(dj_result_column(res, 0, &v), DJ_OK);
    EXPECT_EQ(static_cast<const int32_t*>(v.data)[0], 5);
    dj_result_free(res);
}

TEST(Lifetime, DuckdbNullPathIsAnInMemoryDatabase) {
    // About DuckDB itself: dj_connect_duckdb(NULL) opens a private in-memory database.
    dj_conn* a = nullptr;
    dj_conn* b = nullptr;
    ASSERT_EQ(dj_connect_duckdb(nullptr, &a), DJ_OK);
    ASSERT_EQ(dj_connect_duckdb(nullptr, &b), DJ_OK);
    dj_schema* s = nullptr;
    ASSERT_EQ(dj_schema_open(a, "mem", 1, &s), DJ_OK);
    dj_schema_free(s);
    s = reinterpret_cast<dj_schema*>(0x1);
    EXPECT_EQ(dj_schema_open(b, "mem", 0, &s), DJ_E_NOT_FOUND) << "in-memory databases are not shared";
    EXPECT_EQ(s, nullptr);
    const char* name = nullptr;
    EXPECT_EQ(dj_conn_backend(a, &name), DJ_OK);
    EXPECT_STREQ(name, "duckdb");
    dj_conn_free(a);
    dj_conn_free(b);
}

TEST(Lifetime, RowsAreReusableAndClearable) {
    dj::Row r;
    r.set("a", 1).set("b", "x").set("a", 2);  // setting again replaces
    EXPECT_EQ(r.size(), 2u);
    r.clear();
    EXPECT_EQ(r.size(), 0u);
    TestDb db;
    auto conn = db.connect();
    auto t = conn.schema(db.name("rows")).declare("Thing", dj::Tier::Manual, "thing_id : int32\n---\nv : int32");
    for (int i = 0; i < 3; ++i) {
        r.set("thing_id", i).set("v", i * i);
        t.insert1(r);  // the same row object, new values each time
    }
    EXPECT_EQ(t.count(), 3u);
    const dj::Result res = t.restrict(r).fetch1();  // the row doubles as a key
    EXPECT_EQ(res.column("v").values<int32_t>()[0], 4);
}
