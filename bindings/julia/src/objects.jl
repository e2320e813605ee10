# Files and folders: `<object@>` / `<filepath@>` values (ObjectRef, ObjectReader), staged
# inserts (StagedInsert, ObjectWriter), garbage collection (gc) and (ext => bytes) inserts
# (ObjectBytes).
#
# Lifetimes follow handles.jl: every wrapper frees its C handle in a finalizer and in
# `close(x)`, both idempotent, and keeps the wrapper it came from in `parent`. An ObjectRef is
# independent of its result (the library guarantees it); a reader keeps its ObjectRef, a
# writer its StagedInsert (whose progress callback data it may call), a StagedInsert its Table.

# ------------------------------------------------------------------------------------ ObjectRef

"""
    ObjectRef

A lazy reference to the `<object@>` or `<filepath@>` value of one result cell (what `fetch`
returns for these attributes). Metadata without I/O: `DataJoint.path`, `DataJoint.store`,
`DataJoint.ext`, `DataJoint.timestamp`, `size` (`missing` when unknown), `isdir`,
`DataJoint.item_count`, `DataJoint.info`. On demand: `DataJoint.files`, `DataJoint.exists`,
`read`, `open` (an [`ObjectReader`](@ref)), `download`, `DataJoint.localpath`.
A ref stays usable after its result, table and connection are closed; `parent` is the
`Result` it came from (or `nothing`).
"""
mutable struct ObjectRef
    ptr::Ptr{Lib.dj_objectref}
    parent::Union{Result,Nothing}
    function ObjectRef(ptr::Ptr{Lib.dj_objectref}, parent::Union{Result,Nothing})
        return finalizer(_free!, new(ptr, parent))
    end
end

_free!(r::ObjectRef) = _release_handle!(r, Lib.dj_objectref_free)
Base.close(r::ObjectRef) = _free!(r)
Base.isopen(r::ObjectRef) = r.ptr != C_NULL

function with(f, r::ObjectRef)
    try
        return f(r)
    finally
        close(r)
    end
end

# Attribute types whose values are ObjectRefs.
_is_object_type(type::AbstractString) = startswith(type, "<object@") || startswith(type, "<filepath@")

"""
    objectref(result, col, row) -> ObjectRef

Lazy reference to the `<object@>` / `<filepath@>` value in column `col` (1-based index, or
name) and row `row` (1-based) of a result; no I/O. `DataJointError` `NotFound` if the value is
NULL, `Type` for another column type.
"""
function objectref(r::Result, col::Integer, row::Integer)
    out = Ref{Ptr{Lib.dj_objectref}}(C_NULL)
    GC.@preserve r @dj_check Lib.dj_result_objectref(r.ptr, _index0(col, "column"), _index0(row, "row"), out)
    return ObjectRef(out[], r)
end

objectref(r::Result, col::Union{AbstractString,Symbol}, row::Integer) = objectref(r, column_index(r, col), row)

# A borrowed string of a getter (NULL with no error: `nothing`), copied.
function _opt_string(f::F, r::ObjectRef) where {F}
    s = GC.@preserve r begin
        p = @dj_value f(r.ptr)
        p == C_NULL ? nothing : unsafe_string(p)
    end
    return s
end

"The object's path relative to its store; no I/O."
path(r::ObjectRef) = something(_opt_string(Lib.dj_objectref_path, r), "")

"The name of the store holding the object; no I/O."
store(r::ObjectRef) = something(_opt_string(Lib.dj_objectref_store, r), "")

"The extension recorded at insert (e.g. `\".dat\"`), or `nothing`; no I/O."
ext(r::ObjectRef) = _opt_string(Lib.dj_objectref_ext, r)

"The ISO-8601 UTC time of the write (`\"2024-05-06T07:08:09.123456+00:00\"`), or `nothing`; no I/O."
timestamp(r::ObjectRef) = _opt_string(Lib.dj_objectref_timestamp, r)

"""
    info(ref) -> (size, isdir, item_count)

The metadata summary (no I/O): total bytes (a folder's files summed; `missing` when unknown,
as for a `<filepath@>` folder), whether it is a folder, and its number of files (`missing`
when not recorded).
"""
function info(r::ObjectRef)
    i = Ref(Lib.dj_object_info())
    GC.@preserve r @dj_check Lib.dj_objectref_info(r.ptr, i)
    x = i[]
    return (size = x.size < 0 ? missing : Int(x.size), isdir = x.is_dir != 0,
            item_count = x.item_count < 0 ? missing : Int(x.item_count))
