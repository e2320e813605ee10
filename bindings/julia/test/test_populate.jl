# Autopopulate (ABI 0.6): populate! with a do-block (master and part rows in one transaction),
# a throwing make rolled back, suppress_errors and the report, the jobs table, progress, key
# source, restrictions, options, refused direct inserts, objects removed on rollback
# (bindings/cpp/tests/test_populate.cpp).

const POP_SUBJECT = "subject_id : int32\n---\nweight : float64"
const POP_SESSION = "-> Subject\nsession : int16"
const POP_STATS = "-> Session\n---\nscore : float64"
const POP_UNIT = "-> master\nunit : int16\n---\nrate : float64"

"f(conn, s, subject, session, stats, unit) with 3 subjects of 2 sessions each, Stats (computed) and its part Unit."
function with_pipeline(f)
    with_db() do conn, s, dir
        subject = declare(s, "Subject", :manual, POP_SUBJECT)
        session = declare(s, "Session", :manual, POP_SESSION)
        stats = declare(s, "Stats", :computed, POP_STATS)
        unit = declare_part(s, stats, "Unit", POP_UNIT)
        @test insert!(subject, [(subject_id=k, weight=10.0 * k) for k in 1:3]) == 3
        @test insert!(session, [(subject_id=k, session=j) for k in 1:3 for j in 1:2]) == 6
        f(conn, s, subject, session, stats, unit)
    end
end

"""
A make for Stats: the master row and two part rows; for subject `fail` it throws after writing
them (so the rollback is what removes them).
"""
function stats_maker(subject, unit; fail=0)
    return function (t, key)
        w = fetch1(subject & key).weight
        insert1!(t, merge(key, (score=w * key.session,)))
        insert!(unit, [merge(key, (unit=u, rate=1.0 * u)) for u in 1:2])
        key.subject_id == fail && error("subject $(key.subject_id) refused")
        return nothing
    end
end

@testset "the new status codes" begin
    @test DataJoint.status_name(Lib.DJ_E_NOT_ALLOWED) == "NotAllowed"
    @test DataJoint.status_name(Lib.DJ_E_MAKE_FAILED) == "MakeFailed"
    @test DataJointError(Lib.DJ_E_MAKE_FAILED, "m").name == "MakeFailed"
    @test Lib.DJ_ABI_VERSION_MINOR >= 6
end

@testset "struct layouts of populate (64-bit)" begin
    io = Ref(Lib.dj_insert_opts())
    @test Lib.dj_insert_opts_init(io) == Lib.DJ_OK
    @test io[].struct_size == sizeof(Lib.dj_insert_opts) == 12
    @test fieldoffset(Lib.dj_insert_opts, 5) == 8          # allow_direct_insert (ABI 0.6)
    @test io[].allow_direct_insert == 0
    po = Ref(Lib.dj_populate_opts())
    @test Lib.dj_populate_opts_init(po) == Lib.DJ_OK
    @test po[].struct_size == sizeof(Lib.dj_populate_opts) == 112
    @test fieldoffset(Lib.dj_populate_opts, 8) == 56        # reserve_jobs
    @test fieldoffset(Lib.dj_populate_opts, 14) == 96       # progress
    @test po[].max_calls == -1 && po[].priority == -1 && po[].refresh == -1
    @test po[].order == Lib.DJ_ORDER_ORIGINAL && po[].progress == C_NULL
    ro = Ref(Lib.dj_refresh_opts())
    @test Lib.dj_refresh_opts_init(ro) == Lib.DJ_OK
    @test ro[].struct_size == sizeof(Lib.dj_refresh_opts) == 56
    @test ro[].priority == -1 && ro[].stale_timeout == -1.0 && ro[].orphan_timeout == 0.0
    @test sizeof(Lib.dj_populate_progress) == 32
    @test sizeof(Lib.dj_refresh_report) == 32
    @test sizeof(Lib.dj_job_counts) == 48
    # NULL handles and a NULL make are reported, not dereferenced.
    @test Lib.dj_table_populate(C_NULL, C_NULL, C_NULL, C_NULL, C_NULL) == Lib.DJ_E_INVALID_HANDLE
    @test Lib.dj_table_clone(C_NULL, Ref{Ptr{Lib.dj_table}}(C_NULL)) == Lib.DJ_E_INVALID_HANDLE
    @test Lib.dj_row_clone(C_NULL, Ref{Ptr{Lib.dj_row}}(C_NULL)) == Lib.DJ_E_INVALID_HANDLE
    @test Lib.dj_result_clone(C_NULL, Ref{Ptr{Lib.dj_result}}(C_NULL)) == Lib.DJ_E_INVALID_HANDLE
    @test Lib.dj_make_fail(C_NULL, "m", C_NULL) == Lib.DJ_E_INVALID_HANDLE
    @test Lib.dj_make_key_row(C_NULL) == C_NULL
    Lib.dj_populate_report_free(C_NULL)
