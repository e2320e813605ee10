// datajoint.hpp — header-only C++17 wrapper over the libdatajoint C ABI (datajoint.h).
//
//   auto conn = dj::Connection::duckdb("lab.duckdb");
//   auto lab = conn.schema("lab");
//   auto subject = lab.declare("Subject", dj::Tier::Manual, R"(
//       subject_id : int32
//       ---
//       name : varchar(64)
//   )");
//   subject.insert1(dj::Row().set("subject_id", 1).set("name", "Ada"));
//   dj::Result r = subject.restrict("subject_id < 10").fetch();
//   for (std::size_t i = 0; i < r.nrows(); ++i) std::cout << r.column("name").str(i) << "\n";
//
// Design (see the C ABI conventions, section C.10):
//  - Every class owning a handle is move-only; a moved-from object is empty (its handle is NULL,
//    and using it throws dj::InvalidHandle). Destructors are noexcept and only call dj_*_free.
//  - The C library keeps a connection alive while schemas, tables or results made from it exist,
//    so objects may be destroyed in any order. A dj::Result's buffers stay valid after its Table
//    and Connection are gone; a ColumnView borrows from its Result and must not outlive it.
//  - Errors become exceptions derived from dj::Error (a std::runtime_error) carrying the dj_status.
//  - Compiles as C++17 (with a minimal dj::span) and uses std::span under C++20.
#ifndef DATAJOINT_HPP
#define DATAJOINT_HPP

#include "datajoint.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#if __cplusplus >= 202002L && defined(__has_include)
#if __has_include(<span>)
#include <span>
#endif
#endif

// The wrapper is written against ABI major 0; a header of another major is a compile error, and a
// library of another major is refused at run time when a Connection is created.
#define DJ_HPP_ABI_VERSION_MAJOR 0
static_assert(DJ_ABI_VERSION_MAJOR == DJ_HPP_ABI_VERSION_MAJOR,
              "datajoint.hpp does not match the ABI major version of datajoint.h");

namespace dj {

// ------------------------------------------------------------------------------------ span

#if defined(__cpp_lib_span) && __cpp_lib_span >= 202002L
template <class T>
using span = std::span<T>;
#else
/// Minimal read-only stand-in for std::span (C++17).
template <class T>
class span {
public:
    using element_type = T;
    using value_type = std::remove_cv_t<T>;
    using size_type = std::size_t;
    using pointer = T*;
    using reference = T&;
    using iterator = T*;

    constexpr span() noexcept = default;
    constexpr span(T* data, std::size_t size) noexcept : data_(data), size_(size) {}

