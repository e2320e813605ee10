# Tables: restrict/exclude; tables and queries: fetch/fetch1/keys (NamedTuples of column vectors),
# count; tables: delete! (also cascading, with a report), update1!. The query algebra is in
# query.jl.

"""
    restrict(table, condition::AbstractString) -> Table
    restrict(table, key::Union{NamedTuple,AbstractDict}) -> Table
    restrict(table, keys::AbstractVector) -> Table

A new table restricted by an SQL condition (used verbatim, ANDed with existing restrictions),
by a key (equality on every attribute the key shares with the table; other names are ignored;
`missing` means IS NULL), or by any of several keys (OR; an empty vector matches nothing).
"""
function restrict(t::Table, condition::AbstractString)
    out = Ref{Ptr{Lib.dj_table}}(C_NULL)
    GC.@preserve t @dj_check Lib.dj_table_restrict_sql(t.ptr, _cstr(condition, "condition"), out)
    return Table(out[], t)
end

function restrict(t::Table, key::Union{NamedTuple,AbstractDict})
    k = _build_row(key, nothing)
    try
        out = Ref{Ptr{Lib.dj_table}}(C_NULL)
        GC.@preserve t k @dj_check Lib.dj_table_restrict_key(t.ptr, k.ptr, out)
        return Table(out[], t)
    finally
        close(k)
    end
end

function restrict(t::Table, ks::AbstractVector)
    built = Row[]
    try
        for k in ks
            push!(built, _build_row(k, nothing))
        end
        ptrs = Ptr{Lib.dj_row}[r.ptr for r in built]
        out = Ref{Ptr{Lib.dj_table}}(C_NULL)
        GC.@preserve t built ptrs @dj_check Lib.dj_table_restrict_keys(t.ptr, ptrs, length(ptrs), out)
        return Table(out[], t)
    finally
        foreach(close, built)
    end
end

"""
    exclude(table, condition::AbstractString) -> Table
    exclude(table, key::Union{NamedTuple,AbstractDict}) -> Table

A new table without the rows that match an SQL condition or a key.
"""
function exclude(t::Table, condition::AbstractString)
    out = Ref{Ptr{Lib.dj_table}}(C_NULL)
    GC.@preserve t @dj_check Lib.dj_table_exclude_sql(t.ptr, _cstr(condition, "condition"), out)
    return Table(out[], t)
end

function exclude(t::Table, key::Union{NamedTuple,AbstractDict})
    k = _build_row(key, nothing)
    try
        out = Ref{Ptr{Lib.dj_table}}(C_NULL)
        GC.@preserve t k @dj_check Lib.dj_table_exclude_key(t.ptr, k.ptr, out)
        return Table(out[], t)
    finally
        close(k)
    end
end

# ------------------------------------------------------------------------------------ fetching

_names(::Nothing) = String[]
_names(x::Union{AbstractString,Symbol}) = [_cstr(String(x), "attribute name")]
_names(x::Union{AbstractVector,Tuple}) = String[_cstr(String(a), "attribute name") for a in x]

_order_text(::Nothing) = nothing
_order_text(x::Union{AbstractString,Symbol}) = _cstr(String(x), "order_by")
_order_text(x::Union{AbstractVector,Tuple}) = _cstr(join((String(a) for a in x), ", "), "order_by")

# Call f(opts::Ref{dj_fetch_opts}) with the options' strings kept alive.
function _with_fetch_opts(f, attributes, order_by, limit, offset)
    base = Ref(Lib.dj_fetch_opts())
    @dj_check Lib.dj_fetch_opts_init(base)
    names = _names(attributes)
    ptrs = Ptr{UInt8}[pointer(s) for s in names]
    ob = _order_text(order_by)
    result = GC.@preserve names ptrs ob begin
        o = base[]
        opts = Ref(Lib.dj_fetch_opts(o.struct_size,
                                     isempty(ptrs) ? Ptr{Ptr{UInt8}}(C_NULL) : pointer(ptrs),
                                     length(ptrs),
                                     ob === nothing ? Ptr{UInt8}(C_NULL) : pointer(ob),
                                     limit === nothing ? Int64(-1) : Int64(limit),
                                     Int64(offset), o.raw, o.attachment_info, o.download_path))
        f(opts)
    end
    return result
end

