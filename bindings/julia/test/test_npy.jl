# `<npy@store>` arrays: every Julia element type × shape × order through the row and columnar
# paths, the column-major order rule, lazy refs (no store requests), zero-copy views that outlive
# the connection, ranged row reads, Julia's own mmap, bad input and orphan-free failures
# (bindings/cpp/tests/test_npy.cpp).

const REC = """
    rec_id : int32
    ---
    arr = null : <npy@>
"""

# (Julia element type, DJ_DTYPE_*, bytes per element, numpy's name)
const DTYPES = [
    (Bool, Lib.DJ_DTYPE_BOOL, 1, "bool"),
    (Int8, Lib.DJ_DTYPE_INT8, 1, "int8"),
    (Int16, Lib.DJ_DTYPE_INT16, 2, "int16"),
    (Int32, Lib.DJ_DTYPE_INT32, 4, "int32"),
    (Int64, Lib.DJ_DTYPE_INT64, 8, "int64"),
    (UInt8, Lib.DJ_DTYPE_UINT8, 1, "uint8"),
    (UInt16, Lib.DJ_DTYPE_UINT16, 2, "uint16"),
    (UInt32, Lib.DJ_DTYPE_UINT32, 4, "uint32"),
    (UInt64, Lib.DJ_DTYPE_UINT64, 8, "uint64"),
    (Float16, Lib.DJ_DTYPE_FLOAT16, 2, "float16"),
    (Float32, Lib.DJ_DTYPE_FLOAT32, 4, "float32"),
    (Float64, Lib.DJ_DTYPE_FLOAT64, 8, "float64"),
    (ComplexF32, Lib.DJ_DTYPE_COMPLEX64, 8, "complex64"),
    (ComplexF64, Lib.DJ_DTYPE_COMPLEX128, 16, "complex128"),
    (NTuple{5,UInt8}, Lib.DJ_DTYPE_BYTES, 5, "|S5"),
    (NTuple{3,UInt32}, Lib.DJ_DTYPE_UNICODE, 12, "<U3"),
]

const SHAPES = [(), (7,), (2, 3, 4)]

# Deterministic sample values valid for the element type (no NaN, real code points).
sample(::Type{Bool}, n, seed) = Bool[isodd((k * 7 + seed) ÷ 3) for k in 1:n]
function sample(::Type{T}, n, seed) where {T<:Integer}
    v = T[T <: Signed ? T(mod(k * 37 + seed * 11, 100) - 50) : T(mod(k * 37 + seed * 11, 100)) for k in 1:n]
    n >= 2 && (v[2] = typemax(T))
    n >= 3 && (v[3] = typemin(T))
    return v
end
sample(::Type{T}, n, seed) where {T<:AbstractFloat} = T[T(mod(k * 13 + seed, 97)) / 4 - 10 for k in 1:n]
sample(::Type{Complex{T}}, n, seed) where {T} = Complex{T}[Complex{T}(k + T(0.5), -(k + seed)) for k in 1:n]
sample(::Type{NTuple{W,UInt8}}, n, seed) where {W} = [ntuple(i -> UInt8(mod(k * 31 + i + seed, 256)), W) for k in 1:n]
const CODEPOINTS = UInt32['a', 'Z', '7', 'é', '中', '😀', 0]
sample(::Type{NTuple{W,UInt32}}, n, seed) where {W} = [ntuple(i -> CODEPOINTS[mod(k + i * 3 + seed, 7) + 1], W) for k in 1:n]

# The Julia array numpy's C-order data `flat` of `shape` is read as (order rule).
c_order_array(flat::Vector, shape::Tuple) =
    length(shape) <= 1 ? reshape(copy(flat), shape) : permutedims(reshape(flat, reverse(shape)), length(shape):-1:1)

struct Inserted
    id::Int32
    expected::Array          # what load(ref) must equal element by element
    fortran::Bool            # stored in column-major order (Julia arrays)
end

