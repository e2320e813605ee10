# Handle wrappers: Connection, Schema, Table, Query, Result, NpyRef (ArrayView is in npy.jl,
# Row in rows.jl; the query algebra is in query.jl).
#
# Every wrapper is a mutable struct holding the C pointer and a `parent` field with the wrapper
# it was made from (a Table keeps its Schema, a Schema its Connection, ...), so the Julia owner
# of a handle is never finalized before the handles made from it. The C library keeps the
# connection alive while children exist, so any free order is safe on the C side as well.
#
# A finalizer calls the C `_free` function; `close(x)` does the same at once. Both are
# idempotent: the pointer is set to C_NULL first, and the C free functions accept NULL. Using a
# closed wrapper passes NULL to the library, which reports DJ_E_INVALID_HANDLE.
#
# Every ccall that uses `x.ptr` runs inside `GC.@preserve x`, so the wrapper (and with it the
# handle) cannot be finalized while the call runs.

"""
    Connection

A connection to a database (`DataJoint.duckdb`, `DataJoint.connect`). `close(conn)` releases
the database file or sockets at once (`dj_conn_close`); schemas, tables and results made from it
stay safe to close, but their operations then throw `DataJointError` `Closed`.
"""
mutable struct Connection
    ptr::Ptr{Lib.dj_conn}
    parent::Nothing
    function Connection(ptr::Ptr{Lib.dj_conn})
        return finalizer(_free!, new(ptr, nothing))
    end
end

"A schema (database) of a connection: `schema(conn, name)`."
mutable struct Schema
    ptr::Ptr{Lib.dj_schema}
    parent::Connection
    function Schema(ptr::Ptr{Lib.dj_schema}, parent::Connection)
        return finalizer(_free!, new(ptr, parent))
    end
end

"""
    Table

A table, possibly restricted: `declare`, `table`, `restrict`, `exclude` return new `Table`s.
`parent` is the `Schema` it was declared in or the `Table` it restricts.
"""
mutable struct Table
    ptr::Ptr{Lib.dj_table}
    parent::Union{Schema,Table}
    heading::Any  # Nothing or Vector{Attribute}, read on first use
    function Table(ptr::Ptr{Lib.dj_table}, parent::Union{Schema,Table})
        return finalizer(_free!, new(ptr, parent, nothing))
    end
end

"""
    Query

A query expression (a `dj_query`): a table or an operator over query expressions, made by
`a * b`, `proj`, `aggr`, `a + b`, `U(...) & q`, `top`, restrictions of a `Query`, or
`Query(table)`. Queries are immutable: operators return new ones and leave their operands
unchanged. Fetch them like tables (`fetch`, `fetch1`, `keys`, `count`, `for row in q`).
`parent` holds the operands it was made from.
"""
mutable struct Query
    ptr::Ptr{Lib.dj_query}
    parent::Tuple
    heading::Any  # Nothing or Vector{Attribute}, read on first use
    function Query(ptr::Ptr{Lib.dj_query}, parent::Tuple)
        return finalizer(_free!, new(ptr, parent, nothing))
    end
end

"""
    Result

A columnar fetch result (`fetch_result`). Its buffers are owned by the library and valid until
the result is closed; `columns(r)` copies them into Julia vectors. `parent` is the `Table` or
`Query` it was fetched from.
"""
mutable struct Result
    ptr::Ptr{Lib.dj_result}
    parent::Union{Table,Query}
    function Result(ptr::Ptr{Lib.dj_result}, parent::Union{Table,Query})
        return finalizer(_free!, new(ptr, parent))
    end
end

"""
    NpyRef

A lazy reference to the `<npy@>` value of one result cell. `size`, `eltype`, `ndims`,
`length`, `path`, `store` and `isloaded` read metadata only (no I/O); `load`, `view`/`map`,
`read_rows` and `mmap` read the data. A ref stays usable after its result, table and connection
are closed (the library guarantees it): `parent` is the `Result` it came from, kept only so
that `npyref(r, …)` callers can find it.
"""
mutable struct NpyRef
    ptr::Ptr{Lib.dj_npyref}
    parent::Union{Result,Nothing}
    function NpyRef(ptr::Ptr{Lib.dj_npyref}, parent::Union{Result,Nothing})
        return finalizer(_free!, new(ptr, parent))
    end
end

# Free a handle once: clear the pointer first, then call the C free function (never throws).
function _release_handle!(x, free::F) where {F}
    p = x.ptr
    if p != C_NULL
        x.ptr = C_NULL
        free(p)
    end
    return nothing
end

