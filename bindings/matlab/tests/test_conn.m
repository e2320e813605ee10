function c = test_conn(ctx, name)
% test_conn(ctx, name)  A connection to the backend under test (test_backend, test_config) with a
% file store "main" (the default store) and a private npy download cache inside the test's
% folder. On DuckDB the database is the file NAME.duckdb there (NAME defaults to 'db'); on the
% servers NAME only names the store, and tests separate their data by schema name (sname).
if nargin < 2
    name = 'db';
end
store = fullfile(ctx.dir, [name '_store']);
cache = fullfile(ctx.dir, [name '_cache']);
if ~exist(store, 'dir')
    mkdir(store);
end
ov = sprintf(['{"npy_cache.path": %s, ' ...
              '"stores": {"default": "main", "main": {"protocol": "file", "location": %s}}}'], ...
             jstr(cache), jstr(store));
if strcmp(test_backend(), 'duckdb')
    ov = merge_json(sprintf('{"database.path": %s}', jstr(fullfile(ctx.dir, [name '.duckdb']))), ov);
end
c = dj.Connection.connect('', merge_json(test_config(), ov));
end

function s = jstr(p)
s = ['"' strrep(strrep(p, '\', '\\'), '"', '\"') '"'];
end
