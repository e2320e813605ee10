# The LibDataJoint layer called directly: struct layouts against the library, NULL handles and
# arguments, option validation, the format buffer protocol, free order
# (bindings/cpp/tests/test_errors.cpp, test_lifetime.cpp, test_types.cpp).

@testset "struct layouts match the C ABI (64-bit)" begin
    io = Ref(Lib.dj_insert_opts())
    @test Lib.dj_insert_opts_init(io) == Lib.DJ_OK
    @test io[].struct_size == sizeof(Lib.dj_insert_opts) == 12       # allow_direct_insert (ABI 0.6) at 8
    fo = Ref(Lib.dj_fetch_opts())
    @test Lib.dj_fetch_opts_init(fo) == Lib.DJ_OK
    @test fo[].struct_size == sizeof(Lib.dj_fetch_opts) == 64
    @test fo[].limit == -1
    @test fo[].attributes == C_NULL
    @test fieldoffset(Lib.dj_fetch_opts, 7) == 48         # raw (ABI 0.3)
    @test fieldoffset(Lib.dj_fetch_opts, 8) == 56         # download_path (ABI 0.3)
    @test fo[].raw == 0 && fo[].download_path == C_NULL
    @test sizeof(Lib.dj_attr_info) == 40
    @test sizeof(Lib.dj_column_in) == 40
    @test fieldoffset(Lib.dj_column_in, 3) == 16          # data after name and kind (+ padding)
    @test sizeof(Lib.dj_column_view) == 56
    @test fieldoffset(Lib.dj_column_view, 5) == 24        # length
    @test sizeof(Lib.dj_array_in) == 48
    @test fieldoffset(Lib.dj_array_in, 7) == 40           # order
    @test sizeof(Lib.dj_array_view) == 72
    @test fieldoffset(Lib.dj_array_view, 9) == 56         # release
    @test isbitstype(Lib.dj_array_view) && isbitstype(Lib.dj_column_in)
    @test sizeof(Lib.dj_blob_array) == 56
    @test fieldoffset(Lib.dj_blob_array, 4) == 16         # shape after class_id, is_complex, ndim
    @test fieldoffset(Lib.dj_blob_array, 8) == 48         # imag
    @test sizeof(Lib.dj_blob_sparse) == 96
    @test fieldoffset(Lib.dj_blob_sparse, 6) == 40        # values
end

@testset "NULL handles are reported, not dereferenced" begin
    n = Ref{UInt64}(123)
    @test Lib.dj_table_count(C_NULL, n) == Lib.DJ_E_INVALID_HANDLE
    @test n[] == 0
    @test Lib.dj_last_error_code() == Lib.DJ_E_INVALID_HANDLE
    @test occursin("dj_table", unsafe_string(Lib.dj_last_error_message()))
    s = Ref{Ptr{Lib.dj_schema}}(Ptr{Lib.dj_schema}(1))       # must be reset to NULL
    @test Lib.dj_schema_open(C_NULL, "x", 1, s) == Lib.DJ_E_INVALID_HANDLE
    @test s[] == C_NULL
    t = Ref{Ptr{Lib.dj_table}}(C_NULL)
    @test Lib.dj_table_restrict_sql(C_NULL, "1=1", t) == Lib.DJ_E_INVALID_HANDLE
    @test Lib.dj_table_fetch(C_NULL, C_NULL, Ref{Ptr{Lib.dj_result}}(C_NULL)) == Lib.DJ_E_INVALID_HANDLE
    @test Lib.dj_table_delete(C_NULL, C_NULL) == Lib.DJ_E_INVALID_HANDLE
    @test Lib.dj_conn_close(C_NULL) == Lib.DJ_E_INVALID_HANDLE
    @test Lib.dj_row_set_int(C_NULL, "a", 1) == Lib.DJ_E_INVALID_HANDLE
    v = Ref(Lib.dj_column_view())
    @test Lib.dj_result_column(C_NULL, 0, v) == Lib.DJ_E_INVALID_HANDLE
    # Infallible getters return 0 / NULL and set the last error.
    @test Lib.dj_table_name(C_NULL) == C_NULL
    @test Lib.dj_last_error_code() == Lib.DJ_E_INVALID_HANDLE
    @test Lib.dj_schema_name(C_NULL) == C_NULL
    @test Lib.dj_table_attr_count(C_NULL) == 0
    @test Lib.dj_row_len(C_NULL) == 0
    @test Lib.dj_result_nrows(C_NULL) == 0
    @test Lib.dj_strlist_len(C_NULL) == 0
    @test Lib.dj_strlist_get(C_NULL, 0) == C_NULL
    # Every free function accepts NULL.
    Lib.dj_conn_free(C_NULL)
    Lib.dj_schema_free(C_NULL)
    Lib.dj_table_free(C_NULL)
    Lib.dj_row_free(C_NULL)
    Lib.dj_result_free(C_NULL)
    Lib.dj_strlist_free(C_NULL)
    Lib.dj_npyref_free(C_NULL)
    Lib.dj_array_view_release(C_NULL)
    # A success clears the last error.
    @test Lib.dj_row_new(Ptr{Ptr{Lib.dj_row}}(C_NULL)) == Lib.DJ_E_INVALID_ARG
    row = Ref{Ptr{Lib.dj_row}}(C_NULL)
    @test Lib.dj_row_new(row) == Lib.DJ_OK
    @test Lib.dj_last_error_code() == Lib.DJ_OK
    @test unsafe_string(Lib.dj_last_error_message()) == ""
    Lib.dj_row_free(row[])
