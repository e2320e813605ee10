# Shared helpers of the tests: temporary folders, fresh databases, error codes.

"Run `f` and return the code of the DataJointError it throws (DJ_OK if none)."
function code_of(f)
    try
        f()
    catch e
        e isa DataJointError && return e.code
        rethrow()
    end
    return Lib.DJ_OK
end

"Run `f`, expect a DataJointError with `code`, and return it."
function error_of(code::Integer, f)
    try
        f()
    catch e
        e isa DataJointError || rethrow()
        @test e.code == code
        return e
    end
    @test false   # nothing was thrown
    return DataJointError(Lib.DJ_OK, "")
end

"A fresh temporary directory, removed when `f(dir)` returns."
function with_tempdir(f)
    dir = mktempdir(; prefix="dj_julia_test_")
    try
        return f(dir)
    finally
        GC.gc()   # finalize handles before the files go
        rm(dir; recursive=true, force=true)
    end
end

"`f(conn, schema, dir)` with a DuckDB file in a fresh directory and a schema \"test\"."
function with_db(f)
    with_tempdir() do dir
        DataJoint.duckdb(joinpath(dir, "test.duckdb")) do conn
            s = schema(conn, "test")
            f(conn, s, dir)
        end
    end
end

"Overrides of a connection with an in-memory database and a file store \"main\" (the default)."
function store_overrides(dir)
    store = mkpath(joinpath(dir, "store"))
    cache = joinpath(dir, "cache")
    return Dict("database.path" => ":memory:",
                "npy_cache.path" => cache,
                "stores" => Dict("default" => "main",
                                 "main" => Dict("protocol" => "file", "location" => store)))
end

"Regular files under a folder (recursively)."
function files_under(dir)
    isdir(dir) || return String[]
    out = String[]
    for (root, _, files) in walkdir(dir)
        append!(out, joinpath.(root, files))
    end
    return out
end