end

"Total bytes of the object (a folder's files summed), `missing` when unknown; no I/O."
Base.size(r::ObjectRef) = info(r).size
Base.filesize(r::ObjectRef) = info(r).size

"Whether the object is a folder; no I/O."
Base.isdir(r::ObjectRef) = info(r).isdir

"Number of files of a folder, `missing` when not recorded; no I/O."
item_count(r::ObjectRef) = info(r).item_count

"""
    files(ref) -> Vector{@NamedTuple{path::String, size::Int}}

The files of a folder (paths relative to it, sorted, with sizes; one listing request), or of
a file (one entry with path `""`). Destructure as `for (p, n) in files(ref)`.
"""
function files(r::ObjectRef)
    out = Ref{Ptr{Lib.dj_filelist}}(C_NULL)
    GC.@preserve r @dj_check Lib.dj_objectref_files(r.ptr, out)
    l = out[]
    try
        n = Int(Lib.dj_filelist_len(l))
        v = Vector{@NamedTuple{path::String, size::Int}}(undef, n)
        for i in 1:n
            p = Lib.dj_filelist_name(l, i - 1)
            v[i] = (path = p == C_NULL ? "" : unsafe_string(p), size = Int(Lib.dj_filelist_size(l, i - 1)))
        end
        return v
    finally
        Lib.dj_filelist_free(l)
    end
end

"""
    exists(ref, subpath = "") -> Bool

Whether the object (or the file `subpath` of its folder) exists in the store.
"""
function exists(r::ObjectRef, subpath::AbstractString="")
    e = Ref{UInt8}(0)
    GC.@preserve r @dj_check Lib.dj_objectref_exists(r.ptr, _cstr(subpath, "subpath"), e)
    return e[] != 0
end

"""
    read(ref::ObjectRef, subpath = ""; offset = 0, len = nothing) -> Vector{UInt8}
    read(ref::ObjectRef, String) -> String

The bytes of the file (or of the file `subpath` of a folder) from `offset`: all of them
(`len = nothing`: a sequential read), or up to `len` (one ranged read; fewer at the end).
"""
function Base.read(r::ObjectRef, subpath::AbstractString=""; offset::Integer=0,
                   len::Union{Integer,Nothing}=nothing)
    offset >= 0 || throw(_invalid_arg("offset $offset is negative"))
    sub = _cstr(subpath, "subpath")
    if len === nothing
        rd = open(r, sub; offset=offset)
        try
            return read(rd)
        finally
            close(rd)
        end
    end
    len >= 0 || throw(_invalid_arg("len $len is negative"))
    n = Int(len)
    if isempty(sub)
        # a file's recorded size bounds the buffer (no I/O)
        i = info(r)
        if !i.isdir && !ismissing(i.size)
            offset >= i.size && return UInt8[]
            n = min(n, i.size - Int(offset))
        end
    end
    buf = Vector{UInt8}(undef, n)
    got = Ref{Csize_t}(0)
    GC.@preserve r buf @dj_check Lib.dj_objectref_read(r.ptr, sub, UInt64(offset), buf, n, got)
    return resize!(buf, Int(got[]))
end

Base.read(r::ObjectRef, ::Type{String}) = String(read(r))

"""
    download(ref::ObjectRef, dest) -> Int

Copy the file, or the folder with all its files, to the local path `dest`; returns the number
of bytes copied.
"""
function Base.download(r::ObjectRef, dest::AbstractString)
    n = Ref{UInt64}(0)
    GC.@preserve r @dj_check Lib.dj_objectref_download(r.ptr, _cstr(dest, "dest"), n)
    return Int(n[])
end

"""
    localpath(ref) -> Union{String,Nothing}

For a local (`file`) store: the object's own file or folder on disk (open it with HDF5, Zarr,
numpy, …; do not modify it). `nothing` for other stores.
"""
function localpath(r::ObjectRef)
    p = Ref{Ptr{UInt8}}(C_NULL)
    s = GC.@preserve r begin
        @dj_check Lib.dj_objectref_local_path(r.ptr, p)
        p[] == C_NULL ? nothing : unsafe_string(p[])   # valid until the ref is freed: copied
    end
    return s
