# Arrays coming out: NpyRef metadata (no I/O), load (a Julia-owned Array), view/map (zero-copy
# ArrayView), read_rows, local_file and mmap (Julia's own memory map of the .npy file).
#
# THE ORDER RULE (reading). numpy element a[i-1, j-1, ...] is Julia element [i, j, ...] and
# `size` is numpy's shape, whatever order the file has:
#   * F-order data (what Julia arrays are stored as) is wrapped directly:
#       unsafe_wrap(Array, ptr, shape)
#   * C-order data (numpy's default) is wrapped with the dimensions reversed and presented
#     through PermutedDimsArray(wrap, (N, ..., 1)) by view/map (no copy), or copied with
#     permutedims(wrap, (N, ..., 1)) into a column-major Array by load.
#   0-d and 1-d arrays are both C and F ordered.

# ------------------------------------------------------------------------------------ metadata

"""
    dtype(ref) -> (dtype::Int32, itemsize::Int)

The numpy element type of the value (a `DJ_DTYPE_*` code) and its bytes per element; no I/O.
"""
function dtype(ref::NpyRef)
    d = Ref{Int32}(0)
    s = Ref{Int64}(0)
    GC.@preserve ref @dj_check Lib.dj_npyref_dtype(ref.ptr, d, s)
    return (dtype = d[], itemsize = Int(s[]))
end

"""
    eltype(ref::NpyRef) -> Type

The Julia element type of the array (see `npy_eltype`): `Float64` for numpy `float64`,
`NTuple{5,UInt8}` for `S5`, `NTuple{3,UInt32}` for `U3`, …; no I/O.
"""
function Base.eltype(ref::NpyRef)
    d = dtype(ref)
    return npy_eltype(d.dtype, d.itemsize)
end

"numpy's name of the element type (`\"float64\"`, `\"<U3\"`, `\"|S5\"`); no I/O."
function dtype_name(ref::NpyRef)
    s = GC.@preserve ref unsafe_string(@dj_value Lib.dj_npyref_dtype_name(ref.ptr))
    return s
end

"""
    size(ref::NpyRef) -> NTuple{N,Int}

numpy's shape of the array, which is also the Julia size of `load(ref)` and `view(ref)`
(order rule); no I/O.
"""
function Base.size(ref::NpyRef)
    nd = Ref{Int32}(0)
    sp = Ref{Ptr{Int64}}(C_NULL)
    dims = GC.@preserve ref begin
        @dj_check Lib.dj_npyref_shape(ref.ptr, nd, sp)
        p = sp[]
        ntuple(k -> Int(unsafe_load(p, k)), Int(nd[]))   # shape borrowed from the ref: copied here
    end
    return dims
end

"Number of dimensions of the array; no I/O."
function Base.ndims(ref::NpyRef)
    nd = Ref{Int32}(0)
    GC.@preserve ref @dj_check Lib.dj_npyref_shape(ref.ptr, nd, C_NULL)
    return Int(nd[])
end

"Number of elements of the array; no I/O."
function Base.length(ref::NpyRef)
    n = Ref{UInt64}(0)
    GC.@preserve ref @dj_check Lib.dj_npyref_size(ref.ptr, n, C_NULL)
    return Int(n[])
end

"Number of data bytes of the array; no I/O."
function nbytes(ref::NpyRef)
    n = Ref{UInt64}(0)
    b = Ref{UInt64}(0)
    GC.@preserve ref @dj_check Lib.dj_npyref_size(ref.ptr, n, b)
    return Int(b[])
end

"The object's path relative to its store; no I/O."
function path(ref::NpyRef)
    s = GC.@preserve ref unsafe_string(@dj_value Lib.dj_npyref_path(ref.ptr))
    return s
end

"The name of the store holding the object; no I/O."
function store(ref::NpyRef)
    s = GC.@preserve ref unsafe_string(@dj_value Lib.dj_npyref_store(ref.ptr))
    return s
end

"""
    isloaded(ref) -> Bool

Whether `load` has already read the data (later loads need no I/O).
"""
function isloaded(ref::NpyRef)
    l = Ref{Int32}(0)
    GC.@preserve ref @dj_check Lib.dj_npyref_is_loaded(ref.ptr, l)
    return l[] != 0