end

@testset "a do-block make fills master and part rows" begin
    with_pipeline() do conn, s, subject, session, stats, unit
        @test key_source(stats) isa Query
        @test count(key_source(stats)) == 6
        @test progress(stats) == (remaining=6, total=6)
        seen = NamedTuple[]
        tables = Table[]
        r = populate!(stats) do t, key
            push!(seen, key)
            push!(tables, t)
            @test t isa Table
            @test DataJoint.name(t) == "__stats"
            @test key.subject_id isa Int32 && key.session isa Int16
            w = fetch1(subject & key).weight
            insert1!(t, merge(key, (score=w * key.session,)))
            insert!(unit, (subject_id=fill(key.subject_id, 2), session=fill(key.session, 2),
                           unit=Int16[1, 2], rate=[1.0, 2.0]))
        end
        @test r isa PopulateReport
        @test r.success_count == 6
        @test r.skipped == 0
        @test isempty(r.errors)
        @test length(seen) == 6
        @test Set(seen) == Set((subject_id=Int32(k), session=Int16(j)) for k in 1:3 for j in 1:2)
        @test keys(first(seen)) == (:subject_id, :session)
        @test !any(isopen, tables)          # the make's table is valid during the call only
        @test count(stats) == 6
        @test count(unit) == 12
        @test progress(stats).remaining == 0
        @test fetch1(stats & "subject_id = 3 AND session = 2").score == 60.0   # 3 * 10 * 2
        remaining, total = progress(stats)
        @test (remaining, total) == (0, 6)
        # nothing left to make
        @test populate!((t, k) -> error("not called"), stats).success_count == 0
    end
end

@testset "a throwing make is rolled back; suppress_errors goes on" begin
    with_pipeline() do conn, s, subject, session, stats, unit
        e = error_of(Lib.DJ_E_MAKE_FAILED, () -> populate!(stats_maker(subject, unit; fail=1), stats))
        @test e.name == "MakeFailed"
        @test occursin("subject 1 refused", e.msg)
        @test occursin("ErrorException", e.msg)
        @test occursin("subject_id=1", e.msg)       # the library names the key
        @test count(stats) == 0
        @test count(unit) == 0

        done = Int[]
        r = populate!(stats_maker(subject, unit; fail=2), stats; suppress_errors=true,
                      progress=p -> push!(done, p.done))
        @test r.success_count == 4
        @test length(r.errors) == 2
        @test all(x -> occursin("ErrorException: subject 2 refused", x.message), r.errors)
        @test Set(x.key for x in r.errors) == Set([(subject_id=Int32(2), session=Int16(1)),
                                                  (subject_id=Int32(2), session=Int16(2))])
        @test done == [1, 2, 3, 4, 5, 6]
        @test count(stats) == 4
        @test count(unit) == 8
        @test count(stats & "subject_id = 2") == 0
        @test count(unit & "subject_id = 2") == 0
        @test occursin("errors = 2", sprint(show, r))
    end
end

