// The backend under test, for the C++ tests and the cross-language test (no GoogleTest here).
//
//   DJ_TEST_BACKEND  duckdb (default), postgresql or mysql
//   DJ_TEST_CONFIG   dj_connect overrides (a JSON object) of that backend, e.g.
//                    {"database.backend": "postgresql", "database.host": "127.0.0.1", ...};
//                    empty for DuckDB.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace djtest {

/// A JSON string literal.
inline std::string json_str(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
            out += buf;
        } else {
            out += c;
        }
    }
    return out + "\"";
}

/// The members of two JSON objects in one object (textually; the keys must not repeat).
inline std::string merge_json(const std::string& a, const std::string& b) {
    auto body = [](const std::string& o) -> std::string {
        const auto l = o.find('{');
        const auto r = o.rfind('}');
        if (l == std::string::npos || r == std::string::npos || r <= l) return "";
        std::string s = o.substr(l + 1, r - l - 1);
        const auto first = s.find_first_not_of(" \t\r\n");
        if (first == std::string::npos) return "";
        return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
    };
    const std::string x = body(a), y = body(b);
    if (x.empty()) return "{" + y + "}";
    if (y.empty()) return "{" + x + "}";
    return "{" + x + ", " + y + "}";
}

inline std::string env_or(const char* name, const std::string& fallback) {
    const char* v = std::getenv(name);
    return (v != nullptr && *v != '\0') ? std::string(v) : fallback;
}

/// The backend under test: "duckdb", "postgresql" or "mysql" (DJ_TEST_BACKEND).
inline const std::string& backend() {
    static const std::string b = env_or("DJ_TEST_BACKEND", "duckdb");
    return b;
}
inline bool on_duckdb() { return backend() == "duckdb"; }
inline bool on_postgres() { return backend() == "postgresql"; }
inline bool on_mysql() { return backend() == "mysql"; }
inline bool on_server() { return !on_duckdb(); }

/// The connection overrides of the backend under test (DJ_TEST_CONFIG), "{}" if none.
inline const std::string& test_config() {
    static const std::string c = env_or("DJ_TEST_CONFIG", "{}");
    return c;
}

/// Connection settings of the backend under test merged with `extra_json` (stores, caches, …).
/// On DuckDB without a database.path in either, `duckdb_path` is used.
inline std::string config_json(const std::string& extra_json, const std::string& duckdb_path) {
    std::string base = test_config();
    if (on_duckdb() && base.find("database.backend") == std::string::npos)
        base = merge_json(base, R"({"database.backend": "duckdb"})");
    if (on_duckdb() && base.find("database.path") == std::string::npos &&
        extra_json.find("database.path") == std::string::npos)
        base = merge_json(base, "{\"database.path\": " + json_str(duckdb_path) + "}");
    return merge_json(base, extra_json);
}

/// How PostgreSQL returns a json attribute: stored as jsonb, the text comes back in jsonb's
/// format, one space after every ':' and ',' outside strings (`{"a": 1, "b": [2, 3]}` for
/// `{"a":1,"b":[2,3]}`; objects here have their keys in jsonb's order already). DuckDB and
/// MariaDB return the text as written.
inline std::string jsonb_text(std::string_view j) {
    std::string out;
    bool in_string = false, escaped = false;
    for (char c : j) {
        if (in_string) {
            out += c;
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
            out += c;
        } else if (c == ':' || c == ',') {
            out += c;
            out += ' ';
        } else if (c != ' ' && c != '\n' && c != '\t' && c != '\r') {
            out += c;
        }
    }
    return out;
}

/// The JSON text the backend under test returns for a json attribute written as `written`.
inline std::string json_as_stored(std::string_view written) {
    return on_postgres() ? jsonb_text(written) : std::string(written);
}

}  // namespace djtest
