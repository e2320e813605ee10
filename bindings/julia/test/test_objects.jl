# `<object@store>` files and folders, `<filepath@store>` references, ObjectRef metadata and
# reads (ranged, streamed through the ObjectReader IO), staged inserts (streams, keys, local
# folders, progress, failures that leave nothing behind) and gc of orphans
# (ffi/src/objects.rs, core/tests/objects).

const OBJ_REC = """
    rec_id : int32
    ---
    data = null : <object@>     # a file or folder
    note = '' : varchar(40)
"""

"A local folder of `n` files in two levels; its (relative path => bytes), sorted by path."
function make_object_folder(dir, n)
    out = Pair{String,Vector{UInt8}}[]
    for i in 0:(n - 1)
        name = "f" * lpad(string(i), 4, '0') * ".bin"
        rel = iseven(i) ? name : "sub/d$(i % 5)/$name"
        body = UInt8[(k * 7 + i) % 256 for k in 0:(i % 97)]
        p = joinpath(dir, rel)
        mkpath(dirname(p))
        write(p, body)
        push!(out, rel => body)
    end
    return sort!(out; by=first)
end

"`f(conn, schema, table, dir)` with a file store and the table Recording in schema \"lab\"."
function with_objects(f)
    with_tempdir() do dir
        DataJoint.connect(nothing, store_overrides(dir)) do conn
            s = schema(conn, "lab")
            f(conn, s, declare(s, "Recording", :manual, OBJ_REC), dir)
        end
    end
end

"The ObjectRef of row `id`."
object_of(t, id) = fetch1(restrict(t, (rec_id=id,))).data

@testset "object ABI: struct layouts and NULL handles" begin
    @test sizeof(Lib.dj_object_info) == 24
    @test fieldoffset(Lib.dj_object_info, 3) == 16          # item_count after size and is_dir
    o = Ref(Lib.dj_gc_opts())
    @test Lib.dj_gc_opts_init(o) == Lib.DJ_OK
    @test o[].struct_size == sizeof(Lib.dj_gc_opts) == 24
    @test fieldoffset(Lib.dj_gc_opts, 3) == 8 && fieldoffset(Lib.dj_gc_opts, 4) == 16
    @test o[].dry_run == 0 && o[].store == C_NULL && o[].grace_seconds == 3600.0
    @test sizeof(Lib.dj_gc_stats) == 88
    @test fieldoffset(Lib.dj_gc_stats, 11) == 80            # dry_run
    @test isbitstype(Lib.dj_gc_opts) && isbitstype(Lib.dj_gc_stats)
    stats = Ref(Lib.dj_gc_stats())
    @test Lib.dj_schema_gc(C_NULL, o, stats) == Lib.DJ_E_INVALID_HANDLE
    bad = Ref(Lib.dj_gc_opts(UInt32(8), 0, C_NULL, 1.0))
    @test Lib.dj_schema_gc(C_NULL, bad, stats) == Lib.DJ_E_INVALID_ARG
    for free in (Lib.dj_objectref_free, Lib.dj_filelist_free, Lib.dj_reader_free, Lib.dj_writer_free,
                 Lib.dj_staged_free)
        @test free(C_NULL) === nothing
    end
    @test Lib.dj_objectref_path(C_NULL) == C_NULL
    @test Lib.dj_last_error_code() == Lib.DJ_E_INVALID_HANDLE
    @test Lib.dj_filelist_len(C_NULL) == 0
    @test Lib.dj_filelist_name(C_NULL, 0) == C_NULL
    @test Lib.dj_reader_size(C_NULL) == 0
    @test Lib.dj_staged_bytes_written(C_NULL) == 0
    n = Ref{Csize_t}(7)
    @test Lib.dj_reader_read(C_NULL, C_NULL, 0, n) == Lib.DJ_E_INVALID_HANDLE
    @test n[] == 0
    st = Ref{Ptr{Lib.dj_staged}}(Ptr{Lib.dj_staged}(1))
    @test Lib.dj_staged_begin(C_NULL, st) == Lib.DJ_E_INVALID_HANDLE
    @test st[] == C_NULL
    @test Lib.dj_staged_commit(C_NULL) == Lib.DJ_E_INVALID_HANDLE
    @test Lib.dj_staged_abort(C_NULL) == Lib.DJ_E_INVALID_HANDLE
    @test Lib.dj_writer_write(C_NULL, C_NULL, 0) == Lib.DJ_E_INVALID_HANDLE
    @test Lib.dj_row_set_object_bytes(C_NULL, "x", ".bin", C_NULL, 0) == Lib.DJ_E_INVALID_HANDLE