end

@testset "NULL pointer arguments and option structs" begin
    c = Ref{Ptr{Lib.dj_conn}}(C_NULL)
    @test Lib.dj_connect_duckdb(C_NULL, c) == Lib.DJ_OK              # NULL path: in memory
    @test Lib.dj_connect_duckdb(":memory:", Ptr{Ptr{Lib.dj_conn}}(C_NULL)) == Lib.DJ_E_INVALID_ARG
    s = Ref{Ptr{Lib.dj_schema}}(C_NULL)
    @test Lib.dj_schema_open(c[], "ll", 1, s) == Lib.DJ_OK
    t = Ref{Ptr{Lib.dj_table}}(C_NULL)
    @test Lib.dj_table_declare(s[], C_NULL, Lib.DJ_TIER_MANUAL, "a : int32", t) == Lib.DJ_E_INVALID_ARG
    @test occursin("class_name", unsafe_string(Lib.dj_last_error_message()))
    @test Lib.dj_table_declare(s[], "T", 4, "a : int32", t) == Lib.DJ_E_INVALID_ARG
    @test Lib.dj_table_declare(s[], "Item", Lib.DJ_TIER_MANUAL, "item_id : int32\n---\nlabel : varchar(8)", t) == Lib.DJ_OK
    item = t[]
    @test Lib.dj_table_count(item, Ptr{UInt64}(C_NULL)) == Lib.DJ_E_INVALID_ARG
    @test occursin("out_count", unsafe_string(Lib.dj_last_error_message()))

    # Columnar insert straight through the C structs.
    ids = Int32[1, 2]
    label = Vector{UInt8}("ab")
    offsets = Int64[0, 1, 2]
    n1 = "item_id"
    n2 = "label"
    GC.@preserve ids label offsets n1 n2 begin
        cols = [Lib.dj_column_in(pointer(n1), Lib.DJ_KIND_INT32, pointer(ids), C_NULL, C_NULL),
                Lib.dj_column_in(pointer(n2), Lib.DJ_KIND_STRING, pointer(label), pointer(offsets), C_NULL)]
        cnt = Ref{UInt64}(0)
        @test Lib.dj_table_insert_columns(item, cols, 2, 2, C_NULL, cnt) == Lib.DJ_OK
        @test cnt[] == 2
        @test Lib.dj_table_insert_columns(item, cols, 1, 2, C_NULL, C_NULL) == Lib.DJ_E_INVALID_ARG   # label missing
        bad = [cols[1], Lib.dj_column_in(pointer(n2), Lib.DJ_KIND_STRING, pointer(label), C_NULL, C_NULL)]
        @test Lib.dj_table_insert_columns(item, bad, 2, 2, C_NULL, C_NULL) == Lib.DJ_E_INVALID_ARG     # offsets missing
        @test occursin("label", unsafe_string(Lib.dj_last_error_message()))
        unknown = [Lib.dj_column_in(pointer(n1), Int32(99), pointer(ids), C_NULL, C_NULL), cols[2]]
        @test Lib.dj_table_insert_columns(item, unknown, 2, 2, C_NULL, C_NULL) == Lib.DJ_E_INVALID_ARG
    end

    # Insert options: struct_size must come from dj_insert_opts_init.
    io = Ref(Lib.dj_insert_opts(1, 0, 0, 0, 0))
    row = Ref{Ptr{Lib.dj_row}}(C_NULL)
    @test Lib.dj_row_new(row) == Lib.DJ_OK
    @test Lib.dj_row_set_int(row[], "item_id", 3) == Lib.DJ_OK
    @test Lib.dj_row_set_string(row[], "label", "c") == Lib.DJ_OK
    @test Lib.dj_row_set_string(row[], "label", C_NULL) == Lib.DJ_E_INVALID_ARG
    @test Lib.dj_row_set_string_n(row[], "label", C_NULL, 0) == Lib.DJ_OK     # the empty string
    @test Lib.dj_row_set_string(row[], "label", "c") == Lib.DJ_OK
    @test Lib.dj_row_len(row[]) == 2
    @test Lib.dj_table_insert1(item, row[], io, C_NULL) == Lib.DJ_E_INVALID_ARG
    @test occursin("struct_size", unsafe_string(Lib.dj_last_error_message()))
    @test Lib.dj_insert_opts_init(io) == Lib.DJ_OK
    @test Lib.dj_table_insert1(item, row[], io, C_NULL) == Lib.DJ_OK
    Lib.dj_row_free(row[])

    # Fetch options.
    fo = Ref(Lib.dj_fetch_opts())
    @test Lib.dj_fetch_opts_init(fo) == Lib.DJ_OK
    o = fo[]
    res = Ref{Ptr{Lib.dj_result}}(C_NULL)
    bad_n = Ref(Lib.dj_fetch_opts(o.struct_size, C_NULL, 2, C_NULL, -1, 0, 0, 0, C_NULL))    # attributes NULL
    @test Lib.dj_table_fetch(item, bad_n, res) == Lib.DJ_E_INVALID_ARG
    @test res[] == C_NULL
    bad_size = Ref(Lib.dj_fetch_opts(4, C_NULL, 0, C_NULL, -1, 0, 0, 0, C_NULL))
    @test Lib.dj_table_fetch(item, bad_size, res) == Lib.DJ_E_INVALID_ARG
    attr = "label"
    names = [pointer(attr)]
    GC.@preserve attr names begin
        ok = Ref(Lib.dj_fetch_opts(o.struct_size, pointer(names), 1, C_NULL, -1, 0, 0, 0, C_NULL))
        @test Lib.dj_table_fetch(item, ok, res) == Lib.DJ_OK
    end
    @test Lib.dj_result_nrows(res[]) == 3
    @test Lib.dj_result_ncols(res[]) == 1
    idx = Ref{Csize_t}(99)
    @test Lib.dj_result_column_index(res[], "label", idx) == Lib.DJ_OK
    @test idx[] == 0
    @test Lib.dj_result_column_index(res[], "nope", idx) == Lib.DJ_E_UNKNOWN_ATTRIBUTE
    v = Ref(Lib.dj_column_view())
    @test Lib.dj_result_column(res[], 1, v) == Lib.DJ_E_INVALID_ARG
    @test Lib.dj_result_column(res[], 0, v) == Lib.DJ_OK
    @test v[].kind == Lib.DJ_KIND_STRING
    @test v[].length == 3
    @test unsafe_string(v[].type_name) == "varchar(8)"

    # Free in any order: the connection first, the result last.
    Lib.dj_conn_free(c[])
    Lib.dj_schema_free(s[])
    cnt = Ref{UInt64}(0)
    @test Lib.dj_table_count(item, cnt) == Lib.DJ_OK   # the table holds the connection
    @test cnt[] == 3
    Lib.dj_table_free(item)
    @test unsafe_string(Ptr{UInt8}(v[].data), 1) in ("a", "b", "c")   # result buffers still valid
    Lib.dj_result_free(res[])