@testset "library errors inside make are recorded, not unwound" begin
    with_pipeline() do conn, s, subject, session, stats, unit
        # a DataJointError in make (a value of the wrong type)
        r = populate!(stats; suppress_errors=true, max_calls=1) do t, key
            insert1!(t, merge(key, (score="high",)))
        end
        @test r.success_count == 0
        @test length(r.errors) == 1
        @test occursin("DataJointError", r.errors[1].message)
        @test occursin("Type", r.errors[1].message)
        # a populate inside a make is refused by the library
        r = populate!(stats; suppress_errors=true, max_calls=1) do t, key
            populate!((t2, k2) -> nothing, stats)
        end
        @test occursin("NotAllowed", only(r.errors).message)
        # any Julia exception: a missing field, a KeyError
        r = populate!(stats; suppress_errors=true, max_calls=2) do t, key
            key.session == 1 ? key.nope : Dict{Int,Int}()[0]
        end
        @test length(r.errors) == 2
        @test count(stats) == 0
        # the table is usable afterwards
        @test populate!(stats_maker(subject, unit), stats).success_count == 6
    end
end

@testset "an interrupt stays an interrupt" begin
    with_pipeline() do conn, s, subject, session, stats, unit
        @test_throws InterruptException populate!((t, k) -> throw(InterruptException()), stats)
        @test count(stats) == 0
        # with suppress_errors the populate goes on (as the reference does), then rethrows
        calls = Ref(0)
        @test_throws InterruptException populate!(stats; suppress_errors=true) do t, key
            calls[] += 1
            calls[] == 1 && throw(InterruptException())
            insert1!(t, merge(key, (score=1.0,)))
        end
        @test calls[] == 6
        @test count(stats) == 5
    end
end

@testset "a failing progress function is rethrown after the populate" begin
    with_pipeline() do conn, s, subject, session, stats, unit
        calls = Ref(0)
        e = try
            populate!(stats_maker(subject, unit), stats; progress=p -> (calls[] += 1; error("progress broke")))
            nothing
        catch err
            err
        end
        @test e isa ErrorException && e.msg == "progress broke"
        @test calls[] == 1                 # later calls are skipped
        @test count(stats) == 6            # the keys were made
    end
end

@testset "the jobs table records errors; restrictions apply" begin
    with_pipeline() do conn, s, subject, session, stats, unit
        r = populate!(stats_maker(subject, unit; fail=3), stats; reserve_jobs=true, suppress_errors=true,
                      restrictions="session = 1")
        @test r.success_count == 2
        @test length(r.errors) == 1
        @test r.errors[1].key == (subject_id=Int32(3), session=Int16(1))
        c = job_counts(stats)
        @test c.error == 1
        @test c.reserved == 0
        @test c.pending == 0
        @test c.total == 1                 # completed jobs are deleted (jobs.keep_completed is off)
        j = jobs(stats)
        @test j isa Table
        @test DataJoint.name(j) == "~~stats"
        e = fetch1(j & "status = 'error'")
        @test e.subject_id == 3
        @test e.error_message == "ErrorException: subject 3 refused"
        @test e.error_stack isa String && occursin("test_populate.jl", e.error_stack)
        # every session-1 key is made or has a job
        @test refresh_jobs!(stats; restrictions="session = 1").added == 0
        # a reserving populate leaves the failed key alone
        @test populate!(stats_maker(subject, unit), stats; reserve_jobs=true,
                        restrictions="session = 1").success_count == 0
        # a key restriction
        @test populate!(stats_maker(subject, unit), stats; reserve_jobs=true,
                        restrictions=(subject_id=1,)).success_count == 1
        # the direct mode does not look at the jobs table
        @test populate!(stats_maker(subject, unit), stats; restrictions=(subject_id=3, session=2)).success_count == 1
        @test progress(stats) == (remaining=2, total=6)    # (2, 2) and the failed (3, 1)
        ignore_job!(stats, (subject_id=2, session=2))
        @test job_counts(stats).ignore == 1
        rr = refresh_jobs!(stats)
        @test rr.added == 0
        @test keys(rr) == (:added, :removed, :orphaned, :re_pended)
        # ignored and failed jobs are not made by reserving workers
        @test populate!(stats_maker(subject, unit), stats; reserve_jobs=true).success_count == 0
        @test count(stats) == 4
        # clearing the error lets its key be made again
        @test delete!(j & "status = 'error'") == 1
        @test populate!(stats_maker(subject, unit), stats; reserve_jobs=true).success_count == 1
        @test count(stats & (subject_id=3, session=1)) == 1
        @test progress(stats).remaining == 1
        # the direct mode makes the ignored key too
        @test populate!(stats_maker(subject, unit), stats).success_count == 1
        @test count(stats) == 6
    end
