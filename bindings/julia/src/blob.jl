# <blob> values (ABI 0.3): Julia values to and from `dj_value` trees. Used for `<blob>`
# attributes by insert (row path: dj_row_set_value; columnar path: DJ_KIND_BLOB columns) and
# by fetch (DJ_KIND_BLOB columns), and by pack_blob / unpack_blob.
#
# Julia                                        dj_value
#   nothing, missing                             DJ_VALUE_NONE
#   Bool                                         DJ_VALUE_BOOL
#   Int (Int64); BigInt, Int128 beyond 64 bits   DJ_VALUE_INT; DJ_VALUE_BIGINT
#   Float64; ComplexF64                          DJ_VALUE_FLOAT; DJ_VALUE_COMPLEX
#   Float32, Int8…UInt64 (not Int) scalars       1×1 DJ_VALUE_ARRAY of that class (MATLAB scalars)
#   Array{T,N}, T Float64/Float32/Int8…UInt64/Bool  DJ_VALUE_ARRAY, Julia shape, column-major
#   Array{Complex{T},N}                          complex DJ_VALUE_ARRAY (separate real/imag)
#   String, Symbol, Char                         DJ_VALUE_STRING
#   Vector (other element types); Tuple; Set     DJ_VALUE_LIST; DJ_VALUE_TUPLE; DJ_VALUE_SET
#   Array{…,N} (other element types, N ≠ 1)      DJ_VALUE_CELL of that shape
#   AbstractDict                                 DJ_VALUE_DICT
#   NamedTuple; Array{<:NamedTuple}              1×1 DJ_VALUE_STRUCT; struct array of that shape
#   Date, Dates.Time, DateTime/DateTimeMicros    DJ_VALUE_DATE, DJ_VALUE_TIME, DJ_VALUE_DATETIME
#   UUID; DataJoint.Decimal                      DJ_VALUE_UUID; DJ_VALUE_DECIMAL
# from_dj_value reverses this; see its docstring for what comes back (char arrays, records,
# sparse matrices, bytes …).

const _BlobInt = Union{Int8,UInt8,Int16,UInt16,Int32,UInt32,Int64,UInt64}
const _BlobNum = Union{Float64,Float32,_BlobInt}

const _CLASS_OF = Dict{Any,Int32}(
    Float64 => Lib.DJ_CLASS_DOUBLE, Float32 => Lib.DJ_CLASS_SINGLE, Bool => Lib.DJ_CLASS_LOGICAL,
    Int8 => Lib.DJ_CLASS_INT8, UInt8 => Lib.DJ_CLASS_UINT8, Int16 => Lib.DJ_CLASS_INT16,
    UInt16 => Lib.DJ_CLASS_UINT16, Int32 => Lib.DJ_CLASS_INT32, UInt32 => Lib.DJ_CLASS_UINT32,
    Int64 => Lib.DJ_CLASS_INT64, UInt64 => Lib.DJ_CLASS_UINT64)
const _TYPE_OF = Dict{Int32,DataType}(c => T for (T, c) in _CLASS_OF)

# An owned root that the library reads during a later call (columnar inserts); freed by
# `close` or, failing that, by the finalizer.
mutable struct _OwnedValue
    ptr::Ptr{Lib.dj_value}
    _OwnedValue(p::Ptr{Lib.dj_value}) = finalizer(_free!, new(p))
end
_free!(v::_OwnedValue) = _release_handle!(v, Lib.dj_value_free)
Base.close(v::_OwnedValue) = _free!(v)

# The owned value a constructor `f(out)` makes.
function _new_value(f::F) where {F}
    out = Ref{Ptr{Lib.dj_value}}(C_NULL)
    @dj_check f(out)
    return out[]
end

# Fill the owned container `root` with `f(root)`; on any error free it and rethrow. (The
# library consumes each item handed to append/insert/set, even when that call fails.)
function _fill!(f::F, root::Ptr{Lib.dj_value}) where {F}
    try
        f(root)
    catch
        Lib.dj_value_free(root)
        rethrow()
    end
    return root