end

function Base.show(io::IO, r::ObjectRef)
    if r.ptr == C_NULL
        print(io, "DataJoint.ObjectRef(closed)")
    else
        desc = try
            i = info(r)
            string(repr(path(r)), ", store ", repr(store(r)), i.isdir ? ", folder" : "",
                   ismissing(i.size) ? "" : ", $(i.size) bytes")
        catch
            "?"
        end
        print(io, "DataJoint.ObjectRef(", desc, ")")
    end
end

# ------------------------------------------------------------------------------------ ObjectReader

const _READ_BUFFER = 64 * 1024        # bytes buffered for small reads
const _READ_CHUNK = 8 * 1024 * 1024   # readavailable / growing reads without a known size

"""
    ObjectReader <: IO

A sequential reader of one stored file, from `open(ref, subpath = ""; offset = 0)` (cloud
stores: ranged reads of 8 MiB). Supports `read`, `read!`, `readbytes!`, `readavailable`,
`eof`, `position`, `seek`, `skip`, `filesize`, `close`, and everything built on them
(`readline`, `read(io, String)`, `write(dest, io)`, …). Large reads go straight into the
destination buffer; only small ones (a byte, a line) use a 64 KiB buffer. `eof` needs no I/O
while the position is below the file size.
"""
mutable struct ObjectReader <: IO
    ptr::Ptr{Lib.dj_reader}
    parent::ObjectRef
    subpath::String
    size::Int             # size of the file
    libpos::Int           # file offset of the library reader
    buf::Vector{UInt8}
    bufpos::Int           # next byte of buf
    buflen::Int           # bytes of buf filled
    ateof::Bool           # the library read less than asked
    function ObjectReader(ptr::Ptr{Lib.dj_reader}, parent::ObjectRef, subpath::String, offset::Int)
        size = Int(Lib.dj_reader_size(ptr))
        return finalizer(_free!, new(ptr, parent, subpath, size, offset, UInt8[], 1, 0, false))
    end
end

_free!(io::ObjectReader) = _release_handle!(io, Lib.dj_reader_free)

function Base.close(io::ObjectReader)
    _free!(io)
    _drop_buffer!(io)
    io.buf = UInt8[]
    return nothing
end
Base.isopen(io::ObjectReader) = io.ptr != C_NULL
Base.isreadable(io::ObjectReader) = isopen(io)
Base.iswritable(::ObjectReader) = false
Base.filesize(io::ObjectReader) = io.size
Base.bytesavailable(io::ObjectReader) = io.buflen - io.bufpos + 1
Base.position(io::ObjectReader) = io.libpos - bytesavailable(io)

"""
    open(ref::ObjectRef, subpath = ""; offset = 0) -> ObjectReader
    open(f, ref::ObjectRef, subpath = ""; offset = 0)

A sequential reader of the file (or of the file `subpath` of a folder) from `offset`. The
do-block form closes it when `f` returns.
"""
function Base.open(r::ObjectRef, subpath::AbstractString=""; offset::Integer=0)
    offset >= 0 || throw(_invalid_arg("offset $offset is negative"))
    sub = _cstr(subpath, "subpath")
    out = Ref{Ptr{Lib.dj_reader}}(C_NULL)
    GC.@preserve r @dj_check Lib.dj_objectref_open(r.ptr, sub, UInt64(offset), out)
    return ObjectReader(out[], r, sub, Int(offset))
end

# Read up to n bytes from the library into p; returns the count (less than n: the end).
function _raw_read!(io::ObjectReader, p::Ptr{UInt8}, n::Int)
    n <= 0 && return 0
    got = Ref{Csize_t}(0)
    GC.@preserve io @dj_check Lib.dj_reader_read(io.ptr, p, n, got)
    k = Int(got[])
    io.libpos += k
    k < n && (io.ateof = true)
    return k
end

# Bytes left in the file according to its size (what the library can still deliver).
_left(io::ObjectReader) = io.ateof ? 0 : max(io.size - io.libpos, 0)

# Forget the buffered range (before reading past it directly).
function _drop_buffer!(io::ObjectReader)
    io.bufpos = 1
    io.buflen = 0
    return nothing
end

function _check_reader(io::ObjectReader)
    io.ptr == C_NULL && throw(DataJointError(Lib.DJ_E_INVALID_HANDLE, "the ObjectReader is closed"))
    return nothing
