# The query algebra (ABI 0.5): operators (*, &, -, +), proj, aggr, U, top, fetch on
# expressions, iteration, the compiled SQL, semantic matching, cascading delete with part
# integrity and dry runs, update1! and the Arrow C Data export
# (bindings/cpp/tests/test_algebra.cpp).

const ALG_SUBJECT = """
    subject_id : int32
    ---
    species : varchar(20)
    weight = null : float64
"""

const ALG_SESSION = """
    -> Subject
    session : int16
    ---
    duration = null : float64
"""

const ALG_TRIAL = """
    -> master
    trial : int16
    ---
    t0 : float64
    t1 : float64
"""

"""
f(conn, schema, subj, sess, trial) with 4 subjects (mouse 1, 2; rat 3, 4), 6 sessions (subject
1: 2, subject 2: 1, subject 3: 3; duration 10 per session number) and 6 trials of the part
table Session.Trial (2 for each of the sessions (1,1), (1,2), (3,1); t0 = t, t1 = 2.5 t).
"""
function with_algebra(f)
    with_db() do conn, s, dir
        subj = declare(s, "Subject", :manual, ALG_SUBJECT)
        sess = declare(s, "Session", :manual, ALG_SESSION)
        trial = declare_part(s, sess, "Trial", ALG_TRIAL)
        @test insert!(subj, (subject_id=Int32[1, 2, 3, 4], species=["mouse", "mouse", "rat", "rat"],
                             weight=[20.5, 22.0, 300.0, 250.0])) == 4
        @test insert!(sess, [(subject_id=sid, session=Int16(k), duration=10.0 * k)
                             for (sid, n) in ((1, 2), (2, 1), (3, 3)) for k in 1:n]) == 6
        @test insert!(trial, [(subject_id=sid, session=Int16(k), trial=Int16(t), t0=1.0 * t, t1=2.5 * t)
                              for (sid, k) in ((1, 1), (1, 2), (3, 1)) for t in 1:2]) == 6
        f(conn, s, subj, sess, trial)
    end
end

attr_names(x) = [a.name for a in DataJoint.attributes(x)]
key_names(x) = [a.name for a in DataJoint.attributes(x) if a.in_key]

