// Batch inserts are atomic; skip_duplicates and replace semantics on both insert paths.
#include "test_util.hpp"

using namespace djtest;

namespace {

constexpr int kRows = 100;
constexpr int kBad = 50;

class Batches : public DbTest {
protected:
    dj::Table t = schema.declare("Reading", dj::Tier::Manual, R"(
        reading_id : int32
        ---
        level : int8
        label : varchar(8)
    )");

    /// Columns for ids [first, first + n) with level `level` and label "r<id>".
    static dj::Batch batch(int first, int n, int8_t level) {
        std::vector<int32_t> ids;
        std::vector<int8_t> levels;
        std::vector<std::string> labels;
        for (int i = first; i < first + n; ++i) {
            ids.push_back(i);
            levels.push_back(level);
            labels.push_back("r" + std::to_string(i));
        }
        dj::Batch b;
        b.add("reading_id", ids).add("level", levels).add_strings("label", labels);
        return b;
    }
    static std::vector<dj::Row> rows(int first, int n, int level) {
        std::vector<dj::Row> out;
        for (int i = first; i < first + n; ++i)
            out.push_back(dj::Row().set("reading_id", i).set("level", level).set("label", "r" + std::to_string(i)));
        return out;
    }
    std::vector<int8_t> levels() const {
        const dj::Result r = t.fetch({{"level"}, "reading_id", -1, 0});
        const auto v = r.column("level").values<int8_t>();
        return std::vector<int8_t>(v.begin(), v.end());
    }
};

}  // namespace

TEST_F(Batches, ColumnarBatchWithAnOutOfRangeValueLeavesNoRow) {
    // level is int8; the batch sends int32 values with row 50 out of range.
    std::vector<int32_t> ids(kRows), lv(kRows, 1);
    for (int i = 0; i < kRows; ++i) ids[i] = i;
    lv[kBad] = 1000;
    std::vector<std::string> labels(kRows, "x");
    dj::Batch b;
    b.add("reading_id", ids).add("level", lv).add_strings("label", labels);
    const std::string msg = error_message_of(DJ_E_TYPE, [&] { t.insert(b); });
    EXPECT_NE(msg.find("row 50"), std::string::npos) << msg;
    EXPECT_NE(msg.find("'level'"), std::string::npos) << msg;
    EXPECT_EQ(t.count(), 0u);
}

TEST_F(Batches, ColumnarBatchWithAnInvalidStringLeavesNoRow) {
    std::vector<int32_t> ids(kRows);
    std::vector<int8_t> lv(kRows, 1);
    std::vector<std::string> labels(kRows, "ok");
    for (int i = 0; i < kRows; ++i) ids[i] = i;
    labels[kBad] = "much too long";
    dj::Batch b;
    b.add("reading_id", ids).add("level", lv).add_strings("label", labels);
    EXPECT_THROW(t.insert(b), dj::TypeError);
    EXPECT_EQ(t.count(), 0u);
}

TEST_F(Batches, ColumnarBatchWithADuplicateKeyInsideLeavesNoRow) {
    std::vector<int32_t> ids(kRows);
    for (int i = 0; i < kRows; ++i) ids[i] = i;
    ids[kBad] = 10;  // same key as row 10
    dj::Batch b;
    b.add("reading_id", ids).add("level", std::vector<int8_t>(kRows, 1)).add_strings("label", std::vector<std::string>(kRows, "x"));
    EXPECT_THROW(t.insert(b), dj::Duplicate);
    EXPECT_EQ(t.count(), 0u);
}

TEST_F(Batches, ColumnarBatchCollidingWithAnExistingRowLeavesNoNewRow) {
    t.insert1(dj::Row().set("reading_id", kBad).set("level", 7).set("label", "old"));
    EXPECT_THROW(t.insert(batch(0, kRows, 1)), dj::Duplicate);
    EXPECT_EQ(t.count(), 1u);
    EXPECT_EQ(t.fetch1().column("label").str(0), "old");
}

TEST_F(Batches, RowBatchWithAnInvalidRowLeavesNoRow) {
    auto rs = rows(0, kRows, 1);
    rs[kBad].set("level", 1000);
    const std::string msg = error_message_of(DJ_E_TYPE, [&] { t.insert(rs); });
    EXPECT_NE(msg.find("row 50"), std::string::npos) << msg;
    EXPECT_EQ(t.count(), 0u);

    rs = rows(0, kRows, 1);
    rs[kBad].set("label", "much too long");
    EXPECT_THROW(t.insert(rs), dj::TypeError);
    EXPECT_EQ(t.count(), 0u);
}