end

function _refill!(io::ObjectReader)
    _check_reader(io)
    isempty(io.buf) && resize!(io.buf, _READ_BUFFER)
    _drop_buffer!(io)
    io.buflen = GC.@preserve io _raw_read!(io, pointer(io.buf), min(length(io.buf), _left(io)))
    return io.buflen
end

function Base.eof(io::ObjectReader)
    _check_reader(io)
    bytesavailable(io) > 0 && return false
    _left(io) == 0 && return true      # no I/O at the end of the file
    return _refill!(io) == 0
end

function Base.read(io::ObjectReader, ::Type{UInt8})
    bytesavailable(io) == 0 && eof(io) && throw(EOFError())
    b = @inbounds io.buf[io.bufpos]
    io.bufpos += 1
    return b
end

# Copy up to n buffered bytes to p; returns the count.
function _take_buffered!(io::ObjectReader, p::Ptr{UInt8}, n::Int)
    k = min(n, bytesavailable(io))
    if k > 0
        GC.@preserve io unsafe_copyto!(p, pointer(io.buf, io.bufpos), k)
        io.bufpos += k
    end
    return k
end

# Up to n bytes into p: buffered bytes, then large reads directly, small ones through the buffer.
function _read_into!(io::ObjectReader, p::Ptr{UInt8}, n::Int)
    k = _take_buffered!(io, p, n)
    while k < n && _left(io) > 0
        want = n - k
        if want >= _READ_BUFFER
            _check_reader(io)
            _drop_buffer!(io)   # empty by now; its range is left behind
            got = _raw_read!(io, p + k, min(want, _left(io)))
            got == 0 && break
            k += got
        else
            _refill!(io) == 0 && break
            k += _take_buffered!(io, p + k, want)
        end
    end
    return k
end

function Base.unsafe_read(io::ObjectReader, p::Ptr{UInt8}, n::UInt)
    nb = Int(n)
    _read_into!(io, p, nb) == nb || throw(EOFError())
    return nothing
end

function Base.readbytes!(io::ObjectReader, b::AbstractVector{UInt8}, nb::Integer=length(b))
    nb >= 0 || throw(_invalid_arg("nb $nb is negative"))
    _check_reader(io)
    if !(b isa Vector{UInt8})
        tmp = read(io, min(Int(nb), length(b)))
        copyto!(b, firstindex(b), tmp, 1, length(tmp))
        return length(tmp)
    end
    want = min(Int(nb), bytesavailable(io) + _left(io))   # the file's size bounds the growth
    want > length(b) && resize!(b, want)
    n = GC.@preserve b _read_into!(io, pointer(b), want)
    return n
end

"The rest of the file (one allocation of its remaining size)."
function Base.read(io::ObjectReader)
    _check_reader(io)
    b = Vector{UInt8}(undef, bytesavailable(io) + _left(io))
    n = GC.@preserve b _read_into!(io, pointer(b), length(b))
    return resize!(b, n)
end

function Base.readavailable(io::ObjectReader)
    _check_reader(io)
    avail = bytesavailable(io)
    if avail > 0
        b = io.buf[io.bufpos:io.buflen]
        io.bufpos = io.buflen + 1
        return b
    end
    _drop_buffer!(io)
    b = Vector{UInt8}(undef, min(_left(io), _READ_CHUNK))
    n = GC.@preserve b _raw_read!(io, pointer(b), length(b))
    return resize!(b, n)
end

"""
    seek(io::ObjectReader, pos)

Continue reading at file offset `pos` (a new reader is opened there; buffered bytes are used
when `pos` falls inside them).
"""
function Base.seek(io::ObjectReader, pos::Integer)
    _check_reader(io)
    pos >= 0 || throw(_invalid_arg("position $pos is negative"))
    start = io.libpos - io.buflen          # file offset of buf[1]
    if io.buflen > 0 && start <= pos <= io.libpos
        io.bufpos = Int(pos) - start + 1
        return io
    end
    r = io.parent
    out = Ref{Ptr{Lib.dj_reader}}(C_NULL)
    GC.@preserve r @dj_check Lib.dj_objectref_open(r.ptr, io.subpath, UInt64(pos), out)
    _free!(io)
    io.ptr = out[]
    io.libpos = Int(pos)
    io.bufpos, io.buflen, io.ateof = 1, 0, false
    return io