@testset "ABI 0.5 structs, NULL handles and options" begin
    @test sizeof(Lib.dj_delete_opts) == 12
    @test sizeof(Lib.ArrowSchema) == 72
    @test fieldoffset(Lib.ArrowSchema, 8) == 56           # release
    @test sizeof(Lib.ArrowArray) == 80
    @test fieldoffset(Lib.ArrowArray, 9) == 64            # release
    @test isbitstype(Lib.ArrowSchema) && isbitstype(Lib.ArrowArray)
    o = Ref(Lib.dj_delete_opts())
    @test Lib.dj_delete_opts_init(o) == Lib.DJ_OK
    @test o[] == Lib.dj_delete_opts(12, Lib.DJ_PART_INTEGRITY_ENFORCE, 0)
    @test Lib.dj_delete_opts_init(Ptr{Lib.dj_delete_opts}(C_NULL)) == Lib.DJ_E_INVALID_ARG

    n = Ref{UInt64}(7)
    @test Lib.dj_query_count(C_NULL, n) == Lib.DJ_E_INVALID_HANDLE
    @test occursin("dj_query", unsafe_string(Lib.dj_last_error_message()))
    q = Ref{Ptr{Lib.dj_query}}(C_NULL)
    @test Lib.dj_table_query(C_NULL, q) == Lib.DJ_E_INVALID_HANDLE
    @test q[] == C_NULL
    @test Lib.dj_query_restrict_sql(C_NULL, "1=1", q) == Lib.DJ_E_INVALID_HANDLE
    @test Lib.dj_query_attr_count(C_NULL) == 0
    @test Lib.dj_last_error_code() == Lib.DJ_E_INVALID_HANDLE
    @test Lib.dj_query_sql(C_NULL) == C_NULL
    @test Lib.dj_delete_report_len(C_NULL) == 0
    @test Lib.dj_delete_report_dry_run(C_NULL) == 0
    @test Lib.dj_table_update1(C_NULL, C_NULL) == Lib.DJ_E_INVALID_HANDLE
    sch, arr = Ref(Lib.ArrowSchema()), Ref(Lib.ArrowArray())
    @test Lib.dj_result_export_arrow(C_NULL, sch, arr) == Lib.DJ_E_INVALID_HANDLE
    @test sch[].release == C_NULL
    Lib.dj_query_free(C_NULL)              # every free function accepts NULL
    Lib.dj_delete_report_free(C_NULL)

    with_db() do conn, s, dir
        t = declare(s, "Item", :manual, "item_id : int32")
        insert!(t, (item_id=Int32[1, 2],))
        rep = Ref{Ptr{Lib.dj_delete_report}}(C_NULL)
        small = Ref(Lib.dj_delete_opts(4, 0, 1))
        @test GC.@preserve t Lib.dj_table_delete_cascade(t.ptr, small, rep) == Lib.DJ_E_INVALID_ARG
        @test occursin("struct_size", unsafe_string(Lib.dj_last_error_message()))
        @test rep[] == C_NULL
        bad = Ref(Lib.dj_delete_opts(12, 7, 1))
        @test GC.@preserve t Lib.dj_table_delete_cascade(t.ptr, bad, rep) == Lib.DJ_E_INVALID_ARG
        dry = Ref(Lib.dj_delete_opts(12, Lib.DJ_PART_INTEGRITY_ENFORCE, 1))
        @test GC.@preserve t Lib.dj_table_delete_cascade(t.ptr, dry, rep) == Lib.DJ_OK
        @test Lib.dj_delete_report_len(rep[]) == 1
        @test Lib.dj_delete_report_dry_run(rep[]) == 1
        sp, tp, rows = Ref{Ptr{UInt8}}(C_NULL), Ref{Ptr{UInt8}}(C_NULL), Ref{UInt64}(0)
        @test Lib.dj_delete_report_table(rep[], 0, sp, tp, rows) == Lib.DJ_OK
        @test (unsafe_string(tp[]), rows[]) == ("item", 2)
        @test Lib.dj_delete_report_table(rep[], 1, sp, tp, rows) == Lib.DJ_E_INVALID_ARG
        Lib.dj_delete_report_free(rep[])
        @test GC.@preserve t Lib.dj_table_delete_cascade(t.ptr, C_NULL, rep) == Lib.DJ_OK   # NULL: defaults
        @test Lib.dj_delete_report_dry_run(rep[]) == 0
        Lib.dj_delete_report_free(rep[])
        @test count(t) == 0

        qq = Query(t)
        @test GC.@preserve qq Lib.dj_query_top(qq.ptr, -1, C_NULL, 0, q) == Lib.DJ_OK
        Lib.dj_query_free(q[])
        @test GC.@preserve qq Lib.dj_query_proj(qq.ptr, C_NULL, 1, q) == Lib.DJ_E_INVALID_ARG   # items NULL, n 1
        @test GC.@preserve qq Lib.dj_query_proj(qq.ptr, C_NULL, 0, q) == Lib.DJ_OK              # no items: the key
        @test Lib.dj_query_attr_count(q[]) == 1
        info = Ref(Lib.dj_attr_info())
        @test Lib.dj_query_attr(q[], 1, info) == Lib.DJ_E_INVALID_ARG
        @test Lib.dj_query_attr(q[], 0, info) == Lib.DJ_OK
        @test unsafe_string(info[].name) == "item_id"
        Lib.dj_query_free(q[])
        close(qq)
    end
end

