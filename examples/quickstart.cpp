// quickstart.cpp — DataJoint from C++: declare tables, insert rows, query them, and store an
// array in an object store (`<npy@>`), fetched lazily and memory-mapped.
//
//   cmake -S . -B build && cmake --build build --target quickstart && ./build/quickstart
#include "datajoint.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

// Print a result as an aligned text table.
void print(const dj::Result& r) {
    std::vector<std::vector<std::string>> cells(r.ncols());  // cells[column][row]
    std::vector<std::size_t> width(r.ncols());
    for (std::size_t c = 0; c < r.ncols(); ++c) {
        const dj::ColumnView col = r.column(c);
        width[c] = col.name().size();
        for (std::size_t i = 0; i < r.nrows(); ++i) {
            cells[c].push_back(col.to_string(i));
            width[c] = std::max(width[c], cells[c].back().size());
        }
    }
    auto line = [&](auto cell) {
        for (std::size_t c = 0; c < r.ncols(); ++c) {
            std::string text = cell(c);
            std::cout << "  " << text << std::string(width[c] - text.size(), ' ');
        }
        std::cout << "\n";
    };
    line([&](std::size_t c) { return std::string(r.column(c).name()); });
    line([&](std::size_t c) { return std::string(width[c], '-'); });
    for (std::size_t i = 0; i < r.nrows(); ++i) line([&](std::size_t c) { return cells[c][i]; });
    std::cout << "  (" << r.nrows() << " rows)\n";
}

int main() try {
    // A fresh folder for the database file and, in its `store` subfolder, the array store.
    const auto stamp = std::chrono::system_clock::now().time_since_epoch().count();
    const auto dir = std::filesystem::temp_directory_path() / ("datajoint-quickstart-" + std::to_string(stamp));
    std::filesystem::create_directories(dir / "store");
    const std::string path = (dir / "lab.duckdb").generic_string();
    std::cout << "database: " << path << "\n\n";

    // Settings as JSON (they could also come from a datajoint.json file).
    auto conn = dj::Connection::connect("", R"({
        "database": {"backend": "duckdb", "path": ")" + path + R"("},
        "stores": {"default": "main", "main": {"protocol": "file", "location": ")" + (dir / "store").generic_string() + R"("}}
    })");
    auto lab = conn.schema("lab");

    auto subject = lab.declare("Subject", dj::Tier::Manual, R"(
        # experimental subject
        subject_id : int32
        ---
        name : varchar(64)
        sex : enum('M','F','U')
        date_of_birth : date
    )");
    auto session = lab.declare("Session", dj::Tier::Manual, R"(
        # recording session
        -> Subject
        session_id : int16
        ---
        session_datetime : datetime
        notes = "" : varchar(255)
    )");
    auto recording = lab.declare("Recording", dj::Tier::Manual, R"(
        # a recording of a session: its trace is a .npy file in the default store
        -> Session
        recording_id : int16
        ---
        trace : <npy@>
    )");

    // One row at a time ...
    subject.insert1(dj::Row()
                        .set("subject_id", 1)
                        .set("name", "Ada")
                        .set("sex", "F")
                        .set("date_of_birth", dj::Date::ymd(2024, 1, 15)));

    // ... or many rows at once, column by column.
    dj::Batch subjects;
    subjects.add("subject_id", std::vector<int32_t>{2, 3})
        .add_strings("name", {"Bo", "Cy"})
        .add_strings("sex", {"M", "U"})
        .add("date_of_birth", std::vector<dj::Date>{dj::Date::ymd(2024, 2, 1), dj::Date::ymd(2024, 3, 9)});
    subject.insert(subjects);

    dj::Batch sessions;
    sessions.add("subject_id", std::vector<int32_t>{1, 1, 2, 3})
        .add("session_id", std::vector<int16_t>{1, 2, 1, 1})
        .add("session_datetime", std::vector<dj::Datetime>{dj::Datetime::parse("2024-05-02 09:30"),
                                                           dj::Datetime::parse("2024-06-11 14:00"),
                                                           dj::Datetime::parse("2024-06-12 10:15"),
                                                           dj::Datetime::parse("2024-07-01 16:45")})
        .add_strings("notes", {"baseline", "follow-up", "baseline", "pilot"});
    session.insert(sessions);

    std::cout << "Sessions of subject 1 (restricted by a key):\n";
    print(session.restrict(dj::Row().set("subject_id", 1)).fetch());

    std::cout << "\nSessions since June, newest first (restricted by SQL):\n";
    dj::FetchOptions newest_first;
    newest_first.order_by = "session_datetime DESC";
    print(session.restrict("session_datetime >= '2024-06-01'").fetch(newest_first));

    // An array: 1000 samples × 32 channels of float32, row-major (C order). The buffer is borrowed
    // by the Row until the insert returns, then written to the store as a .npy file.
    std::vector<float> trace(1000 * 32);
    for (std::size_t i = 0; i < trace.size(); ++i) trace[i] = static_cast<float>(i / 32) + static_cast<float>(i % 32) / 100;
    recording.insert1(dj::Row()
                          .set("subject_id", 1)
                          .set("session_id", 1)
                          .set("recording_id", 1)
                          .set("trace", dj::array(trace, {1000, 32})));

    // Fetching gives a lazy reference: shape and dtype are known without reading the file.
    dj::Result rec = recording.restrict(dj::Row().set("subject_id", 1).set("recording_id", 1)).fetch1();
    dj::NpyRef ref = rec.npyref("trace", 0);
    const std::vector<int64_t> shape = ref.shape();
    std::cout << "\nRecording 1: trace " << shape[0] << " x " << shape[1] << " " << ref.dtype_name()
              << ", loaded: " << (ref.is_loaded() ? "yes" : "no") << "\n";

    // map() gives a read-only view of the file itself (no copy for a local store).
    dj::ArrayView view = ref.map();
    dj::span<const float> v = view.values<float>();
    std::cout << "memory-mapped: " << (view.is_mapped() ? "yes" : "no") << "; first 3 samples x 4 channels:\n";
    for (int64_t row = 0; row < 3; ++row) {
        for (int64_t col = 0; col < 4; ++col) std::printf("  %6.2f", v[static_cast<std::size_t>(row * shape[1] + col)]);
        std::printf("\n");
    }

    std::cout << "\n" << subject.count() << " subjects, " << session.count() << " sessions, " << recording.count()
              << " recording.\n";
    return 0;
} catch (const dj::Error& e) {
    std::cerr << "DataJoint error [" << e.code_name() << "]: " << e.what() << "\n";
    return 1;
}