_free!(c::Connection) = _release_handle!(c, Lib.dj_conn_free)
_free!(s::Schema) = _release_handle!(s, Lib.dj_schema_free)
_free!(t::Table) = _release_handle!(t, Lib.dj_table_free)
_free!(q::Query) = _release_handle!(q, Lib.dj_query_free)
_free!(r::Result) = _release_handle!(r, Lib.dj_result_free)
_free!(r::NpyRef) = _release_handle!(r, Lib.dj_npyref_free)

"""
    close(conn::Connection)

Close the connection now (`dj_conn_close`: the database file or sockets are released), then free
the handle. Idempotent. Objects made from the connection stay safe to close; their operations
throw `DataJointError` `Closed`.
"""
function Base.close(c::Connection)
    p = c.ptr
    p == C_NULL && return nothing
    try
        GC.@preserve c @dj_check Lib.dj_conn_close(p)
    finally
        _free!(c)
    end
    return nothing
end

"""
    close(x::Union{Schema,Table,Query,Result,NpyRef})

Free the handle now (idempotent). Later operations on `x` throw `DataJointError`
`InvalidHandle`.
"""
Base.close(x::Union{Schema,Table,Query,Result,NpyRef}) = _free!(x)

Base.isopen(x::Union{Connection,Schema,Table,Query,Result,NpyRef}) = x.ptr != C_NULL

"""
    with(f, x)

Call `f(x)` and `close(x)` afterwards, also when `f` throws: `DataJoint.with(schema(conn, "lab")) do s ... end`.
"""
function with(f, x::Union{Connection,Schema,Table,Query,Result,NpyRef})
    try
        return f(x)
    finally
        close(x)
    end
end

# ------------------------------------------------------------------------------------ connecting

"""
    DataJoint.duckdb(path = ":memory:") -> Connection
    DataJoint.duckdb(f, path = ":memory:")

Open (or create) an embedded DuckDB database file; `":memory:"` for an in-memory database. The
do-block form closes the connection when `f` returns or throws.
"""
function duckdb(path::AbstractString=":memory:")
    out = Ref{Ptr{Lib.dj_conn}}(C_NULL)
    @dj_check Lib.dj_connect_duckdb(_cstr(path, "path"), out)
    return Connection(out[])
end

function duckdb(f::Function, path::AbstractString=":memory:")
    c = duckdb(path)
    try
        return f(c)
    finally
        close(c)
    end
end

_overrides_json(::Nothing) = nothing
_overrides_json(s::AbstractString) = isempty(s) ? nothing : _cstr(s, "overrides")
_overrides_json(x::Union{AbstractDict,NamedTuple}) = json_string(x)

"""
    DataJoint.connect(configpath = nothing, overrides = nothing) -> Connection
    DataJoint.connect(f, configpath = nothing, overrides = nothing)

Connect using `datajoint.json` (`configpath`, or `nothing` to search upward from the current
directory), the `DJ_*` environment variables, then `overrides`: JSON text, or a `Dict` /
`NamedTuple` written as JSON, nested or with dotted keys, e.g.
`Dict("database.backend" => "duckdb", "database.path" => "lab.duckdb")`. Object stores for
`<npy@store>` attributes are configured the same way:
`Dict("stores" => Dict("default" => "main", "main" => Dict("protocol" => "file", "location" => "/data/store")))`.
`database.backend` selects `"duckdb"` (default), `"postgresql"` or `"mysql"`; a `datajoint.json`
shared with DataJoint Python, e.g. `{"database": {"backend": "postgresql", "host": "db.lab",
"user": "alice"}}`, works as is (password from `DJ_PASS` or `.secrets/database.password`).
The do-block form closes the connection when `f` returns or throws.
"""
function connect(configpath::Union{AbstractString,Nothing}=nothing, overrides=nothing)
    cfg = configpath === nothing || isempty(configpath) ? C_NULL : _cstr(configpath, "config path")
    ov = _overrides_json(overrides)
    out = Ref{Ptr{Lib.dj_conn}}(C_NULL)
    @dj_check Lib.dj_connect(cfg, ov === nothing ? C_NULL : ov, out)
    return Connection(out[])
end

function connect(f::Function, configpath::Union{AbstractString,Nothing}=nothing, overrides=nothing)
    c = connect(configpath, overrides)
    try
        return f(c)
    finally
        close(c)
    end
end

