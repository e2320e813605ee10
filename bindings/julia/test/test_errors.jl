# Bad input and error codes through the Julia API (bindings/cpp/tests/test_errors.cpp). Calls
# straight through LibDataJoint are in test_lowlevel.jl.

const ITEM = """
    item_id : int32
    ---
    label : varchar(8)
    small = 0 : int8
    color = 'red' : enum('red','blue')
    price = 0 : decimal(5,2)
    doc = null : json
    day = null : date
    data = null : bytes
"""

@testset "DataJointError carries code, name and message" begin
    e = DataJointError(Lib.DJ_E_DUPLICATE, "m")
    @test e isa Exception
    @test e.code == Lib.DJ_E_DUPLICATE
    @test e.name == "Duplicate"
    @test e.msg == "m"
    @test occursin("Duplicate", sprint(showerror, e))
    @test DataJoint.status_name(Lib.DJ_OK) == "OK"
    @test DataJoint.status_name(Lib.DJ_E_UNKNOWN_ATTRIBUTE) == "UnknownAttribute"
    @test DataJoint.status_name(Lib.DJ_E_BACKEND) == "Backend"
    @test DataJoint.status_name(Lib.DJ_E_PANIC) == "Panic"
    @test DataJoint.status_name(-12345) == "Unknown"
end

@testset "wrong type for an attribute" begin
    with_db() do conn, s, dir
        item = declare(s, "Item", :manual, ITEM)
        cases = [
            ("item_id", (item_id="one",)),                            # text into int32
            ("item_id", (item_id=Int64(1) << 40,)),                   # out of range
            ("item_id", (item_id=1.5,)),                              # non-integral float
            ("small", (small=128,)),                                  # int8 max + 1
            ("small", (small=-129,)),                                 # int8 min - 1
            ("label", (label=5,)),                                    # number into varchar
            ("label", (label="123456789",)),                          # too long
            ("label", (label=UInt8[1],)),                             # bytes into varchar
            ("color", (color="green",)),                              # not an enum member
            ("price", (price=DataJoint.Decimal("1.234"),)),           # too many digits
            ("price", (price=DataJoint.Decimal("1000"),)),            # does not fit (5,2)
            ("price", (price=DataJoint.Decimal("abc"),)),             # not a number
            ("doc", (doc=DataJoint.JSONText("{bad json"),)),          # invalid JSON
            ("day", (day="2024-13-01",)),                             # not a date
            ("day", (day=3,)),                                        # number into date
            ("data", (data="text",)),                                 # text into bytes
        ]
        for (attr, change) in cases
            row = merge((item_id=1, label="a"), change)
            e = error_of(Lib.DJ_E_TYPE, () -> insert1!(item, row))
            @test occursin("'$attr'", e.msg)     # names the attribute
            @test occursin("item", e.msg)        # and the table
        end
        @test count(item) == 0
        @test code_of(() -> insert1!(item, (item_id=typemax(UInt64), label="a"))) == Lib.DJ_E_TYPE
        # Columnar: a buffer of the wrong kind for the attribute.
        e = error_of(Lib.DJ_E_TYPE, () -> insert!(item, (item_id=Int32[1], label=Int32[7])))
        @test occursin("'label'", e.msg)
        @test code_of(() -> insert!(item, (item_id=["1"], label=["a"]))) == Lib.DJ_E_TYPE
        # A Julia value with no DataJoint type.
        @test code_of(() -> insert1!(item, (item_id=1, label=:a => 1))) == Lib.DJ_E_TYPE
        @test code_of(() -> insert!(item, (item_id=Int32[1], label=[1 => 2]))) == Lib.DJ_E_TYPE
        @test count(item) == 0
    end
end

@testset "unknown and missing attributes" begin
    with_db() do conn, s, dir
        item = declare(s, "Item", :manual, ITEM)
        e = error_of(Lib.DJ_E_UNKNOWN_ATTRIBUTE, () -> insert1!(item, (item_id=1, label="a", colour="red")))
        @test occursin("colour", e.msg)
        e = error_of(Lib.DJ_E_UNKNOWN_ATTRIBUTE, () -> insert!(item, (item_id=Int32[1], label=["a"], weight=[1.0])))
        @test occursin("weight", e.msg)
        @test occursin("nope", error_of(Lib.DJ_E_UNKNOWN_ATTRIBUTE, () -> fetch(item; attributes=["label", "nope"])).msg)
        @test occursin("nope", error_of(Lib.DJ_E_UNKNOWN_ATTRIBUTE, () -> fetch(item; order_by="nope DESC")).msg)
        @test insert1!(item, (item_id=1, label="a", colour="red"); ignore_extra_fields=true) == 1
        @test insert!(item, (item_id=Int32[2], label=["b"], weight=[1.0]); ignore_extra_fields=true) == 1
        @test count(item) == 2
        @test occursin("label", error_of(Lib.DJ_E_INVALID_ARG, () -> insert1!(item, (item_id=3,))).msg)
        @test code_of(() -> insert!(item, [Dict(:item_id => 4, :label => "a"), Dict(:item_id => 5, :small => 1)])) ==
              Lib.DJ_E_INVALID_ARG
        @test count(item) == 2
    end