end

@testset "format buffers follow the size protocol" begin
    small = zeros(UInt8, 5)
    needed = Ref{Csize_t}(0)
    @test Lib.dj_date_format(0, small, length(small), needed) == Lib.DJ_E_INVALID_ARG
    @test needed[] == 10
    @test small[1] == 0                                 # always NUL-terminated when len > 0
    @test Lib.dj_datetime_format(0, C_NULL, 0, needed) == Lib.DJ_OK    # size query
    @test needed[] == 19
    buf = zeros(UInt8, 20)
    @test Lib.dj_datetime_format(0, buf, length(buf), C_NULL) == Lib.DJ_OK
    @test unsafe_string(pointer(buf)) == "1970-01-01 00:00:00"
    days = Ref{Int32}(0)
    @test Lib.dj_date_from_ymd(1969, 12, 31, days) == Lib.DJ_OK
    @test days[] == -1
    us = Ref{Int64}(0)
    @test Lib.dj_datetime_parse("1970-01-02", us) == Lib.DJ_OK
    @test us[] == 86_400_000_000
    @test unsafe_string(Lib.dj_status_name(Lib.DJ_E_CLOSED)) == "Closed"
    @test Lib.dj_abi_version() >> 16 == Lib.DJ_ABI_VERSION_MAJOR
end

@testset "strlists" begin
    c = Ref{Ptr{Lib.dj_conn}}(C_NULL)
    @test Lib.dj_connect_duckdb(":memory:", c) == Lib.DJ_OK
    s = Ref{Ptr{Lib.dj_schema}}(C_NULL)
    @test Lib.dj_schema_open(c[], "listed", 1, s) == Lib.DJ_OK
    l = Ref{Ptr{Lib.dj_strlist}}(C_NULL)
    @test Lib.dj_conn_list_schemas(c[], l) == Lib.DJ_OK
    names = [unsafe_string(Lib.dj_strlist_get(l[], i - 1)) for i in 1:Lib.dj_strlist_len(l[])]
    @test "listed" in names
    @test Lib.dj_strlist_get(l[], Lib.dj_strlist_len(l[])) == C_NULL   # out of range
    Lib.dj_strlist_free(l[])
    name = Ref{Ptr{UInt8}}(C_NULL)
    @test Lib.dj_conn_backend(c[], name) == Lib.DJ_OK
    @test unsafe_string(name[]) == "duckdb"
    @test Lib.dj_conn_close(c[]) == Lib.DJ_OK
    @test Lib.dj_conn_close(c[]) == Lib.DJ_OK          # idempotent
    @test Lib.dj_schema_list_tables(s[], l) == Lib.DJ_E_CLOSED
    Lib.dj_schema_free(s[])
    Lib.dj_conn_free(c[])
end
