function c = test_conn(ctx, name)
% test_conn(ctx, name)  A connection to a fresh DuckDB file with a file store "main" (the
% default store) and a private npy download cache, all inside the test's folder.
if nargin < 2
    name = 'db';
end
db = fullfile(ctx.dir, [name '.duckdb']);
store = fullfile(ctx.dir, [name '_store']);
cache = fullfile(ctx.dir, [name '_cache']);
if ~exist(store, 'dir')
    mkdir(store);
end
ov = sprintf(['{"database.path": %s, "npy_cache.path": %s, ' ...
              '"stores": {"default": "main", "main": {"protocol": "file", "location": %s}}}'], ...
             jstr(db), jstr(cache), jstr(store));
c = dj.Connection.connect('', ov);
end

function s = jstr(p)
s = ['"' strrep(strrep(p, '\', '\\'), '"', '\"') '"'];
end