function _fetch_with(cfn::F, t::Union{Table,Query}, attributes, order_by, limit, offset) where {F}
    out = Ref{Ptr{Lib.dj_result}}(C_NULL)
    _with_fetch_opts(attributes, order_by, limit, offset) do opts
        GC.@preserve t opts @dj_check cfn(t.ptr, opts, out)
    end
    return Result(out[], t)
end

# The C functions of a table or a query (same options and results).
_fetch_fn(::Table) = Lib.dj_table_fetch
_fetch_fn(::Query) = Lib.dj_query_fetch
_fetch1_fn(::Table) = Lib.dj_table_fetch1
_fetch1_fn(::Query) = Lib.dj_query_fetch1
_keys_fn(::Table) = Lib.dj_table_keys
_keys_fn(::Query) = Lib.dj_query_keys

"""
    fetch_result(table_or_query; attributes = nothing, order_by = nothing, limit = nothing, offset = 0) -> Result

Fetch the matching rows into a columnar [`Result`](@ref) (library-owned buffers; see
`columns`, `npyref`). `attributes`: names to return (`nothing`: all; `"KEY"` stands for the
primary key); `order_by`: e.g. `"session_date DESC, subject_id"`, `"KEY"`, or a vector of such
terms; `limit`: maximum rows (`nothing`: no limit); `offset`: rows to skip.
"""
fetch_result(t::Union{Table,Query}; attributes=nothing, order_by=nothing, limit=nothing, offset::Integer=0) =
    _fetch_with(_fetch_fn(t), t, attributes, order_by, limit, offset)

"""
    fetch(table_or_query; attributes, order_by, limit, offset, exact_datetimes = false) -> NamedTuple

The matching rows as a `NamedTuple` of column vectors (options as for
[`fetch_result`](@ref)). Element types by attribute type: `Bool`; `Int8`…`Int64`; `Float32`,
`Float64`; `String` (char, varchar, enum, decimal, json); `Vector{UInt8}` (bytes); `Date`;
`DateTime` (truncated to milliseconds; `exact_datetimes = true` gives `DateTimeMicros` with
the stored microseconds); `UUID`; [`NpyRef`](@ref) for `<npy@>` attributes and
[`ObjectRef`](@ref) for `<object@>` / `<filepath@>` attributes (no data is read);
`Any` for `<blob>` attributes (each value converted by [`from_dj_value`](@ref)).
A column with NULLs is a `Vector{Union{Missing,T}}` with `missing` for NULL. The columns of
a query are in the order of its heading; computed attributes have the type the server computes.

A `NamedTuple` of vectors is a Tables.jl table: `DataFrame(fetch(q))` works as is.
"""
function Base.fetch(t::Union{Table,Query}; exact_datetimes::Bool=false, attributes=nothing, order_by=nothing,
                    limit=nothing, offset::Integer=0)
    r = _fetch_with(_fetch_fn(t), t, attributes, order_by, limit, offset)
    try
        return columns(r; exact_datetimes=exact_datetimes)
    finally
        close(r)   # NpyRefs and ObjectRefs made from it stay valid
    end
end

"""
    fetch1(table_or_query; attributes, exact_datetimes = false) -> NamedTuple

Exactly one row, as a `NamedTuple` of values (`missing` for NULL): `DataJointError`
`NotFound` (`DJ_E_NOT_FOUND`) if no row matches, `NotUnique` (`DJ_E_NOT_UNIQUE`) if several do.
"""
function fetch1(t::Union{Table,Query}; exact_datetimes::Bool=false, attributes=nothing)
    r = _fetch_with(_fetch1_fn(t), t, attributes, nothing, nothing, 0)
    try
        return map(first, columns(r; exact_datetimes=exact_datetimes))
    finally
        close(r)
    end
end

"""
    keys(table_or_query; order_by = nothing, limit = nothing, offset = 0) -> NamedTuple

The primary keys of the matching rows, as a `NamedTuple` of column vectors.
"""
function Base.keys(t::Union{Table,Query}; order_by=nothing, limit=nothing, offset::Integer=0)
    r = _fetch_with(_keys_fn(t), t, nothing, order_by, limit, offset)
    try
        return columns(r)
    finally
        close(r)
    end
end

"""
    count(table_or_query) -> Int

The number of matching rows (also `length(x)`).
"""
function Base.count(t::Table)
    n = Ref{UInt64}(0)
    GC.@preserve t @dj_check Lib.dj_table_count(t.ptr, n)
    return Int(n[])
end

function Base.count(q::Query)
    n = Ref{UInt64}(0)
    GC.@preserve q @dj_check Lib.dj_query_count(q.ptr, n)
    return Int(n[])
