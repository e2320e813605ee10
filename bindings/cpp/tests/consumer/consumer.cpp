// Consumer of an installed libdatajoint (C++ binding).
#include <datajoint.hpp>

#include <iostream>

int main() try {
    auto conn = dj::Connection::duckdb(":memory:");
    auto t = conn.schema("consumer").declare("Note", dj::Tier::Manual, "note_id : int32\n---\ntext : varchar(32)");
    t.insert1(dj::Row().set("note_id", 1).set("text", "installed"));
    const dj::Result r = t.fetch1();
    std::cout << "consumer_cpp: " << r.column("text").str(0) << " (libdatajoint " << dj::version() << ")\n";
    return r.column("text").str(0) == "installed" ? 0 : 1;
} catch (const dj::Error& e) {
    std::cerr << "consumer_cpp: " << e.code_name() << ": " << e.what() << "\n";
    return 1;
}
