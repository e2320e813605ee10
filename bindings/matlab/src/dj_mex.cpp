// dj_mex.cpp — the one MEX gateway of the MATLAB binding of libdatajoint (C++17).
//
//   out = dj_mex(command, args...)
//
// The gateway only converts types between mxArray and the C ABI (include/datajoint.h); every
// DataJoint rule (validation, NULL handling, transactions, codecs) lives in the Rust core. The
// +dj package wraps the commands in classdef handle classes; see bindings/matlab/README.md for
// the command list and the value-conversion rules.
//
// Handles: every library handle given to MATLAB is an entry in a registry, keyed by a uint64 id
// (never a pointer). Ids grow monotonically; their high 32 bits are a per-load epoch (the time
// the MEX file was loaded), so an id kept from an earlier load of the MEX file can never alias a
// live handle after `clear mex`. A stale, foreign or wrong-type id is the MATLAB error
// `DataJoint:InvalidHandle`, never a crash. While any handle is live the MEX file is locked
// (mexLock) so `clear functions` cannot strand open databases; `dj_mex('reset')` frees every
// handle and unlocks; mexAtExit frees whatever is left when the MEX file is unloaded.
//
// Errors: library errors become MATLAB errors `DataJoint:<dj_status_name(code)>` with the
// message of dj_last_error_message(). All work happens inside a try block that throws C++
// exceptions; the message is copied into a local buffer, every C++ object is destroyed, and only
// then is mexErrMsgIdAndTxt called (it does not return: MATLAB longjmps / Octave throws).
//
// Portability (MATLAB and GNU Octave): only the C Matrix API present in both is used. Text
// conversion is written for both character widths: Octave's mxChar is an 8-bit char holding
// UTF-8 (copied as is), MATLAB's mxChar is UTF-16 (converted here, because mxArrayToString /
// mxCreateString use the locale's encoding and Octave lacks mxArrayToUTF8String). Complex arrays
// use the separate real/imaginary API by default and the interleaved API when compiled with
// MX_HAS_INTERLEAVED_COMPLEX (MATLAB -R2018a).
#include "mex.h"

#include "datajoint.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#ifndef MX_HAS_INTERLEAVED_COMPLEX
#define MX_HAS_INTERLEAVED_COMPLEX 0
#endif

namespace {

// ============================================================================ errors

struct MexError {
    std::string id;
    std::string msg;
};

[[noreturn]] void fail(const char* name, const std::string& msg) {
    throw MexError{std::string("DataJoint:") + name, msg};
}

/// Throw the library's last error if `s` is not DJ_OK (message copied at once).
void check(dj_status s) {
    if (s == DJ_OK) return;
    const char* m = dj_last_error_message();
    std::string msg = (m != nullptr && *m != '\0') ? std::string(m) : std::string(dj_status_name(s));
    throw MexError{std::string("DataJoint:") + dj_status_name(s), msg};
}

/// Library getters that return borrowed strings return NULL on failure.
std::string borrowed(const char* p) {
    if (p == nullptr) {
        check(dj_last_error_code());
        return std::string();
    }
    return std::string(p);
}

// ============================================================================ registry

enum class HType : int {
    Conn = 1, Schema = 2, Table = 3, NpyRef = 4, ObjectRef = 5, Reader = 6, Staged = 7, Writer = 8, Query = 9
};

const char* htype_name(HType t) {
    switch (t) {
    case HType::Conn: return "Connection";
    case HType::Schema: return "Schema";
    case HType::Table: return "Table";
    case HType::NpyRef: return "NpyRef";
    case HType::ObjectRef: return "ObjectRef";
    case HType::Reader: return "ObjectReader";
    case HType::Staged: return "StagedInsert";
    case HType::Writer: return "ObjectWriter";
    case HType::Query: return "Query";
    }
    return "?";
}

struct Entry {
    HType type;
    void* ptr;
};

std::unordered_map<uint64_t, Entry> g_registry;
uint64_t g_next_id = 0;
bool g_locked = false;
bool g_initialised = false;
bool g_exiting = false;                 // in the mexAtExit function (the interpreter is going away)
int g_callback_depth = 0;               // > 0 while a MATLAB progress callback runs (see progress_cb)
std::vector<uint64_t> g_deferred_free;  // ids freed from inside a callback: freed when it is over

/// The MATLAB progress function of a staged insert, shared by the staged insert and its writers
/// (the library calls back with this as user data from any of them, so it lives as long as the
/// last of them). `fn` is a persistent copy of the function handle (NULL: none). The first
/// error the function raises is kept and reported by the commit.
struct ProgressCtx {
    mxArray* fn = nullptr;
    bool failed = false;
    std::string err_id, err_msg;
    ProgressCtx() = default;
    ProgressCtx(const ProgressCtx&) = delete;
    ProgressCtx& operator=(const ProgressCtx&) = delete;
    ~ProgressCtx() { release(); }
    void release() {
        // Not at exit: destroying the function may delete MATLAB objects it captured, whose
        // delete methods would call back into a MEX file that is being unloaded (a crash in
        // Octave). The process is ending; the memory goes with it.
        if (fn && !g_exiting) mxDestroyArray(fn);
        fn = nullptr;
    }
};

// Keeps the buffers and shapes of arrays lent to the library alive until the insert returns.
// With `copy`, array data is copied into `buffers` too (a staged insert keeps its row's arrays
// past the MEX call, when MATLAB may have freed the originals).
struct Keep {
    std::vector<std::vector<int64_t>> shapes;
    std::vector<std::vector<uint8_t>> buffers;
    bool copy = false;
};

struct AttrMeta {
    std::string name;
    int kind = 0;
    bool npy = false;
    std::string codec;  // "object", "filepath", "blob", … ("" for core and native types)
};

struct Heading {
    std::vector<AttrMeta> attrs;
    std::unordered_map<std::string, size_t> index;
    const AttrMeta* find(const std::string& name) const {
        auto it = index.find(name);
        return it == index.end() ? nullptr : &attrs[it->second];
    }
};

/// A staged insert: the library handle, the table's heading (to convert set() values), array
/// buffers lent to the row (the library keeps pointers to them until the commit), its progress
/// context and whether it is finished (committed or aborted).
struct StagedEntry {
    dj_staged* s = nullptr;
    Heading heading;
    Keep keep;
    std::shared_ptr<ProgressCtx> progress;
    bool finished = false;
    ~StagedEntry() {
        dj_staged_free(s);  // aborts an unfinished insert; before `keep` goes
    }
};

struct WriterEntry {
    dj_writer* w = nullptr;
    std::shared_ptr<ProgressCtx> progress;
    ~WriterEntry() { dj_writer_free(w); }
};

void free_entry(const Entry& e) noexcept {
    switch (e.type) {
    case HType::Conn: dj_conn_free(static_cast<dj_conn*>(e.ptr)); break;
    case HType::Schema: dj_schema_free(static_cast<dj_schema*>(e.ptr)); break;
    case HType::Table: dj_table_free(static_cast<dj_table*>(e.ptr)); break;
    case HType::NpyRef: dj_npyref_free(static_cast<dj_npyref*>(e.ptr)); break;
    case HType::ObjectRef: dj_objectref_free(static_cast<dj_objectref*>(e.ptr)); break;
    case HType::Reader: dj_reader_free(static_cast<dj_reader*>(e.ptr)); break;
    case HType::Staged: delete static_cast<StagedEntry*>(e.ptr); break;
    case HType::Writer: delete static_cast<WriterEntry*>(e.ptr); break;
    case HType::Query: dj_query_free(static_cast<dj_query*>(e.ptr)); break;
    }
}

void update_lock() {
    if (!g_registry.empty() && !g_locked) {
        mexLock();
        g_locked = true;
    } else if (g_registry.empty() && g_locked) {
        mexUnlock();
        g_locked = false;
    }
}

/// Free every handle; returns how many there were.
size_t free_all() noexcept {
    std::unordered_map<uint64_t, Entry> all;
    all.swap(g_registry);
    // Children first (writers, staged inserts, readers, refs, queries, tables, schemas), connections
    // last: not required by the C ABI (any free order is safe) but it lets a connection close
    // its database at its own free, and a writer go before the staged insert removes its files.
    static const HType order[] = {HType::Writer, HType::Staged, HType::Reader, HType::ObjectRef, HType::NpyRef,
                                  HType::Query,  HType::Table,  HType::Schema, HType::Conn};
    for (HType t : order)
        for (const auto& kv : all)
            if (kv.second.type == t) free_entry(kv.second);
    return all.size();
}

void at_exit() {
    g_exiting = true;
    free_all();
    g_exiting = false;
    g_locked = false;  // MATLAB/Octave call the exit function only when the MEX is unlocked/unloading
}

/// Register a new handle; frees it if the registry cannot take it.
template <class H>
uint64_t register_handle(HType type, H* p) {
    const uint64_t id = ++g_next_id;
    try {
        g_registry.emplace(id, Entry{type, static_cast<void*>(p)});
    } catch (...) {
        free_entry(Entry{type, static_cast<void*>(p)});
        throw;
    }
    update_lock();
    return id;
}

uint64_t id_of(const mxArray* a) {
    if (a == nullptr || !mxIsUint64(a) || mxGetNumberOfElements(a) != 1 || mxIsComplex(a))
        fail("InvalidHandle", "expected a handle id (a uint64 scalar)");
    return *static_cast<const uint64_t*>(mxGetData(a));
}

void* lookup(const mxArray* a, HType type) {
    const uint64_t id = id_of(a);
    auto it = g_registry.find(id);
    if (it == g_registry.end())
        fail("InvalidHandle", "handle " + std::to_string(id) + " is not live (freed, reset, or never created)");
    if (it->second.type != type)
        fail("InvalidHandle", "handle " + std::to_string(id) + " is a " + htype_name(it->second.type) + ", not a " +
                                  htype_name(type));
    return it->second.ptr;
}

dj_conn* conn_arg(const mxArray* a) { return static_cast<dj_conn*>(lookup(a, HType::Conn)); }
dj_schema* schema_arg(const mxArray* a) { return static_cast<dj_schema*>(lookup(a, HType::Schema)); }
dj_table* table_arg(const mxArray* a) { return static_cast<dj_table*>(lookup(a, HType::Table)); }
dj_npyref* npyref_arg(const mxArray* a) { return static_cast<dj_npyref*>(lookup(a, HType::NpyRef)); }
dj_objectref* objref_arg(const mxArray* a) { return static_cast<dj_objectref*>(lookup(a, HType::ObjectRef)); }
dj_reader* reader_arg(const mxArray* a) { return static_cast<dj_reader*>(lookup(a, HType::Reader)); }
StagedEntry* staged_arg(const mxArray* a) { return static_cast<StagedEntry*>(lookup(a, HType::Staged)); }
WriterEntry* writer_arg(const mxArray* a) { return static_cast<WriterEntry*>(lookup(a, HType::Writer)); }

/// Ids created during one command: freed again if the command fails before returning them.
struct NewIds {
    std::vector<uint64_t> ids;
    bool committed = false;
    ~NewIds() {
        if (committed) return;
        for (uint64_t id : ids) {
            auto it = g_registry.find(id);
            if (it != g_registry.end()) {
                free_entry(it->second);
                g_registry.erase(it);
            }
        }
        if (g_registry.empty() && g_locked) {
            mexUnlock();
            g_locked = false;
        }
    }
};

// RAII for library objects that never reach MATLAB.
struct RowDel { void operator()(dj_row* r) const noexcept { dj_row_free(r); } };
struct ResultDel { void operator()(dj_result* r) const noexcept { dj_result_free(r); } };
struct StrlistDel { void operator()(dj_strlist* l) const noexcept { dj_strlist_free(l); } };
struct TableDel { void operator()(dj_table* t) const noexcept { dj_table_free(t); } };
struct QueryDel { void operator()(dj_query* q) const noexcept { dj_query_free(q); } };
struct ReportDel { void operator()(dj_delete_report* r) const noexcept { dj_delete_report_free(r); } };
using RowPtr = std::unique_ptr<dj_row, RowDel>;
using ResultPtr = std::unique_ptr<dj_result, ResultDel>;
using StrlistPtr = std::unique_ptr<dj_strlist, StrlistDel>;
using TablePtr = std::unique_ptr<dj_table, TableDel>;
using QueryPtr = std::unique_ptr<dj_query, QueryDel>;
using ReportPtr = std::unique_ptr<dj_delete_report, ReportDel>;

/// An operand of the query algebra: the id of a table or of a query. A table's query is made on
/// demand (and freed with the operand); fetch, count and heading use the table itself.
struct Operand {
    dj_table* table = nullptr;  // the id is a table's
    dj_query* query = nullptr;  // the id is a query's, or the table's query once made
    QueryPtr owned;
    const dj_query* q() {
        if (query == nullptr) {
            dj_query* raw = nullptr;
            check(dj_table_query(table, &raw));
            owned.reset(raw);
            query = raw;
        }
        return query;
    }
};

bool is_id(const mxArray* a) {
    return a != nullptr && mxIsUint64(a) && mxGetNumberOfElements(a) == 1 && !mxIsComplex(a);
}

Operand operand_arg(const mxArray* a, const char* what) {
    if (!is_id(a)) fail("InvalidHandle", std::string(what) + ": expected a table or query handle id (a uint64 scalar)");
    const uint64_t id = *static_cast<const uint64_t*>(mxGetData(a));
    auto it = g_registry.find(id);
    if (it == g_registry.end())
        fail("InvalidHandle", std::string(what) + ": handle " + std::to_string(id) +
                                  " is not live (freed, reset, or never created)");
    Operand op;
    if (it->second.type == HType::Table) op.table = static_cast<dj_table*>(it->second.ptr);
    else if (it->second.type == HType::Query) op.query = static_cast<dj_query*>(it->second.ptr);
    else
        fail("InvalidHandle", std::string(what) + ": handle " + std::to_string(id) + " is a " +
                                  htype_name(it->second.type) + ", not a Table or Query");
    return op;
}

struct ViewGuard {
    dj_array_view v;
    ViewGuard() { std::memset(&v, 0, sizeof v); }
    ~ViewGuard() { dj_array_view_release(&v); }
    ViewGuard(const ViewGuard&) = delete;
    ViewGuard& operator=(const ViewGuard&) = delete;
};

// ============================================================================ text

constexpr bool kUtf16 = sizeof(mxChar) == 2;  // MATLAB; Octave's mxChar is char (UTF-8 bytes)

void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

/// Decode UTF-8 into code points (invalid sequences become U+FFFD).
template <class F>
void decode_utf8(const char* s, size_t n, F&& emit) {
    const auto* p = reinterpret_cast<const unsigned char*>(s);
    size_t i = 0;
    while (i < n) {
        const unsigned char c = p[i];
        uint32_t cp = 0xFFFD;
        size_t len = 1;
        if (c < 0x80) {
            cp = c;
        } else if ((c >> 5) == 0x6 && i + 1 < n && (p[i + 1] & 0xC0) == 0x80) {
            cp = ((c & 0x1Fu) << 6) | (p[i + 1] & 0x3Fu);
            len = 2;
        } else if ((c >> 4) == 0xE && i + 2 < n && (p[i + 1] & 0xC0) == 0x80 && (p[i + 2] & 0xC0) == 0x80) {
            cp = ((c & 0x0Fu) << 12) | ((p[i + 1] & 0x3Fu) << 6) | (p[i + 2] & 0x3Fu);
            len = 3;
        } else if ((c >> 3) == 0x1E && i + 3 < n && (p[i + 1] & 0xC0) == 0x80 && (p[i + 2] & 0xC0) == 0x80 &&
                   (p[i + 3] & 0xC0) == 0x80) {
            cp = ((c & 0x07u) << 18) | ((p[i + 1] & 0x3Fu) << 12) | ((p[i + 2] & 0x3Fu) << 6) | (p[i + 3] & 0x3Fu);
            len = 4;
        }
        emit(cp);
        i += len;
    }
}

/// A MATLAB char array (any shape, read in column-major order) as UTF-8.
std::string utf8_of_chars(const mxArray* a) {
    const size_t n = mxGetNumberOfElements(a);
    const mxChar* c = mxGetChars(a);
    std::string out;
    if (n == 0 || c == nullptr) return out;
    if constexpr (!kUtf16) {
        out.assign(reinterpret_cast<const char*>(c), n);
    } else {
        out.reserve(n);
        for (size_t i = 0; i < n; ++i) {
            uint32_t u = static_cast<uint16_t>(c[i]);
            if (u >= 0xD800 && u < 0xDC00 && i + 1 < n) {
                const uint32_t lo = static_cast<uint16_t>(c[i + 1]);
                if (lo >= 0xDC00 && lo < 0xE000) {
                    u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
                    ++i;
                }
            }
            append_utf8(out, u);
        }
    }
    return out;
}

/// A 1×N MATLAB char row from UTF-8 bytes ('' is 0×0, like the MATLAB literal '').
mxArray* mx_string(const char* s, size_t n) {
    if (n == 0) {
        mwSize dims[2] = {0, 0};
        return mxCreateCharArray(2, dims);
    }
    if constexpr (!kUtf16) {
        mwSize dims[2] = {1, static_cast<mwSize>(n)};
        mxArray* a = mxCreateCharArray(2, dims);
        if (n > 0) std::memcpy(mxGetChars(a), s, n);
        return a;
    } else {
        std::vector<uint16_t> u16;
        u16.reserve(n);
        decode_utf8(s, n, [&](uint32_t cp) {
            if (cp >= 0x10000) {
                cp -= 0x10000;
                u16.push_back(static_cast<uint16_t>(0xD800 + (cp >> 10)));
                u16.push_back(static_cast<uint16_t>(0xDC00 + (cp & 0x3FF)));
            } else {
                u16.push_back(static_cast<uint16_t>(cp));
            }
        });
        mwSize dims[2] = {1, static_cast<mwSize>(u16.size())};
        mxArray* a = mxCreateCharArray(2, dims);
        if (!u16.empty()) std::memcpy(mxGetChars(a), u16.data(), u16.size() * 2);
        return a;
    }
}
mxArray* mx_string(const std::string& s) { return mx_string(s.data(), s.size()); }
mxArray* mx_string(const char* s) { return s ? mx_string(s, std::strlen(s)) : mx_string("", 0); }

bool is_text(const mxArray* a) { return a != nullptr && mxIsChar(a); }

/// A char argument as UTF-8 (`what` names it in errors).
std::string string_arg(const mxArray* a, const char* what) {
    if (!is_text(a)) fail("InvalidArgument", std::string(what) + " must be a char vector");
    return utf8_of_chars(a);
}

bool is_null_marker(const mxArray* a) {
    // [] (a 0×0 double) is NULL; '' is the empty string, uint8([]) empty bytes, zeros(0,3) an empty array.
    return a == nullptr || (mxIsDouble(a) && !mxIsComplex(a) && mxGetM(a) == 0 && mxGetN(a) == 0 &&
                            mxGetNumberOfDimensions(a) == 2);
}

/// Optional text argument: missing, [] or '' give an empty string.
std::string opt_string_arg(int nrhs, const mxArray* prhs[], int i, const char* what) {
    if (i >= nrhs || is_null_marker(prhs[i])) return std::string();
    return string_arg(prhs[i], what);
}

double scalar_arg(const mxArray* a, const char* what) {
    if (a == nullptr || !(mxIsNumeric(a) || mxIsLogical(a)) || mxGetNumberOfElements(a) != 1 || mxIsComplex(a))
        fail("InvalidArgument", std::string(what) + " must be a real scalar");
    return mxGetScalar(a);
}

bool bool_arg(const mxArray* a, const char* what) { return scalar_arg(a, what) != 0.0; }

std::vector<std::string> cellstr_arg(const mxArray* a, const char* what) {
    std::vector<std::string> out;
    if (is_text(a)) {
        out.push_back(utf8_of_chars(a));
        return out;
    }
    if (a == nullptr || !mxIsCell(a)) fail("InvalidArgument", std::string(what) + " must be a cell array of char");
    const size_t n = mxGetNumberOfElements(a);
    for (size_t i = 0; i < n; ++i) {
        const mxArray* c = mxGetCell(a, i);
        if (!is_text(c)) fail("InvalidArgument", std::string(what) + " must be a cell array of char");
        out.push_back(utf8_of_chars(c));
    }
    return out;
}

mxArray* mx_cellstr(const std::vector<std::string>& v) {
    mxArray* c = mxCreateCellMatrix(v.size(), 1);
    for (size_t i = 0; i < v.size(); ++i) mxSetCell(c, i, mx_string(v[i]));
    return c;
}

mxArray* mx_strlist(dj_strlist* raw) {
    StrlistPtr list(raw);
    const size_t n = dj_strlist_len(list.get());
    std::vector<std::string> v;
    v.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        const char* s = dj_strlist_get(list.get(), i);
        v.emplace_back(s ? s : "");
    }
    return mx_cellstr(v);
}

mxArray* mx_double(double v) { return mxCreateDoubleScalar(v); }

mxArray* mx_uint64(uint64_t v) {
    mxArray* a = mxCreateNumericMatrix(1, 1, mxUINT64_CLASS, mxREAL);
    *static_cast<uint64_t*>(mxGetData(a)) = v;
    return a;
}

mxArray* mx_empty() { return mxCreateDoubleMatrix(0, 0, mxREAL); }

/// Field of an options struct (NULL when the struct or the field is absent).
const mxArray* opt_field(const mxArray* opts, const char* name) {
    if (opts == nullptr || !mxIsStruct(opts) || mxGetNumberOfElements(opts) < 1) return nullptr;
    const mxArray* f = mxGetField(opts, 0, name);
    if (f == nullptr || is_null_marker(f)) return nullptr;
    return f;
}

// ============================================================================ dates

// MATLAB datenum of 1970-01-01 (datenum(1970,1,1)).
constexpr double kEpochDatenum = 719529.0;
constexpr int64_t kMicrosPerDay = 86400000000LL;

double datenum_of_days(int32_t days) { return static_cast<double>(days) + kEpochDatenum; }

double datenum_of_micros(int64_t us) {
    // Split into whole days and the rest so the sum loses as little as possible (a double datenum
    // near 7.4e5 has a resolution of 2^-33 days, about 10 µs).
    int64_t days = us / kMicrosPerDay;
    int64_t rem = us % kMicrosPerDay;
    if (rem < 0) {
        rem += kMicrosPerDay;
        days -= 1;
    }
    return (static_cast<double>(days) + kEpochDatenum) + static_cast<double>(rem) / static_cast<double>(kMicrosPerDay);
}

