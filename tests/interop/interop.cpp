// libdatajoint's side of the DataJoint Python interop test (see run.sh and dataset.py).
//
//   interop write <overrides_json> <schema> <plan_file>   declare the tables and insert the rows
//   interop dump  <overrides_json> <schema> <out_file>    every table opened by name, every row
//                                                         fetched through the C ABI, as tokens
//
// Values travel as the tokens dataset.py defines; the comparison is done in Python.
#include "datajoint.hpp"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : s) {
        if (c == sep) {
            out.push_back(cur);
            cur.clear();
        } else {
            cur.push_back(c);
        }
    }
    out.push_back(cur);
    return out;
}

std::vector<uint8_t> unhex(const std::string& h) {
    if (h.size() % 2) throw std::runtime_error("odd hex length");
    std::vector<uint8_t> out(h.size() / 2);
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint8_t>(std::stoi(h.substr(2 * i, 2), nullptr, 16));
    return out;
}

std::string hex(const uint8_t* p, std::size_t n) {
    static const char* d = "0123456789abcdef";
    std::string s(2 * n, '0');
    for (std::size_t i = 0; i < n; ++i) {
        s[2 * i] = d[p[i] >> 4];
        s[2 * i + 1] = d[p[i] & 15];
    }
    return s;
}

std::string hex(std::string_view v) { return hex(reinterpret_cast<const uint8_t*>(v.data()), v.size()); }

std::string float_token(double f) {
    uint64_t bits;
    std::memcpy(&bits, &f, 8);
    uint8_t be[8];
    for (int i = 0; i < 8; ++i) be[i] = static_cast<uint8_t>(bits >> (56 - 8 * i));
    return "F:" + hex(be, 8);
}

struct DtypeName {
    const char* name;
    dj::Dtype dtype;
};
const DtypeName kDtypes[] = {
    {"b1", dj::Dtype::Bool},     {"i1", dj::Dtype::Int8},     {"i2", dj::Dtype::Int16},   {"i4", dj::Dtype::Int32},
    {"i8", dj::Dtype::Int64},    {"u1", dj::Dtype::Uint8},    {"u2", dj::Dtype::Uint16},  {"u4", dj::Dtype::Uint32},
    {"u8", dj::Dtype::Uint64},   {"f2", dj::Dtype::Float16},  {"f4", dj::Dtype::Float32}, {"f8", dj::Dtype::Float64},
    {"c8", dj::Dtype::Complex64}, {"c16", dj::Dtype::Complex128},
};

dj::Dtype dtype_of(const std::string& n) {
    for (const auto& d : kDtypes)
        if (n == d.name) return d.dtype;
    throw std::runtime_error("unknown dtype " + n);
}

const char* name_of(dj::Dtype t) {
    for (const auto& d : kDtypes)
        if (d.dtype == t) return d.name;
    return "?";
}

dj::Tier tier_of(const std::string& t) {
    if (t == "Lookup") return dj::Tier::Lookup;
    if (t == "Imported") return dj::Tier::Imported;
    if (t == "Computed") return dj::Tier::Computed;
    return dj::Tier::Manual;
}

/// Set one token on a row; array buffers are kept in `keep` until the insert.
void set_token(dj::Row& row, const std::string& attr, const std::string& tok,
               std::vector<std::unique_ptr<std::vector<uint8_t>>>& keep) {
    if (tok == "N") {
        row.set(attr, dj::null);
        return;
    }
    const char k = tok[0];
    const std::string v = tok.substr(2);
    switch (k) {
        case 'B': row.set(attr, v == "1"); break;
        case 'I': row.set(attr, static_cast<int64_t>(std::stoll(v))); break;
        case 'F': {
            auto b = unhex(v);
            uint64_t bits = 0;
            for (uint8_t x : b) bits = (bits << 8) | x;
            double f;
            std::memcpy(&f, &bits, 8);
            row.set(attr, f);
            break;
        }
        case 'S': {
            auto b = unhex(v);
            row.set(attr, std::string(b.begin(), b.end()));
            break;
        }
        case 'X': row.set(attr, dj::Bytes(unhex(v))); break;
        case 'D': row.set(attr, dj::Decimal{v}); break;
        case 'd': row.set(attr, dj::Date{static_cast<int32_t>(std::stol(v))}); break;
        case 'T': row.set(attr, dj::Datetime{std::stoll(v)}); break;
        case 'U': row.set(attr, dj::Uuid::parse(v)); break;
        case 'J': {
            auto b = unhex(v);
            row.set(attr, dj::Json{std::string(b.begin(), b.end())});
            break;
        }
        case 'A': {
            auto parts = split(v, ':');
            if (parts.size() != 4) throw std::runtime_error("bad array token for " + attr);
            std::vector<int64_t> shape;
            if (!parts[1].empty())
                for (const auto& d : split(parts[1], ',')) shape.push_back(std::stoll(d));
            keep.push_back(std::make_unique<std::vector<uint8_t>>(unhex(parts[3])));
            const auto& buf = *keep.back();
            dj::ArrayIn a;
            a.data = buf.data();
            a.nbytes = buf.size();
            a.dtype = dtype_of(parts[0]);
            a.shape = shape;
            a.order = parts[2] == "F" ? dj::Order::F : dj::Order::C;
            row.set(attr, a);
            break;
        }
        default: throw std::runtime_error("unknown token " + tok);
    }
}

