function tests = suite_basic()
% Declaring, inserting, fetching with restrictions, deleting, options, configuration.
tests = {
    'version_and_abi', @t_version
    'declare_tiers_parts_open', @t_declare
    'insert_fetch_restrict', @t_insert_fetch_restrict
    'fetch_options', @t_fetch_options
    'delete_rows', @t_delete
    'insert_options', @t_insert_options
    'columnar_insert_and_fetch', @t_columnar
    'connect_with_config_file', @t_config
    'connect_server_config_file', @t_server_config
    };
end

function t_version(~)
v = dj_mex('version');
check_true(ischar(v) && ~isempty(regexp(v, '^\d+\.\d+\.\d+', 'once')), 'version string');
[abi, major, minor] = dj_mex('abi');
check_equal(major, 0, 'ABI major');
check_equal(abi, major * 65536 + minor, 'ABI word');
check_equal(dj_mex('status_name', -5), 'Duplicate', 'status name');
end

function t_declare(ctx)
conn = test_conn(ctx);
lab = conn.schema(sname(ctx, 'lab'));
check_equal(lab.name(), sname(ctx, 'lab'), 'schema name');
check_true(any(strcmp(conn.schemas(), sname(ctx, 'lab'))), 'schema listed');
check_equal(conn.backend(), test_backend(), 'backend');
m = lab.declare('Session', 'Manual', sprintf('# a session\nsession_id : int32\n---\nnote = "" : varchar(100)'));
l = lab.declare('Rig', 'Lookup', sprintf('rig : varchar(8)'));
i = lab.declare('Scan', 'Imported', sprintf('-> Session\n---\nscan : int16'));   % Computed/Imported keys: from FKs only
c = lab.declare('Stats', 'Computed', sprintf('-> Scan\n---\nmean_value = null : float64'));
p = m.declarePart('Trial', sprintf('-> master\ntrial : int16\n---\nok : bool'));
check_equal(m.name(), 'session', 'manual name');
check_equal(l.name(), '#rig', 'lookup name');
check_equal(i.name(), '_scan', 'imported name');
check_equal(c.name(), '__stats', 'computed name');
check_equal(p.name(), 'session__trial', 'part name');
check_equal(m.comment(), 'a session', 'table comment');
check_equal(lab.tables(), sort({'session'; '#rig'; '_scan'; '__stats'; 'session__trial'}), 'tables');
h = p.heading();
check_equal({h.name}, {'session_id', 'trial', 'ok'}, 'part heading names');
check_equal([h.in_key], [true true false], 'part heading keys');
check_equal(h(3).type, 'bool', 'declared type');
check_equal(h(3).kind, 'bool', 'kind');
check_equal(p.primaryKey(), {'session_id', 'trial'}, 'primary key');
% open by class name and by SQL name; declaring again opens
check_equal(lab.table('Session').name(), 'session', 'open by class');
check_equal(lab.table('Session.Trial').name(), 'session__trial', 'open part by class');
check_equal(lab.table('#rig').name(), '#rig', 'open by SQL name');
check_equal(lab.declare('Session', 'Manual', 'session_id : int32').name(), 'session', 're-declare opens');
hs = m.heading();
check_equal(hs(2).default, '', 'default: the literal (here the empty string)');
check_equal(hs(1).default, [], 'no default is []');
check_equal(dj.Table.fetchArgs('a', 'limit', 3), struct('limit', 3, 'attributes', {{'a'}}), 'fetch arg parsing');
% drop a table, then a whole schema
tmp = conn.schema(sname(ctx, 'scratch'));
x = tmp.declare('X', 'Manual', 'x : int32');
y = tmp.declare('Y', 'Manual', 'y : int32');
x.drop();
check_equal(tmp.tables(), {'y'}, 'table dropped');
check_error(@() x.count(), 'DataJoint:NotFound', 'dropped table');
tmp.drop();
check_true(~any(strcmp(conn.schemas(), sname(ctx, 'scratch'))), 'schema dropped');
check_true(any(strcmp(conn.schemas(), sname(ctx, 'lab'))), 'other schema kept');
end

function t = items(ctx)
conn = test_conn(ctx);
t = conn.schema(sname(ctx, 'lab')).declare('Item', 'Manual', sprintf('id : int32\n---\nname : varchar(30)\nx = null : float64'));
t.insert(struct('id', {1, 2, 3, 4, 5}, 'name', {'a', 'b', 'c', 'd', 'e'}, 'x', {0.5, 1.5, [], 3.5, 4.5}));
end

