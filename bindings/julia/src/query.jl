# The query algebra over tables and queries (dj_query, ABI 0.5): `*` join, `&` restriction,
# `-` exclusion, `+` union, proj, aggr, U, top, `in`, sql. The library builds and checks the
# SQL; this file only converts arguments and wraps the new handles.
#
#   operand                         Table result            Query result
#   t & "sql" / key / [keys]        dj_table_restrict_*     dj_query_restrict_sql / _keys
#   t & q (semijoin)                dj_table_restrict_query dj_query_restrict_query
#   t - ... (exclusion, antijoin)   dj_table_exclude_*      dj_query_exclude_sql / _keys / _restrict_query
#   a * b, a + b, proj, aggr, top, U(...) & q, aggr(U(...), q)            always a Query
#
# A Table operand of a Query operator is converted with dj_table_query (a temporary handle,
# freed after the call: the new query holds its own copy).

"A table or a query: what the algebra's operators accept."
const QueryLike = Union{Table,Query}

"""
    Query(table) -> Query

The query of a table (with the table's restrictions), `dj_table_query`. Operators accept tables
directly; use this for the keywords only queries have, e.g.
`restrict(Query(t), other; semantic_check=false)`.
"""
function Query(t::Table)
    out = Ref{Ptr{Lib.dj_query}}(C_NULL)
    GC.@preserve t @dj_check Lib.dj_table_query(t.ptr, out)
    return Query(out[], (t,))
end

"`Query(q)` is `q` (queries are immutable)."
Query(q::Query) = q

# f(q) with the query of `x`; a table's temporary query is freed afterwards.
function _with_query(f, t::Table)
    q = Query(t)
    try
        return f(q)
    finally
        close(q)
    end
end
_with_query(f, q::Query) = f(q)

# A new Query from `cfn(out)` (a call that fills the out parameter), made from `parents`.
function _new_query(cfn::F, parents::Tuple) where {F}
    out = Ref{Ptr{Lib.dj_query}}(C_NULL)
    @dj_check cfn(out)
    return Query(out[], parents)
end

# f(ptrs) with `strs` as a C array of NUL-terminated strings (kept alive during the call).
function _with_cstrings(f, strs::Vector{String})
    ptrs = Ptr{UInt8}[pointer(s) for s in strs]
    return GC.@preserve strs ptrs f(ptrs)
end

# f(ptrs) with the rows of `ks` as a C array of dj_row handles (freed afterwards).
function _with_keys(f, ks)
    built = Row[]
    try
        for k in ks
            push!(built, _build_row(k, nothing))
        end
        ptrs = Ptr{Lib.dj_row}[r.ptr for r in built]
        return GC.@preserve built ptrs f(ptrs)
    finally
        foreach(close, built)
    end
end

# ------------------------------------------------------------------------------------ restriction

"""
    restrict(query, condition::AbstractString) -> Query
    restrict(query, key::Union{NamedTuple,AbstractDict}) -> Query
    restrict(query, keys::AbstractVector) -> Query
    restrict(query, other::Union{Table,Query}; semantic_check = true) -> Query
    restrict(table, other::Union{Table,Query}) -> Table

`q & x`. Restrictions of a query as of a table (SQL used verbatim; a key: equality on the
attributes it shares with the query, other names ignored, `missing` is IS NULL; a vector of
keys: any of them, an empty vector matches nothing). Restricting by another query or table is
a semijoin: the rows that match some row of `other` on the shared attributes. With
`semantic_check` (the default) namesake attributes must have the same lineage (come from the
same primary-key attribute), else `DataJointError` `InvalidArgument`; `false` matches namesakes
whatever their origin. Restricting a `Table` returns a `Table`, which `delete!` accepts.
"""
function restrict(q::Query, condition::AbstractString)
    c = _cstr(condition, "condition")
    return GC.@preserve q _new_query(out -> Lib.dj_query_restrict_sql(q.ptr, c, out), (q,))
end

restrict(q::Query, key::Union{NamedTuple,AbstractDict}) = _restrict_keys(q, (key,), false)
restrict(q::Query, ks::AbstractVector) = _restrict_keys(q, ks, false)

restrict(q::Query, other::QueryLike; semantic_check::Bool=true) = _by_query(q, other, false, semantic_check)
restrict(t::Table, other::QueryLike) = _by_query(t, other, Lib.dj_table_restrict_query)

# semijoin (`negate` false) or antijoin of a query by another
function _by_query(q::Query, other::QueryLike, negate::Bool, semantic_check::Bool)
    return _with_query(other) do o
        GC.@preserve q o _new_query(out -> Lib.dj_query_restrict_query(q.ptr, o.ptr, Int32(negate), Int32(semantic_check), out), (q, other))
    end
end

# a table restricted (dj_table_restrict_query) or excluded (dj_table_exclude_query) by a query
function _by_query(t::Table, other::QueryLike, cfun)
    return _with_query(other) do o
        out = Ref{Ptr{Lib.dj_table}}(C_NULL)
        GC.@preserve t o @dj_check cfun(t.ptr, o.ptr, out)
        Table(out[], t)
    end
