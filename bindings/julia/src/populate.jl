# Autopopulate (ABI 0.6): populate! with a `make` function, progress, the key source, and the
# jobs table `~~<table>` (refresh_jobs!, job_counts, ignore_job!). The library does the work
# (key source, reservations, one transaction per key, rollback of rows and objects); this file
# converts arguments and runs the Julia `make`.
#
# populate! hands dj_table_populate a `@cfunction` trampoline (_make_trampoline) whose
# user_data is a `_MakeCall` box that `GC.@preserve` roots for the whole call. The library calls
# it once per key, on the calling thread, inside the key's transaction. The trampoline gives
# `make` a Table (dj_table_clone of the borrowed handle, closed when `make` returns) and the
# key as a NamedTuple (dj_result_clone of the borrowed one-row result, converted as fetch1
# does), and catches every exception: it calls dj_make_fail(ctx, "Type: message", stack trace)
# and returns 1, so the library rolls the key back. Nothing unwinds through the C frames.
#
# dj_table_populate runs Julia code (every `make`) for as long as the populate lasts, so it is
# not wrapped in @dj_check, which would keep finalizers off on this thread all that time (the
# handles `make` drops could not be freed until the end); _error_after reads the last error
# right after the call instead.

"""
    PopulateReport

What [`populate!`](@ref) did: `success_count` (keys whose `make` committed), `skipped` (keys
reserved by another worker, or already in the table) and `errors`, one `(key, message)`
NamedTuple per key whose `make` failed (with `suppress_errors = true`): `key` is the key as a
NamedTuple as `make` got it (`missing` if it has left the key source since), `message` the
recorded message (`"ExceptionType: message"`).
"""
struct PopulateReport
    success_count::Int
    skipped::Int
    errors::Vector{NamedTuple{(:key, :message),Tuple{Union{NamedTuple,Missing},String}}}
end

function Base.show(io::IO, r::PopulateReport)
    print(io, "DataJoint.PopulateReport(success_count = ", r.success_count, ", skipped = ", r.skipped,
          ", errors = ", length(r.errors), ")")
end

# The functions of this file need ABI 0.6; an older library (same major, accepted at load)
# would fail with a missing symbol.
function _require_abi(minor::Integer, what::AbstractString)
    have = Int(Lib.dj_abi_version() & 0xffff)
    have >= minor && return nothing
    throw(DataJointError(Lib.DJ_E_UNSUPPORTED,
                         "$what needs libdatajoint ABI 0.$minor or later; the loaded library has ABI 0.$have"))
end

const _ORDERS = Dict(:original => Lib.DJ_ORDER_ORIGINAL, :reverse => Lib.DJ_ORDER_REVERSE,
                     :random => Lib.DJ_ORDER_RANDOM)

function _order(o::Symbol)
    code = get(_ORDERS, o, nothing)
    code === nothing && throw(_invalid_arg("order $(repr(o)) is not one of :original, :reverse, :random"))
    return code
end

function _nonnegative(x::Union{Integer,Nothing}, what::AbstractString)
    x === nothing && return Int64(-1)
    x >= 0 || throw(_invalid_arg("$what $x is negative (nothing: $(what == "max_calls" ? "no limit" : "the default"))"))
    return Int64(x)
end

# ------------------------------------------------------------------------------------ restrictions

_restriction_items(::Nothing) = ()
_restriction_items(x::Tuple) = x
_restriction_items(x) = (x,)