    constexpr T* data() const noexcept { return data_; }
    constexpr std::size_t size() const noexcept { return size_; }
    constexpr std::size_t size_bytes() const noexcept { return size_ * sizeof(T); }
    constexpr bool empty() const noexcept { return size_ == 0; }
    constexpr T& operator[](std::size_t i) const noexcept { return data_[i]; }
    constexpr T& front() const noexcept { return data_[0]; }
    constexpr T& back() const noexcept { return data_[size_ - 1]; }
    constexpr T* begin() const noexcept { return data_; }
    constexpr T* end() const noexcept { return data_ + size_; }

private:
    T* data_ = nullptr;
    std::size_t size_ = 0;
};
#endif

// ------------------------------------------------------------------------------------ errors

/// Any error reported by libdatajoint. `code()` is the dj_status (a negative DJ_E_* value).
class Error : public std::runtime_error {
public:
    Error(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
    /// The dj_status, e.g. DJ_E_DUPLICATE.
    int code() const noexcept { return code_; }
    /// Short name of the code, e.g. "Duplicate" (static storage).
    const char* code_name() const noexcept { return dj_status_name(code_); }

private:
    int code_;
};

#define DJ_HPP_ERROR_CLASS(Name)                                                                   \
    class Name : public Error {                                                                    \
    public:                                                                                        \
        using Error::Error;                                                                        \
    };
DJ_HPP_ERROR_CLASS(NotFound)          // DJ_E_NOT_FOUND
DJ_HPP_ERROR_CLASS(Duplicate)         // DJ_E_DUPLICATE
DJ_HPP_ERROR_CLASS(Integrity)         // DJ_E_INTEGRITY
DJ_HPP_ERROR_CLASS(TypeError)         // DJ_E_TYPE
DJ_HPP_ERROR_CLASS(DefinitionError)   // DJ_E_DEFINITION
DJ_HPP_ERROR_CLASS(UnknownAttribute)  // DJ_E_UNKNOWN_ATTRIBUTE
DJ_HPP_ERROR_CLASS(NotUnique)         // DJ_E_NOT_UNIQUE
DJ_HPP_ERROR_CLASS(Closed)            // DJ_E_CLOSED
DJ_HPP_ERROR_CLASS(InvalidArgument)   // DJ_E_INVALID_ARG
DJ_HPP_ERROR_CLASS(InvalidHandle)     // DJ_E_INVALID_HANDLE
#undef DJ_HPP_ERROR_CLASS

/// Throw the dj::Error subclass that corresponds to `code`.
[[noreturn]] inline void throw_error(int code, const std::string& message) {
    switch (code) {
    case DJ_E_NOT_FOUND: throw NotFound(code, message);
    case DJ_E_DUPLICATE: throw Duplicate(code, message);
    case DJ_E_INTEGRITY: throw Integrity(code, message);
    case DJ_E_TYPE: throw TypeError(code, message);
    case DJ_E_DEFINITION: throw DefinitionError(code, message);
    case DJ_E_UNKNOWN_ATTRIBUTE: throw UnknownAttribute(code, message);
    case DJ_E_NOT_UNIQUE: throw NotUnique(code, message);
    case DJ_E_CLOSED: throw Closed(code, message);
    case DJ_E_INVALID_ARG: throw InvalidArgument(code, message);
    case DJ_E_INVALID_HANDLE: throw InvalidHandle(code, message);
    default: throw Error(code, message);
    }
}

/// Throw if `status` is not DJ_OK; the message is read from dj_last_error_message() at once
/// (it is only valid until the next dj_* call on this thread).
inline void check(dj_status status) {
    if (status == DJ_OK) return;
    const char* m = dj_last_error_message();
    std::string message = (m != nullptr && *m != '\0') ? std::string(m) : std::string(dj_status_name(status));
    throw_error(status, message);
}

/// Runtime ABI version of the loaded library: (major << 16) | minor.
inline uint32_t abi_version() noexcept { return dj_abi_version(); }

/// Library version string, e.g. "0.1.0".
inline std::string version() { return dj_version_string(); }

/// Throw dj::Error unless the loaded library has the ABI major this header was compiled for.
inline void check_abi() {
    const uint32_t runtime_major = dj_abi_version() >> 16;
    if (runtime_major != static_cast<uint32_t>(DJ_ABI_VERSION_MAJOR)) {
        throw Error(DJ_E_UNSUPPORTED, "libdatajoint ABI major " + std::to_string(runtime_major) +
                                          " does not match datajoint.hpp/datajoint.h (major " +
                                          std::to_string(DJ_ABI_VERSION_MAJOR) + ")");
    }
}

namespace detail {

template <class H, void (*Free)(H*)>
struct Deleter {
    void operator()(H* h) const noexcept { Free(h); }
};

template <class H, void (*Free)(H*)>
using handle_ptr = std::unique_ptr<H, Deleter<H, Free>>;

/// Getters that return a borrowed string return NULL on failure (with the last error set).
inline std::string borrowed_string(const char* p) {
    if (p == nullptr) {
        check(dj_last_error_code());
        return std::string();
    }
    return std::string(p);
}

inline std::vector<std::string> take_strlist(dj_strlist* raw) {
    handle_ptr<dj_strlist, dj_strlist_free> list(raw);
    std::vector<std::string> out;
    const std::size_t n = dj_strlist_len(list.get());
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        const char* s = dj_strlist_get(list.get(), i);
        out.emplace_back(s != nullptr ? s : "");
    }
    return out;
}

inline const char* c_str_or_null(const std::string& s) { return s.empty() ? nullptr : s.c_str(); }

template <class>
inline constexpr bool dependent_false = false;

}  // namespace detail

// ------------------------------------------------------------------------------------ values

/// Bytes of a `bytes` attribute.
using Bytes = std::vector<uint8_t>;

/// SQL NULL (also accepted: nullptr).
struct Null {};
inline constexpr Null null{};
inline bool operator==(Null, Null) noexcept { return true; }

/// A date: days since 1970-01-01.
struct Date {
    int32_t days = 0;
    /// The date of a calendar day; throws dj::InvalidArgument for an impossible date.
    static Date ymd(int32_t year, uint32_t month, uint32_t day) {
        int32_t d = 0;
        check(dj_date_from_ymd(year, month, day, &d));
        return Date{d};
    }
};
inline bool operator==(Date a, Date b) noexcept { return a.days == b.days; }
inline bool operator!=(Date a, Date b) noexcept { return a.days != b.days; }
inline bool operator<(Date a, Date b) noexcept { return a.days < b.days; }

/// A datetime: microseconds since 1970-01-01T00:00:00 (UTC by DataJoint convention).
struct Datetime {
    int64_t micros = 0;
    /// Parse "YYYY-MM-DD[ HH:MM[:SS[.ffffff]]]" (or with 'T'); throws dj::InvalidArgument.
    static Datetime parse(const std::string& text) {
        int64_t us = 0;
        check(dj_datetime_parse(text.c_str(), &us));
        return Datetime{us};
    }
};
inline bool operator==(Datetime a, Datetime b) noexcept { return a.micros == b.micros; }
inline bool operator!=(Datetime a, Datetime b) noexcept { return a.micros != b.micros; }
inline bool operator<(Datetime a, Datetime b) noexcept { return a.micros < b.micros; }

/// A UUID as its 16 bytes in RFC 4122 order.
struct Uuid {
    std::array<uint8_t, 16> bytes{};
    /// Parse "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (hyphens optional, optional braces).
    static Uuid parse(std::string_view text) {
        if (text.size() >= 2 && text.front() == '{' && text.back() == '}') text = text.substr(1, text.size() - 2);
        Uuid u;
        std::size_t k = 0;
        int hi = -1;
        auto hex = [](char c) -> int {
            if (c >= '0' && c <= '9') return c - '0';
            if (c >= 'a' && c <= 'f') return c - 'a' + 10;
            if (c >= 'A' && c <= 'F') return c - 'A' + 10;
            return -1;
        };
        for (char c : text) {
            if (c == '-') continue;
            const int v = hex(c);
            if (v < 0 || k >= 16) throw InvalidArgument(DJ_E_INVALID_ARG, "'" + std::string(text) + "' is not a UUID");
            if (hi < 0) {
                hi = v;
            } else {
                u.bytes[k++] = static_cast<uint8_t>((hi << 4) | v);
                hi = -1;
            }
        }
        if (k != 16 || hi >= 0) throw InvalidArgument(DJ_E_INVALID_ARG, "'" + std::string(text) + "' is not a UUID");
        return u;
    }
};
inline bool operator==(const Uuid& a, const Uuid& b) noexcept { return a.bytes == b.bytes; }
inline bool operator!=(const Uuid& a, const Uuid& b) noexcept { return a.bytes != b.bytes; }

/// An exact decimal as text, e.g. "-12.50".
struct Decimal {
    std::string text;
};
inline bool operator==(const Decimal& a, const Decimal& b) { return a.text == b.text; }

/// A JSON document as text.
struct Json {
    std::string text;
};
inline bool operator==(const Json& a, const Json& b) { return a.text == b.text; }

static_assert(sizeof(Date) == sizeof(int32_t) && std::is_standard_layout_v<Date>, "Date layout");
static_assert(sizeof(Datetime) == sizeof(int64_t) && std::is_standard_layout_v<Datetime>, "Datetime layout");
static_assert(sizeof(Uuid) == 16 && alignof(Uuid) == 1, "Uuid layout");

namespace detail {
template <class F>
inline std::string format_with(F&& f) {
    char buf[64];
    std::size_t needed = 0;
    const dj_status s = f(buf, sizeof buf, &needed);
    if (s == DJ_OK) return std::string(buf, needed);
    if (needed + 1 > sizeof buf) {
        std::string out(needed + 1, '\0');
        check(f(out.data(), out.size(), &needed));
        out.resize(needed);
        return out;
    }
    check(s);
    return std::string();
}
}  // namespace detail

/// "YYYY-MM-DD".
inline std::string to_string(Date d) {
    return detail::format_with([&](char* b, std::size_t n, std::size_t* need) { return dj_date_format(d.days, b, n, need); });
}

/// "YYYY-MM-DD HH:MM:SS[.ffffff]".
inline std::string to_string(Datetime t) {
    return detail::format_with(
        [&](char* b, std::size_t n, std::size_t* need) { return dj_datetime_format(t.micros, b, n, need); });
}

/// Canonical lower-case "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx".
inline std::string to_string(const Uuid& u) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(36);
    for (std::size_t i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
        out.push_back(digits[u.bytes[i] >> 4]);
        out.push_back(digits[u.bytes[i] & 0xF]);
    }
    return out;
}

