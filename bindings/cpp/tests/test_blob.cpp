// `<blob>` values (dj::Value) through the C++ binding: factories and accessors, and round trips of
// arrays, structs, cells, dicts, strings and NULL through an in-table `<blob>` and a `<blob@store>`
// attribute, plus `<attach>` files.
#include "test_util.hpp"

#include <complex>
#include <fstream>
#include <map>
#include <type_traits>

using namespace djtest;

static_assert(std::is_nothrow_move_constructible_v<dj::Value> && std::is_copy_constructible_v<dj::Value>);
static_assert(dj::Value::class_of<double>() == dj::Value::Class::Double &&
              dj::Value::class_of<uint8_t>() == dj::Value::Class::Uint8 &&
              dj::Value::class_of<char16_t>() == dj::Value::Class::Char &&
              dj::Value::class_of<bool>() == dj::Value::Class::Logical);

namespace {

std::string memory_db() { return on_duckdb() ? R"("database.path": ":memory:", )" : ""; }

class Blob : public ::testing::Test {
protected:
    TestDb db;  // first member: destroyed last
    TempDir& dir = db.dir;
    fs::path store_dir = dir.path() / "store";
    fs::path download_dir = dir.path() / "downloads";
    std::string overrides = "{" + memory_db() + R"("download_path": )" + json_str(download_dir.string()) +
                            R"(, "stores": {"default": "main", "main": {"protocol": "file", "location": )" +
                            json_str(store_dir.string()) + "}}}";
    dj::Connection conn = (fs::create_directories(store_dir), fs::create_directories(download_dir), db.connect(overrides));
    std::string schema_name = db.name("blob");
    dj::Schema schema = conn.schema(schema_name);