end

function _restrict_keys(q::Query, ks, negate::Bool)
    return _with_keys(ks) do ptrs
        GC.@preserve q _new_query(out -> Lib.dj_query_restrict_keys(q.ptr, ptrs, length(ptrs), Int32(negate), out), (q,))
    end
end

"""
    exclude(query, condition::AbstractString) -> Query
    exclude(query, key::Union{NamedTuple,AbstractDict}) -> Query
    exclude(query, keys::AbstractVector) -> Query
    exclude(query, other::Union{Table,Query}; semantic_check = true) -> Query
    exclude(table, keys::AbstractVector) -> Table
    exclude(table, other::Union{Table,Query}) -> Table

`q - x`: the rows that do not match (an SQL condition, a key, any of several keys); by another
query or table the antijoin: the rows that match no row of `other` on the shared attributes.
"""
function exclude(q::Query, condition::AbstractString)
    c = _cstr(condition, "condition")
    return GC.@preserve q _new_query(out -> Lib.dj_query_exclude_sql(q.ptr, c, out), (q,))
end

exclude(q::Query, key::Union{NamedTuple,AbstractDict}) = _restrict_keys(q, (key,), true)
exclude(q::Query, ks::AbstractVector) = _restrict_keys(q, ks, true)

exclude(q::Query, other::QueryLike; semantic_check::Bool=true) = _by_query(q, other, true, semantic_check)
exclude(t::Table, other::QueryLike) = _by_query(t, other, Lib.dj_table_exclude_query)

# None of the keys: one exclusion per key (the C API has no dj_table_exclude_keys); an empty
# vector excludes nothing (the empty key restricts nothing).
function exclude(t::Table, ks::AbstractVector)
    isempty(ks) && return restrict(t, NamedTuple())
    out = t
    for k in ks
        k isa Union{NamedTuple,AbstractDict} ||
            throw(_invalid_arg("a key must be a NamedTuple or an AbstractDict, not $(typeof(k))"))
        out = exclude(out, k)
    end
    return out
end

# The operand types of `&` and `-` (typed, so that no Base method becomes ambiguous).
const _Restriction = Union{AbstractString,NamedTuple,AbstractDict,AbstractVector,Table,Query}

"`a & b`: [`restrict`](@ref)`(a, b)`; `U(...) & q`: the distinct values of the attributes in `q`."
Base.:&(a::QueryLike, b::_Restriction) = restrict(a, b)
"`a - b`: [`exclude`](@ref)`(a, b)`."
Base.:-(a::QueryLike, b::_Restriction) = exclude(a, b)

"""
    in(key, table_or_query) -> Bool

Is there a row matching `key` (a `NamedTuple` or an `AbstractDict`; equality on the attributes
it shares with the query, other names ignored)? `dj_query_contains`.
"""
function Base.in(key::Union{NamedTuple,AbstractDict}, x::QueryLike)
    return _with_query(x) do q
        k = _build_row(key, nothing)
        try
            found = Ref{Int32}(0)
            GC.@preserve q k @dj_check Lib.dj_query_contains(q.ptr, k.ptr, found)
            found[] != 0
        finally
            close(k)
        end
    end
end

# ------------------------------------------------------------------------------------ operators

"""
    join(a, b; semantic_check = true, left = false) -> Query
    a * b

The join of two tables or queries on their shared attributes (namesakes must have the same
lineage unless `semantic_check = false`). `left = true` keeps every row of `a` (`b`'s
attributes are NULL where nothing matches); `a` must then determine `b`.
"""
function Base.join(a::QueryLike, b::QueryLike; semantic_check::Bool=true, left::Bool=false)
    return _with_query(a) do qa
        _with_query(b) do qb
            GC.@preserve qa qb _new_query(out -> Lib.dj_query_join(qa.ptr, qb.ptr, Int32(semantic_check), Int32(left), out), (a, b))
        end
    end
end

Base.:*(a::QueryLike, b::QueryLike) = join(a, b)

"""
    union(a, b) -> Query
    a + b

The union of two tables or queries with the same primary key (`DataJointError` otherwise).
"""
function Base.union(a::QueryLike, b::QueryLike)
    return _with_query(a) do qa
        _with_query(b) do qb
            GC.@preserve qa qb _new_query(out -> Lib.dj_query_union(qa.ptr, qb.ptr, out), (a, b))
        end
    end
end

Base.:+(a::QueryLike, b::QueryLike) = union(a, b)

# The items of proj/aggr: strings as they are ("a", "...", "-a", "new=old", "new=(old)",
# "new=<SQL>"), `new => old` pairs and `new = "expression"` keywords as "new=...".
_item(x::Union{AbstractString,Symbol}) = _cstr(String(x), "projection item")
_item(p::Pair) = _cstr(string(p.first, "=", p.second), "projection item")
_item(x) = throw(_invalid_arg("a projection item is a String, Symbol or Pair, not $(typeof(x))"))

