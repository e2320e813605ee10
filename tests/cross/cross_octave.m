function cross_octave(dir, schema)
% cross_octave(dir, schema)  The MATLAB/Octave half of tests/cross/run.sh: read SCHEMA.FromCpp
% (written by cross_cpp write) and compare every value, then write SCHEMA.FromOctave (read by
% cross_cpp read). The backend under test comes from DJ_TEST_BACKEND / DJ_TEST_CONFIG (the
% helpers of bindings/matlab/tests; DuckDB: the file DIR/cross.duckdb).
% Prints "ok ..." / "FAIL ..." lines; errors (exit status 1) if any check failed.
overrides = sprintf(['{"npy_cache.path": "%s/cache", ' ...
                     '"stores": {"default": "main", "main": {"protocol": "file", "location": "%s/store"}}}'], ...
                    dir, dir);
if strcmp(test_backend(), 'duckdb')
    overrides = merge_json(sprintf('{"database.path": "%s/cross.duckdb"}', dir), overrides);
end
conn = dj.Connection.connect('', merge_json(test_config(), overrides));
lab = conn.schema(schema, false);
failed = 0;
failed = failed + check(strcmp(conn.backend(), test_backend()), ['backend ' conn.backend()]);

% ------------------------------------------------------------------ read what C++ wrote
t = lab.table('FromCpp');
s = t.fetch('order_by', 'id', 'temporal', 'text');
want = expected();
read_back = want;
for i = 1:numel(read_back)
    read_back(i).js = json_as_stored(want(i).js);   % PostgreSQL (jsonb) reformats the text
end
failed = failed + check(numel(s) == 2, 'FromCpp has 2 rows');
fields = fieldnames(want);
for i = 1:2
    for k = 1:numel(fields)
        f = fields{k};
        failed = failed + check(isequaln(s(i).(f), read_back(i).(f)) && strcmp(class(s(i).(f)), class(read_back(i).(f))), ...
                                sprintf('FromCpp row %d %s', i, f));
    end
end
% datenum form of the same values
dn = t.fetch('d', 'dt', 'order_by', 'id');
failed = failed + check(dn(1).d == datenum(2024, 5, 1), 'FromCpp date as datenum');
failed = failed + check(abs(dn(1).dt - datenum(2024, 5, 1, 12, 30, 15.123456)) < 2e-10, 'FromCpp datetime as datenum');
% <npy@>: C++ wrote a C-order (2,3,4) float64 array a[i,j,k] = 100i+10j+k
r = s(1).arr;
failed = failed + check(isequal(r.shape(), [2 3 4]) && strcmp(r.dtype(), 'float64'), 'FromCpp npy shape/dtype');
A = r.load();
failed = failed + check(isequal(size(A), [2 3 4]) && isa(A, 'double'), 'FromCpp npy loads as 2x3x4 double');
bad = 0;
for i = 0:1
    for j = 0:2
        for k = 0:3
            bad = bad + (A(i + 1, j + 1, k + 1) ~= 100 * i + 10 * j + k);
        end
    end
end
failed = failed + check(bad == 0, 'FromCpp npy A(i+1,j+1,k+1) == 100i+10j+k');
failed = failed + check(isequal(r.map(), A), 'FromCpp npy map == load');
info = r.localFile();
failed = failed + check(~info.fortran_order, 'FromCpp npy file is C order');
B = s(2).arr.load();
failed = failed + check(isequal(B, int16([1 2; 3 4; 5 6])), 'FromCpp npy int16 (3,2) C-order');
failed = failed + check(isequal(s(2).arr.readRows(2, 3), int16([3 4; 5 6])), 'FromCpp npy readRows');
[c, v] = t.fetch('format', 'columns', 'order_by', 'id');
failed = failed + check(isequaln(c.n, [NaN; 0.5]) && isequal(v.n, [false; true]), 'FromCpp columns NULL');
failed = failed + check(isequal(c.i64, [intmin('int64'); intmax('int64')]), 'FromCpp columns int64');

% ------------------------------------------------------------------ write for C++
o = lab.declare('FromOctave', 'Manual', definition());
rows = want;
[i, j, k] = ndgrid(0:1, 0:2, 0:3);
rows(1).arr = int32(100 * i + 10 * j + k);     % numpy must see a[i,j,k] = 100i+10j+k
rows(2).arr = single(1:5);                     % numpy shape (1,5)
o.insert(rows);
failed = failed + check(o.count() == 2, 'wrote FromOctave');
sh = lab.declare('FromOctaveShapes', 'Manual', sprintf('id : int32\n---\narr : <npy@>'));
sh.insert(struct('id', {1, 2}, 'arr', {dj.npy(42, []), dj.npy(int64([-1 2 3 intmax('int64')]), 4)}));
failed = failed + check(sh.count() == 2, 'wrote FromOctaveShapes');
clear r s c v t o sh lab conn
if failed > 0
    error('cross:failed', '%d Octave checks failed', failed);
end
end

function n = check(ok, what)
if ok
    fprintf('ok   octave: %s\n', what);
    n = 0;
else
    fprintf('FAIL octave: %s\n', what);
    n = 1;
end
end

function rows = expected()
% The same constants as expected_rows() in cross_cpp.cpp (dates/datetimes as text).
rows = struct( ...
    'id', {int32(1); int32(2)}, ...
    'i8', {int8(-128); int8(127)}, ...
    'i16', {int16(-32768); int16(32767)}, ...
    'i32', {intmin('int32'); intmax('int32')}, ...
    'i64', {intmin('int64'); intmax('int64')}, ...
    'f32', {single(-1.5); single(3.25)}, ...
    'f64', {-2.25e300; 3.141592653589793}, ...
    'b', {true; false}, ...
    'dec', {'-12.50'; '99999999.99'}, ...
    'vc', {'héllo wörld ✓ 日本'; ''}, ...
    'e', {'green'; 'red'}, ...
    'd', {'2024-05-01'; '1999-12-31'}, ...
    'dt', {'2024-05-01 12:30:15.123456'; '1970-01-01 00:00:00'}, ...
    'by', {uint8([0 1 2 255]); zeros(1, 0, 'uint8')}, ...
    'js', {'{"a":1,"b":[true,null]}'; '[]'}, ...
    'u', {'0c7e4b76-1f3a-4a8e-9d2f-5b6c7d8e9f01'; 'ffffffff-ffff-ffff-ffff-ffffffffffff'}, ...
    'n', {[]; 0.5});
end

function def = definition()
def = sprintf(['# cross-language reference rows\nid : int32\n---\ni8 : int8\ni16 : int16\ni32 : int32\n' ...
               'i64 : int64\nf32 : float32\nf64 : float64\nb : bool\ndec : decimal(10,2)\nvc : varchar(64)\n' ...
               'e : enum(''red'',''green'',''blue'')\nd : date\ndt : datetime(6)\nby : bytes\njs : json\n' ...
               'u : uuid\nn = null : float64\narr = null : <npy@>']);
end