@testset "join, restriction, semijoin and antijoin" begin
    with_algebra() do conn, s, subj, sess, trial
        j = subj * sess
        @test j isa Query
        @test count(j) == 6
        @test length(j) == 6
        @test key_names(j) == ["subject_id", "session"]
        @test Set(attr_names(j)) == Set(["subject_id", "session", "duration", "species", "weight"])
        @test count(j & "species = 'rat'") == 3
        @test count(j & "species = 'rat'" & (session=2,)) == 1
        @test count(j - "species = 'rat'") == 3
        @test count(j & Dict("subject_id" => 1, "unrelated" => 5)) == 2   # other names are ignored
        @test count(j & [(subject_id=1,), (subject_id=2,)]) == 3          # a vector of keys is an OR
        @test count(j - [(subject_id=1,), (subject_id=2,)]) == 3
        @test count(j - (subject_id=3,)) == 3
        @test count(j & NamedTuple[]) == 0                                # the empty OR matches nothing
        @test count(join(subj, sess)) == 6

        # a table restricted by a table or a query is a table (delete! accepts it)
        @test subj & sess isa Table
        @test count(subj & sess) == 3
        @test count(subj - sess) == 1
        @test fetch1(subj - sess).subject_id == 4
        @test count(sess & (trial & "t0 > 1.5")) == 3
        @test count(sess - trial) == 3
        @test count(subj & (sess & "duration > 20")) == 1
        @test count(subj & Query(sess)) == 3
        @test count(sess & [(subject_id=1,), (subject_id=2,)]) == 3
        @test count(subj - [(subject_id=1,), (subject_id=2,)]) == 2
        @test count(subj - NamedTuple[]) == 4
        # a query restricted by a table or a query is a query
        @test Query(subj) & sess isa Query
        @test count(Query(subj) & sess) == 3
        @test count(Query(subj) - sess) == 1
        @test count(j & (trial & "t0 > 1.5")) == 3

        @test (subject_id=3, session=3) in j
        @test !((subject_id=4,) in j)
        @test (subject_id=4,) in subj
        @test !(Dict("subject_id" => 9) in subj)

        # values are parameters, never SQL text
        sql = DataJoint.sql(j & (species="x' OR '1'='1",))
        @test !isempty(sql)
        @test !occursin("OR '1'='1", sql)
        @test count(j & (species="x' OR '1'='1",)) == 0
        @test occursin("subject", DataJoint.sql(subj))

        # the operands are unchanged
        @test count(subj) == 4
        @test count(sess) == 6
        @test count(j) == 6
    end
end

@testset "left join" begin
    with_algebra() do conn, s, subj, sess, trial
        rats = proj(subj & "species = 'rat'"; w="weight")
        @test key_names(rats) == ["subject_id"]
        @test count(sess * rats) == 3
        lj = join(sess, rats; left=true)
        @test count(lj) == 6
        cols = fetch(lj; order_by="KEY")
        @test cols.subject_id == Int32[1, 1, 2, 3, 3, 3]
        @test count(ismissing, cols.w) == 3
        @test collect(skipmissing(cols.w)) == [300.0, 300.0, 300.0]
        # the left operand must determine the right one
        @test error_of(Lib.DJ_E_INVALID_ARG, () -> join(subj, sess; left=true)).name == "InvalidArgument"
    end
end

@testset "semantic check" begin
    with_algebra() do conn, s, subj, sess, trial
        # a native `subject_id` of another table: same name, another lineage
        cage = declare(s, "Cage", :manual, """
            subject_id : int32
            ---
            label : varchar(8)
        """)
        @test insert!(cage, [(subject_id=1, label="a"), (subject_id=2, label="b"), (subject_id=9, label="z")]) == 3
        e = error_of(Lib.DJ_E_INVALID_ARG, () -> subj * cage)
        @test occursin("subject_id", e.msg)
        @test code_of(() -> subj & cage) == Lib.DJ_E_INVALID_ARG
        @test code_of(() -> Query(subj) - cage) == Lib.DJ_E_INVALID_ARG
        # without the check namesakes match whatever their lineage
        @test count(join(subj, cage; semantic_check=false)) == 2
        @test count(restrict(Query(subj), cage; semantic_check=false)) == 2
        @test count(exclude(Query(subj), cage; semantic_check=false)) == 2
        # renaming makes the names differ: a cross product
        @test count(subj * proj(cage; cage_id="subject_id")) == 12
    end