# Strings of a dj_strlist, which is freed.
function _take_strlist(p::Ptr{Lib.dj_strlist})
    try
        n = Int(Lib.dj_strlist_len(p))
        out = Vector{String}(undef, n)
        for i in 1:n
            s = Lib.dj_strlist_get(p, i - 1)
            out[i] = s == C_NULL ? "" : unsafe_string(s)
        end
        return out
    finally
        Lib.dj_strlist_free(p)
    end
end

"`\"duckdb\"`, `\"postgresql\"` or `\"mysql\"`."
function backend(c::Connection)
    out = Ref{Ptr{UInt8}}(C_NULL)
    GC.@preserve c @dj_check Lib.dj_conn_backend(c.ptr, out)
    return out[] == C_NULL ? "" : unsafe_string(out[])   # static storage
end

"Names of the schemas of the database."
function schemas(c::Connection)
    out = Ref{Ptr{Lib.dj_strlist}}(C_NULL)
    GC.@preserve c @dj_check Lib.dj_conn_list_schemas(c.ptr, out)
    return _take_strlist(out[])
end

"""
    store_stats(conn, store = nothing) -> (requests, bytes_read, bytes_written)

Object-store traffic of `store` (`nothing` or `""`: the default store) since the connection
opened. `DataJointError` `Store` if the store is not configured.
"""
function store_stats(c::Connection, store::Union{AbstractString,Nothing}=nothing)
    req = Ref{UInt64}(0)
    rd = Ref{UInt64}(0)
    wr = Ref{UInt64}(0)
    st = store === nothing ? C_NULL : _cstr(store, "store")
    GC.@preserve c @dj_check Lib.dj_conn_store_stats(c.ptr, st, req, rd, wr)
    return (requests = Int(req[]), bytes_read = Int(rd[]), bytes_written = Int(wr[]))
end

# ------------------------------------------------------------------------------------ schemas

"""
    schema(conn, name; create = true) -> Schema
    schema(f, conn, name; create = true)

Open schema `name`; with `create`, create it if missing (else `DataJointError` `NotFound`).
"""
function schema(c::Connection, name::AbstractString; create::Bool=true)
    out = Ref{Ptr{Lib.dj_schema}}(C_NULL)
    GC.@preserve c @dj_check Lib.dj_schema_open(c.ptr, _cstr(name, "schema name"), Int32(create), out)
    return Schema(out[], c)
end

function schema(f::Function, c::Connection, name::AbstractString; create::Bool=true)
    return with(f, schema(c, name; create=create))
end

"The schema's name."
function name(s::Schema)
    str = GC.@preserve s unsafe_string(@dj_value Lib.dj_schema_name(s.ptr))
    return str
end

"SQL names of the schema's tables, sorted."
function tables(s::Schema)
    out = Ref{Ptr{Lib.dj_strlist}}(C_NULL)
    GC.@preserve s @dj_check Lib.dj_schema_list_tables(s.ptr, out)
    return _take_strlist(out[])
end

"""
    drop!(schema)
    drop!(table)

Drop the schema with all its tables, or one table (`DataJointError` while other tables
reference it; restricted tables cannot be dropped).
"""
function drop!(s::Schema)
    GC.@preserve s @dj_check Lib.dj_schema_drop(s.ptr)
    return nothing
end

const _TIERS = Dict(:manual => Lib.DJ_TIER_MANUAL, :lookup => Lib.DJ_TIER_LOOKUP,
                    :imported => Lib.DJ_TIER_IMPORTED, :computed => Lib.DJ_TIER_COMPUTED)

function _tier(t::Symbol)
    code = get(_TIERS, Symbol(lowercase(String(t))), nothing)
    code === nothing && throw(_invalid_arg("tier $(repr(t)) is not one of :manual, :lookup, :imported, :computed"))
    return code
end

"""
    declare(schema, classname, tier::Symbol, definition) -> Table

Declare a table from a DataJoint definition; `classname` is CamelCase and `tier` one of
`:manual`, `:lookup` (SQL name prefix `#`), `:imported` (`_`), `:computed` (`__`). Declaring an
existing table opens it.
"""
function declare(s::Schema, classname::AbstractString, tier::Symbol, definition::AbstractString)
    out = Ref{Ptr{Lib.dj_table}}(C_NULL)
    GC.@preserve s @dj_check Lib.dj_table_declare(s.ptr, _cstr(classname, "class name"), _tier(tier),
                                                  _cstr(definition, "definition"), out)
    return Table(out[], s)
end