/// Buffer kinds (DJ_KIND_*) as names: "int32", "string", ….
inline const char* kind_name(int kind) noexcept {
    switch (kind) {
    case DJ_KIND_BOOL: return "bool";
    case DJ_KIND_INT8: return "int8";
    case DJ_KIND_INT16: return "int16";
    case DJ_KIND_INT32: return "int32";
    case DJ_KIND_INT64: return "int64";
    case DJ_KIND_FLOAT32: return "float32";
    case DJ_KIND_FLOAT64: return "float64";
    case DJ_KIND_STRING: return "string";
    case DJ_KIND_BYTES: return "bytes";
    case DJ_KIND_DATE: return "date";
    case DJ_KIND_DATETIME: return "datetime";
    case DJ_KIND_UUID: return "uuid";
    case DJ_KIND_DECIMAL: return "decimal";
    case DJ_KIND_JSON: return "json";
    default: return "unknown";
    }
}

/// The DJ_KIND_* of a fixed-width C++ element type (bool buffers are uint8_t).
template <class T>
constexpr int kind_of() noexcept {
    using U = std::remove_cv_t<T>;
    if constexpr (std::is_same_v<U, uint8_t> || std::is_same_v<U, bool>) return DJ_KIND_BOOL;
    else if constexpr (std::is_same_v<U, int8_t>) return DJ_KIND_INT8;
    else if constexpr (std::is_same_v<U, int16_t>) return DJ_KIND_INT16;
    else if constexpr (std::is_same_v<U, int32_t>) return DJ_KIND_INT32;
    else if constexpr (std::is_integral_v<U> && std::is_signed_v<U> && sizeof(U) == 8 && !std::is_same_v<U, char>)
        return DJ_KIND_INT64;
    else if constexpr (std::is_same_v<U, float>) return DJ_KIND_FLOAT32;
    else if constexpr (std::is_same_v<U, double>) return DJ_KIND_FLOAT64;
    else if constexpr (std::is_same_v<U, Date>) return DJ_KIND_DATE;
    else if constexpr (std::is_same_v<U, Datetime>) return DJ_KIND_DATETIME;
    else if constexpr (std::is_same_v<U, Uuid>) return DJ_KIND_UUID;
    else return 0;
}

// ------------------------------------------------------------------------------------ enums, options

/// Table tier: sets the SQL name prefix (Manual: none, Lookup "#", Imported "_", Computed "__").
enum class Tier : int32_t {
    Manual = DJ_TIER_MANUAL,
    Lookup = DJ_TIER_LOOKUP,
    Imported = DJ_TIER_IMPORTED,
    Computed = DJ_TIER_COMPUTED,
};

struct InsertOptions {
    bool skip_duplicates = false;      ///< rows whose primary key exists are skipped
    bool ignore_extra_fields = false;  ///< names that are not attributes are ignored
    bool replace = false;              ///< rows whose primary key exists replace the old row
};

struct FetchOptions {
    std::vector<std::string> attributes;  ///< empty: all; "KEY" stands for the primary key
    std::string order_by;                 ///< e.g. "session_date DESC, subject_id"; empty: none
    int64_t limit = -1;                   ///< -1: no limit
    int64_t offset = 0;
};

/// One attribute of a table heading.
struct Attribute {
    std::string name;
    std::string type;                          ///< declared DataJoint type, e.g. "decimal(10,2)"
    std::string comment;
    std::optional<std::string> default_value;  ///< "NULL", "CURRENT_TIMESTAMP", a literal, or none
    int kind = 0;                              ///< DJ_KIND_* of its values in results
    bool in_key = false;
    bool nullable = false;
};

namespace detail {
inline dj_insert_opts to_c(const InsertOptions& o) {
    dj_insert_opts c;
    check(dj_insert_opts_init(&c));
    c.skip_duplicates = o.skip_duplicates ? 1 : 0;
    c.ignore_extra_fields = o.ignore_extra_fields ? 1 : 0;
    c.replace = o.replace ? 1 : 0;
    return c;
}

/// dj_fetch_opts plus the storage its pointers refer to.
struct CFetchOpts {
    dj_fetch_opts opts;
    std::vector<const char*> names;
    explicit CFetchOpts(const FetchOptions& o) {
        check(dj_fetch_opts_init(&opts));
        if (!o.attributes.empty()) {
            names.reserve(o.attributes.size());
            for (const auto& a : o.attributes) names.push_back(a.c_str());
            opts.attributes = names.data();
            opts.n_attributes = names.size();
        }
        opts.order_by = c_str_or_null(o.order_by);
        opts.limit = o.limit;
        opts.offset = o.offset;
    }
    CFetchOpts(const CFetchOpts&) = delete;
    CFetchOpts& operator=(const CFetchOpts&) = delete;
};
}  // namespace detail

