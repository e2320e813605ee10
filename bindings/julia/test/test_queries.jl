# Restrictions, fetch options, fetch1/keys/count/delete!, foreign keys, part tables, reopening a
# file (bindings/cpp/tests/test_queries.cpp).

const SUBJECT = """
    # experimental subject
    subject_id : int32
    ---
    name : varchar(64)
    sex : enum('M','F','U')
"""

const SESSION = """
    -> Subject
    session_id : int16
    ---
    note = "" : varchar(255)
"""

"f(conn, schema, subject, session, dir) with 5 subjects and 6 sessions (3, 2 and 1)."
function with_lab(f)
    with_db() do conn, s, dir
        subject = declare(s, "Subject", :manual, SUBJECT)
        session = declare(s, "Session", :manual, SESSION)
        @test insert!(subject, (subject_id=Int32[1, 2, 3, 4, 5], name=["Ada", "Bo", "Cy", "Di", "Ed"],
                                sex=["F", "M", "U", "F", "M"])) == 5
        rows = [(subject_id=sid, session_id=Int16(k), note="s$sid.$k") for (sid, n) in ((1, 3), (2, 2), (3, 1)) for k in 1:n]
        @test insert!(session, rows) == 6
        f(conn, s, subject, session, dir)
    end
end

@testset "restrict by a key" begin
    with_lab() do conn, s, subject, session, dir
        one = restrict(subject, (subject_id=2,))
        @test count(one) == 1
        @test fetch1(one).name == "Bo"
        @test count(restrict(session, (subject_id=1,))) == 3
        @test count(restrict(session, Dict("subject_id" => 1, "unrelated" => 5))) == 3   # other names are ignored
        @test fetch1(restrict(session, (subject_id=1, session_id=2))).note == "s1.2"
        @test count(restrict(session, (subject_id=4,))) == 0
        @test length(session) == 6
    end
end

@testset "restrict by a list of keys is an OR" begin
    with_lab() do conn, s, subject, session, dir
        ks = [(subject_id=1,), (subject_id=3,), (subject_id=42,)]
        some = restrict(subject, ks)
        @test count(some) == 2
        @test fetch(some; order_by="subject_id").subject_id == Int32[1, 3]
        @test count(restrict(session, ks)) == 4
        @test count(restrict(subject, NamedTuple[])) == 0      # the empty OR matches nothing
    end
end

@testset "SQL restrictions and chains are an AND" begin
    with_lab() do conn, s, subject, session, dir
        @test count(restrict(subject, "subject_id > 2")) == 3
        @test count(restrict(subject, "sex = 'F'")) == 2
        @test count(restrict(restrict(subject, "subject_id > 2"), "sex = 'F'")) == 1
        @test fetch1(restrict(restrict(subject, "subject_id > 2"), (subject_id=4,))).name == "Di"
        @test count(restrict(subject, "name LIKE '%d%'")) == 2
        @test count(subject) == 5
    end
end

@testset "exclude" begin
    with_lab() do conn, s, subject, session, dir
        @test count(exclude(subject, "subject_id > 2")) == 2
        @test count(exclude(subject, (subject_id=1,))) == 4
        @test count(exclude(exclude(subject, (subject_id=1,)), (subject_id=2,))) == 3
        @test fetch1(exclude(restrict(subject, "sex = 'M'"), (subject_id=2,))).name == "Ed"
    end
end

@testset "order_by, limit, offset and attributes" begin
    with_lab() do conn, s, subject, session, dir
        @test fetch(subject; order_by="subject_id DESC", limit=2, offset=1).subject_id == Int32[4, 3]
        @test fetch(subject; order_by="name DESC").name == ["Ed", "Di", "Cy", "Bo", "Ada"]
        only_names = fetch(subject; attributes=["name"], order_by="name")
        @test keys(only_names) == (:name,)
        @test only_names.name == ["Ada", "Bo", "Cy", "Di", "Ed"]
        @test keys(fetch(subject; attributes=:name)) == (:name,)
        last = fetch(session; attributes=["KEY", "note"], order_by="KEY DESC", limit=1)
        @test keys(last) == (:subject_id, :session_id, :note)
        @test last.note == ["s3.1"]
        r = DataJoint.fetch_result(session; attributes=["KEY", "note"], order_by=["subject_id", "session_id"])
        @test DataJoint.nrows(r) == 6
        @test DataJoint.ncols(r) == 3
        @test DataJoint.column_index(r, "note") == 3
        close(r)
        @test isempty(fetch(subject; limit=0).subject_id)
        @test isempty(fetch(subject; offset=10).subject_id)
    end
end

@testset "fetch1, keys and count" begin
    with_lab() do conn, s, subject, session, dir
        one = fetch1(restrict(subject, (subject_id=3,)))
        @test one == (subject_id=Int32(3), name="Cy", sex="U")
        @test keys(fetch1(restrict(subject, (subject_id=3,)); attributes=["name"])) == (:name,)
        @test error_of(Lib.DJ_E_NOT_FOUND, () -> fetch1(restrict(subject, (subject_id=99,)))).name == "NotFound"
        @test error_of(Lib.DJ_E_NOT_UNIQUE, () -> fetch1(subject)).name == "NotUnique"
        k = keys(session; order_by="KEY")
        @test Base.keys(k) == (:subject_id, :session_id)
        @test k.subject_id == Int32[1, 1, 1, 2, 2, 3]
        @test k.session_id == Int16[1, 2, 3, 1, 2, 1]
        @test count(subject) == 5
        @test count(session) == 6
    end