end
Base.length(t::Union{Table,Query}) = count(t)

# ------------------------------------------------------------------------------------ rows

# Iterating a table or a query fetches it once (all attributes) and yields one NamedTuple per
# row; `collect(q)` is a Vector of them.
Base.IteratorSize(::Type{<:Union{Table,Query}}) = Base.SizeUnknown()
Base.eltype(::Type{<:Union{Table,Query}}) = NamedTuple
# A table or a query is one value in broadcasting (`count.(qs)`), not a collection of rows.
Base.broadcastable(x::Union{Table,Query}) = Ref(x)

Base.iterate(t::Union{Table,Query}) = _row_at(fetch(t), 1)
Base.iterate(::Union{Table,Query}, state::Tuple{NamedTuple,Int}) = _row_at(state[1], state[2])

function _row_at(cols::NamedTuple, i::Int)
    n = isempty(cols) ? 0 : length(first(cols))
    i > n && return nothing
    return (map(c -> c[i], cols), (cols, i + 1))
end

Base.isempty(t::Union{Table,Query}) = count(t) == 0

"""
    DeleteReport <: AbstractVector

What a cascading `delete!` deleted (or, for a dry run, would delete): one
`(schema, table, rows)` `NamedTuple` per table, the restricted table first (`table` is the SQL
name, e.g. `"session__trial"`), and `dry_run`. `sum(r.rows for r in report)` is the total.
"""
struct DeleteReport <: AbstractVector{NamedTuple{(:schema, :table, :rows),Tuple{String,String,Int}}}
    tables::Vector{NamedTuple{(:schema, :table, :rows),Tuple{String,String,Int}}}
    dry_run::Bool
end

Base.size(r::DeleteReport) = size(r.tables)
Base.getindex(r::DeleteReport, i::Int) = r.tables[i]
Base.IndexStyle(::Type{DeleteReport}) = IndexLinear()

const _PART_INTEGRITY = Dict(:enforce => Lib.DJ_PART_INTEGRITY_ENFORCE, :ignore => Lib.DJ_PART_INTEGRITY_IGNORE,
                             :cascade => Lib.DJ_PART_INTEGRITY_CASCADE)

function _part_integrity(p::Symbol)
    code = get(_PART_INTEGRITY, p, nothing)
    code === nothing && throw(_invalid_arg("part_integrity $(repr(p)) is not one of :enforce, :ignore, :cascade"))
    return code
end

# Copy a dj_delete_report, which is freed.
function _take_report(p::Ptr{Lib.dj_delete_report})
    try
        n = Int(@dj_value Lib.dj_delete_report_len(p))
        dry = (@dj_value Lib.dj_delete_report_dry_run(p)) != 0
        out = Vector{NamedTuple{(:schema, :table, :rows),Tuple{String,String,Int}}}(undef, n)
        for i in 1:n
            s = Ref{Ptr{UInt8}}(C_NULL)
            t = Ref{Ptr{UInt8}}(C_NULL)
            rows = Ref{UInt64}(0)
            @dj_check Lib.dj_delete_report_table(p, i - 1, s, t, rows)
            out[i] = (schema=_str_or_empty(s[]), table=_str_or_empty(t[]), rows=Int(rows[]))
        end
        return DeleteReport(out, dry)
    finally
        Lib.dj_delete_report_free(p)
    end
end

"""
    delete!(table) -> Int
    delete!(table; part_integrity = :enforce, dry_run = false) -> DeleteReport

Delete the matching rows and, down the foreign keys, every row that depends on them, in one
transaction; then their objects (the files of `<npy@>` and `<object@>` values).

Without keywords (`dj_table_delete`) the result is the number of rows deleted from `table`.
With a keyword (`dj_table_delete_cascade`) it is a [`DeleteReport`](@ref) of the rows per
table, and:

- `part_integrity`: `:enforce` (the default) refuses to delete the rows of a part table
  without their master's rows (`DataJointError` `Integrity`, nothing is deleted); `:ignore`
  deletes them on their own; `:cascade` deletes their master rows (and so all of the master's
  parts) as well;
- `dry_run = true` deletes nothing and reports the rows a delete would remove.

Restrict first to delete some rows: `delete!(session & (subject_id=1,))`,
`delete!(subject & (session & "duration > 20"); dry_run=true)`.
"""
function Base.delete!(t::Table; part_integrity::Union{Symbol,Nothing}=nothing,
                      dry_run::Union{Bool,Nothing}=nothing)
    if part_integrity === nothing && dry_run === nothing
        n = Ref{UInt64}(0)
        GC.@preserve t @dj_check Lib.dj_table_delete(t.ptr, n)
        return Int(n[])
    end
    base = Ref(Lib.dj_delete_opts())
    @dj_check Lib.dj_delete_opts_init(base)
    o = base[]
    opts = Ref(Lib.dj_delete_opts(o.struct_size,
                                  part_integrity === nothing ? o.part_integrity : _part_integrity(part_integrity),
                                  dry_run === nothing ? o.dry_run : Int32(dry_run)))
    out = Ref{Ptr{Lib.dj_delete_report}}(C_NULL)
    GC.@preserve t opts @dj_check Lib.dj_table_delete_cascade(t.ptr, opts, out)
    return _take_report(out[])