end

"""
    to_dj_value(x) -> Ptr{LibDataJoint.dj_value}

A new `<blob>` value tree of the Julia value `x`, owned by the caller: free it with
`LibDataJoint.dj_value_free` (or hand it to a call that consumes it). Numeric and `Bool`
arrays keep their Julia shape and column-major data (a `Vector` is 1-D, as numpy sees it);
`Int`, `Float64`, `Bool`, `ComplexF64` scalars become Python-style scalars and the other
numeric scalars 1×1 arrays (MATLAB scalars). See the README for the full mapping.
`DataJointError` `Type` for a value with no `<blob>` representation.
"""
function to_dj_value end

to_dj_value(::Union{Nothing,Missing}) = _new_value(o -> Lib.dj_value_new_none(o))
to_dj_value(x::Bool) = _new_value(o -> Lib.dj_value_new_bool(Int32(x), o))
to_dj_value(x::Int) = _new_value(o -> Lib.dj_value_new_int(Int64(x), o))
to_dj_value(x::Float64) = _new_value(o -> Lib.dj_value_new_float(x, o))
to_dj_value(x::ComplexF64) = _new_value(o -> Lib.dj_value_new_complex(real(x), imag(x), o))
to_dj_value(x::_BlobInt) = to_dj_value(fill(x, 1, 1))    # Int itself is a Python-style int (above)
to_dj_value(x::Float32) = to_dj_value(fill(x, 1, 1))
to_dj_value(x::Complex{<:_BlobNum}) = to_dj_value(fill(x, 1, 1))
to_dj_value(x::Complex) = to_dj_value(ComplexF64(x))
to_dj_value(x::Integer) = to_dj_value(BigInt(x))          # Int128, UInt128, …
to_dj_value(x::Real) = to_dj_value(Float64(x))            # Float16, Rational, BigFloat, …

function to_dj_value(x::BigInt)
    typemin(Int64) <= x <= typemax(Int64) && return _new_value(o -> Lib.dj_value_new_int(Int64(x), o))
    le = _bigint_le(x)
    return _new_value(o -> Lib.dj_value_new_bigint(le, length(le), o))
end

function to_dj_value(x::AbstractString)
    s = String(x)
    return GC.@preserve s _new_value(o -> Lib.dj_value_new_string(s, sizeof(s), o))
end
to_dj_value(x::Union{Symbol,AbstractChar}) = to_dj_value(string(x))

to_dj_value(x::Date) = _new_value(o -> Lib.dj_value_new_date(_date_days(x), o))
to_dj_value(x::Dates.Time) = _new_value(o -> Lib.dj_value_new_time(div(Dates.value(x), 1000), o))
to_dj_value(x::Union{DateTime,DateTimeMicros}) = _new_value(o -> Lib.dj_value_new_datetime(_micros(x), o))
function to_dj_value(x::UUID)
    b = _uuid_bytes(x)
    return _new_value(o -> Lib.dj_value_new_uuid(b, o))
end
to_dj_value(x::Decimal) = _new_value(o -> Lib.dj_value_new_decimal(_cstr(x.text, "decimal"), o))

to_dj_value(x::Tuple) = _new_sequence(Lib.DJ_VALUE_TUPLE, x)
to_dj_value(x::AbstractSet) = _new_sequence(Lib.DJ_VALUE_SET, x)
to_dj_value(x::NamedTuple) = _new_struct(fill(x, 1, 1))

function to_dj_value(d::AbstractDict)
    root = _new_value(o -> Lib.dj_value_new_container(Lib.DJ_VALUE_DICT, o))
    return _fill!(root) do r
        for (k, v) in d
            kv = to_dj_value(k)
            vv = try
                to_dj_value(v)
            catch
                Lib.dj_value_free(kv)
                rethrow()
            end
            @dj_check Lib.dj_value_dict_insert(r, kv, vv)
        end
    end
end

