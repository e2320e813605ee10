function tests = suite_errors()
% Error identifiers: DataJoint:<dj_status_name(code)>, and DataJoint:InvalidHandle for ids.
tests = {
    'error_identifiers', @t_identifiers
    'error_invalid_handles', @t_handles
    'error_closed_connection', @t_closed
    'error_bad_arguments', @t_arguments
    };
end

function t_identifiers(ctx)
conn = test_conn(ctx);
lab = conn.schema(sname(ctx, 'err'));
e = check_error(@() lab.declare('Bad', 'Manual', 'x int32'), 'DataJoint:Definition', 'bad definition');
check_true(~isempty(strfind(e.message, 'line')), 'the message names the line');
check_error(@() lab.declare('Bad', 'Manual', 'x : notatype'), 'DataJoint:Definition', 'unknown type');
p = lab.declare('Parent', 'Manual', sprintf('pid : int32\n---\nname = null : varchar(10)'));
ch = lab.declare('Child', 'Manual', sprintf('-> Parent\ncid : int32'));
check_error(@() p.insert1(struct('pid', 'abc')), 'DataJoint:Type', 'wrong type');
check_error(@() p.insert1(struct('pid', int32(1), 'name', 5)), 'DataJoint:Type', 'number into varchar');
p.insert1(struct('pid', 1));
check_error(@() p.insert1(struct('pid', 1)), 'DataJoint:Duplicate', 'duplicate key');
check_error(@() p.insert(struct('pid', int32([2; 2])), 'format', 'columns'), 'DataJoint:Duplicate', 'duplicate in batch');
check_error(@() ch.insert1(struct('pid', 7, 'cid', 1)), 'DataJoint:Integrity', 'missing parent');
ch.insert1(struct('pid', 1, 'cid', 1));
% (deleting a referenced row cascades to its children: suite_algebra); a part's rows alone
% cannot be deleted without their master
m = lab.declare('Master', 'Manual', 'mid : int32');
pt = m.declarePart('Part', sprintf('-> master\npart : int32'));
m.insert1(struct('mid', 1));
pt.insert1(struct('mid', 1, 'part', 1));
check_error(@() pt.del(), 'DataJoint:Integrity', 'part rows without their master');
check_equal(pt.count(), 1, 'part row kept');
check_error(@() p.restrict('pid > 5').fetch1(), 'DataJoint:NotFound', 'fetch1 of nothing');
p.insert1(struct('pid', 2));
check_error(@() p.fetch1(), 'DataJoint:NotUnique', 'fetch1 of two rows');
check_error(@() p.insert1(struct('pid', 3, 'nope', 1)), 'DataJoint:UnknownAttribute', 'unknown attribute');
check_error(@() p.fetch('nope'), 'DataJoint:UnknownAttribute', 'unknown fetch attribute');
check_error(@() p.restrict('pid = 1 AND').count(), 'DataJoint:Backend', 'SQL syntax error');
% An unknown column in an SQL restriction names it (every backend: UnknownAttribute)
e = check_error(@() p.restrict('no_such_column = 1').count(), 'DataJoint:UnknownAttribute', 'unknown column in SQL');
check_true(~isempty(strfind(e.message, 'no_such_column')), ['the message names the column: ' e.message]);
check_error(@() lab.table('Nope'), 'DataJoint:NotFound', 'missing table');
check_equal(p.count(), 2, 'state after errors');
end

function t_handles(ctx)
conn = test_conn(ctx);
t = conn.schema(sname(ctx, 'err')).declare('T', 'Manual', 'id : int32');
tid = t.id;
check_error(@() dj_mex('table_count', conn.id), 'DataJoint:InvalidHandle', 'connection id used as a table');
check_error(@() dj_mex('table_count', 5), 'DataJoint:InvalidHandle', 'a double is not an id');
check_error(@() dj_mex('table_count', uint64(12345)), 'DataJoint:InvalidHandle', 'unknown id');
check_error(@() dj_mex('npy_load', tid), 'DataJoint:InvalidHandle', 'table id used as an NpyRef');
delete(t);   % frees the handle; the object now holds 0
check_error(@() dj_mex('table_count', tid), 'DataJoint:InvalidHandle', 'stale id after delete');
check_error(@() t.count(), 'DataJoint:InvalidHandle', 'deleted object');
% stale objects after dj.reset: errors, and clearing them is harmless
t2 = conn.schema(sname(ctx, 'err')).table('T');
dj.reset();
check_error(@() t2.count(), 'DataJoint:InvalidHandle', 'object after reset');
check_error(@() conn.schema(sname(ctx, 'err')), 'DataJoint:InvalidHandle', 'connection after reset');
clear t2 conn
check_equal(dj_mex('handle_count'), 0, 'no handles');
dj_mex('free', uint64([0 1 2 tid]));   % unknown ids are ignored by free
end

function t_closed(ctx)
conn = test_conn(ctx);
t = conn.schema(sname(ctx, 'err')).declare('T', 'Manual', 'id : int32');
t.insert1(struct('id', 1));
conn.close();
conn.close();   % idempotent
check_error(@() t.count(), 'DataJoint:Closed', 'table of a closed connection');
check_error(@() conn.schemas(), 'DataJoint:Closed', 'closed connection');
end

function t_arguments(ctx)
conn = test_conn(ctx);
t = conn.schema(sname(ctx, 'err')).declare('T', 'Manual', sprintf('id : int32\n---\nv = null : float64'));
check_error(@() dj_mex('no_such_command'), 'DataJoint:InvalidArgument', 'unknown command');
check_error(@() dj_mex(), 'DataJoint:InvalidArgument', 'no command');
check_error(@() dj_mex('table_count'), 'DataJoint:InvalidArgument', 'missing argument');
check_error(@() conn.schema(sname(ctx, 'err')).declare('X', 'Sometimes', 'id : int32'), 'DataJoint:InvalidArgument', 'tier');
check_error(@() t.insert(42), 'DataJoint:InvalidArgument', 'not a struct');
check_error(@() t.restrict(42), 'DataJoint:InvalidArgument', 'bad restriction');
check_error(@() t.fetch('format', 'table'), 'DataJoint:InvalidArgument', 'bad format');
check_error(@() t.fetch('temporal', 'iso'), 'DataJoint:InvalidArgument', 'bad temporal');
check_error(@() t.insert(struct('id', {1, 2}), 'format', 'columns'), 'DataJoint:InvalidArgument', 'columns of a struct array');
check_error(@() t.insert1(struct('id', 1, 'v', {{1}})), 'DataJoint:Type', 'cell value');
check_error(@() t.insert1(struct('id', 1, 'v', struct('a', 1))), 'DataJoint:Type', 'struct value');
check_error(@() t.insert1(struct('id', 1, 'v', 1 + 2i)), 'DataJoint:Type', 'complex scalar');
check_error(@() t.insert(struct('id', {1}, 'v', {'x'})), 'DataJoint:Type', 'text into float');
check_error(@() t.insert1(struct('id', uint64(18446744073709551615))), 'DataJoint:Type', 'uint64 beyond int64');
check_equal(t.count(), 0, 'nothing inserted');
end
