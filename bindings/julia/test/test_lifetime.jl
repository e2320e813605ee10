# Ownership: finalizers and close() free each handle exactly once, children keep their parents
# alive, results outlive tables and connections, do-blocks release deterministically
# (bindings/cpp/tests/test_lifetime.cpp).

@testset "results outlive their table and connection" begin
    with_tempdir() do dir
        function fetch_and_drop_everything(path)
            conn = DataJoint.duckdb(path)
            t = declare(schema(conn, "life"), "Sample", :manual, """
                sample_id : int64
                ---
                label : varchar(32)
                weight = null : float64
                raw = null : bytes
            """)
            weights = Union{Missing,Float64}[i == 3 ? missing : i * 0.5 for i in 0:999]
            insert!(t, (sample_id=collect(Int64, 0:999), label=["sample #$i" for i in 0:999], weight=weights,
                        raw=[fill(UInt8(i % 256), i % 7) for i in 0:999]))
            r = DataJoint.fetch_result(t; order_by="sample_id")
            close(conn)   # the result must not depend on the database
            return r
        end
        r = fetch_and_drop_everything(joinpath(dir, "life.duckdb"))
        GC.gc()
        noise = [fill('z', 100) for _ in 1:2000]   # churn the heap
        cols = DataJoint.columns(r)
        @test length(cols.sample_id) == 1000
        @test cols.sample_id == collect(0:999)
        @test cols.label[1000] == "sample #999"
        @test ismissing(cols.weight[4])
        @test cols.weight[5] == 2.0
        @test length.(cols.raw) == [i % 7 for i in 0:999]
        close(r)
        close(r)                       # idempotent
        @test code_of(() -> DataJoint.columns(r)) == Lib.DJ_E_INVALID_HANDLE
        @test length(noise) == 2000
    end
end

@testset "children keep the connection alive" begin
    with_tempdir() do dir
        t = let
            conn = DataJoint.duckdb(joinpath(dir, "alive.duckdb"))
            s = schema(conn, "alive")
            declare(s, "Thing", :manual, "thing_id : int32")
        end
        GC.gc()   # conn and s are unreachable from here, but t.parent keeps the schema (and it the connection)
        @test t.parent isa Schema
        @test t.parent.parent isa Connection
        insert1!(t, (thing_id=1,))
        @test count(t) == 1
        r = restrict(t, "thing_id = 1")
        @test r.parent === t
        t = nothing
        GC.gc()
        @test count(r) == 1
        @test fetch1(r).thing_id == 1
        close(r.parent.parent.parent)  # close the connection explicitly
        @test code_of(() -> count(r)) == Lib.DJ_E_CLOSED
    end
end

@testset "finalizers run safely in any order, after close too" begin
    with_tempdir() do dir
        for k in 1:20
            conn = DataJoint.duckdb(joinpath(dir, "gc$k.duckdb"))
            s = schema(conn, "g")
            t = declare(s, "Thing", :manual, "thing_id : int32\n---\nv : varchar(8)")
            insert!(t, [(thing_id=i, v="v$i") for i in 1:10])
            r = DataJoint.fetch_result(t)
            isodd(k) && close(conn)    # half closed explicitly, half left to the finalizers
            k % 3 == 0 && close(t)
            conn = s = t = r = nothing
        end
        GC.gc()
        GC.gc()
        @test true
    end
end

@testset "do-blocks close deterministically" begin
    with_tempdir() do dir
        file = joinpath(dir, "do.duckdb")
        captured = DataJoint.duckdb(file) do conn
            s = schema(conn, "d")
            insert1!(declare(s, "Thing", :manual, "thing_id : int32"), (thing_id=1,))
            conn
        end
        @test !isopen(captured)
        # The file is released: it can be opened again right away, and removed.
        DataJoint.duckdb(file) do conn
            @test count(table(schema(conn, "d"; create=false), "Thing")) == 1
        end
        rm(file; force=true)
        @test !isfile(file)
        # An exception inside the block still closes the connection.
        c2 = nothing
        @test_throws ErrorException DataJoint.duckdb(":memory:") do conn
            c2 = conn
            error("boom")
        end
        @test !isopen(c2)
        DataJoint.with(DataJoint.duckdb()) do conn
            @test DataJoint.backend(conn) == "duckdb"
        end
    end
end

@testset "rows are built, reused as keys and freed" begin
    with_db() do conn, s, dir
        t = declare(s, "Thing", :manual, "thing_id : int32\n---\nv : int32")
        for i in 0:2
            insert1!(t, Dict(:thing_id => i, :v => i * i))
        end
        @test count(t) == 3
        @test fetch1(restrict(t, Dict("thing_id" => 2))).v == 4
        row = DataJoint._build_row((a=1, b="x"), nothing)
        @test length(row) == 2
        close(row)
        close(row)
        @test code_of(() -> length(row)) == Lib.DJ_E_INVALID_HANDLE
    end
end