end

Base.skip(io::ObjectReader, n::Integer) = seek(io, position(io) + n)

Base.show(io::IO, r::ObjectReader) =
    print(io, "DataJoint.ObjectReader(", isopen(r) ? "$(position(r))/$(r.size)" : "closed", ")")

# ------------------------------------------------------------------------------------ staged inserts

# The progress callback of a staged insert: the user's function and the first exception it
# threw (rethrown by commit!). `user_data` of dj_staged_set_progress points to this box, which
# the StagedInsert roots (and every ObjectWriter roots the StagedInsert).
mutable struct _Progress
    f::Any
    error::Any
end

# Called by the library inside dj_writer_write / dj_staged_put on the calling thread; must not
# throw into C.
function _progress_trampoline(bytes::UInt64, data::Ptr{Cvoid})
    try
        p = unsafe_pointer_to_objref(data)::_Progress
        if p.error === nothing && p.f !== nothing
            try
                p.f(Int(bytes))
            catch e
                p.error = e
            end
        end
    catch
    end
    return nothing
end

"""
    StagedInsert

A staged insert of one row (`staged_insert1(table)`): set the primary key with `set!`, write
the `<object@>` fields straight into their store paths (`open` → [`ObjectWriter`](@ref),
`open_key`, `put!`, `localdir`), then `commit!`. `abort!` — or `close`, or the finalizer of
an unfinished insert — removes everything written. Prefer the do-block form
`staged_insert1(table) do st … end`.
"""
mutable struct StagedInsert
    ptr::Ptr{Lib.dj_staged}
    parent::Table
    progress::_Progress
    writers::Vector{Any}   # ObjectWriters opened from it (finished by commit!, abandoned by abort!)
    rows::Vector{Row}      # rows given to set! (their buffers stay borrowed until the end)
    finished::Bool
    function StagedInsert(ptr::Ptr{Lib.dj_staged}, parent::Table)
        return finalizer(_free!, new(ptr, parent, _Progress(nothing, nothing), Any[], Row[], false))
    end
end

"""
    ObjectWriter <: IO

A stream writing one new object of a staged insert (`open(st, field; ext)`,
`open_key(st, field, key)`): `write` bytes, arrays, strings (anything `write` accepts), then
`close(w)` to finish the object (`position(w)`: bytes written). Small writes are gathered in a
64 KiB buffer; large ones go to the library directly. A writer left open is finished by
`commit!`; `abort!` abandons it.
"""
mutable struct ObjectWriter <: IO
    ptr::Ptr{Lib.dj_writer}
    parent::StagedInsert
    buf::Vector{UInt8}
    nbuf::Int
    written::Int       # bytes accepted (buffered included)
    size::Int          # the object's size once closed (-1 before)
    function ObjectWriter(ptr::Ptr{Lib.dj_writer}, parent::StagedInsert)
        return finalizer(_free!, new(ptr, parent, UInt8[], 0, 0, -1))
    end
end

# Abandon (free) open writers first, then free the staged insert (which aborts if unfinished).
function _free!(st::StagedInsert)
    for w in st.writers
        _free!(w)
    end
    empty!(st.writers)
    _release_handle!(st, Lib.dj_staged_free)
    foreach(_free!, st.rows)
    empty!(st.rows)
    return nothing
end

Base.close(st::StagedInsert) = _free!(st)
Base.isopen(st::StagedInsert) = st.ptr != C_NULL && !st.finished

_free!(w::ObjectWriter) = _release_handle!(w, Lib.dj_writer_free)
Base.isopen(w::ObjectWriter) = w.ptr != C_NULL
Base.iswritable(w::ObjectWriter) = isopen(w)
Base.isreadable(::ObjectWriter) = false
Base.position(w::ObjectWriter) = w.written

"""
    staged_insert1(table) -> StagedInsert
    staged_insert1(f, table)

Begin a staged insert of one row into `table`. The do-block form calls `f(st)`, commits when
`f` returns (closing any writer still open) and returns `f`'s value; if `f` throws, or the
commit fails, everything written is removed and the exception is rethrown.

```julia
staged_insert1(rec) do st
    set!(st, (rec_id = 1,))
    open(st, "data"; ext = ".raw") do w
        for frame in frames
            write(w, frame)
        end
    end
end
```
"""
function staged_insert1(t::Table)
    out = Ref{Ptr{Lib.dj_staged}}(C_NULL)
    GC.@preserve t @dj_check Lib.dj_staged_begin(t.ptr, out)
    return StagedInsert(out[], t)