end

@testset "duplicates, skip_duplicates and replace" begin
    with_db() do conn, s, dir
        item = declare(s, "Item", :manual, ITEM)
        insert1!(item, (item_id=1, label="a"))
        e = error_of(Lib.DJ_E_DUPLICATE, () -> insert1!(item, (item_id=1, label="b")))
        @test e.name == "Duplicate"
        @test fetch1(item).label == "a"
        @test insert1!(item, (item_id=1, label="b"); skip_duplicates=true) == 0
        @test fetch1(item).label == "a"
        @test insert!(item, (item_id=Int32[1, 2], label=["c", "d"]); skip_duplicates=true) == 1
        @test insert!(item, [(item_id=1, label="e")]; replace=true) == 1
        @test fetch1(restrict(item, (item_id=1,))).label == "e"
        # Both options at once are refused by the library.
        @test code_of(() -> insert1!(item, (item_id=9, label="x"); skip_duplicates=true, replace=true)) == Lib.DJ_E_INVALID_ARG
        # A failing batch leaves no row.
        @test code_of(() -> insert!(item, [(item_id=10, label="ok"), (item_id=11, label="much too long")])) == Lib.DJ_E_TYPE
        @test code_of(() -> insert!(item, (item_id=Int32[20, 20], label=["x", "y"]))) == Lib.DJ_E_DUPLICATE
        @test count(item) == 2
    end
end

@testset "fetch1 needs exactly one row" begin
    with_db() do conn, s, dir
        item = declare(s, "Item", :manual, ITEM)
        e = error_of(Lib.DJ_E_NOT_FOUND, () -> fetch1(item))
        @test occursin("item", e.msg)
        insert1!(item, (item_id=1, label="a"))
        @test fetch1(item).item_id == 1
        insert1!(item, (item_id=2, label="b"))
        @test error_of(Lib.DJ_E_NOT_UNIQUE, () -> fetch1(item)).name == "NotUnique"
        @test code_of(() -> fetch1(restrict(item, "item_id = 3"))) == Lib.DJ_E_NOT_FOUND
        @test fetch1(restrict(item, "item_id = 2")).label == "b"
    end
end

@testset "use after close" begin
    with_tempdir() do dir
        conn = DataJoint.duckdb(joinpath(dir, "closed.duckdb"))
        s = schema(conn, "test")
        item = declare(s, "Item", :manual, ITEM)
        insert1!(item, (item_id=1, label="a"))
        before = fetch(item)
        close(conn)
        close(conn)                      # idempotent
        @test !isopen(conn)
        @test code_of(() -> count(item)) == Lib.DJ_E_CLOSED
        @test error_of(Lib.DJ_E_CLOSED, () -> fetch(item)).name == "Closed"
        @test code_of(() -> insert1!(item, (item_id=2, label="b"))) == Lib.DJ_E_CLOSED
        @test code_of(() -> delete!(item)) == Lib.DJ_E_CLOSED
        @test code_of(() -> tables(s)) == Lib.DJ_E_CLOSED
        @test code_of(() -> declare(s, "Other", :manual, "x : int32")) == Lib.DJ_E_CLOSED
        # The closed Connection wrapper has no handle any more.
        @test code_of(() -> DataJoint.schemas(conn)) == Lib.DJ_E_INVALID_HANDLE
        # Julia data fetched before the close is unaffected.
        @test before.label == ["a"]
        close(item)
        close(item)
        close(s)
        @test code_of(() -> count(item)) == Lib.DJ_E_INVALID_HANDLE
        @test code_of(() -> DataJoint.name(item)) == Lib.DJ_E_INVALID_HANDLE
        @test sprint(show, item) == "DataJoint.Table(closed)"
    end
end