function to_dj_value(a::AbstractArray)
    T = eltype(a)
    if haskey(_CLASS_OF, T)
        return _new_array(_CLASS_OF[T], a, nothing)
    elseif T isa DataType && T <: Complex && T !== Complex{Bool} && haskey(_CLASS_OF, real(T))
        return _new_array(_CLASS_OF[real(T)], real.(a), imag.(a))
    elseif T <: Real
        return to_dj_value(Float64.(a))
    elseif T <: Complex
        return to_dj_value(ComplexF64.(a))
    elseif T <: NamedTuple && T !== Union{}
        return _new_struct(a)
    elseif a isa AbstractVector
        return _new_sequence(Lib.DJ_VALUE_LIST, a)
    end
    return _new_cell(a)
end

to_dj_value(x) = throw(_type_error("a value of type $(typeof(x)) has no <blob> representation"))

_shape64(a::AbstractArray) = Int64[size(a)...]

function _new_array(class::Int32, re::AbstractArray, im::Union{Nothing,AbstractArray})
    r = _dense(re)
    i = im === nothing ? nothing : _dense(im)
    shape = _shape64(re)
    return GC.@preserve r i shape _new_value(o -> Lib.dj_value_new_array(
        class, Int32(ndims(re)), shape, r, i === nothing ? C_NULL : i, o))
end

function _new_sequence(type::Int32, items)
    root = _new_value(o -> Lib.dj_value_new_container(type, o))
    return _fill!(root) do r
        for x in items
            item = to_dj_value(x)
            @dj_check Lib.dj_value_append(r, item)
        end
    end
end

function _new_cell(a::AbstractArray)
    shape = _shape64(a)
    root = _new_value(o -> Lib.dj_value_new_cell(Lib.DJ_VALUE_CELL, Int32(ndims(a)), shape, o))
    return _fill!(root) do c
        for (i, x) in enumerate(a)          # column-major order
            item = to_dj_value(x)
            @dj_check Lib.dj_value_cell_set(c, i - 1, item)
        end
    end
end

# A struct array of NamedTuples that all have the same field names.
function _new_struct(a::AbstractArray)
    T = eltype(a)
    syms = isempty(a) ? (T isa DataType ? fieldnames(T) : ()) : keys(first(a))
    names = String[_cstr(String(s), "field name") for s in syms]
    ptrs = Ptr{UInt8}[pointer(n) for n in names]
    shape = _shape64(a)
    root = GC.@preserve names ptrs _new_value(o -> Lib.dj_value_new_struct(
        Int32(ndims(a)), shape, length(ptrs), ptrs, o))
    return _fill!(root) do s
        for (e, x) in enumerate(a)          # column-major order
            keys(x) == syms ||
                throw(_invalid_arg("struct array elements must have the same fields $(syms), not $(keys(x))"))
            for (k, sym) in enumerate(syms)
                item = to_dj_value(x[sym])
                @dj_check Lib.dj_value_struct_set(s, e - 1, names[k], item)
            end
        end
    end
end

# Little-endian two's complement bytes of an integer (one spare sign byte at most).
function _bigint_le(x::BigInt)
    n = div(ndigits(x; base=2), 8) + 1
    y = x < 0 ? (BigInt(1) << (8 * n)) + x : x
    return UInt8[UInt8((y >> (8 * (k - 1))) & 0xff) for k in 1:n]
end

function _bigint_from_le(b::AbstractVector{UInt8})
    x = BigInt(0)
    for k in length(b):-1:1
        x = (x << 8) | BigInt(b[k])
    end
    if !isempty(b) && b[end] & 0x80 != 0
        x -= BigInt(1) << (8 * length(b))
    end
    return x
end

# ------------------------------------------------------------------------------------ reading