end

@testset "<object@>: files, folders, bytes; ObjectRef metadata and reads" begin
    with_objects() do conn, s, t, dir
        src = mkpath(joinpath(dir, "src"))
        file = joinpath(src, "trace.dat")
        payload = UInt8[i % 251 for i in 0:299_999]
        write(file, payload)
        folder = joinpath(src, "session")
        listing = make_object_folder(folder, 12)
        @test insert!(t, Any[(rec_id=1, data=file),
                             (rec_id=2, data=folder),
                             (rec_id=3, data=Vector{UInt8}("raw bytes")),
                             (rec_id=4, data=ObjectBytes(".bin", UInt8[1, 2, 3])),
                             (rec_id=5, data=missing),
                             (rec_id=6, data=".txt" => codeunits("first line\nsecond"))]) == 6
        refs = fetch(t; order_by="rec_id").data
        @test eltype(refs) == Union{Missing,ObjectRef}
        @test ismissing(refs[5])

        # a file: metadata without I/O
        r = refs[1]
        @test DataJoint.store(r) == "main"
        @test startswith(DataJoint.path(r), "_schema/lab/recording/rec_id=1/data_")
        @test endswith(DataJoint.path(r), ".dat")
        @test DataJoint.ext(r) == ".dat"
        @test endswith(DataJoint.timestamp(r), "+00:00")
        @test size(r) == 300_000 && filesize(r) == 300_000
        @test !isdir(r)
        @test ismissing(DataJoint.item_count(r))
        @test isequal(DataJoint.info(r), (size=300_000, isdir=false, item_count=missing))
        @test occursin("ObjectRef", repr(r))
        # reads
        @test read(r) == payload
        @test read(r; offset=1000, len=10) == payload[1001:1010]
        @test read(r; offset=299_990, len=100) == payload[299_991:end]
        @test read(r; offset=300_000, len=10) == UInt8[]
        @test read(r; offset=299_990) == payload[299_991:end]
        @test DataJoint.files(r) == [(path="", size=300_000)]
        @test DataJoint.exists(r)
        dl = joinpath(dir, "dl", "trace.dat")
        @test download(r, dl) == 300_000
        @test read(dl) == payload
        lp = localpath(r)
        @test lp isa String && read(lp) == payload

        # the streaming reader
        open(r) do io
            @test io isa ObjectReader && io isa IO
            @test filesize(io) == 300_000
            @test position(io) == 0 && !eof(io)
            @test read(io, UInt8) == payload[1]
            @test read(io, 9) == payload[2:10]
            buf = Vector{UInt8}(undef, 100_000)
            @test readbytes!(io, buf) == 100_000
            @test buf == payload[11:100_010]
            @test position(io) == 100_010
            seek(io, 299_000)
            @test read(io, UInt8) == payload[299_001]
            skip(io, 9)
            @test position(io) == 299_010
            @test read(io) == payload[299_011:end]
            @test eof(io)
            @test_throws EOFError read(io, UInt8)
            @test read(io) == UInt8[]
            seekstart(io)
            @test read(io, 300_000) == payload
            seek(io, 5)
            small = zeros(UInt8, 3)
            read!(io, small)
            @test small == payload[6:8]
            grow = UInt8[]
            @test readbytes!(io, grow, 10) == 10 && grow == payload[9:18]
        end
        io = open(r; offset=299_000)
        copied = UInt8[]
        while !eof(io)
            append!(copied, readavailable(io))
        end
        @test copied == payload[299_001:end]
        close(io)
        close(io)                                    # idempotent
        @test code_of(() -> read(io)) == Lib.DJ_E_INVALID_HANDLE
        text = refs[6]
        @test DataJoint.ext(text) == ".txt" && endswith(DataJoint.path(text), ".txt")
        open(text) do io
            @test readline(io) == "first line"
            @test read(io, String) == "second"
        end
        @test read(text, String) == "first line\nsecond"

        # a folder: listing, subpath reads, download
        d = refs[2]
        total = sum(length(b) for (_, b) in listing)
        @test isdir(d)
        @test size(d) == total
        @test DataJoint.item_count(d) == 12
        @test DataJoint.ext(d) === nothing
        @test DataJoint.files(d) == [(path=p, size=length(b)) for (p, b) in listing]
        for (p, b) in listing
            @test read(d, p) == b
        end
        @test read(d, "sub/d1/f0001.bin"; offset=1, len=1) == listing[findfirst(x -> x.first == "sub/d1/f0001.bin", listing)].second[2:2]
        @test DataJoint.exists(d) && DataJoint.exists(d, "sub/d1/f0001.bin")
        @test !DataJoint.exists(d, "nope.bin")
        @test code_of(() -> read(d; len=10)) == Lib.DJ_E_INVALID_ARG       # a folder: name a file
        @test code_of(() -> open(d)) == Lib.DJ_E_INVALID_ARG
        @test code_of(() -> read(d, "../x")) == Lib.DJ_E_INVALID_ARG
        dd = joinpath(dir, "dl", "session")
        @test download(d, dd) == total
        for (p, b) in listing
            @test read(joinpath(dd, p)) == b
        end
        @test isdir(localpath(d))

        # bytes, and (ext => bytes)
        @test read(refs[3], String) == "raw bytes"
        @test DataJoint.ext(refs[3]) === nothing
        @test read(refs[4]) == UInt8[1, 2, 3]
        @test DataJoint.ext(refs[4]) == ".bin"

        # refs by result cell
        res = DataJoint.fetch_result(restrict(t, (rec_id=1,)))
        @test read(objectref(res, "data", 1); len=4) == payload[1:4]
        @test code_of(() -> objectref(res, "note", 1)) == Lib.DJ_E_TYPE
        close(res)
        res = DataJoint.fetch_result(restrict(t, (rec_id=5,)))
        @test code_of(() -> objectref(res, "data", 1)) == Lib.DJ_E_NOT_FOUND
        close(res)

        # bad input: nothing inserted, nothing written
        store = joinpath(dir, "store")
        before = sort(files_under(store))
        @test code_of(() -> insert1!(t, (rec_id=10, data=joinpath(src, "missing.dat")))) == Lib.DJ_E_TYPE
        @test code_of(() -> insert1!(t, (rec_id=11, data=3))) == Lib.DJ_E_TYPE
        @test code_of(() -> insert!(t, (rec_id=Int32[12], data=[ObjectBytes(".x", UInt8[1])]))) == Lib.DJ_E_TYPE
        @test code_of(() -> insert!(t, Any[(rec_id=13, data=file), (rec_id=1, data=file)])) == Lib.DJ_E_DUPLICATE
        @test sort(files_under(store)) == before
        @test count(t) == 6
        # the columnar path takes paths and bytes
        @test insert!(t, (rec_id=Int32[20], data=[file])) == 1
        @test insert!(t, (rec_id=Int32[21], data=[Vector{UInt8}("xy")])) == 1
        @test read(object_of(t, 20)) == payload
        @test read(object_of(t, 21), String) == "xy"

        # refs outlive the connection; a closed ref refuses
        close(conn)
        @test read(r; len=3) == payload[1:3]
        close(r)
        @test !isopen(r)
        @test code_of(() -> DataJoint.path(r)) == Lib.DJ_E_INVALID_HANDLE
    end
