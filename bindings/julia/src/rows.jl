# Rows (dj_row): built from a NamedTuple or an AbstractDict for insert1!/insert! (row path)
# and for key restrictions.
#
# Julia value                       C setter                 attribute types
#   missing, nothing                 dj_row_set_null          any nullable attribute
#   Bool                             dj_row_set_bool          bool
#   Integer                          dj_row_set_int           integers (range-checked), float, decimal
#   Integer in (typemax(Int64), typemax(UInt64)]  dj_row_set_uint  native `bigint unsigned`
#   AbstractFloat / other Real       dj_row_set_float         float, integral values for integers; NaN = NULL
#   AbstractString, Symbol           dj_row_set_string_n      text; parsed for date, datetime, uuid, decimal, json, enum
#   Date                             dj_row_set_date
#   DateTime, DateTimeMicros         dj_row_set_datetime
#   UUID                             dj_row_set_uuid
#   Decimal, JSONText                dj_row_set_decimal / dj_row_set_json
#   AbstractVector{UInt8}            dj_row_set_bytes         bytes (for an <npy@> attribute: a uint8 array)
#   AbstractArray, NpyArray          dj_row_set_array         <npy@> (order rule in arrays.jl)
#   any value but missing/nothing    dj_row_set_value         <blob> (to_dj_value, blob.jl)
#   ObjectBytes, ext => bytes        dj_row_set_object_bytes  <object@> (objects.jl); a path string or bytes also work

"""
    Row

A row of attribute values (a `dj_row`), also used as a key. Built internally from a
`NamedTuple` or an `AbstractDict` (`Symbol` or `String` keys); `keep` holds the arrays whose
buffers the row borrows until it is inserted or freed.
"""
mutable struct Row
    ptr::Ptr{Lib.dj_row}
    parent::Nothing
    keep::Vector{Any}
    function Row()
        out = Ref{Ptr{Lib.dj_row}}(C_NULL)
        @dj_check Lib.dj_row_new(out)
        return finalizer(_free!, new(out[], nothing, Any[]))
    end
end

function _free!(r::Row)
    _release_handle!(r, Lib.dj_row_free)
    empty!(r.keep)
    return nothing
end
Base.close(r::Row) = _free!(r)
Base.isopen(r::Row) = r.ptr != C_NULL

"Number of values set in the row."
function Base.length(r::Row)
    n = GC.@preserve r @dj_value Lib.dj_row_len(r.ptr)
    return Int(n)
end

_attr_name(k::Symbol) = _cstr(String(k), "attribute name")
_attr_name(k::AbstractString) = _cstr(k, "attribute name")
_attr_name(k) = throw(_invalid_arg("attribute names must be Symbols or Strings, not $(typeof(k))"))

_row_pairs(x::NamedTuple) = pairs(x)
_row_pairs(x::AbstractDict) = pairs(x)
_row_pairs(x) = throw(_invalid_arg("a row must be a NamedTuple or an AbstractDict, not $(typeof(x))"))

# A Row with the values of `values`; `npy` and `blob` are the names of the <npy@> and <blob>
# attributes (or nothing).
function _build_row(values, npy::Union{Nothing,Set{String}}, blob::Union{Nothing,Set{String}}=nothing)
    row = Row()
    try
        for (k, v) in _row_pairs(values)
            nm = _attr_name(k)
            if blob !== nothing && nm in blob && !_isnull(v)
                _set_blob!(row, nm, v)
            else
                _set_value!(row, nm, v, npy !== nothing && nm in npy)
            end
        end
    catch
        close(row)
        rethrow()
    end
    return row
end

_isnull(x) = x === missing || x === nothing

function _set_value!(row::Row, name::String, ::Union{Missing,Nothing}, ::Bool)
    GC.@preserve row @dj_check Lib.dj_row_set_null(row.ptr, name)
end

function _set_value!(row::Row, name::String, v::Bool, ::Bool)
    GC.@preserve row @dj_check Lib.dj_row_set_bool(row.ptr, name, Int32(v))
end

function _set_value!(row::Row, name::String, v::Integer, ::Bool)
    if typemax(Int64) < v <= typemax(UInt64)
        # native `bigint unsigned`; the library range-checks it
        GC.@preserve row @dj_check Lib.dj_row_set_uint(row.ptr, name, UInt64(v))
        return
    end
    typemin(Int64) <= v <= typemax(Int64) ||
        throw(_type_error("attribute '$name': the value $v does not fit int64 or uint64"))
    GC.@preserve row @dj_check Lib.dj_row_set_int(row.ptr, name, Int64(v))
end

function _set_value!(row::Row, name::String, v::Real, ::Bool)
    GC.@preserve row @dj_check Lib.dj_row_set_float(row.ptr, name, Float64(v))
end

function _set_value!(row::Row, name::String, v::Union{AbstractString,Symbol}, ::Bool)
    s = String(v)
    GC.@preserve row s @dj_check Lib.dj_row_set_string_n(row.ptr, name, s, sizeof(s))
end

function _set_value!(row::Row, name::String, v::Date, ::Bool)
    GC.@preserve row @dj_check Lib.dj_row_set_date(row.ptr, name, _date_days(v))
end

function _set_value!(row::Row, name::String, v::Union{DateTime,DateTimeMicros}, ::Bool)
    GC.@preserve row @dj_check Lib.dj_row_set_datetime(row.ptr, name, _micros(v))
end

function _set_value!(row::Row, name::String, v::UUID, ::Bool)
    b = _uuid_bytes(v)
    GC.@preserve row b @dj_check Lib.dj_row_set_uuid(row.ptr, name, b)
end

function _set_value!(row::Row, name::String, v::Decimal, ::Bool)
    GC.@preserve row @dj_check Lib.dj_row_set_decimal(row.ptr, name, _cstr(v.text, "decimal"))
end

function _set_value!(row::Row, name::String, v::JSONText, ::Bool)
    GC.@preserve row @dj_check Lib.dj_row_set_json(row.ptr, name, _cstr(v.text, "JSON"))
end

function _set_value!(row::Row, name::String, v::AbstractArray, isnpy::Bool)
    if !isnpy && v isa AbstractVector{UInt8}
        b = _dense(v)
        return GC.@preserve row b @dj_check Lib.dj_row_set_bytes(row.ptr, name, b, length(b))
    end
    # Any other array is an <npy@> value; for other attributes the library reports DJ_E_TYPE.
    return _set_array!(row, name, _npy_in(v))
end

_set_value!(row::Row, name::String, v::NpyArray, ::Bool) = _set_array!(row, name, v)

function _set_value!(::Row, name::String, v, ::Bool)
    throw(_type_error("attribute '$name': cannot store a value of type $(typeof(v))"))
end

# A <blob> attribute: the row copies the value tree, which is freed at once.
function _set_blob!(row::Row, name::String, v)
    p = to_dj_value(v)
    try
        GC.@preserve row @dj_check Lib.dj_row_set_value(row.ptr, name, p)
    finally
        Lib.dj_value_free(p)
    end
    return nothing
end

# The row borrows the array's buffer until it is inserted or freed: keep the descriptor.
function _set_array!(row::Row, name::String, a::NpyArray)
    push!(row.keep, a)
    GC.@preserve row a begin
        ain = Ref(_array_in(a))
        @dj_check Lib.dj_row_set_array(row.ptr, name, ain)
    end
end