end

"""
    update1!(table, row::Union{NamedTuple,AbstractDict}) -> Nothing

Update one existing row in place: `row` holds the whole primary key and the attributes to
change (values as for [`insert1!`](@ref)); `nothing` or `missing` resets an attribute to its
default (NULL for a nullable attribute without one). Codec values are encoded as on insert and
the row's old objects are removed after the commit. `DataJointError` `NotFound` if no row has
the key; `InvalidArgument` on a restricted table, without the whole key or without an attribute to
change; `UnknownAttribute` for a name the table lacks.
"""
function update1!(t::Table, row::Union{NamedTuple,AbstractDict})
    r = _build_row(row, _npy_attributes(t), _blob_attributes(t))
    try
        GC.@preserve t r @dj_check Lib.dj_table_update1(t.ptr, r.ptr)
    finally
        close(r)
    end
    return nothing
end

function drop!(t::Table)
    GC.@preserve t @dj_check Lib.dj_table_drop(t.ptr)
    return nothing
end

# ------------------------------------------------------------------------------------ results

"Number of rows of a result."
nrows(r::Result) = GC.@preserve r Int(@dj_value Lib.dj_result_nrows(r.ptr))

"Number of columns of a result."
ncols(r::Result) = GC.@preserve r Int(@dj_value Lib.dj_result_ncols(r.ptr))

"""
    column_index(result, name) -> Int

The 1-based index of the column `name` (`DataJointError` `UnknownAttribute` if absent).
"""
function column_index(r::Result, colname::Union{AbstractString,Symbol})
    idx = Ref{Csize_t}(0)
    GC.@preserve r @dj_check Lib.dj_result_column_index(r.ptr, _cstr(String(colname), "column name"), idx)
    return Int(idx[]) + 1
end

"""
    columns(result; exact_datetimes = false) -> NamedTuple

Copy a result's columns into Julia vectors (see [`fetch`](@ref) for the element types).
"""
function columns(r::Result; exact_datetimes::Bool=false)
    nt = GC.@preserve r begin
        nc = ncols(r)
        names = Vector{Symbol}(undef, nc)
        vals = Vector{Any}(undef, nc)
        for i in 1:nc
            cvref = Ref(Lib.dj_column_view())
            @dj_check Lib.dj_result_column(r.ptr, i - 1, cvref)
            cv = cvref[]
            names[i] = Symbol(unsafe_string(cv.name))
            vals[i] = _column_values(r, i, cv, exact_datetimes)
        end
        NamedTuple{Tuple(names)}(Tuple(vals))
    end
    return nt
end

# Vector{T} of f(k) for rows k = 1:n, with missing where the validity byte is 0.
function _collect_column(f::F, ::Type{T}, n::Int, valid::Ptr{UInt8}) where {F,T}
    hasnull = false
    if valid != C_NULL
        for k in 1:n
            if unsafe_load(valid, k) == 0x00
                hasnull = true
                break
            end
        end
    end
    if !hasnull
        out = Vector{T}(undef, n)
        for k in 1:n
            out[k] = f(k)
        end
        return out
    end
    outm = Vector{Union{Missing,T}}(undef, n)
    for k in 1:n
        outm[k] = unsafe_load(valid, k) == 0x00 ? missing : f(k)
    end
    return outm
end

