// Bad input through the C ABI (called directly where the C++ wrapper would prevent the mistake)
// and the mapping of dj_status codes to dj::Error subclasses.
#include "test_util.hpp"

#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <regex>

using namespace djtest;

namespace {

std::string last_message() { return dj_last_error_message(); }

bool contains(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

class Errors : public DbTest {
protected:
    dj::Table item = schema.declare("Item", dj::Tier::Manual, R"(
        item_id : int32
        ---
        label : varchar(8)
        small = 0 : int8
        color = 'red' : enum('red','blue')
        price = 0 : decimal(5,2)
        doc = null : json
        day = null : date
        data = null : bytes
    )");

    /// A fresh row handle owned by the fixture (freed in TearDown).
    dj_row* new_row() {
        dj_row* r = nullptr;
        EXPECT_EQ(dj_row_new(&r), DJ_OK);
        rows_.emplace_back(r);
        return r;
    }

private:
    std::vector<dj::Row> rows_;
};

}  // namespace

// ---------------------------------------------------------------- NULL and invalid handles

TEST_F(Errors, NullHandlesAreReportedNotDereferenced) {
    uint64_t n = 123;
    EXPECT_EQ(dj_table_count(nullptr, &n), DJ_E_INVALID_HANDLE);
    EXPECT_EQ(n, 0u);
    EXPECT_EQ(dj_last_error_code(), DJ_E_INVALID_HANDLE);
    EXPECT_TRUE(contains(last_message(), "dj_table")) << last_message();

    dj_schema* s = reinterpret_cast<dj_schema*>(0x1);  // must be reset to NULL
    EXPECT_EQ(dj_schema_open(nullptr, "x", 1, &s), DJ_E_INVALID_HANDLE);
    EXPECT_EQ(s, nullptr);
    dj_table* t = reinterpret_cast<dj_table*>(0x1);
    EXPECT_EQ(dj_table_declare(nullptr, "T", DJ_TIER_MANUAL, "a : int32", &t), DJ_E_INVALID_HANDLE);
    EXPECT_EQ(t, nullptr);
    EXPECT_EQ(dj_table_open(nullptr, "T", &t), DJ_E_INVALID_HANDLE);
    EXPECT_EQ(dj_table_declare_part(schema.get(), nullptr, "P", "-> master", &t), DJ_E_INVALID_HANDLE);
    EXPECT_EQ(dj_table_restrict_sql(nullptr, "1=1", &t), DJ_E_INVALID_HANDLE);
    EXPECT_EQ(dj_table_restrict_key(item.get(), nullptr, &t), DJ_E_INVALID_HANDLE);
    EXPECT_EQ(dj_table_exclude_key(item.get(), nullptr, &t), DJ_E_INVALID_HANDLE);
    const dj_row* null_rows[] = {nullptr};
    EXPECT_EQ(dj_table_restrict_keys(item.get(), null_rows, 1, &t), DJ_E_INVALID_HANDLE);
    EXPECT_EQ(dj_table_insert1(item.get(), nullptr, nullptr, nullptr), DJ_E_INVALID_HANDLE);
    EXPECT_EQ(dj_table_insert1(nullptr, new_row(), nullptr, nullptr), DJ_E_INVALID_HANDLE);
    EXPECT_EQ(dj_table_insert_rows(item.get(), null_rows, 1, nullptr, nullptr), DJ_E_INVALID_HANDLE);
    EXPECT_EQ(dj_table_insert_columns(nullptr, nullptr, 0, 0, nullptr, nullptr), DJ_E_INVALID_HANDLE);
    dj_result* r = reinterpret_cast<dj_result*>(0x1);
    EXPECT_EQ(dj_table_fetch(nullptr, nullptr, &r), DJ_E_INVALID_HANDLE);
    EXPECT_EQ(r, nullptr);
    EXPECT_EQ(dj_table_fetch1(nullptr, nullptr, &r), DJ_E_INVALID_HANDLE);
    EXPECT_EQ(dj_table_keys(nullptr, nullptr, &r), DJ_E_INVALID_HANDLE);
    EXPECT_EQ(dj_table_delete(nullptr, nullptr), DJ_E_INVALID_HANDLE);
    EXPECT_EQ(dj_table_drop(nullptr), DJ_E_INVALID_HANDLE);
    EXPECT_EQ(dj_schema_drop(nullptr), DJ_E_INVALID_HANDLE);
    dj_strlist* l = reinterpret_cast<dj_strlist*>(0x1);
    EXPECT_EQ(dj_schema_list_tables(nullptr, &l), DJ_E_INVALID_HANDLE);
    EXPECT_EQ(l, nullptr);
    EXPECT_EQ(dj_conn_list_schemas(nullptr, &l), DJ_E_INVALID_HANDLE);
    const char* backend = "x";
    EXPECT_EQ(dj_conn_backend(nullptr, &backend), DJ_E_INVALID_HANDLE);
    EXPECT_EQ(backend, nullptr);
    EXPECT_EQ(dj_conn_close(nullptr), DJ_E_INVALID_HANDLE);
    EXPECT_EQ(dj_row_set_int(nullptr, "a", 1), DJ_E_INVALID_HANDLE);
    EXPECT_EQ(dj_row_set_null(nullptr, "a"), DJ_E_INVALID_HANDLE);
    EXPECT_EQ(dj_row_clear(nullptr), DJ_E_INVALID_HANDLE);
    dj_column_view v;
    EXPECT_EQ(dj_result_column(nullptr, 0, &v), DJ_E_INVALID_HANDLE);
    std::size_t idx = 7;
    EXPECT_EQ(dj_result_column_index(nullptr, "a", &idx), DJ_E_INVALID_HANDLE);
    dj_attr_info info;
    EXPECT_EQ(dj_table_attr(nullptr, 0, &info), DJ_E_INVALID_HANDLE);

    // Infallible getters return 0 / NULL and set the last error.
    EXPECT_EQ(dj_table_name(nullptr), nullptr);
    EXPECT_EQ(dj_last_error_code(), DJ_E_INVALID_HANDLE);
    EXPECT_EQ(dj_table_comment(nullptr), nullptr);
    EXPECT_EQ(dj_schema_name(nullptr), nullptr);
    EXPECT_EQ(dj_table_attr_count(nullptr), 0u);
    EXPECT_EQ(dj_row_len(nullptr), 0u);
    EXPECT_EQ(dj_result_nrows(nullptr), 0u);
    EXPECT_EQ(dj_result_ncols(nullptr), 0u);
    EXPECT_EQ(dj_strlist_len(nullptr), 0u);
    EXPECT_EQ(dj_strlist_get(nullptr, 0), nullptr);

    // Every free function accepts NULL.
    dj_conn_free(nullptr);
    dj_schema_free(nullptr);
    dj_table_free(nullptr);
    dj_row_free(nullptr);
    dj_result_free(nullptr);
    dj_strlist_free(nullptr);
}

TEST_F(Errors, AHandleOfTheWrongTypeIsRejected) {
    dj_row* row = new_row();
    uint64_t n = 0;
    // A dj_row passed where a dj_table is expected: the tag check catches it.
    EXPECT_EQ(dj_table_count(reinterpret_cast<const dj_table*>(row), &n), DJ_E_INVALID_HANDLE);
    EXPECT_TRUE(contains(last_message(), "dj_table")) << last_message();
    EXPECT_EQ(dj_row_set_int(reinterpret_cast<dj_row*>(item.get()), "item_id", 1), DJ_E_INVALID_HANDLE);
    dj_schema* s = nullptr;
    EXPECT_EQ(dj_schema_open(reinterpret_cast<const dj_conn*>(schema.get()), "x", 1, &s), DJ_E_INVALID_HANDLE);
    EXPECT_EQ(s, nullptr);
}

TEST_F(Errors, MovedFromWrapperThrowsInvalidHandle) {
    dj::Table moved = std::move(item);
    EXPECT_FALSE(static_cast<bool>(item));
    EXPECT_EQ(item.get(), nullptr);
    EXPECT_THROW((void)item.count(), dj::InvalidHandle);
    EXPECT_THROW((void)item.name(), dj::InvalidHandle);
    EXPECT_THROW((void)item.attributes(), dj::InvalidHandle);
    EXPECT_THROW((void)item.fetch(), dj::InvalidHandle);
    EXPECT_EQ(moved.count(), 0u);

    dj::Connection c2 = std::move(conn);
    EXPECT_FALSE(static_cast<bool>(conn));
    EXPECT_THROW((void)conn.schemas(), dj::InvalidHandle);
    EXPECT_THROW(conn.close(), dj::InvalidHandle);
    EXPECT_EQ(c2.backend(), backend());

    dj::Row r;
    r.set("item_id", 1);
    dj::Row r2 = std::move(r);
    EXPECT_EQ(r2.size(), 1u);
    EXPECT_THROW(r.set("item_id", 2), dj::InvalidHandle);
}

// ---------------------------------------------------------------- NULL pointers and bad arguments

TEST_F(Errors, NullPointerArgumentsAreInvalidArguments) {
    EXPECT_EQ(dj_connect_duckdb(":memory:", nullptr), DJ_E_INVALID_ARG);
    EXPECT_EQ(dj_row_new(nullptr), DJ_E_INVALID_ARG);
    uint64_t n = 0;
    (void)n;
    EXPECT_EQ(dj_table_count(item.get(), nullptr), DJ_E_INVALID_ARG);
    EXPECT_TRUE(contains(last_message(), "out_count")) << last_message();
    dj_table* t = nullptr;
    EXPECT_EQ(dj_table_declare(schema.get(), nullptr, DJ_TIER_MANUAL, "a : int32", &t), DJ_E_INVALID_ARG);
    EXPECT_TRUE(contains(last_message(), "class_name")) << last_message();
    EXPECT_EQ(dj_table_declare(schema.get(), "T", DJ_TIER_MANUAL, nullptr, &t), DJ_E_INVALID_ARG);
    EXPECT_EQ(dj_table_declare(schema.get(), "T", DJ_TIER_MANUAL, "a : int32", nullptr), DJ_E_INVALID_ARG);
    EXPECT_EQ(dj_table_declare(schema.get(), "T", 4, "a : int32", &t), DJ_E_INVALID_ARG);
    EXPECT_EQ(dj_table_declare(schema.get(), "T", -1, "a : int32", &t), DJ_E_INVALID_ARG);
    EXPECT_EQ(dj_table_declare(schema.get(), "lowercase", DJ_TIER_MANUAL, "a : int32", &t), DJ_E_INVALID_ARG);
    EXPECT_EQ(dj_schema_open(conn.get(), nullptr, 1, nullptr), DJ_E_INVALID_ARG);
    EXPECT_EQ(dj_table_open(schema.get(), nullptr, &t), DJ_E_INVALID_ARG);
    EXPECT_EQ(dj_table_restrict_sql(item.get(), nullptr, &t), DJ_E_INVALID_ARG);
    EXPECT_EQ(dj_table_restrict_sql(item.get(), "  ", &t), DJ_E_INVALID_ARG);
    EXPECT_EQ(dj_table_restrict_sql(item.get(), "1=1; DROP TABLE item", &t), DJ_E_INVALID_ARG);
    EXPECT_EQ(dj_table_restrict_keys(item.get(), nullptr, 2, &t), DJ_E_INVALID_ARG);
    EXPECT_EQ(t, nullptr);

    dj_row* row = new_row();
    EXPECT_EQ(dj_row_set_int(row, nullptr, 1), DJ_E_INVALID_ARG);
    EXPECT_EQ(dj_row_set_string(row, "label", nullptr), DJ_E_INVALID_ARG);
    EXPECT_EQ(dj_row_set_string_n(row, "label", nullptr, 3), DJ_E_INVALID_ARG);
    EXPECT_EQ(dj_row_set_string_n(row, "label", nullptr, 0), DJ_OK);  // the empty string
    EXPECT_EQ(dj_row_set_bytes(row, "data", nullptr, 5), DJ_E_INVALID_ARG);
    EXPECT_EQ(dj_row_set_bytes(row, "data", nullptr, 0), DJ_OK);
    EXPECT_EQ(dj_row_set_uuid(row, "data", nullptr), DJ_E_INVALID_ARG);
    EXPECT_EQ(dj_row_set_decimal(row, "price", nullptr), DJ_E_INVALID_ARG);
    EXPECT_EQ(dj_row_set_json(row, "doc", nullptr), DJ_E_INVALID_ARG);
    EXPECT_EQ(dj_row_len(row), 2u);  // failed setters leave the row unchanged

    // Columnar inserts: NULL buffers.
    EXPECT_EQ(dj_table_insert_columns(item.get(), nullptr, 2, 1, nullptr, nullptr), DJ_E_INVALID_ARG);
    const int32_t ids[] = {1};
    dj_column_in cols[2] = {};
    cols[0] = dj_column_in{"item_id", DJ_KIND_INT32, ids, nullptr, nullptr};
    cols[1] = dj_column_in{"label", DJ_KIND_STRING, "x", nullptr, nullptr};  // offsets missing
    EXPECT_EQ(dj_table_insert_columns(item.get(), cols, 2, 1, nullptr, nullptr), DJ_E_INVALID_ARG);
    EXPECT_TRUE(contains(last_message(), "label")) << last_message();
    cols[1] = dj_column_in{"label", DJ_KIND_STRING, nullptr, nullptr, nullptr};
    const int64_t offsets[] = {0, 1};
    cols[1].offsets = offsets;  // one byte announced, data NULL
    EXPECT_EQ(dj_table_insert_columns(item.get(), cols, 2, 1, nullptr, nullptr), DJ_E_INVALID_ARG);
    cols[0].data = nullptr;  // fixed-width data NULL
    cols[1].data = "x";
    EXPECT_EQ(dj_table_insert_columns(item.get(), cols, 2, 1, nullptr, nullptr), DJ_E_INVALID_ARG);
    EXPECT_TRUE(contains(last_message(), "item_id")) << last_message();
    cols[0].data = ids;
    cols[0].kind = 99;  // unknown kind
    EXPECT_EQ(dj_table_insert_columns(item.get(), cols, 2, 1, nullptr, nullptr), DJ_E_INVALID_ARG);
    cols[0].kind = DJ_KIND_INT32;
    const int64_t decreasing[] = {1, 0};
    cols[1].offsets = decreasing;
    EXPECT_EQ(dj_table_insert_columns(item.get(), cols, 2, 1, nullptr, nullptr), DJ_E_INVALID_ARG);
    cols[1].offsets = offsets;
    cols[1].name = nullptr;
    EXPECT_EQ(dj_table_insert_columns(item.get(), cols, 2, 1, nullptr, nullptr), DJ_E_INVALID_ARG);
    cols[1].name = "label";
    EXPECT_EQ(dj_table_insert_columns(item.get(), cols, 2, 1, nullptr, nullptr), DJ_OK);  // now valid
    EXPECT_EQ(item.count(), 1u);
}

TEST_F(Errors, OptionStructsAreValidated) {
    dj_insert_opts io;
    EXPECT_EQ(dj_insert_opts_init(nullptr), DJ_E_INVALID_ARG);
    EXPECT_EQ(dj_insert_opts_init(&io), DJ_OK);
    EXPECT_EQ(io.struct_size, sizeof(dj_insert_opts));
    io.struct_size = 1;  // not initialised by dj_insert_opts_init
    dj_row* row = new_row();
    dj_row_set_int(row, "item_id", 1);
    dj_row_set_string(row, "label", "a");
    EXPECT_EQ(dj_table_insert1(item.get(), row, &io, nullptr), DJ_E_INVALID_ARG);
    EXPECT_TRUE(contains(last_message(), "struct_size")) << last_message();
    EXPECT_EQ(dj_insert_opts_init(&io), DJ_OK);
    io.replace = 1;
    io.skip_duplicates = 1;
    EXPECT_EQ(dj_table_insert1(item.get(), row, &io, nullptr), DJ_E_INVALID_ARG);

    dj_fetch_opts fo;
    EXPECT_EQ(dj_fetch_opts_init(nullptr), DJ_E_INVALID_ARG);
    EXPECT_EQ(dj_fetch_opts_init(&fo), DJ_OK);
    EXPECT_EQ(fo.limit, -1);
    dj_result* r = nullptr;
    fo.n_attributes = 2;  // attributes NULL
    EXPECT_EQ(dj_table_fetch(item.get(), &fo, &r), DJ_E_INVALID_ARG);
    EXPECT_EQ(r, nullptr);
    EXPECT_EQ(dj_fetch_opts_init(&fo), DJ_OK);
    const char* attrs[] = {"label", nullptr};
    fo.attributes = attrs;
    fo.n_attributes = 2;  // second name NULL
    EXPECT_EQ(dj_table_fetch(item.get(), &fo, &r), DJ_E_INVALID_ARG);
    EXPECT_EQ(dj_fetch_opts_init(&fo), DJ_OK);
    fo.limit = -2;
    EXPECT_EQ(dj_table_fetch(item.get(), &fo, &r), DJ_E_INVALID_ARG);
    EXPECT_EQ(dj_fetch_opts_init(&fo), DJ_OK);
    fo.offset = -1;
    EXPECT_EQ(dj_table_fetch(item.get(), &fo, &r), DJ_E_INVALID_ARG);
    EXPECT_EQ(dj_fetch_opts_init(&fo), DJ_OK);
    fo.struct_size = 4;
    EXPECT_EQ(dj_table_fetch(item.get(), &fo, &r), DJ_E_INVALID_ARG);
    EXPECT_EQ(dj_fetch_opts_init(&fo), DJ_OK);
    fo.order_by = "label sideways";
    EXPECT_EQ(dj_table_fetch(item.get(), &fo, &r), DJ_E_INVALID_ARG);
    // NULL options mean the defaults.
    EXPECT_EQ(dj_table_fetch(item.get(), nullptr, &r), DJ_OK);
    EXPECT_EQ(dj_result_nrows(r), 0u);
    dj_result_free(r);
}

TEST_F(Errors, ResultAccessOutOfRange) {
    item.insert1(dj::Row().set("item_id", 1).set("label", "a"));
    dj::Result r = item.fetch();
    dj_column_view v;
    EXPECT_EQ(dj_result_column(r.get(), r.ncols(), &v), DJ_E_INVALID_ARG);
    EXPECT_EQ(dj_result_column(r.get(), 0, nullptr), DJ_E_INVALID_ARG);
    std::size_t idx = 0;
    EXPECT_EQ(dj_result_column_index(r.get(), "nope", &idx), DJ_E_UNKNOWN_ATTRIBUTE);
    EXPECT_TRUE(contains(last_message(), "nope")) << last_message();
    EXPECT_EQ(dj_result_column_index(r.get(), nullptr, &idx), DJ_E_INVALID_ARG);
    EXPECT_THROW((void)r.column("nope"), dj::UnknownAttribute);
    EXPECT_THROW((void)r.column(99), dj::InvalidArgument);
    EXPECT_THROW((void)r.column("label").str(1), dj::InvalidArgument);
    EXPECT_THROW((void)r.column("label").values<int32_t>(), dj::TypeError);  // kind mismatch
    EXPECT_THROW((void)r.column("item_id").values<int64_t>(), dj::TypeError);
    EXPECT_THROW((void)r.column("item_id").str(0), dj::TypeError);
    EXPECT_THROW((void)r.column("label").bytes(0), dj::TypeError);
    EXPECT_THROW((void)r.column("label").uuid(0), dj::TypeError);
    dj_attr_info info;
    EXPECT_EQ(dj_table_attr(item.get(), 99, &info), DJ_E_INVALID_ARG);
    EXPECT_EQ(dj_table_attr(item.get(), 0, nullptr), DJ_E_INVALID_ARG);
}

// ---------------------------------------------------------------- invalid UTF-8

TEST_F(Errors, InvalidUtf8IsRejected) {
    const char bad[] = "ab\xff\xfe";
    dj_row* row = new_row();
    EXPECT_EQ(dj_row_set_string(row, "label", bad), DJ_E_INVALID_ARG);
    EXPECT_TRUE(contains(last_message(), "UTF-8")) << last_message();
    EXPECT_EQ(dj_row_set_string_n(row, "label", bad, 4), DJ_E_INVALID_ARG);
    EXPECT_EQ(dj_row_set_string_n(row, "label", "\xc3", 1), DJ_E_INVALID_ARG);  // truncated sequence
    EXPECT_EQ(dj_row_set_int(row, bad, 1), DJ_E_INVALID_ARG);                    // attribute name
    EXPECT_EQ(dj_row_set_decimal(row, "price", bad), DJ_E_INVALID_ARG);
    EXPECT_EQ(dj_row_set_json(row, "doc", bad), DJ_E_INVALID_ARG);
    EXPECT_EQ(dj_row_len(row), 0u);
    // Through the wrapper as well.
    EXPECT_THROW(dj::Row().set("label", std::string(bad)), dj::InvalidArgument);

    dj_table* t = nullptr;
    EXPECT_EQ(dj_table_restrict_sql(item.get(), "label = '\xff'", &t), DJ_E_INVALID_ARG);
    EXPECT_EQ(dj_table_declare(schema.get(), "Bad", DJ_TIER_MANUAL, "a : varchar(4) # \xff", &t), DJ_E_INVALID_ARG);
    dj_schema* s = nullptr;
    EXPECT_EQ(dj_schema_open(conn.get(), "\xff", 1, &s), DJ_E_INVALID_ARG);
    dj_conn* c = nullptr;
    EXPECT_EQ(dj_connect_duckdb("\xff.duckdb", &c), DJ_E_INVALID_ARG);
    EXPECT_EQ(c, nullptr);

    // Columnar text with invalid UTF-8 in row 1: the whole batch is rejected.
    dj::Batch b;
    b.add("item_id", std::vector<int32_t>{1, 2}).add_strings("label", {"ok", std::string(bad)});
    const std::string msg = error_message_of(DJ_E_INVALID_ARG, [&] { item.insert(b); });
    EXPECT_TRUE(contains(msg, "label")) << msg;
    EXPECT_EQ(item.count(), 0u);
    // Bytes are not text: the same bytes are fine in a bytes attribute.
    dj::Batch ok;
    ok.add("item_id", std::vector<int32_t>{1})
        .add_strings("label", {"ok"})
        .add_bytes("data", {dj::Bytes(bad, bad + 4)});
    EXPECT_EQ(item.insert(ok), 1u);
}

// ---------------------------------------------------------------- wrong types and values

TEST_F(Errors, WrongTypeForAnAttribute) {
    auto base = [] { return dj::Row().set("item_id", 1).set("label", "a"); };
    struct Case {
        const char* attr;
        std::function<void(dj::Row&)> set;
    };
    const std::vector<Case> cases = {
        {"item_id", [](dj::Row& r) { r.set("item_id", "one"); }},                  // text into int32
        {"item_id", [](dj::Row& r) { r.set("item_id", int64_t{1} << 40); }},       // out of range
        {"item_id", [](dj::Row& r) { r.set("item_id", 1.5); }},                    // non-integral float
        {"small", [](dj::Row& r) { r.set("small", 128); }},                        // int8 max + 1
        {"small", [](dj::Row& r) { r.set("small", -129); }},                       // int8 min - 1
        {"label", [](dj::Row& r) { r.set("label", 5); }},                          // number into varchar
        {"label", [](dj::Row& r) { r.set("label", "123456789"); }},                // too long
        {"label", [](dj::Row& r) { r.set("label", dj::Bytes{1}); }},               // bytes into varchar
        {"color", [](dj::Row& r) { r.set("color", "green"); }},                    // not an enum member
        {"price", [](dj::Row& r) { r.set("price", dj::Decimal{"1.234"}); }},       // too many digits
        {"price", [](dj::Row& r) { r.set("price", dj::Decimal{"1000"}); }},        // does not fit (5,2)
        {"price", [](dj::Row& r) { r.set("price", dj::Decimal{"abc"}); }},         // not a number
        {"doc", [](dj::Row& r) { r.set("doc", dj::Json{"{bad json"}); }},          // invalid JSON
        {"day", [](dj::Row& r) { r.set("day", "2024-13-01"); }},                   // not a date
        {"day", [](dj::Row& r) { r.set("day", 3); }},                              // number into date
        {"data", [](dj::Row& r) { r.set("data", "text"); }},                       // text into bytes
    };
    for (const auto& c : cases) {
        dj::Row r = base();
        c.set(r);
        const std::string msg = error_message_of(DJ_E_TYPE, [&] { item.insert1(r); });
        SCOPED_TRACE(c.attr);
        EXPECT_TRUE(contains(msg, std::string("'") + c.attr + "'")) << msg;  // names the attribute
        EXPECT_TRUE(contains(msg, "item")) << msg;                           // and the table
    }
    EXPECT_EQ(item.count(), 0u);
    EXPECT_THROW(item.insert1(dj::Row().set("item_id", std::numeric_limits<uint64_t>::max()).set("label", "a")), dj::TypeError);

    // Columnar: a buffer of the wrong kind for the attribute.
    dj::Batch b;
    b.add("item_id", std::vector<int32_t>{1}).add("label", std::vector<int32_t>{7});
    const std::string msg = error_message_of(DJ_E_TYPE, [&] { item.insert(b); });
    EXPECT_TRUE(contains(msg, "'label'")) << msg;
    dj::Batch b2;
    b2.add("item_id", std::vector<std::string>{"1"}).add_strings("label", {"a"});
    EXPECT_EQ(error_code_of([&] { item.insert(b2); }), DJ_E_TYPE);
    EXPECT_EQ(item.count(), 0u);
}

TEST_F(Errors, ErrorMessagesQuoteTheTableOnce) {
    // Messages name the table as `schema`.`table`, not ``schema`.`table``.
    const std::string msg = error_message_of(DJ_E_TYPE, [&] { item.insert1(dj::Row().set("item_id", "x").set("label", "a")); });
    EXPECT_NE(msg.find("`" + schema_name + "`.`item`"), std::string::npos) << msg;
    EXPECT_EQ(msg.find("``"), std::string::npos) << msg;
}

TEST_F(Errors, UnknownAttribute) {
    std::string msg = error_message_of(DJ_E_UNKNOWN_ATTRIBUTE, [&] {
        item.insert1(dj::Row().set("item_id", 1).set("label", "a").set("colour", "red"));
    });
    EXPECT_TRUE(contains(msg, "colour")) << msg;
    EXPECT_TRUE(contains(msg, "item")) << msg;
    dj::Batch b;
    b.add("item_id", std::vector<int32_t>{1}).add_strings("label", {"a"}).add("weight", std::vector<double>{1});
    msg = error_message_of(DJ_E_UNKNOWN_ATTRIBUTE, [&] { item.insert(b); });
    EXPECT_TRUE(contains(msg, "weight")) << msg;
    msg = error_message_of(DJ_E_UNKNOWN_ATTRIBUTE, [&] { (void)item.fetch({{"label", "nope"}, "", -1, 0}); });
    EXPECT_TRUE(contains(msg, "nope")) << msg;
    msg = error_message_of(DJ_E_UNKNOWN_ATTRIBUTE, [&] { (void)item.fetch({{}, "nope DESC", -1, 0}); });
    EXPECT_TRUE(contains(msg, "nope")) << msg;
    EXPECT_EQ(item.count(), 0u);
    // ignore_extra_fields drops unknown names instead.
    dj::InsertOptions o;
    o.ignore_extra_fields = true;
    EXPECT_EQ(item.insert1(dj::Row().set("item_id", 1).set("label", "a").set("colour", "red"), o), 1u);
    dj::Batch b2;
    b2.add("item_id", std::vector<int32_t>{2}).add_strings("label", {"b"}).add("weight", std::vector<double>{1});
    EXPECT_EQ(item.insert(b2, o), 1u);
    EXPECT_EQ(item.count(), 2u);
}

TEST_F(Errors, MissingRequiredAttribute) {
    const std::string msg = error_message_of(DJ_E_INVALID_ARG, [&] { item.insert1(dj::Row().set("item_id", 1)); });
    EXPECT_TRUE(contains(msg, "label")) << msg;
    std::vector<dj::Row> rows;
    rows.push_back(dj::Row().set("item_id", 1).set("label", "a"));
    rows.push_back(dj::Row().set("item_id", 2).set("small", 1));
    EXPECT_EQ(error_code_of([&] { item.insert(rows); }), DJ_E_INVALID_ARG);  // rows with other attributes
    EXPECT_EQ(item.count(), 0u);
}

TEST_F(Errors, DuplicateKey) {
    item.insert1(dj::Row().set("item_id", 1).set("label", "a"));
    const std::string msg = error_message_of(DJ_E_DUPLICATE, [&] { item.insert1(dj::Row().set("item_id", 1).set("label", "b")); });
    EXPECT_FALSE(msg.empty());
    EXPECT_EQ(item.fetch1().column("label").str(0), "a");
    try {
        item.insert1(dj::Row().set("item_id", 1).set("label", "b"));
        FAIL() << "no exception";
    } catch (const dj::Duplicate& e) {
        EXPECT_EQ(e.code(), DJ_E_DUPLICATE);
        EXPECT_STREQ(e.code_name(), "Duplicate");
    }
}

TEST_F(Errors, Fetch1NeedsExactlyOneRow) {
    dj_result* r = reinterpret_cast<dj_result*>(0x1);
    EXPECT_EQ(dj_table_fetch1(item.get(), nullptr, &r), DJ_E_NOT_FOUND);
    EXPECT_EQ(r, nullptr);
    EXPECT_TRUE(contains(last_message(), "item")) << last_message();
    item.insert1(dj::Row().set("item_id", 1).set("label", "a"));
    EXPECT_EQ(dj_table_fetch1(item.get(), nullptr, &r), DJ_OK);
    dj_result_free(r);
    item.insert1(dj::Row().set("item_id", 2).set("label", "b"));
    EXPECT_EQ(dj_table_fetch1(item.get(), nullptr, &r), DJ_E_NOT_UNIQUE);
    EXPECT_EQ(r, nullptr);
    EXPECT_THROW((void)item.fetch1(), dj::NotUnique);
    EXPECT_THROW((void)item.restrict("item_id = 3").fetch1(), dj::NotFound);
    EXPECT_NO_THROW((void)item.restrict("item_id = 2").fetch1());
}

TEST_F(Errors, UseAfterClose) {
    item.insert1(dj::Row().set("item_id", 1).set("label", "a"));
    dj::Result before = item.fetch();
    EXPECT_EQ(dj_conn_close(conn.get()), DJ_OK);
    EXPECT_EQ(dj_conn_close(conn.get()), DJ_OK);  // idempotent
    uint64_t n = 0;
    EXPECT_EQ(dj_table_count(item.get(), &n), DJ_E_CLOSED);
    EXPECT_STREQ(dj_status_name(dj_last_error_code()), "Closed");
    dj_schema* s = nullptr;
    EXPECT_EQ(dj_schema_open(conn.get(), "again", 1, &s), DJ_E_CLOSED);
    EXPECT_EQ(s, nullptr);
    EXPECT_THROW((void)item.fetch(), dj::Closed);
    EXPECT_THROW(item.insert1(dj::Row().set("item_id", 2).set("label", "b")), dj::Closed);
    EXPECT_THROW((void)item.del(), dj::Closed);
    EXPECT_THROW((void)schema.tables(), dj::Closed);
    EXPECT_THROW((void)schema.declare("Other", dj::Tier::Manual, "x : int32"), dj::Closed);
    EXPECT_THROW((void)conn.schemas(), dj::Closed);
    EXPECT_NO_THROW(conn.close());
    // A result fetched before the close is still readable; handles are still safe to free.
    EXPECT_EQ(before.nrows(), 1u);
    EXPECT_EQ(before.column("label").str(0), "a");
}

TEST_F(Errors, MalformedDefinitions) {
    const std::vector<std::pair<std::string, std::string>> bad = {
        {"id : int32\n---\nx : notatype", "notatype"},
        {"id : int32\n---\nx int32", "x int32"},                    // missing ':'
        {"doc : json\n---\nx : int32", "doc"},                      // json in the primary key
        {"id : int32\n---\nid : int16", "id"},                      // declared twice
        {"id = null : int32", "id"},                                // nullable key
        {"id : int32\n---\nx : varchar", "varchar"},                // missing length
        {"id : int32\n---\nx : decimal(3,4)", "decimal"},           // scale > precision
        {"id : int32\n---\nx : datetime(7)", "datetime"},           // precision > 6
        {"id : int32\n---\nx : enum()", "enum"},                    // no members
        {"-> Missing\nid : int32", "Missing"},                      // unknown parent
        {"id : int32\n---\n---\nx : int32", "divider"},             // second divider
        {"Id : int32", "Id"},                                       // upper case name
        {"", "no attributes"},                                      // empty
        {"id : int32\n---\nx : int32\nindex(y)", "y"},              // index on unknown attribute
    };
    for (const auto& [definition, needle] : bad) {
        SCOPED_TRACE(definition);
        dj_table* t = reinterpret_cast<dj_table*>(0x1);
        const dj_status s = dj_table_declare(schema.get(), "Broken", DJ_TIER_MANUAL, definition.c_str(), &t);
        EXPECT_EQ(s, DJ_E_DEFINITION) << dj_status_name(s) << ": " << last_message();
        EXPECT_EQ(t, nullptr);
        const std::string msg = last_message();
        EXPECT_TRUE(contains(msg, needle)) << msg;
        EXPECT_TRUE(contains(msg, "broken")) << msg;  // names the table
    }
    EXPECT_THROW((void)schema.declare("Broken", dj::Tier::Manual, "x : floaty"), dj::DefinitionError);
    EXPECT_EQ(schema.tables(), std::vector<std::string>{"item"});
}

TEST_F(Errors, RestrictedTablesCannotBeInsertedIntoOrDropped) {
    dj::Table r = item.restrict("item_id > 0");
    EXPECT_THROW(r.insert1(dj::Row().set("item_id", 1).set("label", "a")), dj::InvalidArgument);
    EXPECT_THROW(r.drop(), dj::InvalidArgument);
    EXPECT_EQ(item.count(), 0u);
}

TEST_F(Errors, LastErrorIsPerCallAndClearedBySuccess) {
    uint64_t n = 0;
    EXPECT_EQ(dj_table_count(nullptr, &n), DJ_E_INVALID_HANDLE);
    EXPECT_NE(std::strlen(dj_last_error_message()), 0u);
    EXPECT_EQ(dj_table_count(item.get(), &n), DJ_OK);
    EXPECT_EQ(dj_last_error_code(), DJ_OK);
    EXPECT_STREQ(dj_last_error_message(), "");
}

TEST(ErrorMapping, StatusCodesBecomeTheirExceptionTypes) {
    auto thrown_as = [](int code) -> std::string {
        try {
            dj::throw_error(code, "m");
        } catch (const dj::NotFound&) { return "NotFound";
        } catch (const dj::Duplicate&) { return "Duplicate";
        } catch (const dj::Integrity&) { return "Integrity";
        } catch (const dj::TypeError&) { return "TypeError";
        } catch (const dj::DefinitionError&) { return "DefinitionError";
        } catch (const dj::UnknownAttribute&) { return "UnknownAttribute";
        } catch (const dj::NotUnique&) { return "NotUnique";
        } catch (const dj::Closed&) { return "Closed";
        } catch (const dj::InvalidArgument&) { return "InvalidArgument";
        } catch (const dj::InvalidHandle&) { return "InvalidHandle";
        } catch (const dj::Error& e) { return std::string("Error:") + e.code_name();
        }
        return "none";
    };
    EXPECT_EQ(thrown_as(DJ_E_NOT_FOUND), "NotFound");
    EXPECT_EQ(thrown_as(DJ_E_DUPLICATE), "Duplicate");
    EXPECT_EQ(thrown_as(DJ_E_INTEGRITY), "Integrity");
    EXPECT_EQ(thrown_as(DJ_E_TYPE), "TypeError");
    EXPECT_EQ(thrown_as(DJ_E_DEFINITION), "DefinitionError");
    EXPECT_EQ(thrown_as(DJ_E_UNKNOWN_ATTRIBUTE), "UnknownAttribute");
    EXPECT_EQ(thrown_as(DJ_E_NOT_UNIQUE), "NotUnique");
    EXPECT_EQ(thrown_as(DJ_E_CLOSED), "Closed");
    EXPECT_EQ(thrown_as(DJ_E_INVALID_ARG), "InvalidArgument");
    EXPECT_EQ(thrown_as(DJ_E_INVALID_HANDLE), "InvalidHandle");
    EXPECT_EQ(thrown_as(DJ_E_BACKEND), "Error:Backend");
    EXPECT_EQ(thrown_as(DJ_E_PANIC), "Error:Panic");
    EXPECT_EQ(thrown_as(-12345), "Error:Unknown");

    EXPECT_NO_THROW(dj::check(DJ_OK));
    try {
        dj::check(DJ_E_DUPLICATE);  // no message recorded: the code name is used
        FAIL();
    } catch (const dj::Duplicate& e) {
        EXPECT_EQ(e.code(), DJ_E_DUPLICATE);
        EXPECT_FALSE(std::string(e.what()).empty());
    }
    EXPECT_STREQ(dj_status_name(DJ_OK), "OK");
    EXPECT_STREQ(dj_status_name(DJ_E_UNKNOWN_ATTRIBUTE), "UnknownAttribute");
}

TEST(ErrorMapping, DuckdbConnectionFailures) {
    // About DuckDB itself: file paths and the overrides that select it.
    TempDir dir;
    // A DuckDB path inside a directory that does not exist.
    EXPECT_THROW((void)dj::Connection::duckdb(dir.file("no/such/dir/x.duckdb")), dj::Error);
    // Bad overrides JSON.
    EXPECT_THROW((void)dj::Connection::connect("", "{not json"), dj::Error);
    // A config file that does not exist.
    EXPECT_THROW((void)dj::Connection::connect(dir.file("missing.json"), ""), dj::Error);
    // Overrides alone are enough for an embedded database.
    auto c = dj::Connection::connect("", R"({"database.backend": "duckdb", "database.path": ")" + dir.file("o.duckdb") + "\"}");
    EXPECT_EQ(c.backend(), "duckdb");
}

TEST(ErrorMapping, UnreachableDatabaseIsAnError) {
    // The server under test on a port nobody listens on (DJ_E_CONNECTION); DuckDB: a database
    // file below a plain file.
    TempDir dir;
    if (on_server()) {
        // The test settings with the port replaced by 1.
        std::string cfg = std::regex_replace(test_config(), std::regex(R"re("database\.port"\s*:\s*"?[0-9]+"?)re"), "");
        cfg = std::regex_replace(cfg, std::regex(R"re(\{\s*,)re"), "{");
        cfg = std::regex_replace(cfg, std::regex(R"re(,\s*(,|\}))re"), "$1");
        cfg = merge_json(cfg, R"({"database.port": 1})");
        const std::string msg = error_message_of(DJ_E_CONNECTION, [&] { (void)dj::Connection::connect("", cfg); });
        EXPECT_FALSE(msg.empty());
    } else {
        std::ofstream(dir.file("plain")) << "x";
        EXPECT_THROW((void)dj::Connection::connect("", config_json("{}", dir.file("plain/sub.duckdb"))), dj::Error);
    }
}