end

function Base.show(io::IO, ref::NpyRef)
    if ref.ptr == C_NULL
        print(io, "DataJoint.NpyRef(closed)")
    else
        desc = try
            string(dtype_name(ref), ", ", size(ref), ", store ", repr(store(ref)))
        catch
            "?"
        end
        print(io, "DataJoint.NpyRef(", desc, ")")
    end
end

# ------------------------------------------------------------------------------------ ArrayView

"""
    ArrayView{T,N} <: AbstractArray{T,N}

A read-only, zero-copy array over memory owned by libdatajoint (a memory map of the `.npy`
file, a download or a loaded buffer), from `view(ref)` / `map(ref)`, `load_view(ref)` or
`read_rows(ref, rows)`. Indexing follows the order rule: `v[i, j, …]` is numpy's
`a[i-1, j-1, …]`; C-order data is presented through a `PermutedDimsArray` without copying.

The view owns its `dj_array_view` (field `view`), which keeps the memory valid; the memory
stays valid after the ref, result, table and connection are closed (the ABI guarantees it), so
`parent` is `nothing`: a view keeps no other library object alive. `close(v)` releases the
memory at once (idempotent); the finalizer does it otherwise. Indexing a released view
throws `DataJointError` `InvalidHandle`. `copy(v)`/`Array(v)` make a Julia-owned copy.

Do not keep the result of `unsafe_array(v)` beyond the lifetime of `v`. A memory-mapped file
that another process truncates raises SIGBUS on access (stores never rewrite objects in place).
"""
mutable struct ArrayView{T,N,A<:AbstractArray{T,N}} <: AbstractArray{T,N}
    view::Base.RefValue{Lib.dj_array_view}
    array::A
    flags::UInt32
    released::Bool
    parent::Nothing
end

function _free!(v::ArrayView)
    if !v.released
        v.released = true
        Lib.dj_array_view_release(v.view)   # calls view.release once; ignores released views
    end
    return nothing
end

Base.close(v::ArrayView) = _free!(v)
Base.isopen(v::ArrayView) = !v.released

function with(f, v::ArrayView)
    try
        return f(v)
    finally
        close(v)
    end
end

@noinline _released_error() = throw(DataJointError(Lib.DJ_E_INVALID_HANDLE, "the ArrayView has been released"))

Base.size(v::ArrayView) = size(v.array)
Base.IndexStyle(::Type{<:ArrayView{T,N,A}}) where {T,N,A} = IndexStyle(A)

@inline function Base.getindex(v::ArrayView{T,N}, I::Vararg{Int,N}) where {T,N}
    v.released && _released_error()
    @boundscheck checkbounds(v, I...)
    x = GC.@preserve v @inbounds(v.array[I...])
    return x
end

@inline function Base.getindex(v::ArrayView, i::Int)
    v.released && _released_error()
    @boundscheck checkbounds(v, i)
    x = GC.@preserve v @inbounds(v.array[i])
    return x
end

"A Julia-owned, column-major copy of the view's elements."
function Base.copy(v::ArrayView)
    v.released && _released_error()
    a = GC.@preserve v _copyout(v.array)
    return a
end
Base.Array(v::ArrayView) = copy(v)

_copyout(A::Array) = copy(A)
_copyout(A::PermutedDimsArray{T,N,perm}) where {T,N,perm} = permutedims(parent(A), perm)

"Whether the view maps a file (`DJ_VIEW_MAPPED`: no copy was made)."
ismapped(v::ArrayView) = (v.flags & Lib.DJ_VIEW_MAPPED) != 0

"Whether the data is in column-major order (`DJ_VIEW_F_ORDER`; 0-d and 1-d arrays are both)."
isfortran(v::ArrayView) = (v.flags & Lib.DJ_VIEW_F_ORDER) != 0

"The `DJ_VIEW_*` flags of the view."
flags(v::ArrayView) = v.flags

