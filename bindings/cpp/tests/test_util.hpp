// Shared helpers of the C++ binding tests: a temporary directory and a fixture with a fresh
// DuckDB file per test.
#pragma once

#include "datajoint.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <random>
#include <string>
#include <unistd.h>

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

/// Fixture: a DuckDB file in a fresh temporary directory and a schema "test" in it.
class DbTest : public ::testing::Test {
protected:
    TempDir dir;
    std::string db_path = dir.file("test.duckdb");
    dj::Connection conn = dj::Connection::duckdb(db_path);
    dj::Schema schema = conn.schema("test");
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

inline std::vector<int32_t> int32_column(const dj::Result& r, const std::string& name) {
    auto v = r.column(name).values<int32_t>();
    return std::vector<int32_t>(v.begin(), v.end());
}

}  // namespace djtest
