// The query algebra through the C++ binding: operators (*, &, -, +), proj, aggr, dj::U, Top,
// fetch on expressions, the compiled SQL, cascading delete with part integrity, update1 and the
// Arrow C Data export, on the backend under test.
#include "test_util.hpp"

#include <type_traits>

using namespace djtest;

static_assert(std::is_copy_constructible_v<dj::Query> && std::is_nothrow_move_constructible_v<dj::Query>);
static_assert(std::is_convertible_v<const dj::Table&, dj::Query>);

namespace {

class Algebra : public DbTest {
protected:
    dj::Table subject = schema.declare("Subject", dj::Tier::Manual,
                                       "subject_id : int32\n---\nspecies : varchar(20)\nweight = null : float64");
    dj::Table session = schema.declare("Session", dj::Tier::Manual,
                                       "-> Subject\nsession : int16\n---\nduration = null : float64");
    dj::Table trial = schema.declare_part(session, "Trial", "-> master\ntrial : int16\n---\nt0 : float64\nt1 : float64");

    void SetUp() override {
        dj::Batch b;
        b.add("subject_id", std::vector<int32_t>{1, 2, 3, 4})
            .add_strings("species", {"mouse", "mouse", "rat", "rat"})
            .add("weight", std::vector<double>{20.5, 22.0, 300.0, 250.0});
        ASSERT_EQ(subject.insert(b), 4u);
        std::vector<dj::Row> rows;
        for (auto [s, n] : std::vector<std::pair<int32_t, int16_t>>{{1, 2}, {2, 1}, {3, 3}})
            for (int16_t k = 1; k <= n; ++k)
                rows.push_back(dj::Row().set("subject_id", s).set("session", k).set("duration", 10.0 * k));
        ASSERT_EQ(session.insert(rows), 6u);
        rows.clear();
        for (auto [s, k] : std::vector<std::pair<int32_t, int16_t>>{{1, 1}, {1, 2}, {3, 1}})
            for (int16_t t = 1; t <= 2; ++t)
                rows.push_back(dj::Row().set("subject_id", s).set("session", k).set("trial", t).set("t0", 1.0 * t).set("t1", 2.5 * t));
        ASSERT_EQ(trial.insert(rows), 6u);
    }
};

std::vector<std::string> names(const std::vector<dj::Attribute>& attrs) {
    std::vector<std::string> out;
    for (const auto& a : attrs) out.push_back(a.name);
    return out;
}

}  // namespace

TEST_F(Algebra, JoinRestrictAndAntijoin) {
    const dj::Query j = subject * session;
    EXPECT_EQ(j.count(), 6u);
    EXPECT_EQ(j.primary_key(), (std::vector<std::string>{"subject_id", "session"}));
    EXPECT_EQ(names(j.attributes()), (std::vector<std::string>{"subject_id", "session", "duration", "species", "weight"}));
    EXPECT_EQ((j & "species = 'rat'").count(), 3u);
    EXPECT_EQ((j & "species = 'rat'" & dj::Row().set("session", 2)).count(), 1u);
    EXPECT_EQ((subject & session).count(), 3u);
    EXPECT_EQ((subject - session).count(), 1u);
    EXPECT_EQ((subject - session).fetch1().column("subject_id").values<int32_t>()[0], 4);
    EXPECT_EQ((session & (trial & "t0 > 1.5")).count(), 3u);
    EXPECT_EQ((session - trial).count(), 3u);
    std::vector<dj::Row> keys;
    keys.push_back(std::move(dj::Row().set("subject_id", 1)));
    keys.push_back(std::move(dj::Row().set("subject_id", 2)));
    EXPECT_EQ((session & keys).count(), 3u);
    EXPECT_EQ((session - keys).count(), 3u);
    EXPECT_TRUE(j.contains(dj::Row().set("subject_id", 3).set("session", 3)));
    EXPECT_FALSE(j.contains(dj::Row().set("subject_id", 4)));
    // a join of tables is one SELECT, values are parameters
    const std::string sql = (j & dj::Row().set("species", "x' OR '1'='1")).sql();
    EXPECT_EQ(sql.find("(SELECT"), std::string::npos) << sql;
    EXPECT_EQ(sql.find("OR '1'='1"), std::string::npos) << sql;
    // the operands are unchanged
    EXPECT_EQ(subject.count(), 4u);
    const dj::Query copy = j;
    EXPECT_EQ(copy.count(), 6u);
}