end

function staged_insert1(f::Function, t::Table)
    st = staged_insert1(t)
    try
        result = f(st)
        commit!(st)
        return result
    catch
        try
            abort!(st)
        catch
        end
        rethrow()
    finally
        close(st)
    end
end

function _check_staged(st::StagedInsert)
    st.ptr == C_NULL && throw(DataJointError(Lib.DJ_E_INVALID_HANDLE, "the staged insert is closed"))
    st.finished && throw(_invalid_arg("the staged insert is already committed or aborted"))
    return nothing
end

"""
    set!(st, values::Union{NamedTuple,AbstractDict}) -> st

Set attributes of the staged row: the primary key first (before any field is written), other
attributes too (values as for `insert1!`).
"""
function set!(st::StagedInsert, values::Union{NamedTuple,AbstractDict})
    _check_staged(st)
    t = st.parent
    row = _build_row(values, _npy_attributes(t), _blob_attributes(t))
    push!(st.rows, row)
    GC.@preserve st row @dj_check Lib.dj_staged_set(st.ptr, row.ptr)
    return st
end

function _add_writer!(st::StagedInsert, p::Ptr{Lib.dj_writer})
    w = ObjectWriter(p, st)
    length(st.writers) >= 64 && filter!(isopen, st.writers)
    push!(st.writers, w)
    return w
end

"""
    open(st::StagedInsert, field; ext = "") -> ObjectWriter
    open(f, st::StagedInsert, field; ext = "")

A stream for the `<object@>` attribute `field` as one file `{field}_{token}{ext}`. The
do-block form closes (finishes) the writer when `f` returns, and abandons it when `f` throws.
"""
function Base.open(st::StagedInsert, field::Union{AbstractString,Symbol}; ext::AbstractString="")
    _check_staged(st)
    out = Ref{Ptr{Lib.dj_writer}}(C_NULL)
    GC.@preserve st @dj_check Lib.dj_staged_open(st.ptr, _cstr(field, "field"), _cstr(ext, "ext"), out)
    return _add_writer!(st, out[])
end

function Base.open(f::Function, st::StagedInsert, field::Union{AbstractString,Symbol}; ext::AbstractString="")
    return _with_writer(f, open(st, field; ext=ext))
end

"""
    open_key(st, field, key) -> ObjectWriter
    open_key(f, st, field, key)

A stream for the file `key` (a relative path such as `"c/0/0"`) of the folder of the
`<object@>` attribute `field`.
"""
function open_key(st::StagedInsert, field::Union{AbstractString,Symbol}, key::AbstractString)
    _check_staged(st)
    out = Ref{Ptr{Lib.dj_writer}}(C_NULL)
    GC.@preserve st @dj_check Lib.dj_staged_open_key(st.ptr, _cstr(field, "field"), _cstr(key, "key"), out)
    return _add_writer!(st, out[])
end

open_key(f::Function, st::StagedInsert, field::Union{AbstractString,Symbol}, key::AbstractString) =
    _with_writer(f, open_key(st, field, key))

function _with_writer(f, w::ObjectWriter)
    ok = false
    try
        r = f(w)
        ok = true
        return r
    finally
        ok ? close(w) : _free!(w)
    end
end

"""
    put!(st, field, key, data) -> st

Write the file `key` of the folder of `field` in one piece (`data`: bytes or a string), e.g. a
Zarr store's `.zarray` and chunks.
"""
function Base.put!(st::StagedInsert, field::Union{AbstractString,Symbol}, key::AbstractString,
                   data::Union{AbstractVector{UInt8},AbstractString})
    _check_staged(st)
    b = data isa AbstractString ? String(data) : _dense(data)
    GC.@preserve st b @dj_check Lib.dj_staged_put(st.ptr, _cstr(field, "field"), _cstr(key, "key"), pointer(b), sizeof(b))
    return st
end