end

@testset "deleting rows removes their objects" begin
    with_objects() do conn, s, t, dir
        src = make_object_folder(joinpath(dir, "src"), 4)
        insert1!(t, (rec_id=1, data=joinpath(dir, "src")))
        insert1!(t, (rec_id=2, data=ObjectBytes(".bin", UInt8[9])))
        store = joinpath(dir, "store")
        @test length(files_under(store)) == 4 + 1 + 1       # files, manifest, the bytes
        @test delete!(restrict(t, (rec_id=2,))) == 1
        @test length(files_under(store)) == 5
        @test delete!(t) == 1
        @test isempty(files_under(store))
        @test length(src) == 4
    end
end

@testset "<filepath@>: references to files the store already holds" begin
    with_tempdir() do dir
        DataJoint.connect(nothing, store_overrides(dir)) do conn
            raw = declare(schema(conn, "lab"), "Raw", :manual, "raw_id : int32\n---\nsrc : <filepath@>")
            root = joinpath(dir, "store")
            mkpath(joinpath(root, "raw", "session1", "b"))
            write(joinpath(root, "raw", "session1", "a.txt"), "hello")
            write(joinpath(root, "raw", "session1", "b", "c.txt"), "hi")
            @test insert!(raw, [(raw_id=1, src="raw/session1/a.txt"), (raw_id=2, src="raw/session1")]) == 2
            a, d = fetch(raw; order_by="raw_id").src
            @test a isa ObjectRef && d isa ObjectRef
            @test DataJoint.path(a) == "raw/session1/a.txt"
            @test size(a) == 5 && !isdir(a)
            @test read(a, String) == "hello"
            @test read(localpath(a), String) == "hello"
            @test isdir(d) && ismissing(size(d))
            @test DataJoint.files(d) == [(path="a.txt", size=5), (path="b/c.txt", size=2)]
            @test read(d, "b/c.txt") == Vector{UInt8}("hi")
            for (i, p) in enumerate(["../etc/passwd", "raw/../../x", "/etc/passwd", "_hash/x/abc", "_schema/x/y"])
                @test code_of(() -> insert1!(raw, (raw_id=10 + i, src=p))) == Lib.DJ_E_INVALID_ARG
            end
            @test code_of(() -> insert1!(raw, (raw_id=20, src="raw/nope.txt"))) == Lib.DJ_E_NOT_FOUND
            @test count(raw) == 2
            delete!(raw)                                           # the user's files stay
            @test isfile(joinpath(root, "raw", "session1", "a.txt"))
            @test isfile(joinpath(root, "raw", "session1", "b", "c.txt"))
        end
    end
