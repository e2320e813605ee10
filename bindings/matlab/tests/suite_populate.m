function tests = suite_populate()
% Autopopulate: key source, refused direct inserts, dj.Computed / dj.Imported subclasses
% (tests/+poptest) whose make writes master and part rows in one transaction, failing makes
% rolled back (rows and stored objects), function-handle populate, restrictions, and the jobs
% table (reserve_jobs, error jobs, refreshJobs, ignoreJob, priorities).
tests = {
    'populate_error_identifiers', @t_identifiers
    'populate_key_source_direct_insert', @t_key_source
    'populate_computed_subclass_master_parts', @t_subclass
    'populate_failing_make_rolls_back', @t_failing
    'populate_function_handle_restrictions', @t_function_handle
    'populate_reserve_jobs', @t_jobs
    'populate_make_tuples_key_source_override', @t_legacy
    };
end

function p = pipeline(ctx)
% Subject (3) -> Session (2 per subject): 6 keys for a table that references Session.
p.conn = test_conn(ctx);
p.lab = p.conn.schema(sname(ctx, 'pop'));
p.subject = p.lab.declare('Subject', 'Manual', sprintf('subject_id : int32\n---\nweight : float64'));
p.session = p.lab.declare('Session', 'Manual', sprintf('-> Subject\nsession : int16'));
p.subject.insert(struct('subject_id', {1, 2, 3}, 'weight', {10, 20, 30}));
p.session.insert(struct('subject_id', {1, 1, 2, 2, 3, 3}, 'session', {1, 2, 1, 2, 1, 2}));
end

function t_identifiers(~)
check_equal(dj_mex('status_name', -18), 'NotAllowed', 'DJ_E_NOT_ALLOWED');
check_equal(dj_mex('status_name', -19), 'MakeFailed', 'DJ_E_MAKE_FAILED');
end

function t_key_source(ctx)
p = pipeline(ctx);
stats = p.lab.declare('Stats', 'Computed', sprintf('-> Session\n---\nscore : float64'));
ks = stats.keySource();
check_true(isa(ks, 'dj.Query'), 'keySource is a dj.Query');
check_equal(ks.count(), 6, 'key source count');
check_equal(sort(ks.primaryKey()), {'session', 'subject_id'}, 'key source primary key');
[remaining, total] = stats.progress();
check_equal([remaining, total], [6, 6], 'progress before');
row = struct('subject_id', 1, 'session', 1, 'score', 1.5);
e = check_error(@() stats.insert1(row), 'DataJoint:NotAllowed', 'direct insert');
check_true(~isempty(strfind(e.message, 'allow_direct_insert')), ['the message names the option: ' e.message]);
check_error(@() stats.insert(struct('subject_id', int32(1), 'session', int16(1), 'score', 1.5), 'format', 'columns'), ...
            'DataJoint:NotAllowed', 'direct columnar insert');
check_equal(stats.count(), 0, 'nothing inserted');
check_equal(stats.insert1(row, 'allow_direct_insert', true), 1, 'allowed direct insert');
check_equal(stats.fetch1('score'), 1.5, 'the inserted row');
[remaining, total] = stats.progress();
check_equal([remaining, total], [5, 6], 'progress after a direct insert');
% another key source
late = stats.withKeySource(p.session & 'session = 2');
check_true(isa(late, 'dj.Table'), 'withKeySource gives a dj.Table');
check_equal(late.keySource().count(), 3, 'its key source');
[remaining, total] = late.progress();
check_equal([remaining, total], [3, 3], 'progress with another key source');
% a Manual table has no populate; a dj.Table populate needs a function
check_error(@() p.subject.progress(), 'DataJoint:InvalidArgument', 'progress of a Manual table');
check_error(@() stats.populate(), 'DataJoint:InvalidArgument', 'populate of a dj.Table without make');
check_error(@() stats.populate(@(t, k) [], 'order', 'sideways'), 'DataJoint:InvalidArgument', 'bad order');
check_error(@() stats.populate(@(t, k) [], 42), 'DataJoint:InvalidArgument', 'bad restriction');
check_equal(stats.count(), 1, 'unchanged');
end