/// Whole days since 1970-01-01 of a datenum (the day the datenum falls in).
int32_t days_of_datenum(double dn, const std::string& ctx) {
    if (!std::isfinite(dn)) fail("Type", ctx + ": datenum " + std::to_string(dn) + " is not finite");
    const double d = std::floor(dn) - kEpochDatenum;
    if (d < -2147483648.0 || d > 2147483647.0) fail("Type", ctx + ": datenum out of range");
    return static_cast<int32_t>(d);
}

/// Microseconds since 1970-01-01 of a datenum, rounded to the nearest microsecond.
int64_t micros_of_datenum(double dn, const std::string& ctx) {
    if (!std::isfinite(dn)) fail("Type", ctx + ": datenum " + std::to_string(dn) + " is not finite");
    const double whole = std::floor(dn);
    const double frac = dn - whole;
    const double days = whole - kEpochDatenum;
    if (days < -1.0e6 || days > 3.0e6) fail("Type", ctx + ": datenum out of range");
    return static_cast<int64_t>(days) * kMicrosPerDay + static_cast<int64_t>(std::llround(frac * 86400000000.0));
}

std::string format_date(int32_t days) {
    char buf[32];
    size_t need = 0;
    check(dj_date_format(days, buf, sizeof buf, &need));
    return std::string(buf, need);
}

std::string format_datetime(int64_t us) {
    char buf[64];
    size_t need = 0;
    check(dj_datetime_format(us, buf, sizeof buf, &need));
    return std::string(buf, need);
}

std::string format_uuid(const uint8_t* b) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(36);
    for (int i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
        out.push_back(digits[b[i] >> 4]);
        out.push_back(digits[b[i] & 0xF]);
    }
    return out;
}

// ============================================================================ heading

const char* kind_name(int kind) { return dj_kind_name(kind); }

bool is_npy_type(const char* type_name) { return type_name != nullptr && std::strncmp(type_name, "<npy", 4) == 0; }

/// The codec of a declared type ("<object@store>" -> "object"); "" for other types.
std::string codec_of(const char* type_name) {
    std::string out;
    if (type_name == nullptr) return out;
    const char* p = type_name;
    while (*p == ' ' || *p == '\t') ++p;
    if (*p != '<') return out;
    ++p;
    while (*p == ' ' || *p == '\t') ++p;
    while (std::isalnum(static_cast<unsigned char>(*p)) || *p == '_') out.push_back(*p++);
    return out;
}

/// `<object@>` and `<filepath@>` values are fetched as ObjectRefs.
bool is_object_type(const char* type_name) {
    const std::string c = codec_of(type_name);
    return c == "object" || c == "filepath";
}

/// The heading of a table or a query (their attribute functions have the same form).
template <class H>
Heading read_heading_with(const H* t, size_t (*count)(const H*), dj_status (*attr)(const H*, size_t, dj_attr_info*)) {
    Heading h;
    const size_t n = count(t);
    for (size_t i = 0; i < n; ++i) {
        dj_attr_info info;
        std::memset(&info, 0, sizeof info);
        check(attr(t, i, &info));
        AttrMeta m;
        m.name = info.name ? info.name : "";
        m.kind = info.kind;
        m.npy = is_npy_type(info.type_name);
        m.codec = codec_of(info.type_name);
        h.index.emplace(m.name, h.attrs.size());
        h.attrs.push_back(std::move(m));
    }
    return h;
}

Heading read_heading(const dj_table* t) { return read_heading_with(t, dj_table_attr_count, dj_table_attr); }
Heading read_heading(const dj_query* q) { return read_heading_with(q, dj_query_attr_count, dj_query_attr); }

// ============================================================================ arrays (npy)

int dtype_of_class(mxClassID c, bool complex) {
    switch (c) {
    case mxLOGICAL_CLASS: return DJ_DTYPE_BOOL;
    case mxINT8_CLASS: return DJ_DTYPE_INT8;
    case mxINT16_CLASS: return DJ_DTYPE_INT16;
    case mxINT32_CLASS: return DJ_DTYPE_INT32;
    case mxINT64_CLASS: return DJ_DTYPE_INT64;
    case mxUINT8_CLASS: return DJ_DTYPE_UINT8;
    case mxUINT16_CLASS: return DJ_DTYPE_UINT16;
    case mxUINT32_CLASS: return DJ_DTYPE_UINT32;
    case mxUINT64_CLASS: return DJ_DTYPE_UINT64;
    case mxSINGLE_CLASS: return complex ? DJ_DTYPE_COMPLEX64 : DJ_DTYPE_FLOAT32;
    case mxDOUBLE_CLASS: return complex ? DJ_DTYPE_COMPLEX128 : DJ_DTYPE_FLOAT64;
    default: return 0;
    }
}

/// Describe a MATLAB numeric/logical array (or a dj.npy(A, shape) struct) as a dj_array_in:
/// column-major data handed over as DJ_ORDER_F with the MATLAB dims as shape, so numpy's
/// a[i,j,k] is A(i+1,j+1,k+1). No copy, except for complex arrays (interleaved for numpy).
dj_array_in array_in_of(const mxArray* v, Keep& keep, const std::string& ctx) {
    const mxArray* data = v;
    const mxArray* shape_arg = nullptr;
    if (mxIsStruct(v)) {
        if (mxGetNumberOfElements(v) != 1 || mxGetField(v, 0, "data") == nullptr || mxGetField(v, 0, "shape") == nullptr)
            fail("Type", ctx + ": an array struct must be dj.npy(A, shape) (fields data and shape)");
        data = mxGetField(v, 0, "data");
        shape_arg = mxGetField(v, 0, "shape");
    }
    if (mxIsSparse(data)) fail("Type", ctx + ": sparse arrays cannot be stored as <npy@>");
    const bool cplx = mxIsComplex(data);
    const int dtype = dtype_of_class(mxGetClassID(data), cplx);
    if (dtype == 0)
        fail("Type", ctx + ": an <npy@> value must be a numeric or logical array, not " + mxGetClassName(data));
    const size_t n = mxGetNumberOfElements(data);
    const size_t esize = mxGetElementSize(data);  // of one real component
    std::vector<int64_t> shape;
    if (shape_arg != nullptr) {
        if (!(mxIsNumeric(shape_arg)) || mxIsComplex(shape_arg)) fail("Type", ctx + ": shape must be a numeric vector");
        const size_t nd = mxGetNumberOfElements(shape_arg);
        uint64_t count = 1;
        for (size_t k = 0; k < nd; ++k) {
            double d = 0;
            switch (mxGetClassID(shape_arg)) {
            case mxDOUBLE_CLASS: d = static_cast<const double*>(mxGetData(shape_arg))[k]; break;
            case mxSINGLE_CLASS: d = static_cast<const float*>(mxGetData(shape_arg))[k]; break;
            case mxINT32_CLASS: d = static_cast<const int32_t*>(mxGetData(shape_arg))[k]; break;
            case mxINT64_CLASS: d = static_cast<double>(static_cast<const int64_t*>(mxGetData(shape_arg))[k]); break;
            case mxUINT64_CLASS: d = static_cast<double>(static_cast<const uint64_t*>(mxGetData(shape_arg))[k]); break;
            default: fail("Type", ctx + ": shape must be double, single, int32, int64 or uint64");
            }
            if (!(d >= 0) || d != std::floor(d)) fail("Type", ctx + ": shape extents must be non-negative integers");
            shape.push_back(static_cast<int64_t>(d));
            count *= static_cast<uint64_t>(d);
        }
        if (count != n)
            fail("Type", ctx + ": shape has " + std::to_string(count) + " elements but the data has " + std::to_string(n));
    } else {
        const mwSize nd = mxGetNumberOfDimensions(data);
        const mwSize* dims = mxGetDimensions(data);
        for (mwSize k = 0; k < nd; ++k) shape.push_back(static_cast<int64_t>(dims[k]));
    }
    dj_array_in a;
    std::memset(&a, 0, sizeof a);
    a.dtype = dtype;
    a.order = DJ_ORDER_F;
    a.itemsize = 0;
    if (!cplx) {
        a.data = mxGetData(data);
        a.nbytes = static_cast<uint64_t>(n) * esize;
        if (keep.copy && a.nbytes > 0) {
            const auto* p = static_cast<const uint8_t*>(a.data);
            keep.buffers.emplace_back(p, p + a.nbytes);
            a.data = keep.buffers.back().data();
        }
    } else {
        std::vector<uint8_t> buf(n * esize * 2);
#if MX_HAS_INTERLEAVED_COMPLEX
        if (n > 0) std::memcpy(buf.data(), mxGetData(data), buf.size());
#else
        const uint8_t* re = static_cast<const uint8_t*>(mxGetData(data));
        const uint8_t* im = static_cast<const uint8_t*>(mxGetImagData(data));
        for (size_t i = 0; i < n; ++i) {
            std::memcpy(&buf[2 * i * esize], re + i * esize, esize);
            if (im) std::memcpy(&buf[(2 * i + 1) * esize], im + i * esize, esize);
            else std::memset(&buf[(2 * i + 1) * esize], 0, esize);
        }
#endif
        keep.buffers.push_back(std::move(buf));
        a.data = keep.buffers.back().data();
        a.nbytes = keep.buffers.back().size();
    }
    if (a.nbytes == 0) a.data = nullptr;
    keep.shapes.push_back(std::move(shape));
    a.ndim = static_cast<int32_t>(keep.shapes.back().size());
    a.shape = keep.shapes.back().empty() ? nullptr : keep.shapes.back().data();
    return a;
}