"""
    _with_restrictions(f, restrictions)

`f(sql_ptrs, query_ptrs, key_ptrs, n_keys)` with the populate restrictions as the C arrays of
`dj_populate_opts` (kept alive during `f`, freed afterwards). `restrictions` is one item or a
`Tuple` of items, all of which must hold (AND): an SQL condition (`AbstractString`), a `Table`
or `Query` (keys matching a row of it), and at most one key item — a key (`NamedTuple` /
`AbstractDict`) or a vector of keys (any of them; an empty vector matches nothing).
`key_ptrs` is `nothing` without a key item.
"""
function _with_restrictions(f, restrictions)
    sql = String[]
    queries = Query[]
    temporary = Query[]        # the queries of Table items, freed afterwards
    keyrows = nothing
    try
        for r in _restriction_items(restrictions)
            if r isa AbstractString
                push!(sql, _cstr(r, "restriction"))
            elseif r isa Query
                push!(queries, r)
            elseif r isa Table
                q = Query(r)
                push!(temporary, q)
                push!(queries, q)
            elseif r isa Union{NamedTuple,AbstractDict,AbstractVector}
                keyrows === nothing ||
                    throw(_invalid_arg("populate: at most one key restriction (a key, or a vector of keys for any " *
                                       "of them); merge the keys into one"))
                keyrows = Row[]
                for k in (r isa AbstractVector ? r : (r,))
                    k isa Union{NamedTuple,AbstractDict} ||
                        throw(_invalid_arg("a vector restricts by keys (any of them), and a key is a NamedTuple " *
                                           "or an AbstractDict, not $(typeof(k)); pass restrictions that must " *
                                           "all hold as a Tuple"))
                    push!(keyrows, _build_row(k, nothing))
                end
            else
                throw(_invalid_arg("a populate restriction is an SQL string, a Table or Query, a key " *
                                   "(NamedTuple or Dict) or a vector of keys, not $(typeof(r))"))
            end
        end
        sptrs = Ptr{UInt8}[pointer(s) for s in sql]
        qptrs = Ptr{Lib.dj_query}[q.ptr for q in queries]
        nkeys = keyrows === nothing ? 0 : length(keyrows)
        # A key item with no keys matches nothing: it needs a non-NULL array of length 0.
        kptrs = keyrows === nothing ? nothing :
                isempty(keyrows) ? Ptr{Lib.dj_row}[C_NULL] : Ptr{Lib.dj_row}[k.ptr for k in keyrows]
        return GC.@preserve sql sptrs queries qptrs keyrows kptrs f(sptrs, qptrs, kptrs, nkeys)
    finally
        keyrows === nothing || foreach(close, keyrows)
        foreach(close, temporary)
    end
end

# A C array of pointers (NULL when empty).
_array_or_null(v::Vector{Ptr{T}}) where {T} = isempty(v) ? Ptr{Ptr{T}}(C_NULL) : pointer(v)

# A dj_populate_opts over the arrays of _with_restrictions (valid while they are).
function _populate_opts(sptrs, qptrs, kptrs, nkeys::Integer; reserve_jobs::Bool=false, suppress_errors::Bool=false,
                        max_calls=nothing, order::Symbol=:original, priority=nothing, refresh=nothing,
                        progress_fn::Ptr{Cvoid}=C_NULL, progress_data::Ptr{Cvoid}=C_NULL)
    base = Ref(Lib.dj_populate_opts())
    @dj_check Lib.dj_populate_opts_init(base)
    o = base[]
    return Lib.dj_populate_opts(o.struct_size,
                                _array_or_null(sptrs), length(sptrs),
                                _array_or_null(qptrs), length(qptrs),
                                kptrs === nothing ? Ptr{Ptr{Lib.dj_row}}(C_NULL) : pointer(kptrs), nkeys,
                                Int32(reserve_jobs), Int32(suppress_errors),
                                _nonnegative(max_calls, "max_calls"), _order(order),
                                _nonnegative(priority, "priority"),
                                refresh === nothing ? o.refresh : Int32(refresh),
                                progress_fn, progress_data)
end

# The error of a call made without @dj_check (see the top of this file): read at once, with
# finalizers off while the message is copied. No allocation or yield point comes between the
# call's return and this read, so no finalizer runs in between.
function _error_after(status::Int32)
    status == Lib.DJ_OK && return nothing
    GC.enable_finalizers(false)
    try
        return _last_error(status)
    finally
        GC.enable_finalizers(true)
    end
end

# ------------------------------------------------------------------------------------ make

"The state of one populate! that its `make` trampoline reaches through `user_data`."
mutable struct _MakeCall
    make::Any
    target::Table   # the populated table: the parent of the handles given to `make`
    interrupt::Any  # an InterruptException a `make` caught, rethrown when the populate returns
end