"Insert every shape of T as a Julia array (F order) and as C-order NpyArrays, by rows and by columns."
function insert_matrix(t, ::Type{T}, base::Integer) where {T}
    items = Inserted[]
    values = Any[]
    seed = base
    for shape in SHAPES
        n = prod(shape)
        A = reshape(sample(T, n, seed += 1), shape)                 # a Julia array
        push!(values, A)
        push!(items, Inserted(Int32(base + length(items)), A, length(shape) > 1))
        flat = sample(T, n, seed += 1)                              # numpy-ordered data
        push!(values, NpyArray(flat, shape; order=:C))
        push!(items, Inserted(Int32(base + length(items)), c_order_array(flat, shape), false))
    end
    # Row path: one insert1! per array.
    for (it, v) in zip(items, values)
        @test insert1!(t, (rec_id=it.id, arr=v)) == 1
    end
    # Columnar path: the same arrays under new ids, in one insert!.
    ids = Int32[it.id + 50 for it in items]
    @test insert!(t, (rec_id=ids, arr=values)) == length(items)
    append!(items, [Inserted(it.id + Int32(50), it.expected, it.fortran) for it in items[1:length(values)]])
    return items
end

function verify_matrix(t, items, ::Type{T}, code, itemsize, numpy_name) where {T}
    for it in items
        r = DataJoint.fetch_result(restrict(t, "rec_id = $(it.id)"))
        ref = npyref(r, "arr", 1)
        close(r)                                   # a ref does not need its result
        @test eltype(ref) == T
        @test DataJoint.dtype(ref) == (dtype=code, itemsize=itemsize)
        @test DataJoint.dtype_name(ref) == numpy_name
        @test size(ref) == size(it.expected)
        @test ndims(ref) == ndims(it.expected)
        @test length(ref) == length(it.expected)
        @test DataJoint.nbytes(ref) == itemsize * length(it.expected)
        @test DataJoint.store(ref) == "main"
        @test occursin(".npy", DataJoint.path(ref))
        @test !isloaded(ref)
        A = DataJoint.load(ref)
        @test A isa Array{T,ndims(it.expected)}
        @test A == it.expected                     # element by element, order rule
        @test isloaded(ref)
        v = view(ref)
        @test v isa ArrayView{T}
        @test size(v) == size(it.expected)
        @test DataJoint.ismapped(v)
        @test DataJoint.isfortran(v) == (it.fortran || ndims(it.expected) <= 1)
        @test v == it.expected
        @test copy(v) == it.expected
        close(v)
        ref2 = npyref(DataJoint.fetch_result(restrict(t, "rec_id = $(it.id)")), 1 + 1, 1)   # by index
        @test map(ref2) == it.expected
        @test !isloaded(ref2)
        @test DataJoint.mmap(ref2) == it.expected
    end
end

@testset "every dtype × shape × order, by rows and columns" begin
    @test sort([d[2] for d in DTYPES]) == collect(Lib.DJ_DTYPE_BOOL:Lib.DJ_DTYPE_UNICODE)
    for (T, code, itemsize, numpy_name) in DTYPES
        @testset "$T" begin
            with_tempdir() do dir
                DataJoint.connect(nothing, store_overrides(dir)) do conn
                    t = declare(schema(conn, "lab"), "Rec", :manual, REC)
                    items = insert_matrix(t, T, 0)
                    @test length(items) == 12
                    @test count(t) == 12
                    @test length(files_under(joinpath(dir, "store"))) == 12
                    verify_matrix(t, items, T, code, itemsize, numpy_name)
                end
            end
        end
    end
end

