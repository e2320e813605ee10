function tests = suite_algebra()
% The query algebra (dj.Query, operators, proj, aggr, dj.U, top), cascading delete with
% part_integrity and dry_run, and update1.
tests = {
    'algebra_join', @t_join
    'algebra_semijoin_antijoin', @t_semijoin
    'algebra_proj', @t_proj
    'algebra_aggr', @t_aggr
    'algebra_union', @t_union
    'algebra_universal', @t_universal
    'algebra_top', @t_top
    'algebra_fetch_shapes_and_errors', @t_fetch
    'algebra_semantic_check', @t_semantic
    'algebra_cascade_delete', @t_delete
    'algebra_delete_restricted_by_dependent', @t_delete_by_dependent
    'algebra_update1', @t_update1
    };
end

% ---------------------------------------------------------------- fixture

function f = fixture(ctx)
% Subject (4) <- Session (6, master) <- Session.Trial (6, part); Session <- Analysis (5);
% Experimenter (for the semantic check).
conn = test_conn(ctx);
lab = conn.schema(sname(ctx, 'alg'));
f.subject = lab.declare('Subject', 'Manual', ...
    sprintf('subject_id : int32\n---\nspecies : varchar(20)\nweight = null : float64'));
f.session = lab.declare('Session', 'Manual', ...
    sprintf('-> Subject\nsession : int16\n---\nduration = null : float64\nnote = "none" : varchar(20)'));
f.trial = f.session.declarePart('Trial', sprintf('-> master\ntrial : int16\n---\nt0 : float64\nt1 : float64'));
f.analysis = lab.declare('Analysis', 'Manual', sprintf('-> Session\n---\nresult : float64'));
f.experimenter = lab.declare('Experimenter', 'Manual', sprintf('experimenter : varchar(20)\n---\nlab : int32'));
f.schema = lab.name();
f.subject.insert(struct('subject_id', {1, 2, 3, 4}, 'species', {'mouse', 'mouse', 'rat', 'rat'}, ...
                        'weight', {20.5, 22.0, 300.0, 250.0}));
s = struct('subject_id', {}, 'session', {}, 'duration', {});
for p = [1 2; 2 1; 3 3]'
    for k = 1:p(2)
        s(end + 1) = struct('subject_id', p(1), 'session', k, 'duration', 10 * k); %#ok<AGROW>
    end
end
f.session.insert(s);
t = struct('subject_id', {}, 'session', {}, 'trial', {}, 't0', {}, 't1', {});
for p = [1 1; 1 2; 3 1]'
    for k = 1:2
        t(end + 1) = struct('subject_id', p(1), 'session', p(2), 'trial', k, 't0', k, 't1', 2.5 * k); %#ok<AGROW>
    end
end
f.trial.insert(t);
a = struct('subject_id', {1, 1, 3, 3, 3}, 'session', {1, 2, 1, 2, 3}, 'result', {0.1, 0.2, 0.1, 0.2, 0.3});
f.analysis.insert(a);
f.experimenter.insert(struct('experimenter', {'ann', 'bob'}, 'lab', {1, 3}));
end

function n = names(q)
h = q.heading();
n = {h.name};
end

% ---------------------------------------------------------------- tests