# Called by the library once per key (inside dj_table_populate, on this thread, in the key's
# transaction). Returns 0 to commit, 1 to roll back; never throws into C.
function _make_trampoline(data::Ptr{Cvoid}, table::Ptr{Lib.dj_table}, key::Ptr{Lib.dj_result},
                          ctx::Ptr{Lib.dj_make_ctx})
    rc = Int32(1)
    try
        rc = _run_make(unsafe_pointer_to_objref(data)::_MakeCall, table, key, ctx)
    catch
        # _run_make catches everything itself; nothing may unwind into the library.
    end
    return rc
end

function _run_make(call::_MakeCall, tptr::Ptr{Lib.dj_table}, kptr::Ptr{Lib.dj_result},
                   ctx::Ptr{Lib.dj_make_ctx})
    t = nothing
    r = nothing
    try
        tout = Ref{Ptr{Lib.dj_table}}(C_NULL)
        @dj_check Lib.dj_table_clone(tptr, tout)
        t = Table(tout[], call.target)
        t.heading = call.target.heading    # the same table: no need to read the heading again
        rout = Ref{Ptr{Lib.dj_result}}(C_NULL)
        @dj_check Lib.dj_result_clone(kptr, rout)
        r = Result(rout[], t)
        key = map(first, columns(r; exact_datetimes=true))   # exact: the key must match its rows
        close(r)
        call.make(t, key)
        return Int32(0)
    catch e
        e isa InterruptException && (call.interrupt = e)
        _make_fail(ctx, e, catch_backtrace())
        return Int32(1)
    finally
        r === nothing || close(r)
        t === nothing || close(t)   # valid during the call only, as the C handle it clones
    end
end

# "ExceptionType: message", like the reference's `ExceptionClass: message`.
function _exception_message(e)
    text = sprint(showerror, e)
    tname = string(nameof(typeof(e)))
    return startswith(text, tname) ? text : string(tname, ": ", text)
end

# The stack trace of a `make` failure, from the throw up to `make`'s caller (the trampoline's
# frames and those of the library are left out).
function _stack_text(bt)
    frames = stacktrace(bt)
    stop = findfirst(f -> f.func === :_run_make, frames)
    stop === nothing || (frames = frames[1:stop-1])
    io = IOBuffer()
    for (i, f) in enumerate(frames)
        print(io, " [", i, "] ", f, '\n')
    end
    return String(take!(io))
end

# Text for a `const char*`: a NUL would cut it short.
_c_text(s::AbstractString) = replace(String(s), '\0' => "\\0")

function _make_fail(ctx::Ptr{Lib.dj_make_ctx}, e, bt)
    msg = try
        _exception_message(e)
    catch
        string(nameof(typeof(e)), " (its message could not be shown)")
    end
    stack = try
        _stack_text(bt)
    catch
        ""
    end
    m = _c_text(msg)
    s = _c_text(stack)
    # The status is not checked: nothing more can be done about a failing dj_make_fail, and
    # the non-zero return alone already rolls the key back.
    GC.@preserve m s Lib.dj_make_fail(ctx, m, isempty(s) ? C_NULL : s)
    return nothing
end

# Called by the library after each key (dj_populate_progress_fn); the box is the `_Progress`
# of objects.jl: an exception of `f` is recorded, later calls are skipped.
function _populate_progress_trampoline(p::Ptr{Lib.dj_populate_progress}, data::Ptr{Cvoid})
    try
        box = unsafe_pointer_to_objref(data)::_Progress
        if box.error === nothing && box.f !== nothing
            s = unsafe_load(p)
            try
                box.f((done=Int(s.done), total=Int(s.total), succeeded=Int(s.succeeded), failed=Int(s.failed)))
            catch e
                box.error = e
            end
        end
    catch
    end
    return nothing
end

# ------------------------------------------------------------------------------------ populate!