end

@testset "staged inserts: keys, streams, local folders, progress" begin
    with_objects() do conn, s, t, dir
        # a folder of keys (Zarr-like) through put!
        result = staged_insert1(t) do st
            @test st isa StagedInsert && isopen(st)
            @test code_of(() -> put!(st, "data", "x.bin", UInt8[1])) == Lib.DJ_E_INVALID_ARG   # before the key
            set!(st, (rec_id=1,))
            @test code_of(() -> open(st, "note")) == Lib.DJ_E_TYPE                            # not <object@>
            @test code_of(() -> open(st, "nope")) == Lib.DJ_E_UNKNOWN_ATTRIBUTE
            for bad in ["../x", "/abs", "a//b", "a/./b", "a\\b", ""]
                @test code_of(() -> put!(st, "data", bad, UInt8[1])) == Lib.DJ_E_INVALID_ARG
            end
            for i in 0:199
                put!(st, "data", "c/$(i ÷ 100)/$(i % 100)", "chunk $i")
            end
            put!(st, :data, ".zarray", "{}")
            @test code_of(() -> open(st, "data"; ext=".bin")) == Lib.DJ_E_INVALID_ARG          # file after folder
            @test code_of(() -> set!(st, (rec_id=2,))) == Lib.DJ_E_INVALID_ARG                # key already in the paths
            set!(st, (note="zarr",))
            :done
        end
        @test result === :done
        r = object_of(t, 1)
        @test isdir(r) && DataJoint.item_count(r) == 201
        @test startswith(DataJoint.path(r), "_schema/lab/recording/rec_id=1/data_")
        @test String(read(r, "c/1/99")) == "chunk 199"
        @test read(r, ".zarray") == Vector{UInt8}("{}")
        @test fetch1(restrict(t, (rec_id=1,))).note == "zarr"
        @test !isfile(joinpath(dir, "store", DataJoint.path(r) * ".manifest.json"))   # none for staged folders

        # one file through a stream, with progress
        seen = Int[]
        expected = UInt8[]
        chunk = Vector{UInt8}(undef, 1 << 20)
        staged_insert1(t) do st
            set!(st, Dict("rec_id" => 2))
            on_progress(st) do n
                push!(seen, n)
            end
            open(st, "data"; ext=".raw") do w
                @test w isa ObjectWriter && w isa IO
                for k in 1:3
                    fill!(chunk, UInt8(k))
                    write(w, chunk)                 # large writes go straight to the library
                    append!(expected, chunk)
                end
                write(w, 0x2a)                      # small writes are buffered
                write(w, "tail")
                append!(expected, UInt8[0x2a])
                append!(expected, codeunits("tail"))
                @test position(w) == length(expected)
            end
            @test DataJoint.bytes_written(st) == length(expected)
        end
        @test seen[1:3] == [1, 2, 3] .* (1 << 20)
        @test last(seen) == length(expected)
        r = object_of(t, 2)
        @test DataJoint.ext(r) == ".raw" && endswith(DataJoint.path(r), ".raw")
        @test size(r) == length(expected) && !isdir(r)
        @test read(r) == expected

        # a local folder written with plain file I/O
        staged_insert1(t) do st
            set!(st, (rec_id=3,))
            d = localdir(st, "data")
            @test isdir(d)
            mkpath(joinpath(d, "g"))
            write(joinpath(d, "g", "a.h5"), fill(0x01, 1000))
            write(joinpath(d, "b.txt"), "xy")
        end
        r = object_of(t, 3)
        @test size(r) == 1002 && DataJoint.item_count(r) == 2
        @test DataJoint.files(r) == [(path="b.txt", size=2), (path="g/a.h5", size=1000)]

        # keyed streams
        staged_insert1(t) do st
            set!(st, (rec_id=4,))
            DataJoint.open_key(st, "data", "a/b.bin") do w
                write(w, "keyed")
            end
            w = DataJoint.open_key(st, "data", "c.bin")
            write(w, UInt8[1, 2])
            close(w)
            @test !isopen(w) && position(w) == 2
        end
        r = object_of(t, 4)
        @test String(read(r, "a/b.bin")) == "keyed" && read(r, "c.bin") == UInt8[1, 2]

        # the explicit form; a writer left open is finished by commit!
        st = staged_insert1(t)
        set!(st, (rec_id=5, note="explicit"))
        w = open(st, "data"; ext=".bin")
        write(w, fill(0x07, 100))
        commit!(st)
        @test !isopen(w) && !isopen(st)
        @test read(object_of(t, 5)) == fill(0x07, 100)
        @test code_of(() -> commit!(st)) == Lib.DJ_E_INVALID_ARG
        @test abort!(st) === nothing                # a no-op once finished
        close(st)
        close(st)
        @test count(t) == 5
    end