// ------------------------------------------------------------------------------------ Row

/// A row of attribute values (also used as a key for restrictions). Move-only.
class Row {
public:
    Row() {
        dj_row* r = nullptr;
        check(dj_row_new(&r));
        h_.reset(r);
    }
    /// Adopt a dj_row handle (ownership is transferred).
    explicit Row(dj_row* adopt) noexcept : h_(adopt) {}
    Row(const Row&) = delete;
    Row& operator=(const Row&) = delete;
    Row(Row&&) noexcept = default;
    Row& operator=(Row&&) noexcept = default;
    ~Row() = default;

    /// Set attribute `name` (replacing an earlier value). Accepts bool, any integer, float,
    /// double, strings, dj::Bytes, dj::Date, dj::Datetime, dj::Uuid, dj::Decimal, dj::Json,
    /// nullptr / dj::null, and std::optional of those (empty = NULL).
    template <class V>
    Row& set(const std::string& name, const V& value) & {
        set_value(name.c_str(), decay_array(value));
        return *this;
    }
    template <class V>
    Row&& set(const std::string& name, const V& value) && {
        set_value(name.c_str(), decay_array(value));
        return std::move(*this);
    }

    /// Number of values set.
    std::size_t size() const {
        const std::size_t n = dj_row_len(h_.get());
        if (n == 0) check(dj_last_error_code());
        return n;
    }
    void clear() { check(dj_row_clear(h_.get())); }

    dj_row* get() const noexcept { return h_.get(); }
    dj_row* release() noexcept { return h_.release(); }
    explicit operator bool() const noexcept { return static_cast<bool>(h_); }

private:
    // char arrays (string literals) become const char*; everything else passes through.
    template <class V>
    static decltype(auto) decay_array(const V& v) noexcept {
        if constexpr (std::is_array_v<V>) return static_cast<const std::remove_extent_t<V>*>(v);
        else return (v);
    }

    template <class V>
    void set_value(const char* name, const V& v) {
        using U = std::decay_t<V>;
        dj_row* r = h_.get();
        if constexpr (std::is_same_v<U, bool>) {
            check(dj_row_set_bool(r, name, v ? 1 : 0));
        } else if constexpr (std::is_integral_v<U>) {
            if constexpr (std::is_unsigned_v<U> && sizeof(U) >= sizeof(int64_t)) {
                if (v > static_cast<U>(std::numeric_limits<int64_t>::max()))
                    throw TypeError(DJ_E_TYPE, std::string("attribute '") + name + "': unsigned value " +
                                                   std::to_string(v) + " exceeds int64");
            }
            check(dj_row_set_int(r, name, static_cast<int64_t>(v)));
        } else if constexpr (std::is_floating_point_v<U>) {
            check(dj_row_set_float(r, name, static_cast<double>(v)));
        } else if constexpr (std::is_same_v<U, const char*> || std::is_same_v<U, char*>) {
            if (v == nullptr) check(dj_row_set_string(r, name, nullptr));  // DJ_E_INVALID_ARG
            else check(dj_row_set_string_n(r, name, v, std::strlen(v)));
        } else if constexpr (std::is_same_v<U, std::string> || std::is_same_v<U, std::string_view>) {
            check(dj_row_set_string_n(r, name, v.data(), v.size()));
        } else if constexpr (std::is_same_v<U, Bytes>) {
            check(dj_row_set_bytes(r, name, v.data(), v.size()));
        } else if constexpr (std::is_same_v<U, Date>) {
            check(dj_row_set_date(r, name, v.days));
        } else if constexpr (std::is_same_v<U, Datetime>) {
            check(dj_row_set_datetime(r, name, v.micros));
        } else if constexpr (std::is_same_v<U, Uuid>) {
            check(dj_row_set_uuid(r, name, v.bytes.data()));
        } else if constexpr (std::is_same_v<U, Decimal>) {
            check(dj_row_set_decimal(r, name, v.text.c_str()));
        } else if constexpr (std::is_same_v<U, Json>) {
            check(dj_row_set_json(r, name, v.text.c_str()));
        } else if constexpr (std::is_same_v<U, std::nullptr_t> || std::is_same_v<U, Null>) {
            check(dj_row_set_null(r, name));
        } else if constexpr (is_optional<U>::value) {
            if (v.has_value()) set_value(name, *v);
            else check(dj_row_set_null(r, name));
        } else {
            static_assert(detail::dependent_false<U>, "dj::Row::set: unsupported value type");
        }
    }

    template <class T>
    struct is_optional : std::false_type {};
    template <class T>
    struct is_optional<std::optional<T>> : std::true_type {};

    detail::handle_ptr<dj_row, dj_row_free> h_;
};

// ------------------------------------------------------------------------------------ Batch

/// Columnar rows for Table::insert: one typed column per attribute, all of the same length.
/// The Batch owns its buffers; descriptors (dj_column_in) are built at insert time.
class Batch {
public:
    Batch() = default;