TEST_F(Algebra, ProjAggrUnionUniversalTop) {
    const dj::Query dur = trial.query().proj({"dur=t1-t0"});
    EXPECT_EQ(names(dur.attributes()), (std::vector<std::string>{"subject_id", "session", "trial", "dur"}));
    EXPECT_EQ((dur & "dur > 2").count(), 3u);
    EXPECT_EQ(dj::Query(subject).proj({"animal=subject_id"}).primary_key(), (std::vector<std::string>{"animal"}));
    EXPECT_THROW((void)dj::Query(subject).proj({"nope"}), dj::UnknownAttribute);

    const dj::Query n = dj::Query(subject).aggr(session, {"n=count(session)", "total=sum(duration)"});
    dj::FetchOptions o;
    o.order_by = "subject_id";
    const dj::Result r = n.fetch(o);
    ASSERT_EQ(r.nrows(), 4u);
    EXPECT_EQ(r.column("n").kind(), DJ_KIND_INT64);
    const auto counts = r.column("n").values<int64_t>();
    EXPECT_EQ(std::vector<int64_t>(counts.begin(), counts.end()), (std::vector<int64_t>{2, 1, 3, 0}));
    EXPECT_EQ(r.column("total").values<double>()[2], 60.0);
    EXPECT_EQ(dj::Query(subject).aggr(session, {"n=count(*)"}, true).count(), 3u);
    EXPECT_EQ((n & "n >= 2").count(), 2u);

    const dj::Query u = (subject & "species = 'mouse'").proj() + (subject & "weight > 100").proj();
    EXPECT_EQ(u.count(), 4u);
    EXPECT_THROW((void)(subject + session), dj::Error);

    EXPECT_EQ((dj::U{"species"} & subject).count(), 2u);
    dj::FetchOptions by_species;
    by_species.order_by = "species";
    const dj::Result per = dj::U{"species"}.aggr(subject, {"n=count(*)"}).fetch(by_species);
    ASSERT_EQ(per.nrows(), 2u);
    EXPECT_EQ(per.column("species").str(0), "mouse");
    EXPECT_EQ(per.column("n").values<int64_t>()[1], 2);
    const dj::Result all = dj::U{}.aggr(session, {"n=count(*)"}).fetch1();
    EXPECT_EQ(all.column("n").values<int64_t>()[0], 6);

    const dj::Query top = dj::Query(session).top(2, "duration DESC, KEY");
    EXPECT_EQ(top.count(), 2u);
    EXPECT_EQ((session & dj::Top{1, "duration DESC", 1}).fetch1().column("duration").values<double>()[0], 20.0);
}

TEST_F(Algebra, CascadeDeletePartIntegrityAndUpdate1) {
    const dj::Table s1 = subject.restrict(dj::Row().set("subject_id", 1));
    dj::DeleteOptions preview;
    preview.dry_run = true;
    const dj::DeleteReport p = s1.del(preview);
    EXPECT_TRUE(p.dry_run);
    EXPECT_EQ(p.root_count(), 1u);
    EXPECT_EQ(p.total(), 1u + 2u + 4u);
    EXPECT_EQ(trial.count(), 6u);

    // a part's rows alone: refused, then allowed, then taking the master along
    const dj::Table t = trial.restrict(dj::Row().set("subject_id", 3).set("session", 1).set("trial", 1));
    EXPECT_THROW((void)t.del(), dj::Error);
    EXPECT_EQ(trial.count(), 6u);
    dj::DeleteOptions cascade;
    cascade.part_integrity = dj::PartIntegrity::Cascade;
    const dj::DeleteReport c = t.del(cascade);
    EXPECT_EQ(c.total(), 1u + 2u);  // the session and both its trials
    EXPECT_EQ(session.count(), 5u);

    EXPECT_EQ(s1.del(), 1u);
    EXPECT_EQ(session.count(), 3u);
    EXPECT_EQ(trial.count(), 0u);
    // restricted by a query
    EXPECT_EQ(subject.restrict(dj::Query(session) & "duration > 20").del(), 1u);
    EXPECT_EQ(subject.count(), 2u);

    session.update1(dj::Row().set("subject_id", 2).set("session", 1).set("duration", 99.5));
    EXPECT_EQ((session & dj::Row().set("subject_id", 2)).fetch1().column("duration").values<double>()[0], 99.5);
    session.update1(dj::Row().set("subject_id", 2).set("session", 1).set("duration", dj::null));
    EXPECT_TRUE((session & dj::Row().set("subject_id", 2)).fetch1().column("duration").is_null(0));
    EXPECT_THROW(session.update1(dj::Row().set("subject_id", 7).set("session", 1).set("duration", 1.0)), dj::NotFound);
}

TEST_F(Algebra, ArrowExportSharesTheResult) {
    dj::FetchOptions o;
    o.order_by = "KEY";
    ArrowSchema schema_c{};
    ArrowArray array_c{};
    {
        const dj::Result r = (subject * session).fetch(o);
        r.export_arrow(&schema_c, &array_c);
    }  // the Result is gone; the arrays keep its buffers
    EXPECT_STREQ(schema_c.format, "+s");
    ASSERT_EQ(schema_c.n_children, 5);
    EXPECT_STREQ(schema_c.children[0]->name, "subject_id");
    EXPECT_STREQ(schema_c.children[0]->format, "i");
    EXPECT_STREQ(schema_c.children[3]->name, "species");
    EXPECT_STREQ(schema_c.children[3]->format, "U");  // large utf8
    EXPECT_EQ(array_c.length, 6);
    const ArrowArray* ids = array_c.children[0];
    const auto* id = static_cast<const int32_t*>(ids->buffers[1]);
    EXPECT_EQ(id[0], 1);
    EXPECT_EQ(id[5], 3);
    const ArrowArray* sp = array_c.children[3];
    const auto* off = static_cast<const int64_t*>(sp->buffers[1]);
    const auto* chars = static_cast<const char*>(sp->buffers[2]);
    EXPECT_EQ(std::string(chars + off[5], chars + off[6]), "rat");
    array_c.release(&array_c);
    schema_c.release(&schema_c);
    EXPECT_EQ(array_c.release, nullptr);
}