"""
    from_dj_value(ptr::Ptr{LibDataJoint.dj_value}; exact_datetimes = false)

A Julia copy of a `<blob>` value tree (owned or borrowed; nothing is freed):

- numeric / logical arrays → `Array{T,N}` of the stored shape (a MATLAB scalar is a 1×1
  `Matrix`; use `only`), complex arrays → `Array{Complex{T},N}`; numpy datetime64 arrays →
  `Array{Int64,N}` of the raw counts;
- char arrays (UTF-16) → `String` (an m×n char matrix with m > 1 → `Vector{String}` of its rows);
- struct arrays → `Array{NamedTuple}` of the struct's shape; numpy records → a `NamedTuple`
  of fields; cell and object arrays → `Array{Any}` of their shape;
- dict → `Dict{Any,Any}`; list → `Vector{Any}`; tuple → `Tuple`; set → `Set{Any}`;
- none → `nothing`; bool, int, float, complex, string → `Bool`, `Int64` (`BigInt` beyond 64
  bits), `Float64`, `ComplexF64`, `String`; bytes → `Vector{UInt8}`; decimal →
  `DataJoint.Decimal`; uuid → `UUID`;
- date → `Date`, time → `Dates.Time`, datetime → `DateTime` (floored to milliseconds;
  `exact_datetimes = true` gives `DateTimeMicros`);
- sparse → `(m, n, colptr, rowval, nzval)` (1-based; `SparseMatrixCSC(s...)` makes it a
  sparse matrix).
"""
function from_dj_value(p::Ptr{Lib.dj_value}; exact_datetimes::Bool=false)
    p == C_NULL && throw(_invalid_arg("dj_value is NULL"))
    t = Lib.dj_value_type(p)
    if t == Lib.DJ_VALUE_NONE
        return nothing
    elseif t == Lib.DJ_VALUE_BOOL
        b = Ref{Int32}(0)
        @dj_check Lib.dj_value_get_bool(p, b)
        return b[] != 0
    elseif t == Lib.DJ_VALUE_INT
        i = Ref{Int64}(0)
        @dj_check Lib.dj_value_get_int(p, i)
        return i[]
    elseif t == Lib.DJ_VALUE_BIGINT
        return _bigint_from_le(_value_bytes(p))
    elseif t == Lib.DJ_VALUE_FLOAT
        f = Ref{Cdouble}(0)
        @dj_check Lib.dj_value_get_float(p, f)
        return f[]
    elseif t == Lib.DJ_VALUE_COMPLEX
        re, im = Ref{Cdouble}(0), Ref{Cdouble}(0)
        @dj_check Lib.dj_value_get_complex(p, re, im)
        return complex(re[], im[])
    elseif t == Lib.DJ_VALUE_STRING
        return _value_string(p)
    elseif t == Lib.DJ_VALUE_DECIMAL
        return Decimal(_value_string(p))
    elseif t == Lib.DJ_VALUE_BYTES
        return _value_bytes(p)
    elseif t == Lib.DJ_VALUE_DATE || t == Lib.DJ_VALUE_TIME || t == Lib.DJ_VALUE_DATETIME
        v = Ref{Int64}(0)
        @dj_check Lib.dj_value_get_temporal(p, v)
        t == Lib.DJ_VALUE_DATE && return _date_from_days(v[])
        t == Lib.DJ_VALUE_TIME && return Dates.Time(Dates.Nanosecond(v[] * 1000))
        return exact_datetimes ? DateTimeMicros(v[]) : _datetime_from_micros(v[])
    elseif t == Lib.DJ_VALUE_UUID
        u = Ref{Ptr{UInt8}}(C_NULL)
        @dj_check Lib.dj_value_get_uuid(p, u)
        return _uuid_from_bytes(u[])
    elseif t == Lib.DJ_VALUE_LIST
        return Any[from_dj_value(_item(p, i); exact_datetimes) for i in 1:_len(p)]
    elseif t == Lib.DJ_VALUE_TUPLE
        return Tuple(from_dj_value(_item(p, i); exact_datetimes) for i in 1:_len(p))
    elseif t == Lib.DJ_VALUE_SET
        return Set{Any}(from_dj_value(_item(p, i); exact_datetimes) for i in 1:_len(p))
    elseif t == Lib.DJ_VALUE_DICT
        d = Dict{Any,Any}()
        for i in 1:_len(p)
            k = Lib.dj_value_dict_key(p, i - 1)
            d[from_dj_value(k; exact_datetimes)] = from_dj_value(_item(p, i); exact_datetimes)
        end
        return d
    elseif t == Lib.DJ_VALUE_ARRAY
        a = Ref(Lib.dj_blob_array())
        @dj_check Lib.dj_value_array(p, a)
        return _from_blob_array(a[])
    elseif t == Lib.DJ_VALUE_CELL || t == Lib.DJ_VALUE_OBJECT_ARRAY
        out = Array{Any}(undef, _value_dims(p))
        for i in eachindex(out)                 # linear = column-major
            out[i] = from_dj_value(_item(p, i); exact_datetimes)
        end
        return out
    elseif t == Lib.DJ_VALUE_STRUCT
        syms = Tuple(Symbol(_field_name(p, f)) for f in 1:Int(Lib.dj_value_field_count(p)))
        out = Array{NamedTuple{syms}}(undef, _value_dims(p))
        for e in eachindex(out)
            vals = ntuple(length(syms)) do f
                q = Lib.dj_value_struct_get(p, e - 1, f - 1)
                q == C_NULL && throw(DataJointError(Lib.DJ_E_INTERNAL, "struct element $e has no field $f"))
                from_dj_value(q; exact_datetimes)
            end
            out[e] = NamedTuple{syms}(vals)
        end
        return out
    elseif t == Lib.DJ_VALUE_RECORD
        syms = Tuple(Symbol(_field_name(p, f)) for f in 1:Int(Lib.dj_value_field_count(p)))
        return NamedTuple{syms}(ntuple(f -> from_dj_value(_item(p, f); exact_datetimes), length(syms)))
    elseif t == Lib.DJ_VALUE_SPARSE
        s = Ref(Lib.dj_blob_sparse())
        @dj_check Lib.dj_value_sparse(p, s)
        sp = s[]
        colptr = Int[Int(unsafe_load(sp.jc, k)) + 1 for k in 1:Int(sp.cols) + 1]
        rowval = Int[Int(unsafe_load(sp.ir, k)) + 1 for k in 1:Int(sp.nnz)]
        nzval = vec(_from_blob_array(sp.values))
        return (m=Int(sp.rows), n=Int(sp.cols), colptr=colptr, rowval=rowval, nzval=nzval)
    end
    throw(DataJointError(Lib.DJ_E_UNSUPPORTED, "unknown <blob> value type $t"))