    /// Add a column. Fixed-width element types: bool (stored as uint8_t), uint8_t (as bool),
    /// int8_t, int16_t, int32_t, int64_t, float, double, dj::Date, dj::Datetime, dj::Uuid.
    /// Also accepted: std::string (→ add_strings), dj::Bytes, dj::Decimal, dj::Json.
    /// `valid` (optional, one entry per row) marks NULLs with false.
    template <class T>
    Batch& add(const std::string& name, std::vector<T> values, const std::vector<bool>& valid = {}) {
        if constexpr (std::is_same_v<T, bool>) {
            std::vector<uint8_t> b(values.size());
            for (std::size_t i = 0; i < values.size(); ++i) b[i] = values[i] ? 1 : 0;
            return add_fixed<uint8_t>(name, std::move(b), valid);
        } else if constexpr (std::is_same_v<T, std::string>) {
            return add_strings(name, values, valid);
        } else if constexpr (std::is_same_v<T, Bytes>) {
            return add_bytes(name, values, valid);
        } else if constexpr (std::is_same_v<T, Decimal>) {
            return add_var(name, DJ_KIND_DECIMAL, values.size(), [&](std::size_t i) { return as_view(values[i].text); }, valid);
        } else if constexpr (std::is_same_v<T, Json>) {
            return add_var(name, DJ_KIND_JSON, values.size(), [&](std::size_t i) { return as_view(values[i].text); }, valid);
        } else {
            static_assert(kind_of<T>() != 0, "dj::Batch::add: unsupported element type");
            return add_fixed<T>(name, std::move(values), valid);
        }
    }

    /// UTF-8 text column (char, varchar, enum; also parsed for date/datetime/uuid/json/decimal).
    Batch& add_strings(const std::string& name, const std::vector<std::string>& values, const std::vector<bool>& valid = {}) {
        return add_var(name, DJ_KIND_STRING, values.size(), [&](std::size_t i) { return as_view(values[i]); }, valid);
    }
    /// Bytes column.
    Batch& add_bytes(const std::string& name, const std::vector<Bytes>& values, const std::vector<bool>& valid = {}) {
        return add_var(
            name, DJ_KIND_BYTES, values.size(),
            [&](std::size_t i) { return std::string_view(reinterpret_cast<const char*>(values[i].data()), values[i].size()); },
            valid);
    }
    /// Exact decimals as text, e.g. "-12.50".
    Batch& add_decimals(const std::string& name, const std::vector<std::string>& values, const std::vector<bool>& valid = {}) {
        return add_var(name, DJ_KIND_DECIMAL, values.size(), [&](std::size_t i) { return as_view(values[i]); }, valid);
    }
    /// JSON documents as text.
    Batch& add_json(const std::string& name, const std::vector<std::string>& values, const std::vector<bool>& valid = {}) {
        return add_var(name, DJ_KIND_JSON, values.size(), [&](std::size_t i) { return as_view(values[i]); }, valid);
    }

    std::size_t nrows() const noexcept { return nrows_; }
    std::size_t ncols() const noexcept { return cols_.size(); }
    bool empty() const noexcept { return cols_.empty(); }
    void clear() noexcept {
        cols_.clear();
        nrows_ = 0;
    }

    /// C descriptors of the columns; valid while this Batch is alive and unchanged.
    std::vector<dj_column_in> descriptors() const {
        std::vector<dj_column_in> out;
        out.reserve(cols_.size());
        for (const auto& c : cols_) {
            dj_column_in d;
            d.name = c.name.c_str();
            d.kind = c.kind;
            if (c.fixed_width) {
                d.data = c.data;
                d.offsets = nullptr;
            } else {
                d.data = c.bytes.empty() ? nullptr : static_cast<const void*>(c.bytes.data());
                d.offsets = c.offsets.data();
            }
            d.validity = c.validity.empty() ? nullptr : c.validity.data();
            out.push_back(d);
        }
        return out;
    }

private:
    struct Col {
        std::string name;
        int kind = 0;
        bool fixed_width = false;
        std::shared_ptr<const void> owner;  // fixed-width values (a std::vector<T>)
        const void* data = nullptr;         // owner's elements (NULL when there are no rows)
        std::vector<int64_t> offsets;       // variable-width kinds
        std::vector<uint8_t> bytes;
        std::vector<uint8_t> validity;
    };

    static std::string_view as_view(const std::string& s) noexcept { return std::string_view(s); }

    void check_rows(const std::string& name, std::size_t n, const std::vector<bool>& valid) const {
        if (!cols_.empty() && n != nrows_)
            throw InvalidArgument(DJ_E_INVALID_ARG, "dj::Batch: column '" + name + "' has " + std::to_string(n) +
                                                        " values, the batch has " + std::to_string(nrows_) + " rows");
        if (!valid.empty() && valid.size() != n)
            throw InvalidArgument(DJ_E_INVALID_ARG, "dj::Batch: validity of column '" + name + "' has " +
                                                        std::to_string(valid.size()) + " entries, expected " +
                                                        std::to_string(n));
        for (const auto& c : cols_)
            if (c.name == name)
                throw InvalidArgument(DJ_E_INVALID_ARG, "dj::Batch: column '" + name + "' is added twice");
    }

    static std::vector<uint8_t> to_validity(const std::vector<bool>& valid) {
        std::vector<uint8_t> v(valid.size());
        for (std::size_t i = 0; i < valid.size(); ++i) v[i] = valid[i] ? 1 : 0;
        return v;
    }

    template <class T>
    Batch& add_fixed(const std::string& name, std::vector<T> values, const std::vector<bool>& valid) {
        check_rows(name, values.size(), valid);
        Col c;
        c.name = name;
        c.kind = kind_of<T>();
        auto owner = std::make_shared<const std::vector<T>>(std::move(values));
        c.fixed_width = true;
        c.data = owner->empty() ? nullptr : static_cast<const void*>(owner->data());
        c.owner = owner;
        c.validity = to_validity(valid);
        const std::size_t n = owner->size();
        cols_.push_back(std::move(c));
        nrows_ = n;
        return *this;
    }