end

@testset "fetch, fetch1, keys and iteration of a query" begin
    with_algebra() do conn, s, subj, sess, trial
        j = subj * sess
        cols = fetch(j; order_by="KEY")
        @test cols isa NamedTuple
        @test cols.subject_id == Int32[1, 1, 2, 3, 3, 3]
        @test cols.session == Int16[1, 2, 1, 1, 2, 3]
        @test cols.species == ["mouse", "mouse", "mouse", "rat", "rat", "rat"]
        @test cols.duration == [10.0, 20.0, 10.0, 10.0, 20.0, 30.0]
        some = fetch(j; attributes=["species", "duration"], order_by="duration DESC, KEY", limit=2)
        @test Base.keys(some) == (:species, :duration)
        @test some.duration == [30.0, 20.0]
        k = keys(j; order_by="KEY")
        @test Base.keys(k) == (:subject_id, :session)
        @test k.session == Int16[1, 2, 1, 1, 2, 3]

        one = fetch1(j & (subject_id=3, session=2))
        @test one.species == "rat"
        @test one.duration == 20.0
        @test keys(fetch1(j & (subject_id=3, session=2); attributes=["weight"])) == (:weight,)
        @test error_of(Lib.DJ_E_NOT_UNIQUE, () -> fetch1(j)).name == "NotUnique"
        @test error_of(Lib.DJ_E_NOT_FOUND, () -> fetch1(j & (subject_id=4,))).name == "NotFound"

        r = DataJoint.fetch_result(j; order_by="KEY")
        @test r.parent === j
        @test DataJoint.nrows(r) == 6
        close(r)

        rows = collect(j & (subject_id=1,))
        @test length(rows) == 2
        @test all(row -> row isa NamedTuple && row.subject_id == 1, rows)
        total = 0.0
        for row in sess & (subject_id=3,)
            total += row.duration
        end
        @test total == 60.0
        @test sort([row.subject_id for row in subj]) == Int32[1, 2, 3, 4]
        @test isempty(j & (subject_id=4,))
        @test !isempty(j)
        @test count.([subj, Query(sess)]) == [4, 6]   # one value each in broadcasting

        q = Query(subj)
        @test Query(q) === q
        @test isopen(q)
        close(q)
        @test !isopen(q)
        @test code_of(() -> count(q)) == Lib.DJ_E_INVALID_HANDLE
        @test occursin("Query", repr(Query(subj)))
    end
end

@testset "proj: keep, drop, rename and compute" begin
    with_algebra() do conn, s, subj, sess, trial
        @test attr_names(proj(subj)) == ["subject_id"]
        @test attr_names(proj(subj, "species")) == ["subject_id", "species"]
        @test Set(attr_names(proj(subj, "..."))) == Set(["subject_id", "species", "weight"])
        @test Set(attr_names(proj(subj, "-weight"))) == Set(["subject_id", "species"])

        dur = proj(trial; dur="t1-t0")
        @test attr_names(dur) == ["subject_id", "session", "trial", "dur"]
        @test DataJoint.attributes(dur)[4].type == "computed"
        @test count(dur & "dur > 2") == 3
        @test sort(fetch(dur).dur) == [1.5, 1.5, 1.5, 3.0, 3.0, 3.0]

        @test key_names(proj(subj; animal="subject_id")) == ["animal"]
        @test key_names(proj(subj, "animal=subject_id")) == ["animal"]
        @test key_names(proj(subj, "animal" => "subject_id")) == ["animal"]
        renamed = fetch(proj(subj, "kind=species"; heavy="weight > 100"); order_by="subject_id")
        @test renamed.kind == ["mouse", "mouse", "rat", "rat"]
        @test Bool.(renamed.heavy) == [false, false, true, true]

        @test error_of(Lib.DJ_E_UNKNOWN_ATTRIBUTE, () -> proj(subj, "nope")).name == "UnknownAttribute"
        @test code_of(() -> proj(subj, "x==")) == Lib.DJ_E_INVALID_ARG
        @test code_of(() -> proj(subj, 42)) == Lib.DJ_E_INVALID_ARG
        @test count(subj) == 4
    end