@testset "the column-major order rule" begin
    with_tempdir() do dir
        DataJoint.connect(nothing, store_overrides(dir)) do conn
            t = declare(schema(conn, "lab"), "Rec", :manual, REC)
            A = Int32[1 2 3; 4 5 6]                     # A[1, 2] == 2
            insert1!(t, (rec_id=1, arr=A))
            ref = fetch1(restrict(t, "rec_id = 1")).arr
            @test size(ref) == (2, 3)
            # numpy sees shape (2, 3) with fortran_order True, so a[0, 1] == A[1, 2]:
            lf = DataJoint.local_file(ref)
            @test lf.fortran && !lf.big_endian
            bytes = read(lf.path)
            header = String(bytes[1:lf.data_offset])
            @test occursin(r"'fortran_order':\s*True", header)
            @test occursin(r"'shape':\s*\(2,\s*3\)", header)
            @test reinterpret(Int32, bytes[lf.data_offset+1:end]) == vec(A)   # no transposition
            @test DataJoint.load(ref) == A
            @test view(ref)[1, 2] == 2
            @test DataJoint.unsafe_array(view(ref)) isa Matrix{Int32}

            # numpy's default C order: a[i, j] == 3i + j for the data 0:5 of shape (2, 3).
            insert1!(t, (rec_id=2, arr=NpyArray(Int32.(0:5), (2, 3))))
            ref2 = fetch1(restrict(t, "rec_id = 2")).arr
            @test !DataJoint.local_file(ref2).fortran
            L = DataJoint.load(ref2)
            @test L isa Matrix{Int32}
            @test L == [3 * (i - 1) + (j - 1) for i in 1:2, j in 1:3]
            v2 = view(ref2)
            @test !DataJoint.isfortran(v2)
            @test DataJoint.unsafe_array(v2) isa PermutedDimsArray   # zero copy
            @test v2 == L
            @test v2[2, 1] == 3
            @test DataJoint.mmap(ref2) == L
            # Non-Array inputs are made dense first (views, transposes, ranges, BitArrays).
            insert1!(t, (rec_id=3, arr=transpose(A)))
            insert1!(t, (rec_id=4, arr=view(A, :, 2:3)))
            insert1!(t, (rec_id=5, arr=1:4))
            insert1!(t, (rec_id=6, arr=trues(2, 2)))
            r = fetch(restrict(t, "rec_id >= 3"); order_by="rec_id")
            @test DataJoint.load(r.arr[1]) == permutedims(A)
            @test DataJoint.load(r.arr[2]) == A[:, 2:3]
            @test DataJoint.load(r.arr[3]) == collect(1:4)
            @test DataJoint.load(r.arr[4]) == fill(true, 2, 2)
            # Fixed-width strings.
            insert1!(t, (rec_id=7, arr=DataJoint.npy_unicode(["ab" "中"; "😀" ""])))
            insert1!(t, (rec_id=8, arr=DataJoint.npy_bytes(["xy", "z"], 3)))
            u = DataJoint.load(fetch1(restrict(t, "rec_id = 7")).arr)
            @test DataJoint.npy_string.(u) == ["ab" "中"; "😀" ""]
            @test DataJoint.dtype_name(fetch1(restrict(t, "rec_id = 8")).arr) == "|S3"
            b = DataJoint.load(fetch1(restrict(t, "rec_id = 8")).arr)
            @test DataJoint.npy_string.(b) == [UInt8[0x78, 0x79], UInt8[0x7a]]
        end
    end
end

@testset "empty and 32-dimensional arrays" begin
    with_tempdir() do dir
        DataJoint.connect(nothing, store_overrides(dir)) do conn
            t = declare(schema(conn, "lab"), "Rec", :manual, REC)
            insert1!(t, (rec_id=1, arr=Float32[]))
            insert1!(t, (rec_id=2, arr=zeros(Float32, 3, 0)))
            insert1!(t, (rec_id=3, arr=fill(2.5f0, ntuple(_ -> 1, 32))))
            r = fetch(t; order_by="rec_id")
            for i in 1:2
                @test length(r.arr[i]) == 0
                @test isempty(DataJoint.load(r.arr[i]))
                @test isempty(view(r.arr[i]))
            end
            @test size(r.arr[2]) == (3, 0)
            @test size(DataJoint.load(r.arr[2])) == (3, 0)
            big = r.arr[3]
            @test ndims(big) == 32
            @test size(big) == ntuple(_ -> 1, 32)
            @test view(big)[1] == 2.5f0
            @test DataJoint.load(big) == fill(2.5f0, ntuple(_ -> 1, 32))
        end
    end
end

@testset "NULL arrays and wrong columns" begin
    with_tempdir() do dir
        DataJoint.connect(nothing, store_overrides(dir)) do conn
            t = declare(schema(conn, "lab"), "Rec", :manual, REC)
            insert1!(t, (rec_id=1, arr=missing))
            insert1!(t, (rec_id=2, arr=nothing))
            insert!(t, (rec_id=Int32[3, 4], arr=[missing, [1.0, 2.0, 3.0]]))
            r = DataJoint.fetch_result(t; order_by="rec_id")
            cols = DataJoint.columns(r)
            @test all(ismissing, cols.arr[1:3])
            @test cols.arr[4] isa NpyRef
            for i in 1:3
                @test code_of(() -> npyref(r, "arr", i)) == Lib.DJ_E_NOT_FOUND
            end
            @test DataJoint.load(npyref(r, "arr", 4))[3] == 3.0
            @test code_of(() -> npyref(r, "rec_id", 4)) == Lib.DJ_E_TYPE
            @test code_of(() -> npyref(r, "arr", 5)) == Lib.DJ_E_INVALID_ARG
            @test code_of(() -> npyref(r, "arr", 0)) == Lib.DJ_E_INVALID_ARG          # 1-based
            @test code_of(() -> npyref(r, "nope", 1)) == Lib.DJ_E_UNKNOWN_ATTRIBUTE
            close(r)
            k = DataJoint.fetch_result(t; attributes="KEY")
            @test code_of(() -> npyref(k, "rec_id", 1)) == Lib.DJ_E_TYPE
            close(k)
            @test length(files_under(joinpath(dir, "store"))) == 1
        end
    end