function t_insert_fetch_restrict(ctx)
t = items(ctx);
check_equal(t.count(), 5, 'count');
s = t.fetch('order_by', 'id');
check_equal(size(s), [5 1], 'struct array size');
check_equal([s.id], int32(1:5), 'ids');
check_equal({s.name}, {'a', 'b', 'c', 'd', 'e'}, 'names');
check_equal(s(3).x, [], 'NULL is []');
check_equal(s(4).x, 3.5, 'double');
% SQL restriction
r = t.restrict('x > 1').fetch('order_by', 'id');
check_equal([r.id], int32([2 4 5]), 'SQL restriction');
check_equal(t.restrict('x IS NULL').fetch1('id'), int32(3), 'IS NULL');
% key struct, struct array (OR), empty struct array, stacked restrictions
check_equal(t.restrict(struct('id', 2)).fetch1('name'), 'b', 'key restriction');
check_equal(t.restrict(struct('name', 'd', 'nope', 1)).fetch1('id'), int32(4), 'extra key names ignored');
check_equal(t.restrict(struct('x', [])).fetch1('id'), int32(3), 'key [] means IS NULL');
k = t.restrict(struct('id', {1, 3, 5})).fetch('order_by', 'id');
check_equal([k.id], int32([1 3 5]), 'OR of keys');
check_equal(t.restrict(struct('id', {})).count(), 0, 'empty key list matches nothing');
check_equal(t.restrict('id > 1').restrict('id < 5').restrict(struct('id', {2, 4, 5})).count(), 2, 'stacked');
% exclude: SQL, key, keys
check_equal(t.exclude('id > 2').count(), 2, 'exclude SQL');
check_equal(t.exclude(struct('id', 1)).count(), 4, 'exclude key');
e = t.exclude(struct('id', {1, 2, 3})).fetch('order_by', 'id');
check_equal([e.id], int32([4 5]), 'exclude any of keys');
check_equal(t.exclude(struct('id', {})).count(), 5, 'exclude no keys');
% operators
check_equal((t & 'id <= 2').count(), 2, 'and operator');
check_equal((t - struct('id', 5)).count(), 4, 'minus operator');
% fetch1 forms
one = t.restrict(struct('id', 4)).fetch1();
check_equal(one, struct('id', int32(4), 'name', 'd', 'x', 3.5), 'fetch1 struct');
[nm, x] = t.restrict(struct('id', 5)).fetch1('name', 'x');
check_equal({nm, x}, {'e', 4.5}, 'fetch1 values');
% keys
ks = t.keys('order_by', 'id DESC', 'limit', 2);
check_equal(ks, struct('id', {int32(5); int32(4)}), 'keys');
end

function t_fetch_options(ctx)
t = items(ctx);
s = t.fetch('id', 'name', 'order_by', 'id DESC', 'limit', 2, 'offset', 1);
check_equal(fieldnames(s), {'id'; 'name'}, 'attribute selection');
check_equal([s.id], int32([4 3]), 'order/limit/offset');
k = t.fetch('KEY', 'order_by', 'KEY');
check_equal(fieldnames(k), {'id'}, 'KEY');
e = t.restrict('id > 100').fetch();
check_equal(size(e), [0 1], 'empty result');
check_equal(fieldnames(e), {'id'; 'name'; 'x'}, 'empty result fields');
[c, v] = t.restrict('id > 100').fetch('format', 'columns');
check_equal(c.id, zeros(0, 1, 'int32'), 'empty column');
check_equal(v.x, false(0, 1), 'empty validity');
end

function t_delete(ctx)
t = items(ctx);
check_equal(t.restrict('id >= 4').del(), 2, 'deleted count');
check_equal(t.count(), 3, 'remaining');
check_equal(t.restrict(struct('id', {1, 2})).del(), 2, 'delete by keys');
check_equal(t.fetch1('id'), int32(3), 'left');
check_equal(t.del(), 1, 'delete all');
check_equal(t.count(), 0, 'empty');
end

function t_insert_options(ctx)
t = items(ctx);
check_error(@() t.insert1(struct('id', 1, 'name', 'z', 'x', 9)), 'DataJoint:Duplicate', 'duplicate');
n = t.insert(struct('id', {1, 6}, 'name', {'z', 'f'}, 'x', {9, 6}), 'skip_duplicates', true);
check_equal(n, 1, 'skip_duplicates count');
check_equal(t.restrict(struct('id', 1)).fetch1('name'), 'a', 'skipped row unchanged');
t.insert1(struct('id', 1, 'name', 'zz', 'x', 10), 'replace', true);
check_equal(t.restrict(struct('id', 1)).fetch1('name'), 'zz', 'replaced');
check_error(@() t.insert1(struct('id', 7, 'name', 'g', 'extra', 1)), 'DataJoint:UnknownAttribute', 'extra field');
t.insert1(struct('id', 7, 'name', 'g', 'extra', 1), 'ignore_extra_fields', true);
check_equal(t.restrict(struct('id', 7)).fetch1('x'), [], 'default NULL');
% one transaction: a bad row keeps none of the batch
check_error(@() t.insert(struct('id', {8, 9}, 'name', {'h', repmat('x', 1, 31)}, 'x', {1, 2})), 'DataJoint:Type', 'too long');
check_equal(t.restrict('id >= 8').count(), 0, 'batch rolled back');
end

