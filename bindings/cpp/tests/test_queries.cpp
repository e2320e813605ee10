// Restrictions, fetch options, fetch1/keys/count/delete, foreign keys, part tables, reopening a file.
#include "test_util.hpp"

#include <algorithm>

using namespace djtest;

namespace {

const char* const kSubject = R"(
    # experimental subject
    subject_id : int32
    ---
    name : varchar(64)
    sex : enum('M','F','U')
)";

const char* const kSession = R"(
    -> Subject
    session_id : int16
    ---
    note = "" : varchar(255)
)";

class Queries : public DbTest {
protected:
    dj::Table subject = schema.declare("Subject", dj::Tier::Manual, kSubject);
    dj::Table session = schema.declare("Session", dj::Tier::Manual, kSession);

    void SetUp() override {
        dj::Batch b;
        b.add("subject_id", std::vector<int32_t>{1, 2, 3, 4, 5})
            .add_strings("name", {"Ada", "Bo", "Cy", "Di", "Ed"})
            .add_strings("sex", {"F", "M", "U", "F", "M"});
        ASSERT_EQ(subject.insert(b), 5u);
        // Sessions: subject 1 has 3, subject 2 has 2, subject 3 has 1.
        std::vector<dj::Row> rows;
        for (auto [s, n] : std::vector<std::pair<int32_t, int16_t>>{{1, 3}, {2, 2}, {3, 1}})
            for (int16_t k = 1; k <= n; ++k)
                rows.push_back(dj::Row().set("subject_id", s).set("session_id", k).set("note", "s" + std::to_string(s) + "." + std::to_string(k)));
        ASSERT_EQ(session.insert(rows), 6u);
    }

    static dj::Row subject_key(int32_t id) { return dj::Row().set("subject_id", id); }
};

}  // namespace

TEST_F(Queries, RestrictByKeyRow) {
    const dj::Table one = subject.restrict(subject_key(2));
    EXPECT_EQ(one.count(), 1u);
    EXPECT_EQ(one.fetch1().column("name").str(0), "Bo");
    EXPECT_EQ(session.restrict(subject_key(1)).count(), 3u);
    // Names that are not attributes are ignored (the reference's rule) ...
    EXPECT_EQ(session.restrict(dj::Row().set("subject_id", 1).set("unrelated", 5)).count(), 3u);
    // ... and a key with several attributes is an AND.
    EXPECT_EQ(session.restrict(dj::Row().set("subject_id", 1).set("session_id", 2)).fetch1().column("note").str(0), "s1.2");
    EXPECT_EQ(session.restrict(subject_key(4)).count(), 0u);
}

TEST_F(Queries, RestrictByListOfKeysIsAnOr) {
    std::vector<dj::Row> keys;
    keys.push_back(subject_key(1));
    keys.push_back(subject_key(3));
    keys.push_back(subject_key(42));
    const dj::Table some = subject.restrict(keys);
    EXPECT_EQ(some.count(), 2u);
    EXPECT_EQ(int32_column(some.fetch({{}, "subject_id", -1, 0}), "subject_id"), (std::vector<int32_t>{1, 3}));
    EXPECT_EQ(session.restrict(keys).count(), 4u);
    EXPECT_EQ(subject.restrict(std::vector<dj::Row>{}).count(), 0u);  // the empty OR matches nothing
}

TEST_F(Queries, RestrictBySqlAndChainedRestrictionsAreAnAnd) {
    EXPECT_EQ(subject.restrict("subject_id > 2").count(), 3u);
    EXPECT_EQ(subject.restrict("sex = 'F'").count(), 2u);
    EXPECT_EQ(subject.restrict("subject_id > 2").restrict("sex = 'F'").count(), 1u);
    EXPECT_EQ(subject.restrict("subject_id > 2").restrict(subject_key(4)).fetch1().column("name").str(0), "Di");
    // LIKE follows the server's collation: case-sensitive on DuckDB and PostgreSQL (Ada, Ed),
    // case-insensitive under MySQL's default collation (Ada, Di, Ed).
    EXPECT_EQ(subject.restrict("name LIKE '%d%'").count(), on_mysql() ? 3u : 2u);
    // The original table is unchanged by restrictions.
    EXPECT_EQ(subject.count(), 5u);
}

TEST_F(Queries, Exclude) {
    EXPECT_EQ(subject.exclude("subject_id > 2").count(), 2u);
    EXPECT_EQ(subject.exclude(subject_key(1)).count(), 4u);
    EXPECT_EQ(subject.exclude(subject_key(1)).exclude(subject_key(2)).count(), 3u);
    EXPECT_EQ(subject.restrict("sex = 'M'").exclude(subject_key(2)).fetch1().column("name").str(0), "Ed");
}

