# Inserts: insert1! (one row), insert! with a vector of rows (row path, dj_table_insert_rows)
# or a NamedTuple of column vectors (columnar path, dj_table_insert_columns).

function _insert_opts(skip_duplicates::Bool, ignore_extra_fields::Bool, replace::Bool, allow_direct_insert::Bool)
    base = Ref(Lib.dj_insert_opts())
    @dj_check Lib.dj_insert_opts_init(base)
    o = base[]
    # struct_size comes from the library: one older than ABI 0.6 reads no allow_direct_insert
    return Lib.dj_insert_opts(o.struct_size, UInt8(skip_duplicates), UInt8(ignore_extra_fields), UInt8(replace),
                              UInt32(allow_direct_insert))
end

"""
    insert1!(table, row; skip_duplicates = false, ignore_extra_fields = false, replace = false,
             allow_direct_insert = false) -> Int

Insert one row given as a `NamedTuple` or an `AbstractDict` (see `insert!` for the value
types and the options). Returns the number of rows written (0 if skipped as a duplicate).
"""
function insert1!(t::Table, row::Union{NamedTuple,AbstractDict};
                  skip_duplicates::Bool=false, ignore_extra_fields::Bool=false, replace::Bool=false,
                  allow_direct_insert::Bool=false)
    opts = Ref(_insert_opts(skip_duplicates, ignore_extra_fields, replace, allow_direct_insert))
    r = _build_row(row, _npy_attributes(t), _blob_attributes(t))
    try
        n = Ref{UInt64}(0)
        GC.@preserve t r opts @dj_check Lib.dj_table_insert1(t.ptr, r.ptr, opts, n)
        return Int(n[])
    finally
        close(r)
    end
end

"""
    insert!(table, rows::AbstractVector; skip_duplicates = false, ignore_extra_fields = false, replace = false,
            allow_direct_insert = false) -> Int
    insert!(table, columns::NamedTuple; ...) -> Int

Insert rows in one transaction (on any error no row of the batch remains); returns the number
of rows written.

- **Row path**: `rows` is a vector of `NamedTuple`s or `AbstractDict`s, all with the same
  attribute names. Values: `missing`/`nothing` (NULL), `Bool`, integers, floats (`NaN` is NULL),
  strings and `Symbol`s (also parsed for date, datetime, uuid, decimal, json and enum
  attributes), `Date`, `DateTime`, `DateTimeMicros`, `UUID`, `DataJoint.Decimal`,
  `DataJoint.JSONText`, `Vector{UInt8}` (bytes) and arrays or `NpyArray`s for `<npy@>`
  attributes; for `<blob>` attributes any value [`to_dj_value`](@ref) converts (arrays,
  strings, numbers, dicts, tuples, NamedTuples as structs, …), `missing`/`nothing` for NULL;
  for `<object@>` attributes a local file or folder path (a string), bytes, or
  `ObjectBytes(ext, bytes)` / `ext => bytes` (a file with extension `ext`); for `<filepath@>`
  attributes a path relative to the store's root.
- **Columnar path**: `columns` is a `NamedTuple` of equally long vectors, one per attribute.
  Element types: `Bool`, `Int8`…`Int64`, `UInt64` (sent as `DJ_KIND_UINT64`: the whole range
  for native `bigint unsigned` attributes, range-checked for the others; other integers are sent
  as `Int64`, range-checked by the library), `Float32`, `Float64` (other reals as `Float64`), strings/`Symbol`s, `Date`,
  `DateTime`, `DateTimeMicros`, `UUID`, `Decimal`, `JSONText`, byte vectors, arrays (for
  `<npy@>` attributes), any `to_dj_value` value for `<blob>` attributes (`DJ_KIND_BLOB`). A `Vector{Union{Missing,T}}` (or `nothing` elements) marks NULLs.

Options: `skip_duplicates` skips rows whose primary key exists; `replace` replaces them;
`ignore_extra_fields` ignores names that are not attributes instead of failing;
`allow_direct_insert` allows inserting into a `:computed` or `:imported` table outside its
`make` (see [`populate!`](@ref)), which is refused with `DataJointError` `NotAllowed`
(`DJ_E_NOT_ALLOWED`) otherwise. Inside `make` no option is needed.

Arrays follow the column-major rule: a Julia array `A` is stored as numpy sees it with the
same shape, `a[i-1, j-1, …] == A[i, j, …]` (see the README).
"""
function Base.insert!(t::Table, rows::AbstractVector;
                      skip_duplicates::Bool=false, ignore_extra_fields::Bool=false, replace::Bool=false,
                      allow_direct_insert::Bool=false)
    opts = Ref(_insert_opts(skip_duplicates, ignore_extra_fields, replace, allow_direct_insert))
    npy = _npy_attributes(t)
    blob = _blob_attributes(t)
    built = Row[]
    try
        for r in rows
            push!(built, _build_row(r, npy, blob))
        end
        ptrs = Ptr{Lib.dj_row}[r.ptr for r in built]
        n = Ref{UInt64}(0)
        GC.@preserve t built ptrs opts @dj_check Lib.dj_table_insert_rows(t.ptr, ptrs, length(ptrs), opts, n)
        return Int(n[])
    finally
        foreach(close, built)
    end