end

@testset "aggr with and without non-matching rows" begin
    with_algebra() do conn, s, subj, sess, trial
        n = aggr(subj, sess; n="count(session)", total="sum(duration)")
        @test attr_names(n) == ["subject_id", "n", "total"]
        cols = fetch(n; order_by="subject_id")
        @test cols.subject_id == Int32[1, 2, 3, 4]
        @test eltype(cols.n) <: Integer
        @test cols.n == [2, 1, 3, 0]                  # subject 4 has no session: kept, counted 0
        @test cols.total[1:3] == [30.0, 10.0, 60.0]
        @test ismissing(cols.total[4])
        @test count(n & "n >= 2") == 2
        @test count(aggr(subj, sess; exclude_nonmatching=true, n="count(*)")) == 3
        @test count(aggr(subj, sess, "species"; n="count(*)") & "species = 'rat'") == 2
        # the group must contain the primary key of the grouped query
        @test code_of(() -> aggr(sess, subj; n="count(*)")) == Lib.DJ_E_INVALID_ARG
    end
end

@testset "union" begin
    with_algebra() do conn, s, subj, sess, trial
        u = proj(subj & "species = 'mouse'") + proj(subj & "weight > 100")
        @test u isa Query
        @test count(u) == 4
        @test count(union(proj(subj & (subject_id=1,)), proj(subj & (subject_id=1,)))) == 1
        @test sort(fetch(u).subject_id) == Int32[1, 2, 3, 4]
        @test error_of(Lib.DJ_E_INVALID_ARG, () -> subj + sess).name == "InvalidArgument"   # other primary keys
    end
end

@testset "U: distinct values and aggregation" begin
    with_algebra() do conn, s, subj, sess, trial
        sp = U("species") & subj
        @test sp isa Query
        @test count(sp) == 2
        @test key_names(sp) == ["species"]
        @test sort(fetch(sp).species) == ["mouse", "rat"]
        @test count(U(:subject_id) & sess) == 3
        @test count(U(["subject_id", "session"]) & trial) == 3

        per = fetch(aggr(U("species"), subj; n="count(*)", heaviest="max(weight)"); order_by="species")
        @test per.species == ["mouse", "rat"]
        @test per.n == [2, 2]
        @test per.heaviest == [22.0, 300.0]
        @test fetch1(aggr(U(), sess; n="count(*)")).n == 6
        @test fetch1(aggr(U(), sess, "total=sum(duration)")).total == 100.0
        @test code_of(() -> aggr(U("species"), subj; exclude_nonmatching=true, n="count(*)")) == Lib.DJ_E_INVALID_ARG
        @test code_of(() -> U("nope") & subj) == Lib.DJ_E_UNKNOWN_ATTRIBUTE
        @test occursin("species", repr(U("species")))
    end
end