function t_subclass(ctx)
p = pipeline(ctx);
s = poptest.Stats(p.lab);
check_true(isa(s, 'dj.Computed') && isa(s, 'dj.Table'), 'a dj.Computed is a dj.Table');
check_equal(s.name(), '__stats', 'declared from the class name, tier Computed');
check_equal(s.comment(), 'per-session score', 'from the definition property');
check_equal(s.Unit.name(), '__stats__unit', 'its part table');
[n, errors] = populate(s);
check_equal(n, 6, 'keys made');
check_equal(size(errors), [0 1], 'no errors');
check_equal(sort(fieldnames(errors)), {'key'; 'message'}, 'error fields');
check_equal(s.count(), 6, 'master rows');
check_equal(s.Unit.count(), 12, 'part rows');
check_equal(fetch1(s & struct('subject_id', 3, 'session', 2), 'score'), 60, 'computed value');
u = fetch(s.Unit & 'subject_id = 2', 'rate');
check_equal(sort([u.rate]), [1.5 1.5 2.5 2.5], 'part values');
% make got 1x1 key structs of the key attributes, as fetch gives them
check_equal(numel(s.seen), 6, 'make calls');
k = s.seen{1};
check_equal(sort(fieldnames(k)), {'session'; 'subject_id'}, 'key fields');
check_equal(class(k.subject_id), 'int32', 'key int32');
check_equal(class(k.session), 'int16', 'key int16');
got = cellfun(@(x) double(x.subject_id) * 10 + double(x.session), s.seen);
check_equal(sort(got), [11 12 21 22 31 32], 'every key once');
[remaining, total] = progress(s);
check_equal([remaining, total], [0, 6], 'progress after');
check_equal(populate(s), 0, 'nothing left to make');
% opening the class again opens the table
s2 = poptest.Stats(p.lab);
check_equal(s2.count(), 6, 'reopened');
% max_calls and order
check_equal(del(s & 'subject_id > 1'), 4, 'deleted (with their parts)');
check_equal(s.Unit.count(), 4, 'parts deleted');
check_equal(populate(s, 'max_calls', 1, 'order', 'reverse'), 1, 'max_calls');
check_equal(populate(s, 'max_calls', 2, 'order', 'random'), 2, 'random order');
[remaining, total] = progress(s);
check_equal([remaining, total], [1, 6], 'one left');
check_equal(populate(s, 'display_progress', true), 1, 'display_progress');
check_equal(s.Unit.count(), 12, 'all parts');
end

function t_failing(ctx)
p = pipeline(ctx);
s = poptest.Stats(p.lab);
s.failSubject = 2;
e = check_error(@() populate(s), 'DataJoint:MakeFailed', 'a failing make stops populate');
check_true(~isempty(strfind(e.message, 'PopTest:Refused: subject 2 refused')), ['the make error: ' e.message]);
check_true(~isempty(strfind(e.message, 'subject_id=2')), ['the message names the key: ' e.message]);
check_equal(count(s & 'subject_id = 2'), 0, 'the failed key''s master row rolled back');
check_equal(count(s.Unit & 'subject_id = 2'), 0, 'the failed key''s part rows rolled back');
before = s.count();
check_equal(s.Unit.count(), 2 * before, 'parts of the made keys kept');
[n, errors] = populate(s, 'suppress_errors', true);
check_equal(n, 4 - before, 'the other keys made');
check_equal(s.count(), 4, 'master rows');
check_equal(s.Unit.count(), 8, 'part rows');
check_equal(size(errors), [2 1], 'two errors');
ek = [errors.key];
check_equal(sort([ek.subject_id]), int32([2 2]), 'failed keys: subject');
check_equal(sort([ek.session]), int16([1 2]), 'failed keys: session');
check_equal(errors(1).message, 'PopTest:Refused: subject 2 refused', 'error message');
check_equal(count(s & 'subject_id = 2'), 0, 'rolled back with suppress_errors too');
check_equal(count(s.Unit & 'subject_id = 2'), 0, 'part rows rolled back with suppress_errors');
s.failSubject = 0;
check_equal(populate(s), 2, 'made once it works');
check_equal(s.count(), 6, 'all made');
% stored objects written by a failing make are removed too
rec = p.lab.declare('Rec', 'Computed', sprintf('-> Session\n---\ntrace : <npy@>'));
[n, errors] = populate(rec, @make_rec, 'suppress_errors', true);
check_equal([n, numel(errors)], [4, 2], 'made and failed');
check_equal(count(rec & 'subject_id = 3'), 0, 'failed rows rolled back');
check_equal(numel(npy_files(fullfile(ctx.dir, 'db_store'))), 4, 'only the made rows'' arrays are stored');
r = fetch1(rec & struct('subject_id', 2, 'session', 1), 'trace');
check_equal(r.load(), [2 2 2; 1 1 1], 'stored array');
end

function make_rec(t, key)
key.trace = [double(key.subject_id) * ones(1, 3); double(key.session) * ones(1, 3)];
t.insert1(key);
if key.subject_id == 3
    error('PopTest:Refused', 'no trace for subject 3');
end
end

function f = npy_files(d)
% Every *.npy file below folder D.
f = {};
items = dir(d);
for k = 1:numel(items)
    it = items(k);
    if any(strcmp(it.name, {'.', '..'}))
        continue
    end
    full = fullfile(d, it.name);
    if it.isdir
        f = [f, npy_files(full)]; %#ok<AGROW>
    elseif numel(it.name) > 4 && strcmp(it.name(end-3:end), '.npy')
        f{end + 1} = full; %#ok<AGROW>
    end