end

@testset "delete! with restrictions" begin
    with_lab() do conn, s, subject, session, dir
        @test delete!(restrict(restrict(session, (subject_id=1,)), "session_id >= 2")) == 2
        @test count(session) == 4
        @test delete!(restrict(session, "session_id > 100")) == 0
        @test delete!(restrict(subject, (subject_id=5,))) == 1
        @test count(subject) == 4
        @test delete!(session) == 4
        @test delete!(subject) == 4
        @test count(subject) == 0
    end
end

@testset "foreign keys block deleting a referenced parent" begin
    with_lab() do conn, s, subject, session, dir
        e = error_of(Lib.DJ_E_INTEGRITY, () -> delete!(restrict(subject, (subject_id=1,))))
        @test e.name == "Integrity"
        @test !isempty(e.msg)
        @test count(subject) == 5
        @test count(session) == 6
        @test code_of(() -> delete!(subject)) == Lib.DJ_E_INTEGRITY   # all or nothing
        @test count(subject) == 5
        @test delete!(restrict(session, (subject_id=1,))) == 3
        @test delete!(restrict(subject, (subject_id=1,))) == 1
        @test code_of(() -> drop!(subject)) != Lib.DJ_OK               # still referenced
        drop!(session)
        drop!(subject)
        @test isempty(tables(s))
    end
end

@testset "foreign keys reject a missing parent" begin
    with_lab() do conn, s, subject, session, dir
        @test code_of(() -> insert1!(session, (subject_id=99, session_id=1))) == Lib.DJ_E_INTEGRITY
        @test code_of(() -> insert!(session, (subject_id=Int32[4, 99], session_id=Int16[1, 1]))) == Lib.DJ_E_INTEGRITY
        @test count(session) == 6
    end
end

@testset "part table with its master" begin
    with_lab() do conn, s, subject, session, dir
        trial = declare_part(s, session, "Trial", """
            -> master
            trial_id : int32
            ---
            outcome : enum('hit','miss')
        """)
        @test DataJoint.name(trial) == "session__trial"
        attrs = DataJoint.attributes(trial)
        @test [a.name for a in attrs] == ["subject_id", "session_id", "trial_id", "outcome"]
        @test attrs[2].in_key && attrs[2].type == "int16"
        @test insert!(trial, (subject_id=Int32[1, 1, 2], session_id=Int16[1, 1, 2], trial_id=Int32[1, 2, 1],
                              outcome=["hit", "miss", "hit"])) == 3
        @test count(restrict(trial, "outcome = 'hit'")) == 2
        @test code_of(() -> insert1!(trial, (subject_id=5, session_id=1, trial_id=1, outcome="hit"))) == Lib.DJ_E_INTEGRITY
        @test code_of(() -> delete!(restrict(restrict(session, (subject_id=1,)), "session_id = 1"))) == Lib.DJ_E_INTEGRITY
        @test count(table(s, "Session.Trial")) == 3
        @test count(table(s, "session__trial")) == 3
    end
end

@testset "reopen the file with a new connection" begin
    with_tempdir() do dir
        file = joinpath(dir, "lab.duckdb")
        DataJoint.duckdb(file) do conn
            s = schema(conn, "test")
            subject = declare(s, "Subject", :manual, SUBJECT)
            declare(s, "Session", :manual, SESSION)
            insert!(subject, [(subject_id=i, name="n$i", sex="U") for i in 1:5])
        end  # closed: the file is released
        DataJoint.duckdb(file) do conn2
            @test DataJoint.backend(conn2) == "duckdb"
            @test "test" in DataJoint.schemas(conn2)
            s2 = schema(conn2, "test"; create=false)
            @test DataJoint.name(s2) == "test"
            @test tables(s2) == ["session", "subject"]
            subj = table(s2, "Subject")
            @test DataJoint.name(subj) == "subject"
            @test DataJoint.comment(subj) == "experimental subject"
            attrs = DataJoint.attributes(subj)
            @test [a.name for a in attrs] == ["subject_id", "name", "sex"]
            @test attrs[3].type == "enum('M','F','U')" && attrs[3].kind == Lib.DJ_KIND_STRING
            @test count(subj) == 5
            sess = table(s2, "Session")
            @test DataJoint.attributes(sess)[3].default == ""
            @test code_of(() -> insert1!(sess, (subject_id=99, session_id=1))) == Lib.DJ_E_INTEGRITY
            @test code_of(() -> schema(conn2, "absent"; create=false)) == Lib.DJ_E_NOT_FOUND
            @test code_of(() -> table(s2, "Absent")) == Lib.DJ_E_NOT_FOUND
        end
    end
end

@testset "schema listing and drop" begin
    with_db() do conn, s, dir
        other = schema(conn, "other")
        declare(other, "Thing", :manual, "thing_id : int32")
        @test "other" in DataJoint.schemas(conn)
        drop!(other)
        @test !("other" in DataJoint.schemas(conn))
        @test code_of(() -> schema(conn, "other"; create=false)) == Lib.DJ_E_NOT_FOUND
        @test code_of(() -> schema(conn, "bad name!")) == Lib.DJ_E_INVALID_ARG
        # The do-block form closes the schema handle.
        DataJoint.schema(conn, "third") do s3
            @test DataJoint.name(s3) == "third"
        end
    end
end