"""
    unsafe_array(v::ArrayView)

The wrapped array itself (an `Array` over library memory, or a `PermutedDimsArray` of one).
Unsafe: it is valid only while `v` is open and referenced; use `GC.@preserve v` around its use.
"""
unsafe_array(v::ArrayView) = (v.released && _released_error(); v.array)

function Base.show(io::IO, m::MIME"text/plain", v::ArrayView)
    if v.released
        print(io, "released ", typeof(v))
    else
        invoke(show, Tuple{IO,MIME"text/plain",AbstractArray}, io, m, v)
    end
end

function Base.show(io::IO, v::ArrayView)
    if v.released
        print(io, "released ", typeof(v))
    else
        invoke(show, Tuple{IO,AbstractArray}, io, v)
    end
end

# An ArrayView adopting a filled dj_array_view (released here if it cannot be wrapped).
function _arrayview(vref::Base.RefValue{Lib.dj_array_view})
    local T, dims, fortran
    try
        raw = vref[]
        T = npy_eltype(raw.dtype, raw.itemsize)
        dims = ntuple(k -> Int(unsafe_load(raw.shape, k)), Int(raw.ndim))
        fortran = (raw.flags & Lib.DJ_VIEW_F_ORDER) != 0
        expected = sizeof(T) * prod(dims)
        expected == raw.nbytes ||
            throw(DataJointError(Lib.DJ_E_INTERNAL, "array view of $(raw.nbytes) bytes for $dims elements of $T"))
        # Only contiguous C- or F-order layouts can be wrapped; check the strides say so (the
        # stride of an extent-1 dimension is irrelevant).
        if prod(dims) > 0 && length(dims) > 1
            want = _contiguous_strides(dims, sizeof(T), fortran)
            have = ntuple(k -> Int(unsafe_load(raw.strides, k)), length(dims))
            all(k -> dims[k] == 1 || have[k] == want[k], 1:length(dims)) ||
                throw(DataJointError(Lib.DJ_E_UNSUPPORTED, "array view with strides $have is not contiguous"))
        end
    catch
        Lib.dj_array_view_release(vref)
        rethrow()
    end
    return _arrayview(vref, T, dims, fortran)
end

function _arrayview(vref::Base.RefValue{Lib.dj_array_view}, ::Type{T}, dims::NTuple{N,Int}, fortran::Bool) where {T,N}
    local arr
    try
        arr = _wrap(T, vref[].data, dims, fortran)
    catch
        Lib.dj_array_view_release(vref)
        rethrow()
    end
    av = ArrayView{T,N,typeof(arr)}(vref, arr, vref[].flags, false, nothing)
    return finalizer(_free!, av)
end

# Byte strides of a contiguous array of `dims` in F (column-major) or C (row-major) order.
function _contiguous_strides(dims::NTuple{N,Int}, itemsize::Int, fortran::Bool) where {N}
    s = zeros(Int, N)
    acc = itemsize
    for k in (fortran ? (1:N) : (N:-1:1))
        s[k] = acc
        acc *= dims[k]
    end
    return Tuple(s)
end

# The Julia array over library memory under the order rule (own = false: the view frees it).
function _wrap(::Type{T}, data::Ptr{Cvoid}, dims::NTuple{N,Int}, fortran::Bool) where {T,N}
    if any(==(0), dims)
        return Array{T,N}(undef, dims)   # no elements: nothing to point at
    end
    data == C_NULL && throw(DataJointError(Lib.DJ_E_INTERNAL, "array view without data"))
    if fortran || N <= 1
        return unsafe_wrap(Array, Ptr{T}(data), dims; own=false)
    end
    inner = unsafe_wrap(Array, Ptr{T}(data), reverse(dims); own=false)
    return PermutedDimsArray(inner, ntuple(k -> N + 1 - k, N))
end

# ------------------------------------------------------------------------------------ reading

"""
    view(ref::NpyRef) -> ArrayView
    map(ref::NpyRef) -> ArrayView

Zero-copy, read-only memory map of the array (`dj_npyref_map`): the `.npy` file itself for
local (`file`) stores; remote objects are downloaded once into the cache and the cached copy is
mapped. Big-endian or misaligned files are loaded instead (`ismapped(v)` is then false).
Element `[i, j, …]` is numpy's `a[i-1, j-1, …]`.
"""
function Base.view(ref::NpyRef)
    vref = Ref(Lib.dj_array_view())
    GC.@preserve ref @dj_check Lib.dj_npyref_map(ref.ptr, vref)
    return _arrayview(vref)