function t_join(ctx)
f = fixture(ctx);
j = f.subject * f.session;
check_equal(class(j), 'dj.Query', 'a join is a dj.Query');
check_equal(j.count(), 6, 'join count (1:n)');
check_equal(j.primaryKey(), {'subject_id', 'session'}, 'join primary key');
check_equal(names(j), {'subject_id', 'session', 'duration', 'note', 'species', 'weight'}, 'join heading');
check_equal((j & 'species = ''rat''').count(), 3, 'join & SQL');
check_equal(class(j & 'species = ''rat'''), 'dj.Query', 'a restricted query is a dj.Query');
check_equal((j & 'species = ''rat''' & struct('session', 2)).count(), 1, 'stacked restrictions');
r = fetch(j & struct('subject_id', 3), 'order_by', 'session');
check_equal([r.session], int16([1 2 3]), 'join rows');
check_equal({r.species}, {'rat', 'rat', 'rat'}, 'joined attribute');
% master * part, three tables, query * table
p = f.session * f.trial;
check_equal(p.count(), 6, 'master * part');
check_equal(p.primaryKey(), {'subject_id', 'session', 'trial'}, 'part join key');
check_equal((f.subject * f.session * f.trial & 'species = ''mouse''').count(), 4, 'three-way join');
check_equal((j * f.trial).count(), 6, 'query * table');
% left join: every session, analysis attributes NULL where there is none
l = join(f.session, f.analysis, 'left', true);
check_equal(l.count(), 6, 'left join count');
[c, v] = fetch(l, 'format', 'columns', 'order_by', 'KEY');
check_equal(c.subject_id, int32([1; 1; 2; 3; 3; 3]), 'left join keys');
check_equal(v.result, [true; true; false; true; true; true], 'left join validity');
check_equal(c.result(3), NaN, 'left join NULL');
check_error(@() join(f.subject, f.session, 'left', true), 'DataJoint:InvalidArgument', 'left join needs determination');
check_error(@() f.subject * 5, 'DataJoint:InvalidArgument', 'join with a number');
check_error(@() join(f.subject, f.session, 'nope', 1), 'DataJoint:InvalidArgument', 'unknown join option');
% the operands are unchanged; a query outlives the tables it was made of
check_equal(f.subject.count(), 4, 'operand unchanged');
q = f.subject * f.session & 'duration > 15';
f = [];  %#ok<NASGU>  clears every table and the schema
check_equal(q.count(), 3, 'query after its tables were cleared');
check_true(~isempty(strfind(sql(q), 'SELECT')), 'sql');
check_equal(class(query(q)), 'dj.Query', 'query of a query');
end

function t_semijoin(ctx)
f = fixture(ctx);
r = f.subject & f.session;
check_equal(class(r), 'dj.Table', 'table & query is a dj.Table');
check_equal(r.count(), 3, 'semijoin');
check_equal((f.subject - f.session).count(), 1, 'antijoin');
check_equal((f.subject - f.session).fetch1('subject_id'), int32(4), 'antijoin row');
check_equal((f.session & (f.trial & 't0 > 1.5')).count(), 3, 'semijoin by a restricted part');
check_equal((f.session - f.trial).count(), 3, 'sessions without trials');
check_equal((f.subject & (f.session & 'duration > 25')).fetch1('subject_id'), int32(3), 'semijoin by a query');
check_equal((f.subject * f.session - f.analysis).count(), 1, 'query - table');
check_equal(class(f.subject * f.session - f.analysis), 'dj.Query', 'query - table is a query');
% keys: struct, struct array (OR), cell of structs, on tables and queries
j = f.subject * f.session;
check_equal((f.session & struct('subject_id', {1, 2})).count(), 3, 'table & keys');
check_equal((j & struct('subject_id', {1, 2})).count(), 3, 'query & keys');
check_equal((j & struct('subject_id', {})).count(), 0, 'query & no keys');
check_equal((j - struct('subject_id', {})).count(), 6, 'query - no keys');
check_equal((j - struct('subject_id', 1)).count(), 4, 'query - key');
check_equal((j - struct('subject_id', {1, 3})).count(), 1, 'query - keys');
ks = {struct('subject_id', 1), struct('subject_id', 3, 'session', 2)};
check_equal((f.session & ks).count(), 3, 'table & cell of keys');
check_equal((j & ks).count(), 3, 'query & cell of keys');
check_equal((f.session - ks).count(), 3, 'table - cell of keys');
check_equal((j & struct('species', 'rat', 'nope', 1)).count(), 3, 'names the query lacks are ignored');
check_error(@() j & 5, 'DataJoint:InvalidArgument', 'a number is no restriction');
% contains
check_true(contains(j, struct('subject_id', 3, 'session', 3)), 'contains');
check_true(~contains(j, struct('subject_id', 4)), 'does not contain');
check_true(contains(f.subject, struct('subject_id', 4)), 'table contains');
% a restricted table is still deletable and insertable
check_equal(class(f.session & struct('subject_id', 2)), 'dj.Table', 'table & key is a dj.Table');
end