TEST_F(Queries, OrderByLimitOffsetAndAttributes) {
    dj::FetchOptions o;
    o.order_by = "subject_id DESC";
    o.limit = 2;
    o.offset = 1;
    const dj::Result r = subject.fetch(o);
    EXPECT_EQ(int32_column(r, "subject_id"), (std::vector<int32_t>{4, 3}));

    o = {};
    o.order_by = "name DESC";
    const dj::Result by_name = subject.fetch(o);
    std::vector<std::string> names;
    for (std::size_t i = 0; i < by_name.nrows(); ++i) names.emplace_back(by_name.column("name").str(i));
    EXPECT_EQ(names, (std::vector<std::string>{"Ed", "Di", "Cy", "Bo", "Ada"}));

    o = {};
    o.attributes = {"name"};
    o.order_by = "name";
    const dj::Result only_names = subject.fetch(o);
    ASSERT_EQ(only_names.ncols(), 1u);
    EXPECT_EQ(only_names.column(0).name(), "name");
    EXPECT_EQ(only_names.column_names(), (std::vector<std::string>{"name"}));

    o = {};
    o.attributes = {"KEY", "note"};
    o.order_by = "KEY DESC";
    o.limit = 1;
    const dj::Result last = session.fetch(o);
    EXPECT_EQ(last.column_names(), (std::vector<std::string>{"subject_id", "session_id", "note"}));
    ASSERT_EQ(last.nrows(), 1u);
    EXPECT_EQ(last.column("note").str(0), "s3.1");
    EXPECT_TRUE(last.column("session_id").in_key());
    EXPECT_FALSE(last.column("note").in_key());

    o = {};
    o.limit = 0;
    EXPECT_EQ(subject.fetch(o).nrows(), 0u);
    o.limit = -1;
    o.offset = 10;
    EXPECT_EQ(subject.fetch(o).nrows(), 0u);
}

TEST_F(Queries, Fetch1KeysAndCount) {
    const dj::Result one = subject.restrict(subject_key(3)).fetch1();
    EXPECT_EQ(one.nrows(), 1u);
    EXPECT_EQ(one.column("sex").str(0), "U");
    EXPECT_EQ(subject.restrict(subject_key(3)).fetch1({{"name"}, "", -1, 0}).ncols(), 1u);

    EXPECT_THROW((void)subject.restrict(subject_key(99)).fetch1(), dj::NotFound);
    EXPECT_THROW((void)subject.fetch1(), dj::NotUnique);

    const dj::Result keys = session.keys({{}, "KEY", -1, 0});
    EXPECT_EQ(keys.column_names(), (std::vector<std::string>{"subject_id", "session_id"}));
    EXPECT_EQ(keys.nrows(), 6u);
    EXPECT_EQ(int32_column(keys, "subject_id"), (std::vector<int32_t>{1, 1, 1, 2, 2, 3}));
    const auto sid = keys.column("session_id").values<int16_t>();
    EXPECT_EQ(std::vector<int16_t>(sid.begin(), sid.end()), (std::vector<int16_t>{1, 2, 3, 1, 2, 1}));

    EXPECT_EQ(subject.count(), 5u);
    EXPECT_EQ(session.count(), 6u);
}

TEST_F(Queries, DeleteWithRestriction) {
    EXPECT_EQ(session.restrict(subject_key(1)).restrict("session_id >= 2").del(), 2u);
    EXPECT_EQ(session.count(), 4u);
    EXPECT_EQ(session.restrict("session_id > 100").del(), 0u);
    EXPECT_EQ(subject.restrict(subject_key(5)).del(), 1u);  // not referenced
    EXPECT_EQ(subject.count(), 4u);
    EXPECT_EQ(session.del(), 4u);
    EXPECT_EQ(subject.del(), 4u);
    EXPECT_EQ(subject.count(), 0u);
}

TEST_F(Queries, DeletingAParentCascadesToItsChildren) {
    dj::DeleteOptions preview;
    preview.dry_run = true;
    const dj::DeleteReport p = subject.restrict(subject_key(1)).del(preview);
    ASSERT_EQ(p.tables.size(), 2u);
    EXPECT_EQ(p.tables[0].table, "subject");
    EXPECT_EQ(p.tables[1].rows, 3u);
    EXPECT_EQ(session.count(), 6u);  // a preview deletes nothing
    EXPECT_EQ(subject.restrict(subject_key(1)).del(), 1u);
    EXPECT_EQ(subject.count(), 4u);
    EXPECT_EQ(session.count(), 3u);  // its three sessions went with it
    // Dropping a referenced table drops its dependents first.
    subject.drop();
    EXPECT_TRUE(schema.tables().empty());
}

TEST_F(Queries, ForeignKeyRejectsAMissingParent) {
    const std::string msg = error_message_of(DJ_E_INTEGRITY, [&] {
        session.insert1(dj::Row().set("subject_id", 99).set("session_id", 1));
    });
    EXPECT_FALSE(msg.empty());
    // In a batch: the whole batch is rejected.
    dj::Batch b;
    b.add("subject_id", std::vector<int32_t>{4, 99}).add("session_id", std::vector<int16_t>{1, 1});
    EXPECT_THROW(session.insert(b), dj::Integrity);
    EXPECT_EQ(session.count(), 6u);
}

