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
// Arrays (`<npy@store>` attributes; stores are configured through Connection::connect):
//
//   std::vector<float> trace(1000 * 32);
//   recording.insert1(dj::Row().set("recording_id", 1).set("trace", dj::array(trace, {1000, 32})));
//   dj::NpyRef ref = recording.fetch1().npyref("trace", 0);   // metadata only, no I/O
//   dj::ArrayView v = ref.map();                              // zero-copy for local stores
//   dj::span<const float> values = v.values<float>();
//
// `<blob>` values (dj::Value, a tree of MATLAB/Python values; arrays are column-major):
//
//   dj::Value v = dj::Value::structure({{"gain", 2.5}, {"trace", dj::Value::array(trace, {1000, 32})}});
//   recording.insert1(dj::Row().set("recording_id", 2).set("params", v));
//   dj::Result r = recording.fetch();
//   dj::Value p = r.value("params", 0);                        // borrowed from r (clone() to keep)
//   double gain = p["gain"].as_double();                       // struct field / dict key
//   dj::span<const float> t = p["trace"].real<float>();        // no copy; p["trace"].shape()
//
// Design (see the C ABI conventions, section C.10):
//  - Every class owning a handle is move-only (except dj::Value, whose copies are deep); a
//    moved-from object is empty (its handle is NULL, and using it throws dj::InvalidHandle). Destructors are noexcept and only call dj_*_free.
//  - The C library keeps a connection alive while schemas, tables or results made from it exist,
//    so objects may be destroyed in any order. A dj::Result's buffers stay valid after its Table
//    and Connection are gone; a ColumnView borrows from its Result and must not outlive it.
//  - Errors become exceptions derived from dj::Error (a std::runtime_error) carrying the dj_status.
//  - Compiles as C++17 (with a minimal dj::span) and uses std::span under C++20; with <mdspan>
//    (C++23) dj::ArrayView also offers std::mdspan views.
#ifndef DATAJOINT_HPP
#define DATAJOINT_HPP

#include "datajoint.h"

#include <algorithm>
#include <array>
#include <complex>
#include <exception>
#include <functional>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
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
#if __cplusplus > 202002L && defined(__has_include)
#if __has_include(<mdspan>)
#include <mdspan>
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
DJ_HPP_ERROR_CLASS(StoreError)        // DJ_E_STORE
DJ_HPP_ERROR_CLASS(CodecError)        // DJ_E_CODEC
DJ_HPP_ERROR_CLASS(IoError)           // DJ_E_IO
DJ_HPP_ERROR_CLASS(NotAllowed)        // DJ_E_NOT_ALLOWED
DJ_HPP_ERROR_CLASS(MakeFailed)        // DJ_E_MAKE_FAILED
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
    case DJ_E_STORE: throw StoreError(code, message);
    case DJ_E_CODEC: throw CodecError(code, message);
    case DJ_E_IO: throw IoError(code, message);
    case DJ_E_NOT_ALLOWED: throw NotAllowed(code, message);
    case DJ_E_MAKE_FAILED: throw MakeFailed(code, message);
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

/// Buffer kinds (DJ_KIND_*) as names: "int32", "string", … (the library's spelling).
inline const char* kind_name(int kind) noexcept { return dj_kind_name(kind); }

/// The DJ_KIND_* of a fixed-width C++ element type (bool buffers are uint8_t; uint64_t buffers are
/// DJ_KIND_UINT64, the kind of native `bigint unsigned` columns).
template <class T>
constexpr int kind_of() noexcept {
    using U = std::remove_cv_t<T>;
    if constexpr (std::is_same_v<U, uint8_t> || std::is_same_v<U, bool>) return DJ_KIND_BOOL;
    else if constexpr (std::is_same_v<U, int8_t>) return DJ_KIND_INT8;
    else if constexpr (std::is_same_v<U, int16_t>) return DJ_KIND_INT16;
    else if constexpr (std::is_same_v<U, int32_t>) return DJ_KIND_INT32;
    else if constexpr (std::is_integral_v<U> && std::is_signed_v<U> && sizeof(U) == 8 && !std::is_same_v<U, char>)
        return DJ_KIND_INT64;
    else if constexpr (std::is_integral_v<U> && std::is_unsigned_v<U> && sizeof(U) == 8) return DJ_KIND_UINT64;
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
    bool allow_direct_insert = false;  ///< into a Computed/Imported table outside its make
};

struct FetchOptions {
    std::vector<std::string> attributes;  ///< empty: all; "KEY" stands for the primary key
    std::string order_by;                 ///< e.g. "session_date DESC, subject_id"; empty: none
    int64_t limit = -1;                   ///< -1: no limit
    int64_t offset = 0;
};