end
end

function t_function_handle(ctx)
p = pipeline(ctx);
stats = p.lab.declare('Stats', 'Computed', sprintf('-> Session\n---\nscore : float64'));
unit = stats.declarePart('Unit', sprintf('-> master\nunit : int16'));
fn = @(t, key) make_fh(t, unit, p.subject, key);
[n, errors] = populate(stats, fn, 'session = 1', struct('subject_id', {1, 2}));
check_equal(n, 2, 'SQL AND keys (OR)');
check_equal(size(errors), [0 1], 'no errors');
check_equal(stats.count(), 2, 'rows');
check_equal(unit.count(), 2, 'part rows');
check_equal(populate(stats, fn, 'restrictions', {struct('subject_id', 3), struct('session', 1)}), 1, ...
            'two key restrictions (AND)');
check_equal(fetch1(stats & struct('subject_id', 3), 'score'), 31, 'made row');
check_equal(populate(stats, fn, p.subject & 'weight < 15'), 1, 'restricted by a table');
[remaining, total] = progress(stats, 'subject_id = 2');
check_equal([remaining, total], [1, 2], 'restricted progress');
[remaining, total] = progress(stats, struct('subject_id', {}));
check_equal([remaining, total], [0, 0], 'no keys match nothing');
check_equal(populate(stats, fn, struct('subject_id', {})), 0, 'no keys make nothing');
check_equal(populate(stats, fn, query(p.session & 'subject_id = 2')), 1, 'restricted by a query');
calls = containers.Map('KeyType', 'double', 'ValueType', 'any');
[n, errors] = populate(stats, fn, {struct('subject_id', 2), struct('subject_id', 3)}, ...
                       'progress', @(q) record(calls, q));
check_equal([n, numel(errors)], [1, 0], 'a cell of keys (OR)');
check_equal(double(calls.Count), 1, 'progress calls');
check_equal(calls(1), struct('done', 1, 'total', 1, 'succeeded', 1, 'failed', 0), 'progress');
check_equal(stats.count(), 6, 'all made');
check_equal(unit.count(), 6, 'all part rows');
% errors of dj calls inside make are make errors; a populate inside make is not allowed
dup = p.lab.declare('Dup', 'Computed', sprintf('-> Subject\n---\nx : int32'));
[n, errors] = populate(dup, @(t, key) insert(t, [setfield(key, 'x', 1), setfield(key, 'x', 2)]), ...
                       'suppress_errors', true); %#ok<SFLD>
check_equal([n, numel(errors)], [0, 3], 'duplicate inserts fail');
check_true(strncmp(errors(1).message, 'DataJoint:Duplicate: ', 21), ['a library error: ' errors(1).message]);
[n, errors] = populate(dup, @(t, key) populate(t, @(a, b) []), 'suppress_errors', true, 'max_calls', 1);
check_equal([n, numel(errors)], [0, 1], 'nested populate');
check_true(strncmp(errors(1).message, 'DataJoint:NotAllowed: ', 22), ['populate inside make: ' errors(1).message]);
check_equal(dup.count(), 0, 'nothing kept');
% the table make gets is valid during make only; make may free handles
[n, errors] = populate(dup, @(t, key) insert1(t, setfield(key, 'x', count(t) + 10)), 'max_calls', 1); %#ok<SFLD>
check_equal([n, numel(errors)], [1, 0], 'make counting its table');
check_equal(dup.fetch1('x'), int32(10), 'count inside make');
end

function make_fh(t, unit, subject, key)
if ~isa(t, 'dj.Table') || ~strcmp(t.name(), '__stats')
    error('PopTest:Table', 'make got %s', class(t));
end
w = fetch1(subject & key, 'weight');
t.insert1(struct('subject_id', key.subject_id, 'session', key.session, 'score', w + double(key.session)));
unit.insert1(struct('subject_id', key.subject_id, 'session', key.session, 'unit', 1));
end

function record(m, q)
m(q.done) = q;
end

function t_jobs(ctx)
p = pipeline(ctx);
s = poptest.Stats(p.lab);
s.failSubject = 3;
[n, errors] = populate(s, 'reserve_jobs', true, 'suppress_errors', true, 'session = 1');
check_equal([n, numel(errors)], [2, 1], 'made and failed with reserve_jobs');
check_equal(errors(1).key, struct('subject_id', int32(3), 'session', int16(1)), 'the failed key');
c = s.jobProgress();
check_equal(c, struct('pending', 0, 'reserved', 0, 'success', 0, 'error', 1, 'ignore', 0, 'total', 1), ...
            'job counts: made jobs are deleted, the error is kept');