end

@testset "refresh_jobs! options" begin
    with_pipeline() do conn, s, subject, session, stats, unit
        r = refresh_jobs!(stats; restrictions="subject_id = 1", priority=3, delay=3600)
        @test r.added == 2
        @test job_counts(stats).pending == 2
        @test all(==(3), fetch(jobs(stats)).priority)
        # the new jobs are not due for an hour: a reserving populate (no refresh) makes none
        @test populate!(stats_maker(subject, unit), stats; reserve_jobs=true, refresh=false).success_count == 0
        # due at once (a second back), with the default priority (5)
        r = refresh_jobs!(stats; restrictions=("subject_id > 1", "session = 2"), delay=-1, orphan_timeout=60,
                          stale_timeout=0)
        @test r.added == 2
        @test job_counts(stats).total == 4
        @test code_of(() -> refresh_jobs!(stats; restrictions=[(subject_id=1,)])) == Lib.DJ_E_INVALID_ARG
        @test code_of(() -> refresh_jobs!(stats; priority=-2)) == Lib.DJ_E_INVALID_ARG
        @test code_of(() -> refresh_jobs!(stats; stale_timeout=-1)) == Lib.DJ_E_INVALID_ARG
        # priority: only jobs at least this urgent are made
        @test populate!(stats_maker(subject, unit), stats; reserve_jobs=true, refresh=false,
                        priority=2).success_count == 0
        @test populate!(stats_maker(subject, unit), stats; reserve_jobs=true, refresh=false,
                        priority=5).success_count == 2
        @test count(stats & "session = 2") == 2
    end
end

@testset "restrictions: SQL, queries, keys, AND of several" begin
    with_pipeline() do conn, s, subject, session, stats, unit
        @test progress(stats; restrictions="subject_id > 1") == (remaining=4, total=4)
        @test progress(stats; restrictions=subject & "weight > 25") == (remaining=2, total=2)          # a table
        @test progress(stats; restrictions=Query(subject) & "weight < 15").total == 2                  # a query
        @test progress(stats; restrictions=(subject_id=2,)).total == 2                                   # a key
        @test progress(stats; restrictions=Dict("subject_id" => 2, "session" => 1)).total == 1            # a Dict
        @test progress(stats; restrictions=[(subject_id=1,), (subject_id=3,)]).total == 4               # any of them
        @test progress(stats; restrictions=NamedTuple[]).total == 0                                       # none
        @test progress(stats; restrictions=("session = 2", subject & "weight > 15", [(subject_id=3,)])).total == 1
        @test code_of(() -> progress(stats; restrictions=((subject_id=1,), (session=1,)))) == Lib.DJ_E_INVALID_ARG
        @test code_of(() -> progress(stats; restrictions=42)) == Lib.DJ_E_INVALID_ARG
        @test code_of(() -> progress(stats; restrictions=["session = 1"])) == Lib.DJ_E_INVALID_ARG        # keys only
        @test code_of(() -> progress(stats; restrictions="nope = 1")) != Lib.DJ_OK
        made = NamedTuple[]
        r = populate!(stats; restrictions=("session = 2", [(subject_id=1,), (subject_id=2,)])) do t, key
            push!(made, key)
            insert1!(t, merge(key, (score=0.0,)))
        end
        @test r.success_count == 2
        @test Set(made) == Set([(subject_id=Int32(1), session=Int16(2)), (subject_id=Int32(2), session=Int16(2))])
        # a restricted table cannot be populated: pass the conditions as restrictions
        @test code_of(() -> populate!((t, k) -> nothing, stats & "subject_id = 1")) == Lib.DJ_E_INVALID_ARG
        # nor a manual one
        @test code_of(() -> populate!((t, k) -> nothing, subject)) == Lib.DJ_E_INVALID_ARG
        @test code_of(() -> progress(subject)) == Lib.DJ_E_INVALID_ARG
        @test code_of(() -> jobs(subject)) == Lib.DJ_E_INVALID_ARG
    end