float half_to_float(uint16_t h) {
    const uint32_t sign = (h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1F;
    uint32_t mant = h & 0x3FF;
    uint32_t bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else {  // subnormal
            exp = 127 - 15 + 1;
            while ((mant & 0x400) == 0) {
                mant <<= 1;
                --exp;
            }
            mant &= 0x3FF;
            bits = sign | (exp << 23) | (mant << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7F800000u | (mant << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
    }
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

/// Copy the elements of a view (any strides) into `dst` in column-major order of `shape`,
/// i.e. dst[i0 + s0*(i1 + s1*(i2 ...))] = element (i0, i1, i2, ...). Blocked over the source's
/// fastest axis and axis 0 so C-order sources are transposed cache-friendly.
template <size_t W>
void strided_copy_w(uint8_t* dst, const uint8_t* src, const std::vector<int64_t>& shape,
                    const std::vector<int64_t>& strides) {
    const size_t nd = shape.size();
    uint64_t total = 1;
    for (int64_t d : shape) total *= static_cast<uint64_t>(d);
    if (total == 0) return;
    if (nd == 0) {
        std::memcpy(dst, src, W);
        return;
    }
    // destination strides (bytes) in column-major order
    std::vector<int64_t> dstr(nd);
    int64_t acc = W;
    for (size_t k = 0; k < nd; ++k) {
        dstr[k] = acc;
        acc *= shape[k];
    }
    // fastest source axis
    size_t b = 0;
    for (size_t k = 1; k < nd; ++k)
        if (std::llabs(strides[k]) < std::llabs(strides[b])) b = k;
    const size_t a = 0;
    if (b == a || nd == 1) {
        // axis 0 is fastest in the source too: copy runs of shape[0] elements
        std::vector<int64_t> idx(nd, 0);
        const int64_t n0 = shape[0];
        const uint64_t outer = total / static_cast<uint64_t>(n0);
        for (uint64_t o = 0; o < outer; ++o) {
            int64_t soff = 0, doff = 0;
            for (size_t k = 1; k < nd; ++k) {
                soff += idx[k] * strides[k];
                doff += idx[k] * dstr[k];
            }
            const uint8_t* s = src + soff;
            uint8_t* d = dst + doff;
            if (strides[0] == static_cast<int64_t>(W)) {
                std::memcpy(d, s, static_cast<size_t>(n0) * W);
            } else {
                for (int64_t i = 0; i < n0; ++i) std::memcpy(d + i * W, s + i * strides[0], W);
            }
            for (size_t k = 1; k < nd; ++k) {
                if (++idx[k] < shape[k]) break;
                idx[k] = 0;
            }
        }
        return;
    }
    // 2-D blocked transpose over axes a (dest-contiguous) and b (source-contiguous); odometer over the rest.
    const int64_t na = shape[a], nb = shape[b];
    const int64_t sa = strides[a], sb = strides[b], da = dstr[a], db = dstr[b];
    std::vector<size_t> rest;
    for (size_t k = 0; k < nd; ++k)
        if (k != a && k != b) rest.push_back(k);
    std::vector<int64_t> idx(nd, 0);
    const uint64_t outer = total / static_cast<uint64_t>(na * nb);
    // 16×16 tiles, inner loop writing the destination contiguously: with power-of-two extents
    // the strided side hits few cache sets, so larger tiles thrash (8192² float32: 67 ms with
    // 16×16 tiles and contiguous writes vs 880 ms with 64×64 tiles and contiguous reads).
    constexpr int64_t B = 16;
    for (uint64_t o = 0; o < outer; ++o) {
        int64_t soff = 0, doff = 0;
        for (size_t k : rest) {
            soff += idx[k] * strides[k];
            doff += idx[k] * dstr[k];
        }
        const uint8_t* s0 = src + soff;
        uint8_t* d0 = dst + doff;
        for (int64_t ia = 0; ia < na; ia += B) {
            const int64_t ea = ia + B < na ? ia + B : na;
            for (int64_t ib = 0; ib < nb; ib += B) {
                const int64_t eb = ib + B < nb ? ib + B : nb;
                for (int64_t j = ib; j < eb; ++j) {
                    const uint8_t* s = s0 + j * sb;
                    uint8_t* d = d0 + j * db;
                    for (int64_t i = ia; i < ea; ++i) std::memcpy(d + i * da, s + i * sa, W);
                }
            }
        }
        for (size_t k : rest) {
            if (++idx[k] < shape[k]) break;
            idx[k] = 0;
        }
    }
}

void strided_copy(uint8_t* dst, const uint8_t* src, size_t w, const std::vector<int64_t>& shape,
                  const std::vector<int64_t>& strides) {
    switch (w) {
    case 1: strided_copy_w<1>(dst, src, shape, strides); return;
    case 2: strided_copy_w<2>(dst, src, shape, strides); return;
    case 4: strided_copy_w<4>(dst, src, shape, strides); return;
    case 8: strided_copy_w<8>(dst, src, shape, strides); return;
    case 16: strided_copy_w<16>(dst, src, shape, strides); return;
    default: break;
    }
    // arbitrary widths (S<n>, U<n>): element by element
    const size_t nd = shape.size();
    uint64_t total = 1;
    for (int64_t d : shape) total *= static_cast<uint64_t>(d);
    std::vector<int64_t> idx(nd, 0);
    for (uint64_t l = 0; l < total; ++l) {
        int64_t soff = 0;
        for (size_t k = 0; k < nd; ++k) soff += idx[k] * strides[k];
        std::memcpy(dst + l * w, src + soff, w);
        for (size_t k = 0; k < nd; ++k) {
            if (++idx[k] < shape[k]) break;
            idx[k] = 0;
        }
    }
}

/// MATLAB dims for a numpy shape: 0-d → 1×1, 1-d (n) → n×1, else the shape itself.
std::vector<mwSize> mx_dims(const std::vector<int64_t>& shape) {
    std::vector<mwSize> d;
    if (shape.empty()) {
        d = {1, 1};
    } else if (shape.size() == 1) {
        d = {static_cast<mwSize>(shape[0]), 1};
    } else {
        for (int64_t s : shape) d.push_back(static_cast<mwSize>(s));
    }
    return d;
}

/// Copy a library array view into a new MATLAB array with A(i+1,j+1,...) == a[i,j,...].
mxArray* mx_of_view(const dj_array_view& v) {
    std::vector<int64_t> shape(v.shape, v.shape + v.ndim);
    std::vector<int64_t> strides(v.strides, v.strides + v.ndim);
    std::vector<mwSize> dims = mx_dims(shape);
    uint64_t total = 1;
    for (int64_t s : shape) total *= static_cast<uint64_t>(s);
    const auto* src = static_cast<const uint8_t*>(v.data);
    const size_t w = static_cast<size_t>(v.itemsize);
    auto numeric = [&](mxClassID cls) {
        mxArray* a = mxCreateUninitNumericArray(dims.size(), dims.data(), cls, mxREAL);
        if (total > 0) strided_copy(static_cast<uint8_t*>(mxGetData(a)), src, w, shape, strides);
        return a;
    };
    switch (v.dtype) {
    case DJ_DTYPE_BOOL: {
        mxArray* a = mxCreateLogicalArray(dims.size(), dims.data());
        if (total > 0) {
            auto* d = reinterpret_cast<uint8_t*>(mxGetLogicals(a));
            strided_copy(d, src, 1, shape, strides);
            for (uint64_t i = 0; i < total; ++i) d[i] = d[i] != 0;
        }
        return a;
    }
    case DJ_DTYPE_INT8: return numeric(mxINT8_CLASS);
    case DJ_DTYPE_INT16: return numeric(mxINT16_CLASS);
    case DJ_DTYPE_INT32: return numeric(mxINT32_CLASS);
    case DJ_DTYPE_INT64: return numeric(mxINT64_CLASS);
    case DJ_DTYPE_UINT8: return numeric(mxUINT8_CLASS);
    case DJ_DTYPE_UINT16: return numeric(mxUINT16_CLASS);
    case DJ_DTYPE_UINT32: return numeric(mxUINT32_CLASS);
    case DJ_DTYPE_UINT64: return numeric(mxUINT64_CLASS);
    case DJ_DTYPE_FLOAT32: return numeric(mxSINGLE_CLASS);
    case DJ_DTYPE_FLOAT64: return numeric(mxDOUBLE_CLASS);
    case DJ_DTYPE_FLOAT16: {  // MATLAB has no half precision: widened to single
        std::vector<uint16_t> tmp(total);
        if (total > 0) strided_copy(reinterpret_cast<uint8_t*>(tmp.data()), src, 2, shape, strides);
        mxArray* a = mxCreateUninitNumericArray(dims.size(), dims.data(), mxSINGLE_CLASS, mxREAL);
        auto* d = static_cast<float*>(mxGetData(a));
        for (uint64_t i = 0; i < total; ++i) d[i] = half_to_float(tmp[i]);
        return a;
    }
    case DJ_DTYPE_COMPLEX64:
    case DJ_DTYPE_COMPLEX128: {
        const bool dbl = v.dtype == DJ_DTYPE_COMPLEX128;
        const size_t comp = dbl ? 8 : 4;
        mxArray* a = mxCreateNumericArray(dims.size(), dims.data(), dbl ? mxDOUBLE_CLASS : mxSINGLE_CLASS, mxCOMPLEX);
        if (total == 0) return a;
#if MX_HAS_INTERLEAVED_COMPLEX
        strided_copy(static_cast<uint8_t*>(mxGetData(a)), src, 2 * comp, shape, strides);
#else
        std::vector<uint8_t> tmp(total * 2 * comp);
        strided_copy(tmp.data(), src, 2 * comp, shape, strides);
        auto* re = static_cast<uint8_t*>(mxGetData(a));
        auto* im = static_cast<uint8_t*>(mxGetImagData(a));
        for (uint64_t i = 0; i < total; ++i) {
            std::memcpy(re + i * comp, &tmp[2 * i * comp], comp);
            std::memcpy(im + i * comp, &tmp[(2 * i + 1) * comp], comp);
        }
#endif
        return a;
    }
    case DJ_DTYPE_BYTES:
    case DJ_DTYPE_UNICODE: {  // numpy S<n> / U<n>: a cell array of char of the same dims
        std::vector<uint8_t> tmp(total * w);
        if (total > 0 && w > 0) strided_copy(tmp.data(), src, w, shape, strides);
        mxArray* c = mxCreateCellArray(dims.size(), dims.data());
        for (uint64_t i = 0; i < total; ++i) {
            const uint8_t* e = tmp.data() + i * w;
            std::string s;
            if (v.dtype == DJ_DTYPE_BYTES) {
                size_t len = w;
                while (len > 0 && e[len - 1] == 0) --len;
                s.assign(reinterpret_cast<const char*>(e), len);
            } else {
                for (size_t k = 0; k + 4 <= w; k += 4) {
                    uint32_t cp;
                    std::memcpy(&cp, e + k, 4);
                    if (cp == 0) break;
                    append_utf8(s, cp);
                }
            }
            mxSetCell(c, i, mx_string(s));
        }
        return c;
    }
    default: fail("Codec", "unsupported dtype " + std::to_string(v.dtype));
    }
}

// ============================================================================ MATLAB value -> row

bool is_integer_class(mxClassID c) {
    return c == mxINT8_CLASS || c == mxINT16_CLASS || c == mxINT32_CLASS || c == mxINT64_CLASS || c == mxUINT8_CLASS ||
           c == mxUINT16_CLASS || c == mxUINT32_CLASS || c == mxUINT64_CLASS;
}

/// Element i of a real numeric/logical array as int64 (integer classes) — `ok` false for uint64 > INT64_MAX.
int64_t int_at(const mxArray* a, size_t i, bool& ok) {
    ok = true;
    const void* p = mxGetData(a);
    switch (mxGetClassID(a)) {
    case mxINT8_CLASS: return static_cast<const int8_t*>(p)[i];
    case mxINT16_CLASS: return static_cast<const int16_t*>(p)[i];
    case mxINT32_CLASS: return static_cast<const int32_t*>(p)[i];
    case mxINT64_CLASS: return static_cast<const int64_t*>(p)[i];
    case mxUINT8_CLASS: return static_cast<const uint8_t*>(p)[i];
    case mxUINT16_CLASS: return static_cast<const uint16_t*>(p)[i];
    case mxUINT32_CLASS: return static_cast<const uint32_t*>(p)[i];
    case mxUINT64_CLASS: {
        const uint64_t u = static_cast<const uint64_t*>(p)[i];
        if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) ok = false;
        return static_cast<int64_t>(u);
    }
    case mxLOGICAL_CLASS: return static_cast<const mxLogical*>(p)[i] ? 1 : 0;
    default: ok = false; return 0;
    }
}

double float_at(const mxArray* a, size_t i) {
    if (mxIsDouble(a)) return static_cast<const double*>(mxGetData(a))[i];
    return static_cast<const float*>(mxGetData(a))[i];
}

// ============================================================================ <blob> values (dj_value)

struct ValueFree {
    void operator()(dj_value* v) const noexcept { dj_value_free(v); }
};
using ValuePtr = std::unique_ptr<dj_value, ValueFree>;

std::vector<int64_t> shape_of_mx(const mxArray* a) {
    const mwSize nd = mxGetNumberOfDimensions(a);
    const mwSize* d = mxGetDimensions(a);
    std::vector<int64_t> s(nd);
    for (mwSize k = 0; k < nd; ++k) s[k] = static_cast<int64_t>(d[k]);
    return s;
}

/// A MATLAB value as an owned dj_value tree (what mym would serialise).
ValuePtr value_of_mx(const mxArray* a, const std::string& ctx) {
    dj_value* out = nullptr;
    if (a == nullptr) {  // an unset struct field / cell: []
        const int64_t z[2] = {0, 0};
        check(dj_value_new_array(DJ_CLASS_DOUBLE, 2, z, nullptr, nullptr, &out));
        return ValuePtr(out);
    }
    std::vector<int64_t> shape = shape_of_mx(a);
    const int32_t nd = static_cast<int32_t>(shape.size());
    const size_t n = mxGetNumberOfElements(a);
    if (mxIsSparse(a)) fail("Type", ctx + ": sparse matrices are not supported in <blob> attributes");
    if (mxIsStruct(a)) {
        const int nf = mxGetNumberOfFields(a);
        std::vector<const char*> names(nf);
        for (int f = 0; f < nf; ++f) names[f] = mxGetFieldNameByNumber(a, f);
        check(dj_value_new_struct(nd, shape.data(), static_cast<size_t>(nf), names.data(), &out));
        ValuePtr s(out);
        for (size_t i = 0; i < n; ++i)
            for (int f = 0; f < nf; ++f) {
                const mxArray* e = mxGetFieldByNumber(a, i, f);
                if (e == nullptr) continue;  // stays []
                ValuePtr item = value_of_mx(e, ctx + "(" + std::to_string(i + 1) + ")." + names[f]);
                check(dj_value_struct_set(s.get(), i, names[f], item.release()));
            }
        return s;
    }
    if (mxIsCell(a)) {
        check(dj_value_new_cell(DJ_VALUE_CELL, nd, shape.data(), &out));
        ValuePtr c(out);
        for (size_t i = 0; i < n; ++i) {
            const mxArray* e = mxGetCell(a, i);
            if (e == nullptr) continue;
            ValuePtr item = value_of_mx(e, ctx + "{" + std::to_string(i + 1) + "}");
            check(dj_value_cell_set(c.get(), i, item.release()));
        }
        return c;
    }
    if (mxIsChar(a)) {
        std::vector<uint16_t> units;
        const mxChar* c = mxGetChars(a);
        if constexpr (kUtf16) {
            units.assign(reinterpret_cast<const uint16_t*>(c), reinterpret_cast<const uint16_t*>(c) + n);
        } else if (nd == 2 && shape[0] == 1) {  // Octave: a row of UTF-8 bytes -> UTF-16 units
            decode_utf8(reinterpret_cast<const char*>(c), n, [&](uint32_t cp) {
                if (cp >= 0x10000) {
                    cp -= 0x10000;
                    units.push_back(static_cast<uint16_t>(0xD800 + (cp >> 10)));
                    units.push_back(static_cast<uint16_t>(0xDC00 + (cp & 0x3FF)));
                } else {
                    units.push_back(static_cast<uint16_t>(cp));
                }
            });
            shape[1] = static_cast<int64_t>(units.size());
        } else {  // Octave char matrix: one unit per byte
            units.resize(n);
            for (size_t i = 0; i < n; ++i) units[i] = static_cast<uint8_t>(c[i]);
        }
        check(dj_value_new_array(DJ_CLASS_CHAR, nd, shape.data(), units.empty() ? nullptr : units.data(), nullptr, &out));
        return ValuePtr(out);
    }
    if (mxIsLogical(a) || mxIsNumeric(a)) {
        const mxClassID cls = mxGetClassID(a);
        int32_t id;
        switch (cls) {
        case mxLOGICAL_CLASS: id = DJ_CLASS_LOGICAL; break;
        case mxDOUBLE_CLASS: id = DJ_CLASS_DOUBLE; break;
        case mxSINGLE_CLASS: id = DJ_CLASS_SINGLE; break;
        case mxINT8_CLASS: id = DJ_CLASS_INT8; break;
        case mxUINT8_CLASS: id = DJ_CLASS_UINT8; break;
        case mxINT16_CLASS: id = DJ_CLASS_INT16; break;
        case mxUINT16_CLASS: id = DJ_CLASS_UINT16; break;
        case mxINT32_CLASS: id = DJ_CLASS_INT32; break;
        case mxUINT32_CLASS: id = DJ_CLASS_UINT32; break;
        case mxINT64_CLASS: id = DJ_CLASS_INT64; break;
        case mxUINT64_CLASS: id = DJ_CLASS_UINT64; break;
        default: fail("Type", ctx + ": cannot store a " + std::string(mxGetClassName(a)) + " value");
        }
        const void* im = mxIsComplex(a) ? mxGetImagData(a) : nullptr;
        check(dj_value_new_array(id, nd, shape.data(), n ? mxGetData(a) : nullptr, n ? im : nullptr, &out));
        return ValuePtr(out);
    }
    fail("Type", ctx + ": cannot store a " + std::string(mxGetClassName(a)) + " value in a <blob> attribute");
}

bool is_field_name(const char* s, size_t n) {
    if (n == 0 || n > 63 || !std::isalpha(static_cast<unsigned char>(s[0]))) return false;
    for (size_t i = 0; i < n; ++i)
        if (!std::isalnum(static_cast<unsigned char>(s[i])) && s[i] != '_') return false;
    return true;
}

mxArray* mx_of_value(const dj_value* v);

mxArray* mx_cell_row(const dj_value* v) {
    const size_t n = dj_value_len(v);
    mxArray* c = mxCreateCellMatrix(1, n);
    for (size_t i = 0; i < n; ++i) mxSetCell(c, i, mx_of_value(dj_value_item(v, i)));
    return c;
}

std::vector<mwSize> dims_of(int32_t nd, const int64_t* s) {
    std::vector<mwSize> d;
    for (int32_t k = 0; k < nd; ++k) d.push_back(static_cast<mwSize>(s[k]));
    if (d.empty()) d = {1, 1};
    else if (d.size() == 1) d.push_back(1);
    return d;
}

mxArray* mx_of_array(const dj_value* v) {
    dj_blob_array a;
    std::memset(&a, 0, sizeof a);
    check(dj_value_array(v, &a));
    std::vector<mwSize> dims = dims_of(a.ndim, a.shape);
    const size_t n = static_cast<size_t>(a.length);
    if (a.class_id == DJ_CLASS_CHAR) {
        const auto* u = static_cast<const uint16_t*>(a.real);
        if constexpr (kUtf16) {
            mxArray* m = mxCreateCharArray(dims.size(), dims.data());
            if (n) std::memcpy(mxGetChars(m), u, n * 2);
            return m;
        } else {
            bool ascii = true;
            for (size_t i = 0; i < n; ++i) ascii = ascii && u[i] < 0x80;
            if (!ascii && dims.size() == 2 && dims[0] == 1) {  // a row: UTF-16 -> UTF-8
                std::string s;
                for (size_t i = 0; i < n; ++i) {
                    uint32_t cp = u[i];
                    if (cp >= 0xD800 && cp < 0xDC00 && i + 1 < n && u[i + 1] >= 0xDC00 && u[i + 1] < 0xE000) {
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (u[i + 1] - 0xDC00u);
                        ++i;
                    }
                    append_utf8(s, cp);
                }
                return mx_string(s);
            }
            mxArray* m = mxCreateCharArray(dims.size(), dims.data());
            auto* d = reinterpret_cast<char*>(mxGetChars(m));
            for (size_t i = 0; i < n; ++i) d[i] = u[i] < 0x100 ? static_cast<char>(u[i]) : '?';
            return m;
        }
    }
    if (a.class_id == DJ_CLASS_LOGICAL) {
        mxArray* m = mxCreateLogicalArray(dims.size(), dims.data());
        if (n) std::memcpy(mxGetLogicals(m), a.real, n);
        return m;
    }
    mxClassID cls;
    switch (a.class_id) {
    case DJ_CLASS_DOUBLE: cls = mxDOUBLE_CLASS; break;
    case DJ_CLASS_SINGLE: cls = mxSINGLE_CLASS; break;
    case DJ_CLASS_INT8: cls = mxINT8_CLASS; break;
    case DJ_CLASS_UINT8: cls = mxUINT8_CLASS; break;
    case DJ_CLASS_INT16: cls = mxINT16_CLASS; break;
    case DJ_CLASS_UINT16: cls = mxUINT16_CLASS; break;
    case DJ_CLASS_INT32: cls = mxINT32_CLASS; break;
    case DJ_CLASS_UINT32: cls = mxUINT32_CLASS; break;
    case DJ_CLASS_INT64: cls = mxINT64_CLASS; break;
    case DJ_CLASS_UINT64: cls = mxUINT64_CLASS; break;
    default: cls = mxINT64_CLASS; break;  // numpy datetime64: the raw int64 counts
    }
    mxArray* m = mxCreateNumericArray(dims.size(), dims.data(), cls, a.imag ? mxCOMPLEX : mxREAL);
    const size_t bytes = n * static_cast<size_t>(a.itemsize);
    if (bytes) std::memcpy(mxGetData(m), a.real, bytes);
    if (a.imag && bytes) std::memcpy(mxGetImagData(m), a.imag, bytes);
    return m;
}

mxArray* mx_of_dict(const dj_value* v) {
    const size_t n = dj_value_len(v);
    bool fields = true;
    std::vector<std::string> names;
    for (size_t i = 0; i < n && fields; ++i) {
        const dj_value* k = dj_value_dict_key(v, i);
        const char* s = nullptr;
        size_t len = 0;
        fields = dj_value_type(k) == DJ_VALUE_STRING && dj_value_get_string(k, &s, &len) == DJ_OK && is_field_name(s, len);
        if (fields) {
            names.emplace_back(s, len);
            for (size_t j = 0; j + 1 < names.size(); ++j) fields = fields && names[j] != names.back();
        }
    }
    if (fields) {
        std::vector<const char*> p;
        for (const auto& s : names) p.push_back(s.c_str());
        mxArray* st = mxCreateStructMatrix(1, 1, static_cast<int>(p.size()), p.data());
        for (size_t i = 0; i < n; ++i) mxSetFieldByNumber(st, 0, static_cast<int>(i), mx_of_value(dj_value_item(v, i)));
        return st;
    }
    // containers.Map(keys, values, 'UniformValues', false)
    mxArray* keys = mxCreateCellMatrix(1, n);
    mxArray* vals = mxCreateCellMatrix(1, n);
    for (size_t i = 0; i < n; ++i) {
        mxSetCell(keys, i, mx_of_value(dj_value_dict_key(v, i)));
        mxSetCell(vals, i, mx_of_value(dj_value_item(v, i)));
    }
    mxArray* in[4] = {keys, vals, mx_string("UniformValues"), mxCreateLogicalScalar(false)};
    mxArray* out[1] = {nullptr};
    const int rc = mexCallMATLAB(1, out, 4, in, "containers.Map");
    for (mxArray* x : in) mxDestroyArray(x);
    if (rc != 0 || out[0] == nullptr) fail("Type", "cannot make a containers.Map of a dict");
    return out[0];
}

mxArray* mx_text_of(dj_status (*f)(int64_t, char*, size_t, size_t*), int64_t x) {
    char buf[64];
    size_t need = 0;
    check(f(x, buf, sizeof buf, &need));
    return mx_string(buf, need);
}

/// A dj_value tree as the MATLAB value mym would give (see README: <blob> values).
mxArray* mx_of_value(const dj_value* v) {
    switch (dj_value_type(v)) {
    case DJ_VALUE_NONE: return mx_empty();
    case DJ_VALUE_BOOL: {
        int32_t b = 0;
        check(dj_value_get_bool(v, &b));
        return mxCreateLogicalScalar(b != 0);
    }
    case DJ_VALUE_INT: {
        int64_t x = 0;
        check(dj_value_get_int(v, &x));
        const int64_t lim = int64_t{1} << 53;
        if (x > lim || x < -lim) {
            mxArray* m = mxCreateNumericMatrix(1, 1, mxINT64_CLASS, mxREAL);
            *static_cast<int64_t*>(mxGetData(m)) = x;
            return m;
        }
        return mxCreateDoubleScalar(static_cast<double>(x));
    }
    case DJ_VALUE_BIGINT: {  // beyond 64 bits: the nearest double
        const void* d = nullptr;
        size_t n = 0;
        check(dj_value_get_bytes(v, &d, &n));
        const auto* b = static_cast<const uint8_t*>(d);
        const bool neg = n > 0 && (b[n - 1] & 0x80);
        double x = 0;
        for (size_t i = n; i-- > 0;) x = x * 256.0 + (neg ? static_cast<uint8_t>(~b[i]) : b[i]);
        return mxCreateDoubleScalar(neg ? -(x + 1) : x);
    }
    case DJ_VALUE_FLOAT: {
        double x = 0;
        check(dj_value_get_float(v, &x));
        return mxCreateDoubleScalar(x);
    }
    case DJ_VALUE_COMPLEX: {
        double re = 0, im = 0;
        check(dj_value_get_complex(v, &re, &im));
        mxArray* m = mxCreateDoubleMatrix(1, 1, mxCOMPLEX);
        *mxGetPr(m) = re;
        *mxGetPi(m) = im;
        return m;
    }
    case DJ_VALUE_STRING:
    case DJ_VALUE_DECIMAL: {
        const char* s = nullptr;
        size_t n = 0;
        check(dj_value_get_string(v, &s, &n));
        return mx_string(s, n);
    }
    case DJ_VALUE_BYTES: {
        const void* d = nullptr;
        size_t n = 0;
        check(dj_value_get_bytes(v, &d, &n));
        mxArray* m = mxCreateNumericMatrix(1, n, mxUINT8_CLASS, mxREAL);
        if (n) std::memcpy(mxGetData(m), d, n);
        return m;
    }
    case DJ_VALUE_DATE: {
        int64_t x = 0;
        check(dj_value_get_temporal(v, &x));
        char buf[32];
        size_t need = 0;
        check(dj_date_format(static_cast<int32_t>(x), buf, sizeof buf, &need));
        return mx_string(buf, need);
    }
    case DJ_VALUE_DATETIME: {
        int64_t x = 0;
        check(dj_value_get_temporal(v, &x));
        char buf[64];
        size_t need = 0;
        check(dj_datetime_format(x, buf, sizeof buf, &need));
        std::string s(buf, need);
        if (s.find('.') == std::string::npos) s += ".000000";
        return mx_string(s);
    }
    case DJ_VALUE_TIME: {
        int64_t us = 0;
        check(dj_value_get_temporal(v, &us));
        char buf[48];
        const bool neg = us < 0;
        const uint64_t a = static_cast<uint64_t>(neg ? -us : us);
        std::snprintf(buf, sizeof buf, "%s%02llu:%02llu:%02llu.%06llu", neg ? "-" : "",
                      static_cast<unsigned long long>(a / 3600000000ull), static_cast<unsigned long long>(a / 60000000ull % 60),
                      static_cast<unsigned long long>(a / 1000000ull % 60), static_cast<unsigned long long>(a % 1000000ull));
        return mx_string(buf);
    }
    case DJ_VALUE_UUID: {
        const uint8_t* b = nullptr;
        check(dj_value_get_uuid(v, &b));
        return mx_string(format_uuid(b));
    }
    case DJ_VALUE_TUPLE:
    case DJ_VALUE_LIST:
    case DJ_VALUE_SET: return mx_cell_row(v);
    case DJ_VALUE_DICT: return mx_of_dict(v);
    case DJ_VALUE_ARRAY: return mx_of_array(v);
    case DJ_VALUE_STRUCT: {
        int32_t nd = 0;
        const int64_t* s = nullptr;
        check(dj_value_shape(v, &nd, &s));
        std::vector<mwSize> dims = dims_of(nd, s);
        const size_t nf = dj_value_field_count(v);
        std::vector<std::string> names(nf);
        std::vector<const char*> p(nf);
        for (size_t f = 0; f < nf; ++f) {
            const char* d = nullptr;
            size_t len = 0;
            check(dj_value_field_name(v, f, &d, &len));
            names[f].assign(d, len);
            p[f] = names[f].c_str();
        }
        mxArray* m = mxCreateStructArray(dims.size(), dims.data(), static_cast<int>(nf), p.data());
        const size_t n = mxGetNumberOfElements(m);
        for (size_t i = 0; i < n; ++i)
            for (size_t f = 0; f < nf; ++f)
                mxSetFieldByNumber(m, i, static_cast<int>(f), mx_of_value(dj_value_struct_get(v, i, f)));
        return m;
    }
    case DJ_VALUE_CELL:
    case DJ_VALUE_OBJECT_ARRAY: {
        int32_t nd = 0;
        const int64_t* s = nullptr;
        check(dj_value_shape(v, &nd, &s));
        std::vector<mwSize> dims = dims_of(nd, s);
        mxArray* c = mxCreateCellArray(dims.size(), dims.data());
        const size_t n = mxGetNumberOfElements(c);
        for (size_t i = 0; i < n; ++i) mxSetCell(c, i, mx_of_value(dj_value_item(v, i)));
        return c;
    }
    case DJ_VALUE_RECORD: {  // a numpy structured array: a 1×1 struct of its fields
        const size_t nf = dj_value_field_count(v);
        std::vector<std::string> names(nf);
        std::vector<const char*> p(nf);
        for (size_t f = 0; f < nf; ++f) {
            const char* d = nullptr;
            size_t len = 0;
            check(dj_value_field_name(v, f, &d, &len));
            names[f].assign(d, len);
            p[f] = names[f].c_str();
        }
        mxArray* m = mxCreateStructMatrix(1, 1, static_cast<int>(nf), p.data());
        for (size_t f = 0; f < nf; ++f) mxSetFieldByNumber(m, 0, static_cast<int>(f), mx_of_value(dj_value_item(v, f)));
        return m;
    }
    case DJ_VALUE_SPARSE: {
        dj_blob_sparse sp;
        std::memset(&sp, 0, sizeof sp);
        check(dj_value_sparse(v, &sp));
        const bool logical = sp.values.class_id == DJ_CLASS_LOGICAL;
        if (!logical && sp.values.class_id != DJ_CLASS_DOUBLE) fail("Type", "a sparse matrix of this class is not supported");
        mxArray* m = logical ? mxCreateSparseLogicalMatrix(sp.rows, sp.cols, sp.nnz)
                             : mxCreateSparse(sp.rows, sp.cols, sp.nnz, sp.values.imag ? mxCOMPLEX : mxREAL);
        mwIndex* jc = mxGetJc(m);
        mwIndex* ir = mxGetIr(m);
        for (uint64_t k = 0; k <= sp.cols; ++k) jc[k] = static_cast<mwIndex>(sp.jc[k]);
        for (uint64_t k = 0; k < sp.nnz; ++k) ir[k] = static_cast<mwIndex>(sp.ir[k]);
        const size_t bytes = static_cast<size_t>(sp.nnz) * (logical ? 1 : 8);
        if (bytes) std::memcpy(mxGetData(m), sp.values.real, bytes);
        if (sp.values.imag && bytes) std::memcpy(mxGetImagData(m), sp.values.imag, bytes);
        return m;
    }
    default: fail("Type", "unknown <blob> value type " + std::to_string(dj_value_type(v)));
    }
}

/// Set one attribute of a row from a MATLAB value (see README: value conversion). With
/// `empty_is_null` (update1), [] is NULL in <blob> attributes too.
void set_value(dj_row* row, const std::string& name, const mxArray* v, const AttrMeta* meta, Keep& keep,
               const std::string& ctx, bool empty_is_null = false) {
    const char* n = name.c_str();
    const int kind = meta ? meta->kind : 0;
    if (empty_is_null && is_null_marker(v)) {
        check(dj_row_set_null(row, n));
        return;
    }
    if (kind == DJ_KIND_BLOB) {  // any value, [] included (mym stores [] as a value)
        ValuePtr val = value_of_mx(v, ctx);
        check(dj_row_set_value(row, n, val.get()));
        return;
    }
    if (is_null_marker(v)) {
        check(dj_row_set_null(row, n));
        return;
    }
    if (meta && meta->npy) {
        dj_array_in a = array_in_of(v, keep, ctx);
        check(dj_row_set_array(row, n, &a));
        return;
    }
    if (meta && meta->codec == "object") {  // a path (char, below), bytes, or {ext, bytes}
        if (mxIsCell(v)) {
            const mxArray* e = mxGetNumberOfElements(v) == 2 ? mxGetCell(v, 0) : nullptr;
            const mxArray* b = e ? mxGetCell(v, 1) : nullptr;
            if (!e || !b || !(mxIsChar(e) || is_null_marker(e)) || !mxIsUint8(b))
                fail("Type", ctx + ": an <object@> value is a file or folder path (char), bytes (uint8) or "
                                   "{extension, uint8 bytes}");
            const std::string ext = mxIsChar(e) ? utf8_of_chars(e) : std::string();
            check(dj_row_set_object_bytes(row, n, ext.c_str(), mxGetData(b), mxGetNumberOfElements(b)));
            return;
        }
        if (mxIsUint8(v)) {  // one byte is bytes too
            check(dj_row_set_bytes(row, n, mxGetData(v), mxGetNumberOfElements(v)));
            return;
        }
    }
    if (mxIsChar(v)) {
        const std::string s = utf8_of_chars(v);
        check(dj_row_set_string_n(row, n, s.data(), s.size()));
        return;
    }
    if (mxIsCell(v) || mxIsStruct(v) || mxIsSparse(v) || !(mxIsNumeric(v) || mxIsLogical(v)))
        fail("Type", ctx + ": cannot convert a " + std::string(mxGetClassName(v)) + " value");
    if (mxIsComplex(v)) fail("Type", ctx + ": complex values are only stored in <npy@> attributes");
    const size_t count = mxGetNumberOfElements(v);
    if (mxIsUint8(v) && (kind == DJ_KIND_BYTES || kind == DJ_KIND_UUID || count != 1)) {
        check(dj_row_set_bytes(row, n, mxGetData(v), count));
        return;
    }
    if (count != 1)
        fail("Type", ctx + ": expected a scalar, got " + std::to_string(count) + " elements (only <npy@> and bytes "
                                                                                  "attributes take arrays)");
    if (mxIsLogical(v)) {
        check(dj_row_set_bool(row, n, static_cast<const mxLogical*>(mxGetData(v))[0] ? 1 : 0));
        return;
    }
    const mxClassID cls = mxGetClassID(v);
    if (is_integer_class(cls)) {
        bool ok = true;
        const int64_t x = int_at(v, 0, ok);
        if (!ok && kind != DJ_KIND_DATE && kind != DJ_KIND_DATETIME) {
            // a uint64 beyond int64 (native `bigint unsigned`); the library range-checks it
            check(dj_row_set_uint(row, n, static_cast<const uint64_t*>(mxGetData(v))[0]));
            return;
        }
        if (!ok) fail("Type", ctx + ": uint64 value exceeds the int64 range");
        if (kind == DJ_KIND_DATE) {  // integers are days since 1970-01-01
            if (x < INT32_MIN || x > INT32_MAX) fail("Type", ctx + ": day count out of range");
            check(dj_row_set_date(row, n, static_cast<int32_t>(x)));
        } else if (kind == DJ_KIND_DATETIME) {  // integers are microseconds since 1970-01-01
            check(dj_row_set_datetime(row, n, x));
        } else {
            check(dj_row_set_int(row, n, x));
        }
        return;
    }
    const double x = float_at(v, 0);
    if (std::isnan(x)) {
        check(dj_row_set_null(row, n));
    } else if (kind == DJ_KIND_DATE) {
        check(dj_row_set_date(row, n, days_of_datenum(x, ctx)));
    } else if (kind == DJ_KIND_DATETIME) {
        check(dj_row_set_datetime(row, n, micros_of_datenum(x, ctx)));
    } else {
        check(dj_row_set_float(row, n, x));
    }
}

/// Rows from the elements of a struct array.
std::vector<RowPtr> rows_of_struct(const mxArray* s, const Heading& h, Keep& keep, const std::string& what,
                                   bool empty_is_null = false) {
    if (!mxIsStruct(s)) fail("InvalidArgument", what + " must be a struct array");
    const size_t n = mxGetNumberOfElements(s);
    const int nf = mxGetNumberOfFields(s);
    std::vector<std::string> names(nf);
    std::vector<const AttrMeta*> metas(nf);
    for (int f = 0; f < nf; ++f) {
        names[f] = mxGetFieldNameByNumber(s, f);
        metas[f] = h.find(names[f]);
    }
    std::vector<RowPtr> rows;
    rows.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        dj_row* r = nullptr;
        check(dj_row_new(&r));
        rows.emplace_back(r);
        for (int f = 0; f < nf; ++f) {
            const std::string ctx = what + "(" + std::to_string(i + 1) + ")." + names[f];
            set_value(r, names[f], mxGetFieldByNumber(s, i, f), metas[f], keep, ctx, empty_is_null);
        }
    }
    return rows;
}

/// Keys of a restriction: a struct array (one key per element) or a cell array of them (all
/// their elements); the heading converts the values.
std::vector<RowPtr> keys_of(const mxArray* c, const Heading& h, Keep& keep) {
    if (mxIsStruct(c)) return rows_of_struct(c, h, keep, "key");
    if (!mxIsCell(c)) fail("InvalidArgument", "keys must be a struct array or a cell array of structs");
    std::vector<RowPtr> rows;
    const size_t n = mxGetNumberOfElements(c);
    for (size_t i = 0; i < n; ++i) {
        const mxArray* e = mxGetCell(c, i);
        if (e == nullptr || !mxIsStruct(e))
            fail("InvalidArgument", "key{" + std::to_string(i + 1) + "} must be a struct (a cell of keys holds structs)");
        std::vector<RowPtr> part = rows_of_struct(e, h, keep, "key{" + std::to_string(i + 1) + "}");
        for (auto& r : part) rows.push_back(std::move(r));
    }
    return rows;
}

dj_insert_opts insert_opts_of(const mxArray* o) {
    dj_insert_opts opts;
    check(dj_insert_opts_init(&opts));
    if (const mxArray* f = opt_field(o, "skip_duplicates")) opts.skip_duplicates = bool_arg(f, "skip_duplicates");
    if (const mxArray* f = opt_field(o, "ignore_extra_fields"))
        opts.ignore_extra_fields = bool_arg(f, "ignore_extra_fields");
    if (const mxArray* f = opt_field(o, "replace")) opts.replace = bool_arg(f, "replace");
    if (const mxArray* f = opt_field(o, "allow_direct_insert"))
        opts.allow_direct_insert = bool_arg(f, "allow_direct_insert") ? 1 : 0;
    return opts;
}

// ============================================================================ columnar insert

struct ColBuf {
    std::string name;
    int kind = 0;
    const void* data = nullptr;
    std::vector<uint8_t> own;  // converted fixed-width values or var-width bytes
    std::vector<int64_t> offsets;
    std::vector<uint8_t> validity;
    std::vector<dj_array_in> arrays;
    std::vector<ValuePtr> values;           // <blob> columns: one owned tree per row
    std::vector<const dj_value*> value_ptrs;
};

size_t column_length(const mxArray* c) {
    if (mxIsChar(c)) return 1;  // a single string: one row
    return mxGetNumberOfElements(c);
}

template <class T>
void fill_converted(ColBuf& b, const mxArray* c, size_t nrows, int kind, const std::string& ctx) {
    b.own.resize(nrows * sizeof(T));
    T* out = reinterpret_cast<T*>(b.own.data());
    for (size_t i = 0; i < nrows; ++i) {
        bool ok = true;
        const int64_t x = int_at(c, i, ok);
        if (!ok || x < static_cast<int64_t>(std::numeric_limits<T>::min()) ||
            x > static_cast<int64_t>(std::numeric_limits<T>::max()))
            fail("Type", ctx + ": row " + std::to_string(i + 1) + " is out of range");
        out[i] = static_cast<T>(x);
    }
    b.kind = kind;
    b.data = b.own.data();
}

void column_numeric(ColBuf& b, const mxArray* c, size_t nrows, const AttrMeta* meta, const std::string& ctx) {
    if (mxIsComplex(c) || mxIsSparse(c)) fail("Type", ctx + ": complex or sparse columns are not supported");
    const int akind = meta ? meta->kind : 0;
    const mxClassID cls = mxGetClassID(c);
    if (akind == DJ_KIND_DATE || akind == DJ_KIND_DATETIME) {
        const bool date = akind == DJ_KIND_DATE;
        b.kind = date ? DJ_KIND_DATE : DJ_KIND_DATETIME;
        if (cls == mxDOUBLE_CLASS || cls == mxSINGLE_CLASS) {
            b.own.resize(nrows * (date ? 4 : 8));
            b.validity.assign(nrows, 1);
            bool any_null = false;
            for (size_t i = 0; i < nrows; ++i) {
                const double x = float_at(c, i);
                if (std::isnan(x)) {
                    b.validity[i] = 0;
                    any_null = true;
                    continue;
                }
                const std::string rctx = ctx + " row " + std::to_string(i + 1);
                if (date) reinterpret_cast<int32_t*>(b.own.data())[i] = days_of_datenum(x, rctx);
                else reinterpret_cast<int64_t*>(b.own.data())[i] = micros_of_datenum(x, rctx);
            }
            if (!any_null) b.validity.clear();
            b.data = b.own.data();
            return;
        }
        if (is_integer_class(cls)) {  // days (date) / microseconds (datetime) since the epoch
            if (date) fill_converted<int32_t>(b, c, nrows, DJ_KIND_DATE, ctx);
            else fill_converted<int64_t>(b, c, nrows, DJ_KIND_DATETIME, ctx);
            return;
        }
    }
    switch (cls) {
    case mxLOGICAL_CLASS: b.kind = DJ_KIND_BOOL; b.data = mxGetData(c); return;  // mxLogical: one byte, 0/1
    case mxINT8_CLASS: b.kind = DJ_KIND_INT8; b.data = mxGetData(c); return;
    case mxINT16_CLASS: b.kind = DJ_KIND_INT16; b.data = mxGetData(c); return;
    case mxINT32_CLASS: b.kind = DJ_KIND_INT32; b.data = mxGetData(c); return;
    case mxINT64_CLASS: b.kind = DJ_KIND_INT64; b.data = mxGetData(c); return;
    case mxSINGLE_CLASS: b.kind = DJ_KIND_FLOAT32; b.data = mxGetData(c); return;   // NaN -> NULL (core rule)
    case mxDOUBLE_CLASS: b.kind = DJ_KIND_FLOAT64; b.data = mxGetData(c); return;   // NaN -> NULL (core rule)
    case mxUINT8_CLASS: fill_converted<int16_t>(b, c, nrows, DJ_KIND_INT16, ctx); return;
    case mxUINT16_CLASS: fill_converted<int32_t>(b, c, nrows, DJ_KIND_INT32, ctx); return;
    case mxUINT32_CLASS: fill_converted<int64_t>(b, c, nrows, DJ_KIND_INT64, ctx); return;
    case mxUINT64_CLASS: b.kind = DJ_KIND_UINT64; b.data = mxGetData(c); return;  // range-checked by the library
    default: fail("Type", ctx + ": unsupported column class " + std::string(mxGetClassName(c)));
    }
}

void column_cell(ColBuf& b, const mxArray* c, size_t nrows, const AttrMeta* meta, Keep& keep, const std::string& ctx) {
    const int akind = meta ? meta->kind : 0;
    b.validity.assign(nrows, 1);
    bool any_null = false;
    if (akind == DJ_KIND_BLOB) {  // one value per cell element ([] included)
        b.kind = DJ_KIND_BLOB;
        b.validity.clear();
        for (size_t i = 0; i < nrows; ++i)
            b.values.push_back(value_of_mx(mxGetCell(c, i), ctx + "{" + std::to_string(i + 1) + "}"));
        for (const auto& v : b.values) b.value_ptrs.push_back(v.get());
        b.data = b.value_ptrs.data();
        return;
    }
    if (meta && meta->npy) {
        b.kind = DJ_KIND_ARRAY;
        b.arrays.resize(nrows);
        for (size_t i = 0; i < nrows; ++i) {
            const mxArray* e = mxGetCell(c, i);
            if (is_null_marker(e)) {
                std::memset(&b.arrays[i], 0, sizeof(dj_array_in));
                b.validity[i] = 0;
                any_null = true;
                continue;
            }
            b.arrays[i] = array_in_of(e, keep, ctx + "{" + std::to_string(i + 1) + "}");
        }
        b.data = b.arrays.data();
        if (!any_null) b.validity.clear();
        return;
    }
    // Decide the buffer kind from the elements: char -> text, uint8 -> bytes, numeric scalars -> number.
    enum { NONE, TEXT, BYTES, INTS, FLOATS } what = NONE;
    bool all_uint64 = true;  // integer cells that are all uint64 go as a DJ_KIND_UINT64 buffer
    for (size_t i = 0; i < nrows; ++i) {
        const mxArray* e = mxGetCell(c, i);
        if (is_null_marker(e)) continue;
        all_uint64 = all_uint64 && mxGetClassID(e) == mxUINT64_CLASS;
        int k;
        if (mxIsChar(e)) k = TEXT;
        else if (mxIsUint8(e) && (akind == DJ_KIND_BYTES || akind == DJ_KIND_UUID || mxGetNumberOfElements(e) != 1 ||
                                  (meta && meta->codec == "object")))
            k = BYTES;
        else if (mxIsCell(e) && meta && meta->codec == "object")
            fail("Type", ctx + "{" + std::to_string(i + 1) + "}: {extension, bytes} <object@> values are only taken "
                                                             "in struct rows (insert without 'format', 'columns')");
        else if ((mxIsNumeric(e) || mxIsLogical(e)) && !mxIsComplex(e) && mxGetNumberOfElements(e) == 1)
            k = (mxIsDouble(e) || mxIsSingle(e)) ? FLOATS : INTS;
        else
            fail("Type", ctx + "{" + std::to_string(i + 1) + "}: cannot convert a " + mxGetClassName(e) + " value");
        if (what == NONE) what = static_cast<decltype(what)>(k);
        else if (what != k) {
            if ((what == INTS && k == FLOATS) || (what == FLOATS && k == INTS)) what = FLOATS;
            else fail("Type", ctx + ": a cell column must not mix text, bytes and numbers");
        }
    }
    if (what == NONE) what = TEXT;  // all NULL
    if (what == TEXT || what == BYTES) {
        b.kind = what == BYTES ? DJ_KIND_BYTES
                 : akind == DJ_KIND_DECIMAL ? DJ_KIND_DECIMAL
                 : akind == DJ_KIND_JSON && meta->codec.empty() ? DJ_KIND_JSON  // codecs (<object@>…) take text as text
                                         : DJ_KIND_STRING;  // also parsed by the core for uuid, date, datetime
        b.offsets.resize(nrows + 1);
        b.offsets[0] = 0;
        for (size_t i = 0; i < nrows; ++i) {
            const mxArray* e = mxGetCell(c, i);
            if (is_null_marker(e)) {
                b.validity[i] = 0;
                any_null = true;
            } else if (what == TEXT) {
                const std::string s = utf8_of_chars(e);
                b.own.insert(b.own.end(), s.begin(), s.end());
            } else {
                const auto* p = static_cast<const uint8_t*>(mxGetData(e));
                b.own.insert(b.own.end(), p, p + mxGetNumberOfElements(e));
            }
            b.offsets[i + 1] = static_cast<int64_t>(b.own.size());
        }
        b.data = b.own.empty() ? nullptr : b.own.data();
    } else {
        const bool date = akind == DJ_KIND_DATE, dt = akind == DJ_KIND_DATETIME;
        const bool u64 = what == INTS && all_uint64 && !date && !dt;
        b.kind = date ? DJ_KIND_DATE : dt ? DJ_KIND_DATETIME : u64 ? DJ_KIND_UINT64 : what == INTS ? DJ_KIND_INT64 : DJ_KIND_FLOAT64;
        b.own.assign(nrows * (date ? 4 : 8), 0);
        for (size_t i = 0; i < nrows; ++i) {
            const mxArray* e = mxGetCell(c, i);
            const std::string rctx = ctx + "{" + std::to_string(i + 1) + "}";
            if (is_null_marker(e)) {
                b.validity[i] = 0;
                any_null = true;
                continue;
            }
            const bool integral = !(mxIsDouble(e) || mxIsSingle(e));
            bool ok = true;
            if (u64) {
                reinterpret_cast<uint64_t*>(b.own.data())[i] = static_cast<const uint64_t*>(mxGetData(e))[0];
            } else if (integral) {
                const int64_t x = int_at(e, 0, ok);
                if (!ok) fail("Type", rctx + ": uint64 value exceeds the int64 range");
                if (date) {
                    if (x < INT32_MIN || x > INT32_MAX) fail("Type", rctx + ": day count out of range");
                    reinterpret_cast<int32_t*>(b.own.data())[i] = static_cast<int32_t>(x);
                } else if (b.kind == DJ_KIND_FLOAT64) {
                    reinterpret_cast<double*>(b.own.data())[i] = static_cast<double>(x);
                } else {
                    reinterpret_cast<int64_t*>(b.own.data())[i] = x;
                }
            } else {
                const double x = float_at(e, 0);
                if (std::isnan(x)) {
                    b.validity[i] = 0;
                    any_null = true;
                } else if (date) {
                    reinterpret_cast<int32_t*>(b.own.data())[i] = days_of_datenum(x, rctx);
                } else if (dt) {
                    reinterpret_cast<int64_t*>(b.own.data())[i] = micros_of_datenum(x, rctx);
                } else {
                    reinterpret_cast<double*>(b.own.data())[i] = x;
                }
            }
        }
        b.data = b.own.data();
    }
    if (!any_null) b.validity.clear();
}

// ============================================================================ result -> MATLAB

enum class Temporal { Datenum, Text, Raw };

Temporal temporal_of(const mxArray* opts) {
    const mxArray* f = opt_field(opts, "temporal");
    if (!f) return Temporal::Datenum;
    const std::string s = string_arg(f, "temporal");
    if (s == "datenum") return Temporal::Datenum;
    if (s == "text") return Temporal::Text;
    if (s == "raw") return Temporal::Raw;
    fail("InvalidArgument", "temporal must be 'datenum', 'text' or 'raw', not '" + s + "'");
}

bool valid_at(const dj_column_view& v, size_t i) { return v.validity == nullptr || v.validity[i] != 0; }

template <class T>
mxArray* mx_scalar(mxClassID cls, T x) {
    mxArray* a = mxCreateNumericMatrix(1, 1, cls, mxREAL);
    *static_cast<T*>(mxGetData(a)) = x;
    return a;
}

/// One value of a result (struct form): NULL is [].
mxArray* mx_cell_value(const dj_column_view& v, size_t i, Temporal tmp) {
    if (!valid_at(v, i)) return mx_empty();
    switch (v.kind) {
    case DJ_KIND_BLOB: return mx_of_value(static_cast<const dj_value* const*>(v.data)[i]);
    case DJ_KIND_BOOL: return mxCreateLogicalScalar(static_cast<const uint8_t*>(v.data)[i] != 0);
    case DJ_KIND_INT8: return mx_scalar(mxINT8_CLASS, static_cast<const int8_t*>(v.data)[i]);
    case DJ_KIND_INT16: return mx_scalar(mxINT16_CLASS, static_cast<const int16_t*>(v.data)[i]);
    case DJ_KIND_INT32: return mx_scalar(mxINT32_CLASS, static_cast<const int32_t*>(v.data)[i]);
    case DJ_KIND_INT64: return mx_scalar(mxINT64_CLASS, static_cast<const int64_t*>(v.data)[i]);
    case DJ_KIND_UINT64: return mx_scalar(mxUINT64_CLASS, static_cast<const uint64_t*>(v.data)[i]);
    case DJ_KIND_FLOAT32: return mx_scalar(mxSINGLE_CLASS, static_cast<const float*>(v.data)[i]);
    case DJ_KIND_FLOAT64: return mxCreateDoubleScalar(static_cast<const double*>(v.data)[i]);
    case DJ_KIND_STRING:
    case DJ_KIND_DECIMAL:
    case DJ_KIND_JSON: {
        const int64_t a = v.offsets[i], b = v.offsets[i + 1];
        return mx_string(static_cast<const char*>(v.data) + a, static_cast<size_t>(b - a));
    }
    case DJ_KIND_BYTES: {
        const int64_t a = v.offsets[i], b = v.offsets[i + 1];
        mxArray* m = mxCreateNumericMatrix(1, static_cast<mwSize>(b - a), mxUINT8_CLASS, mxREAL);
        if (b > a) std::memcpy(mxGetData(m), static_cast<const uint8_t*>(v.data) + a, static_cast<size_t>(b - a));
        return m;
    }
    case DJ_KIND_UUID: return mx_string(format_uuid(static_cast<const uint8_t*>(v.data) + 16 * i));
    case DJ_KIND_DATE: {
        const int32_t d = static_cast<const int32_t*>(v.data)[i];
        if (tmp == Temporal::Text) return mx_string(format_date(d));
        if (tmp == Temporal::Raw) return mx_scalar(mxINT32_CLASS, d);
        return mxCreateDoubleScalar(datenum_of_days(d));
    }
    case DJ_KIND_DATETIME: {
        const int64_t us = static_cast<const int64_t*>(v.data)[i];
        if (tmp == Temporal::Text) return mx_string(format_datetime(us));
        if (tmp == Temporal::Raw) return mx_scalar(mxINT64_CLASS, us);
        return mxCreateDoubleScalar(datenum_of_micros(us));
    }
    default: fail("Internal", "unknown column kind " + std::to_string(v.kind));
    }
}

template <class T>
mxArray* mx_column_copy(const dj_column_view& v, mxClassID cls) {
    mxArray* a = mxCreateUninitNumericMatrix(v.length, 1, cls, mxREAL);
    if (v.length > 0) std::memcpy(mxGetData(a), v.data, v.length * sizeof(T));
    return a;
}

template <class T>
mxArray* mx_column_float(const dj_column_view& v, mxClassID cls) {
    mxArray* a = mx_column_copy<T>(v, cls);
    if (v.validity) {
        T* d = static_cast<T*>(mxGetData(a));
        for (size_t i = 0; i < v.length; ++i)
            if (!v.validity[i]) d[i] = std::numeric_limits<T>::quiet_NaN();
    }
    return a;
}

template <class T>
mxArray* mx_column_int(const dj_column_view& v, mxClassID cls) {
    mxArray* a = mx_column_copy<T>(v, cls);
    if (v.validity) {  // NULL -> 0 (the validity output tells)
        T* d = static_cast<T*>(mxGetData(a));
        for (size_t i = 0; i < v.length; ++i)
            if (!v.validity[i]) d[i] = 0;
    }
    return a;
}

/// One result column (columns form): numbers as n×1 arrays of their class, text/bytes as n×1 cells.
mxArray* mx_column(const dj_column_view& v, Temporal tmp) {
    const size_t n = v.length;
    switch (v.kind) {
    case DJ_KIND_BOOL: {
        mxArray* a = mxCreateLogicalMatrix(n, 1);
        mxLogical* d = mxGetLogicals(a);
        const auto* s = static_cast<const uint8_t*>(v.data);
        for (size_t i = 0; i < n; ++i) d[i] = valid_at(v, i) && s[i] != 0;
        return a;
    }
    case DJ_KIND_INT8: return mx_column_int<int8_t>(v, mxINT8_CLASS);
    case DJ_KIND_INT16: return mx_column_int<int16_t>(v, mxINT16_CLASS);
    case DJ_KIND_INT32: return mx_column_int<int32_t>(v, mxINT32_CLASS);
    case DJ_KIND_INT64: return mx_column_int<int64_t>(v, mxINT64_CLASS);
    case DJ_KIND_UINT64: return mx_column_int<uint64_t>(v, mxUINT64_CLASS);
    case DJ_KIND_FLOAT32: return mx_column_float<float>(v, mxSINGLE_CLASS);
    case DJ_KIND_FLOAT64: return mx_column_float<double>(v, mxDOUBLE_CLASS);
    case DJ_KIND_DATE:
    case DJ_KIND_DATETIME: {
        const bool date = v.kind == DJ_KIND_DATE;
        if (tmp == Temporal::Raw)
            return date ? mx_column_int<int32_t>(v, mxINT32_CLASS) : mx_column_int<int64_t>(v, mxINT64_CLASS);
        if (tmp == Temporal::Text) {
            mxArray* c = mxCreateCellMatrix(n, 1);
            for (size_t i = 0; i < n; ++i) mxSetCell(c, i, mx_cell_value(v, i, tmp));
            return c;
        }
        mxArray* a = mxCreateUninitNumericMatrix(n, 1, mxDOUBLE_CLASS, mxREAL);
        double* d = mxGetPr(a);
        for (size_t i = 0; i < n; ++i) {
            if (!valid_at(v, i)) d[i] = std::numeric_limits<double>::quiet_NaN();
            else if (date) d[i] = datenum_of_days(static_cast<const int32_t*>(v.data)[i]);
            else d[i] = datenum_of_micros(static_cast<const int64_t*>(v.data)[i]);
        }
        return a;
    }
    default: {  // text, decimal, json, uuid, bytes: n×1 cell, NULL = []
        mxArray* c = mxCreateCellMatrix(n, 1);
        for (size_t i = 0; i < n; ++i) mxSetCell(c, i, mx_cell_value(v, i, tmp));
        return c;
    }
    }
}

dj_fetch_opts fetch_opts_of(const mxArray* o, std::vector<std::string>& attrs, std::vector<const char*>& attr_ptrs,
                            std::string& order_by) {
    dj_fetch_opts opts;
    check(dj_fetch_opts_init(&opts));
    if (const mxArray* f = opt_field(o, "attributes")) {
        attrs = cellstr_arg(f, "attributes");
        for (const auto& s : attrs) attr_ptrs.push_back(s.c_str());
        opts.attributes = attr_ptrs.data();
        opts.n_attributes = attr_ptrs.size();
    }
    if (const mxArray* f = opt_field(o, "order_by")) {
        order_by = string_arg(f, "order_by");
        if (!order_by.empty()) opts.order_by = order_by.c_str();
    }
    if (const mxArray* f = opt_field(o, "limit")) {
        const double l = scalar_arg(f, "limit");
        opts.limit = std::isinf(l) ? -1 : static_cast<int64_t>(l);
    }
    if (const mxArray* f = opt_field(o, "offset")) opts.offset = static_cast<int64_t>(scalar_arg(f, "offset"));
    return opts;
}

/// Convert a result: [data, npyNames, valid, objectNames] (see README). NpyRef and ObjectRef
/// ids are registered here (uint64 ids in the data; 0 or [] for NULL).
void result_out(const dj_result* res, const mxArray* opts, int nlhs, mxArray* plhs[]) {
    bool columns = false;
    if (const mxArray* f = opt_field(opts, "format")) {
        const std::string s = string_arg(f, "format");
        if (s == "columns") columns = true;
        else if (s != "struct") fail("InvalidArgument", "format must be 'struct' or 'columns', not '" + s + "'");
    }
    const Temporal tmp = temporal_of(opts);
    const size_t nrows = dj_result_nrows(res), ncols = dj_result_ncols(res);
    std::vector<dj_column_view> views(ncols);
    std::vector<std::string> names(ncols);
    std::vector<bool> npy(ncols), obj(ncols);
    std::vector<std::string> npy_names, obj_names;
    for (size_t c = 0; c < ncols; ++c) {
        std::memset(&views[c], 0, sizeof(dj_column_view));
        check(dj_result_column(res, c, &views[c]));
        names[c] = views[c].name ? views[c].name : "";
        npy[c] = is_npy_type(views[c].type_name);
        obj[c] = is_object_type(views[c].type_name);
        if (npy[c]) npy_names.push_back(names[c]);
        if (obj[c]) obj_names.push_back(names[c]);
    }
    std::vector<const char*> fnames(ncols);
    for (size_t c = 0; c < ncols; ++c) fnames[c] = names[c].c_str();
    NewIds created;
    auto npy_id = [&](size_t c, size_t i) -> uint64_t {
        if (!valid_at(views[c], i)) return 0;
        uint64_t id;
        if (obj[c]) {
            dj_objectref* r = nullptr;
            check(dj_result_objectref(res, c, i, &r));
            id = register_handle(HType::ObjectRef, r);
        } else {
            dj_npyref* r = nullptr;
            check(dj_result_npyref(res, c, i, &r));
            id = register_handle(HType::NpyRef, r);
        }
        created.ids.push_back(id);
        return id;
    };
    mxArray* data;
    mxArray* valid = nullptr;
    if (!columns) {
        data = mxCreateStructMatrix(nrows, 1, static_cast<int>(ncols), fnames.data());
        for (size_t c = 0; c < ncols; ++c) {
            for (size_t i = 0; i < nrows; ++i) {
                mxArray* val;
                if (npy[c] || obj[c]) {
                    const uint64_t id = npy_id(c, i);
                    val = id ? mx_uint64(id) : mx_empty();
                } else {
                    val = mx_cell_value(views[c], i, tmp);
                }
                mxSetFieldByNumber(data, i, static_cast<int>(c), val);
            }
        }
    } else {
        data = mxCreateStructMatrix(1, 1, static_cast<int>(ncols), fnames.data());
        valid = mxCreateStructMatrix(1, 1, static_cast<int>(ncols), fnames.data());
        for (size_t c = 0; c < ncols; ++c) {
            mxArray* col;
            if (npy[c] || obj[c]) {  // n×1 uint64 NpyRef / ObjectRef ids, 0 for NULL
                col = mxCreateNumericMatrix(nrows, 1, mxUINT64_CLASS, mxREAL);
                auto* d = static_cast<uint64_t*>(mxGetData(col));
                for (size_t i = 0; i < nrows; ++i) d[i] = npy_id(c, i);
            } else {
                col = mx_column(views[c], tmp);
            }
            mxSetFieldByNumber(data, 0, static_cast<int>(c), col);
            mxArray* vl = mxCreateLogicalMatrix(nrows, 1);
            mxLogical* vd = mxGetLogicals(vl);
            for (size_t i = 0; i < nrows; ++i) vd[i] = valid_at(views[c], i);
            mxSetFieldByNumber(valid, 0, static_cast<int>(c), vl);
        }
    }
    plhs[0] = data;
    if (nlhs > 1) plhs[1] = mx_cellstr(npy_names);
    if (nlhs > 2) plhs[2] = valid ? valid : mxCreateStructMatrix(1, 1, 0, nullptr);
    else if (valid) mxDestroyArray(valid);
    if (nlhs > 3) plhs[3] = mx_cellstr(obj_names);
    created.committed = true;
}

// ============================================================================ commands

using Args = const mxArray**;

void need(int nrhs, int n, const char* usage) {
    if (nrhs < n) fail("InvalidArgument", std::string("usage: dj_mex(") + usage + ")");
}

int32_t tier_arg(const mxArray* a) {
    if (mxIsChar(a)) {
        const std::string t = utf8_of_chars(a);
        if (t == "Manual" || t == "manual") return DJ_TIER_MANUAL;
        if (t == "Lookup" || t == "lookup") return DJ_TIER_LOOKUP;
        if (t == "Imported" || t == "imported") return DJ_TIER_IMPORTED;
        if (t == "Computed" || t == "computed") return DJ_TIER_COMPUTED;
        fail("InvalidArgument", "tier must be 'Manual', 'Lookup', 'Imported' or 'Computed', not '" + t + "'");
    }
    return static_cast<int32_t>(scalar_arg(a, "tier"));
}

mxArray* mx_table_id(dj_table* t) { return mx_uint64(register_handle(HType::Table, t)); }

template <class F>
mxArray* new_table(F&& f) {
    dj_table* out = nullptr;
    check(f(&out));
    return mx_table_id(out);
}

mxArray* mx_query_id(dj_query* q) { return mx_uint64(register_handle(HType::Query, q)); }

template <class F>
mxArray* new_query(F&& f) {
    dj_query* out = nullptr;
    check(f(&out));
    return mx_query_id(out);
}

/// Borrowed C strings of a list (valid while the list lives).
struct CStrings {
    std::vector<std::string> s;
    std::vector<const char*> p;
    explicit CStrings(std::vector<std::string> v) : s(std::move(v)) {
        for (const auto& x : s) p.push_back(x.c_str());
    }
    CStrings(const CStrings&) = delete;
    CStrings& operator=(const CStrings&) = delete;
    const char* const* data() const { return p.empty() ? nullptr : p.data(); }
    size_t size() const { return p.size(); }
};

dj_delete_opts delete_opts_of(const mxArray* o) {
    dj_delete_opts opts;
    check(dj_delete_opts_init(&opts));
    if (const mxArray* f = opt_field(o, "part_integrity")) {
        if (mxIsChar(f)) {
            std::string v = utf8_of_chars(f);
            for (auto& ch : v) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
            if (v == "enforce") opts.part_integrity = DJ_PART_INTEGRITY_ENFORCE;
            else if (v == "ignore") opts.part_integrity = DJ_PART_INTEGRITY_IGNORE;
            else if (v == "cascade") opts.part_integrity = DJ_PART_INTEGRITY_CASCADE;
            else fail("InvalidArgument", "part_integrity must be 'enforce', 'ignore' or 'cascade', not '" + v + "'");
        } else {
            opts.part_integrity = static_cast<int32_t>(scalar_arg(f, "part_integrity"));
        }
    }
    if (const mxArray* f = opt_field(o, "dry_run")) opts.dry_run = bool_arg(f, "dry_run") ? 1 : 0;
    return opts;
}

/// [rows of the restricted table, N×1 struct(schema, table, rows) — that table first, dry_run]
void delete_report_out(const dj_delete_report* r, int nlhs, mxArray* plhs[]) {
    const size_t n = dj_delete_report_len(r);
    const char* f[] = {"schema", "table", "rows"};
    mxArray* s = mxCreateStructMatrix(n, 1, 3, f);
    double root = 0;
    for (size_t i = 0; i < n; ++i) {
        const char* schema = nullptr;
        const char* table = nullptr;
        uint64_t rows = 0;
        const dj_status st = dj_delete_report_table(r, i, &schema, &table, &rows);
        if (st != DJ_OK) {
            mxDestroyArray(s);
            check(st);
        }
        mxSetFieldByNumber(s, i, 0, mx_string(schema));
        mxSetFieldByNumber(s, i, 1, mx_string(table));
        mxSetFieldByNumber(s, i, 2, mx_double(static_cast<double>(rows)));
        if (i == 0) root = static_cast<double>(rows);
    }
    plhs[0] = mx_double(root);
    if (nlhs > 1) plhs[1] = s;
    else mxDestroyArray(s);
    if (nlhs > 2) plhs[2] = mxCreateLogicalScalar(dj_delete_report_dry_run(r) != 0);
}

/// Restrict (or exclude) by a key struct (array) or a cell of them: one element = one key;
/// several = any of them (OR).
mxArray* restrict_by_struct(dj_table* t, const mxArray* s, bool exclude) {
    const Heading h = read_heading(t);
    Keep keep;
    std::vector<RowPtr> rows = keys_of(s, h, keep);
    if (!exclude) {
        if (rows.size() == 1) return new_table([&](dj_table** o) { return dj_table_restrict_key(t, rows[0].get(), o); });
        std::vector<const dj_row*> ptrs;
        for (auto& r : rows) ptrs.push_back(r.get());
        return new_table([&](dj_table** o) { return dj_table_restrict_keys(t, ptrs.data(), ptrs.size(), o); });
    }
    // The C ABI has no dj_table_exclude_keys: excluding any of n keys = excluding each in turn.
    TablePtr cur;
    const dj_table* base = t;
    for (auto& r : rows) {
        dj_table* next = nullptr;
        check(dj_table_exclude_key(base, r.get(), &next));
        cur.reset(next);
        base = cur.get();
    }
    if (!cur) {  // no keys: excluding nothing keeps every row
        dj_table* same = nullptr;
        check(dj_table_restrict_sql(t, "TRUE", &same));
        cur.reset(same);
    }
    return mx_table_id(cur.release());
}

template <class H>
mxArray* heading_out_with(const H* t, size_t (*count)(const H*), dj_status (*attr)(const H*, size_t, dj_attr_info*)) {
    const size_t n = count(t);
    const char* fields[] = {"name", "type", "kind", "comment", "default", "in_key", "nullable", "is_npy"};
    mxArray* s = mxCreateStructMatrix(n, 1, 8, fields);
    for (size_t i = 0; i < n; ++i) {
        dj_attr_info a;
        std::memset(&a, 0, sizeof a);
        check(attr(t, i, &a));
        mxSetFieldByNumber(s, i, 0, mx_string(a.name));
        mxSetFieldByNumber(s, i, 1, mx_string(a.type_name));
        mxSetFieldByNumber(s, i, 2, mx_string(is_npy_type(a.type_name) ? "array" : kind_name(a.kind)));
        mxSetFieldByNumber(s, i, 3, mx_string(a.comment));
        mxSetFieldByNumber(s, i, 4, a.default_value ? mx_string(a.default_value) : mx_empty());
        mxSetFieldByNumber(s, i, 5, mxCreateLogicalScalar(a.in_key != 0));
        mxSetFieldByNumber(s, i, 6, mxCreateLogicalScalar(a.nullable != 0));
        mxSetFieldByNumber(s, i, 7, mxCreateLogicalScalar(is_npy_type(a.type_name)));
    }
    return s;
}

mxArray* heading_out(const dj_table* t) { return heading_out_with(t, dj_table_attr_count, dj_table_attr); }
mxArray* heading_out(const dj_query* q) { return heading_out_with(q, dj_query_attr_count, dj_query_attr); }

mxArray* npy_shape_out(const dj_npyref* r) {
    int32_t nd = 0;
    const int64_t* sh = nullptr;
    check(dj_npyref_shape(r, &nd, &sh));
    mxArray* a = mxCreateDoubleMatrix(1, nd, mxREAL);
    for (int32_t k = 0; k < nd; ++k) mxGetPr(a)[k] = static_cast<double>(sh[k]);
    return a;
}

const char* matlab_class_of_dtype(int32_t d) {
    switch (d) {
    case DJ_DTYPE_BOOL: return "logical";
    case DJ_DTYPE_INT8: return "int8";
    case DJ_DTYPE_INT16: return "int16";
    case DJ_DTYPE_INT32: return "int32";
    case DJ_DTYPE_INT64: return "int64";
    case DJ_DTYPE_UINT8: return "uint8";
    case DJ_DTYPE_UINT16: return "uint16";
    case DJ_DTYPE_UINT32: return "uint32";
    case DJ_DTYPE_UINT64: return "uint64";
    case DJ_DTYPE_FLOAT16: return "single";
    case DJ_DTYPE_FLOAT32: return "single";
    case DJ_DTYPE_FLOAT64: return "double";
    case DJ_DTYPE_COMPLEX64: return "single";
    case DJ_DTYPE_COMPLEX128: return "double";
    default: return "cell";
    }
}

// ============================================================================ objects, staged inserts, gc

/// Bytes to write from a MATLAB value: the raw elements of a real numeric or logical array (any
/// class, in memory order, little-endian) or the UTF-8 bytes of a char array.
struct ByteArg {
    const void* raw = nullptr;
    size_t len = 0;
    bool is_text = false;
    std::string text;
    const void* data() const { return is_text ? static_cast<const void*>(text.data()) : raw; }
};

ByteArg byte_arg(const mxArray* a, const char* what) {
    ByteArg b;
    if (a != nullptr && mxIsChar(a)) {
        b.is_text = true;
        b.text = utf8_of_chars(a);
        b.len = b.text.size();
        return b;
    }
    if (a == nullptr || !(mxIsNumeric(a) || mxIsLogical(a)) || mxIsSparse(a) || mxIsComplex(a))
        fail("Type", std::string(what) + " must be a real numeric, logical or char array (uint8 for bytes), not " +
                         (a ? mxGetClassName(a) : "nothing"));
    b.len = mxGetNumberOfElements(a) * mxGetElementSize(a);
    b.raw = b.len ? mxGetData(a) : nullptr;
    return b;
}

uint64_t offset_arg(int nrhs, Args a, int i, const char* what) {
    if (i >= nrhs || is_null_marker(a[i])) return 0;
    const double d = scalar_arg(a[i], what);
    if (!(d >= 0) || d != std::floor(d) || std::isinf(d)) fail("InvalidArgument", std::string(what) + " must be an integer >= 0");
    return static_cast<uint64_t>(d);
}

/// A uint8 row of `n` bytes whose data the caller fills (then trims with mxSetN).
mxArray* mx_bytes(size_t n) { return mxCreateNumericMatrix(1, n, mxUINT8_CLASS, mxREAL); }

struct ReaderDel { void operator()(dj_reader* r) const noexcept { dj_reader_free(r); } };
using ReaderPtr = std::unique_ptr<dj_reader, ReaderDel>;

/// Read up to `want` bytes of a reader into a new uint8 row.
mxArray* read_into_row(dj_reader* rd, uint64_t want) {
    if (want > static_cast<uint64_t>(std::numeric_limits<size_t>::max())) fail("OutOfMemory", "the object is too large");
    mxArray* m = mx_bytes(static_cast<size_t>(want));
    size_t got = 0;
    if (want > 0) {
        const dj_status st = dj_reader_read(rd, mxGetData(m), static_cast<size_t>(want), &got);
        if (st != DJ_OK) {
            mxDestroyArray(m);
            check(st);
        }
    }
    mxSetN(m, got);
    return m;
}

mxArray* mx_count_or_empty(int64_t v) { return v < 0 ? mx_empty() : mx_double(static_cast<double>(v)); }

/// Called by the library with the total bytes a staged insert wrote so far, on this (MATLAB's)
/// thread, from inside dj_writer_write / dj_staged_put. It calls the MATLAB function with
/// mexCallMATLABWithTrap, so a MATLAB error never unwinds through the library: the function
/// (dj.StagedInsert wraps the user's one) returns [] or struct(identifier, message), and the
/// first failure is kept for the commit. While it runs, dj_mex refuses commands that could free
/// or change what the library is using (see dispatch).
void progress_cb(uint64_t bytes, void* user) noexcept {
    auto* p = static_cast<ProgressCtx*>(user);
    if (p == nullptr || p->fn == nullptr || p->failed) return;
    auto fail_with = [p](const char* id, std::string msg) {
        if (p->failed) return;
        p->failed = true;
        p->err_id = id;
        p->err_msg = std::move(msg);
    };
    mxArray* in[2] = {p->fn, nullptr};
    mxArray* out[1] = {nullptr};
    mxArray* trapped = nullptr;
    ++g_callback_depth;
    try {
        in[1] = mxCreateDoubleScalar(static_cast<double>(bytes));
        trapped = mexCallMATLABWithTrap(1, out, 2, in, "feval");
    } catch (...) {  // an interrupt, say: never into the library
        fail_with("DataJoint:Callback", "the progress callback was interrupted");
    }
    --g_callback_depth;
    try {
        if (in[1]) mxDestroyArray(in[1]);
        if (trapped != nullptr) {
            std::string msg = "the progress function raised an error";
            const mxArray* m = mxIsStruct(trapped) ? mxGetField(trapped, 0, "message") : nullptr;
            if (m && mxIsChar(m)) msg = utf8_of_chars(m);
            fail_with("DataJoint:Callback", msg);
            mxDestroyArray(trapped);
        }
        if (out[0] != nullptr) {
            if (mxIsStruct(out[0]) && mxGetNumberOfElements(out[0]) == 1) {
                const mxArray* id = mxGetField(out[0], 0, "identifier");
                const mxArray* msg = mxGetField(out[0], 0, "message");
                std::string sid = id && mxIsChar(id) ? utf8_of_chars(id) : std::string();
                fail_with(sid.empty() ? "DataJoint:Callback" : sid.c_str(), msg && mxIsChar(msg) ? utf8_of_chars(msg) : "");
            }
            mxDestroyArray(out[0]);
        }
    } catch (...) {
        fail_with("DataJoint:Callback", "the progress callback failed");
    }
}

void free_ids(const uint64_t* ids, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        auto it = g_registry.find(ids[i]);
        if (it == g_registry.end()) continue;
        const Entry e = it->second;
        g_registry.erase(it);
        free_entry(e);
    }
    update_lock();
}

mxArray* gc_out(const dj_gc_stats& st) {
    const char* f[] = {"hash_objects", "schema_objects", "references", "orphaned_hash", "orphaned_schema",
                       "orphaned_bytes", "young", "deleted", "bytes_freed", "requests", "dry_run"};
    const uint64_t v[] = {st.hash_objects, st.schema_objects, st.references, st.orphaned_hash, st.orphaned_schema,
                          st.orphaned_bytes, st.young, st.deleted, st.bytes_freed, st.requests};
    mxArray* s = mxCreateStructMatrix(1, 1, 11, f);
    for (int k = 0; k < 10; ++k) mxSetFieldByNumber(s, 0, k, mx_double(static_cast<double>(v[k])));
    mxSetFieldByNumber(s, 0, 10, mxCreateLogicalScalar(st.dry_run != 0));
    return s;
}

// ============================================================================ populate

/// The MATLAB functions of one populate (borrowed from the command's arguments, which live as
/// long as the command). `make(tableId, key)` returns [] or struct(identifier, message[, stack])
/// (dj.Table.populate wraps the user's function so that its errors come back this way);
/// `progress(struct(done, total, succeeded, failed))` is called after each key.
struct PopulateCtx {
    const mxArray* make = nullptr;
    const mxArray* progress = nullptr;
    bool interrupted = false;  // an interrupt (Ctrl-C) reached us: no more MATLAB calls
};

/// Destroys the mxArrays it holds (never throws: at worst one is left to the interpreter).
struct MxArrays {
    std::vector<mxArray*> v;
    ~MxArrays() {
        for (mxArray* a : v) {
            if (a == nullptr) continue;
            try {
                mxDestroyArray(a);
            } catch (...) {
            }
        }
    }
};

/// A char array, or a stack (a struct array with name / file / line, as MException.stack) as
/// text: one "name (file:line)" line per frame.
std::string stack_text(const mxArray* st) {
    if (st == nullptr) return std::string();
    if (mxIsChar(st)) return utf8_of_chars(st);
    if (!mxIsStruct(st)) return std::string();
    std::string out;
    const size_t n = mxGetNumberOfElements(st);
    for (size_t i = 0; i < n; ++i) {
        const mxArray* name = mxGetField(st, i, "name");
        const mxArray* file = mxGetField(st, i, "file");
        const mxArray* line = mxGetField(st, i, "line");
        std::string s = name && mxIsChar(name) ? utf8_of_chars(name) : std::string("?");
        std::string f = file && mxIsChar(file) ? utf8_of_chars(file) : std::string();
        if (!f.empty() || (line && mxIsNumeric(line) && mxGetNumberOfElements(line) == 1)) {
            s += " (" + f;
            if (line && mxIsNumeric(line) && mxGetNumberOfElements(line) == 1)
                s += ":" + std::to_string(static_cast<long long>(mxGetScalar(line)));
            s += ")";
        }
        out += s;
        if (i + 1 < n) out += "\n";
    }
    return out;
}

/// One field or property of an error value: struct(identifier, message, stack) (the +dj
/// wrapper's result, Octave's trapped error) or an MException object (MATLAB's trapped error).
/// A property is a copy, destroyed with `keep`.
const mxArray* error_part(const mxArray* e, const char* name, MxArrays& keep) {
    if (mxIsStruct(e)) return mxGetNumberOfElements(e) >= 1 ? mxGetField(e, 0, name) : nullptr;
    mxArray* p = mxGetProperty(e, 0, name);  // MException (MATLAB): a copy
    keep.v.push_back(p);
    return p;
}

/// The jobs-table message of an error value: "identifier: message" (just the message without
/// an identifier; Octave's "dj_mex: " prefix of MEX errors dropped) and the stack text.
bool describe_error(const mxArray* e, std::string& msg, std::string& stack) {
    if (e == nullptr) return false;
    MxArrays keep;
    const mxArray* id = error_part(e, "identifier", keep);
    const mxArray* m = error_part(e, "message", keep);
    if (m == nullptr && id == nullptr) return false;
    std::string sid = id && mxIsChar(id) ? utf8_of_chars(id) : std::string();
    std::string smsg = m && mxIsChar(m) ? utf8_of_chars(m) : std::string();
    static const std::string prefix = "dj_mex: ";
    if (smsg.compare(0, prefix.size(), prefix) == 0) smsg.erase(0, prefix.size());
    msg = sid.empty() ? smsg : (smsg.empty() ? sid : sid + ": " + smsg);
    if (msg.empty()) msg = "make failed (an error without a message)";
    stack = stack_text(error_part(e, "stack", keep));
    return true;
}

/// Call the MATLAB make function for one key: true if it succeeded, else the failure's
/// message and stack. The table it gets is a new handle id (a clone of the one the library
/// lends, which is valid only during the call); it is freed when the call returns, so it is
/// valid during make only — like the library's. The key is a 1×1 struct (as fetch gives).
bool call_make(PopulateCtx& p, const dj_table* table, const dj_result* key, std::string& msg, std::string& stack) {
    dj_table* tc = nullptr;
    check(dj_table_clone(table, &tc));
    const uint64_t tid = register_handle(HType::Table, tc);
    struct FreeAfter {
        uint64_t id;
        ~FreeAfter() { free_ids(&id, 1); }
    } free_after{tid};
    MxArrays args;
    args.v.push_back(mx_uint64(tid));
    mxArray* k[1] = {nullptr};
    result_out(key, nullptr, 1, k);
    args.v.push_back(k[0]);
    mxArray* in[3] = {const_cast<mxArray*>(p.make), args.v[0], args.v[1]};
    mxArray* out[1] = {nullptr};
    mxArray* trapped = nullptr;
    // Every dj_mex command may run inside (make inserts, fetches, frees its objects, even
    // dj.reset): the populate uses only handles of its own (see table_populate).
    try {
        trapped = mexCallMATLABWithTrap(1, out, 3, in, "feval");
    } catch (...) {  // an interrupt, say (Octave throws it through the MEX API): never into the library
        p.interrupted = true;
        msg = "DataJoint:Interrupted: the make function was interrupted";
        return false;
    }
    MxArrays results;
    results.v.push_back(trapped);
    results.v.push_back(out[0]);
    if (trapped != nullptr) {  // the function itself could not be called, or raised past the wrapper
        if (!describe_error(trapped, msg, stack)) msg = "the make function raised an error";
        return false;
    }
    if (out[0] != nullptr && !is_null_marker(out[0]) && mxIsStruct(out[0]) && mxGetNumberOfElements(out[0]) == 1 &&
        mxGetField(out[0], 0, "message") != nullptr) {
        describe_error(out[0], msg, stack);
        return false;
    }
    return true;
}

/// The dj_make_fn of table_populate: calls the MATLAB function through mexCallMATLABWithTrap,
/// so no MATLAB error (longjmp) or C++ exception crosses the library; a failure is reported
/// with dj_make_fail and a non-zero return (the library rolls the key's transaction back).
int32_t make_cb(void* user, const dj_table* table, const dj_result* key, dj_make_ctx* ctx) noexcept {
    auto* p = static_cast<PopulateCtx*>(user);
    std::string msg, stack;
    bool ok = false;
    try {
        if (p == nullptr || p->make == nullptr) msg = "no make function";
        else if (p->interrupted) msg = "DataJoint:Interrupted: the populate was interrupted before this key";
        else ok = call_make(*p, table, key, msg, stack);
    } catch (const MexError& e) {
        msg = e.id + ": " + e.msg;
    } catch (const std::bad_alloc&) {
        msg = "DataJoint:OutOfMemory: out of memory";
    } catch (const std::exception& e) {
        msg = std::string("DataJoint:Internal: ") + e.what();
    } catch (...) {
        msg = "DataJoint:Internal: unknown C++ exception";
    }
    if (ok) return 0;
    if (msg.empty()) msg = "make failed";
    dj_make_fail(ctx, msg.c_str(), stack.empty() ? nullptr : stack.c_str());
    return 1;
}

/// The dj_populate_progress_fn of table_populate: progress(struct(done, total, succeeded,
/// failed)); its errors are dropped (dj.Table.populate's wrapper turns them into warnings).
void populate_progress_cb(const dj_populate_progress* pr, void* user) noexcept {
    auto* p = static_cast<PopulateCtx*>(user);
    if (p == nullptr || p->progress == nullptr || p->interrupted || pr == nullptr) return;
    try {
        MxArrays args;
        const char* f[] = {"done", "total", "succeeded", "failed"};
        mxArray* s = mxCreateStructMatrix(1, 1, 4, f);
        args.v.push_back(s);
        mxSetFieldByNumber(s, 0, 0, mx_double(static_cast<double>(pr->done)));
        mxSetFieldByNumber(s, 0, 1, mx_double(static_cast<double>(pr->total)));
        mxSetFieldByNumber(s, 0, 2, mx_double(static_cast<double>(pr->succeeded)));
        mxSetFieldByNumber(s, 0, 3, mx_double(static_cast<double>(pr->failed)));
        mxArray* in[2] = {const_cast<mxArray*>(p->progress), s};
        mxArray* out[1] = {nullptr};
        mxArray* trapped = nullptr;
        try {
            trapped = mexCallMATLABWithTrap(0, out, 2, in, "feval");
        } catch (...) {
            p->interrupted = true;
        }
        args.v.push_back(trapped);
        args.v.push_back(out[0]);
    } catch (...) {
    }
}

/// The restrictions of populate / progress: a cell of restrictions, ANDed (or a single one
/// outside a cell), each SQL (char), a table or query id, or keys — a struct array or a cell of
/// structs (OR). The first keys go to opts.keys; further ones become `key_source & keys`
/// queries. Everything the options point to lives here.
struct PopRestrictions {
    std::vector<std::string> sql;
    std::vector<const char*> sql_ptrs;
    std::vector<Operand> operands;
    std::vector<QueryPtr> owned;
    std::vector<const dj_query*> queries;
    std::vector<RowPtr> key_rows;
    std::vector<const dj_row*> keys;
    bool has_keys = false;
    Keep keep;
    QueryPtr ks;
    Heading heading;
    bool have_heading = false;

    PopRestrictions(const dj_table* t, const mxArray* r) {
        if (r == nullptr) return;
        if (mxIsCell(r)) {
            const size_t n = mxGetNumberOfElements(r);
            for (size_t i = 0; i < n; ++i) add(t, mxGetCell(r, i), i + 1);
        } else {
            add(t, r, 1);
        }
        for (const auto& s : sql) sql_ptrs.push_back(s.c_str());
    }
    PopRestrictions(const PopRestrictions&) = delete;
    PopRestrictions& operator=(const PopRestrictions&) = delete;

    /// The key source's heading (converts key values); the table's if it has none.
    const Heading& key_heading(const dj_table* t) {
        if (!have_heading) {
            dj_query* q = nullptr;
            if (dj_table_key_source(t, &q) == DJ_OK) {
                ks.reset(q);
                heading = read_heading(q);
            } else {
                heading = read_heading(t);
            }
            have_heading = true;
        }
        return heading;
    }

    void add(const dj_table* t, const mxArray* e, size_t i) {
        const std::string what = "restriction " + std::to_string(i);
        if (e == nullptr || is_null_marker(e)) return;
        if (mxIsChar(e)) {
            sql.push_back(utf8_of_chars(e));
        } else if (is_id(e)) {
            operands.push_back(operand_arg(e, what.c_str()));
            queries.push_back(operands.back().q());
        } else if (mxIsStruct(e) || mxIsCell(e)) {
            std::vector<RowPtr> rows = keys_of(e, key_heading(t), keep);
            if (!has_keys) {
                has_keys = true;
                for (auto& row : rows) {
                    keys.push_back(row.get());
                    key_rows.push_back(std::move(row));
                }
                return;
            }
            if (!ks) {
                dj_query* q = nullptr;
                check(dj_table_key_source(t, &q));
                ks.reset(q);
            }
            std::vector<const dj_row*> ptrs;
            for (auto& row : rows) ptrs.push_back(row.get());
            dj_query* q = nullptr;
            check(dj_query_restrict_keys(ks.get(), ptrs.data(), ptrs.size(), 0, &q));
            owned.emplace_back(q);
            queries.push_back(q);
            for (auto& row : rows) key_rows.push_back(std::move(row));
        } else {
            fail("InvalidArgument", what + " must be an SQL condition (char), a key struct (array), a cell of key "
                                           "structs, or a table or query");
        }
    }

    void apply(dj_populate_opts& o) const {
        static const dj_row* const none = nullptr;
        o.restrictions = sql_ptrs.empty() ? nullptr : sql_ptrs.data();
        o.n_restrictions = sql_ptrs.size();
        o.restrict_queries = queries.empty() ? nullptr : queries.data();
        o.n_restrict_queries = queries.size();
        if (has_keys) {
            o.keys = keys.empty() ? &none : keys.data();  // no keys: nothing matches
            o.n_keys = keys.size();
        }
    }
};

int64_t count_opt(const mxArray* f, const char* what) {
    const double d = scalar_arg(f, what);
    if (std::isinf(d) && d > 0) return -1;
    if (!(d >= 0) || d != std::floor(d)) fail("InvalidArgument", std::string(what) + " must be an integer >= 0 (or Inf)");
    return static_cast<int64_t>(d);
}

/// dj_populate_opts from an options struct (restrictions, reserve_jobs, suppress_errors,
/// max_calls, order, priority, refresh); `r` holds what its pointers refer to.
dj_populate_opts populate_opts_of(const mxArray* o, const PopRestrictions& r) {
    dj_populate_opts opts;
    check(dj_populate_opts_init(&opts));
    r.apply(opts);
    if (const mxArray* f = opt_field(o, "reserve_jobs")) opts.reserve_jobs = bool_arg(f, "reserve_jobs") ? 1 : 0;
    if (const mxArray* f = opt_field(o, "suppress_errors"))
        opts.suppress_errors = bool_arg(f, "suppress_errors") ? 1 : 0;
    if (const mxArray* f = opt_field(o, "max_calls")) opts.max_calls = count_opt(f, "max_calls");
    if (const mxArray* f = opt_field(o, "order")) {
        std::string v = string_arg(f, "order");
        for (auto& ch : v) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        if (v == "original") opts.order = DJ_ORDER_ORIGINAL;
        else if (v == "reverse") opts.order = DJ_ORDER_REVERSE;
        else if (v == "random") opts.order = DJ_ORDER_RANDOM;
        else fail("InvalidArgument", "order must be 'original', 'reverse' or 'random', not '" + v + "'");
    }
    if (const mxArray* f = opt_field(o, "priority")) {
        const double d = scalar_arg(f, "priority");
        if (d != std::floor(d) || d < 0 || d > 127) fail("InvalidArgument", "priority must be an integer 0..127");
        opts.priority = static_cast<int64_t>(d);
    }
    if (const mxArray* f = opt_field(o, "refresh")) opts.refresh = bool_arg(f, "refresh") ? 1 : 0;
    return opts;
}

mxArray* counts_out(const char* const* names, const uint64_t* v, int n) {
    mxArray* s = mxCreateStructMatrix(1, 1, n, const_cast<const char**>(names));
    for (int k = 0; k < n; ++k) mxSetFieldByNumber(s, 0, k, mx_double(static_cast<double>(v[k])));
    return s;
}

/// Commands allowed while a progress callback runs: none that could free, or reach into, a
/// handle the library is using at that moment (`free` is deferred until the callback is over).
bool allowed_in_callback(const std::string& cmd) {
    return cmd == "free" || cmd == "handle_count" || cmd == "handles" || cmd == "is_live" || cmd == "is_locked" ||
           cmd == "version" || cmd == "abi" || cmd == "status_name";
}

void dispatch(const std::string& cmd, int nlhs, mxArray* plhs[], int nrhs, Args a) {
    if (g_callback_depth > 0 && !allowed_in_callback(cmd))
        fail("InvalidArgument", "dj_mex('" + cmd + "') cannot be called from inside a progress callback");
    // ---------------------------------------------------------------- static
    if (cmd == "version") {
        plhs[0] = mx_string(dj_version_string());
    } else if (cmd == "abi") {
        const uint32_t v = dj_abi_version();
        plhs[0] = mx_double(static_cast<double>(v));
        if (nlhs > 1) {
            plhs[1] = mx_double(static_cast<double>(v >> 16));
            if (nlhs > 2) plhs[2] = mx_double(static_cast<double>(v & 0xFFFF));
        }
    } else if (cmd == "handle_count") {
        plhs[0] = mx_double(static_cast<double>(g_registry.size()));
    } else if (cmd == "handles") {  // diagnostic: [ids, type names]
        mxArray* ids = mxCreateNumericMatrix(g_registry.size(), 1, mxUINT64_CLASS, mxREAL);
        std::vector<std::string> types;
        size_t k = 0;
        for (const auto& kv : g_registry) {
            static_cast<uint64_t*>(mxGetData(ids))[k++] = kv.first;
            types.emplace_back(htype_name(kv.second.type));
        }
        plhs[0] = ids;
        if (nlhs > 1) plhs[1] = mx_cellstr(types);
    } else if (cmd == "is_locked") {
        plhs[0] = mxCreateLogicalScalar(mexIsLocked() != 0);
    } else if (cmd == "reset") {
        const size_t n = free_all();
        update_lock();
        plhs[0] = mx_double(static_cast<double>(n));
    } else if (cmd == "free") {  // free handles by id (a uint64 array); unknown / 0 ids are ignored
        need(nrhs, 1, "'free', ids");
        if (!mxIsUint64(a[0])) fail("InvalidHandle", "expected handle ids (uint64)");
        const size_t n = mxGetNumberOfElements(a[0]);
        const auto* ids = static_cast<const uint64_t*>(mxGetData(a[0]));
        if (g_callback_depth > 0) g_deferred_free.insert(g_deferred_free.end(), ids, ids + n);
        else free_ids(ids, n);
    } else if (cmd == "is_live") {
        need(nrhs, 1, "'is_live', id");
        plhs[0] = mxCreateLogicalScalar(mxIsUint64(a[0]) && mxGetNumberOfElements(a[0]) == 1 &&
                                        g_registry.count(*static_cast<const uint64_t*>(mxGetData(a[0]))) != 0);
    } else if (cmd == "blob_pack") {  // value -> uint8 row of DataJoint blob bytes (mYm, or dj0)
        need(nrhs, 1, "'blob_pack', value");
        ValuePtr v = value_of_mx(a[0], "value");
        size_t len = 0;
        check(dj_value_pack(v.get(), nullptr, 0, &len));
        std::vector<uint8_t> buf(len);
        check(dj_value_pack(v.get(), buf.data(), buf.size(), &len));
        mxArray* m = mxCreateNumericMatrix(1, len, mxUINT8_CLASS, mxREAL);
        if (len) std::memcpy(mxGetData(m), buf.data(), len);
        plhs[0] = m;
    } else if (cmd == "blob_unpack") {  // uint8 blob bytes (mYm or dj0) -> value
        need(nrhs, 1, "'blob_unpack', bytes");
        if (!mxIsUint8(a[0])) fail("InvalidArgument", "blob_unpack takes uint8 bytes");
        dj_value* out = nullptr;
        check(dj_value_unpack(mxGetData(a[0]), mxGetNumberOfElements(a[0]), &out));
        ValuePtr v(out);
        plhs[0] = mx_of_value(v.get());
    } else if (cmd == "status_name") {
        need(nrhs, 1, "'status_name', code");
        plhs[0] = mx_string(dj_status_name(static_cast<dj_status>(scalar_arg(a[0], "code"))));
    } else if (cmd == "date_from_ymd") {
        need(nrhs, 3, "'date_from_ymd', y, m, d");
        int32_t d = 0;
        check(dj_date_from_ymd(static_cast<int32_t>(scalar_arg(a[0], "year")),
                               static_cast<uint32_t>(scalar_arg(a[1], "month")),
                               static_cast<uint32_t>(scalar_arg(a[2], "day")), &d));
        plhs[0] = mx_scalar(mxINT32_CLASS, d);
    } else if (cmd == "datetime_parse") {  // text -> int64 µs since the epoch
        need(nrhs, 1, "'datetime_parse', text");
        int64_t us = 0;
        check(dj_datetime_parse(string_arg(a[0], "text").c_str(), &us));
        plhs[0] = mx_scalar(mxINT64_CLASS, us);
    } else if (cmd == "datetime_format") {  // int64 µs (or a datenum double) -> text
        need(nrhs, 1, "'datetime_format', micros");
        int64_t us;
        if (mxIsDouble(a[0])) us = micros_of_datenum(scalar_arg(a[0], "datenum"), "datenum");
        else {
            bool ok = true;
            if (!(mxIsNumeric(a[0])) || mxGetNumberOfElements(a[0]) != 1) fail("InvalidArgument", "expected a scalar");
            us = int_at(a[0], 0, ok);
        }
        plhs[0] = mx_string(format_datetime(us));
    } else if (cmd == "date_format") {  // int32 days (or a datenum double) -> text
        need(nrhs, 1, "'date_format', days");
        int32_t d;
        if (mxIsDouble(a[0])) d = days_of_datenum(scalar_arg(a[0], "datenum"), "datenum");
        else d = static_cast<int32_t>(scalar_arg(a[0], "days"));
        plhs[0] = mx_string(format_date(d));
    }
    // ---------------------------------------------------------------- connection
    else if (cmd == "connect") {  // (config_path or '', overrides_json or '')
        const std::string cfg = opt_string_arg(nrhs, a, 0, "config_path");
        const std::string ovr = opt_string_arg(nrhs, a, 1, "overrides_json");
        dj_conn* c = nullptr;
        check(dj_connect(cfg.empty() ? nullptr : cfg.c_str(), ovr.empty() ? nullptr : ovr.c_str(), &c));
        plhs[0] = mx_uint64(register_handle(HType::Conn, c));
    } else if (cmd == "connect_duckdb") {  // (path or ':memory:' / '')
        const std::string p = opt_string_arg(nrhs, a, 0, "path");
        dj_conn* c = nullptr;
        check(dj_connect_duckdb(p.empty() ? nullptr : p.c_str(), &c));
        plhs[0] = mx_uint64(register_handle(HType::Conn, c));
    } else if (cmd == "conn_close") {
        need(nrhs, 1, "'conn_close', conn");
        check(dj_conn_close(conn_arg(a[0])));
    } else if (cmd == "conn_backend") {
        need(nrhs, 1, "'conn_backend', conn");
        const char* name = nullptr;
        check(dj_conn_backend(conn_arg(a[0]), &name));
        plhs[0] = mx_string(name);
    } else if (cmd == "conn_list_schemas") {
        need(nrhs, 1, "'conn_list_schemas', conn");
        dj_strlist* l = nullptr;
        check(dj_conn_list_schemas(conn_arg(a[0]), &l));
        plhs[0] = mx_strlist(l);
    } else if (cmd == "conn_store_stats") {
        need(nrhs, 1, "'conn_store_stats', conn[, store]");
        const std::string store = opt_string_arg(nrhs, a, 1, "store");
        uint64_t req = 0, rd = 0, wr = 0;
        check(dj_conn_store_stats(conn_arg(a[0]), store.empty() ? nullptr : store.c_str(), &req, &rd, &wr));
        const char* f[] = {"requests", "bytes_read", "bytes_written"};
        mxArray* s = mxCreateStructMatrix(1, 1, 3, f);
        mxSetField(s, 0, "requests", mx_double(static_cast<double>(req)));
        mxSetField(s, 0, "bytes_read", mx_double(static_cast<double>(rd)));
        mxSetField(s, 0, "bytes_written", mx_double(static_cast<double>(wr)));
        plhs[0] = s;
    }
    // ---------------------------------------------------------------- schema
    else if (cmd == "schema_open") {  // (conn, name[, create = true])
        need(nrhs, 2, "'schema_open', conn, name[, create]");
        dj_conn* c = conn_arg(a[0]);
        const std::string name = string_arg(a[1], "name");
        const int32_t create = nrhs > 2 ? (bool_arg(a[2], "create") ? 1 : 0) : 1;
        dj_schema* s = nullptr;
        check(dj_schema_open(c, name.c_str(), create, &s));
        plhs[0] = mx_uint64(register_handle(HType::Schema, s));
    } else if (cmd == "schema_name") {
        need(nrhs, 1, "'schema_name', schema");
        plhs[0] = mx_string(borrowed(dj_schema_name(schema_arg(a[0]))));
    } else if (cmd == "schema_list_tables") {
        need(nrhs, 1, "'schema_list_tables', schema");
        dj_strlist* l = nullptr;
        check(dj_schema_list_tables(schema_arg(a[0]), &l));
        plhs[0] = mx_strlist(l);
    } else if (cmd == "schema_drop") {
        need(nrhs, 1, "'schema_drop', schema");
        check(dj_schema_drop(schema_arg(a[0])));
    }
    // ---------------------------------------------------------------- tables
    else if (cmd == "table_declare") {  // (schema, class_name, tier, definition)
        need(nrhs, 4, "'table_declare', schema, class_name, tier, definition");
        dj_schema* s = schema_arg(a[0]);
        const std::string cls = string_arg(a[1], "class_name");
        const int32_t tier = tier_arg(a[2]);
        const std::string def = string_arg(a[3], "definition");
        plhs[0] = new_table([&](dj_table** o) { return dj_table_declare(s, cls.c_str(), tier, def.c_str(), o); });
    } else if (cmd == "table_declare_part") {  // (schema, master_table, part_class, definition)
        need(nrhs, 4, "'table_declare_part', schema, master, part_class, definition");
        dj_schema* s = schema_arg(a[0]);
        dj_table* m = table_arg(a[1]);
        const std::string cls = string_arg(a[2], "part_class");
        const std::string def = string_arg(a[3], "definition");
        plhs[0] = new_table([&](dj_table** o) { return dj_table_declare_part(s, m, cls.c_str(), def.c_str(), o); });
    } else if (cmd == "table_open") {
        need(nrhs, 2, "'table_open', schema, name");
        dj_schema* s = schema_arg(a[0]);
        const std::string name = string_arg(a[1], "name");
        plhs[0] = new_table([&](dj_table** o) { return dj_table_open(s, name.c_str(), o); });
    } else if (cmd == "table_name") {
        need(nrhs, 1, "'table_name', table");
        plhs[0] = mx_string(borrowed(dj_table_name(table_arg(a[0]))));
    } else if (cmd == "table_comment") {
        need(nrhs, 1, "'table_comment', table");
        plhs[0] = mx_string(borrowed(dj_table_comment(table_arg(a[0]))));
    } else if (cmd == "table_heading") {
        need(nrhs, 1, "'table_heading', table");
        plhs[0] = heading_out(table_arg(a[0]));
    } else if (cmd == "table_drop") {
        need(nrhs, 1, "'table_drop', table");
        check(dj_table_drop(table_arg(a[0])));
    } else if (cmd == "table_restrict" || cmd == "table_exclude") {
        // (table, sql char | key struct array | cell of key structs | table or query id)
        need(nrhs, 2, "'table_restrict', table, condition");
        dj_table* t = table_arg(a[0]);
        const bool ex = cmd == "table_exclude";
        if (mxIsChar(a[1])) {
            const std::string cond = utf8_of_chars(a[1]);
            plhs[0] = new_table([&](dj_table** o) {
                return ex ? dj_table_exclude_sql(t, cond.c_str(), o) : dj_table_restrict_sql(t, cond.c_str(), o);
            });
        } else if (mxIsStruct(a[1]) || mxIsCell(a[1])) {
            plhs[0] = restrict_by_struct(t, a[1], ex);
        } else if (is_id(a[1])) {
            Operand other = operand_arg(a[1], "condition");
            const dj_query* q = other.q();
            plhs[0] = new_table([&](dj_table** o) {
                return ex ? dj_table_exclude_query(t, q, o) : dj_table_restrict_query(t, q, o);
            });
        } else {
            fail("InvalidArgument",
                 "a restriction is an SQL condition (char), a key struct (array), a cell of keys, or a table or query");
        }
    } else if (cmd == "table_insert_rows") {  // (table, struct array[, opts])
        need(nrhs, 2, "'table_insert_rows', table, rows[, opts]");
        dj_table* t = table_arg(a[0]);
        const dj_insert_opts opts = insert_opts_of(nrhs > 2 ? a[2] : nullptr);
        const Heading h = read_heading(t);
        Keep keep;
        std::vector<RowPtr> rows = rows_of_struct(a[1], h, keep, "rows");
        std::vector<const dj_row*> ptrs;
        for (auto& r : rows) ptrs.push_back(r.get());
        uint64_t count = 0;
        if (!ptrs.empty()) check(dj_table_insert_rows(t, ptrs.data(), ptrs.size(), &opts, &count));
        plhs[0] = mx_double(static_cast<double>(count));
    } else if (cmd == "table_insert_columns") {  // (table, struct of columns[, opts])
        need(nrhs, 2, "'table_insert_columns', table, columns[, opts]");
        dj_table* t = table_arg(a[0]);
        const mxArray* s = a[1];
        if (!mxIsStruct(s) || mxGetNumberOfElements(s) != 1)
            fail("InvalidArgument", "columns must be a 1×1 struct whose fields are columns");
        const dj_insert_opts opts = insert_opts_of(nrhs > 2 ? a[2] : nullptr);
        const Heading h = read_heading(t);
        const int nf = mxGetNumberOfFields(s);
        std::vector<ColBuf> bufs(nf);
        Keep keep;
        size_t nrows = 0;
        for (int f = 0; f < nf; ++f) {
            const mxArray* c = mxGetFieldByNumber(s, 0, f);
            const std::string name = mxGetFieldNameByNumber(s, f);
            const size_t len = c ? column_length(c) : 0;
            if (f == 0) nrows = len;
            else if (len != nrows)
                fail("InvalidArgument", "column '" + name + "' has " + std::to_string(len) + " values, column '" +
                                            bufs[0].name + "' has " + std::to_string(nrows));
        }
        for (int f = 0; f < nf; ++f) {
            const mxArray* c = mxGetFieldByNumber(s, 0, f);
            ColBuf& b = bufs[f];
            b.name = mxGetFieldNameByNumber(s, f);
            const AttrMeta* meta = h.find(b.name);
            const std::string ctx = "column '" + b.name + "'";
            if (c == nullptr) fail("InvalidArgument", ctx + " is missing");
            if (meta && meta->kind == DJ_KIND_BLOB && !mxIsCell(c)) {
                fail("Type", ctx + " (<blob>) must be a cell array with one value per row");
            } else if (mxIsChar(c)) {  // one string = one row
                b.kind = meta && meta->kind == DJ_KIND_DECIMAL ? DJ_KIND_DECIMAL
                         : meta && meta->kind == DJ_KIND_JSON && meta->codec.empty() ? DJ_KIND_JSON
                                                               : DJ_KIND_STRING;
                const std::string str = utf8_of_chars(c);
                b.own.assign(str.begin(), str.end());
                b.offsets = {0, static_cast<int64_t>(str.size())};
                b.data = b.own.empty() ? nullptr : b.own.data();
            } else if (mxIsCell(c)) {
                column_cell(b, c, nrows, meta, keep, ctx);
            } else if (meta && meta->npy) {
                fail("Type", ctx + " (<npy@>) must be a cell array with one array per row");
            } else if (mxIsNumeric(c) || mxIsLogical(c)) {
                column_numeric(b, c, nrows, meta, ctx);
            } else {
                fail("Type", ctx + ": cannot convert a " + std::string(mxGetClassName(c)) + " column");
            }
        }
        std::vector<dj_column_in> cols(nf);
        for (int f = 0; f < nf; ++f) {
            std::memset(&cols[f], 0, sizeof(dj_column_in));
            cols[f].name = bufs[f].name.c_str();
            cols[f].kind = bufs[f].kind;
            cols[f].data = bufs[f].data;
            cols[f].offsets = bufs[f].offsets.empty() ? nullptr : bufs[f].offsets.data();
            cols[f].validity = bufs[f].validity.empty() ? nullptr : bufs[f].validity.data();
        }
        uint64_t count = 0;
        check(dj_table_insert_columns(t, cols.data(), cols.size(), nrows, &opts, &count));
        plhs[0] = mx_double(static_cast<double>(count));
    } else if (cmd == "table_fetch" || cmd == "table_fetch1" || cmd == "table_keys") {  // (table[, opts])
        need(nrhs, 1, "'table_fetch', table[, opts]");
        dj_table* t = table_arg(a[0]);
        const mxArray* o = nrhs > 1 ? a[1] : nullptr;
        std::vector<std::string> attrs;
        std::vector<const char*> ptrs;
        std::string order_by;
        const dj_fetch_opts opts = fetch_opts_of(o, attrs, ptrs, order_by);
        dj_result* raw = nullptr;
        if (cmd == "table_fetch") check(dj_table_fetch(t, &opts, &raw));
        else if (cmd == "table_fetch1") check(dj_table_fetch1(t, &opts, &raw));
        else check(dj_table_keys(t, &opts, &raw));
        ResultPtr res(raw);
        result_out(res.get(), o, nlhs, plhs);
    } else if (cmd == "table_count") {
        need(nrhs, 1, "'table_count', table");
        uint64_t n = 0;
        check(dj_table_count(table_arg(a[0]), &n));
        plhs[0] = mx_double(static_cast<double>(n));
    } else if (cmd == "table_delete") {  // (table[, struct(part_integrity, dry_run)]) -> [n, report, dry_run]
        need(nrhs, 1, "'table_delete', table[, opts]");
        dj_table* t = table_arg(a[0]);
        if (nrhs < 2 && nlhs < 2) {
            uint64_t n = 0;
            check(dj_table_delete(t, &n));
            plhs[0] = mx_double(static_cast<double>(n));
        } else {
            const dj_delete_opts opts = delete_opts_of(nrhs > 1 ? a[1] : nullptr);
            dj_delete_report* raw = nullptr;
            check(dj_table_delete_cascade(t, &opts, &raw));
            ReportPtr r(raw);
            delete_report_out(r.get(), nlhs, plhs);
        }
    } else if (cmd == "table_update1") {  // (table, 1×1 struct: the primary key and the values; [] = default)
        need(nrhs, 2, "'table_update1', table, row");
        dj_table* t = table_arg(a[0]);
        if (!mxIsStruct(a[1]) || mxGetNumberOfElements(a[1]) != 1)
            fail("InvalidArgument", "update1 takes a 1x1 struct (the primary key and the attributes to change)");
        const Heading h = read_heading(t);
        Keep keep;
        std::vector<RowPtr> rows = rows_of_struct(a[1], h, keep, "row", true);
        check(dj_table_update1(t, rows[0].get()));
    }
    // ---------------------------------------------------------------- queries
    // Operands (x, a, b, group) are table or query ids; every operator returns a new query id.
    else if (cmd == "query_of") {  // (table) -> query
        need(nrhs, 1, "'query_of', table");
        dj_table* t = table_arg(a[0]);
        plhs[0] = new_query([&](dj_query** o) { return dj_table_query(t, o); });
    } else if (cmd == "query_restrict" || cmd == "query_exclude") {
        // (x, sql char | key struct array | cell of key structs | table or query id[, semantic_check])
        need(nrhs, 2, "'query_restrict', x, condition[, semantic_check]");
        Operand x = operand_arg(a[0], "x");
        const dj_query* q = x.q();
        const bool ex = cmd == "query_exclude";
        const mxArray* c = a[1];
        if (mxIsChar(c)) {
            const std::string cond = utf8_of_chars(c);
            plhs[0] = new_query([&](dj_query** o) {
                return ex ? dj_query_exclude_sql(q, cond.c_str(), o) : dj_query_restrict_sql(q, cond.c_str(), o);
            });
        } else if (mxIsStruct(c) || mxIsCell(c)) {
            const Heading h = read_heading(q);
            Keep keep;
            std::vector<RowPtr> rows = keys_of(c, h, keep);
            std::vector<const dj_row*> ptrs;
            for (auto& r : rows) ptrs.push_back(r.get());
            plhs[0] = new_query(
                [&](dj_query** o) { return dj_query_restrict_keys(q, ptrs.data(), ptrs.size(), ex ? 1 : 0, o); });
        } else if (is_id(c)) {
            Operand other = operand_arg(c, "condition");
            const dj_query* oq = other.q();
            const int32_t sem = nrhs > 2 ? (bool_arg(a[2], "semantic_check") ? 1 : 0) : 1;
            plhs[0] = new_query([&](dj_query** o) { return dj_query_restrict_query(q, oq, ex ? 1 : 0, sem, o); });
        } else {
            fail("InvalidArgument",
                 "a restriction is an SQL condition (char), a key struct (array), a cell of keys, or a table or query");
        }
    } else if (cmd == "query_join") {  // (a, b[, semantic_check = true[, left = false]])
        need(nrhs, 2, "'query_join', a, b[, semantic_check, left]");
        Operand x = operand_arg(a[0], "a"), y = operand_arg(a[1], "b");
        const int32_t sem = nrhs > 2 ? (bool_arg(a[2], "semantic_check") ? 1 : 0) : 1;
        const int32_t left = nrhs > 3 ? (bool_arg(a[3], "left") ? 1 : 0) : 0;
        const dj_query* qa = x.q();
        const dj_query* qb = y.q();
        plhs[0] = new_query([&](dj_query** o) { return dj_query_join(qa, qb, sem, left, o); });
    } else if (cmd == "query_proj") {  // (x, items cellstr)
        need(nrhs, 2, "'query_proj', x, items");
        Operand x = operand_arg(a[0], "x");
        const CStrings items(cellstr_arg(a[1], "items"));
        const dj_query* q = x.q();
        plhs[0] = new_query([&](dj_query** o) { return dj_query_proj(q, items.data(), items.size(), o); });
    } else if (cmd == "query_aggr") {  // (x, group, items[, exclude_nonmatching = false])
        need(nrhs, 3, "'query_aggr', x, group, items[, exclude_nonmatching]");
        Operand x = operand_arg(a[0], "x"), g = operand_arg(a[1], "group");
        const CStrings items(cellstr_arg(a[2], "items"));
        const int32_t ex = nrhs > 3 ? (bool_arg(a[3], "exclude_nonmatching") ? 1 : 0) : 0;
        const dj_query* q = x.q();
        const dj_query* gq = g.q();
        plhs[0] = new_query([&](dj_query** o) { return dj_query_aggr(q, gq, items.data(), items.size(), ex, o); });
    } else if (cmd == "query_union") {  // (a, b)
        need(nrhs, 2, "'query_union', a, b");
        Operand x = operand_arg(a[0], "a"), y = operand_arg(a[1], "b");
        const dj_query* qa = x.q();
        const dj_query* qb = y.q();
        plhs[0] = new_query([&](dj_query** o) { return dj_query_union(qa, qb, o); });
    } else if (cmd == "query_universal") {  // (attrs cellstr, x): dj.U(attrs) & x
        need(nrhs, 2, "'query_universal', attrs, x");
        const CStrings attrs(cellstr_arg(a[0], "attrs"));
        Operand x = operand_arg(a[1], "x");
        const dj_query* q = x.q();
        plhs[0] = new_query([&](dj_query** o) { return dj_query_universal(attrs.data(), attrs.size(), q, o); });
    } else if (cmd == "query_universal_aggr") {  // (attrs cellstr, group, items): aggr(dj.U(attrs), group, items)
        need(nrhs, 3, "'query_universal_aggr', attrs, group, items");
        const CStrings attrs(cellstr_arg(a[0], "attrs"));
        Operand g = operand_arg(a[1], "group");
        const CStrings items(cellstr_arg(a[2], "items"));
        const dj_query* gq = g.q();
        plhs[0] = new_query([&](dj_query** o) {
            return dj_query_universal_aggr(attrs.data(), attrs.size(), gq, items.data(), items.size(), o);
        });
    } else if (cmd == "query_top") {  // (x[, limit = Inf (none)[, order_by = '' (KEY)[, offset = 0]]])
        need(nrhs, 1, "'query_top', x[, limit, order_by, offset]");
        Operand x = operand_arg(a[0], "x");
        int64_t limit = -1;
        if (nrhs > 1 && !is_null_marker(a[1])) {
            const double l = scalar_arg(a[1], "limit");
            if (!std::isinf(l)) {
                if (!(l >= 0) || l != std::floor(l)) fail("InvalidArgument", "limit must be an integer >= 0 or Inf");
                limit = static_cast<int64_t>(l);
            }
        }
        const std::string order_by = opt_string_arg(nrhs, a, 2, "order_by");
        const uint64_t offset = offset_arg(nrhs, a, 3, "offset");
        const dj_query* q = x.q();
        plhs[0] = new_query([&](dj_query** o) {
            return dj_query_top(q, limit, order_by.empty() ? nullptr : order_by.c_str(), offset, o);
        });
    } else if (cmd == "query_heading") {  // (x) -> struct array as table_heading
        need(nrhs, 1, "'query_heading', x");
        Operand x = operand_arg(a[0], "x");
        plhs[0] = x.table ? heading_out(x.table) : heading_out(x.query);
    } else if (cmd == "query_fetch" || cmd == "query_fetch1" || cmd == "query_keys") {  // (x[, opts]) as table_fetch
        need(nrhs, 1, "'query_fetch', x[, opts]");
        Operand x = operand_arg(a[0], "x");
        const mxArray* o = nrhs > 1 ? a[1] : nullptr;
        std::vector<std::string> attrs;
        std::vector<const char*> ptrs;
        std::string order_by;
        const dj_fetch_opts opts = fetch_opts_of(o, attrs, ptrs, order_by);
        dj_result* raw = nullptr;
        if (x.table) {  // a table: its own fetch (the path table_fetch takes)
            if (cmd == "query_fetch") check(dj_table_fetch(x.table, &opts, &raw));
            else if (cmd == "query_fetch1") check(dj_table_fetch1(x.table, &opts, &raw));
            else check(dj_table_keys(x.table, &opts, &raw));
        } else {
            if (cmd == "query_fetch") check(dj_query_fetch(x.query, &opts, &raw));
            else if (cmd == "query_fetch1") check(dj_query_fetch1(x.query, &opts, &raw));
            else check(dj_query_keys(x.query, &opts, &raw));
        }
        ResultPtr res(raw);
        result_out(res.get(), o, nlhs, plhs);
    } else if (cmd == "query_count") {
        need(nrhs, 1, "'query_count', x");
        Operand x = operand_arg(a[0], "x");
        uint64_t n = 0;
        check(x.table ? dj_table_count(x.table, &n) : dj_query_count(x.query, &n));
        plhs[0] = mx_double(static_cast<double>(n));
    } else if (cmd == "query_contains") {  // (x, key 1×1 struct) -> logical
        need(nrhs, 2, "'query_contains', x, key");
        Operand x = operand_arg(a[0], "x");
        if (!mxIsStruct(a[1]) || mxGetNumberOfElements(a[1]) != 1)
            fail("InvalidArgument", "contains takes a 1x1 key struct");
        const dj_query* q = x.q();
        const Heading h = read_heading(q);
        Keep keep;
        std::vector<RowPtr> rows = rows_of_struct(a[1], h, keep, "key");
        int32_t found = 0;
        check(dj_query_contains(q, rows[0].get(), &found));
        plhs[0] = mxCreateLogicalScalar(found != 0);
    } else if (cmd == "query_sql") {  // (x) -> the SELECT a fetch runs (parameters as placeholders)
        need(nrhs, 1, "'query_sql', x");
        Operand x = operand_arg(a[0], "x");
        plhs[0] = mx_string(borrowed(dj_query_sql(x.q())));
    }
    // ---------------------------------------------------------------- npy refs
    else if (cmd == "npy_shape") {
        need(nrhs, 1, "'npy_shape', ref");
        plhs[0] = npy_shape_out(npyref_arg(a[0]));
    } else if (cmd == "npy_dtype") {  // [numpy name, DJ_DTYPE code, itemsize, MATLAB class]
        need(nrhs, 1, "'npy_dtype', ref");
        const dj_npyref* r = npyref_arg(a[0]);
        int32_t d = 0;
        int64_t isz = 0;
        check(dj_npyref_dtype(r, &d, &isz));
        plhs[0] = mx_string(borrowed(dj_npyref_dtype_name(r)));
        if (nlhs > 1) plhs[1] = mx_double(d);
        if (nlhs > 2) plhs[2] = mx_double(static_cast<double>(isz));
        if (nlhs > 3) plhs[3] = mx_string(matlab_class_of_dtype(d));
    } else if (cmd == "npy_size") {  // [element count, data bytes]
        need(nrhs, 1, "'npy_size', ref");
        uint64_t n = 0, nb = 0;
        check(dj_npyref_size(npyref_arg(a[0]), &n, &nb));
        plhs[0] = mx_double(static_cast<double>(n));
        if (nlhs > 1) plhs[1] = mx_double(static_cast<double>(nb));
    } else if (cmd == "npy_nbytes") {
        need(nrhs, 1, "'npy_nbytes', ref");
        uint64_t n = 0, nb = 0;
        check(dj_npyref_size(npyref_arg(a[0]), &n, &nb));
        plhs[0] = mx_double(static_cast<double>(nb));
    } else if (cmd == "npy_path") {
        need(nrhs, 1, "'npy_path', ref");
        plhs[0] = mx_string(borrowed(dj_npyref_path(npyref_arg(a[0]))));
    } else if (cmd == "npy_store") {
        need(nrhs, 1, "'npy_store', ref");
        plhs[0] = mx_string(borrowed(dj_npyref_store(npyref_arg(a[0]))));
    } else if (cmd == "npy_is_loaded") {
        need(nrhs, 1, "'npy_is_loaded', ref");
        int32_t l = 0;
        check(dj_npyref_is_loaded(npyref_arg(a[0]), &l));
        plhs[0] = mxCreateLogicalScalar(l != 0);
    } else if (cmd == "npy_load" || cmd == "npy_map") {
        need(nrhs, 1, "'npy_load', ref");
        const dj_npyref* r = npyref_arg(a[0]);
        ViewGuard g;
        check(cmd == "npy_load" ? dj_npyref_load(r, &g.v) : dj_npyref_map(r, &g.v));
        plhs[0] = mx_of_view(g.v);
        if (nlhs > 1) plhs[1] = mx_double(static_cast<double>(g.v.flags));
    } else if (cmd == "npy_read_rows") {  // (ref, start, stop): 0-based, stop exclusive
        need(nrhs, 3, "'npy_read_rows', ref, start, stop");
        const dj_npyref* r = npyref_arg(a[0]);
        const double s0 = scalar_arg(a[1], "start"), s1 = scalar_arg(a[2], "stop");
        if (s0 < 0 || s1 < 0) fail("InvalidArgument", "start and stop must be non-negative");
        ViewGuard g;
        check(dj_npyref_read_rows(r, static_cast<uint64_t>(s0), static_cast<uint64_t>(s1), &g.v));
        plhs[0] = mx_of_view(g.v);
    } else if (cmd == "npy_local_file") {  // struct(path, offset, fortran, big_endian, shape, dtype, class)
        need(nrhs, 1, "'npy_local_file', ref");
        const dj_npyref* r = npyref_arg(a[0]);
        const char* path = nullptr;
        uint64_t off = 0;
        int32_t fortran = 0, big = 0, d = 0;
        int64_t isz = 0;
        check(dj_npyref_local_file(r, &path, &off, &fortran, &big));
        const std::string p = path ? path : "";
        check(dj_npyref_dtype(r, &d, &isz));
        const char* f[] = {"path", "offset", "fortran_order", "big_endian", "shape", "dtype", "itemsize", "class"};
        mxArray* s = mxCreateStructMatrix(1, 1, 8, f);
        mxSetField(s, 0, "path", mx_string(p));
        mxSetField(s, 0, "offset", mx_double(static_cast<double>(off)));
        mxSetField(s, 0, "fortran_order", mxCreateLogicalScalar(fortran != 0));
        mxSetField(s, 0, "big_endian", mxCreateLogicalScalar(big != 0));
        mxSetField(s, 0, "shape", npy_shape_out(r));
        mxSetField(s, 0, "dtype", mx_string(borrowed(dj_npyref_dtype_name(r))));
        mxSetField(s, 0, "itemsize", mx_double(static_cast<double>(isz)));
        mxSetField(s, 0, "class", mx_string(matlab_class_of_dtype(d)));
        plhs[0] = s;
    }
    // ---------------------------------------------------------------- object refs
    else if (cmd == "objref_path") {
        need(nrhs, 1, "'objref_path', ref");
        plhs[0] = mx_string(borrowed(dj_objectref_path(objref_arg(a[0]))));
    } else if (cmd == "objref_store") {
        need(nrhs, 1, "'objref_store', ref");
        plhs[0] = mx_string(borrowed(dj_objectref_store(objref_arg(a[0]))));
    } else if (cmd == "objref_ext") {  // '' when none was recorded
        need(nrhs, 1, "'objref_ext', ref");
        plhs[0] = mx_string(dj_objectref_ext(objref_arg(a[0])));
    } else if (cmd == "objref_timestamp") {  // ISO-8601 text, '' when none was recorded
        need(nrhs, 1, "'objref_timestamp', ref");
        plhs[0] = mx_string(dj_objectref_timestamp(objref_arg(a[0])));
    } else if (cmd == "objref_info") {  // struct(size, is_dir, item_count); [] = unknown
        need(nrhs, 1, "'objref_info', ref");
        dj_object_info info;
        std::memset(&info, 0, sizeof info);
        check(dj_objectref_info(objref_arg(a[0]), &info));
        const char* f[] = {"size", "is_dir", "item_count"};
        mxArray* s = mxCreateStructMatrix(1, 1, 3, f);
        mxSetField(s, 0, "size", mx_count_or_empty(info.size));
        mxSetField(s, 0, "is_dir", mxCreateLogicalScalar(info.is_dir != 0));
        mxSetField(s, 0, "item_count", mx_count_or_empty(info.item_count));
        plhs[0] = s;
    } else if (cmd == "objref_files") {  // N×1 struct array (name, size)
        need(nrhs, 1, "'objref_files', ref");
        dj_filelist* raw = nullptr;
        check(dj_objectref_files(objref_arg(a[0]), &raw));
        std::unique_ptr<dj_filelist, void (*)(dj_filelist*)> l(raw, dj_filelist_free);
        const size_t n = dj_filelist_len(l.get());
        const char* f[] = {"name", "size"};
        mxArray* s = mxCreateStructMatrix(n, 1, 2, f);
        for (size_t i = 0; i < n; ++i) {
            mxSetFieldByNumber(s, i, 0, mx_string(dj_filelist_name(l.get(), i)));
            mxSetFieldByNumber(s, i, 1, mx_double(static_cast<double>(dj_filelist_size(l.get(), i))));
        }
        plhs[0] = s;
    } else if (cmd == "objref_exists") {  // (ref[, subpath])
        need(nrhs, 1, "'objref_exists', ref[, subpath]");
        const dj_objectref* r = objref_arg(a[0]);
        const std::string sub = opt_string_arg(nrhs, a, 1, "subpath");
        uint8_t e = 0;
        check(dj_objectref_exists(r, sub.c_str(), &e));
        plhs[0] = mxCreateLogicalScalar(e != 0);
    } else if (cmd == "objref_read") {  // (ref[, subpath[, offset[, len]]]): 0-based offset; len Inf = to the end
        need(nrhs, 1, "'objref_read', ref[, subpath, offset, len]");
        const dj_objectref* r = objref_arg(a[0]);
        const std::string sub = opt_string_arg(nrhs, a, 1, "subpath");
        const uint64_t off = offset_arg(nrhs, a, 2, "offset");
        double len = std::numeric_limits<double>::infinity();
        if (nrhs > 3 && !is_null_marker(a[3])) {
            len = scalar_arg(a[3], "len");
            if (!(len >= 0) || (!std::isinf(len) && len != std::floor(len)))
                fail("InvalidArgument", "len must be an integer >= 0 or Inf");
        }
        if (!std::isinf(len) && len <= 64.0 * 1024 * 1024) {  // one ranged read
            const size_t n = static_cast<size_t>(len);
            mxArray* m = mx_bytes(n);
            size_t got = 0;
            const dj_status st = dj_objectref_read(r, sub.c_str(), off, n ? mxGetData(m) : nullptr, n, &got);
            if (st != DJ_OK) {
                mxDestroyArray(m);
                check(st);
            }
            mxSetN(m, got);
            plhs[0] = m;
        } else {  // to the end, or a large range: size it first, then stream into the array
            dj_reader* raw = nullptr;
            check(dj_objectref_open(r, sub.c_str(), off, &raw));
            ReaderPtr rd(raw);
            const uint64_t size = dj_reader_size(rd.get());
            uint64_t want = size > off ? size - off : 0;
            if (!std::isinf(len) && static_cast<double>(want) > len) want = static_cast<uint64_t>(len);
            plhs[0] = read_into_row(rd.get(), want);
        }
    } else if (cmd == "objref_open") {  // (ref[, subpath[, offset]]) -> reader id
        need(nrhs, 1, "'objref_open', ref[, subpath, offset]");
        const dj_objectref* r = objref_arg(a[0]);
        const std::string sub = opt_string_arg(nrhs, a, 1, "subpath");
        const uint64_t off = offset_arg(nrhs, a, 2, "offset");
        dj_reader* rd = nullptr;
        check(dj_objectref_open(r, sub.c_str(), off, &rd));
        plhs[0] = mx_uint64(register_handle(HType::Reader, rd));
    } else if (cmd == "objref_download") {  // (ref, dest) -> bytes
        need(nrhs, 2, "'objref_download', ref, dest");
        const dj_objectref* r = objref_arg(a[0]);
        const std::string dest = string_arg(a[1], "dest");
        uint64_t n = 0;
        check(dj_objectref_download(r, dest.c_str(), &n));
        plhs[0] = mx_double(static_cast<double>(n));
    } else if (cmd == "objref_local_path") {  // '' for stores that are not local
        need(nrhs, 1, "'objref_local_path', ref");
        const char* p = nullptr;
        check(dj_objectref_local_path(objref_arg(a[0]), &p));
        plhs[0] = mx_string(p);
    } else if (cmd == "reader_read") {  // (reader, n) -> up to n bytes (1×0 at the end)
        need(nrhs, 2, "'reader_read', reader, n");
        dj_reader* rd = reader_arg(a[0]);
        const uint64_t n = offset_arg(nrhs, a, 1, "n");
        const uint64_t size = dj_reader_size(rd);
        plhs[0] = read_into_row(rd, n < size ? n : size);
    } else if (cmd == "reader_size") {
        need(nrhs, 1, "'reader_size', reader");
        plhs[0] = mx_double(static_cast<double>(dj_reader_size(reader_arg(a[0]))));
    }
    // ---------------------------------------------------------------- staged inserts
    else if (cmd == "staged_begin") {  // (table) -> staged id
        need(nrhs, 1, "'staged_begin', table");
        dj_table* t = table_arg(a[0]);
        auto e = std::make_unique<StagedEntry>();
        e->heading = read_heading(t);
        e->keep.copy = true;
        e->progress = std::make_shared<ProgressCtx>();
        check(dj_staged_begin(t, &e->s));
        // always registered (cheap when no function is set): writers take the callback when
        // they are opened, so onProgress works for writers opened before it too
        check(dj_staged_set_progress(e->s, &progress_cb, e->progress.get()));
        plhs[0] = mx_uint64(register_handle(HType::Staged, e.release()));
    } else if (cmd == "staged_set") {  // (staged, 1×1 struct of values)
        need(nrhs, 2, "'staged_set', staged, values");
        StagedEntry* e = staged_arg(a[0]);
        if (!mxIsStruct(a[1]) || mxGetNumberOfElements(a[1]) != 1)
            fail("InvalidArgument", "set takes a 1x1 struct of attribute values (the primary key first)");
        std::vector<RowPtr> rows = rows_of_struct(a[1], e->heading, e->keep, "values");
        check(dj_staged_set(e->s, rows[0].get()));
    } else if (cmd == "staged_open" || cmd == "staged_open_key") {  // (staged, field, ext | key) -> writer id
        need(nrhs, 2, "'staged_open', staged, field[, ext]");
        StagedEntry* e = staged_arg(a[0]);
        const std::string field = string_arg(a[1], "field");
        auto w = std::make_unique<WriterEntry>();
        w->progress = e->progress;
        if (cmd == "staged_open") {
            const std::string ext = opt_string_arg(nrhs, a, 2, "ext");
            check(dj_staged_open(e->s, field.c_str(), ext.c_str(), &w->w));
        } else {
            need(nrhs, 3, "'staged_open_key', staged, field, key");
            const std::string key = string_arg(a[2], "key");
            check(dj_staged_open_key(e->s, field.c_str(), key.c_str(), &w->w));
        }
        plhs[0] = mx_uint64(register_handle(HType::Writer, w.release()));
    } else if (cmd == "staged_put") {  // (staged, field, key, data)
        need(nrhs, 4, "'staged_put', staged, field, key, data");
        StagedEntry* e = staged_arg(a[0]);
        const std::string field = string_arg(a[1], "field");
        const std::string key = string_arg(a[2], "key");
        const ByteArg b = byte_arg(a[3], "data");
        check(dj_staged_put(e->s, field.c_str(), key.c_str(), b.data(), b.len));
    } else if (cmd == "staged_local_dir") {  // (staged, field) -> folder
        need(nrhs, 2, "'staged_local_dir', staged, field");
        StagedEntry* e = staged_arg(a[0]);
        const std::string field = string_arg(a[1], "field");
        const char* p = nullptr;
        check(dj_staged_local_dir(e->s, field.c_str(), &p));
        plhs[0] = mx_string(p);
    } else if (cmd == "staged_set_progress") {  // (staged, fn or []): fn(bytes) returns [] or struct(identifier, message)
        need(nrhs, 2, "'staged_set_progress', staged, fn");
        StagedEntry* e = staged_arg(a[0]);
        const bool none = is_null_marker(a[1]);
        if (!none && !mxIsClass(a[1], "function_handle"))
            fail("InvalidArgument", "the progress function must be a function handle (or [] for none)");
        ProgressCtx& p = *e->progress;
        p.release();
        if (!none && !e->finished) {
            mxArray* fn = mxDuplicateArray(a[1]);
            mexMakeArrayPersistent(fn);
            p.fn = fn;
        }
    } else if (cmd == "staged_bytes_written") {
        need(nrhs, 1, "'staged_bytes_written', staged");
        plhs[0] = mx_double(static_cast<double>(dj_staged_bytes_written(staged_arg(a[0])->s)));
    } else if (cmd == "staged_commit") {
        need(nrhs, 1, "'staged_commit', staged");
        StagedEntry* e = staged_arg(a[0]);
        ProgressCtx& p = *e->progress;
        p.release();  // finished either way (this also ends a cycle through a function that holds the insert)
        if (p.failed && !e->finished) {  // an error in the progress function: nothing is kept
            e->finished = true;
            dj_staged_abort(e->s);
            throw MexError{p.err_id, "the progress function failed, the staged insert was aborted: " + p.err_msg};
        }
        e->finished = true;  // the library finishes it either way
        check(dj_staged_commit(e->s));
    } else if (cmd == "staged_abort") {
        need(nrhs, 1, "'staged_abort', staged");
        StagedEntry* e = staged_arg(a[0]);
        e->finished = true;
        e->progress->release();
        check(dj_staged_abort(e->s));
    } else if (cmd == "staged_is_finished") {
        need(nrhs, 1, "'staged_is_finished', staged");
        plhs[0] = mxCreateLogicalScalar(staged_arg(a[0])->finished);
    } else if (cmd == "writer_write") {  // (writer, data)
        need(nrhs, 2, "'writer_write', writer, data");
        WriterEntry* w = writer_arg(a[0]);
        const ByteArg b = byte_arg(a[1], "data");
        check(dj_writer_write(w->w, b.data(), b.len));
    } else if (cmd == "writer_close") {  // -> bytes
        need(nrhs, 1, "'writer_close', writer");
        uint64_t n = 0;
        check(dj_writer_close(writer_arg(a[0])->w, &n));
        plhs[0] = mx_double(static_cast<double>(n));
    }
    // ---------------------------------------------------------------- populate
    else if (cmd == "table_populate") {
        // (table, make, opts) -> [success_count, errors N×1 struct(key, message), skipped]
        // make(tableId, key) returns [] or struct(identifier, message[, stack]) (see PopulateCtx)
        need(nrhs, 2, "'table_populate', table, make[, opts]");
        const dj_table* t = table_arg(a[0]);
        if (!mxIsClass(a[1], "function_handle")) fail("InvalidArgument", "make must be a function handle");
        const mxArray* o = nrhs > 2 ? a[2] : nullptr;
        const mxArray* pf = opt_field(o, "progress");
        if (pf != nullptr && !mxIsClass(pf, "function_handle"))
            fail("InvalidArgument", "the progress function must be a function handle (or [] for none)");
        // A handle of our own: the MATLAB functions may free any registry handle (clear, dj.reset).
        dj_table* own_raw = nullptr;
        check(dj_table_clone(t, &own_raw));
        TablePtr own(own_raw);
        PopRestrictions r(own.get(), opt_field(o, "restrictions"));
        dj_populate_opts opts = populate_opts_of(o, r);
        PopulateCtx ctx;
        ctx.make = a[1];
        ctx.progress = pf;
        if (pf != nullptr) {
            opts.progress = &populate_progress_cb;
            opts.progress_user_data = &ctx;
        }
        dj_populate_report* raw = nullptr;
        const dj_status st = dj_table_populate(own.get(), &make_cb, &ctx, &opts, &raw);
        std::unique_ptr<dj_populate_report, void (*)(dj_populate_report*)> rep(raw, dj_populate_report_free);
        if (ctx.interrupted) fail("Interrupted", "the populate was interrupted");
        check(st);
        const size_t n = dj_populate_report_error_count(rep.get());
        const char* f[] = {"key", "message"};
        mxArray* errs = mxCreateStructMatrix(n, 1, 2, f);
        for (size_t i = 0; i < n; ++i) {  // the key as make got it: a 1×1 struct
            const char* m = nullptr;
            dj_result* kr = nullptr;
            check(dj_populate_report_error(rep.get(), i, &m, nullptr, &kr));
            ResultPtr key(kr);
            mxArray* k[1] = {nullptr};
            result_out(key.get(), nullptr, 1, k);
            mxSetFieldByNumber(errs, i, 0, k[0]);
            mxSetFieldByNumber(errs, i, 1, mx_string(m ? m : ""));
        }
        plhs[0] = mx_double(static_cast<double>(dj_populate_report_success_count(rep.get())));
        if (nlhs > 1) plhs[1] = errs;
        else mxDestroyArray(errs);
        if (nlhs > 2) plhs[2] = mx_double(static_cast<double>(dj_populate_report_skipped(rep.get())));
    } else if (cmd == "table_progress") {  // (table[, struct(restrictions)]) -> [remaining, total]
        need(nrhs, 1, "'table_progress', table[, opts]");
        const dj_table* t = table_arg(a[0]);
        const mxArray* o = nrhs > 1 ? a[1] : nullptr;
        PopRestrictions r(t, opt_field(o, "restrictions"));
        dj_populate_opts opts;
        check(dj_populate_opts_init(&opts));
        r.apply(opts);
        uint64_t remaining = 0, total = 0;
        check(dj_table_progress(t, &opts, &remaining, &total));
        plhs[0] = mx_double(static_cast<double>(remaining));
        if (nlhs > 1) plhs[1] = mx_double(static_cast<double>(total));
    } else if (cmd == "table_key_source") {  // (table) -> query
        need(nrhs, 1, "'table_key_source', table");
        const dj_table* t = table_arg(a[0]);
        plhs[0] = new_query([&](dj_query** out) { return dj_table_key_source(t, out); });
    } else if (cmd == "table_with_key_source") {  // (table, table or query) -> table
        need(nrhs, 2, "'table_with_key_source', table, key_source");
        const dj_table* t = table_arg(a[0]);
        Operand ks = operand_arg(a[1], "key_source");
        const dj_query* q = ks.q();
        plhs[0] = new_table([&](dj_table** out) { return dj_table_with_key_source(t, q, out); });
    } else if (cmd == "table_jobs") {  // (table) -> the jobs table ~~<name>
        need(nrhs, 1, "'table_jobs', table");
        const dj_table* t = table_arg(a[0]);
        plhs[0] = new_table([&](dj_table** out) { return dj_table_jobs(t, out); });
    } else if (cmd == "jobs_refresh") {
        // (table[, struct(restrictions (SQL), delay, priority, stale_timeout, orphan_timeout)])
        //   -> struct(added, removed, orphaned, re_pended)
        need(nrhs, 1, "'jobs_refresh', table[, opts]");
        const dj_table* t = table_arg(a[0]);
        const mxArray* o = nrhs > 1 ? a[1] : nullptr;
        dj_refresh_opts ro;
        check(dj_refresh_opts_init(&ro));
        std::vector<std::string> sql;
        if (const mxArray* f = opt_field(o, "restrictions")) {
            if (!(mxIsChar(f) || mxIsCell(f)))
                fail("InvalidArgument", "refresh restrictions are SQL conditions (char or a cell of char)");
            if (!(mxIsCell(f) && mxGetNumberOfElements(f) == 0)) sql = cellstr_arg(f, "refresh restrictions (SQL only)");
        }
        const CStrings restr(sql);
        ro.restrictions = restr.data();
        ro.n_restrictions = restr.size();
        if (const mxArray* f = opt_field(o, "delay")) ro.delay = scalar_arg(f, "delay");
        if (const mxArray* f = opt_field(o, "priority")) {
            const double d = scalar_arg(f, "priority");
            if (d != std::floor(d) || d < 0 || d > 127) fail("InvalidArgument", "priority must be an integer 0..127");
            ro.priority = static_cast<int64_t>(d);
        }
        if (const mxArray* f = opt_field(o, "stale_timeout")) ro.stale_timeout = scalar_arg(f, "stale_timeout");
        if (const mxArray* f = opt_field(o, "orphan_timeout")) ro.orphan_timeout = scalar_arg(f, "orphan_timeout");
        dj_refresh_report rep;
        std::memset(&rep, 0, sizeof rep);
        check(dj_jobs_refresh(t, &ro, &rep));
        const char* f[] = {"added", "removed", "orphaned", "re_pended"};
        const uint64_t v[] = {rep.added, rep.removed, rep.orphaned, rep.re_pended};
        plhs[0] = counts_out(f, v, 4);
    } else if (cmd == "jobs_progress") {  // (table) -> struct(pending, reserved, success, error, ignore, total)
        need(nrhs, 1, "'jobs_progress', table");
        dj_job_counts c;
        std::memset(&c, 0, sizeof c);
        check(dj_jobs_progress(table_arg(a[0]), &c));
        const char* f[] = {"pending", "reserved", "success", "error", "ignore", "total"};
        const uint64_t v[] = {c.pending, c.reserved, c.success, c.error, c.ignore, c.total};
        plhs[0] = counts_out(f, v, 6);
    } else if (cmd == "jobs_ignore") {  // (table, key struct (array) or cell of keys): mark their jobs `ignore`
        need(nrhs, 2, "'jobs_ignore', table, key");
        const dj_table* t = table_arg(a[0]);
        const Heading h = read_heading(t);
        Keep keep;
        std::vector<RowPtr> rows = keys_of(a[1], h, keep);
        for (auto& row : rows) check(dj_jobs_ignore(t, row.get()));
    }
    // ---------------------------------------------------------------- gc
    else if (cmd == "schema_gc") {  // (schema[, struct(dry_run, store, grace)]) -> stats struct
        need(nrhs, 1, "'schema_gc', schema[, opts]");
        dj_schema* sc = schema_arg(a[0]);
        const mxArray* o = nrhs > 1 ? a[1] : nullptr;
        dj_gc_opts opts;
        check(dj_gc_opts_init(&opts));
        std::string store;
        if (const mxArray* f = opt_field(o, "dry_run")) opts.dry_run = bool_arg(f, "dry_run") ? 1 : 0;
        if (const mxArray* f = opt_field(o, "store")) {
            store = string_arg(f, "store");
            if (!store.empty()) opts.store = store.c_str();
        }
        if (const mxArray* f = opt_field(o, "grace")) opts.grace_seconds = scalar_arg(f, "grace");
        dj_gc_stats st;
        std::memset(&st, 0, sizeof st);
        check(dj_schema_gc(sc, &opts, &st));
        plhs[0] = gc_out(st);
    } else {
        fail("InvalidArgument", "unknown command '" + cmd + "'");
    }
}

}  // namespace