end

function Base.insert!(t::Table, columns::NamedTuple;
                      skip_duplicates::Bool=false, ignore_extra_fields::Bool=false, replace::Bool=false,
                      allow_direct_insert::Bool=false)
    opts = Ref(_insert_opts(skip_duplicates, ignore_extra_fields, replace, allow_direct_insert))
    heading = _heading(t)
    keep = Any[]
    descs = Lib.dj_column_in[]
    nrows = -1
    try
        for (k, v) in pairs(columns)
            nm = _attr_name(k)
            v isa AbstractVector ||
                throw(_invalid_arg("column '$nm' must be a vector, not a $(typeof(v)) (insert1! inserts one row)"))
            if nrows < 0
                nrows = length(v)
            elseif length(v) != nrows
                throw(_invalid_arg("column '$nm' has $(length(v)) values, the first column has $nrows"))
            end
            attr = findfirst(a -> a.name == nm, heading)
            push!(keep, nm)
            push!(descs, _column_in(nm, v, attr === nothing ? nothing : heading[attr], keep))
        end
        n = Ref{UInt64}(0)
        GC.@preserve t keep descs opts begin
            @dj_check Lib.dj_table_insert_columns(t.ptr, descs, length(descs), max(nrows, 0), opts, n)
        end
        return Int(n[])
    finally
        # <blob> value trees are read during the call only
        foreach(x -> x isa _OwnedValue && close(x), keep)
    end
end

# --------------------------------------------------------------------------- columnar buffers

_ptr_or_null(v::Vector) = isempty(v) ? C_NULL : Ptr{Cvoid}(pointer(v))

# The element type of a column apart from missing/nothing (Union{} if every value is NULL).
function _value_type(v::AbstractVector)
    T = nonmissingtype(eltype(v))
    if T !== Any && !(Nothing <: T) && (isconcretetype(T) || T <: AbstractString || T <: AbstractArray || T <: Real)
        return T
    end
    S = Union{}
    for x in v
        _isnull(x) || (S = typejoin(S, typeof(x)))
    end
    return S
end

function _validity(v::AbstractVector)
    any(_isnull, v) || return nothing
    out = Vector{UInt8}(undef, length(v))
    for (i, x) in enumerate(v)
        out[i] = _isnull(x) ? 0x00 : 0x01
    end
    return out
end

# Fixed-width buffer: conv(x) for each non-NULL value, `zero` for NULLs.
function _fixed_buffer(v::AbstractVector, ::Type{S}, conv, zero::S) where {S}
    buf = Vector{S}(undef, length(v))
    for (i, x) in enumerate(v)
        buf[i] = _isnull(x) ? zero : conv(x)::S
    end
    return buf
end

# Variable-width buffers (concatenated bytes and length+1 offsets).
function _var_buffers(v::AbstractVector, bytes_of)
    offsets = Vector{Int64}(undef, length(v) + 1)
    offsets[1] = 0
    io = IOBuffer()
    for (i, x) in enumerate(v)
        _isnull(x) || write(io, bytes_of(x))
        offsets[i + 1] = position(io)
    end
    return take!(io), offsets
end

function _checked_int64(name::String)
    return x -> begin
        typemin(Int64) <= x <= typemax(Int64) ||
            throw(_type_error("column '$name': the value $x does not fit int64"))
        Int64(x)
    end
end

const _FIXED_WIDTH = Dict(Lib.DJ_KIND_BOOL => 1, Lib.DJ_KIND_INT8 => 1, Lib.DJ_KIND_INT16 => 2,
                          Lib.DJ_KIND_INT32 => 4, Lib.DJ_KIND_INT64 => 8, Lib.DJ_KIND_FLOAT32 => 4,
                          Lib.DJ_KIND_FLOAT64 => 8, Lib.DJ_KIND_DATE => 4, Lib.DJ_KIND_DATETIME => 8,
                          Lib.DJ_KIND_UUID => 16, Lib.DJ_KIND_UINT64 => 8)