"""
    populate!(make, table; restrictions = nothing, reserve_jobs = false, suppress_errors = false,
              max_calls = nothing, order = :original, priority = nothing, refresh = nothing,
              progress = nothing) -> PopulateReport

Populate a `:computed` or `:imported` table: call `make(table, key)` for every key of its key
source ([`key_source`](@ref)) that is not in the table yet. Usually written as a do-block:

```julia
populate!(analysis; reserve_jobs = true) do table, key
    r = fetch1(session & key)
    insert1!(table, merge(key, (score = sum(r.trace),)))
    insert!(part, [merge(key, (unit = u, rate = rates[u])) for u in eachindex(rates)])
end
```

`table` is the table to fill (a `Table`, valid during the call) and `key` the key as a
`NamedTuple` (as [`fetch1`](@ref) returns it, with `exact_datetimes = true`: a datetime key
attribute is a `DataJoint.DateTimeMicros`, so that the key matches its rows exactly;
`DateTime(x)` converts). Each call runs in its own transaction on the
table's connection: the rows it inserts into `table` and its part tables (and the objects they
store) commit together when `make` returns, and are rolled back when it throws. Inserting into
a computed or imported table anywhere else is refused (`DataJointError` `NotAllowed`) unless
`insert!(...; allow_direct_insert = true)`.

A `make` that throws stops the populate with `DataJointError` `MakeFailed`
(`DJ_E_MAKE_FAILED`), whose message names the key and gives `"ExceptionType: message"` of the
exception (keys made before stay made). With `suppress_errors = true` the failure is recorded
and the populate goes on; the report lists the failures.

Options:
- `restrictions`: restrict the key source — an SQL condition, a `Table` or `Query`, a key
  (`NamedTuple` / `Dict`), a vector of keys (any of them), or a `Tuple` of such items, all of
  which must hold (at most one key item);
- `reserve_jobs`: reserve each key in the jobs table [`jobs`](@ref) first, so that any number
  of workers (Julia, C++ or DataJoint Python processes) can populate the table at once;
  failures are recorded there with their stack trace;
- `max_calls`: make at most this many keys (`nothing`: all);
- `order`: `:original` (the key source's; with jobs: by priority, then scheduled time),
  `:reverse` or `:random` (spreads workers that start together);
- `priority` (with `reserve_jobs`): new jobs get this priority, and only jobs at least this
  urgent (a lower or equal number) are made; `nothing`: the default priority, every job;
- `refresh` (with `reserve_jobs`): refresh the jobs table first (`true`), not (`false`), or as
  the `jobs.auto_refresh` setting says (`nothing`, default yes);
- `progress`: a function called after each key with
  `(done = …, total = …, succeeded = …, failed = …)`. Keep it quick; an exception it throws
  is recorded (later calls are skipped) and rethrown when the populate returns.

`make` runs on the calling task, inside the library call; other tasks must not use the same
connection meanwhile (their statements would join `make`'s transaction). An
`InterruptException` (Ctrl-C) in `make` fails that key like any exception and is rethrown when
the library returns: at once without `suppress_errors`, after the remaining keys with it (the
C API has no way to stop a populate early). A `populate!` inside a `make` is refused
(`NotAllowed`).
"""
function populate!(make, t::Table; restrictions=nothing, reserve_jobs::Bool=false, suppress_errors::Bool=false,
                   max_calls::Union{Integer,Nothing}=nothing, order::Symbol=:original,
                   priority::Union{Integer,Nothing}=nothing, refresh::Union{Bool,Nothing}=nothing,
                   progress=nothing)
    _require_abi(6, "populate!")
    call = _MakeCall(make, t, nothing)
    box = _Progress(progress, nothing)
    mk = @cfunction(_make_trampoline, Int32, (Ptr{Cvoid}, Ptr{Lib.dj_table}, Ptr{Lib.dj_result}, Ptr{Lib.dj_make_ctx}))
    pcb = progress === nothing ? C_NULL :
          @cfunction(_populate_progress_trampoline, Cvoid, (Ptr{Lib.dj_populate_progress}, Ptr{Cvoid}))
    out = Ref{Ptr{Lib.dj_populate_report}}(C_NULL)
    err = _with_restrictions(restrictions) do sptrs, qptrs, kptrs, nkeys
        GC.@preserve t call box begin
            opts = Ref(_populate_opts(sptrs, qptrs, kptrs, nkeys; reserve_jobs, suppress_errors, max_calls, order,
                                      priority, refresh, progress_fn=pcb,
                                      progress_data=progress === nothing ? C_NULL : pointer_from_objref(box)))
            status = Lib.dj_table_populate(t.ptr, mk, pointer_from_objref(call), opts, out)
            _error_after(status)
        end
    end
    if err !== nothing
        # Ctrl-C in a make stopped the populate: stay an interrupt.
        call.interrupt !== nothing && err.code == Lib.DJ_E_MAKE_FAILED && throw(call.interrupt)
        throw(err)
    end
    report = _take_populate_report(t, out[])
    call.interrupt === nothing || throw(call.interrupt)
    box.error === nothing || throw(box.error)
    return report