end

# Bodies of staged inserts that fail.
function staged_then_error(st)
    set!(st, (rec_id=2,))
    for i in 1:20
        put!(st, "data", "k$i", fill(0x07, 1000))
    end
    return open(st, "data2")                 # no such attribute: throws
end

function staged_then_julia_error(st)
    set!(st, (rec_id=3,))
    open(st, "data"; ext=".bin") do w
        write(w, fill(0x01, 200_000))
    end
    error("the acquisition failed")
end

function staged_duplicate(st)
    set!(st, (rec_id=1,))
    put!(st, "data", "a", "dup")
end

function staged_progress_error(st)
    set!(st, (rec_id=4,))
    on_progress(st, n -> n > 1000 && throw(ArgumentError("stop at $n")))
    open(st, "data") do w
        write(w, zeros(UInt8, 100_000))     # the callback throws: recorded
        write(w, zeros(UInt8, 100_000))     # no further calls
    end
end

@testset "staged inserts that fail leave nothing behind" begin
    with_objects() do conn, s, t, dir
        staged_insert1(t) do st
            set!(st, (rec_id=1,))
            put!(st, "data", "a", "first")
        end
        store = joinpath(dir, "store")
        before = sort(files_under(store))
        @test length(before) == 1

        @test code_of(() -> staged_insert1(staged_then_error, t)) == Lib.DJ_E_UNKNOWN_ATTRIBUTE
        @test_throws ErrorException staged_insert1(staged_then_julia_error, t)
        @test code_of(() -> staged_insert1(staged_duplicate, t)) == Lib.DJ_E_DUPLICATE
        e = try
            staged_insert1(staged_progress_error, t)
            nothing
        catch err
            err
        end
        @test e isa ArgumentError && e.msg == "stop at 100000"

        # abort! abandons open writers
        st = staged_insert1(t)
        set!(st, (rec_id=5,))
        w = open(st, "data"; ext=".bin")
        write(w, fill(0x01, 200_000))
        abort!(st)
        @test !isopen(w) && !isopen(st)
        @test code_of(() -> write(w, 0x01)) == Lib.DJ_E_INVALID_HANDLE
        @test code_of(() -> set!(st, (note="x",))) == Lib.DJ_E_INVALID_ARG
        close(st)
        # close, and the finalizer, abort an unfinished insert
        st = staged_insert1(t)
        set!(st, (rec_id=6,))
        put!(st, "data", "k", "never committed")
        close(st)
        @test code_of(() -> put!(st, "data", "k2", "x")) == Lib.DJ_E_INVALID_HANDLE
        st = staged_insert1(t)
        set!(st, (rec_id=7,))
        put!(st, "data", "k", "never committed")
        finalize(st)

        @test count(t) == 1
        @test sort(files_under(store)) == before
    end