end

@testset "fetching rows and making refs does no store requests" begin
    with_tempdir() do dir
        DataJoint.connect(nothing, store_overrides(dir)) do conn
            t = declare(schema(conn, "lab"), "Rec", :manual, REC)
            data = [fill(i * 0.25, 100 + i) for i in 0:39]
            insert!(t, (rec_id=Int32.(0:39), arr=data))
            after_insert = DataJoint.store_stats(conn)
            @test after_insert.requests >= 40
            @test after_insert.bytes_written > 40 * 100 * 8

            before = DataJoint.store_stats(conn)
            r = fetch(t; order_by="rec_id")
            one = fetch1(restrict(t, "rec_id = 7"))
            for (i, ref) in enumerate(r.arr)
                @test size(ref) == (99 + i,)
                @test eltype(ref) == Float64
                @test DataJoint.dtype_name(ref) == "float64"
                @test DataJoint.nbytes(ref) == (99 + i) * 8
                @test !isempty(DataJoint.path(ref))
                @test DataJoint.store(ref) == "main"
                @test !isloaded(ref)
            end
            @test length(one.arr) == 107
            @test DataJoint.store_stats(conn) == before          # no request, no byte

            ref = fetch1(restrict(t, "rec_id = 3")).arr
            @test DataJoint.load(ref)[1] == 0.75
            loaded = DataJoint.store_stats(conn)
            @test loaded.requests > before.requests
            @test loaded.bytes_read >= before.bytes_read + 103 * 8
            @test DataJoint.load(ref)[103] == 0.75                # cached on the ref
            @test DataJoint.store_stats(conn).requests == loaded.requests
            @test DataJoint.store_stats(conn, "main") == DataJoint.store_stats(conn)
            @test code_of(() -> DataJoint.store_stats(conn, "nowhere")) == Lib.DJ_E_STORE
        end
    end
end

@testset "view of a file store maps the .npy file" begin
    with_tempdir() do dir
        DataJoint.connect(nothing, store_overrides(dir)) do conn
            t = declare(schema(conn, "lab"), "Rec", :manual, REC)
            values = Int32[3 * (i - 1) for i in 1:4096]
            insert1!(t, (rec_id=1, arr=reshape(values, 64, 64)))
            ref = fetch1(t).arr
            file = joinpath(dir, "store", DataJoint.path(ref))
            @test isfile(file)
            @test realpath(DataJoint.local_file(ref).path) == realpath(file)
            before = DataJoint.store_stats(conn)
            m = view(ref)
            @test DataJoint.ismapped(m)
            @test DataJoint.flags(m) & Lib.DJ_VIEW_READONLY != 0
            @test m[64, 64] == 4095 * 3
            @test DataJoint.store_stats(conn).bytes_read == before.bytes_read   # a local map reads nothing
            l = DataJoint.load_view(ref)
            @test !DataJoint.ismapped(l)
            @test l == m
            @test_throws Exception (m[1, 1] = 0)                              # read-only
            close(l)
            close(m)
        end
    end
end

