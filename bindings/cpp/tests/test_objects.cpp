// `<object@>`, `<filepath@>`, ObjectRef, staged inserts (RAII, streams, keys, local folders,
// progress) and gc through the C++ binding, on the backend under test with a local file store.
#include "test_util.hpp"

#include <fstream>
#include <numeric>
#include <type_traits>

using namespace djtest;

static_assert(!std::is_copy_constructible_v<dj::StagedInsert> && std::is_nothrow_move_constructible_v<dj::StagedInsert> &&
              std::is_nothrow_destructible_v<dj::StagedInsert>);
static_assert(!std::is_copy_constructible_v<dj::ObjectRef> && std::is_nothrow_move_constructible_v<dj::ObjectRef>);
static_assert(!std::is_copy_constructible_v<dj::Writer> && std::is_nothrow_destructible_v<dj::Writer>);

namespace {

std::size_t count_files(const fs::path& dir) {
    std::size_t n = 0;
    std::error_code ec;
    if (!fs::exists(dir, ec)) return 0;
    for (auto it = fs::recursive_directory_iterator(dir, ec); it != fs::recursive_directory_iterator(); it.increment(ec))
        if (it->is_regular_file(ec)) ++n;
    return n;
}

void write_file(const fs::path& p, const std::string& body) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << body;
}

class Objects : public ::testing::Test {
protected:
    TestDb db;  // first member: destroyed last
    fs::path store_dir = [this] {
        fs::create_directories(db.dir.path() / "store");
        return db.dir.path() / "store";
    }();
    std::string overrides = std::string("{") + (on_duckdb() ? R"("database.path": ":memory:", )" : "") +
                            R"("stores": {"default": "main", "main": {"protocol": "file", "location": )" +
                            json_str(store_dir.string()) + "}}}";
    dj::Connection conn = db.connect(overrides);
    dj::Schema schema = conn.schema(db.name("obj"));
    dj::Table rec = schema.declare("Recording", dj::Tier::Manual,
                                   "rec_id : int32\n---\ndata = null : <object@main>\nnote = '' : varchar(20)");

    dj::ObjectRef ref_of(int id) const {
        dj::Result r = rec.restrict(dj::Row().set("rec_id", id)).fetch();
        EXPECT_EQ(r.nrows(), 1u);
        return r.object_ref("data", 0);
    }
};

}  // namespace

TEST_F(Objects, FilesFoldersBytesAndFilepaths) {
    const fs::path src = db.dir.path() / "src";
    write_file(src / "trace.dat", std::string(100000, 'x'));
    write_file(src / "session/a.txt", "1");
    write_file(src / "session/sub/b.txt", "22");
    rec.insert1(dj::Row().set("rec_id", 1).set("data", (src / "trace.dat").string()));
    rec.insert1(dj::Row().set("rec_id", 2).set("data", (src / "session").string()));
    rec.insert1(std::move(dj::Row().set("rec_id", 3)).set_object("data", ".bin", std::vector<uint8_t>{1, 2, 3}));

    dj::ObjectRef f = ref_of(1);
    EXPECT_EQ(f.size(), 100000);
    EXPECT_FALSE(f.is_dir());
    EXPECT_EQ(f.ext(), ".dat");
    EXPECT_FALSE(f.timestamp().empty());
    EXPECT_EQ(f.read("", 10, 5), std::vector<uint8_t>(5, 'x'));
    EXPECT_EQ(f.read().size(), 100000u);
    EXPECT_EQ(f.open("", 99990).read_all().size(), 10u);
    EXPECT_TRUE(fs::exists(f.local_path()));
    EXPECT_EQ(f.download((db.dir.path() / "dl.dat").string()), 100000u);

    dj::ObjectRef d = ref_of(2);
    const dj::ObjectInfo info = d.info();
    EXPECT_TRUE(info.is_dir);
    EXPECT_EQ(info.item_count, 2);
    EXPECT_EQ(info.size, 3);
    const auto files = d.files();
    ASSERT_EQ(files.size(), 2u);
    EXPECT_EQ(files[0].first, "a.txt");
    EXPECT_EQ(files[1], (std::pair<std::string, uint64_t>{"sub/b.txt", 2}));
    EXPECT_EQ(d.read("sub/b.txt"), (std::vector<uint8_t>{'2', '2'}));
    EXPECT_TRUE(d.exists("a.txt"));
    EXPECT_FALSE(d.exists("zzz"));
    EXPECT_EQ(error_code_of([&] { d.read("../etc/passwd"); }), DJ_E_INVALID_ARG);
    EXPECT_EQ(ref_of(3).read(), (std::vector<uint8_t>{1, 2, 3}));
    EXPECT_EQ(ref_of(3).ext(), ".bin");

    // bad input: a missing file, a wrong kind; nothing written
    const std::size_t before = count_files(store_dir);
    EXPECT_EQ(error_code_of([&] { rec.insert1(dj::Row().set("rec_id", 9).set("data", (src / "nope").string())); }), DJ_E_TYPE);
    EXPECT_EQ(error_code_of([&] { rec.insert1(dj::Row().set("rec_id", 9).set("data", 3.5)); }), DJ_E_TYPE);
    EXPECT_EQ(count_files(store_dir), before);

    // <filepath@>: a file the user placed in the store; traversal is refused; deletes keep it
    dj::Table raw = schema.declare("Raw", dj::Tier::Manual, "raw_id : int32\n---\nsrc : <filepath@main>");
    write_file(store_dir / "raw/x.txt", "hello");
    raw.insert1(dj::Row().set("raw_id", 1).set("src", "raw/x.txt"));
    dj::ObjectRef x = raw.fetch().object_ref("src", 0);
    EXPECT_EQ(x.read(), (std::vector<uint8_t>{'h', 'e', 'l', 'l', 'o'}));
    EXPECT_EQ(error_code_of([&] { raw.insert1(dj::Row().set("raw_id", 2).set("src", "../x.txt")); }), DJ_E_INVALID_ARG);
    EXPECT_EQ(error_code_of([&] { raw.insert1(dj::Row().set("raw_id", 2).set("src", "raw/none.txt")); }), DJ_E_NOT_FOUND);
    EXPECT_EQ(error_code_of([&] { raw.fetch().object_ref("raw_id", 0); }), DJ_E_TYPE);
    raw.del();
    EXPECT_TRUE(fs::exists(store_dir / "raw/x.txt"));

    // deleting rows removes their objects
    rec.del();
    EXPECT_EQ(count_files(store_dir), 1u);  // raw/x.txt only
}