end

@testset "gc removes orphans and keeps what rows reference" begin
    with_objects() do conn, s, t, dir
        make_object_folder(joinpath(dir, "src"), 6)
        insert1!(t, (rec_id=1, data=joinpath(dir, "src")))
        store = joinpath(dir, "store")
        kept = sort(files_under(store))
        @test length(kept) == 7                               # six files and the manifest
        # orphans as crashed writers leave them: objects written, rows never committed
        hashdir = mkpath(joinpath(store, "_hash", "lab"))
        write(joinpath(hashdir, "a"^26), "orphan")
        orphan = joinpath(store, "_schema", "lab", "recording", "rec_id=9", "data_XXXXXXXX")
        mkpath(orphan)
        for i in 0:4
            write(joinpath(orphan, string(i)), fill(0x01, 100))
        end
        write(orphan * ".manifest.json", "{}")
        mkpath(joinpath(store, "elsewhere"))
        write(joinpath(store, "elsewhere", "file.txt"), "x")    # not this schema's layout

        young = gc(s)                                          # one hour of grace: all too young
        @test young isa NamedTuple
        @test (young.deleted, young.young) == (0, 7)
        @test young.dry_run == false
        sleep(1.1)
        dry = gc(s; dry_run=true, grace=1.0)
        @test (dry.orphaned_hash, dry.orphaned_schema, dry.deleted, dry.orphaned_bytes) == (1, 6, 0, 6 + 500 + 2)
        @test dry.dry_run == true && dry.references >= 1 && dry.hash_objects == 1
        @test dry.schema_objects >= 6
        @test gc(s; dry_run=true, store="main", grace=1.0).orphaned_schema == 6
        @test code_of(() -> gc(s; store="nope")) == Lib.DJ_E_STORE
        @test code_of(() -> gc(s; grace=-1)) == Lib.DJ_E_INVALID_ARG
        done = gc(s; grace=1.0)
        @test (done.deleted, done.bytes_freed) == (7, 508)
        left = sort(filter(p -> !occursin("elsewhere", p), files_under(store)))
        @test left == kept
        @test isfile(joinpath(store, "elsewhere", "file.txt"))
        @test gc(s; grace=0.0).deleted == 0
        @test length(DataJoint.files(object_of(t, 1))) == 6
    end
end