@testset "views outlive the ref, result, table and connection" begin
    with_tempdir() do dir
        flat = UInt16[11 * (k - 1) for k in 1:300]
        expected = c_order_array(flat, (30, 10))
        mapped = loaded = rows = kept = nothing
        DataJoint.connect(nothing, store_overrides(dir)) do c
            s = schema(c, "life")
            t = declare(s, "Rec", :manual, REC)
            insert1!(t, (rec_id=1, arr=NpyArray(flat, (30, 10))))    # C order, like numpy's default
            r = DataJoint.fetch_result(t)
            ref = npyref(r, "arr", 1)
            mapped = view(ref)
            loaded = DataJoint.load_view(ref)
            rows = DataJoint.read_rows(ref, 3:5)
            kept = npyref(r, "arr", 1)
            close(ref)
            close(r)
            close(t)
            close(s)
        end                                                        # the connection is closed here
        GC.gc()
        churn = [fill(0xa5, 4096) for _ in 1:200]
        @test DataJoint.ismapped(mapped)
        @test mapped == expected
        @test loaded == expected
        @test size(rows) == (3, 10)
        @test rows == expected[3:5, :]
        @test DataJoint.load(kept) == expected                     # the ref works without a connection
        close(mapped)
        close(mapped)                                              # idempotent
        @test !isopen(mapped)
        @test code_of(() -> mapped[1, 1]) == Lib.DJ_E_INVALID_HANDLE
        @test occursin("released", sprint(show, MIME("text/plain"), mapped))
        @test loaded[30, 10] == expected[30, 10]
        loaded = rows = nothing
        GC.gc()                                                    # finalizers release the rest
        @test length(churn) == 200
    end
end

@testset "a mapped view survives the deletion of its row" begin
    with_tempdir() do dir
        DataJoint.connect(nothing, store_overrides(dir)) do conn
            t = declare(schema(conn, "lab"), "Rec", :manual, REC)
            insert1!(t, (rec_id=1, arr=fill(1.25, 1000)))
            ref = fetch1(t).arr
            m = view(ref)
            @test delete!(t) == 1
            @test isempty(files_under(joinpath(dir, "store")))
            @test m[1000] == 1.25
            @test code_of(() -> fetch1(restrict(t, "rec_id = 1"))) == Lib.DJ_E_NOT_FOUND
        end
    end
end

@testset "ranged row reads" begin
    with_tempdir() do dir
        DataJoint.connect(nothing, store_overrides(dir)) do conn
            t = declare(schema(conn, "lab"), "Rec", :manual, REC)
            flat = Int32.(0:699)                                        # numpy: m[i, j] == 7i + j
            insert1!(t, (rec_id=1, arr=NpyArray(flat, (100, 7))))
            insert1!(t, (rec_id=2, arr=Float32.(0:49) ./ 4))           # 1-d
            insert1!(t, (rec_id=3, arr=reshape(flat, 100, 7)))         # Julia array: F order
            insert1!(t, (rec_id=4, arr=fill(0.75f0)))                   # 0-d
            r = fetch(t; order_by="rec_id")
            ref = r.arr[1]
            rows = DataJoint.read_rows(ref, 11:20)                     # numpy rows 10..19
            @test size(rows) == (10, 7)
            @test rows == [7 * (i - 1) + (j - 1) for i in 11:20, j in 1:7]
            @test !isloaded(ref)
            @test size(DataJoint.read_rows(ref, 1:100)) == (100, 7)
            @test DataJoint.read_rows(ref, 100:100)[1, 7] == 699
            @test size(DataJoint.read_rows(ref, 6:5)) == (0, 7)
            @test code_of(() -> DataJoint.read_rows(ref, 91:101)) == Lib.DJ_E_INVALID_ARG
            @test code_of(() -> DataJoint.read_rows(ref, 0:3)) == Lib.DJ_E_INVALID_ARG
            DataJoint.load(ref)
            before = DataJoint.store_stats(conn)
            @test DataJoint.read_rows(ref, 51:52)[1, 1] == 350          # served from memory
            @test DataJoint.store_stats(conn).requests == before.requests
            @test DataJoint.read_rows(r.arr[2], 49:50)[2] == 49.0f0 / 4
            @test code_of(() -> DataJoint.read_rows(r.arr[3], 1:1)) == Lib.DJ_E_UNSUPPORTED   # F-order rows
            @test code_of(() -> DataJoint.read_rows(r.arr[4], 1:1)) == Lib.DJ_E_INVALID_ARG   # 0-d
        end
    end
end