int write(const std::string& overrides, const std::string& schema_name, const std::string& plan_file) {
    auto conn = dj::Connection::connect("", overrides);
    auto schema = conn.schema(schema_name);
    std::ifstream in(plan_file);
    std::map<std::string, dj::Table> tables;
    std::string line;
    std::string current;
    std::unique_ptr<dj::Row> row;
    std::vector<std::unique_ptr<std::vector<uint8_t>>> keep;
    std::size_t inserted = 0;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        auto f = split(line, '\t');
        if (f[0] == "TABLE") {
            auto defb = unhex(f[4]);
            const std::string def(defb.begin(), defb.end());
            if (f[2] == "Part") {
                tables.emplace(f[1], schema.declare_part(tables.at(f[3]), f[1], def));
            } else {
                tables.emplace(f[1], schema.declare(f[1], tier_of(f[2]), def));
            }
        } else if (f[0] == "ROW") {
            current = f[1];
            row = std::make_unique<dj::Row>();
            keep.clear();
        } else if (f[0] == "VAL") {
            set_token(*row, f[1], f[2], keep);
        } else if (f[0] == "END") {
            tables.at(current).insert1(*row);
            ++inserted;
        }
    }
    std::cout << "ok wrote " << inserted << " rows into " << tables.size() << " tables of " << schema_name << "\n";
    return 0;
}

std::string cell_token(const dj::ColumnView& c, std::size_t i) {
    if (c.is_null(i)) return "N";
    switch (c.kind()) {
        case DJ_KIND_BOOL: return std::string("B:") + (c.values<uint8_t>()[i] ? "1" : "0");
        case DJ_KIND_INT8: return "I:" + std::to_string(c.values<int8_t>()[i]);
        case DJ_KIND_INT16: return "I:" + std::to_string(c.values<int16_t>()[i]);
        case DJ_KIND_INT32: return "I:" + std::to_string(c.values<int32_t>()[i]);
        case DJ_KIND_INT64: return "I:" + std::to_string(c.values<int64_t>()[i]);
        case DJ_KIND_FLOAT32: return float_token(static_cast<double>(c.values<float>()[i]));
        case DJ_KIND_FLOAT64: return float_token(c.values<double>()[i]);
        case DJ_KIND_STRING: return "S:" + hex(c.str(i));
        case DJ_KIND_BYTES: {
            auto b = c.bytes(i);
            return "X:" + hex(b.data(), b.size());
        }
        case DJ_KIND_DATE: return "d:" + std::to_string(c.values<dj::Date>()[i].days);
        case DJ_KIND_DATETIME: return "T:" + std::to_string(c.values<dj::Datetime>()[i].micros);
        case DJ_KIND_UUID: {
            auto u = c.uuid(i);
            return "U:" + hex(u.bytes.data(), 16);
        }
        case DJ_KIND_DECIMAL: return "D:" + std::string(c.str(i));
        case DJ_KIND_JSON: return "J:" + hex(c.str(i));
        default: return "?:kind" + std::to_string(c.kind());
    }
}

int dump(const std::string& overrides, const std::string& schema_name, const std::string& out_file) {
    auto conn = dj::Connection::connect("", overrides);
    auto schema = conn.schema(schema_name, false);
    std::ofstream out(out_file);
    std::size_t nrows = 0;
    for (const auto& name : schema.tables()) {
        auto t = schema.table(name);
        dj::FetchOptions o;
        o.order_by = "KEY";
        auto r = t.fetch(o);
        out << "TABLE\t" << name << "\n";
        for (std::size_t i = 0; i < r.nrows(); ++i) {
            out << "ROW\n";
            for (std::size_t k = 0; k < r.ncols(); ++k) {
                auto c = r.column(k);
                const std::string attr(c.name());
                if (c.type().rfind("<npy", 0) == 0 && !c.is_null(i)) {
                    auto ref = r.npyref(k, i);
                    std::string shape;
                    for (auto d : ref.shape()) shape += (shape.empty() ? "" : ",") + std::to_string(d);
                    const bool loaded_before = ref.is_loaded();  // metadata needs no I/O
                    out << "REF\t" << attr << "\t" << ref.path() << "\t" << ref.store() << "\t" << ref.dtype_name()
                        << "\t" << shape << "\t" << (loaded_before ? 1 : 0) << "\n";
                    auto v = ref.load();
                    auto b = v.bytes();
                    const bool f = v.ndim() > 1 && v.is_f_order();
                    out << "VAL\t" << attr << "\tA:" << name_of(v.dtype()) << ":" << shape << ":" << (f ? "F" : "C") << ":"
                        << hex(b.data(), b.size()) << "\n";
                } else {
                    out << "VAL\t" << attr << "\t" << cell_token(c, i) << "\n";
                }
            }
            out << "END\n";
            ++nrows;
        }
    }
    std::cout << "ok dumped " << nrows << " rows of " << schema_name << "\n";
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 5) {
        std::cerr << "usage: interop write|dump <overrides_json> <schema> <file>\n";
        return 2;
    }
    try {
        const std::string cmd = argv[1];
        if (cmd == "write") return write(argv[2], argv[3], argv[4]);
        if (cmd == "dump") return dump(argv[2], argv[3], argv[4]);
    } catch (const dj::Error& e) {
        std::cerr << "FAIL " << e.code_name() << ": " << e.what() << "\n";
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "FAIL " << e.what() << "\n";
        return 1;
    }
    std::cerr << "unknown command\n";
    return 2;
}