end

# Copy a dj_populate_report, which is freed.
function _take_populate_report(t::Table, p::Ptr{Lib.dj_populate_report})
    p == C_NULL && return PopulateReport(0, 0, NamedTuple{(:key, :message),Tuple{Union{NamedTuple,Missing},String}}[])
    try
        made = Int(@dj_value Lib.dj_populate_report_success_count(p))
        skipped = Int(@dj_value Lib.dj_populate_report_skipped(p))
        n = Int(@dj_value Lib.dj_populate_report_error_count(p))
        errors = NamedTuple{(:key, :message),Tuple{Union{NamedTuple,Missing},String}}[]
        for i in 1:n
            msg = Ref{Ptr{UInt8}}(C_NULL)
            kout = Ref{Ptr{Lib.dj_result}}(C_NULL)
            @dj_check Lib.dj_populate_report_error(p, i - 1, msg, C_NULL, kout)
            message = _str_or_empty(msg[])   # valid as long as the report
            r = Result(kout[], t)
            key = try
                map(first, columns(r; exact_datetimes=true))   # as `make` got it
            finally
                close(r)
            end
            push!(errors, (key=key, message=message))
        end
        return PopulateReport(made, skipped, errors)
    finally
        Lib.dj_populate_report_free(p)
    end
end

# ------------------------------------------------------------------------------------ progress, key source

"""
    progress(table; restrictions = nothing) -> (remaining = …, total = …)

The keys of a computed or imported table's key source (restricted as for
[`populate!`](@ref)) that are not in the table yet, and all of them:
`remaining, total = progress(analysis)`.
"""
function progress(t::Table; restrictions=nothing)
    _require_abi(6, "progress")
    remaining = Ref{UInt64}(0)
    total = Ref{UInt64}(0)
    _with_restrictions(restrictions) do sptrs, qptrs, kptrs, nkeys
        opts = Ref(_populate_opts(sptrs, qptrs, kptrs, nkeys))
        GC.@preserve t opts @dj_check Lib.dj_table_progress(t.ptr, opts, remaining, total)
    end
    return (remaining=Int(remaining[]), total=Int(total[]))
end

"""
    key_source(table) -> Query

The keys [`populate!`](@ref) calls `make` for: the join of the tables the primary key of a
computed or imported table references (projected to their keys, renamed as its foreign keys
rename), or the query set with [`with_key_source`](@ref).
"""
function key_source(t::Table)
    _require_abi(6, "key_source")
    out = Ref{Ptr{Lib.dj_query}}(C_NULL)
    GC.@preserve t @dj_check Lib.dj_table_key_source(t.ptr, out)
    return Query(out[], (t,))
end

"""
    with_key_source(table, q::Union{Table,Query}) -> Table

The table with another key source (any query whose primary key the table has): `populate!`,
`progress` and `refresh_jobs!` of the new table use it.
`with_key_source(analysis, session & "session_type = 'ephys'")`.
"""
function with_key_source(t::Table, ks::QueryLike)
    _require_abi(6, "with_key_source")
    return _with_query(ks) do q
        out = Ref{Ptr{Lib.dj_table}}(C_NULL)
        GC.@preserve t q @dj_check Lib.dj_table_with_key_source(t.ptr, q.ptr, out)
        Table(out[], t)
    end
end

# ------------------------------------------------------------------------------------ jobs

"""
    jobs(table) -> Table

The jobs table `~~<name>` of a computed or imported table (declared on first use, exactly as
DataJoint Python declares it, so both coordinate through it): fetch, restrict or delete it
like any table, e.g. `fetch(jobs(analysis) & "status = 'error'")` (columns include the key,
`status`, `error_message`, `error_stack`), or `delete!(jobs(analysis) & "status = 'error'")`
to let the failed keys be made again.
"""
function jobs(t::Table)
    _require_abi(6, "jobs")
    out = Ref{Ptr{Lib.dj_table}}(C_NULL)
    GC.@preserve t @dj_check Lib.dj_table_jobs(t.ptr, out)
    return Table(out[], t)