TEST_F(Objects, StagedInsertsCommitAbortAndCleanUp) {
    {
        dj::StagedInsert st = rec.staged_insert1();
        EXPECT_EQ(error_code_of([&] { st.put("data", "k", "v"); }), DJ_E_INVALID_ARG);  // key not set
        st.set(dj::Row().set("rec_id", 1).set("note", "stream"));
        EXPECT_EQ(error_code_of([&] { st.open("note"); }), DJ_E_TYPE);
        std::vector<uint64_t> seen;
        st.on_progress([&](uint64_t n) { seen.push_back(n); });
        dj::Writer w = st.open("data", ".raw");
        const std::vector<uint8_t> chunk(1 << 20, 7);
        for (int i = 0; i < 8; ++i) w.write(chunk);
        EXPECT_EQ(w.close(), 8u << 20);
        st.commit();
        ASSERT_EQ(seen.size(), 8u);
        EXPECT_EQ(seen.back(), 8u << 20);
        EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
    }
    EXPECT_EQ(ref_of(1).size(), 8 << 20);
    {
        dj::StagedInsert st = rec.staged_insert1();
        st.set(dj::Row().set("rec_id", 2));
        for (int i = 0; i < 100; ++i) st.put("data", "c/" + std::to_string(i), "chunk");
        EXPECT_EQ(error_code_of([&] { st.put("data", "../x", "v"); }), DJ_E_INVALID_ARG);
        dj::Writer w = st.open_key("data", ".zarray");
        w.write(std::string_view("{}"));
        w.close();
        st.commit();
    }
    EXPECT_EQ(ref_of(2).info().item_count, 101);
    {
        // a local folder written with plain file I/O, as a C library would
        dj::StagedInsert st = rec.staged_insert1();
        st.set(dj::Row().set("rec_id", 3));
        const fs::path d = st.local_dir("data");
        write_file(d / "g/a.h5", std::string(1000, 'h'));
        st.commit();
    }
    EXPECT_EQ(ref_of(3).size(), 1000);
    const std::size_t files = count_files(store_dir);
    {
        // destroyed without commit (an exception unwinding, say): everything is removed
        dj::StagedInsert st = rec.staged_insert1();
        st.set(dj::Row().set("rec_id", 4));
        for (int i = 0; i < 10; ++i) st.put("data", "k" + std::to_string(i), "lost");
    }
    EXPECT_EQ(count_files(store_dir), files);
    {
        // the final insert fails (duplicate key): nothing stays
        dj::StagedInsert st = rec.staged_insert1();
        st.set(dj::Row().set("rec_id", 1));
        st.put("data", "a", "dup");
        EXPECT_EQ(error_code_of([&] { st.commit(); }), DJ_E_DUPLICATE);
    }
    {
        // a progress callback that throws: the commit rethrows it and aborts
        dj::StagedInsert st = rec.staged_insert1();
        st.set(dj::Row().set("rec_id", 5));
        st.on_progress([](uint64_t) { throw std::runtime_error("disk quota"); });
        st.put("data", "a", "x");
        EXPECT_THROW(st.commit(), std::runtime_error);
    }
    EXPECT_EQ(count_files(store_dir), files);
    EXPECT_EQ(rec.count(), 3u);
}

TEST_F(Objects, GcRemovesOrphansOnly) {
    rec.insert1(dj::Row().set("rec_id", 1).set("data", dj::Bytes{1, 2, 3}));
    const std::string orphans = "_schema/" + schema.name() + "/recording/rec_id=8/data_ABCDEFGH";
    for (int i = 0; i < 4; ++i) write_file(store_dir / orphans / std::to_string(i), "orphan");
    dj::GcStats young = schema.gc();
    EXPECT_EQ(young.deleted, 0u);
    EXPECT_EQ(young.young, 4u);
    dj::GcOptions o;
    o.grace_seconds = 0;
    o.dry_run = true;
    dj::GcStats dry = schema.gc(o);
    EXPECT_EQ(dry.orphaned_schema, 4u);
    EXPECT_EQ(dry.orphaned_bytes, 24u);
    EXPECT_EQ(dry.deleted, 0u);
    EXPECT_EQ(dry.dry_run, 1);
    o.dry_run = false;
    dj::GcStats done = schema.gc(o);
    EXPECT_EQ(done.deleted, 4u);
    EXPECT_EQ(done.bytes_freed, 24u);
    EXPECT_EQ(ref_of(1).read(), (std::vector<uint8_t>{1, 2, 3}));
    EXPECT_EQ(count_files(store_dir), 1u);
    o.store = "nope";
    EXPECT_EQ(error_code_of([&] { schema.gc(o); }), DJ_E_STORE);
}