@testset "malformed definitions" begin
    with_db() do conn, s, dir
        declare(s, "Item", :manual, ITEM)
        bad = [
            ("id : int32\n---\nx : notatype", "notatype"),
            ("id : int32\n---\nx int32", "x int32"),
            ("doc : json\n---\nx : int32", "doc"),
            ("id : int32\n---\nid : int16", "id"),
            ("id = null : int32", "id"),
            ("id : int32\n---\nx : varchar", "varchar"),
            ("id : int32\n---\nx : decimal(3,4)", "decimal"),
            ("id : int32\n---\nx : datetime(7)", "datetime"),
            ("id : int32\n---\nx : enum()", "enum"),
            ("-> Missing\nid : int32", "Missing"),
            ("id : int32\n---\n---\nx : int32", "divider"),
            ("Id : int32", "Id"),
            ("", "no attributes"),
            ("id : int32\n---\nx : int32\nindex(y)", "y"),
        ]
        for (definition, needle) in bad
            e = error_of(Lib.DJ_E_DEFINITION, () -> declare(s, "Broken", :manual, definition))
            @test e.name == "Definition"
            @test occursin(needle, e.msg)
            @test occursin("broken", e.msg)
        end
        @test tables(s) == ["item"]
        @test code_of(() -> declare(s, "lowercase", :manual, "a : int32")) == Lib.DJ_E_INVALID_ARG
    end
end

@testset "invalid UTF-8 and NUL characters" begin
    with_db() do conn, s, dir
        item = declare(s, "Item", :manual, ITEM)
        bad = "ab\xff\xfe"
        @test !isvalid(bad)
        e = error_of(Lib.DJ_E_INVALID_ARG, () -> insert1!(item, (item_id=1, label=bad)))
        @test occursin("UTF-8", e.msg)
        @test code_of(() -> insert1!(item, Dict(bad => 1))) == Lib.DJ_E_INVALID_ARG          # attribute name
        @test code_of(() -> restrict(item, "label = '\xff'")) == Lib.DJ_E_INVALID_ARG
        @test code_of(() -> declare(s, "Bad", :manual, "a : varchar(4) # \xff")) == Lib.DJ_E_INVALID_ARG
        @test code_of(() -> schema(conn, "\xff")) == Lib.DJ_E_INVALID_ARG
        @test code_of(() -> DataJoint.duckdb("\xff.duckdb")) == Lib.DJ_E_INVALID_ARG
        e = error_of(Lib.DJ_E_INVALID_ARG, () -> insert!(item, (item_id=Int32[1, 2], label=["ok", bad])))
        @test occursin("label", e.msg)
        @test count(item) == 0
        # Bytes are not text.
        @test insert!(item, (item_id=Int32[1], label=["ok"], data=[Vector{UInt8}(bad)])) == 1
        # A NUL inside a name or an SQL condition would cut the C string short: refused here.
        @test code_of(() -> restrict(item, "item_id = 1\0 OR 1=1")) == Lib.DJ_E_INVALID_ARG
        @test code_of(() -> insert1!(item, Dict("la\0bel" => "x", "item_id" => 5))) == Lib.DJ_E_INVALID_ARG
    end
end

@testset "SQL restrictions are validated" begin
    with_db() do conn, s, dir
        item = declare(s, "Item", :manual, ITEM)
        @test code_of(() -> restrict(item, "  ")) == Lib.DJ_E_INVALID_ARG
        @test code_of(() -> restrict(item, "1=1; DROP TABLE item")) == Lib.DJ_E_INVALID_ARG
        @test code_of(() -> fetch(item; order_by="label sideways")) == Lib.DJ_E_INVALID_ARG
        @test code_of(() -> fetch(item; limit=-2)) == Lib.DJ_E_INVALID_ARG
        @test code_of(() -> fetch(item; offset=-1)) == Lib.DJ_E_INVALID_ARG
        r = restrict(item, "item_id > 0")
        @test code_of(() -> insert1!(r, (item_id=1, label="a"))) == Lib.DJ_E_INVALID_ARG
        @test code_of(() -> drop!(r)) == Lib.DJ_E_INVALID_ARG
        @test code_of(() -> insert!(item, (item_id=Int32[1, 2], label=["a"]))) == Lib.DJ_E_INVALID_ARG   # lengths differ
        @test code_of(() -> insert!(item, (item_id=1, label="a"))) == Lib.DJ_E_INVALID_ARG             # not vectors
    end
end

@testset "connection failures" begin
    with_tempdir() do dir
        @test code_of(() -> DataJoint.duckdb(joinpath(dir, "no", "such", "dir", "x.duckdb"))) != Lib.DJ_OK
        @test code_of(() -> DataJoint.connect(nothing, "{not json")) != Lib.DJ_OK
        @test code_of(() -> DataJoint.connect(joinpath(dir, "missing.json"))) != Lib.DJ_OK
        overrides = Dict("database.backend" => "duckdb", "database.path" => joinpath(dir, "o.duckdb"))
        DataJoint.connect(nothing, overrides) do c
            @test DataJoint.backend(c) == "duckdb"
        end
        # The same overrides as JSON text.
        DataJoint.connect(nothing, DataJoint.json_string(overrides)) do c
            @test DataJoint.backend(c) == "duckdb"
        end
    end
end
