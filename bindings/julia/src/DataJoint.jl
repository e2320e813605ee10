"""
    DataJoint

Julia binding of libdatajoint (the Rust core behind `include/datajoint.h`).

```julia
using DataJoint

DataJoint.duckdb("lab.duckdb") do conn
    lab = schema(conn, "lab")
    subject = declare(lab, "Subject", :manual, \"\"\"
        subject_id : int32
        ---
        name : varchar(64)
    \"\"\")
    insert!(subject, [(subject_id = 1, name = "Ada"), (subject_id = 2, name = "Bo")])
    fetch(restrict(subject, "subject_id > 1"))   # (subject_id = Int32[2], name = ["Bo"])
    fetch(subject & "subject_id > 1")            # the same
end
```

The query algebra (`query.jl`): `a * b` (join), `a & x` / `a - x` (restriction and exclusion
by SQL, keys, or another query: semijoin / antijoin), `a + b` (union), [`proj`](@ref),
[`aggr`](@ref), [`U`](@ref), [`top`](@ref); queries are fetched like tables (`fetch`,
`fetch1`, `keys`, `count`, `for row in q`). Cascading `delete!(t; part_integrity, dry_run)`
returns a [`DeleteReport`](@ref); [`update1!`](@ref) changes one row; [`arrow_export`](@ref)
exports a result through the Arrow C Data Interface.

Autopopulate (`populate.jl`): `populate!(table) do t, key ... end` calls a `make` function for
each key of a computed or imported table's [`key_source`](@ref), each in its own transaction,
optionally coordinated with other workers through the jobs table ([`jobs`](@ref),
[`refresh_jobs!`](@ref), [`job_counts`](@ref), [`ignore_job!`](@ref)); [`progress`](@ref).

Handles (`Connection`, `Schema`, `Table`, `Query`, `Result`, `NpyRef`, `ArrayView`, `ObjectRef`,
`ObjectReader`, `StagedInsert`, `ObjectWriter`) are freed by finalizers,
but `close(x)` (or a do-block form) releases them at once: do that for connections, whose
database files and sockets would otherwise stay open until the garbage collector runs.

Errors are thrown as [`DataJointError`](@ref) with the library's `dj_status` code.

The low-level `ccall` layer is the submodule `DataJoint.LibDataJoint`.
"""
module DataJoint

using Dates
import Mmap
using UUIDs
using Preferences

include("LibDataJoint.jl")

"Short alias of the low-level module inside this package."
const Lib = LibDataJoint

export DataJointError, Connection, Schema, Table, Result, NpyRef, ArrayView, NpyArray,
       schema, declare, declare_part, table, tables, restrict, exclude, insert1!, fetch1,
       npyref, isloaded, drop!, to_dj_value, from_dj_value, pack_blob, unpack_blob, blob_value,
       ObjectRef, ObjectReader, ObjectBytes, StagedInsert, ObjectWriter, objectref,
       staged_insert1, set!, commit!, abort!, on_progress, localdir, localpath, gc,
       Query, U, proj, aggr, top, update1!, DeleteReport, arrow_export, arrow_release!,
       populate!, PopulateReport, progress, key_source, with_key_source, jobs, refresh_jobs!,
       job_counts, ignore_job!

include("errors.jl")
include("values.jl")
include("handles.jl")
include("arrays.jl")
include("blob.jl")
include("rows.jl")
include("insert.jl")
include("fetch.jl")
include("query.jl")
include("arrow.jl")
include("npy.jl")
include("objects.jl")
include("populate.jl")

"""
    set_library!(path)

Store `path` as the `"libdatajoint"` preference (in `LocalPreferences.toml` of the active
project). It takes effect after Julia restarts, when the package is precompiled again.
`DataJoint.set_library!(nothing)` removes the preference.
"""
function set_library!(path::Union{AbstractString,Nothing})
    if path === nothing
        @delete_preferences!("libdatajoint")
    else
        @set_preferences!("libdatajoint" => String(path))
    end
    @info "DataJoint: the library preference is saved; restart Julia to use it."
    return nothing
end

"The path or name of the shared library the package calls (fixed at precompile time)."
library_path() = Lib.libdatajoint

"Runtime ABI version of the loaded library: `(major << 16) | minor`."
abi_version() = Lib.dj_abi_version()

"Library version string, e.g. `\"0.1.0\"`."
version() = unsafe_string(Lib.dj_version_string())

end # module DataJoint