@testset "top" begin
    with_algebra() do conn, s, subj, sess, trial
        t2 = top(sess, 2; order_by="duration DESC, KEY")
        @test t2 isa Query
        @test count(t2) == 2
        @test sort(fetch(t2).duration) == [20.0, 30.0]
        @test fetch1(top(sess, 1; order_by="duration DESC", offset=1)).duration == 20.0
        @test fetch1(top(sess)).session == 1                     # the first row by primary key
        @test keys(top(sess, 3); order_by="KEY").subject_id == Int32[1, 1, 2]
        @test count(top(sess, 2; offset=5)) == 1
        @test count(top(sess, nothing; order_by=["duration DESC", "KEY"])) == 6
        @test count(top(sess, 3) & (subject_id=1,)) == 2          # restricting a top restricts its rows
        @test code_of(() -> top(sess, -1)) == Lib.DJ_E_INVALID_ARG
    end
end

@testset "cascading delete, part integrity and dry runs" begin
    with_algebra() do conn, s, subj, sess, trial
        s1 = subj & (subject_id=1,)
        @test s1 isa Table

        preview = delete!(s1; dry_run=true)
        @test preview isa DeleteReport
        @test preview.dry_run
        @test preview[1].table == "subject"
        @test preview[1].rows == 1
        @test preview[1].schema == DataJoint.name(s)
        per = Dict(r.table => r.rows for r in preview)
        @test per["session"] == 2
        @test per["session__trial"] == 4
        @test sum(r.rows for r in preview) == 7
        @test (count(subj), count(sess), count(trial)) == (4, 6, 6)   # nothing was deleted

        # a part's rows alone: refused, then deleted with their master, then on their own
        t = trial & (subject_id=3, session=1, trial=1)
        e = error_of(Lib.DJ_E_INTEGRITY, () -> delete!(t; part_integrity=:enforce))
        @test !isempty(e.msg)
        @test count(trial) == 6
        @test delete!(t; part_integrity=:cascade, dry_run=true).dry_run
        @test count(trial) == 6
        c = delete!(t; part_integrity=:cascade)
        @test !c.dry_run
        @test sum(r.rows for r in c) == 1 + 2                        # the session and both its trials
        @test count(sess) == 5
        @test count(trial) == 4
        ign = delete!(trial & (subject_id=1, session=2, trial=1); part_integrity=:ignore)
        @test ign[1] == (schema=DataJoint.name(s), table="session__trial", rows=1)
        @test count(trial) == 3
        @test count(sess) == 5

        # the cascade from the top
        r = delete!(s1; part_integrity=:enforce)
        @test r[1].rows == 1
        @test sum(x.rows for x in r) == 1 + 2 + 3
        @test (count(subj), count(sess), count(trial)) == (3, 3, 0)

        # restricted by a query, then deleted: the subject of the one session longer than 20
        r = delete!(subj & (sess & "duration > 20"); part_integrity=:enforce)
        @test r[1] == (schema=DataJoint.name(s), table="subject", rows=1)
        @test sum(x.rows for x in r) == 1 + 2
        @test count(subj) == 2
        @test count(sess) == 1

        # without keywords: the number of rows deleted from the table
        @test delete!(subj & (subject_id=4,)) == 1
        @test delete!(subj & (subject_id=42,)) == 0
        @test sum((x.rows for x in delete!(subj & (subject_id=42,); dry_run=true)); init=0) == 0

        @test code_of(() -> delete!(subj; part_integrity=:sometimes)) == Lib.DJ_E_INVALID_ARG
        @test count(subj) == 1
    end
end

