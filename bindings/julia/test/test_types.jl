# Round trip of every core type through the row path (insert1!/insert! with NamedTuples) and the
# columnar path (insert! with a NamedTuple of vectors), NULLs, defaults and the heading
# (bindings/cpp/tests/test_types.cpp).

const ALL_TYPES = """
    # every core type
    id : int32                      # row number
    ---
    i8 : int8
    i16 : int16
    i32 : int32
    i64 : int64
    f32 : float32
    f64 : float64
    b : bool
    dec : decimal(10,2)
    ch : char(4)
    vc : varchar(64)                # unicode text
    en : enum('red','green','blue')
    d : date
    dt : datetime
    dt6 : datetime(6)
    by : bytes
    js : json
    uu : uuid
"""

expected_rows() = [
    (id=Int32(0), i8=typemin(Int8), i16=typemin(Int16), i32=typemin(Int32), i64=typemin(Int64),
     f32=-floatmax(Float32), f64=-floatmax(Float64), b=false, dec=DataJoint.Decimal("-12345.67"),
     ch="abcd", vc="Grüße, 日本語 🎉", en="red", d=Date(1900, 1, 1), dt=DateTime(1960, 6, 15, 12),
     dt6=DataJoint.DateTimeMicros("1969-12-31 23:59:59.999999"), by=UInt8[0, 1, 0, 255],
     js=DataJoint.JSONText("{\"a\":1,\"b\":[true,null]}"), uu=UUID("123e4567-e89b-12d3-a456-426614174000")),
    (id=Int32(1), i8=typemax(Int8), i16=typemax(Int16), i32=typemax(Int32), i64=typemax(Int64),
     f32=floatmax(Float32), f64=floatmax(Float64), b=true, dec=DataJoint.Decimal("99999999.99"),
     ch="", vc="", en="blue", d=Date(9999, 12, 31), dt=DateTime(9999, 12, 31, 23, 59, 59),
     dt6=DataJoint.DateTimeMicros("2024-02-29 12:34:56.123456"), by=UInt8[],
     js=DataJoint.JSONText("[1,\"x\",null]"), uu=UUID(typemax(UInt128))),
    (id=Int32(2), i8=Int8(0), i16=Int16(0), i32=Int32(0), i64=Int64(0), f32=0.1f0, f64=0.1, b=true,
     dec=DataJoint.Decimal("0.00"), ch="日本", vc="plain ascii", en="green", d=Date(1970, 1, 1),
     dt=DateTime(1970, 1, 1), dt6=DataJoint.DateTimeMicros(1), by=UInt8[0],
     js=DataJoint.JSONText("\"hello\""), uu=UUID(0)),
]

# A NamedTuple of column vectors from a vector of NamedTuples.
function columns_of(rows)
    ks = keys(rows[1])
    return NamedTuple{ks}(Tuple([r[k] for r in rows] for k in ks))
end

const EXPECTED_KINDS = (id=Lib.DJ_KIND_INT32, i8=Lib.DJ_KIND_INT8, i16=Lib.DJ_KIND_INT16,
                        i32=Lib.DJ_KIND_INT32, i64=Lib.DJ_KIND_INT64, f32=Lib.DJ_KIND_FLOAT32,
                        f64=Lib.DJ_KIND_FLOAT64, b=Lib.DJ_KIND_BOOL, dec=Lib.DJ_KIND_DECIMAL,
                        ch=Lib.DJ_KIND_STRING, vc=Lib.DJ_KIND_STRING, en=Lib.DJ_KIND_STRING,
                        d=Lib.DJ_KIND_DATE, dt=Lib.DJ_KIND_DATETIME, dt6=Lib.DJ_KIND_DATETIME,
                        by=Lib.DJ_KIND_BYTES, js=Lib.DJ_KIND_JSON, uu=Lib.DJ_KIND_UUID)