TEST_F(Batches, RowBatchWithADuplicateKeyLeavesNoRow) {
    auto rs = rows(0, kRows, 1);
    rs[kBad].set("reading_id", 10);
    EXPECT_THROW(t.insert(rs), dj::Duplicate);
    EXPECT_EQ(t.count(), 0u);

    t.insert1(dj::Row().set("reading_id", 99).set("level", 7).set("label", "old"));
    EXPECT_THROW(t.insert(rows(0, kRows, 1)), dj::Duplicate);
    EXPECT_EQ(t.count(), 1u);
}

TEST_F(Batches, SkipDuplicatesKeepsExistingRowsAndCountsInsertedOnes) {
    ASSERT_EQ(t.insert(batch(0, 10, 1)), 10u);
    dj::InsertOptions skip;
    skip.skip_duplicates = true;
    // Columnar: ids 0..19, 0..9 exist.
    EXPECT_EQ(t.insert(batch(0, 20, 2), skip), 10u);
    EXPECT_EQ(t.count(), 20u);
    auto lv = levels();
    for (int i = 0; i < 20; ++i) EXPECT_EQ(lv[i], i < 10 ? 1 : 2) << "reading " << i;
    // Rows: ids 15..29, 15..19 exist.
    EXPECT_EQ(t.insert(rows(15, 15, 3), skip), 10u);
    EXPECT_EQ(t.count(), 30u);
    lv = levels();
    for (int i = 15; i < 30; ++i) EXPECT_EQ(lv[i], i < 20 ? 2 : 3) << "reading " << i;
    // insert1: a skipped row counts 0.
    EXPECT_EQ(t.insert1(dj::Row().set("reading_id", 0).set("level", 9).set("label", "new"), skip), 0u);
    EXPECT_EQ(t.restrict(dj::Row().set("reading_id", 0)).fetch1().column("level").values<int8_t>()[0], 1);
    // Duplicates inside the batch itself are skipped as well.
    std::vector<dj::Row> twice;
    twice.push_back(dj::Row().set("reading_id", 100).set("level", 4).set("label", "a"));
    twice.push_back(dj::Row().set("reading_id", 100).set("level", 5).set("label", "b"));
    EXPECT_EQ(t.insert(twice, skip), 1u);
    EXPECT_EQ(t.count(), 31u);
}

TEST_F(Batches, SkipDuplicatesDoesNotSkipInvalidRows) {
    dj::InsertOptions skip;
    skip.skip_duplicates = true;
    auto rs = rows(0, kRows, 1);
    rs[kBad].set("level", 1000);
    EXPECT_THROW(t.insert(rs, skip), dj::TypeError);
    EXPECT_EQ(t.count(), 0u);
}

TEST_F(Batches, ReplaceUpdatesExistingRows) {
    ASSERT_EQ(t.insert(batch(0, 10, 1)), 10u);
    dj::InsertOptions replace;
    replace.replace = true;
    EXPECT_EQ(t.insert(batch(5, 10, 2), replace), 10u);  // 5 replaced, 5 new
    EXPECT_EQ(t.count(), 15u);
    auto lv = levels();
    for (int i = 0; i < 15; ++i) EXPECT_EQ(lv[i], i < 5 ? 1 : 2) << "reading " << i;
    // Row path.
    EXPECT_EQ(t.insert(rows(0, 3, 3), replace), 3u);
    lv = levels();
    for (int i = 0; i < 5; ++i) EXPECT_EQ(lv[i], i < 3 ? 3 : 1) << "reading " << i;
    EXPECT_EQ(t.insert1(dj::Row().set("reading_id", 14).set("level", 4).set("label", "last"), replace), 1u);
    const dj::Result last = t.restrict(dj::Row().set("reading_id", 14)).fetch1();
    EXPECT_EQ(last.column("level").values<int8_t>()[0], 4);
    EXPECT_EQ(last.column("label").str(0), "last");
    EXPECT_EQ(t.count(), 15u);
    // A failing replace batch changes nothing.
    auto bad = rows(0, 10, 5);
    bad[kBad / 10].set("level", 1000);
    EXPECT_THROW(t.insert(bad, replace), dj::TypeError);
    EXPECT_EQ(levels()[0], 3);
}