"""
    declare_part(schema, master::Table, part_class, definition) -> Table

Declare a part table of `master` (SQL name `master__snake_case(part_class)`); `-> master` in the
definition references the master.
"""
function declare_part(s::Schema, master::Table, part_class::AbstractString, definition::AbstractString)
    out = Ref{Ptr{Lib.dj_table}}(C_NULL)
    GC.@preserve s master @dj_check Lib.dj_table_declare_part(s.ptr, master.ptr, _cstr(part_class, "part class"),
                                                              _cstr(definition, "definition"), out)
    return Table(out[], s)
end

"""
    table(schema, name) -> Table

Open an existing table by class name (`"Session"`, `"Session.Trial"`) or SQL name.
"""
function table(s::Schema, tname::AbstractString)
    out = Ref{Ptr{Lib.dj_table}}(C_NULL)
    GC.@preserve s @dj_check Lib.dj_table_open(s.ptr, _cstr(tname, "table name"), out)
    return Table(out[], s)
end

# ------------------------------------------------------------------------------------ tables

"""
    Attribute

One attribute of a table heading (`attributes(table)`): `name`, declared `type` (e.g.
`"decimal(10,2)"`), `comment`, `default` (`nothing` if none; `"NULL"`, `"CURRENT_TIMESTAMP"` or
the literal), `kind` (a `DJ_KIND_*` constant), `in_key`, `nullable`.
"""
struct Attribute
    name::String
    type::String
    comment::String
    default::Union{Nothing,String}
    kind::Int32
    in_key::Bool
    nullable::Bool
end

_str_or_empty(p::Ptr{UInt8}) = p == C_NULL ? "" : unsafe_string(p)

"The SQL name of the table (with its tier prefix, e.g. `\"#subject\"`)."
function name(t::Table)
    str = GC.@preserve t unsafe_string(@dj_value Lib.dj_table_name(t.ptr))
    return str
end

"The table comment."
function comment(t::Table)
    str = GC.@preserve t unsafe_string(@dj_value Lib.dj_table_comment(t.ptr))
    return str
end

"""
    attributes(table) -> Vector{Attribute}
    attributes(query) -> Vector{Attribute}

The heading: the attributes in declaration order (of a query: in the order of its result
columns; a computed attribute has the type `"computed"`).
"""
attributes(t::Table) = _attributes(Lib.dj_table_attr_count, Lib.dj_table_attr, t)
attributes(q::Query) = _attributes(Lib.dj_query_attr_count, Lib.dj_query_attr, q)

function _attributes(count_fn::C, attr_fn::A, t) where {C,A}
    attrs = GC.@preserve t begin
        n = Int(@dj_value count_fn(t.ptr))
        out = Vector{Attribute}(undef, n)
        for i in 1:n
            info = Ref(Lib.dj_attr_info())
            @dj_check attr_fn(t.ptr, i - 1, info)
            a = info[]
            out[i] = Attribute(_str_or_empty(a.name), _str_or_empty(a.type_name), _str_or_empty(a.comment),
                               a.default_value == C_NULL ? nothing : unsafe_string(a.default_value),
                               a.kind, a.in_key != 0, a.nullable != 0)
        end
        out
    end
    return attrs
end

function _heading(t::Union{Table,Query})
    h = t.heading
    if h === nothing
        h = attributes(t)
        t.heading = h
    end
    return h::Vector{Attribute}
end

_is_npy_type(type::AbstractString) = startswith(type, "<npy")

# Names of the table's `<npy@…>` attributes.
_npy_attributes(t::Table) = Set{String}(a.name for a in _heading(t) if _is_npy_type(a.type))

# Names of the table's `<blob>` attributes (values are dj_value trees, DJ_KIND_BLOB).
_is_blob_attr(a) = a.kind == Lib.DJ_KIND_BLOB || startswith(a.type, "<blob")
_blob_attributes(t::Table) = Set{String}(a.name for a in _heading(t) if _is_blob_attr(a))

# `show` must not throw: a handle whose connection was closed may refuse to answer.
_shown(f, x) = x.ptr == C_NULL ? "closed" : (try repr(f(x)) catch; "?" end)

Base.show(io::IO, c::Connection) = print(io, "DataJoint.Connection(", _shown(backend, c), ")")
Base.show(io::IO, s::Schema) = print(io, "DataJoint.Schema(", _shown(name, s), ")")
Base.show(io::IO, t::Table) = print(io, "DataJoint.Table(", _shown(name, t), ")")
Base.show(io::IO, q::Query) = print(io, "DataJoint.Query(", _shown(x -> Tuple(Symbol(a.name) for a in _heading(x)), q), ")")
Base.show(io::IO, r::Result) = print(io, "DataJoint.Result(", _shown(x -> (nrows(x), ncols(x)), r), ")")