@testset "update1!" begin
    with_algebra() do conn, s, subj, sess, trial
        key = (subject_id=2, session=1)
        @test update1!(sess, merge(key, (duration=99.5,))) === nothing
        @test fetch1(sess & key).duration == 99.5
        @test fetch1(sess & (subject_id=3, session=1)).duration == 10.0      # only that row
        update1!(sess, merge(key, (duration=nothing,)))                           # reset to the default (NULL)
        @test ismissing(fetch1(sess & key).duration)
        update1!(sess, Dict("subject_id" => 2, "session" => 1, "duration" => 5.0))
        @test fetch1(sess & key).duration == 5.0
        update1!(sess, merge(key, (duration=missing,)))
        @test ismissing(fetch1(sess & key).duration)
        update1!(subj, (subject_id=1, species="rat", weight=21.0))
        @test fetch1(subj & (subject_id=1,)) == (subject_id=Int32(1), species="rat", weight=21.0)

        @test error_of(Lib.DJ_E_NOT_FOUND, () -> update1!(sess, (subject_id=7, session=1, duration=1.0))).name == "NotFound"
        @test code_of(() -> update1!(sess, (subject_id=2, duration=1.0))) == Lib.DJ_E_INVALID_ARG   # not the whole key
        @test code_of(() -> update1!(sess, key)) == Lib.DJ_E_INVALID_ARG                           # nothing to change
        @test code_of(() -> update1!(sess & (subject_id=2,), merge(key, (duration=1.0,)))) == Lib.DJ_E_INVALID_ARG
        @test code_of(() -> update1!(sess, merge(key, (nope=1.0,)))) == Lib.DJ_E_UNKNOWN_ATTRIBUTE
        @test code_of(() -> update1!(subj, (subject_id=1, species=nothing))) == Lib.DJ_E_INVALID_ARG  # no default
        @test count(sess) == 6
    end
end

@testset "Arrow C Data export" begin
    with_algebra() do conn, s, subj, sess, trial
        r = DataJoint.fetch_result(subj * sess; order_by="KEY")
        sch, arr = arrow_export(r)
        close(r)   # the exported arrays keep the result's buffers
        @test sch isa Ref{Lib.ArrowSchema}
        @test arr isa Ref{Lib.ArrowArray}
        sc = sch[]
        @test unsafe_string(sc.format) == "+s"
        @test sc.n_children == 5
        @test sc.release != C_NULL
        children = [unsafe_load(unsafe_load(sc.children, i)) for i in 1:sc.n_children]
        names = [unsafe_string(c.name) for c in children]
        @test Set(names) == Set(["subject_id", "session", "duration", "species", "weight"])
        id_col = findfirst(==("subject_id"), names)
        sp_col = findfirst(==("species"), names)
        @test unsafe_string(children[id_col].format) == "i"       # int32
        @test unsafe_string(children[sp_col].format) == "U"       # large utf8

        ar = arr[]
        @test ar.length == 6
        @test ar.n_children == 5
        ids = unsafe_load(unsafe_load(ar.children, id_col))
        idbuf = Ptr{Int32}(unsafe_load(ids.buffers, 2))            # buffers: validity, values
        @test [unsafe_load(idbuf, k) for k in 1:6] == Int32[1, 1, 2, 3, 3, 3]
        sp = unsafe_load(unsafe_load(ar.children, sp_col))
        off = Ptr{Int64}(unsafe_load(sp.buffers, 2))               # validity, offsets, bytes
        chars = Ptr{UInt8}(unsafe_load(sp.buffers, 3))
        lo, hi = unsafe_load(off, 6), unsafe_load(off, 7)             # row 6 (0-based 5)
        @test unsafe_string(chars + lo, hi - lo) == "rat"

        arrow_release!(sch, arr)
        @test sch[].release == C_NULL
        @test arr[].release == C_NULL
        arrow_release!(sch, arr)   # idempotent

        # an export that is never released explicitly is released by the Refs' finalizers
        s2, a2 = arrow_export(DataJoint.fetch_result(subj))
        @test a2[].length == 4
        s2 = a2 = nothing
        GC.gc()

        # <blob> value trees have no Arrow type
        blobby = declare(s, "Blobby", :manual, "blob_id : int32\n---\nv : <blob>")
        insert1!(blobby, (blob_id=1, v=[1.0, 2.0]))
        rb = DataJoint.fetch_result(blobby)
        @test code_of(() -> arrow_export(rb)) == Lib.DJ_E_INVALID_ARG
        close(rb)
    end
end