end

Base.map(ref::NpyRef) = view(ref)

"""
    load_view(ref) -> ArrayView

The whole array read into library memory (cached on the ref: a second load does no I/O),
presented without copying.
"""
function load_view(ref::NpyRef)
    vref = Ref(Lib.dj_array_view())
    GC.@preserve ref @dj_check Lib.dj_npyref_load(ref.ptr, vref)
    return _arrayview(vref)
end

"""
    load(ref) -> Array

The array as a Julia-owned, column-major `Array` with `size(ref)`: element `[i, j, …]` equals
numpy's `a[i-1, j-1, …]`. F-order data (what Julia arrays are stored as) is copied as is;
C-order data is `permutedims` of the reversed-dimension wrap. The library keeps the bytes cached
on the ref, so a second `load` does no I/O.
"""
function load(ref::NpyRef)
    v = load_view(ref)
    try
        return copy(v)
    finally
        close(v)
    end
end

"""
    read_rows(ref, rows::AbstractUnitRange) -> ArrayView

Rows `rows` (1-based, along the first dimension) of a C-order array, read with ranged requests
without downloading the whole object. `DataJointError` `Unsupported` for F-order arrays (their
rows are not contiguous), `InvalidArgument` for 0-d arrays or rows out of range.
"""
function read_rows(ref::NpyRef, rows::AbstractUnitRange{<:Integer})
    first(rows) >= 1 || throw(_invalid_arg("rows $rows: Julia indices start at 1"))
    start = UInt64(first(rows) - 1)
    stop = UInt64(max(last(rows), first(rows) - 1))
    vref = Ref(Lib.dj_array_view())
    GC.@preserve ref @dj_check Lib.dj_npyref_read_rows(ref.ptr, start, stop, vref)
    return _arrayview(vref)
end

"""
    local_file(ref) -> (path, data_offset, fortran, big_endian)

A local file holding the `.npy` object (the store's own file for `file` stores, else the
download-cache copy, downloaded on first call), the byte offset of the elements, whether they
are column-major and whether the file is big-endian.
"""
function local_file(ref::NpyRef)
    p = Ref{Ptr{UInt8}}(C_NULL)
    off = Ref{UInt64}(0)
    f = Ref{Int32}(0)
    be = Ref{Int32}(0)
    s = GC.@preserve ref begin
        @dj_check Lib.dj_npyref_local_file(ref.ptr, p, off, f, be)
        unsafe_string(p[])   # valid until the ref is freed: copied here
    end
    return (path = s, data_offset = Int(off[]), fortran = f[] != 0, big_endian = be[] != 0)
end

"""
    mmap(ref) -> Array or PermutedDimsArray

Julia's own read-only memory map (`Mmap.mmap`) of the local `.npy` file (see `local_file`): no
library memory is involved, so its lifetime is that of the returned array. F-order data is an
`Array`; C-order data a `PermutedDimsArray` over the reversed-dimension map (order rule).
Big-endian files are refused (`DataJointError` `Unsupported`: use `load`). Writing to it is an
error (the file is opened read-only).
"""
function mmap(ref::NpyRef)
    lf = local_file(ref)
    lf.big_endian && throw(DataJointError(Lib.DJ_E_UNSUPPORTED, "$(lf.path) is big-endian: use load(ref)"))
    return _mmap(lf.path, eltype(ref), size(ref), lf.data_offset, lf.fortran)
end

function _mmap(file::AbstractString, ::Type{T}, dims::NTuple{N,Int}, offset::Int, fortran::Bool) where {T,N}
    return open(file, "r") do io
        if fortran || N <= 1
            Mmap.mmap(io, Array{T,N}, dims, offset; grow=false)
        else
            inner = Mmap.mmap(io, Array{T,N}, reverse(dims), offset; grow=false)
            PermutedDimsArray(inner, ntuple(k -> N + 1 - k, N))
        end
    end
end