TEST_F(Batches, ReplaceWithARepeatedKeyInOneBatchKeepsTheLastRow) {
    // Rows are applied in order (MySQL REPLACE, the reference's replace=True): the last one wins.
    dj::InsertOptions replace;
    replace.replace = true;
    std::vector<dj::Row> twice;
    twice.push_back(dj::Row().set("reading_id", 5).set("level", 1).set("label", "first"));
    twice.push_back(dj::Row().set("reading_id", 5).set("level", 2).set("label", "second"));
    t.insert(twice, replace);
    EXPECT_EQ(t.count(), 1u);
    EXPECT_EQ(std::string(t.fetch1().column("label").str(0)), "second");
    dj::Batch b;
    b.add("reading_id", std::vector<int32_t>{6, 6}).add("level", std::vector<int8_t>{1, 2}).add_strings("label", {"first", "second"});
    t.insert(b, replace);
    EXPECT_EQ(std::string(t.restrict(dj::Row().set("reading_id", 6)).fetch1().column("label").str(0)), "second");
}

TEST_F(Batches, ReplaceIsRefusedWhenARowIsReferenced) {
    auto child = schema.declare("Check", dj::Tier::Manual, "-> Reading\ncheck_id : int32");
    t.insert1(dj::Row().set("reading_id", 1).set("level", 1).set("label", "a"));
    child.insert1(dj::Row().set("reading_id", 1).set("check_id", 1));
    dj::InsertOptions replace;
    replace.replace = true;
    // Replacing a referenced parent must not break the reference (either refused, or updated in
    // place); the child row must survive.
    const int code = error_code_of([&] { t.insert1(dj::Row().set("reading_id", 1).set("level", 2).set("label", "b"), replace); });
    EXPECT_TRUE(code == DJ_OK || code == DJ_E_INTEGRITY) << dj_status_name(code);
    EXPECT_EQ(child.count(), 1u);
    EXPECT_EQ(t.count(), 1u);
}

TEST_F(Batches, EmptyBatchesInsertNothing) {
    EXPECT_EQ(t.insert(std::vector<dj::Row>{}), 0u);
    dj::Batch empty;
    empty.add("reading_id", std::vector<int32_t>{}).add("level", std::vector<int8_t>{}).add_strings("label", {});
    EXPECT_EQ(empty.nrows(), 0u);
    EXPECT_EQ(t.insert(empty), 0u);
    EXPECT_EQ(t.count(), 0u);
}

TEST_F(Batches, BatchBuilderChecksShapes) {
    dj::Batch b;
    b.add("reading_id", std::vector<int32_t>{1, 2});
    EXPECT_THROW(b.add("level", std::vector<int8_t>{1}), dj::InvalidArgument);              // row count
    EXPECT_THROW(b.add("level", std::vector<int8_t>{1, 2}, {true}), dj::InvalidArgument);   // validity size
    EXPECT_THROW(b.add("reading_id", std::vector<int32_t>{3, 4}), dj::InvalidArgument);     // twice
    EXPECT_EQ(b.ncols(), 1u);
    const auto d = b.descriptors();
    ASSERT_EQ(d.size(), 1u);
    EXPECT_STREQ(d[0].name, "reading_id");
    EXPECT_EQ(d[0].kind, DJ_KIND_INT32);
    EXPECT_EQ(d[0].offsets, nullptr);
    EXPECT_EQ(d[0].validity, nullptr);
    EXPECT_EQ(static_cast<const int32_t*>(d[0].data)[1], 2);

    // Columns of different lengths straight through the C ABI are refused too.
    const int32_t ids[] = {1, 2};
    const int8_t lv[] = {1, 1};
    const int64_t offsets[] = {0, 1, 2};
    dj_column_in cols[3] = {
        {"reading_id", DJ_KIND_INT32, ids, nullptr, nullptr},
        {"level", DJ_KIND_INT8, lv, nullptr, nullptr},
        {"label", DJ_KIND_STRING, "ab", offsets, nullptr},
    };
    EXPECT_EQ(dj_table_insert_columns(t.get(), cols, 3, 2, nullptr, nullptr), DJ_OK);
    EXPECT_EQ(dj_table_insert_columns(t.get(), cols, 2, 2, nullptr, nullptr), DJ_E_INVALID_ARG);  // label missing
    EXPECT_EQ(t.count(), 2u);
}