function t_proj(ctx)
f = fixture(ctx);
d = proj(f.trial, 'dur=t1-t0');
check_equal(names(d), {'subject_id', 'session', 'trial', 'dur'}, 'computed heading');
check_equal((d & 'dur > 2').count(), 3, 'restrict a computed attribute');
check_equal(fetch1(d & struct('subject_id', 3, 'session', 1, 'trial', 2), 'dur'), 3, 'computed value');
check_equal(proj(f.subject).primaryKey(), {'subject_id'}, 'proj() keeps the key');
check_equal(names(proj(f.subject)), {'subject_id'}, 'proj() drops the secondary attributes');
a = proj(f.subject, 'animal=subject_id');
check_equal(a.primaryKey(), {'animal'}, 'rename the key');
check_equal(fetch(a, 'order_by', 'animal', 'limit', 1), struct('animal', int32(1)), 'renamed values');
k = proj(f.subject, 'kind=species', 'weight');
check_equal(names(k), {'subject_id', 'kind', 'weight'}, 'rename a secondary attribute (in its place)');
check_equal(fetch1(k & struct('subject_id', 3), 'kind'), 'rat', 'renamed secondary value');
c = proj(f.subject, 'species', 'sp=(species)');
check_equal(names(c), {'subject_id', 'species', 'sp'}, 'copy keeps the original');
check_equal(names(proj(f.subject, '...', '-weight')), {'subject_id', 'species'}, '... and -');
check_equal(names(proj(f.subject, {'species', 'w2=2*weight'})), {'subject_id', 'species', 'w2'}, 'cellstr items');
check_equal(fetch1(proj(f.subject, 'w2=2*weight') & 'subject_id = 1', 'w2'), 41, 'computed from a secondary');
check_error(@() proj(f.subject, 'nope'), 'DataJoint:UnknownAttribute', 'unknown attribute');
check_error(@() proj(f.subject, '-subject_id'), 'DataJoint:InvalidArgument', 'cannot drop the key');
check_error(@() proj(f.subject, 3), 'DataJoint:InvalidArgument', 'items are text');
% proj of a join, and a join of projections
pj = proj(f.subject * f.session, 'species', 'duration');
check_equal(pj.count(), 6, 'proj of a join');
check_equal((proj(f.subject, 'species') * proj(f.session)).count(), 6, 'join of projections');
end

function t_aggr(ctx)
f = fixture(ctx);
n = aggr(f.subject, f.session, 'n=count(session)', 'total=sum(duration)');
check_equal(names(n), {'subject_id', 'n', 'total'}, 'aggr heading');
r = fetch(n, 'order_by', 'subject_id');
check_equal(size(r), [4 1], 'one row per subject');
check_equal(double([r.n]), [2 1 3 0], 'count(attr): 0 without matches');
check_equal(r(3).total, 60, 'sum');
check_equal(r(4).total, [], 'sum of nothing is NULL');
% count(*) over the LEFT JOIN counts the unmatched row once, as the reference does
s = fetch(aggr(f.subject, f.session, 'n=count(*)'), 'order_by', 'subject_id');
check_equal(double([s.n]), [2 1 3 1], 'count(*) with nonmatching rows');
e = aggr(f.subject, f.session, 'n=count(*)', 'exclude_nonmatching', true);
check_equal(e.count(), 3, 'exclude_nonmatching');
s = fetch(e, 'order_by', 'subject_id');
check_equal(double([s.n]), [2 1 3], 'count(*) of matching rows only');
check_equal(aggr(f.subject, f.session, 'n=count(*)', 'exclude_nonmatching', false).count(), 4, 'exclude_nonmatching false');
check_equal((n & 'n >= 2').count(), 2, 'restrict an aggregation');
check_equal(class(n & 'n >= 2'), 'dj.Query', 'restricted aggregation is a query');
% keep attributes of the grouping expression, aggregate over a restricted group
w = aggr(f.subject, f.session & 'duration > 15', 'species', 'm=max(duration)');
r = fetch(w, 'order_by', 'subject_id');
check_equal(names(w), {'subject_id', 'species', 'm'}, 'aggr keeps attributes');
check_equal({r.species}, {'mouse', 'mouse', 'rat', 'rat'}, 'kept values');
check_equal({r.m}, {20, [], 30, []}, 'max over a restricted group');
% per session: trials
t = fetch(aggr(f.session, f.trial, 'nt=count(trial)', 'exclude_nonmatching', true), 'order_by', 'KEY');
check_equal(double([t.nt]), [2 2 2], 'trials per session');
check_error(@() aggr(f.session, f.subject, 'n=count(*)'), 'DataJoint:InvalidArgument', 'group must contain the key');
end