    template <class Get>
    Batch& add_var(const std::string& name, int kind, std::size_t n, Get get, const std::vector<bool>& valid) {
        check_rows(name, n, valid);
        Col c;
        c.name = name;
        c.kind = kind;
        std::size_t total = 0;
        for (std::size_t i = 0; i < n; ++i) total += get(i).size();
        c.bytes.reserve(total);
        c.offsets.reserve(n + 1);
        c.offsets.push_back(0);
        for (std::size_t i = 0; i < n; ++i) {
            const std::string_view s = get(i);
            c.bytes.insert(c.bytes.end(), s.begin(), s.end());
            c.offsets.push_back(static_cast<int64_t>(c.bytes.size()));
        }
        c.validity = to_validity(valid);
        cols_.push_back(std::move(c));
        nrows_ = n;
        return *this;
    }

    std::vector<Col> cols_;
    std::size_t nrows_ = 0;
};

// ------------------------------------------------------------------------------------ Result

/// Read-only view of one result column. Borrowed from its Result: do not use it after the
/// Result is destroyed.
class ColumnView {
public:
    explicit ColumnView(const dj_column_view& v) noexcept : v_(v) {}

    std::string_view name() const noexcept { return v_.name ? std::string_view(v_.name) : std::string_view(); }
    /// Declared DataJoint type, e.g. "varchar(30)".
    std::string_view type() const noexcept { return v_.type_name ? std::string_view(v_.type_name) : std::string_view(); }
    /// DJ_KIND_* of the buffer.
    int kind() const noexcept { return v_.kind; }
    bool in_key() const noexcept { return v_.in_key != 0; }
    std::size_t size() const noexcept { return v_.length; }
    bool has_nulls() const noexcept {
        if (v_.validity == nullptr) return false;
        for (std::size_t i = 0; i < v_.length; ++i)
            if (v_.validity[i] == 0) return true;
        return false;
    }
    bool is_null(std::size_t i) const {
        check_index(i);
        return v_.validity != nullptr && v_.validity[i] == 0;
    }

    /// Values of a fixed-width column; T must match kind(): uint8_t (bool), int8_t … int64_t,
    /// float, double, dj::Date, dj::Datetime, dj::Uuid. NULL entries hold a placeholder (0).
    template <class T>
    span<const T> values() const {
        static_assert(kind_of<T>() != 0 && !std::is_same_v<std::remove_cv_t<T>, bool>,
                      "ColumnView::values<T>: T must be uint8_t (bool), int8_t..int64_t, float, double, "
                      "dj::Date, dj::Datetime or dj::Uuid");
        require_kind(kind_of<T>(), kind_name(kind_of<T>()));
        return span<const T>(static_cast<const T*>(v_.data), v_.length);
    }

    /// Text of row i of a string, decimal or json column.
    std::string_view str(std::size_t i) const {
        if (v_.kind != DJ_KIND_STRING && v_.kind != DJ_KIND_DECIMAL && v_.kind != DJ_KIND_JSON)
            kind_error("string, decimal or json");
        check_index(i);
        const char* base = static_cast<const char*>(v_.data);
        const int64_t a = v_.offsets[i], b = v_.offsets[i + 1];
        return std::string_view(base ? base + a : "", static_cast<std::size_t>(b - a));
    }
    /// Bytes of row i of a bytes column.
    span<const uint8_t> bytes(std::size_t i) const {
        require_kind(DJ_KIND_BYTES, "bytes");
        check_index(i);
        const uint8_t* base = static_cast<const uint8_t*>(v_.data);
        const int64_t a = v_.offsets[i], b = v_.offsets[i + 1];
        return span<const uint8_t>(base ? base + a : nullptr, static_cast<std::size_t>(b - a));
    }
    /// UUID of row i of a uuid column.
    Uuid uuid(std::size_t i) const {
        require_kind(DJ_KIND_UUID, "uuid");
        check_index(i);
        return static_cast<const Uuid*>(v_.data)[i];
    }

    /// Row i formatted for display ("NULL" for NULL), whatever the kind.
    std::string to_string(std::size_t i) const {
        if (is_null(i)) return "NULL";
        std::ostringstream os;
        switch (v_.kind) {
        case DJ_KIND_BOOL: return values<uint8_t>()[i] ? "true" : "false";
        case DJ_KIND_INT8: return std::to_string(values<int8_t>()[i]);
        case DJ_KIND_INT16: return std::to_string(values<int16_t>()[i]);
        case DJ_KIND_INT32: return std::to_string(values<int32_t>()[i]);
        case DJ_KIND_INT64: return std::to_string(values<int64_t>()[i]);
        case DJ_KIND_FLOAT32: os.precision(std::numeric_limits<float>::digits10); os << values<float>()[i]; return os.str();
        case DJ_KIND_FLOAT64: os.precision(std::numeric_limits<double>::digits10); os << values<double>()[i]; return os.str();
        case DJ_KIND_STRING:
        case DJ_KIND_DECIMAL:
        case DJ_KIND_JSON: return std::string(str(i));
        case DJ_KIND_BYTES: return "<" + std::to_string(bytes(i).size()) + " bytes>";
        case DJ_KIND_DATE: return dj::to_string(values<Date>()[i]);
        case DJ_KIND_DATETIME: return dj::to_string(values<Datetime>()[i]);
        case DJ_KIND_UUID: return dj::to_string(uuid(i));
        default: return "?";
        }
    }

    const dj_column_view& raw() const noexcept { return v_; }

private:
    void check_index(std::size_t i) const {
        if (i >= v_.length)
            throw InvalidArgument(DJ_E_INVALID_ARG, "column '" + std::string(name()) + "': row " + std::to_string(i) +
                                                        " out of range (" + std::to_string(v_.length) + " rows)");
    }
    [[noreturn]] void kind_error(const char* wanted) const {
        throw TypeError(DJ_E_TYPE, "column '" + std::string(name()) + "' has kind " + kind_name(v_.kind) + ", not " + wanted);
    }
    void require_kind(int k, const char* wanted) const {
        if (v_.kind != k) kind_error(wanted);
    }

    dj_column_view v_;
};