@testset "bad arrays are rejected with their codes" begin
    with_tempdir() do dir
        DataJoint.connect(nothing, store_overrides(dir)) do conn
            t = declare(schema(conn, "lab"), "Rec", :manual, REC)
            v = fill(Int32(1), 6)
            raw(; data=v, nbytes=24, dtype=Lib.DJ_DTYPE_INT32, shape=[2, 3], itemsize=0, order=Lib.DJ_ORDER_C) =
                NpyArray(data, nbytes, dtype, shape, itemsize, order)
            put(a) = insert1!(t, (rec_id=1, arr=a))
            for code in (0, 17, 99, -1)
                @test code_of(() -> put(raw(dtype=code))) == Lib.DJ_E_TYPE
            end
            @test code_of(() -> put(NpyArray(v, (2, 2)))) == Lib.DJ_E_TYPE            # nbytes vs shape
            @test code_of(() -> put(NpyArray(v, (7,)))) == Lib.DJ_E_TYPE
            @test code_of(() -> put(NpyArray(v, ()))) == Lib.DJ_E_TYPE
            @test code_of(() -> put(raw(dtype=Lib.DJ_DTYPE_FLOAT64))) == Lib.DJ_E_TYPE
            @test code_of(() -> put(NpyArray(v, (-2, -3)))) == Lib.DJ_E_INVALID_ARG
            @test code_of(() -> put(raw(shape=[6, -1]))) == Lib.DJ_E_INVALID_ARG
            @test code_of(() -> put(raw(order=2))) == Lib.DJ_E_INVALID_ARG
            @test code_of(() -> put(raw(order=-1))) == Lib.DJ_E_INVALID_ARG
            @test code_of(() -> put(raw(shape=ones(Int, 33), nbytes=4))) == Lib.DJ_E_INVALID_ARG
            @test code_of(() -> put(raw(data=nothing))) == Lib.DJ_E_INVALID_ARG       # NULL data
            @test code_of(() -> put(Array{Tuple{}}(undef, 2))) == Lib.DJ_E_INVALID_ARG  # S0
            @test code_of(() -> put(["a", "b"])) == Lib.DJ_E_TYPE                      # no numpy dtype
            @test code_of(() -> put(Any[1, 2])) == Lib.DJ_E_TYPE
            @test code_of(() -> put(NpyArray(v, (2, 3); order=:X))) == Lib.DJ_E_INVALID_ARG
            # The same checks on the columnar path, naming the row.
            for bad in (raw(dtype=0), NpyArray(v, (5,)), NpyArray(v, (-6,)), raw(order=9))
                e = error_of(code_of(() -> insert!(t, (rec_id=Int32[1, 2], arr=[v, bad]))),
                             () -> insert!(t, (rec_id=Int32[1, 2], arr=[v, bad])))
                @test e.code in (Lib.DJ_E_TYPE, Lib.DJ_E_INVALID_ARG)
                @test occursin("row 1", e.msg)
            end
            # A value that is not an array, and an array for a plain attribute.
            @test code_of(() -> insert1!(t, (rec_id=1, arr="text"))) == Lib.DJ_E_TYPE
            @test code_of(() -> insert!(t, (rec_id=Int32[1], arr=["text"]))) == Lib.DJ_E_TYPE
            plain = declare(schema(conn, "lab"), "Plain", :manual, "id : int32\n---\nx : float64")
            @test code_of(() -> insert1!(plain, (id=1, x=[1.0, 2.0]))) == Lib.DJ_E_TYPE
            @test count(t) == 0
            @test count(plain) == 0
            @test isempty(files_under(joinpath(dir, "store")))
        end
    end
end

@testset "bad definitions" begin
    with_tempdir() do dir
        DataJoint.connect(nothing, store_overrides(dir)) do conn
            s = schema(conn, "lab")
            @test code_of(() -> declare(s, "A", :manual, "id : int32\n---\narr : <npy@nowhere>")) == Lib.DJ_E_STORE
            @test code_of(() -> declare(s, "C", :manual, "id : int32\n---\narr : <npy>")) == Lib.DJ_E_DEFINITION
            @test code_of(() -> declare(s, "D", :manual, "id : int32\n---\narr = 1 : <npy@>")) == Lib.DJ_E_DEFINITION
            @test isempty(tables(s))
        end
        DataJoint.duckdb() do plain
            s = schema(plain, "lab")
            @test code_of(() -> declare(s, "E", :manual, "id : int32\n---\narr : <npy@>")) == Lib.DJ_E_STORE
            @test code_of(() -> DataJoint.store_stats(plain)) == Lib.DJ_E_STORE
        end
    end
end