function t_union(ctx)
f = fixture(ctx);
u = proj(f.subject & 'species = ''mouse''') + proj(f.subject & 'weight > 100');
check_equal(class(u), 'dj.Query', 'a union is a dj.Query');
check_equal(u.count(), 4, 'union of keys');
u2 = proj(f.subject & 'subject_id <= 2') + proj(f.subject & 'subject_id <= 3');
check_equal(u2.count(), 3, 'union removes duplicates');
% different secondary attributes: each row takes the ones of the operand that has it
w = proj(f.subject & 'subject_id < 3', 'species') + proj(f.subject & 'subject_id > 2', 'weight');
r = fetch(w, 'order_by', 'subject_id');
check_equal([r.subject_id], int32(1:4), 'union rows');
check_equal({r.species}, {'mouse', 'mouse', [], []}, 'species from the first operand');
check_equal({r.weight}, {[], [], 300, 250}, 'weight from the second operand');
check_equal((u & 'subject_id > 2').count(), 2, 'restricted union');
check_error(@() f.subject + f.session, 'DataJoint:InvalidArgument', 'union needs one primary key');
check_error(@() (f.subject & 'subject_id < 2') + (f.subject & 'subject_id > 2'), 'DataJoint:InvalidArgument', ...
            'union operands sharing a secondary attribute');
end

function t_universal(ctx)
f = fixture(ctx);
d = dj.U('species') & f.subject;
check_equal(class(d), 'dj.Query', 'dj.U & q is a query');
check_equal(d.count(), 2, 'distinct species');
check_equal(d.primaryKey(), {'species'}, 'dj.U attributes are the key');
r = fetch(d, 'order_by', 'species');
check_equal({r.species}, {'mouse', 'rat'}, 'distinct values');
check_equal((dj.U('subject_id') & f.session).count(), 3, 'distinct subjects with sessions');
check_equal((dj.U('species') & (f.subject * f.session)).count(), 2, 'dj.U & a join');
a = aggr(dj.U('species'), f.subject, 'n=count(*)', 'w=avg(weight)');
r = fetch(a, 'order_by', 'species');
check_equal({r.species}, {'mouse', 'rat'}, 'aggr(dj.U) groups');
check_equal(double([r.n]), [2 2], 'aggr(dj.U) counts');
check_equal(r(2).w, 275, 'aggr(dj.U) averages');
s = fetch(aggr(dj.U('subject_id'), f.session, 'n=count(*)'), 'order_by', 'subject_id');
check_equal(double([s.n]), [2 1 3], 'sessions per subject');
check_equal(double(fetch1(aggr(dj.U(), f.session, 'n=count(*)'), 'n')), 6, 'aggr(dj.U()) is one row');
check_equal(dj.U({'a', 'b'}).attributes, {'a', 'b'}, 'dj.U from a cellstr');
check_error(@() f.subject & dj.U('species'), 'DataJoint:InvalidArgument', 'a dj.U is no restriction');
check_error(@() dj.U('nope') & f.subject, 'DataJoint:UnknownAttribute', 'dj.U of an unknown attribute');
end

function t_top(ctx)
f = fixture(ctx);
t = top(f.session, 2, 'duration DESC, KEY');
check_equal(class(t), 'dj.Query', 'top is a query');
check_equal(t.count(), 2, 'top 2');
r = fetch(t, 'order_by', 'duration DESC, KEY');
check_equal([r.duration], [30 20], 'top rows');
check_equal([r.subject_id], int32([3 1]), 'ties broken by KEY');
check_equal(fetch1(top(f.session, 1, 'duration DESC', 1), 'duration'), 20, 'offset');
check_equal(fetch1(top(f.session), 'KEY'), struct('subject_id', int32(1), 'session', int16(1)), 'top() is the first key');
check_equal(top(f.subject, [], 'weight').count(), 4, 'no limit');
check_equal(top(f.subject, Inf).count(), 4, 'Inf is no limit');
check_equal(top(f.subject * f.session, 3).count(), 3, 'top of a join');
check_equal((top(f.session, 3, 'duration DESC') & 'subject_id = 3').count(), 2, 'restrict after top');
check_equal(fetch1(top(f.subject, 1, 'weight DESC'), 'subject_id'), int32(3), 'top by a secondary attribute');
check_error(@() top(f.subject, 1, 'nope'), 'DataJoint:UnknownAttribute', 'top by an unknown attribute');
check_error(@() top(f.subject, -2), 'DataJoint:InvalidArgument', 'negative limit');
end

