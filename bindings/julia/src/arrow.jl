# Results through the Arrow C Data Interface (dj_result_export_arrow, ABI 0.5).
#
# The library fills two structs allocated here (`Ref`s of the `LibDataJoint.ArrowSchema` and
# `LibDataJoint.ArrowArray` mirrors). Whoever consumes them calls each struct's `release`
# callback once; an importer that moves the structs marks the originals released (`release`
# NULL). The finalizers registered here release what is still unreleased when the Refs are
# collected, so an export that is never consumed does not keep the result's buffers forever.

"""
    arrow_export(result::Result) -> (schema, array)

Export a result through the [Arrow C Data Interface](https://arrow.apache.org/docs/format/CDataInterface.html)
as one struct array (a record batch): `schema::Ref{LibDataJoint.ArrowSchema}` has the format
`"+s"` and one child per column, `array::Ref{LibDataJoint.ArrowArray}` the data. The columns
share the result's buffers (no copy, except the booleans and the validity bitmaps) and stay
valid after `close(result)`, until both structs are released.

Arrow types: integers, floats, `date32`, `timestamp[us]`, `large_utf8` (strings; decimals as
text; JSON with the extension `arrow.json`), `large_binary`, `fixed_size_binary(16)` (UUIDs,
extension `arrow.uuid`), `bool`. `<blob>` columns cannot be exported (`DataJointError`
`InvalidArgument`): leave them out with `fetch_result(q; attributes=...)`.

Hand the structs to an Arrow implementation by address, keeping the `Ref`s alive meanwhile:

```julia
schema, array = arrow_export(fetch_result(q))
GC.@preserve schema array begin
    ps = Base.unsafe_convert(Ptr{LibDataJoint.ArrowSchema}, schema)
    pa = Base.unsafe_convert(Ptr{LibDataJoint.ArrowArray}, array)
    # e.g. pyarrow through PythonCall: pa_mod.RecordBatch._import_from_c(UInt(pa), UInt(ps))
end
```

An importer that moves the structs (pyarrow's `_import_from_c`; the `Arrow.from_c_data` that
Arrow.jl has in review) marks them released, and it releases the data when it is done.
Otherwise call [`arrow_release!`](@ref) when you are done with the data. Either way, the `Ref`s'
finalizers release whatever is still unreleased, so a struct that a consumer reads in place must
stay reachable while the consumer uses it.
"""
function arrow_export(r::Result)
    schema = Ref(Lib.ArrowSchema())
    array = Ref(Lib.ArrowArray())
    GC.@preserve r @dj_check Lib.dj_result_export_arrow(r.ptr, schema, array)
    finalizer(arrow_release!, schema)
    finalizer(arrow_release!, array)
    return (schema, array)
end

"""
    arrow_release!(schema)
    arrow_release!(array)
    arrow_release!(schema, array)

Call the `release` callback of an exported Arrow struct unless it is released already (its
`release` is NULL: released, or moved by an importer). Idempotent.
"""
function arrow_release!(s::Base.RefValue{Lib.ArrowSchema})
    release = s[].release
    release == C_NULL && return nothing
    ccall(release, Cvoid, (Ref{Lib.ArrowSchema},), s)   # sets s[].release to NULL
    return nothing
end

function arrow_release!(a::Base.RefValue{Lib.ArrowArray})
    release = a[].release
    release == C_NULL && return nothing
    ccall(release, Cvoid, (Ref{Lib.ArrowArray},), a)    # sets a[].release to NULL
    return nothing
end

function arrow_release!(s::Base.RefValue{Lib.ArrowSchema}, a::Base.RefValue{Lib.ArrowArray})
    arrow_release!(a)
    arrow_release!(s)
    return nothing
end