# The dj_column_in of one column; every buffer it points to is pushed to `keep`.
function _column_in(name::String, v::AbstractVector, attr::Union{Nothing,Attribute}, keep::Vector{Any})
    n = length(v)
    validity = _validity(v)
    validity === nothing || push!(keep, validity)
    vptr = validity === nothing ? Ptr{UInt8}(C_NULL) : pointer(validity)
    T = _value_type(v)
    isnpy = attr !== nothing && _is_npy_type(attr.type)
    if attr !== nothing && _is_blob_attr(attr)
        # One owned `dj_value*` per row (NULL for missing/nothing), freed after the insert.
        ptrs = fill(Ptr{Lib.dj_value}(C_NULL), n)
        for (i, x) in enumerate(v)
            if !_isnull(x)
                o = _OwnedValue(to_dj_value(x))
                push!(keep, o)
                ptrs[i] = o.ptr
            end
        end
        return fixed(Lib.DJ_KIND_BLOB, ptrs)
    end

    fixed(kind, buf) = (push!(keep, buf); Lib.dj_column_in(pointer(name), kind, _ptr_or_null(buf), C_NULL, vptr))
    function var(kind, bytes_of)
        data, offsets = _var_buffers(v, bytes_of)
        push!(keep, data)
        push!(keep, offsets)
        return Lib.dj_column_in(pointer(name), kind, _ptr_or_null(data), pointer(offsets), vptr)
    end

    if T === Union{}
        # Every value is NULL: send zeros of the attribute's kind (the library reads only validity).
        kind = isnpy ? Lib.DJ_KIND_ARRAY : attr === nothing ? Lib.DJ_KIND_STRING : attr.kind
        if kind == Lib.DJ_KIND_ARRAY
            return fixed(kind, fill(_null_array_in(), n))
        elseif haskey(_FIXED_WIDTH, kind)
            return fixed(kind, zeros(UInt8, n * _FIXED_WIDTH[kind]))
        else
            return var(kind, x -> UInt8[])
        end
    elseif isnpy
        # Every non-NULL value must be an array (or an NpyArray); _npy_in reports the others.
        descs = Vector{Lib.dj_array_in}(undef, n)
        for (i, x) in enumerate(v)
            if _isnull(x)
                descs[i] = _null_array_in()
            else
                a = _npy_in(x)
                push!(keep, a)
                descs[i] = _array_in(a)
            end
        end
        return fixed(Lib.DJ_KIND_ARRAY, descs)
    elseif T === Bool
        return fixed(Lib.DJ_KIND_BOOL, _fixed_buffer(v, UInt8, x -> UInt8(x), 0x00))
    elseif T === Int8
        return fixed(Lib.DJ_KIND_INT8, _fixed_buffer(v, Int8, identity, Int8(0)))
    elseif T === Int16
        return fixed(Lib.DJ_KIND_INT16, _fixed_buffer(v, Int16, identity, Int16(0)))
    elseif T === Int32
        return fixed(Lib.DJ_KIND_INT32, _fixed_buffer(v, Int32, identity, Int32(0)))
    elseif T === UInt64
        return fixed(Lib.DJ_KIND_UINT64, _fixed_buffer(v, UInt64, identity, UInt64(0)))
    elseif T <: Integer
        return fixed(Lib.DJ_KIND_INT64, _fixed_buffer(v, Int64, _checked_int64(name), Int64(0)))
    elseif T === Float32
        return fixed(Lib.DJ_KIND_FLOAT32, _fixed_buffer(v, Float32, identity, 0.0f0))
    elseif T <: Real
        return fixed(Lib.DJ_KIND_FLOAT64, _fixed_buffer(v, Float64, Float64, 0.0))
    elseif T <: Union{AbstractString,Symbol}
        return var(Lib.DJ_KIND_STRING, x -> String(x))
    elseif T <: Decimal
        return var(Lib.DJ_KIND_DECIMAL, x -> x.text)
    elseif T <: JSONText
        return var(Lib.DJ_KIND_JSON, x -> x.text)
    elseif T <: AbstractVector{UInt8}
        return var(Lib.DJ_KIND_BYTES, x -> _dense(x))
    elseif T === Date
        return fixed(Lib.DJ_KIND_DATE, _fixed_buffer(v, Int32, _date_days, Int32(0)))
    elseif T <: Union{DateTime,DateTimeMicros}
        return fixed(Lib.DJ_KIND_DATETIME, _fixed_buffer(v, Int64, _micros, Int64(0)))
    elseif T === UUID
        buf = zeros(UInt8, 16 * n)
        for (i, x) in enumerate(v)
            _isnull(x) || copyto!(buf, 16 * (i - 1) + 1, _uuid_bytes(x), 1, 16)
        end
        return fixed(Lib.DJ_KIND_UUID, buf)
    elseif T <: Union{AbstractArray,NpyArray}
        # Arrays for an attribute that is not <npy@> (or unknown): let the library report it.
        return _column_in_arrays(name, v, vptr, keep)
    elseif T <: Union{ObjectBytes,Pair}
        throw(_type_error("column '$name': ObjectBytes / (ext => bytes) values go through the row path " *
                          "(insert! with a vector of rows, or insert1!)"))
    else
        throw(_type_error("column '$name': cannot store values of type $T"))
    end
end

function _column_in_arrays(name::String, v::AbstractVector, vptr::Ptr{UInt8}, keep::Vector{Any})
    descs = Vector{Lib.dj_array_in}(undef, length(v))
    for (i, x) in enumerate(v)
        if _isnull(x)
            descs[i] = _null_array_in()
        else
            a = _npy_in(x)
            push!(keep, a)
            descs[i] = _array_in(a)
        end
    end
    push!(keep, descs)
    return Lib.dj_column_in(pointer(name), Lib.DJ_KIND_ARRAY, _ptr_or_null(descs), C_NULL, vptr)
end