"""
    localdir(st, field) -> String

For a local (`file`) store: the folder of `field` on disk (created), for libraries that write
files themselves (HDF5, Zarr, TIFF writers); its files are measured at the commit.
`DataJointError` `Unsupported` for other stores.
"""
function localdir(st::StagedInsert, field::Union{AbstractString,Symbol})
    _check_staged(st)
    p = Ref{Ptr{UInt8}}(C_NULL)
    s = GC.@preserve st begin
        @dj_check Lib.dj_staged_local_dir(st.ptr, _cstr(field, "field"), p)
        unsafe_string(p[])
    end
    return s
end

"""
    on_progress(st, f)
    on_progress(f, st)

Call `f(bytes::Int)` with the total bytes written by this staged insert after each write (on
the writing task, during `write`/`put!`; `f = nothing` removes it). `f` must not use `st` or
its writers, and should be quick (update a counter or a progress bar). An exception `f`
throws stops further calls and is rethrown by `commit!` (which then aborts).
"""
function on_progress(st::StagedInsert, f)
    _check_staged(st)
    st.progress.f = f
    if f === nothing
        GC.@preserve st @dj_check Lib.dj_staged_set_progress(st.ptr, C_NULL, C_NULL)
    else
        cb = @cfunction(_progress_trampoline, Cvoid, (UInt64, Ptr{Cvoid}))
        box = st.progress
        GC.@preserve st box @dj_check Lib.dj_staged_set_progress(st.ptr, cb, pointer_from_objref(box))
    end
    return st
end

on_progress(f::Function, st::StagedInsert) = on_progress(st, f)

"Total bytes written so far by the staged insert (0 once it is finished)."
function bytes_written(st::StagedInsert)
    n = GC.@preserve st @dj_value Lib.dj_staged_bytes_written(st.ptr)
    return Int(n)
end

"""
    commit!(st)

Finish the writers still open, measure every field from the store and insert the row. On any
failure (a duplicate key, an exception of the progress callback, …) everything written is
removed and the error is thrown. Either way the staged insert is finished.
"""
function commit!(st::StagedInsert)
    _check_staged(st)
    try
        for w in st.writers
            isopen(w) && close(w)
        end
    catch
        abort!(st)
        rethrow()
    end
    err = st.progress.error
    if err !== nothing
        abort!(st)
        throw(err)
    end
    try
        GC.@preserve st @dj_check Lib.dj_staged_commit(st.ptr)
    finally
        st.finished = true
        empty!(st.writers)
    end
    return nothing
end

"""
    abort!(st)

Remove everything the staged insert wrote (open writers are abandoned) and finish it. A no-op
once finished or closed.
"""
function abort!(st::StagedInsert)
    st.ptr == C_NULL && return nothing
    for w in st.writers
        _free!(w)
    end
    empty!(st.writers)
    was = st.finished
    st.finished = true
    was || GC.@preserve st @dj_check Lib.dj_staged_abort(st.ptr)
    return nothing
end

Base.show(io::IO, st::StagedInsert) =
    print(io, "DataJoint.StagedInsert(", st.ptr == C_NULL ? "closed" : st.finished ? "finished" : "open", ")")

# ------------------------------------------------------------------------------------ ObjectWriter

const _WRITE_BUFFER = 64 * 1024

function _check_writer(w::ObjectWriter)
    w.ptr == C_NULL && throw(DataJointError(Lib.DJ_E_INVALID_HANDLE, "the ObjectWriter is closed"))
    return nothing
end

function _write_raw(w::ObjectWriter, p::Ptr{UInt8}, n::Int)
    n > 0 && GC.@preserve w @dj_check Lib.dj_writer_write(w.ptr, p, n)
    return nothing
end

# Hand the buffered bytes to the library.
function Base.flush(w::ObjectWriter)
    _check_writer(w)
    if w.nbuf > 0
        n = w.nbuf
        w.nbuf = 0
        GC.@preserve w _write_raw(w, pointer(w.buf), n)
    end
    return nothing
end

function Base.unsafe_write(w::ObjectWriter, p::Ptr{UInt8}, n::UInt)
    _check_writer(w)
    nb = Int(n)
    if nb >= _WRITE_BUFFER
        flush(w)
        _write_raw(w, p, nb)
    else
        w.nbuf + nb > _WRITE_BUFFER && flush(w)
        isempty(w.buf) && resize!(w.buf, _WRITE_BUFFER)
        GC.@preserve w unsafe_copyto!(pointer(w.buf, w.nbuf + 1), p, nb)
        w.nbuf += nb
    end
    w.written += nb
    return nb