function _items(items, kw)
    out = String[]
    for x in items
        push!(out, _item(x))
    end
    for (k, v) in pairs(kw)
        push!(out, _item(k => v))
    end
    return out
end

"""
    proj(q, items...; name = expression, ...) -> Query

The projection (the primary key is always kept): `"a"` keeps a secondary attribute, `"..."` all
of them, `"-a"` drops one, `"new=old"` (or `new="old"`, or `"new" => "old"`) renames,
`"new=(old)"` copies, `"new=<SQL expression>"` computes (`proj(trial; dur="t1 - t0")`).
`proj(q)` is the primary key alone.
"""
function proj(x::QueryLike, items...; kw...)
    strs = _items(items, kw)
    return _with_query(x) do q
        _with_cstrings(strs) do ptrs
            GC.@preserve q _new_query(out -> Lib.dj_query_proj(q.ptr, ptrs, length(ptrs), out), (x,))
        end
    end
end

"""
    aggr(q, group, items...; exclude_nonmatching = false, name = expression, ...) -> Query
    aggr(U(attrs...), group, items...; name = expression, ...) -> Query

One row per row of `q` with the attributes `items` (as in [`proj`](@ref)) whose computations
aggregate over the matching rows of `group`: `aggr(subject, session; n="count(session)")`.
Rows of `q` without a match are kept (their counts are 0, other aggregates NULL) unless
`exclude_nonmatching = true`. `group` must contain the primary key of `q`.

With `U(attrs...)` the rows are the distinct values of `attrs` in `group` (`U()`: a single row
over all of `group`), and the items are computations only: `aggr(U("species"), subject; n="count(*)")`.
"""
function aggr(x::QueryLike, group::QueryLike, items...; exclude_nonmatching::Bool=false, kw...)
    strs = _items(items, kw)
    return _with_query(x) do q
        _with_query(group) do g
            _with_cstrings(strs) do ptrs
                GC.@preserve q g _new_query(out -> Lib.dj_query_aggr(q.ptr, g.ptr, ptrs, length(ptrs), Int32(exclude_nonmatching), out), (x, group))
            end
        end
    end
end

"""
    top(q, limit = 1; order_by = nothing, offset = 0) -> Query

DataJoint's `Top`: the first `limit` rows (`nothing`: all) in `order_by` order (default the
primary key, `"KEY"`; e.g. `"duration DESC, KEY"` or a vector of terms) after skipping
`offset`. The result is a query, which can be restricted, joined and fetched further.
"""
function top(x::QueryLike, limit::Union{Integer,Nothing}=1; order_by=nothing, offset::Integer=0)
    limit === nothing || limit >= 0 || throw(_invalid_arg("top: limit $limit is negative (nothing: no limit)"))
    offset >= 0 || throw(_invalid_arg("top: offset $offset is negative"))
    ob = _order_text(order_by)
    return _with_query(x) do q
        GC.@preserve q ob _new_query(out -> Lib.dj_query_top(q.ptr, limit === nothing ? Int64(-1) : Int64(limit),
                                                             ob === nothing ? C_NULL : ob, UInt64(offset), out), (x,))
    end
end

"""
    U(attrs...)

DataJoint's universal set over the attributes `attrs` (names, no handle): `U("species") & q`
is the distinct values of `species` in `q` (with `species` as the primary key);
`aggr(U("species"), q; n="count(*)")` aggregates per distinct value, `aggr(U(), q; ...)` over
all of `q`.
"""
struct U
    attrs::Vector{String}
    U(attrs::AbstractVector) = new(String[_cstr(String(a), "attribute name") for a in attrs])
end

U(attrs::Union{AbstractString,Symbol}...) = U(collect(attrs))

Base.show(io::IO, u::U) = print(io, "DataJoint.U(", join(repr.(u.attrs), ", "), ")")

function restrict(u::U, x::QueryLike)
    return _with_query(x) do q
        _with_cstrings(u.attrs) do ptrs
            GC.@preserve q _new_query(out -> Lib.dj_query_universal(ptrs, length(ptrs), q.ptr, out), (x,))
        end
    end
end

Base.:&(u::U, x::QueryLike) = restrict(u, x)

function aggr(u::U, group::QueryLike, items...; exclude_nonmatching::Union{Bool,Nothing}=nothing, kw...)
    exclude_nonmatching === nothing ||
        throw(_invalid_arg("aggr(U(...), group): every row has a match; exclude_nonmatching does not apply"))
    strs = _items(items, kw)
    return _with_query(group) do g
        _with_cstrings(u.attrs) do aptrs
            _with_cstrings(strs) do iptrs
                GC.@preserve g _new_query(out -> Lib.dj_query_universal_aggr(aptrs, length(aptrs), g.ptr, iptrs, length(iptrs), out), (group,))
            end
        end
    end
end

"""
    sql(q) -> String

The SQL a fetch of the table or query runs (values as placeholders), for debugging.
"""
function sql(x::QueryLike)
    return _with_query(x) do q
        GC.@preserve q unsafe_string(@dj_value Lib.dj_query_sql(q.ptr))
    end
end