end

_len(p::Ptr{Lib.dj_value}) = Int(Lib.dj_value_len(p))

# Item i (1-based) of a container, borrowed.
function _item(p::Ptr{Lib.dj_value}, i::Integer)
    q = Lib.dj_value_item(p, i - 1)
    q == C_NULL && throw(DataJointError(Lib.DJ_E_INTERNAL, "<blob> item $i is missing"))
    return q
end

function _value_dims(p::Ptr{Lib.dj_value})
    nd, sh = Ref{Int32}(0), Ref{Ptr{Int64}}(C_NULL)
    @dj_check Lib.dj_value_shape(p, nd, sh)
    return ntuple(k -> Int(unsafe_load(sh[], k)), Int(nd[]))
end

function _value_string(p::Ptr{Lib.dj_value})
    data, len = Ref{Ptr{UInt8}}(C_NULL), Ref{Csize_t}(0)
    @dj_check Lib.dj_value_get_string(p, data, len)
    return len[] == 0 ? "" : unsafe_string(data[], len[])
end

function _value_bytes(p::Ptr{Lib.dj_value})
    data, len = Ref{Ptr{Cvoid}}(C_NULL), Ref{Csize_t}(0)
    @dj_check Lib.dj_value_get_bytes(p, data, len)
    out = Vector{UInt8}(undef, Int(len[]))
    isempty(out) || unsafe_copyto!(pointer(out), Ptr{UInt8}(data[]), length(out))
    return out
end

