// Autopopulate through the C++ binding: populate with a lambda (master and part rows in one
// transaction), a throwing make rolled back, suppress_errors, the jobs table, progress, key
// source and refused direct inserts, on the backend under test.
#include "test_util.hpp"

#include <stdexcept>

using namespace djtest;

namespace {

class Populate : public DbTest {
protected:
    dj::Table subject = schema.declare("Subject", dj::Tier::Manual, "subject_id : int32\n---\nweight : float64");
    dj::Table session = schema.declare("Session", dj::Tier::Manual, "-> Subject\nsession : int16");
    dj::Table stats = schema.declare("Stats", dj::Tier::Computed, "-> Session\n---\nscore : float64");
    dj::Table unit = schema.declare_part(stats, "Unit", "-> master\nunit : int16\n---\nrate : float64");

    void SetUp() override {
        std::vector<dj::Row> rows;
        for (int32_t s = 1; s <= 3; ++s) rows.push_back(dj::Row().set("subject_id", s).set("weight", 10.0 * s));
        ASSERT_EQ(subject.insert(rows), 3u);
        rows.clear();
        for (int32_t s = 1; s <= 3; ++s)
            for (int16_t k = 1; k <= 2; ++k) rows.push_back(dj::Row().set("subject_id", s).set("session", k));
        ASSERT_EQ(session.insert(rows), 6u);
    }

    /// Writes the master row and two part rows; subject `fail` throws after writing them.
    auto make_stats(int32_t fail) {
        return [this, fail](dj::Table& t, const dj::Key& key) {
            const int32_t s = key.get<int32_t>("subject_id");
            const int16_t k = key.get<int16_t>("session");
            const double w = subject.restrict(key.row).fetch1().column("weight").values<double>()[0];
            dj::Row r;
            r.set("subject_id", s).set("session", k).set("score", w * k);
            t.insert1(r);
            std::vector<dj::Row> units;
            for (int16_t u = 1; u <= 2; ++u)
                units.push_back(dj::Row().set("subject_id", s).set("session", k).set("unit", u).set("rate", 1.0 * u));
            unit.insert(units);
            if (s == fail) throw std::runtime_error("subject " + std::to_string(s) + " refused");
        };
    }
};

}  // namespace

TEST_F(Populate, LambdaMakesMasterAndPartRows) {
    EXPECT_EQ(stats.key_source().count(), 6u);
    EXPECT_EQ(stats.progress(), (std::pair<uint64_t, uint64_t>{6, 6}));
    dj::PopulateReport r = stats.populate(make_stats(0));
    EXPECT_EQ(r.success_count, 6u);
    EXPECT_TRUE(r.errors.empty());
    EXPECT_EQ(stats.count(), 6u);
    EXPECT_EQ(unit.count(), 12u);
    EXPECT_EQ(stats.progress().first, 0u);
    // 3 * 10 * 2
    EXPECT_DOUBLE_EQ((stats & "subject_id = 3 AND session = 2").fetch1().column("score").values<double>()[0], 60.0);
    // nothing left to make
    EXPECT_EQ(stats.populate(make_stats(0)).success_count, 0u);
}

TEST_F(Populate, ThrowingMakeRollsBackAndSuppressErrorsGoesOn) {
    const std::string msg = error_message_of(DJ_E_MAKE_FAILED, [&] { stats.populate(make_stats(1)); });
    EXPECT_NE(msg.find("subject 1 refused"), std::string::npos) << msg;
    EXPECT_NE(msg.find("subject_id=1"), std::string::npos) << msg;
    EXPECT_EQ(stats.count(), 0u);
    EXPECT_EQ(unit.count(), 0u);

    dj::PopulateOptions o;
    o.suppress_errors = true;
    std::vector<uint64_t> done;
    o.progress = [&](const dj::PopulateProgress& p) { done.push_back(p.done); };
    dj::PopulateReport r = stats.populate(make_stats(2), o);
    EXPECT_EQ(r.success_count, 4u);
    ASSERT_EQ(r.errors.size(), 2u);
    EXPECT_NE(r.errors[0].second.find("std::exception: subject 2 refused"), std::string::npos) << r.errors[0].second;
    EXPECT_EQ(r.errors[0].first.get<int32_t>("subject_id"), 2);
    EXPECT_EQ(done, (std::vector<uint64_t>{1, 2, 3, 4, 5, 6}));
    EXPECT_EQ(stats.count(), 4u);
    EXPECT_EQ(unit.count(), 8u);
    EXPECT_EQ((stats & "subject_id = 2").count(), 0u);
    EXPECT_EQ((unit & "subject_id = 2").count(), 0u);
}

TEST_F(Populate, JobsTableRecordsErrorsAndRestrictionsApply) {
    dj::PopulateOptions o;
    o.reserve_jobs = true;
    o.suppress_errors = true;
    o.restrictions = {"session = 1"};
    dj::PopulateReport r = stats.populate(make_stats(3), o);
    EXPECT_EQ(r.success_count, 2u);
    EXPECT_EQ(r.errors.size(), 1u);
    dj::JobCounts c = stats.job_counts();
    EXPECT_EQ(c.error, 1u);
    EXPECT_EQ(c.reserved, 0u);
    dj::Table jobs = stats.jobs();
    EXPECT_EQ(jobs.name(), "~~stats");
    dj::Result e = (jobs & "status = 'error'").fetch1();
    EXPECT_EQ(e.column("subject_id").values<int32_t>()[0], 3);
    EXPECT_EQ(std::string(e.column("error_message").str(0)), "std::exception: subject 3 refused");
    // the rest, with a key restriction and a limit
    dj::PopulateOptions o2;
    o2.reserve_jobs = true;
    o2.keys = std::vector<dj::Row>{};
    o2.keys->push_back(dj::Row().set("subject_id", 1));
    EXPECT_EQ(stats.populate(make_stats(0), o2).success_count, 1u);
    dj::PopulateOptions o3;
    o3.max_calls = 1;
    EXPECT_EQ(stats.populate(make_stats(0), o3).success_count, 1u);
    EXPECT_EQ(stats.progress().first, 2u);
    // the direct populate made one key without a job: the refresh adds the one left
    EXPECT_EQ(stats.refresh_jobs().added, 1u);
    EXPECT_EQ(stats.refresh_jobs().added, 0u);
    stats.ignore_job(dj::Row().set("subject_id", 2).set("session", 2));
    EXPECT_EQ(stats.job_counts().ignore, 1u);
}

TEST_F(Populate, DirectInsertsAreRefusedUnlessAllowed) {
    dj::Row r;
    r.set("subject_id", 1).set("session", 1).set("score", 1.0);
    const std::string msg = error_message_of(DJ_E_NOT_ALLOWED, [&] { stats.insert1(r); });
    EXPECT_NE(msg.find("allow_direct_insert"), std::string::npos) << msg;
    EXPECT_THROW(stats.insert1(r), dj::NotAllowed);
    dj::InsertOptions allow;
    allow.allow_direct_insert = true;
    EXPECT_EQ(stats.insert1(r, allow), 1u);
    // a key source of our own
    dj::Table custom = stats.with_key_source(dj::Query(session) & "session = 2");
    EXPECT_EQ(custom.progress(), (std::pair<uint64_t, uint64_t>{3, 3}));
    EXPECT_EQ(custom.populate(make_stats(0)).success_count, 3u);
    EXPECT_EQ(stats.count(), 4u);
}
