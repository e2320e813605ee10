function bench(dir, reps)
% bench(dir, reps)  The MATLAB/Octave side of bench/matlab/run.sh: best-of-REPS timings (ms) of
% the same operations as bench_cpp run, on the data bench_cpp setup wrote into DIR. Prints one
% JSON object on a line of its own.
if ischar(reps)
    reps = str2double(reps);
end
overrides = sprintf(['{"database.path": "%s/bench.duckdb", "npy_cache.path": "%s/cache", ' ...
                     '"stores": {"default": "main", "main": {"protocol": "file", "location": "%s/store"}}}'], ...
                    dir, dir, dir);
conn = dj.Connection.connect('', overrides);
lab = conn.schema('bench', false);
small = lab.table('Small');
fetch_cols = inf;
for r = 1:reps
    t0 = tic;
    c = small.fetch('format', 'columns');
    fetch_cols = min(fetch_cols, toc(t0) * 1e3);
end
rows = numel(c.id);
assert(isa(c.id, 'int32') && isa(c.x, 'double') && iscellstr(c.name) && c.x(end) == (rows - 1) * 0.25);
clear c
fetch_struct = inf;
for r = 1:min(reps, 3)
    t0 = tic;
    s = small.fetch();
    fetch_struct = min(fetch_struct, toc(t0) * 1e3);
end
assert(numel(s) == rows);
clear s
big = lab.table('Big');
load_c = load_ms(big, 1, reps, 'load');
load_f = load_ms(big, 2, reps, 'load');
map_c = load_ms(big, 1, reps, 'map');
map_f = load_ms(big, 2, reps, 'map');
fprintf(['\n{"rows": %d, "octave_fetch_columns_ms": %.3f, "octave_fetch_struct_ms": %.3f, ' ...
         '"octave_load_c_order_ms": %.3f, "octave_load_f_order_ms": %.3f, ' ...
         '"octave_map_c_order_ms": %.3f, "octave_map_f_order_ms": %.3f}\n'], ...
        rows, fetch_cols, fetch_struct, load_c, load_f, map_c, map_f);
end

function best = load_ms(big, id, reps, how)
% A fresh dj.NpyRef per repetition (load caches the array on the ref); only load/map is timed.
best = inf;
for r = 1:reps
    ref = big.restrict(struct('id', id)).fetch1('arr');
    t0 = tic;
    if strcmp(how, 'load')
        A = ref.load();
    else
        A = ref.map();
    end
    best = min(best, toc(t0) * 1e3);
    assert(isequal(size(A), [8192 8192]) && isa(A, 'single'));
    % bench_cpp wrote one buffer b(n) = mod(n, 1000003) * 0.5 as C order (id 1: a[i,j] = b(8192i+j))
    % and as Fortran order (id 2: a[i,j] = b(i+8192j)); A(i+1,j+1) must be numpy's a[i,j]
    if id == 1
        n = 1 * 8192 + 2;
    else
        n = 1 + 2 * 8192;
    end
    assert(A(2, 3) == single(mod(n, 1000003) * 0.5));
    clear A ref
end
end