function t_columnar(ctx)
t = items(ctx);
cols = struct('id', int32([10; 11; 12]), 'name', {{'p'; 'q'; 'r'}}, 'x', [1; NaN; 3]);
check_equal(t.insert(cols, 'format', 'columns'), 3, 'columnar count');
[c, v] = t.restrict('id >= 10').fetch('format', 'columns', 'order_by', 'id');
check_equal(c.id, int32([10; 11; 12]), 'int column');
check_equal(c.name, {'p'; 'q'; 'r'}, 'cellstr column');
check_equal(c.x, [1; NaN; 3], 'NaN for NULL');
check_equal(v.x, [true; false; true], 'validity');
check_equal(v.id, true(3, 1), 'validity all');
% a double column for an int attribute, one char field = one row
t.insert(struct('id', 20, 'name', 'one', 'x', 2), 'format', 'columns');
check_equal(t.restrict(struct('id', 20)).fetch1('name'), 'one', 'single-row columns');
check_error(@() t.insert(struct('id', [30; 31], 'name', {{'a'}}), 'format', 'columns'), ...
            'DataJoint:InvalidArgument', 'column length mismatch');
end

function t_config(ctx)
% About DuckDB itself: datajoint.json selects the embedded database, its path is relative to the
% file, and overrides (here a struct) switch files.
cfg = fullfile(ctx.dir, 'datajoint.json');
fid = fopen(cfg, 'w');
fprintf(fid, '{"database": {"backend": "duckdb", "path": "pipeline.duckdb"}}');
fclose(fid);
conn = dj.Connection.connect(cfg);
conn.schema(sname(ctx, 'cfg')).declare('A', 'Manual', 'a : int32').insert1(struct('a', 1));
check_true(exist(fullfile(ctx.dir, 'pipeline.duckdb'), 'file') == 2, 'database file next to datajoint.json');
conn2 = dj.Connection.connect(cfg, struct('database', struct('path', 'other.duckdb')));
check_true(~any(strcmp(conn2.schemas(), sname(ctx, 'cfg'))), 'overrides as a struct');
conn.close();
clear conn2
conn3 = dj.Connection.connect(cfg);
check_equal(conn3.schema(sname(ctx, 'cfg'), false).table('A').fetch1('a'), int32(1), 'reopened');
check_error(@() conn3.schema(sname(ctx, 'nope'), false), 'DataJoint:NotFound', 'missing schema');
end

function t_server_config(ctx)
% datajoint.json naming the backend under test (DuckDB: a file next to it), read the way the
% README shows for a shared server; a struct of overrides is applied on top of the file.
cfg = fullfile(ctx.dir, 'datajoint.json');
fid = fopen(cfg, 'w');
if strcmp(test_backend(), 'duckdb')
    fprintf(fid, '{"database": {"backend": "duckdb", "path": "server.duckdb"}}');
else
    fprintf(fid, '%s', test_config());
end
fclose(fid);
conn = dj.Connection.connect(cfg);
check_equal(conn.backend(), test_backend(), 'backend from datajoint.json');
t = conn.schema(sname(ctx, 'srv')).declare('A', 'Manual', sprintf('a : int32\n---\nnote : varchar(10)'));
t.insert1(struct('a', 1, 'note', 'one'));
conn.close();   % (DuckDB: releases the file for the next connection)
conn2 = dj.Connection.connect(cfg, '');
check_equal(conn2.schema(sname(ctx, 'srv'), false).table('A').fetch1('note'), 'one', 'a second connection sees the row');
if strcmp(test_backend(), 'duckdb')
    check_true(exist(fullfile(ctx.dir, 'server.duckdb'), 'file') == 2, 'database file next to datajoint.json');
    clear conn2
else
    % overrides (a struct) win over the file: a port nobody listens on
    check_error(@() dj.Connection.connect(cfg, struct('database', struct('port', 1))), 'DataJoint:Connection', ...
                'struct overrides over datajoint.json');
end
end