void mexFunction(int nlhs, mxArray* plhs[], int nrhs, const mxArray* prhs[]) {
    char id[128];
    char msg[4096];
    id[0] = '\0';
    {
        try {
            if (!g_initialised) {
                mexAtExit(at_exit);
                // Per-load epoch in the high 32 bits: ids never repeat across loads of the MEX file.
                g_next_id = static_cast<uint64_t>(static_cast<uint32_t>(std::time(nullptr))) << 32;
                g_initialised = true;
            }
            if (nrhs < 1 || !mxIsChar(prhs[0])) fail("InvalidArgument", "usage: dj_mex(command, args...)");
            const std::string cmd = utf8_of_chars(prhs[0]);
            dispatch(cmd, nlhs, plhs, nrhs - 1, prhs + 1);
        } catch (const MexError& e) {
            std::snprintf(id, sizeof id, "%s", e.id.c_str());
            std::snprintf(msg, sizeof msg, "%s", e.msg.c_str());
        } catch (const std::bad_alloc&) {
            std::snprintf(id, sizeof id, "DataJoint:OutOfMemory");
            std::snprintf(msg, sizeof msg, "out of memory");
        } catch (const std::exception& e) {
            std::snprintf(id, sizeof id, "DataJoint:Internal");
            std::snprintf(msg, sizeof msg, "%s", e.what());
        } catch (...) {
            std::snprintf(id, sizeof id, "DataJoint:Internal");
            std::snprintf(msg, sizeof msg, "unknown C++ exception");
        }
    }
    if (g_callback_depth == 0 && !g_deferred_free.empty()) {  // frees asked for inside a progress callback
        std::vector<uint64_t> ids;
        ids.swap(g_deferred_free);
        free_ids(ids.data(), ids.size());
    }
    // Every C++ object of the call is destroyed here; mexErrMsgIdAndTxt does not return.
    if (id[0] != '\0') mexErrMsgIdAndTxt(id, "%s", msg);
}