function t_fetch(ctx)
f = fixture(ctx);
j = f.subject * f.session;
s = fetch(j, 'order_by', 'KEY');
check_equal(size(s), [6 1], 'N×1 struct array');
check_equal(fieldnames(s), {'subject_id'; 'session'; 'duration'; 'note'; 'species'; 'weight'}, 'fields');
check_equal(s(1), struct('subject_id', int32(1), 'session', int16(1), 'duration', 10, 'note', 'none', ...
                         'species', 'mouse', 'weight', 20.5), 'row values and classes');
s = fetch(j, 'species', 'duration', 'order_by', 'duration DESC, KEY', 'limit', 2, 'offset', 1);
check_equal(fieldnames(s), {'species'; 'duration'}, 'attribute selection');
check_equal([s.duration], [20 20], 'order/limit/offset');
[c, v] = fetch(j, 'format', 'columns', 'order_by', 'KEY');
check_equal(c.session, int16([1; 2; 1; 1; 2; 3]), 'column');
check_equal(c.species, {'mouse'; 'mouse'; 'mouse'; 'rat'; 'rat'; 'rat'}, 'text column');
check_equal(v.duration, true(6, 1), 'validity');
k = keys(j, 'order_by', 'KEY', 'limit', 2);
check_equal(k, struct('subject_id', {int32(1); int32(1)}, 'session', {int16(1); int16(2)}), 'keys');
e = fetch(j & 'subject_id > 100');
check_equal(size(e), [0 1], 'empty query result');
[sp, du] = fetch1(j & struct('subject_id', 2), 'species', 'duration');
check_equal({sp, du}, {'mouse', 10}, 'fetch1 values');
one = fetch1(j & struct('subject_id', 2), 'KEY');
check_equal(one, struct('subject_id', int32(2), 'session', int16(1)), 'fetch1 KEY');
check_error(@() fetch1(j & 'subject_id = 4'), 'DataJoint:NotFound', 'fetch1 of no row');
check_error(@() fetch1(j), 'DataJoint:NotUnique', 'fetch1 of several rows');
check_error(@() fetch1(aggr(f.subject, f.session, 'n=count(*)')), 'DataJoint:NotUnique', 'fetch1 of an aggregation');
check_error(@() fetch(j, 'nope'), 'DataJoint:UnknownAttribute', 'fetch of an unknown attribute');
check_equal(count(j & 'duration > 15'), 3, 'count');
check_error(@() dj_mex('query_count', uint64(12345)), 'DataJoint:InvalidHandle', 'unknown query id');
check_error(@() dj_mex('query_join', j.id, f.subject.schema.id), 'DataJoint:InvalidHandle', 'a schema is no operand');
check_error(@() dj_mex('query_fetch', 5), 'DataJoint:InvalidHandle', 'a double is no operand');
h = heading(proj(f.trial, 'dur=t1-t0'));
check_equal(h(4).type, 'computed', 'heading of a computed attribute');
check_equal([h.in_key], [true true true false], 'heading keys');
end

function t_semantic(ctx)
f = fixture(ctx);
% lab (a secondary attribute of Experimenter) renamed to subject_id is not Subject's subject_id
check_error(@() proj(f.experimenter, 'subject_id=lab') * f.subject, 'DataJoint:InvalidArgument', ...
            'join on a namesake of another lineage');
check_error(@() f.subject & proj(f.experimenter, 'subject_id=lab'), 'DataJoint:InvalidArgument', ...
            'semijoin on a namesake of another lineage');
x = join(proj(f.experimenter, 'subject_id=lab'), f.subject, 'semantic_check', false);
r = fetch(x, 'order_by', 'experimenter');
check_equal({r.experimenter}, {'ann', 'bob'}, 'semantic check off');
check_equal([r.subject_id], int32([1 3]), 'matched on the namesake');
check_equal(restrict(f.subject * f.session, proj(f.experimenter, 'subject_id=lab'), 'semantic_check', false).count(), ...
            5, 'restriction with the semantic check off');
