# Arrays going in: Julia arrays and NpyArray descriptions -> dj_array_in.
#
# THE ORDER RULE. Julia arrays are column-major. An `Array{T,N}` `A` is stored with
# DJ_ORDER_F and shape `size(A)`, so numpy reads an array `a` of the same shape with
# `a[i-1, j-1, ...] == A[i, j, ...]` (numpy stores it with `fortran_order: True`; no copy is
# made on either side). Reading back (npy.jl) follows the same rule for both orders, so
# `load(ref) == A` element by element and `size(ref) == size(A)`.

"""
    NpyArray(data::AbstractArray, shape; order = :C)

A raw array description for an `<npy@>` attribute: the elements of `data` in memory order
(`vec(data)`), read as an array of `shape` in `order` — `:C` (row-major, numpy's default) or
`:F` (column-major). Use it to store data that is already laid out the numpy way, e.g. a buffer
received from Python; a Julia array `A` is stored as `NpyArray(A, size(A); order = :F)`, which
is what passing `A` itself does.

`NpyArray(data, nbytes, dtype, shape, itemsize, order)` fills the `dj_array_in` fields directly
(`dtype` a `DJ_DTYPE_*` code, `order` `DJ_ORDER_C`/`DJ_ORDER_F`); the library validates them.
"""
struct NpyArray
    data::Any                # an Array with the elements (kept alive while the descriptor is used)
    nbytes::UInt64
    dtype::Int32
    shape::Vector{Int64}
    itemsize::Int64
    order::Int32
end

function NpyArray(data::AbstractArray{T}, shape; order::Symbol=:C) where {T}
    dtype, itemsize = _dtype_of(T)
    B = _dense(data)
    o = order === :C ? Lib.DJ_ORDER_C : order === :F ? Lib.DJ_ORDER_F :
        throw(_invalid_arg("order must be :C or :F, not $(repr(order))"))
    return NpyArray(B, UInt64(sizeof(B)), dtype, Int64[Int64(d) for d in shape], Int64(itemsize), o)
end

# numpy dtype (DJ_DTYPE_*) and bytes per element of a Julia element type.
_dtype_of(::Type{Bool}) = (Lib.DJ_DTYPE_BOOL, 1)
_dtype_of(::Type{Int8}) = (Lib.DJ_DTYPE_INT8, 1)
_dtype_of(::Type{Int16}) = (Lib.DJ_DTYPE_INT16, 2)
_dtype_of(::Type{Int32}) = (Lib.DJ_DTYPE_INT32, 4)
_dtype_of(::Type{Int64}) = (Lib.DJ_DTYPE_INT64, 8)
_dtype_of(::Type{UInt8}) = (Lib.DJ_DTYPE_UINT8, 1)
_dtype_of(::Type{UInt16}) = (Lib.DJ_DTYPE_UINT16, 2)
_dtype_of(::Type{UInt32}) = (Lib.DJ_DTYPE_UINT32, 4)
_dtype_of(::Type{UInt64}) = (Lib.DJ_DTYPE_UINT64, 8)
_dtype_of(::Type{Float16}) = (Lib.DJ_DTYPE_FLOAT16, 2)
_dtype_of(::Type{Float32}) = (Lib.DJ_DTYPE_FLOAT32, 4)
_dtype_of(::Type{Float64}) = (Lib.DJ_DTYPE_FLOAT64, 8)
_dtype_of(::Type{ComplexF32}) = (Lib.DJ_DTYPE_COMPLEX64, 8)
_dtype_of(::Type{ComplexF64}) = (Lib.DJ_DTYPE_COMPLEX128, 16)
# numpy S<W>: W bytes per element, zero-padded.
_dtype_of(::Type{NTuple{W,UInt8}}) where {W} = (Lib.DJ_DTYPE_BYTES, W)
# numpy U<W>: W UTF-32 code points per element, zero-padded.
_dtype_of(::Type{NTuple{W,UInt32}}) where {W} = (Lib.DJ_DTYPE_UNICODE, 4 * W)
_dtype_of(::Type{Tuple{}}) = throw(_invalid_arg("fixed-width strings need a width of at least 1"))
_dtype_of(::Type{T}) where {T} =
    throw(_type_error("no numpy dtype for the Julia element type $T (supported: Bool, Int8…Int64, " *
                      "UInt8…UInt64, Float16, Float32, Float64, ComplexF32, ComplexF64, " *
                      "NTuple{W,UInt8} (S<W>), NTuple{W,UInt32} (U<W>))"))