/// A columnar fetch result. Its buffers are owned by the library and stay valid until the Result
/// is destroyed, independently of the Table and Connection it came from. Move-only.
class Result {
public:
    explicit Result(dj_result* adopt) noexcept : h_(adopt) {}
    Result(const Result&) = delete;
    Result& operator=(const Result&) = delete;
    Result(Result&&) noexcept = default;
    Result& operator=(Result&&) noexcept = default;
    ~Result() = default;

    std::size_t nrows() const noexcept { return dj_result_nrows(h_.get()); }
    std::size_t ncols() const noexcept { return dj_result_ncols(h_.get()); }

    ColumnView column(std::size_t i) const {
        dj_column_view v;
        std::memset(&v, 0, sizeof v);
        check(dj_result_column(h_.get(), i, &v));
        return ColumnView(v);
    }
    /// Column by attribute name (dj::UnknownAttribute if absent).
    ColumnView column(const std::string& name) const { return column(index_of(name)); }

    std::size_t index_of(const std::string& name) const {
        std::size_t idx = 0;
        check(dj_result_column_index(h_.get(), name.c_str(), &idx));
        return idx;
    }
    std::vector<std::string> column_names() const {
        std::vector<std::string> out;
        for (std::size_t i = 0, n = ncols(); i < n; ++i) out.emplace_back(column(i).name());
        return out;
    }

    dj_result* get() const noexcept { return h_.get(); }
    dj_result* release() noexcept { return h_.release(); }
    explicit operator bool() const noexcept { return static_cast<bool>(h_); }

private:
    detail::handle_ptr<dj_result, dj_result_free> h_;
};

// ------------------------------------------------------------------------------------ Table

/// A table, possibly restricted. Restrictions return new Table objects. Move-only.
class Table {
public:
    explicit Table(dj_table* adopt) noexcept : h_(adopt) {}
    Table(const Table&) = delete;
    Table& operator=(const Table&) = delete;
    Table(Table&&) noexcept = default;
    Table& operator=(Table&&) noexcept = default;
    ~Table() = default;

    /// SQL name of the table (with its tier prefix, e.g. "#subject").
    std::string name() const { return detail::borrowed_string(dj_table_name(h_.get())); }
    std::string comment() const { return detail::borrowed_string(dj_table_comment(h_.get())); }

    /// The heading, in declaration order.
    std::vector<Attribute> attributes() const {
        const std::size_t n = dj_table_attr_count(h_.get());
        if (n == 0) check(dj_last_error_code());
        std::vector<Attribute> out;
        out.reserve(n);
        for (std::size_t i = 0; i < n; ++i) {
            dj_attr_info info;
            std::memset(&info, 0, sizeof info);
            check(dj_table_attr(h_.get(), i, &info));
            Attribute a;
            a.name = info.name ? info.name : "";
            a.type = info.type_name ? info.type_name : "";
            a.comment = info.comment ? info.comment : "";
            if (info.default_value) a.default_value = std::string(info.default_value);
            a.kind = info.kind;
            a.in_key = info.in_key != 0;
            a.nullable = info.nullable != 0;
            out.push_back(std::move(a));
        }
        return out;
    }

    /// Rows matching an SQL condition (ANDed with existing restrictions).
    Table restrict(const std::string& sql_condition) const {
        return make([&](dj_table** out) { return dj_table_restrict_sql(h_.get(), sql_condition.c_str(), out); });
    }
    /// Rows matching a key (equality on the attributes the key shares with the table).
    Table restrict(const Row& key) const {
        return make([&](dj_table** out) { return dj_table_restrict_key(h_.get(), key.get(), out); });
    }
    /// Rows matching any of the keys (OR); an empty list matches nothing.
    Table restrict(const std::vector<Row>& keys) const {
        std::vector<const dj_row*> ptrs = row_ptrs(keys);
        return make([&](dj_table** out) { return dj_table_restrict_keys(h_.get(), ptrs.data(), ptrs.size(), out); });
    }
    /// Rows NOT matching an SQL condition.
    Table exclude(const std::string& sql_condition) const {
        return make([&](dj_table** out) { return dj_table_exclude_sql(h_.get(), sql_condition.c_str(), out); });
    }
    /// Rows NOT matching a key.
    Table exclude(const Row& key) const {
        return make([&](dj_table** out) { return dj_table_exclude_key(h_.get(), key.get(), out); });
    }

    /// Insert one row; returns the number of rows written (0 if skipped as a duplicate).
    uint64_t insert1(const Row& row, const InsertOptions& opts = {}) const {
        const dj_insert_opts o = detail::to_c(opts);
        uint64_t n = 0;
        check(dj_table_insert1(h_.get(), row.get(), &o, &n));
        return n;
    }
    /// Insert rows (all with the same attribute names) in one transaction.
    uint64_t insert(const std::vector<Row>& rows, const InsertOptions& opts = {}) const {
        const dj_insert_opts o = detail::to_c(opts);
        std::vector<const dj_row*> ptrs = row_ptrs(rows);
        uint64_t n = 0;
        check(dj_table_insert_rows(h_.get(), ptrs.data(), ptrs.size(), &o, &n));
        return n;
    }
    /// Insert a columnar batch in one transaction.
    uint64_t insert(const Batch& batch, const InsertOptions& opts = {}) const {
        const dj_insert_opts o = detail::to_c(opts);
        const std::vector<dj_column_in> cols = batch.descriptors();
        uint64_t n = 0;
        check(dj_table_insert_columns(h_.get(), cols.data(), cols.size(), batch.nrows(), &o, &n));
        return n;
    }