% the same lineage through a rename of the key is fine
check_equal((proj(f.subject, 'animal=subject_id') * proj(f.session, 'animal=subject_id')).count(), 6, ...
            'renamed on both sides');
end

function report_rows(rep, schema, table, rows, label)
k = find(strcmp({rep.table}, table));
check_equal(numel(k), 1, [label ': ' table ' in the report']);
check_equal(rep(k).schema, schema, [label ': schema']);
check_equal(rep(k).rows, rows, [label ': ' table ' rows']);
end

function t_delete(ctx)
f = fixture(ctx);
s1 = f.subject & struct('subject_id', 1);
% dry run: counts per table, nothing deleted
[n, rep] = del(s1, 'dry_run', true);
check_equal(n, 1, 'dry run: root count');
check_equal(fieldnames(rep), {'schema'; 'table'; 'rows'}, 'report fields');
check_equal(size(rep), [4 1], 'report: one element per table');
check_equal(rep(1).table, 'subject', 'report: the restricted table first');
report_rows(rep, f.schema, 'subject', 1, 'dry run');
report_rows(rep, f.schema, 'session', 2, 'dry run');
report_rows(rep, f.schema, 'session__trial', 4, 'dry run');
report_rows(rep, f.schema, 'analysis', 2, 'dry run');
check_equal([f.subject.count(), f.session.count(), f.trial.count(), f.analysis.count()], [4 6 6 5], 'dry run deletes nothing');
check_equal(del(f.subject & struct('subject_id', 4), 'dry_run', true), 1, 'dry run without dependents');
% a part's rows alone: refused (enforce), allowed (ignore), taking the master along (cascade)
t311 = f.trial & struct('subject_id', 3, 'session', 1, 'trial', 1);
e = check_error(@() del(t311), 'DataJoint:Integrity', 'part rows alone');
check_true(~isempty(strfind(e.message, 'part')), ['the message says why: ' e.message]);
check_error(@() del(t311, 'part_integrity', 'enforce'), 'DataJoint:Integrity', 'enforce');
check_equal(f.trial.count(), 6, 'nothing deleted');
[n, rep] = del(t311, 'part_integrity', 'cascade', 'dry_run', true);
check_equal(n, 2, 'cascade dry run: root count (both trials of the session)');
check_equal(rep(1).table, 'session__trial', 'cascade dry run: root first');
report_rows(rep, f.schema, 'session', 1, 'cascade dry run');
report_rows(rep, f.schema, 'session__trial', 2, 'cascade dry run: both trials of the session');
report_rows(rep, f.schema, 'analysis', 1, 'cascade dry run');
check_equal(f.trial.count(), 6, 'cascade dry run deletes nothing');
check_equal(del(t311, 'part_integrity', 'ignore'), 1, 'ignore');
check_equal([f.session.count(), f.trial.count()], [6 5], 'ignore: only the part row');
t312 = f.trial & struct('subject_id', 3, 'session', 1);
[n, rep] = del(t312, 'part_integrity', 'cascade');
check_equal(n, 1, 'cascade: root count');
check_equal(rep(1).table, 'session__trial', 'cascade: root first');
report_rows(rep, f.schema, 'session', 1, 'cascade');
report_rows(rep, f.schema, 'analysis', 1, 'cascade');
check_equal([f.session.count(), f.trial.count(), f.analysis.count()], [5 4 4], 'cascade: master and its dependents');
check_error(@() del(f.session, 'part_integrity', 'sideways'), 'DataJoint:InvalidArgument', 'bad part_integrity');
check_error(@() del(f.session, 'nope', 1), 'DataJoint:InvalidArgument', 'unknown del option');
% cascade from the top: master + part + child in one delete
check_equal(del(s1), 1, 'cascading delete returns the root count');
check_equal([f.subject.count(), f.session.count(), f.trial.count(), f.analysis.count()], [3 3 0 2], 'after the cascade');
% a table restricted by a query (over itself: no dependent is involved)
victim = f.subject & proj(f.subject & 'weight > 260');
check_equal(class(victim), 'dj.Table', 'restricted by a query: a table');
[n, rep] = del(victim);
check_equal(n, 1, 'delete restricted by a query');
report_rows(rep, f.schema, 'session', 2, 'delete restricted by a query');
check_equal(fetch(f.subject, 'order_by', 'KEY'), struct('subject_id', {int32(2); int32(4)}, ...
            'species', {'mouse'; 'rat'}, 'weight', {22; 250}), 'subjects left');