/// How codec values come back from a fetch (a separate struct, so existing brace-initialised
/// FetchOptions stay valid).
struct CodecOptions {
    bool raw = false;              ///< codec columns as stored (JSON metadata / bytes), no download
    bool attachment_info = false;  ///< attachments as JSON {"name","size","hash"}, no download
    std::string download_path;     ///< folder for fetched attachments; empty: the setting, else "."
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
/// The heading of a table or query handle.
template <class H>
std::vector<Attribute> attributes_of(const H* h, std::size_t (*count)(const H*),
                                     dj_status (*get)(const H*, std::size_t, dj_attr_info*)) {
    const std::size_t n = count(h);
    if (n == 0) check(dj_last_error_code());
    std::vector<Attribute> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        dj_attr_info info;
        std::memset(&info, 0, sizeof info);
        check(get(h, i, &info));
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

inline dj_insert_opts to_c(const InsertOptions& o) {
    dj_insert_opts c;
    check(dj_insert_opts_init(&c));
    c.skip_duplicates = o.skip_duplicates ? 1 : 0;
    c.ignore_extra_fields = o.ignore_extra_fields ? 1 : 0;
    c.replace = o.replace ? 1 : 0;
    c.allow_direct_insert = o.allow_direct_insert ? 1 : 0;
    return c;
}

/// dj_fetch_opts plus the storage its pointers refer to.
struct CFetchOpts {
    dj_fetch_opts opts;
    std::vector<const char*> names;
    explicit CFetchOpts(const FetchOptions& o, const CodecOptions& c = {}) {
        check(dj_fetch_opts_init(&opts));
        opts.raw = c.raw ? 1 : 0;
        opts.attachment_info = c.attachment_info ? 1 : 0;
        opts.download_path = c_str_or_null(c.download_path);
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

// ------------------------------------------------------------------------------------ arrays (input)

/// Element type of an `<npy@>` array (DJ_DTYPE_*). numpy's names: bool, int8 … uint64, float16,
/// float32, float64, complex64, complex128, S<n> (Bytes) and U<n> (Unicode).
// Dtype::Bytes is scoped, but GCC's -Wshadow still reports it as shadowing dj::Bytes.
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"
#endif
enum class Dtype : int32_t {
    Bool = DJ_DTYPE_BOOL,
    Int8 = DJ_DTYPE_INT8,
    Int16 = DJ_DTYPE_INT16,
    Int32 = DJ_DTYPE_INT32,
    Int64 = DJ_DTYPE_INT64,
    Uint8 = DJ_DTYPE_UINT8,
    Uint16 = DJ_DTYPE_UINT16,
    Uint32 = DJ_DTYPE_UINT32,
    Uint64 = DJ_DTYPE_UINT64,
    Float16 = DJ_DTYPE_FLOAT16,        ///< IEEE half; C++ has no portable type: pass the raw uint16_t bits
    Float32 = DJ_DTYPE_FLOAT32,
    Float64 = DJ_DTYPE_FLOAT64,
    Complex64 = DJ_DTYPE_COMPLEX64,    ///< std::complex<float>
    Complex128 = DJ_DTYPE_COMPLEX128,  ///< std::complex<double>
    Bytes = DJ_DTYPE_BYTES,            ///< fixed-width bytes (numpy S<n>); itemsize = n
    Unicode = DJ_DTYPE_UNICODE,        ///< fixed-width UTF-32 (numpy U<n>); itemsize = 4 n
};
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

/// Memory order of an array: C (row-major, numpy's default) or F (column-major: Fortran,
/// MATLAB, Julia, Eigen's default).
enum class Order : int32_t {
    C = DJ_ORDER_C,
    F = DJ_ORDER_F,
};

/// numpy's name of a dtype ("float32", …; "S" / "U" without the width). Static storage.
inline const char* dtype_name(Dtype d) noexcept {
    switch (d) {
    case Dtype::Bool: return "bool";
    case Dtype::Int8: return "int8";
    case Dtype::Int16: return "int16";
    case Dtype::Int32: return "int32";
    case Dtype::Int64: return "int64";
    case Dtype::Uint8: return "uint8";
    case Dtype::Uint16: return "uint16";
    case Dtype::Uint32: return "uint32";
    case Dtype::Uint64: return "uint64";
    case Dtype::Float16: return "float16";
    case Dtype::Float32: return "float32";
    case Dtype::Float64: return "float64";
    case Dtype::Complex64: return "complex64";
    case Dtype::Complex128: return "complex128";
    case Dtype::Bytes: return "S";
    case Dtype::Unicode: return "U";
    }
    return "unknown";
}

/// Bytes per element of a fixed-size dtype; 0 for Bytes and Unicode (their width varies).
constexpr std::size_t dtype_itemsize(Dtype d) noexcept {
    switch (d) {
    case Dtype::Bool:
    case Dtype::Int8:
    case Dtype::Uint8: return 1;
    case Dtype::Int16:
    case Dtype::Uint16:
    case Dtype::Float16: return 2;
    case Dtype::Int32:
    case Dtype::Uint32:
    case Dtype::Float32: return 4;
    case Dtype::Int64:
    case Dtype::Uint64:
    case Dtype::Float64:
    case Dtype::Complex64: return 8;
    case Dtype::Complex128: return 16;
    case Dtype::Bytes:
    case Dtype::Unicode: return 0;
    }
    return 0;
}

namespace detail {
template <class U>
constexpr bool has_dtype() noexcept {
    if constexpr (std::is_same_v<U, bool>) return sizeof(bool) == 1;
    else if constexpr (std::is_same_v<U, char> || std::is_same_v<U, wchar_t> || std::is_same_v<U, char16_t> ||
                       std::is_same_v<U, char32_t>)
        return false;
#if defined(__cpp_char8_t)
    else if constexpr (std::is_same_v<U, char8_t>) return false;
#endif
    else if constexpr (std::is_integral_v<U>) return sizeof(U) == 1 || sizeof(U) == 2 || sizeof(U) == 4 || sizeof(U) == 8;
    else if constexpr (std::is_same_v<U, float>) return sizeof(float) == 4;
    else if constexpr (std::is_same_v<U, double>) return sizeof(double) == 8;
    else if constexpr (std::is_same_v<U, std::complex<float>>) return sizeof(U) == 8;
    else if constexpr (std::is_same_v<U, std::complex<double>>) return sizeof(U) == 16;
    else return false;
}
}  // namespace detail

/// Whether the C++ element type T has an array dtype: bool, the fixed-width integers (any
/// integer type by size and signedness, but not the character types), float, double,
/// std::complex<float> and std::complex<double>.
template <class T>
inline constexpr bool has_dtype_v = detail::has_dtype<std::remove_cv_t<T>>();

/// The Dtype of a C++ element type (see has_dtype_v); a compile error for other types.
template <class T>
constexpr Dtype dtype_of() noexcept {
    using U = std::remove_cv_t<T>;
    static_assert(has_dtype_v<U>,
                  "dj::dtype_of<T>: T must be bool, an integer type (not a character type), float, double, "
                  "std::complex<float> or std::complex<double>");
    if constexpr (std::is_same_v<U, bool>) return Dtype::Bool;
    else if constexpr (std::is_integral_v<U> && std::is_signed_v<U>) {
        if constexpr (sizeof(U) == 1) return Dtype::Int8;
        else if constexpr (sizeof(U) == 2) return Dtype::Int16;
        else if constexpr (sizeof(U) == 4) return Dtype::Int32;
        else return Dtype::Int64;
    } else if constexpr (std::is_integral_v<U>) {
        if constexpr (sizeof(U) == 1) return Dtype::Uint8;
        else if constexpr (sizeof(U) == 2) return Dtype::Uint16;
        else if constexpr (sizeof(U) == 4) return Dtype::Uint32;
        else return Dtype::Uint64;
    } else if constexpr (std::is_same_v<U, float>) return Dtype::Float32;
    else if constexpr (std::is_same_v<U, double>) return Dtype::Float64;
    else if constexpr (std::is_same_v<U, std::complex<float>>) return Dtype::Complex64;
    else return Dtype::Complex128;
}

/// A borrowed array to insert into an `<npy@>` attribute: the caller's buffer is NOT copied.
/// The buffer must stay valid and unchanged until the insert that uses it has returned (for
/// Row::set: until the Row is inserted or destroyed; for Batch::add_arrays: until
/// Table::insert returns). The shape is owned (copied) by the ArrayIn.
///
/// Build one with dj::array(...) (typed C++ elements), dj::float16_array, dj::bytes_array or
/// dj::unicode_array, or fill the fields directly for raw bytes.
struct ArrayIn {
    const void* data = nullptr;   ///< the elements in `order`, little-endian
    uint64_t nbytes = 0;          ///< must equal the element count × itemsize
    Dtype dtype = Dtype::Uint8;
    std::vector<int64_t> shape;   ///< extents; empty for a 0-d (scalar) array; at most 32
    int64_t itemsize = 0;         ///< Bytes / Unicode only (bytes per element); ignored otherwise
    Order order = Order::C;

    /// The C descriptor; points into this ArrayIn (shape) and the caller's buffer.
    dj_array_in to_c() const noexcept {
        dj_array_in a;
        std::memset(&a, 0, sizeof a);
        a.data = data;
        a.nbytes = nbytes;
        a.dtype = static_cast<int32_t>(dtype);
        a.ndim = static_cast<int32_t>(shape.size());
        a.shape = shape.empty() ? nullptr : shape.data();
        a.itemsize = itemsize;
        a.order = static_cast<int32_t>(order);
        return a;
    }
};

namespace detail {
/// Number of elements of a shape; 0 if an extent is negative (the library then reports it).
inline uint64_t element_count(const std::vector<int64_t>& shape) noexcept {
    uint64_t n = 1;
    for (int64_t d : shape) {
        if (d < 0) return 0;
        n *= static_cast<uint64_t>(d);
    }
    return n;
}
inline ArrayIn make_array(const void* data, uint64_t nbytes, Dtype dtype, std::vector<int64_t> shape, int64_t itemsize,
                          Order order) {
    ArrayIn a;
    a.data = data;
    a.nbytes = nbytes;
    a.dtype = dtype;
    a.shape = std::move(shape);
    a.itemsize = itemsize;
    a.order = order;
    return a;
}
}  // namespace detail

/// An array of `shape` (empty: 0-d) over `data`, which must hold the product of the extents
/// elements in `order`. The buffer is borrowed (see ArrayIn).
template <class T>
ArrayIn array(const T* data, std::vector<int64_t> shape, Order order = Order::C) {
    constexpr Dtype d = dtype_of<T>();
    const uint64_t nbytes = detail::element_count(shape) * sizeof(T);
    return detail::make_array(data, nbytes, d, std::move(shape), 0, order);
}
/// An array over a vector's elements (its size must match the shape: the library checks). The
/// vector is borrowed and must outlive the insert; temporaries are refused.
template <class T, class A>
ArrayIn array(const std::vector<T, A>& values, std::vector<int64_t> shape, Order order = Order::C) {
    constexpr Dtype d = dtype_of<T>();
    return detail::make_array(values.empty() ? nullptr : values.data(), values.size() * sizeof(T), d, std::move(shape),
                              0, order);
}
/// A 1-d array over a vector's elements.
template <class T, class A>
ArrayIn array(const std::vector<T, A>& values) {
    return array(values, {static_cast<int64_t>(values.size())}, Order::C);
}
template <class T, class A>
ArrayIn array(std::vector<T, A>&&, std::vector<int64_t> = {}, Order = Order::C) = delete;  // would dangle
template <class A>
ArrayIn array(const std::vector<bool, A>&, std::vector<int64_t> = {}, Order = Order::C) = delete;  // packed bits
#if defined(__cpp_lib_span) && __cpp_lib_span >= 202002L
/// An array over a span's elements (its size must match the shape).
template <class T, std::size_t Extent>
ArrayIn array(std::span<T, Extent> values, std::vector<int64_t> shape, Order order = Order::C) {
    constexpr Dtype d = dtype_of<T>();
    return detail::make_array(values.empty() ? nullptr : values.data(), values.size_bytes(), d, std::move(shape), 0,
                              order);
}
#else
/// An array over a span's elements (its size must match the shape).
template <class T>
ArrayIn array(span<T> values, std::vector<int64_t> shape, Order order = Order::C) {
    constexpr Dtype d = dtype_of<T>();
    return detail::make_array(values.empty() ? nullptr : values.data(), values.size_bytes(), d, std::move(shape), 0,
                              order);
}
#endif

/// A float16 array from the raw IEEE half-precision bits.
inline ArrayIn float16_array(const uint16_t* bits, std::vector<int64_t> shape, Order order = Order::C) {
    const uint64_t nbytes = detail::element_count(shape) * 2;
    return detail::make_array(bits, nbytes, Dtype::Float16, std::move(shape), 0, order);
}
/// A numpy S<width> array: each element is `width` bytes (zero-padded, not NUL-terminated).
inline ArrayIn bytes_array(const void* data, int64_t width, std::vector<int64_t> shape, Order order = Order::C) {
    const uint64_t nbytes = detail::element_count(shape) * static_cast<uint64_t>(width > 0 ? width : 0);
    return detail::make_array(data, nbytes, Dtype::Bytes, std::move(shape), width, order);
}
/// A numpy U<nchars> array: each element is `nchars` UTF-32 code points (zero-padded).
inline ArrayIn unicode_array(const char32_t* data, int64_t nchars, std::vector<int64_t> shape, Order order = Order::C) {
    const uint64_t nbytes = detail::element_count(shape) * 4 * static_cast<uint64_t>(nchars > 0 ? nchars : 0);
    return detail::make_array(data, nbytes, Dtype::Unicode, std::move(shape), 4 * nchars, order);
}

// ------------------------------------------------------------------------------------ Value

/// A node of a `<blob>` value tree (dj_value): owning (a root made by the factories, by clone(),
/// or a copy) or a borrowed view (items of another Value, cells of a Result; valid while their
/// owner lives). Copying a Value deep-copies it into an owning Value; moving transfers it.
///
/// Arrays are column-major (MATLAB order); char arrays hold UTF-16 code units (as_string()
/// converts them to UTF-8). Conversions: bool → bool, integers → int, float/double → float,
/// strings → str, std::vector<T> of a numeric T → 1×n array, std::vector<Value> → list,
/// std::map<std::string, Value> → dict with string keys.
class Value {
public:
    /// DJ_VALUE_* (Null: an empty Value holding no node).
    enum class Type : int32_t {
        Null = -1,
        None = DJ_VALUE_NONE,
        Bool = DJ_VALUE_BOOL,
        Int = DJ_VALUE_INT,
        BigInt = DJ_VALUE_BIGINT,
        Float = DJ_VALUE_FLOAT,
        Complex = DJ_VALUE_COMPLEX,
        String = DJ_VALUE_STRING,
        Binary = DJ_VALUE_BYTES,  ///< Python bytes (named so as not to shadow dj::Bytes)
        Decimal = DJ_VALUE_DECIMAL,
        Date = DJ_VALUE_DATE,
        Time = DJ_VALUE_TIME,
        Datetime = DJ_VALUE_DATETIME,
        Uuid = DJ_VALUE_UUID,
        Tuple = DJ_VALUE_TUPLE,
        List = DJ_VALUE_LIST,
        Set = DJ_VALUE_SET,
        Dict = DJ_VALUE_DICT,
        Array = DJ_VALUE_ARRAY,
        Struct = DJ_VALUE_STRUCT,
        Cell = DJ_VALUE_CELL,
        ObjectArray = DJ_VALUE_OBJECT_ARRAY,
        Record = DJ_VALUE_RECORD,
        Sparse = DJ_VALUE_SPARSE,
    };
    /// Array element class (DJ_CLASS_*, MATLAB's mxClassID numbers).
    enum class Class : int32_t {
        Logical = DJ_CLASS_LOGICAL,
        Char = DJ_CLASS_CHAR,
        Double = DJ_CLASS_DOUBLE,
        Single = DJ_CLASS_SINGLE,
        Int8 = DJ_CLASS_INT8,
        Uint8 = DJ_CLASS_UINT8,
        Int16 = DJ_CLASS_INT16,
        Uint16 = DJ_CLASS_UINT16,
        Int32 = DJ_CLASS_INT32,
        Uint32 = DJ_CLASS_UINT32,
        Int64 = DJ_CLASS_INT64,
        Uint64 = DJ_CLASS_UINT64,
    };

    /// The array class of a C++ element type (bool → Logical, char16_t → Char, …).
    template <class T>
    static constexpr Class class_of() noexcept {
        using U = std::remove_cv_t<T>;
        if constexpr (std::is_same_v<U, bool>) return Class::Logical;
        else if constexpr (std::is_same_v<U, char16_t>) return Class::Char;
        else if constexpr (std::is_same_v<U, double>) return Class::Double;
        else if constexpr (std::is_same_v<U, float>) return Class::Single;
        else if constexpr (std::is_integral_v<U> && std::is_signed_v<U> && sizeof(U) == 1) return Class::Int8;
        else if constexpr (std::is_integral_v<U> && std::is_unsigned_v<U> && sizeof(U) == 1) return Class::Uint8;
        else if constexpr (std::is_integral_v<U> && std::is_signed_v<U> && sizeof(U) == 2) return Class::Int16;
        else if constexpr (std::is_integral_v<U> && std::is_unsigned_v<U> && sizeof(U) == 2) return Class::Uint16;
        else if constexpr (std::is_integral_v<U> && std::is_signed_v<U> && sizeof(U) == 4) return Class::Int32;
        else if constexpr (std::is_integral_v<U> && std::is_unsigned_v<U> && sizeof(U) == 4) return Class::Uint32;
        else if constexpr (std::is_integral_v<U> && std::is_signed_v<U> && sizeof(U) == 8) return Class::Int64;
        else if constexpr (std::is_integral_v<U> && std::is_unsigned_v<U> && sizeof(U) == 8) return Class::Uint64;
        else static_assert(detail::dependent_false<U>, "dj::Value: no array class for this element type");
    }

    /// An empty Value (no node; type() == Type::Null). Set as an attribute it is SQL NULL.
    Value() noexcept = default;
    /// Adopt an owned root (freed by this Value).
    static Value adopt(dj_value* owned) noexcept { return Value(owned, true); }
    /// A borrowed view of a node owned elsewhere (never freed by this Value).
    static Value borrow(const dj_value* node) noexcept { return Value(const_cast<dj_value*>(node), false); }

    Value(const Value& o) : Value() {
        if (o.p_ != nullptr) *this = o.clone();
    }
    Value(Value&& o) noexcept : p_(o.p_), owned_(o.owned_) {
        o.p_ = nullptr;
        o.owned_ = false;
    }
    Value& operator=(const Value& o) {
        if (this != &o) *this = Value(o);
        return *this;
    }
    Value& operator=(Value&& o) noexcept {
        if (this != &o) {
            reset();
            p_ = o.p_;
            owned_ = o.owned_;
            o.p_ = nullptr;
            o.owned_ = false;
        }
        return *this;
    }
    ~Value() { reset(); }

    // ---- conversions

    /// SQL NULL / Python None: dj::null gives Value::none().
    Value(Null) : Value(none()) {}
    Value(bool b) : Value(make([&](dj_value** o) { return dj_value_new_bool(b ? 1 : 0, o); })) {}
    template <class T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool> &&
                                            !std::is_same_v<T, char> && !std::is_same_v<T, char16_t>,
                                        int> = 0>
    Value(T v) : Value(make([&](dj_value** o) { return dj_value_new_int(static_cast<int64_t>(v), o); })) {
        if constexpr (std::is_unsigned_v<T> && sizeof(T) >= sizeof(int64_t)) {
            if (v > static_cast<T>(std::numeric_limits<int64_t>::max())) {
                uint8_t le[9] = {};
                for (int i = 0; i < 8; ++i) le[i] = static_cast<uint8_t>(static_cast<uint64_t>(v) >> (8 * i));
                *this = make([&](dj_value** o) { return dj_value_new_bigint(le, 9, o); });
            }
        }
    }
    Value(double v) : Value(make([&](dj_value** o) { return dj_value_new_float(v, o); })) {}
    Value(float v) : Value(static_cast<double>(v)) {}
    Value(std::complex<double> v) : Value(make([&](dj_value** o) { return dj_value_new_complex(v.real(), v.imag(), o); })) {}
    Value(std::string_view s) : Value(make([&](dj_value** o) { return dj_value_new_string(s.data(), s.size(), o); })) {}
    Value(const std::string& s) : Value(std::string_view(s)) {}
    Value(const char* s) : Value(std::string_view(s)) {}
    /// A 1×n numeric / logical array.
    template <class T, class A, std::enable_if_t<!std::is_same_v<std::remove_cv_t<T>, Value>, int> = 0>
    Value(const std::vector<T, A>& v) : Value(row_vector(v)) {}
    /// A list.
    Value(const std::vector<Value>& items) : Value(list(items)) {}
    /// A dict with string keys.
    Value(const std::map<std::string, Value>& entries) : Value(dict(entries)) {}

    // ---- factories

    static Value none() {
        return make([](dj_value** o) { return dj_value_new_none(o); });
    }
    static Value boolean(bool b) { return Value(b); }
    static Value integer(int64_t v) { return Value(v); }
    static Value floating(double v) { return Value(v); }
    static Value complex(double re, double im) { return Value(std::complex<double>(re, im)); }
    static Value string(std::string_view s) { return Value(s); }
    static Value bytes(const void* data, std::size_t len) {
        return make([&](dj_value** o) { return dj_value_new_bytes(data, len, o); });
    }
    static Value bytes(const std::vector<uint8_t>& b) { return bytes(b.data(), b.size()); }
    static Value decimal(const std::string& text) {
        return make([&](dj_value** o) { return dj_value_new_decimal(text.c_str(), o); });
    }
    static Value date(Date d) {
        return make([&](dj_value** o) { return dj_value_new_date(d.days, o); });
    }
    static Value datetime(Datetime t) {
        return make([&](dj_value** o) { return dj_value_new_datetime(t.micros, o); });
    }
    /// A time of day in microseconds since midnight.
    static Value time(int64_t micros) {
        return make([&](dj_value** o) { return dj_value_new_time(micros, o); });
    }
    static Value uuid(const Uuid& u) {
        return make([&](dj_value** o) { return dj_value_new_uuid(u.bytes.data(), o); });
    }
    /// An array of `shape` (column-major elements, copied); `imag` (same size) makes it complex.
    template <class T>
    static Value array(span<const T> real, const std::vector<int64_t>& shape, span<const T> imag = {}) {
        check_count(real.size(), shape);
        if (imag.data() != nullptr && imag.size() != real.size())
            throw InvalidArgument(DJ_E_INVALID_ARG, "dj::Value::array: imag and real differ in size");
        return make([&](dj_value** o) {
            return dj_value_new_array(static_cast<int32_t>(class_of<T>()), static_cast<int32_t>(shape.size()),
                                      shape.data(), real.data(), imag.data(), o);
        });
    }
    template <class T, class A>
    static Value array(const std::vector<T, A>& real, const std::vector<int64_t>& shape) {
        static_assert(!std::is_same_v<T, bool>, "std::vector<bool> is packed: pass uint8_t and Value::logical");
        return array(span<const T>(real.data(), real.size()), shape);
    }
    template <class T, class A>
    static Value array(const std::vector<T, A>& real, const std::vector<T, A>& imag, const std::vector<int64_t>& shape) {
        return array(span<const T>(real.data(), real.size()), shape, span<const T>(imag.data(), imag.size()));
    }
    /// A logical array from 0/1 bytes.
    static Value logical(const std::vector<uint8_t>& v, const std::vector<int64_t>& shape) {
        check_count(v.size(), shape);
        return make([&](dj_value** o) {
            return dj_value_new_array(DJ_CLASS_LOGICAL, static_cast<int32_t>(shape.size()), shape.data(), v.data(),
                                      nullptr, o);
        });
    }
    /// A 1×n MATLAB char row from UTF-8.
    static Value char_array(std::string_view utf8) {
        return make([&](dj_value** o) { return dj_value_new_char(utf8.data(), utf8.size(), o); });
    }
    /// A char array of `shape` from UTF-16 code units (column-major).
    static Value char_array(const std::u16string& units, const std::vector<int64_t>& shape) {
        return array(span<const char16_t>(units.data(), units.size()), shape);
    }
    static Value list(const std::vector<Value>& items = {}) { return sequence(DJ_VALUE_LIST, items); }
    static Value tuple(const std::vector<Value>& items = {}) { return sequence(DJ_VALUE_TUPLE, items); }
    static Value set(const std::vector<Value>& items = {}) { return sequence(DJ_VALUE_SET, items); }
    static Value dict(const std::map<std::string, Value>& entries = {}) {
        Value d = container(DJ_VALUE_DICT);
        for (const auto& [k, v] : entries) d.insert(Value(k), v);
        return d;
    }
    static Value dict(const std::vector<std::pair<Value, Value>>& entries) {
        Value d = container(DJ_VALUE_DICT);
        for (const auto& [k, v] : entries) d.insert(k, v);
        return d;
    }
    /// A cell array of `shape`, filled with `items` (column-major; missing items stay `[]`).
    static Value cell(const std::vector<int64_t>& shape, const std::vector<Value>& items = {}) {
        Value c = make([&](dj_value** o) {
            return dj_value_new_cell(DJ_VALUE_CELL, static_cast<int32_t>(shape.size()), shape.data(), o);
        });
        for (std::size_t i = 0; i < items.size(); ++i) c.set_item(i, items[i]);
        return c;
    }
    /// A struct array of `shape` with fields `names`, every value `[]` (fill with set_field).
    static Value structure(const std::vector<int64_t>& shape, const std::vector<std::string>& names) {
        std::vector<const char*> p;
        p.reserve(names.size());
        for (const auto& n : names) p.push_back(n.c_str());
        return make([&](dj_value** o) {
            return dj_value_new_struct(static_cast<int32_t>(shape.size()), shape.data(), p.size(), p.data(), o);
        });
    }
    /// A 1×1 struct with these fields (in key order).
    static Value structure(const std::map<std::string, Value>& fields) {
        std::vector<std::string> names;
        for (const auto& kv : fields) names.push_back(kv.first);
        Value s = structure({1, 1}, names);
        for (const auto& [k, v] : fields) s.set_field(0, k, v);
        return s;
    }
    /// Unpack DataJoint blob bytes (mYm or dj0).
    static Value unpack(const void* data, std::size_t len) {
        return make([&](dj_value** o) { return dj_value_unpack(data, len, o); });
    }

    // ---- builders (owning Values only; the item is copied unless moved in)

    /// Append to a list, tuple or set.
    Value& append(Value item) {
        check(dj_value_append(mut(), item.take()));
        return *this;
    }
    /// Add key → value to a dict.
    Value& insert(Value key, Value value) {
        dj_value* k = key.take();
        dj_value* v = value.take();
        check(dj_value_dict_insert(mut(), k, v));
        return *this;
    }
    /// Set item `i` (column-major) of a cell.
    Value& set_item(std::size_t i, Value item) {
        check(dj_value_cell_set(mut(), i, item.take()));
        return *this;
    }
    /// Set field `field` of element `elem` (column-major) of a struct array.
    Value& set_field(std::size_t elem, const std::string& field, Value value) {
        check(dj_value_struct_set(mut(), elem, field.c_str(), value.take()));
        return *this;
    }

    // ---- inspection

    Type type() const noexcept { return static_cast<Type>(dj_value_type(p_)); }
    /// True unless empty (no node).
    explicit operator bool() const noexcept { return p_ != nullptr; }
    bool is_none() const noexcept { return type() == Type::None; }
    bool owned() const noexcept { return owned_; }
    const dj_value* get() const noexcept { return p_; }
    /// Give up ownership of the root (NULL for a borrowed or empty Value).
    dj_value* release() noexcept {
        dj_value* r = owned_ ? p_ : nullptr;
        p_ = nullptr;
        owned_ = false;
        return r;
    }
    /// A deep copy that this process owns (an empty Value stays empty).
    Value clone() const {
        if (p_ == nullptr) return Value();
        return make([&](dj_value** o) { return dj_value_clone(p_, o); });
    }

    bool as_bool() const {
        int32_t b = 0;
        check(dj_value_get_bool(p_, &b));
        return b != 0;
    }
    int64_t as_int() const {
        int64_t v = 0;
        check(dj_value_get_int(p_, &v));
        return v;
    }
    /// Floats, ints and real 1×1 double/single arrays.
    double as_double() const {
        double v = 0;
        check(dj_value_get_float(p_, &v));
        return v;
    }
    std::complex<double> as_complex() const {
        double re = 0, im = 0;
        check(dj_value_get_complex(p_, &re, &im));
        return {re, im};
    }
    /// UTF-8 of a str or decimal, or of a char array (its UTF-16 units, column-major).
    std::string as_string() const {
        if (type() == Type::Array) {
            const dj_blob_array a = array_info();
            if (a.class_id != DJ_CLASS_CHAR) throw TypeError(DJ_E_TYPE, "dj::Value::as_string: not a char array");
            return utf16_to_utf8(static_cast<const char16_t*>(a.real), static_cast<std::size_t>(a.length));
        }
        const char* d = nullptr;
        std::size_t n = 0;
        check(dj_value_get_string(p_, &d, &n));
        return std::string(d != nullptr ? d : "", n);
    }
    /// Bytes of a bytes value (or the little-endian two's complement bytes of a big int).
    std::vector<uint8_t> as_bytes() const {
        const void* d = nullptr;
        std::size_t n = 0;
        check(dj_value_get_bytes(p_, &d, &n));
        const auto* b = static_cast<const uint8_t*>(d);
        return std::vector<uint8_t>(b, b + n);
    }
    Date as_date() const { return Date{static_cast<int32_t>(temporal())}; }
    Datetime as_datetime() const { return Datetime{temporal()}; }
    int64_t as_time() const { return temporal(); }
    Uuid as_uuid() const {
        const uint8_t* b = nullptr;
        check(dj_value_get_uuid(p_, &b));
        Uuid u;
        std::memcpy(u.bytes.data(), b, 16);
        return u;
    }

    /// Items of a sequence/cell, entries of a dict, elements of a struct array, fields of a record.
    std::size_t size() const noexcept { return p_ == nullptr ? 0 : dj_value_len(p_); }
    /// Item `i` (borrowed): of a sequence or cell (column-major), value of dict entry `i`, field
    /// `i` of a record. dj::NotFound when out of range or not a container.
    template <class I, std::enable_if_t<std::is_integral_v<I>, int> = 0>
    Value operator[](I i) const {
        if constexpr (std::is_signed_v<I>) {
            if (i < 0) throw NotFound(DJ_E_NOT_FOUND, "dj::Value: negative index");
        }
        return at(static_cast<std::size_t>(i));
    }
    Value at(std::size_t i) const {
        const dj_value* v = dj_value_item(p_, i);
        if (v == nullptr) throw NotFound(DJ_E_NOT_FOUND, "dj::Value: no item " + std::to_string(i));
        return borrow(v);
    }
    /// Key of dict entry `i` (borrowed).
    Value key(std::size_t i) const {
        const dj_value* v = dj_value_dict_key(p_, i);
        if (v == nullptr) throw NotFound(DJ_E_NOT_FOUND, "dj::Value: no dict entry " + std::to_string(i));
        return borrow(v);
    }
    /// The value of a dict under string key `k`, of field `k` of a record, or of field `k` of
    /// element 0 of a struct array (borrowed). dj::NotFound if absent.
    Value operator[](const std::string& k) const {
        switch (type()) {
        case Type::Dict:
            for (std::size_t i = 0, n = size(); i < n; ++i) {
                const dj_value* kv = dj_value_dict_key(p_, i);
                const char* d = nullptr;
                std::size_t len = 0;
                if (dj_value_type(kv) == DJ_VALUE_STRING && dj_value_get_string(kv, &d, &len) == DJ_OK &&
                    std::string_view(d, len) == k)
                    return borrow(dj_value_item(p_, i));
            }
            throw NotFound(DJ_E_NOT_FOUND, "dj::Value: no key '" + k + "'");
        case Type::Record: return at(field_index(k));
        default: return field(0, k);
        }
    }
    Value operator[](const char* k) const { return (*this)[std::string(k)]; }
    bool contains(const std::string& k) const {
        if (type() == Type::Dict) {
            for (std::size_t i = 0, n = size(); i < n; ++i) {
                const dj_value* kv = dj_value_dict_key(p_, i);
                const char* d = nullptr;
                std::size_t len = 0;
                if (dj_value_type(kv) == DJ_VALUE_STRING && dj_value_get_string(kv, &d, &len) == DJ_OK &&
                    std::string_view(d, len) == k)
                    return true;
            }
            return false;
        }
        const auto names = field_names();
        return std::find(names.begin(), names.end(), k) != names.end();
    }
    /// Field `name` of element `elem` (column-major) of a struct array (borrowed).
    Value field(std::size_t elem, const std::string& name) const {
        const dj_value* v = dj_value_struct_get(p_, elem, field_index(name));
        if (v == nullptr) throw NotFound(DJ_E_NOT_FOUND, "dj::Value: no element " + std::to_string(elem));
        return borrow(v);
    }
    std::size_t field_count() const noexcept { return p_ == nullptr ? 0 : dj_value_field_count(p_); }
    std::string field_name(std::size_t i) const {
        const char* d = nullptr;
        std::size_t n = 0;
        check(dj_value_field_name(p_, i, &d, &n));
        return std::string(d, n);
    }
    std::vector<std::string> field_names() const {
        std::vector<std::string> out;
        for (std::size_t i = 0, n = field_count(); i < n; ++i) out.push_back(field_name(i));
        return out;
    }
    /// Shape of an array, cell, object array or struct array.
    std::vector<int64_t> shape() const {
        int32_t nd = 0;
        const int64_t* s = nullptr;
        check(dj_value_shape(p_, &nd, &s));
        return std::vector<int64_t>(s, s + nd);
    }
    /// The raw view of an array (class, shape, buffers).
    dj_blob_array array_info() const {
        dj_blob_array a;
        std::memset(&a, 0, sizeof a);
        check(dj_value_array(p_, &a));
        return a;
    }
    Class array_class() const { return static_cast<Class>(array_info().class_id); }
    bool is_complex() const { return array_info().is_complex != 0; }
    /// Number of elements of an array.
    std::size_t numel() const { return static_cast<std::size_t>(array_info().length); }
    /// The real parts of an array of element type T (bool / uint8_t for logical, char16_t for
    /// char), column-major, borrowed from the value. dj::TypeError if the class differs.
    template <class T>
    span<const T> real() const {
        const dj_blob_array a = typed<T>();
        return span<const T>(static_cast<const T*>(a.real), static_cast<std::size_t>(a.length));
    }
    /// The imaginary parts (empty for a real array).
    template <class T>
    span<const T> imag() const {
        const dj_blob_array a = typed<T>();
        if (a.imag == nullptr) return span<const T>();
        return span<const T>(static_cast<const T*>(a.imag), static_cast<std::size_t>(a.length));
    }
    /// A copy of the real parts.
    template <class T>
    std::vector<T> to_vector() const {
        const auto s = real<T>();
        return std::vector<T>(s.begin(), s.end());
    }
    /// DataJoint blob bytes of the value.
    std::vector<uint8_t> pack() const {
        std::size_t need = 0;
        check(dj_value_pack(p_, nullptr, 0, &need));
        std::vector<uint8_t> out(need);
        check(dj_value_pack(p_, out.data(), out.size(), &need));
        out.resize(need);
        return out;
    }

private:
    Value(dj_value* p, bool owned) noexcept : p_(p), owned_(owned) {}

    void reset() noexcept {
        if (owned_) dj_value_free(p_);
        p_ = nullptr;
        owned_ = false;
    }
    template <class F>
    static Value make(F&& f) {
        dj_value* o = nullptr;
        check(f(&o));
        return adopt(o);
    }
    static Value container(int32_t t) {
        return make([&](dj_value** o) { return dj_value_new_container(t, o); });
    }
    static Value sequence(int32_t t, const std::vector<Value>& items) {
        Value s = container(t);
        for (const auto& it : items) s.append(it);
        return s;
    }
    template <class T, class A>
    static Value row_vector(const std::vector<T, A>& v) {
        if constexpr (std::is_same_v<T, bool>) {
            std::vector<uint8_t> b(v.begin(), v.end());
            return logical(b, {1, static_cast<int64_t>(b.size())});
        } else {
            return array(span<const T>(v.data(), v.size()), {1, static_cast<int64_t>(v.size())});
        }
    }
    static void check_count(std::size_t n, const std::vector<int64_t>& shape) {
        uint64_t c = 1;
        for (int64_t d : shape) c *= static_cast<uint64_t>(d < 0 ? 0 : d);
        if (c != n)
            throw InvalidArgument(DJ_E_INVALID_ARG, "dj::Value::array: " + std::to_string(n) +
                                                        " elements do not fill the shape");
    }
    /// The node, owned (an item passed to a consuming call): a borrowed or empty item is copied.
    dj_value* take() {
        if (p_ == nullptr) *this = none();
        else if (!owned_) *this = clone();
        return release();
    }
    dj_value* mut() const {
        if (!owned_) throw InvalidArgument(DJ_E_INVALID_ARG, "dj::Value: only an owning Value can be modified");
        return p_;
    }
    int64_t temporal() const {
        int64_t v = 0;
        check(dj_value_get_temporal(p_, &v));
        return v;
    }
    std::size_t field_index(const std::string& name) const {
        for (std::size_t i = 0, n = field_count(); i < n; ++i)
            if (field_name(i) == name) return i;
        throw NotFound(DJ_E_NOT_FOUND, "dj::Value: no field '" + name + "'");
    }
    template <class T>
    dj_blob_array typed() const {
        const dj_blob_array a = array_info();
        using U = std::remove_cv_t<T>;
        bool ok;
        if constexpr (std::is_same_v<U, bool> || std::is_same_v<U, uint8_t>)
            ok = a.class_id == static_cast<int32_t>(class_of<U>()) || a.class_id == DJ_CLASS_LOGICAL;
        else
            ok = a.class_id == static_cast<int32_t>(class_of<U>());
        if (!ok) throw TypeError(DJ_E_TYPE, "dj::Value: array of class " + std::to_string(a.class_id) +
                                               " viewed as another element type");
        return a;
    }
    static std::string utf16_to_utf8(const char16_t* s, std::size_t n) {
        std::string out;
        out.reserve(n);
        for (std::size_t i = 0; i < n; ++i) {
            uint32_t c = s[i];
            if (c >= 0xD800 && c < 0xDC00 && i + 1 < n && s[i + 1] >= 0xDC00 && s[i + 1] < 0xE000) {
                c = 0x10000 + ((c - 0xD800) << 10) + (static_cast<uint32_t>(s[i + 1]) - 0xDC00);
                ++i;
            }
            if (c < 0x80) {
                out += static_cast<char>(c);
            } else if (c < 0x800) {
                out += static_cast<char>(0xC0 | (c >> 6));
                out += static_cast<char>(0x80 | (c & 0x3F));
            } else if (c < 0x10000) {
                out += static_cast<char>(0xE0 | (c >> 12));
                out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
                out += static_cast<char>(0x80 | (c & 0x3F));
            } else {
                out += static_cast<char>(0xF0 | (c >> 18));
                out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
                out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
                out += static_cast<char>(0x80 | (c & 0x3F));
            }
        }
        return out;
    }

    dj_value* p_ = nullptr;
    bool owned_ = false;
};

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

    /// Set attribute `name` (replacing an earlier value). Accepts bool, any integer (unsigned
    /// 64-bit values beyond int64 for native `bigint unsigned` attributes), float,
    /// double, strings, dj::Bytes, dj::Date, dj::Datetime, dj::Uuid, dj::Decimal, dj::Json,
    /// dj::ArrayIn (an `<npy@>` attribute), nullptr / dj::null, and std::optional of those
    /// (empty = NULL).
    ///
    /// A dj::ArrayIn's buffer is borrowed, not copied: it must stay valid and unchanged until
    /// this Row has been inserted or destroyed.
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

    /// Set an `<attach>` attribute to a file given by its name and content (copied). A path
    /// to a file on disk is set as a string instead (Row::set(name, path)).
    Row& set_attachment(const std::string& name, const std::string& filename, const void* data, std::size_t len) & {
        check(dj_row_set_attachment(h_.get(), name.c_str(), filename.c_str(), data, len));
        return *this;
    }
    Row& set_attachment(const std::string& name, const std::string& filename, const std::vector<uint8_t>& data) & {
        return set_attachment(name, filename, data.data(), data.size());
    }
    Row&& set_attachment(const std::string& name, const std::string& filename, const std::vector<uint8_t>& data) && {
        set_attachment(name, filename, data.data(), data.size());
        return std::move(*this);
    }

    /// Number of values set.
    /// An `<object@>` attribute from bytes, stored with extension `ext` ("" for none).
    Row& set_object(const std::string& name, const std::string& ext, const void* data, std::size_t len) & {
        check(dj_row_set_object_bytes(h_.get(), name.c_str(), ext.c_str(), data, len));
        return *this;
    }
    Row&& set_object(const std::string& name, const std::string& ext, const std::vector<uint8_t>& data) && {
        set_object(name, ext, data.data(), data.size());
        return std::move(*this);
    }
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
                // the whole uint64 range (native `bigint unsigned`); the library range-checks
                check(dj_row_set_uint(r, name, static_cast<uint64_t>(v)));
            } else {
                check(dj_row_set_int(r, name, static_cast<int64_t>(v)));
            }
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
        } else if constexpr (std::is_same_v<U, ArrayIn>) {
            const dj_array_in a = v.to_c();
            check(dj_row_set_array(r, name, &a));
        } else if constexpr (std::is_same_v<U, Value>) {
            // a `<blob>` attribute (the value tree is copied); an empty Value is NULL
            if (v) check(dj_row_set_value(r, name, v.get()));
            else check(dj_row_set_null(r, name));
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
/// The Batch owns its buffers (except the arrays' data, see add_arrays); descriptors
/// (dj_column_in) are built at insert time.
class Batch {
public:
    Batch() = default;

    /// Add a column. Fixed-width element types: bool (stored as uint8_t), uint8_t (as bool),
    /// int8_t, int16_t, int32_t, int64_t, uint64_t (DJ_KIND_UINT64: any integer attribute, range
    /// checked; the full range for native `bigint unsigned`), float, double, dj::Date,
    /// dj::Datetime, dj::Uuid.
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
    /// Arrays of an `<npy@>` attribute, one per row. Only the descriptions are kept: every
    /// array's buffer is borrowed and must stay valid and unchanged until Table::insert of this
    /// Batch has returned. `valid` marks NULL rows with false (their ArrayIn is ignored).
    Batch& add_arrays(const std::string& name, std::vector<ArrayIn> arrays, const std::vector<bool>& valid = {}) {
        check_rows(name, arrays.size(), valid);
        struct Arrays {
            std::vector<ArrayIn> in;       // owns the shapes
            std::vector<dj_array_in> c;    // points into `in` and the callers' buffers
        };
        auto owner = std::make_shared<Arrays>();
        owner->in = std::move(arrays);
        owner->c.reserve(owner->in.size());
        for (const auto& a : owner->in) owner->c.push_back(a.to_c());
        Col c;
        c.name = name;
        c.kind = DJ_KIND_ARRAY;
        c.fixed_width = true;
        c.data = owner->c.empty() ? nullptr : static_cast<const void*>(owner->c.data());
        c.validity = to_validity(valid);
        const std::size_t n = owner->c.size();
        c.owner = std::shared_ptr<const Arrays>(std::move(owner));
        cols_.push_back(std::move(c));
        nrows_ = n;
        return *this;
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
        std::shared_ptr<const void> owner;  // fixed-width values (a std::vector<T>) or array descriptors
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
    /// uint64_t (native `bigint unsigned`), float, double, dj::Date, dj::Datetime, dj::Uuid.
    /// NULL entries hold a placeholder (0).
    template <class T>
    span<const T> values() const {
        static_assert(kind_of<T>() != 0 && !std::is_same_v<std::remove_cv_t<T>, bool>,
                      "ColumnView::values<T>: T must be uint8_t (bool), int8_t..int64_t, uint64_t, float, double, "
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
    /// The `<blob>` value of row i of a blob column (DJ_KIND_BLOB), borrowed from the Result;
    /// an empty Value (type Null) when it is NULL.
    Value value(std::size_t i) const {
        require_kind(DJ_KIND_BLOB, "blob");
        check_index(i);
        if (is_null(i)) return Value();
        return Value::borrow(static_cast<const dj_value* const*>(v_.data)[i]);
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
        case DJ_KIND_UINT64: return std::to_string(values<uint64_t>()[i]);
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

// ------------------------------------------------------------------------------------ arrays (output)

/// A read-only n-d array produced by the library (from NpyRef::load, map or read_rows). It owns
/// its memory (a memory map, a download or a buffer) and releases it on destruction; it stays
/// valid after the NpyRef, Result, Table and Connection it came from are gone. Move-only.
class ArrayView {
public:
    ArrayView() noexcept { clear(v_); }
    /// Adopt a dj_array_view (its release is then called by this object).
    explicit ArrayView(const dj_array_view& adopt) noexcept : v_(adopt) {}
    ArrayView(const ArrayView&) = delete;
    ArrayView& operator=(const ArrayView&) = delete;
    ArrayView(ArrayView&& o) noexcept : v_(o.v_) { clear(o.v_); }
    ArrayView& operator=(ArrayView&& o) noexcept {
        if (this != &o) {
            reset();
            v_ = o.v_;
            clear(o.v_);
        }
        return *this;
    }
    ~ArrayView() { reset(); }

    /// Release the memory now (the view becomes empty).
    void reset() noexcept {
        if (v_.release != nullptr) v_.release(&v_);
        clear(v_);
    }

    /// First byte of the elements (NULL for an empty or released view).
    const void* data() const noexcept { return v_.data; }
    uint64_t nbytes() const noexcept { return v_.nbytes; }
    Dtype dtype() const noexcept { return static_cast<Dtype>(v_.dtype); }
    /// Bytes per element.
    int64_t itemsize() const noexcept { return v_.itemsize; }
    std::size_t ndim() const noexcept { return static_cast<std::size_t>(v_.ndim); }
    std::vector<int64_t> shape() const { return std::vector<int64_t>(v_.shape, v_.shape + ndim()); }
    /// Byte strides (C or Fortran order layout).
    std::vector<int64_t> strides() const { return std::vector<int64_t>(v_.strides, v_.strides + ndim()); }
    /// Number of elements (0 for an empty or released view).
    uint64_t size() const noexcept {
        if (v_.release == nullptr) return 0;
        uint64_t n = 1;
        for (std::size_t i = 0; i < ndim(); ++i) n *= static_cast<uint64_t>(v_.shape[i]);
        return n;
    }
    /// DJ_VIEW_* bits.
    uint32_t flags() const noexcept { return v_.flags; }
    /// The data is a memory map of a file (no copy was made).
    bool is_mapped() const noexcept { return (v_.flags & DJ_VIEW_MAPPED) != 0; }
    /// Row-major layout (0-d and 1-d arrays are both C and F ordered).
    bool is_c_order() const noexcept { return (v_.flags & DJ_VIEW_C_ORDER) != 0; }
    /// Column-major layout.
    bool is_f_order() const noexcept { return (v_.flags & DJ_VIEW_F_ORDER) != 0; }
    bool is_readonly() const noexcept { return (v_.flags & DJ_VIEW_READONLY) != 0; }
    explicit operator bool() const noexcept { return v_.release != nullptr; }

    /// The raw bytes (any dtype; for float16, S<n> and U<n> this is the way in).
    span<const uint8_t> bytes() const noexcept {
        return span<const uint8_t>(static_cast<const uint8_t*>(v_.data), static_cast<std::size_t>(v_.nbytes));
    }
    /// The elements in memory order (see is_c_order / is_f_order). T must match dtype():
    /// dj::TypeError otherwise.
    template <class T>
    span<const T> values() const {
        check_element<T>();
        return span<const T>(static_cast<const T*>(v_.data), static_cast<std::size_t>(v_.nbytes / sizeof(T)));
    }

#if defined(__cpp_lib_mdspan) && __cpp_lib_mdspan >= 202207L
    /// The array as a std::mdspan of rank `Rank`. Layout std::layout_right needs C order and
    /// std::layout_left F order (dj::TypeError otherwise); std::layout_stride takes either.
    template <class T, std::size_t Rank, class Layout = std::layout_right>
    std::mdspan<const T, std::dextents<std::size_t, Rank>, Layout> mdspan() const {
        using Ext = std::dextents<std::size_t, Rank>;
        check_element<T>();
        if (ndim() != Rank)
            throw TypeError(DJ_E_TYPE, "dj::ArrayView::mdspan: the array has " + std::to_string(ndim()) +
                                           " dimensions, not " + std::to_string(Rank));
        std::array<std::size_t, Rank> ext{};
        for (std::size_t i = 0; i < Rank; ++i) ext[i] = static_cast<std::size_t>(v_.shape[i]);
        const T* p = static_cast<const T*>(v_.data);
        if constexpr (std::is_same_v<Layout, std::layout_right>) {
            if (!is_c_order())
                throw TypeError(DJ_E_TYPE, "dj::ArrayView::mdspan: the array is in F order: use std::layout_left");
            return std::mdspan<const T, Ext, Layout>(p, Ext(ext));
        } else if constexpr (std::is_same_v<Layout, std::layout_left>) {
            if (!is_f_order())
                throw TypeError(DJ_E_TYPE, "dj::ArrayView::mdspan: the array is in C order: use std::layout_right");
            return std::mdspan<const T, Ext, Layout>(p, Ext(ext));
        } else if constexpr (std::is_same_v<Layout, std::layout_stride>) {
            std::array<std::size_t, Rank> st{};
            for (std::size_t i = 0; i < Rank; ++i) st[i] = static_cast<std::size_t>(v_.strides[i]) / sizeof(T);
            return std::mdspan<const T, Ext, Layout>(p, typename Layout::template mapping<Ext>(Ext(ext), st));
        } else {
            static_assert(detail::dependent_false<Layout>,
                          "dj::ArrayView::mdspan: Layout must be std::layout_right, layout_left or layout_stride");
        }
    }
    /// Call `f` with the array as a std::mdspan: layout_right for C order, layout_left for F order.
    template <class T, std::size_t Rank, class F>
    decltype(auto) visit_mdspan(F&& f) const {
        if (is_c_order()) return std::forward<F>(f)(mdspan<T, Rank, std::layout_right>());
        return std::forward<F>(f)(mdspan<T, Rank, std::layout_left>());
    }
#endif

    const dj_array_view& raw() const noexcept { return v_; }
    /// Give up ownership: the caller must release the returned view.
    dj_array_view release() noexcept {
        dj_array_view out = v_;
        clear(v_);
        return out;
    }

private:
    static void clear(dj_array_view& v) noexcept { std::memset(&v, 0, sizeof v); }

    template <class T>
    void check_element() const {
        static_assert(has_dtype_v<T>,
                      "dj::ArrayView: T must be bool, an integer type, float, double, std::complex<float> or "
                      "std::complex<double> (use bytes() for float16, S<n> and U<n>)");
        if (v_.release == nullptr) throw InvalidHandle(DJ_E_INVALID_HANDLE, "dj::ArrayView is empty");
        if (dtype() != dtype_of<T>())
            throw TypeError(DJ_E_TYPE, std::string("dj::ArrayView holds ") + dtype_name(dtype()) + ", not " +
                                           dtype_name(dtype_of<T>()));
    }

    dj_array_view v_;
};

/// Lazy reference to the `<npy@>` value of one result cell. Its metadata (dtype, shape, path)
/// needs no I/O; load, map and read_rows read the data. It stays usable after its Result,
/// Table and Connection are gone. Move-only.
class NpyRef {
public:
    explicit NpyRef(dj_npyref* adopt) noexcept : h_(adopt) {}
    NpyRef(const NpyRef&) = delete;
    NpyRef& operator=(const NpyRef&) = delete;
    NpyRef(NpyRef&&) noexcept = default;
    NpyRef& operator=(NpyRef&&) noexcept = default;
    ~NpyRef() = default;

    Dtype dtype() const {
        int32_t d = 0;
        check(dj_npyref_dtype(h_.get(), &d, nullptr));
        return static_cast<Dtype>(d);
    }
    /// Bytes per element.
    int64_t itemsize() const {
        int32_t d = 0;
        int64_t n = 0;
        check(dj_npyref_dtype(h_.get(), &d, &n));
        return n;
    }
    /// numpy's name of the dtype: "float64", "|S5", "<U3", ….
    std::string dtype_name() const { return detail::borrowed_string(dj_npyref_dtype_name(h_.get())); }
    std::vector<int64_t> shape() const {
        int32_t ndim = 0;
        const int64_t* shape = nullptr;
        check(dj_npyref_shape(h_.get(), &ndim, &shape));
        return shape ? std::vector<int64_t>(shape, shape + ndim) : std::vector<int64_t>();
    }
    std::size_t ndim() const {
        int32_t ndim = 0;
        check(dj_npyref_shape(h_.get(), &ndim, nullptr));
        return static_cast<std::size_t>(ndim);
    }
    /// Number of elements.
    uint64_t size() const {
        uint64_t n = 0;
        check(dj_npyref_size(h_.get(), &n, nullptr));
        return n;
    }
    /// Number of data bytes.
    uint64_t nbytes() const {
        uint64_t n = 0, b = 0;
        check(dj_npyref_size(h_.get(), &n, &b));
        return b;
    }
    /// The object's path relative to its store.
    std::string path() const { return detail::borrowed_string(dj_npyref_path(h_.get())); }
    /// The store's name.
    std::string store() const { return detail::borrowed_string(dj_npyref_store(h_.get())); }
    /// Whether load() has already read the data (later loads need no I/O).
    bool is_loaded() const {
        int32_t loaded = 0;
        check(dj_npyref_is_loaded(h_.get(), &loaded));
        return loaded != 0;
    }

    /// Read the whole array into memory (kept on the ref: a second load does no I/O).
    ArrayView load() const { return view_with([&](dj_array_view* v) { return dj_npyref_load(h_.get(), v); }); }
    /// Zero-copy read-only memory map: the file itself for local stores; remote objects are
    /// downloaded once into the cache and the cached file is mapped. Big-endian or misaligned
    /// files are loaded instead (is_mapped() is then false).
    ArrayView map() const { return view_with([&](dj_array_view* v) { return dj_npyref_map(h_.get(), v); }); }
    /// Rows [start, stop) along the first axis of a C-order array, read with ranged requests.
    ArrayView read_rows(uint64_t start, uint64_t stop) const {
        return view_with([&](dj_array_view* v) { return dj_npyref_read_rows(h_.get(), start, stop, v); });
    }

    dj_npyref* get() const noexcept { return h_.get(); }
    dj_npyref* release() noexcept { return h_.release(); }
    explicit operator bool() const noexcept { return static_cast<bool>(h_); }

private:
    template <class F>
    static ArrayView view_with(F&& f) {
        dj_array_view v;
        std::memset(&v, 0, sizeof v);
        check(f(&v));
        return ArrayView(v);
    }

    detail::handle_ptr<dj_npyref, dj_npyref_free> h_;
};

// ------------------------------------------------------------------------------------ objects

/// Size, folder flag and file count of an `<object@>` / `<filepath@>` value (no I/O).
struct ObjectInfo {
    int64_t size = -1;        ///< total bytes (-1: unknown, a `<filepath@>` folder)
    bool is_dir = false;
    int64_t item_count = -1;  ///< files of a folder (-1: not recorded)
};

/// Sequential reader of one stored file (ranged reads of 8 MiB for cloud stores). Move-only.
class Reader {
public:
    explicit Reader(dj_reader* adopt) noexcept : h_(adopt) {}
    Reader(Reader&&) noexcept = default;
    Reader& operator=(Reader&&) noexcept = default;
    /// Read up to `len` bytes into `buf`; 0 at the end.
    std::size_t read(void* buf, std::size_t len) {
        std::size_t n = 0;
        check(dj_reader_read(h_.get(), buf, len, &n));
        return n;
    }
    /// The rest of the file.
    std::vector<uint8_t> read_all() {
        std::vector<uint8_t> out;
        std::vector<uint8_t> buf(1 << 20);
        for (std::size_t n; (n = read(buf.data(), buf.size())) > 0;) out.insert(out.end(), buf.begin(), buf.begin() + n);
        return out;
    }
    uint64_t size() const noexcept { return dj_reader_size(h_.get()); }
    dj_reader* get() const noexcept { return h_.get(); }

private:
    detail::handle_ptr<dj_reader, dj_reader_free> h_;
};

/// Lazy reference to a stored file or folder (`<object@>`, `<filepath@>`): metadata without
/// I/O; listing, reads and downloads on demand. Outlives the Result it came from. Move-only.
class ObjectRef {
public:
    explicit ObjectRef(dj_objectref* adopt) noexcept : h_(adopt) {}
    ObjectRef(ObjectRef&&) noexcept = default;
    ObjectRef& operator=(ObjectRef&&) noexcept = default;

    std::string path() const { return detail::borrowed_string(dj_objectref_path(h_.get())); }
    std::string store() const { return detail::borrowed_string(dj_objectref_store(h_.get())); }
    /// Extension recorded at insert (".dat"), empty if none.
    std::string ext() const { return detail::borrowed_string(dj_objectref_ext(h_.get())); }
    /// ISO-8601 UTC time of the write, empty if not recorded.
    std::string timestamp() const { return detail::borrowed_string(dj_objectref_timestamp(h_.get())); }
    ObjectInfo info() const {
        dj_object_info i{};
        check(dj_objectref_info(h_.get(), &i));
        return ObjectInfo{i.size, i.is_dir != 0, i.item_count};
    }
    int64_t size() const { return info().size; }
    bool is_dir() const { return info().is_dir; }
    /// Files of a folder as (relative path, size), sorted; a file gives one entry ("", size).
    std::vector<std::pair<std::string, uint64_t>> files() const {
        dj_filelist* l = nullptr;
        check(dj_objectref_files(h_.get(), &l));
        detail::handle_ptr<dj_filelist, dj_filelist_free> owned(l);
        std::vector<std::pair<std::string, uint64_t>> out;
        for (std::size_t i = 0, n = dj_filelist_len(l); i < n; ++i)
            out.emplace_back(detail::borrowed_string(dj_filelist_name(l, i)), dj_filelist_size(l, i));
        return out;
    }
    bool exists(const std::string& subpath = "") const {
        uint8_t e = 0;
        check(dj_objectref_exists(h_.get(), subpath.c_str(), &e));
        return e != 0;
    }
    /// Up to `len` bytes at `offset` of the file (or of `subpath` in a folder): one ranged read.
    std::vector<uint8_t> read(const std::string& subpath = "", uint64_t offset = 0, std::size_t len = SIZE_MAX) const {
        if (len == SIZE_MAX) return open(subpath, offset).read_all();
        std::vector<uint8_t> out(len);
        std::size_t n = 0;
        check(dj_objectref_read(h_.get(), subpath.c_str(), offset, out.data(), len, &n));
        out.resize(n);
        return out;
    }
    Reader open(const std::string& subpath = "", uint64_t offset = 0) const {
        dj_reader* r = nullptr;
        check(dj_objectref_open(h_.get(), subpath.c_str(), offset, &r));
        return Reader(r);
    }
    /// Copy the file, or the folder with its files, to the local path `dest`; returns bytes.
    uint64_t download(const std::string& dest) const {
        uint64_t n = 0;
        check(dj_objectref_download(h_.get(), dest.c_str(), &n));
        return n;
    }
    /// For a local (`file`) store: the object's own path on disk; empty for other stores.
    std::string local_path() const {
        const char* p = nullptr;
        check(dj_objectref_local_path(h_.get(), &p));
        return p ? p : "";
    }
    dj_objectref* get() const noexcept { return h_.get(); }

private:
    detail::handle_ptr<dj_objectref, dj_objectref_free> h_;
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
    /// Lazy reference to the `<npy@>` value in column `col`, row `row` (no I/O). dj::NotFound
    /// if the value is NULL, dj::TypeError if the column is not `<npy@>`.
    NpyRef npyref(std::size_t col, std::size_t row) const {
        dj_npyref* r = nullptr;
        check(dj_result_npyref(h_.get(), col, row, &r));
        return NpyRef(r);
    }
    NpyRef npyref(const std::string& col_name, std::size_t row) const { return npyref(index_of(col_name), row); }

    /// The `<blob>` value in column `col`, row `row`, borrowed from this Result (valid until it
    /// is destroyed; clone() it to keep it longer). An empty Value (type Null) when the value
    /// is SQL NULL; dj::TypeError if the column is not `<blob>`.
    Value value(std::size_t col, std::size_t row) const {
        const dj_value* v = nullptr;
        const dj_status s = dj_result_value(h_.get(), col, row, &v);
        if (s == DJ_E_NOT_FOUND) return Value();
        check(s);
        return Value::borrow(v);
    }
    Value value(const std::string& col_name, std::size_t row) const { return value(index_of(col_name), row); }

    /// Lazy reference to the `<object@>` / `<filepath@>` value in column `col`, row `row` (no
    /// I/O). dj::NotFound if NULL, dj::TypeError for another column type.
    ObjectRef object_ref(std::size_t col, std::size_t row) const {
        dj_objectref* r = nullptr;
        check(dj_result_objectref(h_.get(), col, row, &r));
        return ObjectRef(r);
    }
    ObjectRef object_ref(const std::string& col_name, std::size_t row) const { return object_ref(index_of(col_name), row); }

    std::vector<std::string> column_names() const {
        std::vector<std::string> out;
        for (std::size_t i = 0, n = ncols(); i < n; ++i) out.emplace_back(column(i).name());
        return out;
    }

    /// The result through the Arrow C Data Interface (a struct array, one child per column),
    /// sharing this result's buffers; hand both to Arrow (`arrow::ImportRecordBatch`), Polars or
    /// nanoarrow, which call their `release` when done (valid even after this Result is gone).
    void export_arrow(ArrowSchema* out_schema, ArrowArray* out_array) const {
        check(dj_result_export_arrow(h_.get(), out_schema, out_array));
    }

    dj_result* get() const noexcept { return h_.get(); }
    dj_result* release() noexcept { return h_.release(); }
    explicit operator bool() const noexcept { return static_cast<bool>(h_); }

private:
    detail::handle_ptr<dj_result, dj_result_free> h_;
};

// ------------------------------------------------------------------------------------ staged

/// A stream writing one new object of a staged insert. close() finishes it; destroying an
/// unclosed Writer abandons it. Move-only.
class Writer {
public:
    explicit Writer(dj_writer* adopt) noexcept : h_(adopt) {}
    Writer(Writer&&) noexcept = default;
    Writer& operator=(Writer&&) noexcept = default;
    void write(const void* data, std::size_t len) { check(dj_writer_write(h_.get(), data, len)); }
    template <class T>
    void write(const std::vector<T>& v) { write(v.data(), v.size() * sizeof(T)); }
    void write(std::string_view s) { write(s.data(), s.size()); }
    /// Finish the object (completes a multipart upload); returns its size.
    uint64_t close() {
        uint64_t n = 0;
        check(dj_writer_close(h_.get(), &n));
        return n;
    }
    dj_writer* get() const noexcept { return h_.get(); }

private:
    detail::handle_ptr<dj_writer, dj_writer_free> h_;
};

/// A staged insert of one row (Table::staged_insert1): set the primary key, write the
/// `<object@>` fields straight into their store paths, then commit(). The destructor aborts
/// (removing everything written) unless commit() succeeded; it never throws. Move-only.
///
///     auto st = rec.staged_insert1();
///     st.set(dj::Row().set("rec_id", 1));
///     auto w = st.open("data", ".raw");
///     for (auto& frame : frames) w.write(frame);
///     w.close();
///     st.commit();
class StagedInsert {
public:
    explicit StagedInsert(dj_staged* adopt) : h_(adopt), progress_(std::make_unique<Progress>()) {}
    StagedInsert(StagedInsert&&) noexcept = default;
    StagedInsert& operator=(StagedInsert&&) noexcept = default;
    ~StagedInsert() = default;  // dj_staged_free aborts an unfinished insert

    /// Set attributes of the row (the primary key before any field is written).
    StagedInsert& set(const Row& values) {
        check(dj_staged_set(h_.get(), values.get()));
        return *this;
    }
    /// The field as one file `{field}_{token}{ext}`.
    Writer open(const std::string& field, const std::string& ext = "") {
        dj_writer* w = nullptr;
        check(dj_staged_open(h_.get(), field.c_str(), ext.c_str(), &w));
        return Writer(w);
    }
    /// The file `key` (relative path) of the field's folder, as a stream.
    Writer open_key(const std::string& field, const std::string& key) {
        dj_writer* w = nullptr;
        check(dj_staged_open_key(h_.get(), field.c_str(), key.c_str(), &w));
        return Writer(w);
    }
    /// Write the file `key` of the field's folder in one piece (a Zarr chunk, say).
    void put(const std::string& field, const std::string& key, const void* data, std::size_t len) {
        check(dj_staged_put(h_.get(), field.c_str(), key.c_str(), data, len));
    }
    void put(const std::string& field, const std::string& key, std::string_view data) {
        put(field, key, data.data(), data.size());
    }
    /// Local (`file`) stores: the field's folder on disk, for libraries that write files
    /// themselves (HDF5, Zarr, TIFF). dj::Unsupported for other stores.
    std::string local_dir(const std::string& field) {
        const char* p = nullptr;
        check(dj_staged_local_dir(h_.get(), field.c_str(), &p));
        return p ? p : "";
    }
    /// Called with the total bytes written so far (on the writing thread). An exception it
    /// throws is rethrown by the next write's caller at commit().
    void on_progress(std::function<void(uint64_t)> f) {
        progress_->f = std::move(f);
        check(dj_staged_set_progress(h_.get(), progress_->f ? &Progress::call : nullptr, progress_.get()));
    }
    uint64_t bytes_written() const noexcept { return dj_staged_bytes_written(h_.get()); }
    /// Measure the fields and insert the row; on failure everything written is removed.
    void commit() {
        if (progress_->error) {
            abort();
            std::rethrow_exception(progress_->error);
        }
        check(dj_staged_commit(h_.get()));
    }
    /// Remove everything written.
    void abort() { check(dj_staged_abort(h_.get())); }
    dj_staged* get() const noexcept { return h_.get(); }

private:
    struct Progress {
        std::function<void(uint64_t)> f;
        std::exception_ptr error;
        static void call(uint64_t n, void* self) noexcept {
            auto* p = static_cast<Progress*>(self);
            if (p->error) return;
            try {
                p->f(n);
            } catch (...) {
                p->error = std::current_exception();
            }
        }
    };
    detail::handle_ptr<dj_staged, dj_staged_free> h_;
    std::unique_ptr<Progress> progress_;
};

// ------------------------------------------------------------------------------------ Table

// ------------------------------------------------------------------------------------ queries

/// What a delete does about part tables (DataJoint's `part_integrity`).
enum class PartIntegrity : int32_t {
    Enforce = DJ_PART_INTEGRITY_ENFORCE,  ///< part rows only go with their master's rows (default)
    Ignore = DJ_PART_INTEGRITY_IGNORE,    ///< part rows may be deleted on their own
    Cascade = DJ_PART_INTEGRITY_CASCADE,  ///< deleting part rows deletes their master rows and all its parts
};

struct DeleteOptions {
    PartIntegrity part_integrity = PartIntegrity::Enforce;
    bool dry_run = false;  ///< count the rows per table without deleting
};

/// Rows deleted (or, for a dry run, to be deleted) per table; the restricted table first.
struct DeleteReport {
    struct Entry {
        std::string schema, table;
        uint64_t rows = 0;
    };
    std::vector<Entry> tables;
    bool dry_run = false;
    uint64_t root_count() const noexcept { return tables.empty() ? 0 : tables.front().rows; }
    uint64_t total() const noexcept {
        uint64_t n = 0;
        for (const auto& e : tables) n += e.rows;
        return n;
    }
};

/// `Top(limit, order_by, offset)`: the first rows in an order (empty order_by: the primary key).
struct Top {
    int64_t limit = -1;
    std::string order_by;
    uint64_t offset = 0;
};

class Table;

/// A query expression: a table or an operator over query expressions (`a * b`, `a & "x > 1"`,
/// `a - b`, `a + b`, `a.proj(...)`, `a.aggr(b, ...)`, `dj::U{...} & a`). Immutable; copies share
/// the query. Fetch it like a table.
class Query {
public:
    explicit Query(dj_query* adopt) noexcept : h_(adopt) {}
    Query(const Table& t);  // NOLINT(google-explicit-constructor): tables are queries
    Query(const Query& o) : h_(clone(o.h_.get())) {}
    Query& operator=(const Query& o) {
        if (this != &o) h_.reset(clone(o.h_.get()));
        return *this;
    }
    Query(Query&&) noexcept = default;
    Query& operator=(Query&&) noexcept = default;
    ~Query() = default;

    /// Rows matching an SQL condition.
    Query restrict(const std::string& sql_condition) const {
        return make([&](dj_query** out) { return dj_query_restrict_sql(h_.get(), sql_condition.c_str(), out); });
    }
    /// Rows matching a key (names that are not attributes are ignored).
    Query restrict(const Row& key) const { return keys_op({key.get()}, false); }
    /// Rows matching any of the keys; an empty list matches nothing.
    Query restrict(const std::vector<Row>& keys) const { return keys_op(ptrs(keys), false); }
    /// Rows matching some row of `other` on the shared attributes (semijoin).
    Query restrict(const Query& other, bool semantic_check = true) const {
        return make([&](dj_query** out) { return dj_query_restrict_query(h_.get(), other.get(), 0, semantic_check, out); });
    }
    Query restrict(const Top& t) const {
        return make([&](dj_query** out) {
            return dj_query_top(h_.get(), t.limit, detail::c_str_or_null(t.order_by), t.offset, out);
        });
    }
    Query exclude(const std::string& sql_condition) const {
        return make([&](dj_query** out) { return dj_query_exclude_sql(h_.get(), sql_condition.c_str(), out); });
    }
    Query exclude(const Row& key) const { return keys_op({key.get()}, true); }
    Query exclude(const std::vector<Row>& keys) const { return keys_op(ptrs(keys), true); }
    /// Rows matching no row of `other` (antijoin).
    Query exclude(const Query& other, bool semantic_check = true) const {
        return make([&](dj_query** out) { return dj_query_restrict_query(h_.get(), other.get(), 1, semantic_check, out); });
    }
    /// The join on the shared attributes; `left` keeps every row of this query.
    Query join(const Query& other, bool semantic_check = true, bool left = false) const {
        return make([&](dj_query** out) { return dj_query_join(h_.get(), other.get(), semantic_check, left, out); });
    }
    /// "a" keeps a secondary attribute, "..." all, "-a" drops one, "new=old" renames,
    /// "new=(old)" copies, "new=<SQL>" computes; the primary key is always kept.
    Query proj(const std::vector<std::string>& items = {}) const {
        std::vector<const char*> c = cstrs(items);
        return make([&](dj_query** out) { return dj_query_proj(h_.get(), c.data(), c.size(), out); });
    }
    /// One row per row of this query (`exclude_nonmatching`: per row with a match); the
    /// computations ("n=count(*)") aggregate over the matching rows of `group`.
    Query aggr(const Query& group, const std::vector<std::string>& items, bool exclude_nonmatching = false) const {
        std::vector<const char*> c = cstrs(items);
        return make([&](dj_query** out) {
            return dj_query_aggr(h_.get(), group.get(), c.data(), c.size(), exclude_nonmatching, out);
        });
    }
    /// The union of two queries with the same primary key.
    Query unite(const Query& other) const {
        return make([&](dj_query** out) { return dj_query_union(h_.get(), other.get(), out); });
    }
    Query top(int64_t limit, const std::string& order_by = {}, uint64_t offset = 0) const {
        return restrict(Top{limit, order_by, offset});
    }

    Result fetch(const FetchOptions& opts = {}) const {
        detail::CFetchOpts o(opts);
        return fetch_with(dj_query_fetch, &o.opts);
    }
    Result fetch(const FetchOptions& opts, const CodecOptions& codecs) const {
        detail::CFetchOpts o(opts, codecs);
        return fetch_with(dj_query_fetch, &o.opts);
    }
    Result fetch1(const FetchOptions& opts = {}) const {
        detail::CFetchOpts o(opts);
        return fetch_with(dj_query_fetch1, &o.opts);
    }
    Result keys(const FetchOptions& opts = {}) const {
        detail::CFetchOpts o(opts);
        return fetch_with(dj_query_keys, &o.opts);
    }
    uint64_t count() const {
        uint64_t n = 0;
        check(dj_query_count(h_.get(), &n));
        return n;
    }
    /// Is a row matching `key` in the query?
    bool contains(const Row& key) const {
        int32_t found = 0;
        check(dj_query_contains(h_.get(), key.get(), &found));
        return found != 0;
    }
    /// The SQL a fetch runs (parameters as placeholders), for debugging.
    std::string sql() const {
        const char* s = dj_query_sql(h_.get());
        if (!s) check(dj_last_error_code());
        return s ? s : "";
    }
    std::vector<Attribute> attributes() const;
    std::vector<std::string> primary_key() const {
        std::vector<std::string> out;
        for (const auto& a : attributes())
            if (a.in_key) out.push_back(a.name);
        return out;
    }

    dj_query* get() const noexcept { return h_.get(); }
    dj_query* release() noexcept { return h_.release(); }
    explicit operator bool() const noexcept { return static_cast<bool>(h_); }

private:
    static dj_query* clone(dj_query* q) {
        if (!q) return nullptr;
        dj_query* out = nullptr;
        check(dj_query_clone(q, &out));
        return out;
    }
    template <class F>
    static Query make(F&& f) {
        dj_query* q = nullptr;
        check(f(&q));
        return Query(q);
    }
    static std::vector<const dj_row*> ptrs(const std::vector<Row>& rows) {
        std::vector<const dj_row*> p;
        p.reserve(rows.size());
        for (const auto& r : rows) p.push_back(r.get());
        return p;
    }
    static std::vector<const char*> cstrs(const std::vector<std::string>& v) {
        std::vector<const char*> c;
        c.reserve(v.size());
        for (const auto& s : v) c.push_back(s.c_str());
        return c;
    }
    Query keys_op(std::vector<const dj_row*> keys, bool negate) const {
        return make([&](dj_query** out) { return dj_query_restrict_keys(h_.get(), keys.data(), keys.size(), negate, out); });
    }
    Result fetch_with(dj_status (*fn)(const dj_query*, const dj_fetch_opts*, dj_result**), const dj_fetch_opts* o) const {
        dj_result* r = nullptr;
        check(fn(h_.get(), o, &r));
        return Result(r);
    }

    detail::handle_ptr<dj_query, dj_query_free> h_;
};

inline Query operator*(const Query& a, const Query& b) { return a.join(b); }
inline Query operator+(const Query& a, const Query& b) { return a.unite(b); }
inline Query operator&(const Query& a, const std::string& sql) { return a.restrict(sql); }
inline Query operator&(const Query& a, const char* sql) { return a.restrict(std::string(sql)); }
inline Query operator&(const Query& a, const Row& key) { return a.restrict(key); }
inline Query operator&(const Query& a, const std::vector<Row>& keys) { return a.restrict(keys); }
inline Query operator&(const Query& a, const Query& b) { return a.restrict(b); }
inline Query operator&(const Query& a, const Top& t) { return a.restrict(t); }
inline Query operator-(const Query& a, const std::string& sql) { return a.exclude(sql); }
inline Query operator-(const Query& a, const char* sql) { return a.exclude(std::string(sql)); }
inline Query operator-(const Query& a, const Row& key) { return a.exclude(key); }
inline Query operator-(const Query& a, const std::vector<Row>& keys) { return a.exclude(keys); }
inline Query operator-(const Query& a, const Query& b) { return a.exclude(b); }

/// The universal set: `dj::U{"a", "b"} & q` gives the distinct values of a and b in q (as the
/// primary key); `dj::U{"a"}.aggr(q, {"n=count(*)"})` aggregates per distinct value.
class U {
public:
    U(std::initializer_list<std::string> attrs) : attrs_(attrs) {}
    explicit U(std::vector<std::string> attrs) : attrs_(std::move(attrs)) {}
    Query restrict(const Query& q) const {
        std::vector<const char*> c = names();
        dj_query* out = nullptr;
        check(dj_query_universal(c.data(), c.size(), q.get(), &out));
        return Query(out);
    }
    Query aggr(const Query& group, const std::vector<std::string>& items) const {
        std::vector<const char*> c = names();
        std::vector<const char*> it;
        for (const auto& s : items) it.push_back(s.c_str());
        dj_query* out = nullptr;
        check(dj_query_universal_aggr(c.data(), c.size(), group.get(), it.data(), it.size(), &out));
        return Query(out);
    }

private:
    std::vector<const char*> names() const {
        std::vector<const char*> c;
        for (const auto& s : attrs_) c.push_back(s.c_str());
        return c;
    }
    std::vector<std::string> attrs_;
};
inline Query operator&(const U& u, const Query& q) { return u.restrict(q); }

/// A table, possibly restricted. Restrictions return new Table objects. Move-only.
// ------------------------------------------------------------------------------------ populate

/// The key of one make call: as a Row (to restrict other tables with) and as a one-row Result
/// (to read its values).
struct Key {
    Row row;
    Result values;
    /// The key's value of attribute `name`, read as T (the column's C type, e.g. int32_t for
    /// an int32 attribute; std::string for text).
    template <class T>
    T get(const std::string& name) const {
        ColumnView c = values.column(name);
        if constexpr (std::is_same_v<T, std::string>) {
            return std::string(c.str(0));
        } else {
            return c.values<T>()[0];
        }
    }
};

/// The order in which populate makes its keys.
enum class PopulateOrder : int32_t {
    Original = DJ_ORDER_ORIGINAL,  ///< key-source order (jobs: priority, then scheduled time)
    Reverse = DJ_ORDER_REVERSE,
    Random = DJ_ORDER_RANDOM,      ///< jobs: shuffled within each priority
};

/// Where a populate is, after each key.
using PopulateProgress = dj_populate_progress;

struct PopulateOptions {
    std::vector<std::string> restrictions;  ///< SQL conditions on the key source (AND)
    std::vector<Query> restrict_queries;    ///< keys matching a row of each query
    std::optional<std::vector<Row>> keys;   ///< only these keys (any of them)
    bool reserve_jobs = false;              ///< reserve each key in the jobs table (many workers)
    bool suppress_errors = false;           ///< record a failing make and go on
    int64_t max_calls = -1;                 ///< -1: no limit
    PopulateOrder order = PopulateOrder::Original;
    int64_t priority = -1;                  ///< jobs: only this urgent or more; -1: all
    std::optional<bool> refresh;            ///< jobs: refresh first (default: jobs.auto_refresh)
    std::function<void(const PopulateProgress&)> progress;  ///< after each key
};

/// What a populate did.
struct PopulateReport {
    uint64_t success_count = 0;
    uint64_t skipped = 0;  ///< reserved by another worker, or already made
    /// failed keys (with suppress_errors) and their messages
    std::vector<std::pair<Key, std::string>> errors;
};

/// Options of Table::refresh_jobs (the reference's defaults).
struct RefreshOptions {
    std::vector<std::string> restrictions;  ///< for the new jobs (AND)
    double delay = 0;                       ///< seconds until the new jobs are due
    int64_t priority = -1;                  ///< -1: jobs.default_priority (5)
    double stale_timeout = -1;              ///< -1: jobs.stale_timeout (3600); 0: never
    double orphan_timeout = 0;              ///< reserved longer than this: pending again; 0: never
};
using RefreshReport = dj_refresh_report;
using JobCounts = dj_job_counts;

namespace detail {
/// dj_populate_opts plus the storage its pointers refer to.
struct CPopulateOpts {
    dj_populate_opts opts;
    std::vector<const char*> sql;
    std::vector<const dj_query*> queries;
    std::vector<const dj_row*> keys;
    const std::function<void(const PopulateProgress&)>* progress = nullptr;

    explicit CPopulateOpts(const PopulateOptions& o) {
        check(dj_populate_opts_init(&opts));
        for (const auto& r : o.restrictions) sql.push_back(r.c_str());
        for (const auto& q : o.restrict_queries) queries.push_back(q.get());
        opts.restrictions = sql.data();
        opts.n_restrictions = sql.size();
        opts.restrict_queries = queries.data();
        opts.n_restrict_queries = queries.size();
        if (o.keys) {
            for (const auto& k : *o.keys) keys.push_back(k.get());
            static const dj_row* const none = nullptr;
            opts.keys = keys.empty() ? &none : keys.data();
            opts.n_keys = keys.size();
        }
        opts.reserve_jobs = o.reserve_jobs ? 1 : 0;
        opts.suppress_errors = o.suppress_errors ? 1 : 0;
        opts.max_calls = o.max_calls;
        opts.order = static_cast<int32_t>(o.order);
        opts.priority = o.priority;
        opts.refresh = o.refresh ? (*o.refresh ? 1 : 0) : -1;
        if (o.progress) {
            progress = &o.progress;
            opts.progress = &CPopulateOpts::on_progress;
            opts.progress_user_data = this;
        }
    }
    static void on_progress(const dj_populate_progress* p, void* self) noexcept {
        try {
            (*static_cast<CPopulateOpts*>(self)->progress)(*p);
        } catch (...) {
            // a throwing progress callback cannot stop the populate; its error is dropped
        }
    }
};

/// "Type: message" for the jobs table, like the reference's "ExceptionClass: message".
inline std::string describe_exception(const std::exception& e) {
    if (auto* de = dynamic_cast<const Error*>(&e)) return std::string(de->code_name()) + ": " + de->what();
    return std::string("std::exception: ") + e.what();
}
}  // namespace detail

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
    std::vector<Attribute> attributes() const { return detail::attributes_of(h_.get(), dj_table_attr_count, dj_table_attr); }

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
    /// Rows matching some row of a query on the shared attributes (delete from this to
    /// delete those rows).
    Table restrict(const Query& q) const {
        return make([&](dj_table** out) { return dj_table_restrict_query(h_.get(), q.get(), out); });
    }
    /// Rows matching no row of a query.
    Table exclude(const Query& q) const {
        return make([&](dj_table** out) { return dj_table_exclude_query(h_.get(), q.get(), out); });
    }
    /// The table as a query (with its restrictions).
    Query query() const {
        dj_query* q = nullptr;
        check(dj_table_query(h_.get(), &q));
        return Query(q);
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
    /// Fetch with codec options (raw metadata, attachment info, download folder).
    Result fetch(const FetchOptions& opts, const CodecOptions& codecs) const {
        detail::CFetchOpts o(opts, codecs);
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
    /// Delete the matching rows and, down the foreign keys, every row that depends on them (one
    /// transaction), then their objects; returns the rows deleted from this table.
    /// dj::Integrity when part rows would go without their master's.
    uint64_t del() const {
        uint64_t n = 0;
        check(dj_table_delete(h_.get(), &n));
        return n;
    }
    /// Cascading delete with options; the rows per table (a dry run only counts them).
    DeleteReport del(const DeleteOptions& opts) const {
        dj_delete_opts o;
        check(dj_delete_opts_init(&o));
        o.part_integrity = static_cast<int32_t>(opts.part_integrity);
        o.dry_run = opts.dry_run ? 1 : 0;
        dj_delete_report* r = nullptr;
        check(dj_table_delete_cascade(h_.get(), &o, &r));
        detail::handle_ptr<dj_delete_report, dj_delete_report_free> owned(r);
        DeleteReport out;
        out.dry_run = dj_delete_report_dry_run(r) != 0;
        for (std::size_t i = 0, n = dj_delete_report_len(r); i < n; ++i) {
            const char* s = nullptr;
            const char* t = nullptr;
            uint64_t rows = 0;
            check(dj_delete_report_table(r, i, &s, &t, &rows));
            out.tables.push_back({s, t, rows});
        }
        return out;
    }
    /// Update one existing row by its full primary key; a dj::null value resets an attribute
    /// to its default. dj::NotFound if no row has the key.
    void update1(const Row& row) const { check(dj_table_update1(h_.get(), row.get())); }
    /// Begin a staged insert of one row (see dj::StagedInsert).
    StagedInsert staged_insert1() const {
        dj_staged* st = nullptr;
        check(dj_staged_begin(h_.get(), &st));
        return StagedInsert(st);
    }

    /// Populate this Computed/Imported table: call `make(table, key)` for each key of its key
    /// source not yet in the table, each in a transaction (an exception rolls back its rows
    /// and objects; the message is recorded in the jobs table). `make` is any callable
    /// taking (dj::Table&, const dj::Key&). With opts.reserve_jobs, many processes (ours or
    /// DataJoint Python's) can populate the same table at once. dj::MakeFailed if a make
    /// fails (unless suppress_errors).
    template <class F>
    PopulateReport populate(F&& make, const PopulateOptions& opts = {}) const {
        using Fn = std::remove_reference_t<F>;
        struct Call {
            Fn* make;
            static int32_t run(void* self, const dj_table* t, const dj_result* k, dj_make_ctx* ctx) noexcept {
                try {
                    dj_table* tc = nullptr;
                    check(dj_table_clone(t, &tc));
                    Table table(tc);
                    dj_row* rc = nullptr;
                    check(dj_row_clone(dj_make_key_row(ctx), &rc));
                    dj_result* kc = nullptr;
                    check(dj_result_clone(k, &kc));
                    Key key{Row(rc), Result(kc)};
                    (*static_cast<Call*>(self)->make)(table, static_cast<const Key&>(key));
                    return 0;
                } catch (const std::exception& e) {
                    dj_make_fail(ctx, detail::describe_exception(e).c_str(), nullptr);
                } catch (...) {
                    dj_make_fail(ctx, "unknown C++ exception", nullptr);
                }
                return 1;
            }
        } call{&make};
        detail::CPopulateOpts c(opts);
        dj_populate_report* r = nullptr;
        check(dj_table_populate(h_.get(), &Call::run, &call, &c.opts, &r));
        detail::handle_ptr<dj_populate_report, dj_populate_report_free> owned(r);
        PopulateReport out;
        out.success_count = dj_populate_report_success_count(r);
        out.skipped = dj_populate_report_skipped(r);
        for (std::size_t i = 0, n = dj_populate_report_error_count(r); i < n; ++i) {
            const char* m = nullptr;
            dj_row* row = nullptr;
            dj_result* key = nullptr;
            check(dj_populate_report_error(r, i, &m, &row, &key));
            out.errors.emplace_back(Key{Row(row), Result(key)}, m ? m : "");
        }
        return out;
    }
    /// (remaining, total): keys of the key source (restricted) not yet made, and all.
    std::pair<uint64_t, uint64_t> progress(const PopulateOptions& restrictions = {}) const {
        detail::CPopulateOpts c(restrictions);
        uint64_t remaining = 0, total = 0;
        check(dj_table_progress(h_.get(), &c.opts, &remaining, &total));
        return {remaining, total};
    }
    /// The key source: the join of the tables the primary key references, or the one set
    /// with with_key_source.
    Query key_source() const {
        dj_query* q = nullptr;
        check(dj_table_key_source(h_.get(), &q));
        return Query(q);
    }
    /// This table with another key source (populate, progress and refresh_jobs use it).
    Table with_key_source(const Query& q) const {
        return make([&](dj_table** out) { return dj_table_with_key_source(h_.get(), q.get(), out); });
    }
    /// The jobs table `~~<name>` (declared on first use, as DataJoint Python declares it).
    Table jobs() const {
        return make([&](dj_table** out) { return dj_table_jobs(h_.get(), out); });
    }
    /// Add missing keys to the jobs table, clean up stale jobs and make orphaned reservations
    /// (a killed worker's) pending again.
    RefreshReport refresh_jobs(const RefreshOptions& opts = {}) const {
        dj_refresh_opts o;
        check(dj_refresh_opts_init(&o));
        std::vector<const char*> sql;
        for (const auto& r : opts.restrictions) sql.push_back(r.c_str());
        o.restrictions = sql.data();
        o.n_restrictions = sql.size();
        o.delay = opts.delay;
        o.priority = opts.priority;
        o.stale_timeout = opts.stale_timeout;
        o.orphan_timeout = opts.orphan_timeout;
        RefreshReport out{};
        check(dj_jobs_refresh(h_.get(), &o, &out));
        return out;
    }
    /// Jobs per status.
    JobCounts job_counts() const {
        JobCounts c{};
        check(dj_jobs_progress(h_.get(), &c));
        return c;
    }
    /// Mark a key's job `ignore` (no worker makes it).
    void ignore_job(const Row& key) const { check(dj_jobs_ignore(h_.get(), key.get())); }

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

inline Query::Query(const Table& t) : h_(nullptr) {
    dj_query* q = nullptr;
    check(dj_table_query(t.get(), &q));
    h_.reset(q);
}

inline std::vector<Attribute> Query::attributes() const {
    return detail::attributes_of(h_.get(), dj_query_attr_count, dj_query_attr);
}

// ------------------------------------------------------------------------------------ Schema

/// Options of Schema::gc.
struct GcOptions {
    bool dry_run = false;
    std::string store;            ///< empty: every store the schema uses
    double grace_seconds = 3600;  ///< objects younger than this are kept
};

/// What Schema::gc found and did.
using GcStats = dj_gc_stats;

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

    /// Remove stored objects no row of the schema references (orphans of crashed writers and
    /// failed inserts), never younger than the grace period; a dry run only counts.
    GcStats gc(const GcOptions& o = {}) const {
        dj_gc_opts c;
        check(dj_gc_opts_init(&c));
        c.dry_run = o.dry_run ? 1 : 0;
        c.store = detail::c_str_or_null(o.store);
        c.grace_seconds = o.grace_seconds;
        GcStats st{};
        check(dj_schema_gc(h_.get(), &c, &st));
        return st;
    }

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

/// Object-store traffic since the connection opened (Connection::store_stats).
struct StoreStats {
    uint64_t requests = 0;
    uint64_t bytes_read = 0;
    uint64_t bytes_written = 0;
};

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
    /// R"({"database.backend": "duckdb", "database.path": "lab.duckdb"})". Object stores for
    /// `<npy@store>` attributes are configured the same way, e.g.
    /// R"({"stores": {"default": "main", "main": {"protocol": "file", "location": "/data/store"}}})"
    /// (a file store's folder must exist).
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

    /// Requests, bytes read and bytes written of a store ("" for the default store) since the
    /// connection opened. dj::StoreError if the store is not configured.
    StoreStats store_stats(const std::string& store = "") const {
        StoreStats s;
        check(dj_conn_store_stats(h_.get(), store.c_str(), &s.requests, &s.bytes_read, &s.bytes_written));
        return s;
    }

    dj_conn* get() const noexcept { return h_.get(); }
    dj_conn* release() noexcept { return h_.release(); }
    explicit operator bool() const noexcept { return static_cast<bool>(h_); }

private:
    detail::handle_ptr<dj_conn, dj_conn_free> h_;
};

}  // namespace dj

#endif  // DATAJOINT_HPP