    Result fetch(const FetchOptions& opts = {}) const {
        detail::CFetchOpts o(opts);
        return fetch_with(dj_table_fetch, &o.opts);
    }
    /// Exactly one row: dj::NotFound if none matches, dj::NotUnique if several do.
    Result fetch1(const FetchOptions& opts = {}) const {
        detail::CFetchOpts o(opts);
        return fetch_with(dj_table_fetch1, &o.opts);
    }
    /// Primary keys of the matching rows.
    Result keys(const FetchOptions& opts = {}) const {
        detail::CFetchOpts o(opts);
        return fetch_with(dj_table_keys, &o.opts);
    }
    uint64_t count() const {
        uint64_t n = 0;
        check(dj_table_count(h_.get(), &n));
        return n;
    }
    /// Delete the matching rows (one transaction); returns the number deleted. dj::Integrity if
    /// a row is still referenced by a child table.
    uint64_t del() const {
        uint64_t n = 0;
        check(dj_table_delete(h_.get(), &n));
        return n;
    }
    /// Drop the table.
    void drop() const { check(dj_table_drop(h_.get())); }

    dj_table* get() const noexcept { return h_.get(); }
    dj_table* release() noexcept { return h_.release(); }
    explicit operator bool() const noexcept { return static_cast<bool>(h_); }

private:
    template <class F>
    static Table make(F&& f) {
        dj_table* t = nullptr;
        check(f(&t));
        return Table(t);
    }
    static std::vector<const dj_row*> row_ptrs(const std::vector<Row>& rows) {
        std::vector<const dj_row*> ptrs;
        ptrs.reserve(rows.size());
        for (const auto& r : rows) ptrs.push_back(r.get());
        return ptrs;
    }
    Result fetch_with(dj_status (*fn)(const dj_table*, const dj_fetch_opts*, dj_result**), const dj_fetch_opts* o) const {
        dj_result* r = nullptr;
        check(fn(h_.get(), o, &r));
        return Result(r);
    }

    detail::handle_ptr<dj_table, dj_table_free> h_;
};

// ------------------------------------------------------------------------------------ Schema

class Schema {
public:
    explicit Schema(dj_schema* adopt) noexcept : h_(adopt) {}
    Schema(const Schema&) = delete;
    Schema& operator=(const Schema&) = delete;
    Schema(Schema&&) noexcept = default;
    Schema& operator=(Schema&&) noexcept = default;
    ~Schema() = default;

    std::string name() const { return detail::borrowed_string(dj_schema_name(h_.get())); }
    /// SQL names of the tables, sorted.
    std::vector<std::string> tables() const {
        dj_strlist* l = nullptr;
        check(dj_schema_list_tables(h_.get(), &l));
        return detail::take_strlist(l);
    }
    /// Drop the schema with all its tables.
    void drop() const { check(dj_schema_drop(h_.get())); }

    /// Declare (or open, if it exists) a table from a DataJoint definition.
    Table declare(const std::string& class_name, Tier tier, const std::string& definition) const {
        dj_table* t = nullptr;
        check(dj_table_declare(h_.get(), class_name.c_str(), static_cast<int32_t>(tier), definition.c_str(), &t));
        return Table(t);
    }
    /// Declare a part table of `master`; `-> master` in the definition references the master.
    Table declare_part(const Table& master, const std::string& part_class, const std::string& definition) const {
        dj_table* t = nullptr;
        check(dj_table_declare_part(h_.get(), master.get(), part_class.c_str(), definition.c_str(), &t));
        return Table(t);
    }
    /// Open an existing table by class name ("Session", "Master.Part") or SQL name.
    Table table(const std::string& name) const {
        dj_table* t = nullptr;
        check(dj_table_open(h_.get(), name.c_str(), &t));
        return Table(t);
    }

    dj_schema* get() const noexcept { return h_.get(); }
    dj_schema* release() noexcept { return h_.release(); }
    explicit operator bool() const noexcept { return static_cast<bool>(h_); }

private:
    detail::handle_ptr<dj_schema, dj_schema_free> h_;
};

// ------------------------------------------------------------------------------------ Connection

class Connection {
public:
    /// Adopt a dj_conn handle (ownership is transferred).
    explicit Connection(dj_conn* adopt) noexcept : h_(adopt) {}
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    Connection(Connection&&) noexcept = default;
    Connection& operator=(Connection&&) noexcept = default;
    ~Connection() = default;

    /// Open (or create) an embedded DuckDB database file; ":memory:" for an in-memory database.
    static Connection duckdb(const std::string& path = ":memory:") {
        check_abi();
        dj_conn* c = nullptr;
        check(dj_connect_duckdb(path.c_str(), &c));
        return Connection(c);
    }
    /// Connect using datajoint.json (`config_path`, or "" to search upward from the current
    /// directory), environment variables, then `overrides_json` ("" for none), e.g.
    /// R"({"database.backend": "duckdb", "database.path": "lab.duckdb"})".
    static Connection connect(const std::string& config_path = "", const std::string& overrides_json = "") {
        check_abi();
        dj_conn* c = nullptr;
        check(dj_connect(detail::c_str_or_null(config_path), detail::c_str_or_null(overrides_json), &c));
        return Connection(c);
    }

    /// Release the database now (idempotent). Objects made from this connection stay safe to
    /// destroy, but their operations throw dj::Closed.
    void close() { check(dj_conn_close(h_.get())); }

    /// "duckdb", "postgresql" or "mysql".
    std::string backend() const {
        const char* name = nullptr;
        check(dj_conn_backend(h_.get(), &name));
        return name ? name : "";
    }
    std::vector<std::string> schemas() const {
        dj_strlist* l = nullptr;
        check(dj_conn_list_schemas(h_.get(), &l));
        return detail::take_strlist(l);
    }
    /// Open schema `name`, creating it if missing when `create` (else dj::NotFound).
    Schema schema(const std::string& name, bool create = true) const {
        dj_schema* s = nullptr;
        check(dj_schema_open(h_.get(), name.c_str(), create ? 1 : 0, &s));
        return Schema(s);
    }

    dj_conn* get() const noexcept { return h_.get(); }
    dj_conn* release() noexcept { return h_.release(); }
    explicit operator bool() const noexcept { return static_cast<bool>(h_); }

private:
    detail::handle_ptr<dj_conn, dj_conn_free> h_;
};

}  // namespace dj

#endif  // DATAJOINT_HPP