"""
    npy_eltype(dtype::Integer, itemsize::Integer) -> Type

The Julia element type of a numpy dtype (`DJ_DTYPE_*`): `Bool`, `Int8`…`UInt64`, `Float16`,
`Float32`, `Float64`, `ComplexF32`, `ComplexF64`, `NTuple{itemsize,UInt8}` for `S<n>` and
`NTuple{itemsize ÷ 4,UInt32}` (UTF-32 code points) for `U<n>`.
"""
function npy_eltype(dtype::Integer, itemsize::Integer)
    d = Int32(dtype)
    d == Lib.DJ_DTYPE_BOOL && return Bool
    d == Lib.DJ_DTYPE_INT8 && return Int8
    d == Lib.DJ_DTYPE_INT16 && return Int16
    d == Lib.DJ_DTYPE_INT32 && return Int32
    d == Lib.DJ_DTYPE_INT64 && return Int64
    d == Lib.DJ_DTYPE_UINT8 && return UInt8
    d == Lib.DJ_DTYPE_UINT16 && return UInt16
    d == Lib.DJ_DTYPE_UINT32 && return UInt32
    d == Lib.DJ_DTYPE_UINT64 && return UInt64
    d == Lib.DJ_DTYPE_FLOAT16 && return Float16
    d == Lib.DJ_DTYPE_FLOAT32 && return Float32
    d == Lib.DJ_DTYPE_FLOAT64 && return Float64
    d == Lib.DJ_DTYPE_COMPLEX64 && return ComplexF32
    d == Lib.DJ_DTYPE_COMPLEX128 && return ComplexF64
    d == Lib.DJ_DTYPE_BYTES && return NTuple{Int(itemsize),UInt8}
    d == Lib.DJ_DTYPE_UNICODE && return NTuple{Int(itemsize) ÷ 4,UInt32}
    throw(_type_error("unknown numpy dtype code $dtype"))
end

# A dense Array with the elements of A in column-major order (no copy for an Array).
_dense(A::Array) = A
_dense(A::BitArray) = Array{Bool}(A)
_dense(A::AbstractArray) = collect(A)

# The descriptor of a Julia array under the order rule.
function _npy_in(A::AbstractArray{T}) where {T}
    dtype, itemsize = _dtype_of(T)
    B = _dense(A)
    return NpyArray(B, UInt64(sizeof(B)), dtype, Int64[size(B)...], Int64(itemsize), Lib.DJ_ORDER_F)
end
_npy_in(a::NpyArray) = a
_npy_in(x) = throw(_type_error("an <npy@> value must be an array or a DataJoint.NpyArray, not a $(typeof(x))"))

# The C struct of a descriptor: the caller keeps `a` alive (GC.@preserve) while it is used.
function _array_in(a::NpyArray)
    data = a.nbytes == 0 ? C_NULL : _data_pointer(a.data)
    shape = isempty(a.shape) ? Ptr{Int64}(C_NULL) : pointer(a.shape)
    return Lib.dj_array_in(data, a.nbytes, a.dtype, Int32(length(a.shape)), shape, a.itemsize, a.order)
end

_data_pointer(x::Array) = Ptr{Cvoid}(pointer(x))
_data_pointer(::Nothing) = C_NULL
_data_pointer(x::Ptr) = Ptr{Cvoid}(x)
_data_pointer(x) = throw(_invalid_arg("NpyArray data must be an Array, not $(typeof(x))"))

# An all-NULL descriptor (for NULL rows of a columnar insert; the library ignores it).
_null_array_in() = Lib.dj_array_in(C_NULL, 0, 0, 0, C_NULL, 0, 0)

"""
    npy_bytes(strings::AbstractArray, width = maximum length) -> Array{NTuple{width,UInt8}}

Fixed-width byte strings (numpy `S<width>`) from an array of `String`s or byte vectors:
each element zero-padded to `width` bytes (`DataJointError` `InvalidArgument` if one is longer).
"""
function npy_bytes(A::AbstractArray, width::Integer=_max_len(A, x -> length(codeunits_or_bytes(x))))
    W = Int(width)
    out = Array{NTuple{W,UInt8}}(undef, size(A))
    for (k, x) in zip(eachindex(out), A)
        b = codeunits_or_bytes(x)
        length(b) <= W || throw(_invalid_arg("$(repr(x)) is longer than the width $W"))
        out[k] = ntuple(i -> i <= length(b) ? UInt8(b[i]) : 0x00, Val(W))
    end
    return out
end

"""
    npy_unicode(strings::AbstractArray, width = maximum length) -> Array{NTuple{width,UInt32}}

Fixed-width UTF-32 strings (numpy `U<width>`) from an array of strings: each element as
`width` code points, zero-padded.
"""
function npy_unicode(A::AbstractArray, width::Integer=_max_len(A, x -> length(x)))
    W = Int(width)
    out = Array{NTuple{W,UInt32}}(undef, size(A))
    for (k, x) in zip(eachindex(out), A)
        cps = UInt32[UInt32(c) for c in String(x)]
        length(cps) <= W || throw(_invalid_arg("$(repr(x)) is longer than the width $W"))
        out[k] = ntuple(i -> i <= length(cps) ? cps[i] : UInt32(0), Val(W))
    end
    return out
end

"""
    npy_string(x::NTuple{W,UInt8}) -> Vector{UInt8}   (numpy S<W>, trailing zeros removed)
    npy_string(x::NTuple{W,UInt32}) -> String         (numpy U<W>, trailing zeros removed)
"""
npy_string(x::NTuple{W,UInt8}) where {W} = UInt8[x[i] for i in 1:_trimmed(x)]
npy_string(x::NTuple{W,UInt32}) where {W} = String([Char(x[i]) for i in 1:_trimmed(x)])

function _trimmed(x::Tuple)
    n = length(x)
    while n > 0 && x[n] == 0
        n -= 1
    end
    return n
end

codeunits_or_bytes(x::AbstractString) = codeunits(String(x))
codeunits_or_bytes(x::AbstractVector{UInt8}) = x
codeunits_or_bytes(x) = throw(_invalid_arg("expected a string or bytes, not $(typeof(x))"))

_max_len(A, f) = isempty(A) ? 1 : max(1, maximum(f, A))