function check_all_types(t, rows)
    # Heading kinds.
    attrs = DataJoint.attributes(t)
    @test length(attrs) == 18
    for a in attrs
        @test a.kind == EXPECTED_KINDS[Symbol(a.name)]
        @test a.in_key == (a.name == "id")
    end
    @test attrs[9].type == "decimal(10,2)"
    @test attrs[15].type == "datetime(6)"
    @test attrs[12].type == "enum('red','green','blue')"

    r = fetch(t; order_by="id")
    @test keys(r) == keys(rows[1])
    @test eltype(r.id) == Int32
    @test eltype(r.i8) == Int8
    @test eltype(r.i16) == Int16
    @test eltype(r.i64) == Int64
    @test eltype(r.f32) == Float32
    @test eltype(r.f64) == Float64
    @test eltype(r.b) == Bool
    @test eltype(r.dec) == String
    @test eltype(r.d) == Date
    @test eltype(r.dt) == DateTime
    @test eltype(r.by) == Vector{UInt8}
    @test eltype(r.uu) == UUID
    exact = fetch(t; order_by="id", exact_datetimes=true)
    @test eltype(exact.dt6) == DataJoint.DateTimeMicros
    for (i, e) in enumerate(rows)
        @test r.id[i] == e.id
        @test r.i8[i] == e.i8
        @test r.i16[i] == e.i16
        @test r.i32[i] == e.i32
        @test r.i64[i] == e.i64
        @test r.f32[i] == e.f32
        @test r.f64[i] == e.f64
        @test r.b[i] == e.b
        @test r.dec[i] == e.dec.text
        @test r.ch[i] == e.ch
        @test r.vc[i] == e.vc
        @test r.en[i] == e.en
        @test r.d[i] == e.d
        @test r.dt[i] == e.dt
        @test exact.dt[i] == DataJoint.DateTimeMicros(e.dt)
        @test exact.dt6[i] == e.dt6
        @test r.dt6[i] == DateTime(e.dt6)   # millisecond DateTime, floored
        @test r.by[i] == e.by
        @test r.js[i] == e.js.text
        @test r.uu[i] == e.uu
    end
end

@testset "row path round-trips every core type" begin
    with_db() do conn, s, dir
        t = declare(s, "AllTypes", :manual, ALL_TYPES)
        rows = expected_rows()
        @test insert1!(t, rows[1]) == 1
        @test insert!(t, rows[2:end]) == length(rows) - 1
        check_all_types(t, rows)
    end
end

@testset "columnar path round-trips every core type" begin
    with_db() do conn, s, dir
        t = declare(s, "AllTypes", :manual, ALL_TYPES)
        rows = expected_rows()
        cols = columns_of(rows)
        @test cols.dec isa Vector{DataJoint.Decimal}
        @test insert!(t, cols) == length(rows)
        check_all_types(t, rows)
    end
end

@testset "row and columnar paths store identical values" begin
    with_db() do conn, s, dir
        a = declare(s, "ViaRows", :manual, ALL_TYPES)
        b = declare(s, "ViaColumns", :manual, ALL_TYPES)
        rows = expected_rows()
        foreach(r -> insert1!(a, r), rows)
        insert!(b, columns_of(rows))
        @test isequal(fetch(a; order_by="id", exact_datetimes=true), fetch(b; order_by="id", exact_datetimes=true))
    end
end