end

@testset "order and max_calls" begin
    with_pipeline() do conn, s, subject, session, stats, unit
        made = NamedTuple[]
        record = (t, key) -> (push!(made, key); insert1!(t, merge(key, (score=0.0,))))
        @test populate!(record, stats; order=:reverse, max_calls=1).success_count == 1
        @test populate!(record, stats; order=:original, max_calls=1).success_count == 1
        @test populate!(record, stats; order=:random, max_calls=2).success_count == 2
        @test populate!(record, stats; max_calls=0).success_count == 0
        @test length(made) == 4 && allunique(made)
        @test count(stats) == 4
        @test code_of(() -> populate!(record, stats; order=:sideways)) == Lib.DJ_E_INVALID_ARG
        @test code_of(() -> populate!(record, stats; max_calls=-1)) == Lib.DJ_E_INVALID_ARG
        @test code_of(() -> populate!(record, stats; priority=-1)) == Lib.DJ_E_INVALID_ARG
        @test count(stats) == 4
        @test populate!(record, stats; order=:reverse).success_count == 2
        @test progress(stats) == (remaining=0, total=6)
    end
end

@testset "direct inserts are refused unless allowed; a key source of our own" begin
    with_pipeline() do conn, s, subject, session, stats, unit
        row = (subject_id=1, session=1, score=1.0)
        e = error_of(Lib.DJ_E_NOT_ALLOWED, () -> insert1!(stats, row))
        @test e.name == "NotAllowed"
        @test occursin("allow_direct_insert", e.msg)
        @test code_of(() -> insert!(stats, [row])) == Lib.DJ_E_NOT_ALLOWED
        @test code_of(() -> insert!(stats, (subject_id=Int32[1], session=Int16[1], score=[1.0]))) == Lib.DJ_E_NOT_ALLOWED
        @test insert1!(stats, row; allow_direct_insert=true) == 1
        @test insert!(stats, (subject_id=Int32[2], session=Int16[1], score=[2.0]); allow_direct_insert=true) == 1
        @test count(stats) == 2
        # a key source of our own
        custom = with_key_source(stats, session & "session = 2")
        @test custom isa Table
        @test count(key_source(custom)) == 3
        @test progress(custom) == (remaining=3, total=3)
        @test populate!(stats_maker(subject, unit), custom).success_count == 3
        @test count(stats) == 5
        @test progress(stats) == (remaining=1, total=6)
        # a key source whose primary key the table does not have (unit)
        @test code_of(() -> progress(with_key_source(stats, unit))) == Lib.DJ_E_INVALID_ARG
    end
end

@testset "objects a failed make wrote are removed" begin
    with_tempdir() do dir
        DataJoint.connect(nothing, store_overrides(dir)) do conn
            s = schema(conn, "lab")
            rec = declare(s, "Rec", :manual, "rec_id : int32")
            trace = declare(s, "Trace", :computed, "-> Rec\n---\narr : <npy@>")
            insert!(rec, [(rec_id=k,) for k in 1:3])
            store = joinpath(dir, "store")
            r = populate!(trace; suppress_errors=true) do t, key
                insert1!(t, merge(key, (arr=fill(Float32(key.rec_id), 4, 2),)))
                key.rec_id == 2 && error("no trace")
            end
            @test r.success_count == 2
            @test only(r.errors).key == (rec_id=Int32(2),)
            @test count(trace) == 2
            @test length(files_under(store)) == 2          # the failed key's file is gone
            @test DataJoint.load(fetch1(trace & (rec_id=3,)).arr) == fill(3.0f0, 4, 2)
        end
    end
end