check_equal(del(f.subject - f.session), 1, 'delete by an antijoin');
check_equal(del(f.subject & struct('subject_id', {})), 0, 'delete nothing');
check_equal([f.subject.count(), f.session.count(), f.analysis.count()], [1 1 0], 'final state');
end

function t_delete_by_dependent(ctx)
% The restriction of the deleted table names one of its dependents, whose rows the cascade
% deletes too: the subject with a session longer than 25 goes, with all its sessions.
f = fixture(ctx);
victim = f.subject & (f.session & 'duration > 25');
check_equal(victim.count(), 1, 'the subject to delete');
[n, rep] = del(victim, 'dry_run', true);
check_equal(n, 1, 'dry run: root count');
report_rows(rep, f.schema, 'session', 3, 'dry run');
report_rows(rep, f.schema, 'session__trial', 2, 'dry run');
report_rows(rep, f.schema, 'analysis', 3, 'dry run');
[n, rep] = del(victim);
report_rows(rep, f.schema, 'session', 3, 'delete: sessions');
check_equal([f.session.count(), f.trial.count(), f.analysis.count()], [3 4 2], 'dependents deleted');
check_equal(n, 1, 'delete: root count');
check_true(~contains(f.subject, struct('subject_id', 3)), 'the subject is deleted');
check_equal(f.subject.count(), 3, 'subjects left');
end

function t_update1(ctx)
f = fixture(ctx);
k = struct('subject_id', 2, 'session', 1);
update1(f.session, struct('subject_id', 2, 'session', 1, 'duration', 99.5, 'note', 'changed'));
r = fetch1(f.session & k);
check_equal({r.duration, r.note}, {99.5, 'changed'}, 'updated');
check_equal(fetch1(f.session & struct('subject_id', 1, 'session', 1), 'note'), 'none', 'other rows unchanged');
update1(f.session, struct('subject_id', 2, 'session', 1, 'duration', []));
r = fetch1(f.session & k);
check_equal({r.duration, r.note}, {[], 'changed'}, 'reset to the default (NULL), others unchanged');
f.session.update1(struct('subject_id', int32(2), 'session', int16(1), 'note', []));
check_equal(fetch1(f.session & k, 'note'), 'none', 'reset to the default value');
update1(f.subject, struct('subject_id', 4, 'weight', 251.5, 'species', 'rat'));
check_equal(fetch1(f.subject & 'subject_id = 4', 'weight'), 251.5, 'update a secondary attribute');
check_error(@() update1(f.session, struct('subject_id', 7, 'session', 1, 'duration', 1)), 'DataJoint:NotFound', ...
            'update1 of a missing row');
check_error(@() update1(f.session, struct('subject_id', 2, 'duration', 1)), 'DataJoint:InvalidArgument', ...
            'update1 needs the full primary key');
check_error(@() update1(f.session, struct('subject_id', {1, 2}, 'session', 1)), 'DataJoint:InvalidArgument', ...
            'update1 takes one row');
check_error(@() update1(f.session, struct('subject_id', 2, 'session', 1, 'nope', 1)), ...
            'DataJoint:UnknownAttribute', 'update1 of an unknown attribute');
check_equal(f.session.count(), 6, 'row count unchanged');
check_error(@() update1(f.session & k, struct('subject_id', 2, 'session', 1, 'duration', 1)), ...
            'DataJoint:InvalidArgument', 'update1 of a restricted table');
% <blob>: a value replaces the old one, [] resets to the default (NULL) — unlike insert
b = f.subject.schema.declare('Blobby', 'Manual', sprintf('id : int32\n---\nv = null : <blob>'));
b.insert1(struct('id', 1, 'v', magic(3)));
update1(b, struct('id', 1, 'v', {{1, 'two'}}));
check_equal(fetch1(b, 'v'), {1, 'two'}, 'blob updated');
update1(b, struct('id', 1, 'v', []));
[~, v] = fetch(b, 'format', 'columns');
check_equal(v.v, false, 'blob reset to NULL');
end