@testset "failed batches leave no rows and no files" begin
    with_tempdir() do dir
        DataJoint.connect(nothing, store_overrides(dir)) do conn
            s = schema(conn, "lab")
            t = declare(s, "Rec", :manual, REC)
            strict = declare(s, "Strict", :manual, "rec_id : int32\n---\narr : <npy@>")
            data = [fill(Float32(i), 16, 16) for i in 0:99]
            ids = Int32.(0:99)
            nfiles() = length(files_under(joinpath(dir, "store")))

            bad_shape = Any[data...]
            bad_shape[61] = NpyArray(data[61], (16, 15))
            @test code_of(() -> insert!(t, (rec_id=ids, arr=bad_shape))) == Lib.DJ_E_TYPE
            @test (count(t), nfiles()) == (0, 0)

            dup = copy(ids)
            dup[61] = 10
            @test code_of(() -> insert!(t, (rec_id=dup, arr=data))) == Lib.DJ_E_DUPLICATE
            @test (count(t), nfiles()) == (0, 0)

            with_null = Union{Missing,Matrix{Float32}}[data...]
            with_null[61] = missing
            @test code_of(() -> insert!(strict, (rec_id=ids, arr=with_null))) == Lib.DJ_E_TYPE
            @test (count(strict), nfiles()) == (0, 0)

            rows = [(rec_id=dup[i], arr=data[i]) for i in 1:100]
            @test code_of(() -> insert!(t, rows)) == Lib.DJ_E_DUPLICATE
            @test (count(t), nfiles()) == (0, 0)

            text_rows = Any[(rec_id=ids[i], arr=data[i]) for i in 1:100]
            text_rows[61] = (rec_id=ids[61], arr="not an array")
            @test code_of(() -> insert!(t, text_rows)) == Lib.DJ_E_TYPE
            @test (count(t), nfiles()) == (0, 0)

            insert1!(t, (rec_id=1000, arr=data[1]))
            existing = copy(ids)
            existing[61] = 1000
            @test code_of(() -> insert!(t, (rec_id=existing, arr=data))) == Lib.DJ_E_DUPLICATE
            @test (count(t), nfiles()) == (1, 1)

            @test insert!(t, (rec_id=ids, arr=data)) == 100
            @test (count(t), nfiles()) == (101, 101)
        end
    end
end

@testset "deleting rows deletes their files" begin
    with_tempdir() do dir
        DataJoint.connect(nothing, store_overrides(dir)) do conn
            t = declare(schema(conn, "lab"), "Rec", :manual, REC)
            insert!(t, (rec_id=Int32.(0:9), arr=[fill(Int64(i), 5, 10) for i in 0:9]))
            store = joinpath(dir, "store")
            @test length(files_under(store)) == 10
            doomed = fetch(restrict(t, "rec_id < 3"))
            doomed_files = [joinpath(store, DataJoint.path(ref)) for ref in doomed.arr]
            @test all(isfile, doomed_files)
            @test delete!(restrict(t, "rec_id < 3")) == 3
            @test !any(isfile, doomed_files)
            @test length(files_under(store)) == 7
            @test code_of(() -> DataJoint.load(doomed.arr[1])) == Lib.DJ_E_NOT_FOUND
            # Replacing a row deletes the replaced object.
            insert1!(t, (rec_id=5, arr=fill(Int64(99), 50)); replace=true)
            @test length(files_under(store)) == 7
            @test DataJoint.load(fetch1(restrict(t, "rec_id = 5")).arr)[50] == 99
            @test delete!(t) == 7
            @test isempty(files_under(store))
        end
    end
end

@testset "corrupt, truncated and missing files" begin
    with_tempdir() do dir
        DataJoint.connect(nothing, store_overrides(dir)) do conn
            t = declare(schema(conn, "lab"), "Rec", :manual, REC)
            for i in 0:2
                insert1!(t, (rec_id=i, arr=[1.5 3.25; -2.0 4.0]))
            end
            r = fetch(t; order_by="rec_id")
            file(i) = joinpath(dir, "store", DataJoint.path(r.arr[i]))
            write(file(1), "garbage that is not an npy file")
            @test code_of(() -> DataJoint.load(r.arr[1])) == Lib.DJ_E_CODEC
            @test code_of(() -> view(r.arr[1])) == Lib.DJ_E_CODEC
            bytes = read(file(2))
            write(file(2), bytes[1:end-5])
            @test code_of(() -> DataJoint.load(r.arr[2])) == Lib.DJ_E_CODEC
            @test code_of(() -> view(r.arr[2])) == Lib.DJ_E_CODEC
            rm(file(3))
            @test code_of(() -> DataJoint.load(r.arr[3])) == Lib.DJ_E_NOT_FOUND
            @test code_of(() -> view(r.arr[3])) == Lib.DJ_E_NOT_FOUND
        end
    end
end