function _field_name(p::Ptr{Lib.dj_value}, f::Integer)
    data, len = Ref{Ptr{UInt8}}(C_NULL), Ref{Csize_t}(0)
    @dj_check Lib.dj_value_field_name(p, f - 1, data, len)
    return len[] == 0 ? "" : unsafe_string(data[], len[])
end

# Copy `n` elements of type T from `src` into a new array of `dims`.
function _copy_elements(::Type{T}, src::Ptr{Cvoid}, dims::Tuple, n::Int) where {T}
    out = Array{T}(undef, dims)
    n > 0 && unsafe_copyto!(pointer(out), Ptr{T}(src), n)
    return out
end

function _from_blob_array(a::Lib.dj_blob_array)
    dims = ntuple(k -> Int(unsafe_load(a.shape, k)), Int(a.ndim))
    n = Int(a.length)
    if a.class_id == Lib.DJ_CLASS_CHAR
        units = _copy_elements(UInt16, a.real, (n,), n)
        if length(dims) == 2 && dims[1] > 1        # a char matrix: one string per row
            m = dims[1]
            return String[transcode(String, units[i:m:end]) for i in 1:m]
        end
        return transcode(String, units)
    end
    T = get(_TYPE_OF, a.class_id, nothing)
    if T === nothing
        a.class_id >= Lib.DJ_CLASS_DATETIME64 && a.itemsize == 8 ||
            throw(DataJointError(Lib.DJ_E_UNSUPPORTED, "unknown <blob> array class $(a.class_id)"))
        T = Int64                                   # numpy datetime64: the raw counts
    end
    if T === Bool
        return map(!iszero, _copy_elements(UInt8, a.real, dims, n))
    end
    re = _copy_elements(T, a.real, dims, n)
    a.is_complex != 0 || return re
    return complex.(re, _copy_elements(T, a.imag, dims, n))
end

# ------------------------------------------------------------------------- bytes and results

"""
    pack_blob(x) -> Vector{UInt8}

DataJoint blob bytes of the Julia value `x` (`to_dj_value` mapping): the `mYm` protocol when
MATLAB can read the value, `dj0` otherwise; compressed when that pays.
"""
function pack_blob(x)
    v = to_dj_value(x)
    try
        needed = Ref{Csize_t}(0)
        @dj_check Lib.dj_value_pack(v, C_NULL, 0, needed)
        buf = Vector{UInt8}(undef, Int(needed[]))
        @dj_check Lib.dj_value_pack(v, buf, length(buf), needed)
        return buf
    finally
        Lib.dj_value_free(v)
    end
end

"""
    unpack_blob(bytes::AbstractVector{UInt8}; exact_datetimes = false)

The Julia value (`from_dj_value` mapping) of DataJoint blob bytes (mYm or dj0, compressed or
not). `DataJointError` `Codec` for bytes that are not a blob.
"""
function unpack_blob(bytes::AbstractVector{UInt8}; exact_datetimes::Bool=false)
    b = _dense(bytes)
    v = GC.@preserve b _new_value(o -> Lib.dj_value_unpack(b, length(b), o))
    try
        return from_dj_value(v; exact_datetimes)
    finally
        Lib.dj_value_free(v)
    end
end

"""
    blob_value(result, col, row; exact_datetimes = false)

The `<blob>` value in column `col` (1-based index, or name) and row `row` (1-based) of a
result, converted with `from_dj_value`. `DataJointError` `NotFound` if it is NULL, `Type` if
the column is not a blob.
"""
function blob_value(r::Result, col::Integer, row::Integer; exact_datetimes::Bool=false)
    out = Ref{Ptr{Lib.dj_value}}(C_NULL)
    return GC.@preserve r begin
        @dj_check Lib.dj_result_value(r.ptr, _index0(col, "column"), _index0(row, "row"), out)
        from_dj_value(out[]; exact_datetimes)   # borrowed from the result: copied here
    end
end

blob_value(r::Result, col::Union{AbstractString,Symbol}, row::Integer; kw...) =
    blob_value(r, column_index(r, col), row; kw...)