    dj::Table table() const {
        return schema.declare("BlobRec", dj::Tier::Manual, R"(
            rec_id : int32
            ---
            inline_v = null : <blob>
            stored_v = null : <blob@>
        )");
    }
};

/// A value exercising every kind the test checks.
dj::Value sample() {
    std::map<std::string, dj::Value> m;
    // 2×3×2 double array, column-major
    std::vector<double> d3(12);
    for (std::size_t i = 0; i < d3.size(); ++i) d3[i] = 0.5 * static_cast<double>(i);
    m["d3"] = dj::Value::array(d3, {2, 3, 2});
    m["u8"] = dj::Value::array(std::vector<uint8_t>{1, 2, 250}, {3, 1});
    m["cplx"] = dj::Value::array(std::vector<double>{1, 2}, std::vector<double>{-1, 0.5}, {1, 2});
    m["mask"] = dj::Value::logical({1, 0, 1, 1}, {2, 2});
    m["chars"] = dj::Value::char_array("héllo");
    m["str"] = dj::Value("a python str");
    m["num"] = dj::Value(3.25);
    m["int"] = dj::Value(int64_t{-42});
    m["flag"] = dj::Value(true);
    m["none"] = dj::Value::none();
    m["vec"] = std::vector<double>{1.0, 2.0, 3.0};
    m["list"] = dj::Value(std::vector<dj::Value>{dj::Value(1), dj::Value("two"), dj::Value::list()});
    // a 1×2 struct array with fields a (number) and b (nested struct)
    dj::Value s = dj::Value::structure({1, 2}, {"a", "b"});
    s.set_field(0, "a", dj::Value::array(std::vector<double>{7}, {1, 1}));
    s.set_field(1, "a", dj::Value::char_array("x"));
    s.set_field(0, "b", dj::Value::structure({{"inner", dj::Value::array(std::vector<int32_t>{5, 6}, {1, 2})}}));
    m["st"] = std::move(s);
    // a 2×2 cell with mixed content (one item left as [])
    m["cell"] = dj::Value::cell({2, 2}, {dj::Value::char_array("c"), dj::Value::array(std::vector<float>{1.5f}, {1, 1}),
                                        dj::Value::cell({1, 1}, {dj::Value::char_array("nested")})});
    return dj::Value::dict(m);
}

void check_sample(const dj::Value& v) {
    ASSERT_EQ(v.type(), dj::Value::Type::Dict);
    EXPECT_EQ(v.size(), 14u);

    const dj::Value d3 = v["d3"];
    EXPECT_FALSE(d3.owned());
    EXPECT_EQ(d3.type(), dj::Value::Type::Array);
    EXPECT_EQ(d3.array_class(), dj::Value::Class::Double);
    EXPECT_EQ(d3.shape(), (std::vector<int64_t>{2, 3, 2}));
    const auto re = d3.real<double>();
    ASSERT_EQ(re.size(), 12u);
    for (std::size_t i = 0; i < re.size(); ++i) EXPECT_EQ(re[i], 0.5 * static_cast<double>(i));
    EXPECT_FALSE(d3.is_complex());
    EXPECT_TRUE(d3.imag<double>().empty());
    EXPECT_THROW(d3.real<float>(), dj::TypeError);

    EXPECT_EQ(v["u8"].array_class(), dj::Value::Class::Uint8);
    EXPECT_EQ(v["u8"].shape(), (std::vector<int64_t>{3, 1}));
    EXPECT_EQ(v["u8"].to_vector<uint8_t>(), (std::vector<uint8_t>{1, 2, 250}));

    const dj::Value c = v["cplx"];
    EXPECT_TRUE(c.is_complex());
    EXPECT_EQ(c.to_vector<double>(), (std::vector<double>{1, 2}));
    const auto im = c.imag<double>();
    ASSERT_EQ(im.size(), 2u);
    EXPECT_EQ(im[0], -1);
    EXPECT_EQ(im[1], 0.5);

    EXPECT_EQ(v["mask"].array_class(), dj::Value::Class::Logical);
    EXPECT_EQ(v["mask"].to_vector<uint8_t>(), (std::vector<uint8_t>{1, 0, 1, 1}));

    EXPECT_EQ(v["chars"].array_class(), dj::Value::Class::Char);
    EXPECT_EQ(v["chars"].shape(), (std::vector<int64_t>{1, 5}));
    EXPECT_EQ(v["chars"].as_string(), "héllo");
    EXPECT_EQ(v["str"].type(), dj::Value::Type::String);
    EXPECT_EQ(v["str"].as_string(), "a python str");
    EXPECT_EQ(v["num"].as_double(), 3.25);
    EXPECT_EQ(v["int"].as_int(), -42);
    EXPECT_TRUE(v["flag"].as_bool());
    EXPECT_TRUE(v["none"].is_none());
    EXPECT_EQ(v["vec"].shape(), (std::vector<int64_t>{1, 3}));
    EXPECT_EQ(v["vec"].to_vector<double>(), (std::vector<double>{1, 2, 3}));

    const dj::Value l = v["list"];
    ASSERT_EQ(l.type(), dj::Value::Type::List);
    ASSERT_EQ(l.size(), 3u);
    EXPECT_EQ(l[0].as_int(), 1);
    EXPECT_EQ(l[1].as_string(), "two");
    EXPECT_EQ(l[2].size(), 0u);
    EXPECT_THROW(l[3], dj::NotFound);

    const dj::Value st = v["st"];
    ASSERT_EQ(st.type(), dj::Value::Type::Struct);
    EXPECT_EQ(st.shape(), (std::vector<int64_t>{1, 2}));
    EXPECT_EQ(st.field_names(), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(st.field(0, "a").as_double(), 7);
    EXPECT_EQ(st.field(1, "a").as_string(), "x");
    EXPECT_EQ(st.field(0, "b")["inner"].to_vector<int32_t>(), (std::vector<int32_t>{5, 6}));
    EXPECT_EQ(st.field(1, "b").numel(), 0u);  // []
    EXPECT_THROW(st.field(0, "zz"), dj::NotFound);

    const dj::Value cell = v["cell"];
    ASSERT_EQ(cell.type(), dj::Value::Type::Cell);
    EXPECT_EQ(cell.shape(), (std::vector<int64_t>{2, 2}));
    ASSERT_EQ(cell.size(), 4u);
    EXPECT_EQ(cell[0].as_string(), "c");
    EXPECT_EQ(cell[1].to_vector<float>(), (std::vector<float>{1.5f}));
    EXPECT_EQ(cell[2].type(), dj::Value::Type::Cell);
    EXPECT_EQ(cell[2][0].as_string(), "nested");
    EXPECT_EQ(cell[3].numel(), 0u);

    EXPECT_TRUE(v.contains("d3"));
    EXPECT_FALSE(v.contains("nope"));
    EXPECT_THROW(v["nope"], dj::NotFound);
    EXPECT_EQ(v.key(0).type(), dj::Value::Type::String);
}

}  // namespace

TEST(BlobValue, FactoriesAccessorsAndPackUnpack) {
    const dj::Value v = sample();
    EXPECT_TRUE(v.owned());
    check_sample(v);
    // copies are deep and owning; items stay borrowed views of their root
    dj::Value copy = v;
    EXPECT_TRUE(copy.owned());
    check_sample(copy);
    // borrowed nodes can not be modified; items given to builders are copied
    dj::Value item = v["list"];
    EXPECT_THROW(item.append(dj::Value(1)), dj::InvalidArgument);
    dj::Value l = dj::Value::list();
    l.append(item).append(dj::Value());
    ASSERT_EQ(l.size(), 2u);
    EXPECT_EQ(l[0].size(), 3u);
    EXPECT_TRUE(l[1].is_none());
    // pack / unpack
    const auto bytes = v.pack();
    ASSERT_FALSE(bytes.empty());
    check_sample(dj::Value::unpack(bytes.data(), bytes.size()));
    // array shape must match the data
    EXPECT_THROW(dj::Value::array(std::vector<double>{1, 2, 3}, {2, 2}), dj::InvalidArgument);
    EXPECT_EQ(dj::Value().type(), dj::Value::Type::Null);
    EXPECT_EQ(dj::Value(uint64_t{1} << 63).type(), dj::Value::Type::BigInt);
    EXPECT_EQ(dj::Value(std::complex<double>(1, 2)).as_complex(), std::complex<double>(1, 2));
}

TEST_F(Blob, RoundTripsInTableAndInAStore) {
    dj::Table t = table();
    t.insert1(dj::Row().set("rec_id", 1).set("inline_v", sample()).set("stored_v", sample()));
    // matlab-style values
    std::vector<double> m(6);
    for (std::size_t i = 0; i < m.size(); ++i) m[i] = static_cast<double>(i + 1);
    const dj::Value mat = dj::Value::array(m, {2, 3});
    t.insert1(dj::Row().set("rec_id", 2).set("inline_v", mat).set("stored_v", dj::Value::char_array("text")));
    // NULLs: an empty Value and dj::null; None is a value, not NULL
    t.insert1(dj::Row().set("rec_id", 3).set("inline_v", dj::Value()).set("stored_v", dj::Value::none()));
    t.insert1(dj::Row().set("rec_id", 4).set("inline_v", dj::null));
    ASSERT_FALSE(fs::is_empty(store_dir));

    dj::FetchOptions o;
    o.order_by = "rec_id";
    const dj::Result r = t.fetch(o);
    ASSERT_EQ(r.nrows(), 4u);
    EXPECT_EQ(r.column("inline_v").kind(), DJ_KIND_BLOB);
    check_sample(r.value("inline_v", 0));
    check_sample(r.value("stored_v", 0));
    EXPECT_EQ(r.value("inline_v", 1).shape(), (std::vector<int64_t>{2, 3}));
    EXPECT_EQ(r.value("inline_v", 1).to_vector<double>(), m);
    EXPECT_EQ(r.value("stored_v", 1).as_string(), "text");
    EXPECT_EQ(r.value("inline_v", 2).type(), dj::Value::Type::Null);
    EXPECT_FALSE(r.value("inline_v", 2));
    EXPECT_TRUE(r.value("stored_v", 2).is_none());
    EXPECT_FALSE(r.value("inline_v", 3));
    EXPECT_FALSE(r.value("stored_v", 3));
    EXPECT_THROW(r.value("rec_id", 0), dj::TypeError);

    // a clone outlives its result
    dj::Value kept = r.value("stored_v", 0).clone();
    { dj::Result gone = t.fetch(o); }
    check_sample(kept);
}

TEST_F(Blob, AttachmentsAndHashes) {
    dj::Table t = schema.declare("AttachRec", dj::Tier::Manual, R"(
        rec_id : int32
        ---
        a = null : <attach>
        h = null : <hash@>
    )");
    const std::string content = "attached content\n";
    const std::string src = dir.file("notes.txt");
    { std::ofstream(src) << content; }
    t.insert1(dj::Row().set("rec_id", 1).set("a", src).set("h", dj::Bytes{1, 2, 3}));
    const std::vector<uint8_t> data(content.begin(), content.end());
    t.insert1(dj::Row().set("rec_id", 2).set_attachment("a", "mem.txt", data));

    dj::FetchOptions o;
    o.order_by = "rec_id";
    const dj::Result r = t.fetch(o);
    ASSERT_EQ(r.nrows(), 2u);
    for (std::size_t i = 0; i < 2; ++i) {
        const std::string path(r.column("a").str(i));
        EXPECT_EQ(fs::path(path).parent_path(), download_dir) << path;
        std::ifstream in(path);
        std::string got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        EXPECT_EQ(got, content);
    }
    EXPECT_EQ(fs::path(std::string(r.column("a").str(1))).filename(), "mem.txt");

    // codec options: another download folder; attachment metadata without a download
    dj::CodecOptions c;
    c.download_path = dir.file("elsewhere");
    const dj::Result r2 = t.fetch(o, c);
    EXPECT_EQ(fs::path(std::string(r2.column("a").str(0))).parent_path(), fs::path(c.download_path));
    dj::CodecOptions info;
    info.attachment_info = true;
    const dj::Result r3 = t.fetch(o, info);
    EXPECT_EQ(std::string(r3.column("a").str(1)),
              "{\"name\":\"mem.txt\",\"size\":" + std::to_string(content.size()) + ",\"hash\":null}");
}

TEST_F(Blob, ColumnViewValues) {
    dj::Table t = table();
    t.insert1(dj::Row().set("rec_id", 1).set("inline_v", dj::Value(std::vector<double>{4, 5})));
    t.insert1(dj::Row().set("rec_id", 2));
    dj::FetchOptions o;
    o.order_by = "rec_id";
    const dj::Result r = t.fetch(o);
    const dj::ColumnView c = r.column("inline_v");
    EXPECT_EQ(c.value(0).to_vector<double>(), (std::vector<double>{4, 5}));
    EXPECT_FALSE(c.value(1));
    EXPECT_THROW(r.column("rec_id").value(0), dj::TypeError);
}