TEST_F(Queries, PartTableWithMaster) {
    auto trial = schema.declare_part(session, "Trial", R"(
        -> master
        trial_id : int32
        ---
        outcome : enum('hit','miss')
    )");
    EXPECT_EQ(trial.name(), "session__trial");
    const auto attrs = trial.attributes();
    ASSERT_EQ(attrs.size(), 4u);
    EXPECT_EQ(attrs[0].name, "subject_id");
    EXPECT_EQ(attrs[1].name, "session_id");
    EXPECT_TRUE(attrs[1].in_key);
    EXPECT_EQ(attrs[1].type, "int16");
    EXPECT_EQ(attrs[2].name, "trial_id");

    dj::Batch b;
    b.add("subject_id", std::vector<int32_t>{1, 1, 2})
        .add("session_id", std::vector<int16_t>{1, 1, 2})
        .add("trial_id", std::vector<int32_t>{1, 2, 1})
        .add_strings("outcome", {"hit", "miss", "hit"});
    EXPECT_EQ(trial.insert(b), 3u);
    EXPECT_EQ(trial.restrict("outcome = 'hit'").count(), 2u);
    EXPECT_THROW(trial.insert1(dj::Row().set("subject_id", 5).set("session_id", 1).set("trial_id", 1).set("outcome", "hit")),
                 dj::Integrity);
    // A part's rows do not go without their master's ...
    EXPECT_THROW((void)trial.restrict("trial_id = 2").del(), dj::Integrity);
    EXPECT_EQ(trial.count(), 3u);
    // ... but a master's rows take their parts along.
    EXPECT_EQ(session.restrict(subject_key(2)).restrict("session_id = 2").del(), 1u);
    EXPECT_EQ(trial.count(), 2u);
    // The part can be opened by its class name.
    EXPECT_EQ(schema.table("Session.Trial").count(), 2u);
    EXPECT_EQ(schema.table("session__trial").count(), 2u);
}

TEST_F(Queries, ReopenWithANewConnection) {
    {
        // Drop every handle of the fixture's connection, then close it.
        dj::Table s = std::move(subject);
        dj::Table t = std::move(session);
        dj::Schema sc = std::move(schema);
        conn.close();
    }
    // Everything is read back from the database's catalog (DuckDB: the reopened file).
    auto conn2 = db.connect();
    EXPECT_EQ(conn2.backend(), backend());
    const auto schemas = conn2.schemas();
    EXPECT_NE(std::find(schemas.begin(), schemas.end(), schema_name), schemas.end());
    auto sc2 = conn2.schema(schema_name, false);
    EXPECT_EQ(sc2.name(), schema_name);
    EXPECT_EQ(sc2.tables(), (std::vector<std::string>{"session", "subject"}));

    auto subj = sc2.table("Subject");
    EXPECT_EQ(subj.name(), "subject");
    EXPECT_EQ(subj.comment(), "experimental subject");
    const auto attrs = subj.attributes();
    ASSERT_EQ(attrs.size(), 3u);
    EXPECT_EQ(attrs[0].name, "subject_id");
    EXPECT_EQ(attrs[0].type, "int32");
    EXPECT_TRUE(attrs[0].in_key);
    EXPECT_EQ(attrs[1].name, "name");
    EXPECT_EQ(attrs[1].type, "varchar(64)");
    EXPECT_EQ(attrs[2].type, "enum('M','F','U')");
    EXPECT_EQ(attrs[2].kind, DJ_KIND_STRING);
    EXPECT_EQ(subj.count(), 5u);

    auto sess = sc2.table("Session");
    const auto sattrs = sess.attributes();
    ASSERT_EQ(sattrs.size(), 3u);
    EXPECT_EQ(sattrs[0].name, "subject_id");
    EXPECT_TRUE(sattrs[0].in_key);
    EXPECT_EQ(sattrs[1].type, "int16");
    ASSERT_TRUE(sattrs[2].default_value.has_value());
    EXPECT_EQ(*sattrs[2].default_value, "");
    // The foreign key survives the reopen.
    EXPECT_THROW(sess.insert1(dj::Row().set("subject_id", 99).set("session_id", 1)), dj::Integrity);
    EXPECT_THROW((void)conn2.schema(db.name("absent"), false), dj::NotFound);
    EXPECT_THROW((void)sc2.table("Absent"), dj::NotFound);
}

TEST_F(Queries, SchemaListingAndDrop) {
    const std::string other_name = db.name("other");
    auto other = conn.schema(other_name);
    other.declare("Thing", dj::Tier::Manual, "thing_id : int32");
    auto names = conn.schemas();
    EXPECT_NE(std::find(names.begin(), names.end(), other_name), names.end());
    EXPECT_NE(std::find(names.begin(), names.end(), schema_name), names.end());
    other.drop();
    names = conn.schemas();
    EXPECT_EQ(std::find(names.begin(), names.end(), other_name), names.end());
    EXPECT_NE(std::find(names.begin(), names.end(), schema_name), names.end());
    EXPECT_THROW((void)conn.schema(other_name, false), dj::NotFound);
    EXPECT_EQ(error_code_of([&] { (void)conn.schema("bad name!"); }), DJ_E_INVALID_ARG);
}