end

_sql_items(::Nothing) = String[]
_sql_items(x::AbstractString) = [_cstr(x, "restriction")]
function _sql_items(x::Union{Tuple,AbstractVector})
    return String[r isa AbstractString ? _cstr(r, "restriction") :
                  throw(_invalid_arg("refresh_jobs! restrictions are SQL strings, not $(typeof(r))")) for r in x]
end
_sql_items(x) = throw(_invalid_arg("refresh_jobs! restrictions are SQL strings, not $(typeof(x))"))

"""
    refresh_jobs!(table; restrictions = nothing, delay = 0, priority = nothing,
                  stale_timeout = nothing, orphan_timeout = nothing)
        -> (added = …, removed = …, orphaned = …, re_pended = …)

Refresh the jobs table: add the keys of the key source that have no job yet as pending (due
in `delay` seconds, server time, with `priority`; `nothing`: the `jobs.default_priority`
setting), remove jobs whose key left the key source more than `stale_timeout` seconds ago
(`nothing`: the `jobs.stale_timeout` setting; 0: never) and make reservations older than
`orphan_timeout` seconds (a killed worker's) pending again (`nothing`: never).
`restrictions`: SQL conditions (a string, or a tuple/vector of strings, AND) on the key source
for the new jobs. `populate!(...; reserve_jobs = true)` refreshes first by itself.
"""
function refresh_jobs!(t::Table; restrictions=nothing, delay::Real=0, priority::Union{Integer,Nothing}=nothing,
                       stale_timeout::Union{Real,Nothing}=nothing, orphan_timeout::Union{Real,Nothing}=nothing)
    _require_abi(6, "refresh_jobs!")
    stale_timeout === nothing || stale_timeout >= 0 ||
        throw(_invalid_arg("stale_timeout $stale_timeout is negative (nothing: the setting; 0: never)"))
    sql = _sql_items(restrictions)
    ptrs = Ptr{UInt8}[pointer(s) for s in sql]
    base = Ref(Lib.dj_refresh_opts())
    @dj_check Lib.dj_refresh_opts_init(base)
    o = base[]
    report = Ref(Lib.dj_refresh_report())
    GC.@preserve t sql ptrs begin
        opts = Ref(Lib.dj_refresh_opts(o.struct_size, _array_or_null(ptrs), length(ptrs), Float64(delay),
                                       priority === nothing ? o.priority : _nonnegative(priority, "priority"),
                                       stale_timeout === nothing ? o.stale_timeout : Float64(stale_timeout),
                                       orphan_timeout === nothing ? o.orphan_timeout : Float64(orphan_timeout)))
        @dj_check Lib.dj_jobs_refresh(t.ptr, opts, report)
    end
    r = report[]
    return (added=Int(r.added), removed=Int(r.removed), orphaned=Int(r.orphaned), re_pended=Int(r.re_pended))
end

"""
    job_counts(table) -> (pending = …, reserved = …, success = …, error = …, ignore = …, total = …)

The jobs of a computed or imported table per status.
"""
function job_counts(t::Table)
    _require_abi(6, "job_counts")
    c = Ref(Lib.dj_job_counts())
    GC.@preserve t @dj_check Lib.dj_jobs_progress(t.ptr, c)
    x = c[]
    return (pending=Int(x.pending), reserved=Int(x.reserved), success=Int(x.success), error=Int(x.error),
            ignore=Int(x.ignore), total=Int(x.total))
end

"""
    ignore_job!(table, key::Union{NamedTuple,AbstractDict}) -> Nothing

Mark the job of `key` `ignore` in the jobs table: no worker makes it (delete the job from
[`jobs`](@ref)`(table)` to undo).
"""
function ignore_job!(t::Table, key::Union{NamedTuple,AbstractDict})
    _require_abi(6, "ignore_job!")
    k = _build_row(key, nothing)
    try
        GC.@preserve t k @dj_check Lib.dj_jobs_ignore(t.ptr, k.ptr)
    finally
        close(k)
    end
    return nothing
end
