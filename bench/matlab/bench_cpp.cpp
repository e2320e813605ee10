// bench_cpp — the C++ side of bench/matlab/run.sh (same data, same machine as bench.m).
//
//   bench_cpp setup <dir>        create <dir>/bench.duckdb + <dir>/store: table Small with 100,000 rows
//                                (int32 key, float64, varchar(32)) and table Big with two 256 MiB float32
//                                <npy@> arrays of shape (8192, 8192): id 1 in C order, id 2 in Fortran order
//   bench_cpp run <dir> <reps>   print one JSON object of best-of-<reps> timings in milliseconds
#include <datajoint.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

namespace {

using clk = std::chrono::steady_clock;

std::string json_str(const std::string& s) { return "\"" + s + "\""; }

dj::Connection open(const std::string& dir) {
    return dj::Connection::connect("", "{\"database.path\": " + json_str(dir + "/bench.duckdb") +
                                           ", \"npy_cache.path\": " + json_str(dir + "/cache") +
                                           ", \"stores\": {\"default\": \"main\", \"main\": {\"protocol\": \"file\", "
                                           "\"location\": " + json_str(dir + "/store") + "}}}");
}

constexpr int kRows = 100000;
constexpr int64_t kSide = 8192;  // 8192 * 8192 * 4 bytes = 256 MiB

int setup(const std::string& dir) {
    dj::Connection conn = open(dir);
    dj::Schema s = conn.schema("bench");
    dj::Table small = s.declare("Small", dj::Tier::Manual, "id : int32\n---\nx : float64\nname : varchar(32)");
    std::vector<int32_t> ids(kRows);
    std::vector<double> xs(kRows);
    std::vector<std::string> names(kRows);
    for (int i = 0; i < kRows; ++i) {
        ids[i] = i;
        xs[i] = i * 0.25;
        names[i] = "name_" + std::to_string(i);
    }
    dj::Batch b;
    b.add("id", ids).add("x", xs).add_strings("name", names);
    small.insert(b);
    dj::Table big = s.declare("Big", dj::Tier::Manual, "id : int32\n---\narr : <npy@>");
    std::vector<float> a(static_cast<size_t>(kSide * kSide));
    for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(i % 1000003) * 0.5f;
    big.insert1(dj::Row().set("id", 1).set("arr", dj::array(a, {kSide, kSide}, dj::Order::C)));
    big.insert1(dj::Row().set("id", 2).set("arr", dj::array(a, {kSide, kSide}, dj::Order::F)));
    std::cerr << "setup: " << small.count() << " small rows, " << big.count() << " arrays\n";
    return 0;
}

template <class F>
double best_ms(int reps, F&& f) {
    double best = 1e300;
    for (int r = 0; r < reps; ++r) {
        const double ms = f();
        best = std::min(best, ms);
    }
    return best;
}

double since_ms(clk::time_point t0) {
    return std::chrono::duration<double, std::milli>(clk::now() - t0).count();
}

int run(const std::string& dir, int reps) {
    dj::Connection conn = open(dir);
    dj::Schema s = conn.schema("bench", false);
    dj::Table small = s.table("Small");
    volatile double sink = 0;
    // fetch as columns: the result's buffers are the columns (zero-copy spans)
    const double fetch = best_ms(reps, [&] {
        const auto t0 = clk::now();
        dj::Result r = small.fetch();
        const auto id = r.column("id").values<int32_t>();
        const auto x = r.column("x").values<double>();
        const dj::ColumnView nm = r.column("name");
        sink = sink + id[id.size() - 1] + x[x.size() - 1] + static_cast<double>(nm.str(nm.size() - 1).size());
        return since_ms(t0);
    });
    // fetch and copy into owning containers (what the MEX does: one array per column, one string per row)
    const double fetch_copy = best_ms(reps, [&] {
        const auto t0 = clk::now();
        dj::Result r = small.fetch();
        const auto idv = r.column("id").values<int32_t>();
        const auto xv = r.column("x").values<double>();
        std::vector<int32_t> id(idv.begin(), idv.end());
        std::vector<double> x(xv.begin(), xv.end());
        const dj::ColumnView nm = r.column("name");
        std::vector<std::string> names;
        names.reserve(nm.size());
        for (size_t i = 0; i < nm.size(); ++i) names.emplace_back(nm.str(i));
        sink = sink + id.back() + x.back() + static_cast<double>(names.back().size());
        return since_ms(t0);
    });
    const size_t rows = small.fetch().nrows();
    dj::Table big = s.table("Big");
    // A fresh NpyRef per repetition (load caches the array on the ref); only the load/map is timed.
    auto fresh_ref = [&](int id) {
        dj::Row key;
        key.set("id", id);
        return big.restrict(key).fetch1().npyref("arr", 0);
    };
    auto load_ms = [&](int id) {
        return best_ms(reps, [&] {
            const dj::NpyRef ref = fresh_ref(id);
            const auto t0 = clk::now();
            const dj::ArrayView v = ref.load();
            sink = sink + v.values<float>()[v.size() - 1];
            return since_ms(t0);
        });
    };
    auto map_ms = [&](int id, bool touch) {
        return best_ms(reps, [&] {
            const dj::NpyRef ref = fresh_ref(id);
            const auto t0 = clk::now();
            const dj::ArrayView v = ref.map();
            const auto vals = v.values<float>();
            if (touch) {  // read every element once (pages come from the page cache)
                double acc = 0;
                for (size_t i = 0; i < vals.size(); i += 1) acc += vals[i];
                sink = sink + acc;
            } else {
                sink = sink + vals[vals.size() - 1];
            }
            return since_ms(t0);
        });
    };
    const double load_c = load_ms(1), load_f = load_ms(2);
    const double map_c = map_ms(1, false), map_sum_c = map_ms(1, true);
    std::printf("{\"rows\": %zu, \"cpp_fetch_ms\": %.3f, \"cpp_fetch_copy_ms\": %.3f, "
                "\"cpp_load_c_order_ms\": %.3f, \"cpp_load_f_order_ms\": %.3f, \"cpp_map_ms\": %.3f, "
                "\"cpp_map_and_sum_ms\": %.3f}\n",
                rows, fetch, fetch_copy, load_c, load_f, map_c, map_sum_c);
    return sink == 12345.678 ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const std::string mode = argc > 1 ? argv[1] : "";
        if (mode == "setup" && argc == 3) return setup(argv[2]);
        if (mode == "run" && argc == 4) return run(argv[2], std::stoi(argv[3]));
        std::cerr << "usage: bench_cpp setup <dir> | run <dir> <reps>\n";
        return 2;
    } catch (const dj::Error& e) {
        std::cerr << "bench_cpp: " << e.code_name() << ": " << e.what() << "\n";
        return 1;
    }
}