j = s.jobs();
check_true(isa(j, 'dj.Table'), 'jobs is a dj.Table');
check_equal(j.name(), '~~stats', 'jobs table name');
e = fetch1(j & 'status = ''error''');
check_equal([double(e.subject_id), double(e.session)], [3, 1], 'error job key');
check_equal(e.error_message, 'PopTest:Refused: subject 3 refused', 'error job message');
check_true(ischar(e.error_stack) && ~isempty(strfind(e.error_stack, 'make')), 'error job stack');
% the error job is not made again; the refresh adds the session-2 keys
[n, errors] = populate(s, 'reserve_jobs', true, 'suppress_errors', true);
check_equal([n, numel(errors)], [2, 1], 'second run');
check_equal(s.jobProgress().error, 2, 'two error jobs');
check_equal(s.count(), 4, 'rows');
r = s.refreshJobs();
check_equal(r, struct('added', 0, 'removed', 0, 'orphaned', 0, 're_pended', 0), 'nothing to refresh');
check_equal(del(j & 'status = ''error'''), 2, 'error jobs deleted');
r = s.refreshJobs();
check_equal(r.added, 2, 'refresh adds the failed keys again');
check_equal(s.jobProgress().pending, 2, 'pending jobs');
s.failSubject = 0;
check_equal(populate(s, 'reserve_jobs', true, 'refresh', false), 2, 'pending jobs made');
check_equal(s.jobProgress().total, 0, 'no jobs left');
check_equal(s.count(), 6, 'all made');
% ignore
del(s & 'subject_id = 1');
s.ignoreJob(struct('subject_id', 1, 'session', 1));
check_equal(s.jobProgress().ignore, 1, 'ignored job');
check_equal(populate(s, 'reserve_jobs', true), 1, 'the ignored key is not made');
[remaining, total] = progress(s);
check_equal([remaining, total], [1, 6], 'the ignored key remains');
% scheduled (delay) and priority
del(s & 'subject_id = 2');
r = s.refreshJobs('delay', 3600, 'restrictions', {'session = 1'});
check_equal(r.added, 1, 'a job due in an hour');
check_equal(populate(s, 'reserve_jobs', true, 'refresh', false), 0, 'not due yet');
check_equal(populate(s, 'reserve_jobs', true), 1, 'the refresh adds (2, 2), due now');
check_equal(count(s & 'subject_id = 2'), 1, 'only (2, 2)');
check_equal(del(j & 'subject_id = 2'), 1, 'the scheduled job deleted');
r = s.refreshJobs('priority', 7);
check_equal(r.added, 1, 'a job of priority 7');
check_equal(fetch1(j & 'subject_id = 2', 'priority'), int8(7), 'its priority');
check_equal(populate(s, 'reserve_jobs', true, 'refresh', false, 'priority', 5), 0, 'not urgent enough');
check_equal(populate(s, 'reserve_jobs', true, 'refresh', false, 'priority', 7), 1, 'urgent enough');
check_equal(s.jobProgress(), struct('pending', 0, 'reserved', 0, 'success', 0, 'error', 0, 'ignore', 1, 'total', 1), ...
            'the ignored job is left');
r = s.refreshJobs('orphan_timeout', 1, 'stale_timeout', 0);
check_equal(r.orphaned, 0, 'no orphans');
check_error(@() s.refreshJobs('restrictions', {struct('subject_id', 1)}), 'DataJoint:InvalidArgument', ...
            'refresh restrictions are SQL');
end

function t_legacy(ctx)
p = pipeline(ctx);
g = poptest.Legacy(p.lab);
check_true(isa(g, 'dj.Imported'), 'a dj.Imported');
check_equal(g.name(), '_legacy', 'tier Imported');
check_equal(populate(g), 3, 'makeTuples');
check_equal(fetch(g, 'n_sessions', 'order_by', 'subject_id'), struct('n_sessions', {int32(2); int32(2); int32(2)}), ...
            'values');
check_error(@() g.insert1(struct('subject_id', 9, 'n_sessions', 0)), 'DataJoint:NotAllowed', 'direct insert (Imported)');
late = poptest.Late(p.lab);
check_equal(late.keySource().count(), 3, 'overridden keySource');
[remaining, total] = progress(late);
check_equal([remaining, total], [3, 3], 'progress uses it');
check_equal(populate(late), 3, 'populate uses it');
check_equal(count(late & 'session = 1'), 0, 'only its keys');
check_equal(fetch1(late & 'subject_id = 3', 'trace').load(), 3 * ones(2, 3), 'stored array');
r = late.refreshJobs();
check_equal(r.added, 0, 'refreshJobs uses it too');
check_error(@() dj.Computed(p.lab), 'DataJoint:NotFound', 'no definition opens an existing table');
check_error(@() poptest.Legacy(42), 'DataJoint:InvalidArgument', 'not a schema');
end