function _column_values(r::Result, col::Int, cv::Lib.dj_column_view, exact_datetimes::Bool)
    n = Int(cv.length)
    kind = cv.kind
    valid = cv.validity
    data = cv.data
    tname = kind == Lib.DJ_KIND_JSON && cv.type_name != C_NULL ? unsafe_string(cv.type_name) : ""
    if _is_npy_type(tname)
        return _collect_column(k -> npyref(r, col, k), NpyRef, n, valid)
    elseif _is_object_type(tname)
        return _collect_column(k -> objectref(r, col, k), ObjectRef, n, valid)
    elseif kind == Lib.DJ_KIND_BLOB
        # one borrowed `const dj_value*` per row, copied into Julia values
        p = Ptr{Ptr{Lib.dj_value}}(data)
        return _collect_column(Any, n, valid) do k
            q = unsafe_load(p, k)
            q == C_NULL ? missing : from_dj_value(q; exact_datetimes)
        end
    elseif kind == Lib.DJ_KIND_BOOL
        p = Ptr{UInt8}(data)
        return _collect_column(k -> unsafe_load(p, k) != 0x00, Bool, n, valid)
    elseif kind == Lib.DJ_KIND_INT8
        return _fixed_values(Int8, data, n, valid)
    elseif kind == Lib.DJ_KIND_INT16
        return _fixed_values(Int16, data, n, valid)
    elseif kind == Lib.DJ_KIND_INT32
        return _fixed_values(Int32, data, n, valid)
    elseif kind == Lib.DJ_KIND_INT64
        return _fixed_values(Int64, data, n, valid)
    elseif kind == Lib.DJ_KIND_UINT64
        return _fixed_values(UInt64, data, n, valid)
    elseif kind == Lib.DJ_KIND_FLOAT32
        return _fixed_values(Float32, data, n, valid)
    elseif kind == Lib.DJ_KIND_FLOAT64
        return _fixed_values(Float64, data, n, valid)
    elseif kind == Lib.DJ_KIND_DATE
        p = Ptr{Int32}(data)
        return _collect_column(k -> _date_from_days(unsafe_load(p, k)), Date, n, valid)
    elseif kind == Lib.DJ_KIND_DATETIME
        p = Ptr{Int64}(data)
        if exact_datetimes
            return _collect_column(k -> DateTimeMicros(unsafe_load(p, k)), DateTimeMicros, n, valid)
        end
        return _collect_column(k -> _datetime_from_micros(unsafe_load(p, k)), DateTime, n, valid)
    elseif kind == Lib.DJ_KIND_UUID
        p = Ptr{UInt8}(data)
        return _collect_column(k -> _uuid_from_bytes(p + 16 * (k - 1)), UUID, n, valid)
    elseif kind == Lib.DJ_KIND_STRING || kind == Lib.DJ_KIND_DECIMAL || kind == Lib.DJ_KIND_JSON
        p = Ptr{UInt8}(data)
        off = cv.offsets
        return _collect_column(String, n, valid) do k
            a = unsafe_load(off, k)
            b = unsafe_load(off, k + 1)
            b == a ? "" : unsafe_string(p + a, b - a)
        end
    elseif kind == Lib.DJ_KIND_BYTES
        p = Ptr{UInt8}(data)
        off = cv.offsets
        return _collect_column(Vector{UInt8}, n, valid) do k
            a = unsafe_load(off, k)
            len = Int(unsafe_load(off, k + 1) - a)
            out = Vector{UInt8}(undef, len)
            len > 0 && unsafe_copyto!(pointer(out), p + a, len)
            out
        end
    end
    colname = cv.name == C_NULL ? "?" : unsafe_string(cv.name)
    throw(DataJointError(Lib.DJ_E_UNSUPPORTED, "column '$colname' has the unknown kind $kind"))
end

function _fixed_values(::Type{T}, data::Ptr{Cvoid}, n::Int, valid::Ptr{UInt8}) where {T}
    p = Ptr{T}(data)
    return _collect_column(k -> unsafe_load(p, k), T, n, valid)
end

"""
    npyref(result, col, row) -> NpyRef

Lazy reference to the `<npy@>` value in column `col` (1-based index, or name) and row `row`
(1-based) of a result; no I/O. `DataJointError` `NotFound` if the value is NULL, `Type` if
the column is not `<npy@>`.
"""
function npyref(r::Result, col::Integer, row::Integer)
    out = Ref{Ptr{Lib.dj_npyref}}(C_NULL)
    GC.@preserve r @dj_check Lib.dj_result_npyref(r.ptr, _index0(col, "column"), _index0(row, "row"), out)
    return NpyRef(out[], r)
end

npyref(r::Result, col::Union{AbstractString,Symbol}, row::Integer) = npyref(r, column_index(r, col), row)