end

function Base.write(w::ObjectWriter, x::UInt8)
    _check_writer(w)
    w.nbuf == _WRITE_BUFFER && flush(w)
    isempty(w.buf) && resize!(w.buf, _WRITE_BUFFER)
    @inbounds w.buf[w.nbuf + 1] = x
    w.nbuf += 1
    w.written += 1
    return 1
end

"""
    close(w::ObjectWriter)

Write the buffered bytes and finish the object (completes a multipart upload); the size is
then `position(w)`. Idempotent. If it fails the writer is abandoned.
"""
function Base.close(w::ObjectWriter)
    w.ptr == C_NULL && return nothing
    try
        flush(w)
        n = Ref{UInt64}(0)
        GC.@preserve w @dj_check Lib.dj_writer_close(w.ptr, n)
        w.size = Int(n[])
    finally
        _free!(w)
        w.buf = UInt8[]
    end
    return nothing
end

Base.show(io::IO, w::ObjectWriter) =
    print(io, "DataJoint.ObjectWriter(", isopen(w) ? "open" : "closed", ", ", w.written, " bytes)")

# ------------------------------------------------------------------------------------ gc

"""
    gc(schema; dry_run = false, store = nothing, grace = 3600.0) -> NamedTuple

Remove the stored objects no row of the schema references (orphans of crashed writers, failed
inserts and DataJoint Python's deletes) in every store the schema uses (or `store`), keeping
anything modified less than `grace` seconds ago; `dry_run` only counts. Returns
`(hash_objects, schema_objects, references, orphaned_hash, orphaned_schema, orphaned_bytes,
young, deleted, bytes_freed, requests, dry_run)`.
"""
function gc(s::Schema; dry_run::Bool=false, store::Union{AbstractString,Nothing}=nothing, grace::Real=3600.0)
    base = Ref(Lib.dj_gc_opts())
    @dj_check Lib.dj_gc_opts_init(base)
    st = store === nothing ? nothing : _cstr(store, "store")
    stats = Ref(Lib.dj_gc_stats())
    GC.@preserve s st begin
        o = base[]
        opts = Ref(Lib.dj_gc_opts(o.struct_size, UInt8(dry_run),
                                  st === nothing ? Ptr{UInt8}(C_NULL) : pointer(st), Float64(grace)))
        @dj_check Lib.dj_schema_gc(s.ptr, opts, stats)
    end
    x = stats[]
    return (hash_objects = Int(x.hash_objects), schema_objects = Int(x.schema_objects),
            references = Int(x.references), orphaned_hash = Int(x.orphaned_hash),
            orphaned_schema = Int(x.orphaned_schema), orphaned_bytes = Int(x.orphaned_bytes),
            young = Int(x.young), deleted = Int(x.deleted), bytes_freed = Int(x.bytes_freed),
            requests = Int(x.requests), dry_run = x.dry_run != 0)
end

# ------------------------------------------------------------------------------------ inserting bytes

"""
    ObjectBytes(ext, data)

Bytes for an `<object@>` attribute, stored as one file with extension `ext` (`".bin"`; `""`
for none): `insert1!(t, (id = 1, data = ObjectBytes(".bin", bytes)))`. The pair
`".bin" => bytes` means the same. (Plain bytes store a file without extension; a string is a
local file or folder path.) Row path only.
"""
struct ObjectBytes
    ext::String
    data::Vector{UInt8}
end
ObjectBytes(ext::AbstractString, data::AbstractVector{UInt8}) = ObjectBytes(String(ext), _dense(data))
ObjectBytes(ext::AbstractString, data::AbstractString) = ObjectBytes(String(ext), Vector{UInt8}(codeunits(data)))

Base.show(io::IO, b::ObjectBytes) = print(io, "DataJoint.ObjectBytes(", repr(b.ext), ", ", length(b.data), " bytes)")

function _set_value!(row::Row, name::String, v::ObjectBytes, ::Bool)
    e = _cstr(v.ext, "extension")
    d = v.data
    GC.@preserve row d @dj_check Lib.dj_row_set_object_bytes(row.ptr, name, e, d, length(d))
end

_set_value!(row::Row, name::String, v::Pair{<:AbstractString,<:AbstractVector{UInt8}}, isnpy::Bool) =
    _set_value!(row, name, ObjectBytes(v.first, v.second), isnpy)
