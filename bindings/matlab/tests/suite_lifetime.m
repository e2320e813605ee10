function tests = suite_lifetime()
% Handle registry: no leaks after clear, mexLock while handles live, dj.reset, free order.
tests = {
    'lifetime_no_leaks_after_clear', @t_clear
    'lifetime_lock_follows_registry', @t_lock
    'lifetime_any_free_order', @t_order
    'lifetime_reset', @t_reset
    };
end

function make_and_drop(ctx)
conn = test_conn(ctx);
t = conn.schema(sname(ctx, 'life')).declare('T', 'Manual', sprintf('id : int32\n---\narr = null : <npy@>'));
t.insert(struct('id', {1, 2, 3}, 'arr', {1:3, [], magic(3)}));
s = t.restrict('id > 0').fetch();      %#ok<NASGU>  two NpyRefs
[c, v] = t.fetch('format', 'columns');  %#ok<ASGLU>
check_equal(dj_mex('handle_count'), 1 + 1 + 1 + 2 + 2, 'live handles inside');
end

function t_clear(ctx)
check_equal(dj_mex('handle_count'), 0, 'before');
make_and_drop(ctx);
check_equal(dj_mex('handle_count'), 0, 'after the function returned');
conn = test_conn(ctx, 'second');
lab = conn.schema(sname(ctx, 'life'));
t = lab.declare('T', 'Manual', 'id : int32');
r = t.restrict('id > 0');
check_equal(dj_mex('handle_count'), 4, 'four objects');
clear r
check_equal(dj_mex('handle_count'), 3, 'after clear r');
clear t lab conn
check_equal(dj_mex('handle_count'), 0, 'after clear');
end

function t_lock(ctx)
check_true(~dj_mex('is_locked'), 'unlocked with no handles');
conn = test_conn(ctx);
check_true(dj_mex('is_locked'), 'locked while a handle is live');
clear conn
check_true(~dj_mex('is_locked'), 'unlocked when the registry empties');
end

function t_order(ctx)
% The database stays usable through any handle, in any free order.
conn = test_conn(ctx);
t = conn.schema(sname(ctx, 'life')).declare('T', 'Manual', sprintf('id : int32\n---\narr : <npy@>'));
t.insert1(struct('id', 1, 'arr', 1:4));
r = t.fetch1('arr');
clear conn
s = t.fetch();
clear t
check_equal(r.load(), 1:4, 'ref outlives its table and connection');
check_equal(s.arr.load(), 1:4, 'fetched ref');
end

function t_reset(ctx)
conn = test_conn(ctx);
t = conn.schema(sname(ctx, 'life')).declare('T', 'Manual', sprintf('id : int32\n---\narr : <npy@>'));
t.insert1(struct('id', 1, 'arr', 1:4));
r = t.fetch1('arr');
check_equal(dj.reset(), 4, 'reset frees every handle');
check_equal(dj.handleCount(), 0, 'registry empty');
check_true(~dj_mex('is_locked'), 'unlocked after reset');
check_error(@() r.load(), 'DataJoint:InvalidHandle', 'stale ref');
% the database file was released: it can be opened again right away
conn2 = test_conn(ctx);
check_equal(conn2.schema(sname(ctx, 'life')).table('T').count(), 1, 'reopened after reset');
clear conn2
clear r t conn   % stale objects: their delete ignores unknown ids
check_equal(dj.handleCount(), 0, 'still empty');
end