@testset "dicts, symbols and other integer types on the row path" begin
    with_db() do conn, s, dir
        t = declare(s, "Loose", :manual, "id : int32\n---\nsmall : int8\nname : varchar(8)\nx : float64")
        insert1!(t, Dict("id" => UInt8(1), "small" => Int64(-5), "name" => :abc, "x" => 1 // 4))
        insert1!(t, Dict(:id => big(2), :small => Int16(1), :name => SubString("xyz!", 1, 3), :x => 3))
        r = fetch(t; order_by="id")
        @test r.id == Int32[1, 2]
        @test r.small == Int8[-5, 1]
        @test r.name == ["abc", "xyz"]
        @test r.x == [0.25, 3.0]
        # Columnar: other integer and real element types are sent as int64 / float64.
        insert!(t, (id=UInt16[3, 4], small=[Int128(7), Int128(-7)], name=[:p, :q], x=Float16[0.5, 1.5]))
        r = fetch(restrict(t, "id >= 3"); order_by="id")
        @test r.small == Int8[7, -7]
        @test r.x == [0.5, 1.5]
        @test code_of(() -> insert!(t, (id=Int64[5], small=[typemax(UInt64)], name=["a"], x=[1.0]))) == Lib.DJ_E_TYPE
    end
end

@testset "bigint unsigned holds the whole UInt64 range" begin
    with_db() do conn, s, dir
        t = declare(s, "Unsigned", :manual, "id : int32\n---\nx = null : bigint unsigned")
        @test attributes(t)[2].kind == Lib.DJ_KIND_UINT64
        insert1!(t, (id=1, x=typemax(UInt64)))                 # row path beyond Int64
        insert!(t, [(id=2, x=UInt64(0)), (id=3, x=12345)])
        insert!(t, (id=Int32[4, 5, 6], x=Union{Missing,UInt64}[typemax(UInt64), UInt64(2)^63, missing]))
        r = fetch(t; order_by="id")
        @test r.x[1:5] == UInt64[typemax(UInt64), 0, 12345, typemax(UInt64), UInt64(2)^63]
        @test eltype(r.x) == Union{Missing,UInt64}
        @test ismissing(r.x[6])
        @test count(restrict(t, (x=typemax(UInt64),))) == 2
        @test code_of(() -> insert1!(t, (id=7, x=-1))) == Lib.DJ_E_TYPE
        @test count(t) == 6
    end
end

@testset "unicode is counted in characters" begin
    with_db() do conn, s, dir
        t = declare(s, "Text", :manual, "id : int32\n---\ns : varchar(4)\nc : char(2)")
        insert1!(t, (id=1, s="日本語🎉", c="ßü"))
        @test fetch1(t).s == "日本語🎉"
        @test fetch1(t).c == "ßü"
        @test code_of(() -> insert1!(t, (id=2, s="日本語🎉!", c="a"))) == Lib.DJ_E_TYPE
    end
end

@testset "bytes keep embedded NULs" begin
    with_db() do conn, s, dir
        t = declare(s, "Blob", :manual, "id : int32\n---\ndata : bytes")
        payload = UInt8[0x61, 0x00, 0x62, 0x00, 0x00, 0x63]
        insert1!(t, (id=1, data=payload))
        insert!(t, (id=Int32[2], data=[zeros(UInt8, 1024)]))
        r = fetch(t; order_by="id")
        @test r.data[1] == payload
        @test length(r.data[2]) == 1024
    end
end

@testset "text is parsed for typed attributes" begin
    with_db() do conn, s, dir
        t = declare(s, "Parsed", :manual, """
            id : int32
            ---
            d : date
            dt : datetime(3)
            u : uuid
            x : decimal(6,3)
            j : json
            f : float64
            n : int16
        """)
        insert1!(t, (id=1, d="2024-02-29", dt="2024-02-29T12:00:00.250", u="123E4567-E89B-12D3-A456-426614174000",
                     x="1.5", j="{\"k\":[1,2]}", f=3, n=12.0))
        r = fetch1(t)
        @test r.d == Date(2024, 2, 29)
        @test r.dt == DateTime(2024, 2, 29, 12, 0, 0, 250)
        @test r.u == UUID("123e4567-e89b-12d3-a456-426614174000")
        @test r.x == "1.500"
        @test r.j == "{\"k\":[1,2]}"
        @test r.f === 3.0
        @test r.n === Int16(12)
        @test code_of(() -> insert1!(t, (id=2, d="2024-02-30", dt="x", u="x", x="1", j="1", f=1, n=1))) == Lib.DJ_E_TYPE
        @test code_of(() -> insert1!(t, (id=2, d="2024-02-28", dt="2024-01-01", u="123e4567-e89b-12d3-a456-426614174000",
                                         x="1", j="1", f=1, n=12.5))) == Lib.DJ_E_TYPE
    end
end

@testset "datetime precision" begin
    with_db() do conn, s, dir
        t = declare(s, "Clock", :manual, "id : int32\n---\nt0 : datetime\nt6 : datetime(6)")
        when = DataJoint.DateTimeMicros("2024-05-06 07:08:09.123456")
        insert1!(t, (id=1, t0=when, t6=when))
        r = fetch1(t; exact_datetimes=true)
        @test string(r.t0) == "2024-05-06 07:08:09"
        @test string(r.t6) == "2024-05-06 07:08:09.123456"
        @test r.t6.micros == when.micros
        # As DateTime (milliseconds): floored, documented.
        @test fetch1(t).t6 == DateTime(2024, 5, 6, 7, 8, 9, 123)
        # Before the epoch, flooring goes down.
        @test DateTime(DataJoint.DateTimeMicros(-1)) == DateTime(1969, 12, 31, 23, 59, 59, 999)
    end
end

@testset "dates outside the supported range are rejected" begin
    with_db() do conn, s, dir
        t = declare(s, "Day", :manual, "id : int32\n---\nday : date")
        insert1!(t, (id=1, day=Date(1, 1, 1)))
        insert1!(t, (id=2, day=Date(9999, 12, 31)))
        @test fetch(t; order_by="id").day == [Date(1, 1, 1), Date(9999, 12, 31)]
        for d in (Date(10000, 1, 1), Date(-5, 1, 1))
            @test code_of(() -> insert1!(t, (id=3, day=d))) == Lib.DJ_E_TYPE
            @test code_of(() -> insert!(t, (id=Int32[3], day=[d]))) == Lib.DJ_E_TYPE
        end
        @test count(t) == 2
    end
end

const NULLABLE = """
    id : int32
    ---
    i8 = null : int8
    i16 = null : int16
    i32 = null : int32
    i64 = null : int64
    f32 = null : float32
    f64 = null : float64
    b = null : bool
    dec = null : decimal(10,2)
    ch = null : char(4)
    vc = null : varchar(64)
    en = null : enum('red','green')
    d = null : date
    dt = null : datetime
    by = null : bytes
    js = null : json
    uu = null : uuid
"""

const NULLABLE_NAMES = (:i8, :i16, :i32, :i64, :f32, :f64, :b, :dec, :ch, :vc, :en, :d, :dt, :by, :js, :uu)

full_nullable_row(id) = (id=Int32(id), i8=Int8(-8), i16=Int16(-16), i32=Int32(-32), i64=Int64(-64), f32=3.25f0,
                         f64=-6.5, b=false, dec=DataJoint.Decimal("-0.50"), ch="ab", vc="Grüße", en="green",
                         d=Date(2000, 1, 1), dt=DateTime(2000, 1, 1, 10), by=UInt8[0],
                         js=DataJoint.JSONText("null"), uu=UUID(1))

function check_full_values(r, i)
    @test r.i8[i] == -8
    @test r.i16[i] == -16
    @test r.i32[i] == -32
    @test r.i64[i] == -64
    @test r.f32[i] == 3.25f0
    @test r.f64[i] == -6.5
    @test r.b[i] == false
    @test r.dec[i] == "-0.50"
    @test r.ch[i] == "ab"
    @test r.vc[i] == "Grüße"
    @test r.en[i] == "green"
    @test r.d[i] == Date(2000, 1, 1)
    @test r.dt[i] == DateTime(2000, 1, 1, 10)
    @test r.by[i] == UInt8[0]
    @test r.js[i] == "null"            # the JSON document null, not SQL NULL
    @test r.uu[i] == UUID(1)
end

@testset "NULLs through the row path" begin
    with_db() do conn, s, dir
        t = declare(s, "Maybe", :manual, NULLABLE)
        insert1!(t, (id=1,))                                                  # omitted: default NULL
        explicit = Dict{Symbol,Any}(:id => 2)
        for (k, nm) in enumerate(NULLABLE_NAMES)
            explicit[nm] = isodd(k) ? missing : nothing
        end
        insert1!(t, explicit)
        insert1!(t, full_nullable_row(3))
        insert1!(t, (id=4, f64=NaN))                                          # NaN means NULL
        r = fetch(t; order_by="id")
        @test length(r.id) == 4
        for nm in NULLABLE_NAMES
            col = r[nm]
            @test eltype(col) >: Missing
            @test ismissing(col[1])
            @test ismissing(col[2])
            @test !ismissing(col[3])
        end
        check_full_values(r, 3)
        @test ismissing(r.f64[4])
        @test eltype(r.id) == Int32    # no NULLs: a plain vector
    end
end

@testset "NULLs through the columnar path" begin
    with_db() do conn, s, dir
        t = declare(s, "Maybe", :manual, NULLABLE)
        full = full_nullable_row(2)
        cols = (id=Int32[1, 2, 3],)
        for nm in NULLABLE_NAMES
            v = full[nm]
            cols = merge(cols, NamedTuple{(nm,)}((Union{Missing,typeof(v)}[missing, v, missing],)))
        end
        @test insert!(t, cols) == 3
        r = fetch(t; order_by="id")
        for nm in NULLABLE_NAMES
            @test ismissing(r[nm][1])
            @test !ismissing(r[nm][2])
            @test ismissing(r[nm][3])
        end
        check_full_values(r, 2)
        # A column of only NULLs (its element type tells nothing): the heading's kind is used.
        @test insert!(t, (id=Int32[10, 11], i8=[missing, missing], vc=[nothing, nothing], by=Any[missing, nothing])) == 2
        r = fetch(restrict(t, "id >= 10"))
        @test all(ismissing, r.i8) && all(ismissing, r.vc) && all(ismissing, r.by)
    end
end

@testset "NULL is rejected for required attributes" begin
    with_db() do conn, s, dir
        t = declare(s, "Required", :manual, "id : int32\n---\nv : int32")
        e = error_of(Lib.DJ_E_TYPE, () -> insert1!(t, (id=1, v=missing)))
        @test occursin("'v'", e.msg)
        @test code_of(() -> insert!(t, (id=Int32[1, 2], v=Union{Missing,Int32}[1, missing]))) == Lib.DJ_E_TYPE
        @test count(t) == 0
    end
end

const DEFAULTS = """
    # defaults of several kinds
    id : int32
    ---
    n = 7 : int32               # a number
    s = "hello, world" : varchar(20)
    f = 2.5 : float64
    mode = 'b' : enum('a','b')
    day = "2020-01-01" : date
    price = 1.5 : decimal(5,2)
    note = null : varchar(10)
"""

@testset "defaults and the heading" begin
    with_db() do conn, s, dir
        t = declare(s, "Defaults", :manual, DEFAULTS)
        insert1!(t, (id=1,))
        insert!(t, (id=Int32[2],))
        insert1!(t, (id=3, n=8, note="given"))
        r = fetch(t; order_by="id")
        for i in 1:2
            @test r.n[i] == 7
            @test r.s[i] == "hello, world"
            @test r.f[i] == 2.5
            @test r.mode[i] == "b"
            @test r.day[i] == Date(2020, 1, 1)
            @test r.price[i] == "1.50"
            @test ismissing(r.note[i])
        end
        @test r.n[3] == 8
        @test r.note[3] == "given"

        @test DataJoint.name(t) == "defaults"
        @test DataJoint.comment(t) == "defaults of several kinds"
        attrs = DataJoint.attributes(t)
        @test length(attrs) == 8
        @test attrs[1].name == "id" && attrs[1].type == "int32" && attrs[1].in_key && !attrs[1].nullable
        @test attrs[1].default === nothing
        @test attrs[1].kind == Lib.DJ_KIND_INT32
        @test attrs[2].name == "n" && !attrs[2].in_key && attrs[2].comment == "a number" && attrs[2].default == "7"
        @test attrs[3].type == "varchar(20)" && attrs[3].default == "hello, world" && attrs[3].kind == Lib.DJ_KIND_STRING
        @test attrs[5].type == "enum('a','b')"
        @test attrs[7].kind == Lib.DJ_KIND_DECIMAL
        @test attrs[8].name == "note" && attrs[8].nullable && attrs[8].default == "NULL"
    end
end

@testset "tier sets the table name prefix" begin
    with_db() do conn, s, dir
        @test DataJoint.name(declare(s, "Animal", :lookup, "animal : varchar(8)")) == "#animal"
        @test DataJoint.name(declare(s, "RawScan", :manual, "scan_id : int32")) == "raw_scan"
        @test DataJoint.name(declare(s, "Loaded", :imported, "-> RawScan")) == "_loaded"
        @test DataJoint.name(declare(s, "Analysis", :Computed, "-> Loaded")) == "__analysis"
        @test tables(s) == ["#animal", "__analysis", "_loaded", "raw_scan"]
        @test DataJoint.name(declare(s, "Animal", :lookup, "animal : varchar(8)")) == "#animal"
        @test code_of(() -> declare(s, "Other", :sideways, "x : int32")) == Lib.DJ_E_INVALID_ARG
    end
end

@testset "value helpers" begin
    @test DataJoint.date_from_ymd(1970, 1, 1) == Date(1970, 1, 1)
    @test DataJoint.date_from_ymd(2024, 2, 29) == Date(2024, 2, 29)
    @test code_of(() -> DataJoint.date_from_ymd(2023, 2, 29)) == Lib.DJ_E_INVALID_ARG
    @test DataJoint.format_date(Date(2024, 2, 29)) == "2024-02-29"
    @test DataJoint.DateTimeMicros("1970-01-01 00:00:01").micros == 1_000_000
    @test DataJoint.DateTimeMicros("1970-01-01T00:00:00.000001Z").micros == 1
    @test DataJoint.format_datetime(-1) == "1969-12-31 23:59:59.999999"
    @test DataJoint.DateTimeMicros(DateTime(1970, 1, 2)).micros == 86_400_000_000
    @test code_of(() -> DataJoint.DateTimeMicros("yesterday")) == Lib.DJ_E_INVALID_ARG
    @test DataJoint.json_string(Dict("a" => [1, "x\"y", nothing, true])) == "{\"a\":[1,\"x\\\"y\",null,true]}"
end

# ------------------------------------------------------------------------------ <blob> values
# The Julia ↔ dj_value mapping (src/blob.jl, README "Blobs"), without and with a database
# (bindings/cpp/tests/test_blob.cpp).

"Julia value → owned dj_value → Julia value (the tree is freed)."
function blob_roundtrip(x; exact_datetimes=false)
    p = DataJoint.to_dj_value(x)
    try
        return DataJoint.from_dj_value(p; exact_datetimes=exact_datetimes)
    finally
        Lib.dj_value_free(p)
    end
end

"The DJ_VALUE_* type of the tree of `x`."
function blob_type(x)
    p = DataJoint.to_dj_value(x)
    try
        return Lib.dj_value_type(p)
    finally
        Lib.dj_value_free(p)
    end
end

@testset "<blob> mapping: scalars and strings" begin
    @test blob_type(nothing) == Lib.DJ_VALUE_NONE
    @test blob_roundtrip(nothing) === nothing
    @test blob_type(true) == Lib.DJ_VALUE_BOOL
    @test blob_roundtrip(true) === true
    @test blob_type(42) == Lib.DJ_VALUE_INT
    @test blob_roundtrip(-42) === -42
    @test blob_type(big(2)^70) == Lib.DJ_VALUE_BIGINT
    @test blob_roundtrip(big(2)^70) == big(2)^70
    @test blob_roundtrip(-big(2)^70 - 1) == -big(2)^70 - 1
    @test blob_type(2.5) == Lib.DJ_VALUE_FLOAT
    @test blob_roundtrip(2.5) === 2.5
    @test blob_type(1.0 - 2.0im) == Lib.DJ_VALUE_COMPLEX
    @test blob_roundtrip(1.0 - 2.0im) === 1.0 - 2.0im
    @test blob_type("Grüße 🎉") == Lib.DJ_VALUE_STRING
    @test blob_roundtrip("Grüße 🎉") == "Grüße 🎉"
    @test blob_roundtrip("") == ""
    @test blob_roundtrip(:sym) == "sym"
    # other numeric scalars are MATLAB scalars: 1×1 arrays of their class
    @test blob_type(Float32(1.5)) == Lib.DJ_VALUE_ARRAY
    @test blob_roundtrip(Float32(1.5)) == fill(Float32(1.5), 1, 1)
    @test blob_roundtrip(UInt16(7)) isa Matrix{UInt16}
    @test only(blob_roundtrip(Int8(-3))) === Int8(-3)
    dec = blob_roundtrip(DataJoint.Decimal("-12.50"))
    @test dec isa DataJoint.Decimal && parse(Float64, dec.text) == -12.5
    @test blob_roundtrip(UUID("123e4567-e89b-12d3-a456-426614174000")) == UUID("123e4567-e89b-12d3-a456-426614174000")
    @test blob_roundtrip(Date(2024, 2, 29)) == Date(2024, 2, 29)
    @test blob_roundtrip(Dates.Time(12, 34, 56, 789)) == Dates.Time(12, 34, 56, 789)
    @test blob_roundtrip(DateTime(2024, 2, 29, 12, 34, 56, 789)) == DateTime(2024, 2, 29, 12, 34, 56, 789)
    dtm = DataJoint.DateTimeMicros("2024-02-29 12:34:56.123456")
    @test blob_roundtrip(dtm; exact_datetimes=true) == dtm
    @test code_of(() -> DataJoint.to_dj_value(r"no blob")) == Lib.DJ_E_TYPE
end

@testset "<blob> mapping: arrays keep shape, class and column-major order" begin
    for T in (Float64, Float32, Int8, UInt8, Int16, UInt16, Int32, UInt32, Int64, UInt64)
        A = T.(reshape(0:23, 2, 3, 4))
        B = blob_roundtrip(A)
        @test B isa Array{T,3}
        @test B == A
    end
    v = [1.0, 2.0, 3.0]
    @test blob_roundtrip(v) == v && blob_roundtrip(v) isa Vector{Float64}   # 1-d stays 1-d
    mask = Bool[1 0; 1 1]
    @test blob_roundtrip(mask) == mask && blob_roundtrip(mask) isa Matrix{Bool}
    @test blob_roundtrip(BitArray(mask)) == mask
    C = ComplexF64[1+2im 3-4im; 5im -6]
    @test blob_roundtrip(C) == C && blob_roundtrip(C) isa Matrix{ComplexF64}
    @test blob_roundtrip(ComplexF32[1+1im, 2]) isa Vector{ComplexF32}
    @test blob_roundtrip(zeros(0, 0)) == zeros(0, 0)
    @test blob_roundtrip(1:4) == [1, 2, 3, 4]                  # any AbstractArray is copied
    @test blob_roundtrip(Float16[1, 2]) == [1.0, 2.0]           # other reals as double
    # the array view of a dj_value: shape and class as stored
    p = DataJoint.to_dj_value(reshape(Int32.(1:6), 2, 3))
    try
        a = Ref(Lib.dj_blob_array())
        @test Lib.dj_value_array(p, a) == Lib.DJ_OK
        @test a[].class_id == Lib.DJ_CLASS_INT32 && a[].ndim == 2 && a[].length == 6
        @test unsafe_load(a[].shape, 1) == 2 && unsafe_load(a[].shape, 2) == 3
        @test unsafe_load(Ptr{Int32}(a[].real), 2) == 2           # column-major: A[2, 1]
    finally
        Lib.dj_value_free(p)
    end
    # MATLAB char arrays (UTF-16) come back as strings
    s = "héllo"
    p = Ref{Ptr{Lib.dj_value}}(C_NULL)
    @test Lib.dj_value_new_char(s, sizeof(s), p) == Lib.DJ_OK
    try
        @test DataJoint.from_dj_value(p[]) == "héllo"
    finally
        Lib.dj_value_free(p[])
    end
end

@testset "<blob> mapping: containers, structs and cells" begin
    @test blob_type(Any[1, "two"]) == Lib.DJ_VALUE_LIST
    @test blob_roundtrip(Any[1, "two", Any[]]) == Any[1, "two", Any[]]
    @test blob_roundtrip(["a", "b"]) == Any["a", "b"]
    @test blob_type((1, "x")) == Lib.DJ_VALUE_TUPLE
    @test blob_roundtrip((1, "x", nothing)) == (1, "x", nothing)
    @test blob_type(Set([1, 2])) == Lib.DJ_VALUE_SET
    @test blob_roundtrip(Set([1, 2])) == Set{Any}([1, 2])
    d = Dict("a" => [1.0 2.0], "b" => Dict("c" => nothing), "n" => 3)
    @test blob_type(d) == Lib.DJ_VALUE_DICT
    back = blob_roundtrip(d)
    @test back isa Dict{Any,Any}
    @test back["a"] == [1.0 2.0] && back["b"] == Dict{Any,Any}("c" => nothing) && back["n"] === 3
    # NamedTuples are MATLAB structs; arrays of them struct arrays of the same shape
    @test blob_type((a=1.0, b="x")) == Lib.DJ_VALUE_STRUCT
    st = blob_roundtrip((a=1.0, b="x"))
    @test size(st) == (1, 1) && st[1].a === 1.0 && st[1].b == "x"
    sa = [(a=1, b=[1.0, 2.0]) (a=2, b=[3.0])]
    back = blob_roundtrip(sa)
    @test size(back) == (1, 2) && back[2].a === 2 && back[1].b == [1.0, 2.0]
    @test code_of(() -> DataJoint.to_dj_value([(a=1,), (b=2,)])) == Lib.DJ_E_INVALID_ARG
    # other arrays of N ≠ 1 dimensions are cells
    cell = Matrix{Any}(undef, 2, 2)
    cell[1, 1], cell[1, 2], cell[2, 1], cell[2, 2] = "c", 1.5, nothing, Any["nested"]
    @test blob_type(cell) == Lib.DJ_VALUE_CELL
    back = blob_roundtrip(cell)
    @test back isa Matrix{Any} && size(back) == (2, 2)
    @test back[1, 1] == "c" && back[1, 2] === 1.5 && back[2, 1] === nothing && back[2, 2] == Any["nested"]
end

@testset "<blob> bytes: pack and unpack" begin
    x = Dict("m" => reshape(collect(1.0:6.0), 2, 3), "s" => "text", "l" => Any[1, 2.5])
    b = DataJoint.pack_blob(x)
    @test b isa Vector{UInt8} && !isempty(b)
    y = DataJoint.unpack_blob(b)
    @test y["m"] == x["m"] && y["s"] == "text" && y["l"] == Any[1, 2.5]
    @test DataJoint.unpack_blob(DataJoint.pack_blob([1.0 2.0; 3.0 4.0])) == [1.0 2.0; 3.0 4.0]
    @test code_of(() -> DataJoint.unpack_blob(UInt8[1, 2, 3])) != Lib.DJ_OK
end

@testset "<blob> attributes: row and columnar inserts, fetch" begin
    with_db() do conn, s, dir
        t = declare(s, "BlobRec", :manual, """
            rec_id : int32
            ---
            v = null : <blob>
        """)
        @test DataJoint.attributes(t)[2].kind == Lib.DJ_KIND_BLOB
        values = Any[reshape(collect(0.5:0.5:6.0), 2, 3, 2), Dict("k" => Any[1, "two"]), "a str",
                     (a=Int32[5, 6], b="x"), Any["c" 1.5]]
        for (i, x) in enumerate(values)
            insert1!(t, (rec_id=Int32(i), v=x))
        end
        insert1!(t, (rec_id=Int32(0), v=missing))
        insert!(t, (rec_id=Int32[10, 11, 12], v=Any[[1.0, 2.0], missing, Dict("n" => nothing)]))
        insert!(t, [(rec_id=Int32(20), v=UInt8[1, 2, 250]), (rec_id=Int32(21), v=nothing)])
        got = fetch(t; order_by="rec_id")
        @test got.rec_id == Int32[0, 1, 2, 3, 4, 5, 10, 11, 12, 20, 21]
        v = got.v
        @test v isa Vector{Any}
        @test v[1] === missing && v[8] === missing && v[11] === missing
        @test v[2] == values[1] && v[2] isa Array{Float64,3}
        @test v[3] == Dict{Any,Any}("k" => Any[1, "two"])
        @test v[4] == "a str"
        @test size(v[5]) == (1, 1) && v[5][1].a == Int32[5, 6] && v[5][1].b == "x"
        @test v[6] == Any["c" 1.5]
        @test v[7] == [1.0, 2.0]
        @test v[9] == Dict{Any,Any}("n" => nothing)
        @test v[10] == UInt8[1, 2, 250] && v[10] isa Vector{UInt8}
        row1 = fetch1(restrict(t, "rec_id = 1"))
        @test row1.v == values[1]
        DataJoint.with(DataJoint.fetch_result(t; order_by="rec_id")) do r
            @test DataJoint.blob_value(r, "v", 2) == values[1]
            @test DataJoint.blob_value(r, 2, 4) == "a str"
            @test code_of(() -> DataJoint.blob_value(r, "v", 1)) == Lib.DJ_E_NOT_FOUND
            @test code_of(() -> DataJoint.blob_value(r, "rec_id", 1)) == Lib.DJ_E_TYPE
        end
        # a value with no <blob> representation is refused before anything is written
        @test code_of(() -> insert1!(t, (rec_id=Int32(99), v=r"x"))) == Lib.DJ_E_TYPE
        @test count(restrict(t, "rec_id = 99")) == 0
    end
end
