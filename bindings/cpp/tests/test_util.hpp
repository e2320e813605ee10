// Shared helpers of the C++ binding tests: a temporary directory and a fixture with a fresh
// database and schema per test, on the backend under test (DJ_TEST_BACKEND / DJ_TEST_CONFIG, see
// backend_env.hpp; scripts/test runs the suite once per backend). On DuckDB each test gets a
// DuckDB file in its temporary folder. On the servers every schema is shared by everybody, so
// tests name their schemas through TestDb::name (unique "djc<pid>_<n>_<base>"), and TestDb drops
// them when it is destroyed.
#pragma once

#include "backend_env.hpp"
#include "datajoint.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <unistd.h>
#include <vector>

namespace djtest {

namespace fs = std::filesystem;

/// A unique directory under the system temp dir, removed (with its content) on destruction.
class TempDir {
public:
    TempDir() {
        static std::atomic<unsigned> counter{0};
        std::random_device rd;
        const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
        path_ = fs::temp_directory_path() /
                ("dj_cpp_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" +
                 std::to_string(stamp % 1000000) + "_" + std::to_string(rd() % 100000));
        fs::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const fs::path& path() const { return path_; }
    std::string file(const std::string& name) const { return (path_ / name).string(); }

private:
    fs::path path_;
};

/// A database of the backend under test for one test: its connections, its uniquely named schemas
/// (dropped on destruction, on the servers) and a temporary folder (the DuckDB file, stores).
class TestDb {
public:
    TestDb() = default;
    TestDb(const TestDb&) = delete;
    TestDb& operator=(const TestDb&) = delete;
    ~TestDb() { drop_schemas(); }

    TempDir dir;

    /// The DuckDB file used when the backend under test is DuckDB.
    std::string duckdb_path() const { return dir.file("test.duckdb"); }

    /// A new connection to the backend under test with `extra_json` merged into its settings.
    dj::Connection connect(const std::string& extra_json = "{}") {
        extra_ = extra_json;
        return dj::Connection::connect("", config_json(extra_json, duckdb_path()));
    }

    /// The schema name to use for `base`: "djc<pid>_<n>_<base>" (registered for dropping).
    std::string name(const std::string& base) {
        static std::atomic<unsigned> counter{0};
        const std::string n = "djc" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" + base;
        names_.push_back(n);
        return n;
    }

    /// Drop every registered schema that exists (through a fresh connection: the test's own may
    /// be closed). Failures are test failures: a schema left on a server is a leak.
    void drop_schemas() noexcept {
        if (names_.empty() || on_duckdb()) {
            names_.clear();
            return;
        }
        try {
            dj::Connection c = dj::Connection::connect("", config_json(extra_, duckdb_path()));
            const std::vector<std::string> existing = c.schemas();
            for (const auto& n : names_) {
                if (std::find(existing.begin(), existing.end(), n) == existing.end()) continue;
                try {
                    c.schema(n, false).drop();
                } catch (const dj::Error& e) {
                    ADD_FAILURE() << "cannot drop the test schema " << n << ": " << e.code_name() << ": " << e.what();
                }
            }
        } catch (const std::exception& e) {
            ADD_FAILURE() << "cannot connect to drop the test schemas: " << e.what();
        }
        names_.clear();
    }

private:
    std::vector<std::string> names_;
    std::string extra_ = "{}";
};

/// Fixture: a fresh database of the backend under test with a schema "test" in it.
class DbTest : public ::testing::Test {
protected:
    TestDb db;  // first member: destroyed last, after every handle of the test
    std::string schema_name = db.name("test");
    dj::Connection conn = db.connect();
    dj::Schema schema = conn.schema(schema_name);
};

/// Run `f` and return the dj_status of the dj::Error it throws (DJ_OK if none).
template <class F>
int error_code_of(F&& f) {
    try {
        f();
    } catch (const dj::Error& e) {
        return e.code();
    }
    return DJ_OK;
}

/// Run `f`, expect a dj::Error with `code`, and return its message.
template <class F>
std::string error_message_of(int code, F&& f) {
    try {
        f();
    } catch (const dj::Error& e) {
        EXPECT_EQ(e.code(), code) << e.code_name() << ": " << e.what();
        return e.what();
    }
    ADD_FAILURE() << "expected dj_status " << code << " (" << dj_status_name(code) << "), nothing was thrown";
    return {};
}

inline void expect_json(std::string_view got, std::string_view written) { EXPECT_EQ(got, json_as_stored(written)); }

inline std::vector<int32_t> int32_column(const dj::Result& r, const std::string& name) {
    auto v = r.column(name).values<int32_t>();
    return std::vector<int32_t>(v.begin(), v.end());
}

}  // namespace djtest
