function tests = suite_types()
% Every core type round trips through struct rows and through columns, NULLs included.
tests = {
    'types_struct_rows', @t_rows
    'types_columnar', @t_columns
    'types_temporal_options', @t_temporal
    'types_unicode', @t_unicode
    'types_range_checks', @t_ranges
    'types_bigint_unsigned', @t_uint64
    };
end

function def = type_definition()
def = sprintf([ ...
    'id : int32\n---\n' ...
    'i8 = null : int8\ni16 = null : int16\ni32 = null : int32\ni64 = null : int64\n' ...
    'f32 = null : float32\nf64 = null : float64\nb = null : bool\n' ...
    'dec = null : decimal(10,2)\nc = null : char(5)\nvc = null : varchar(64)\n' ...
    'e = null : enum(''red'',''green'',''blue'')\nd = null : date\ndt = null : datetime(6)\n' ...
    'by = null : bytes\njs = null : json\nu = null : uuid']);
end

function rows = expected_rows()
% Rows 1: minima, 2: maxima, 3: ordinary values, 4: all NULL. Values as fetch returns them.
dn = datenum(2024, 5, 1);
rows = struct( ...
    'id', {int32(1); int32(2); int32(3); int32(4)}, ...
    'i8', {intmin('int8'); intmax('int8'); int8(-5); []}, ...
    'i16', {intmin('int16'); intmax('int16'); int16(300); []}, ...
    'i32', {intmin('int32'); intmax('int32'); int32(-70000); []}, ...
    'i64', {intmin('int64'); intmax('int64'); (int64(-9007199254740992) - 1); []}, ...
    'f32', {-realmax('single'); realmax('single'); single(3.25); []}, ...
    'f64', {-realmax; realmax; pi; []}, ...
    'b', {false; true; true; []}, ...
    'dec', {'-99999999.99'; '99999999.99'; '-12.50'; []}, ...
    'c', {''; 'abcde'; 'xy'; []}, ...
    'vc', {''; repmat('z', 1, 64); 'hello, world'; []}, ...
    'e', {'red'; 'blue'; 'green'; []}, ...
    'd', {datenum(1, 1, 1); datenum(9999, 12, 31); dn; []}, ...
    'dt', {datenum(1970, 1, 1); datenum(2038, 1, 19, 3, 14, 8); dn + 0.5; []}, ...
    'by', {zeros(1, 0, 'uint8'); uint8(0:255); uint8([1 0 2]); []}, ...
    'js', {'{}'; '[1,2,3]'; '{"a":1,"b":[true,null]}'; []}, ...
    'u', {'00000000-0000-0000-0000-000000000000'; 'ffffffff-ffff-ffff-ffff-ffffffffffff'; ...
          '0c7e4b76-1f3a-4a8e-9d2f-5b6c7d8e9f01'; []});
end

function t = types_table(ctx, name)
conn = test_conn(ctx);
t = conn.schema(sname(ctx, 'types')).declare(name, 'Manual', type_definition());
end

function compare_rows(got, want, label)
check_equal(size(got), size(want), [label ' size']);
f = fieldnames(want);
check_equal(fieldnames(got), f, [label ' fields']);
for i = 1:numel(want)
    for k = 1:numel(f)
        g = got(i).(f{k});
        w = want(i).(f{k});
        what = sprintf('%s row %d .%s', label, i, f{k});
        if any(strcmp(f{k}, {'dt'})) && ~isempty(w)
            check_equal(class(g), 'double', what);
            check_true(abs(g - w) < 1e-9, what);   % datenum: ~10 µs resolution (see README)
        elseif strcmp(f{k}, 'js')
            check_equal(g, json_as_stored(w), what);   % PostgreSQL (jsonb) reformats the text
        else
            check_equal(g, w, what);
        end
    end
end
end

function t_rows(ctx)
t = types_table(ctx, 'RowTypes');
want = expected_rows();
check_equal(t.insert(want), 4, 'insert count');
got = t.fetch('order_by', 'id');
compare_rows(got, want, 'struct rows');
% uuid as 16 bytes, date/datetime as text, decimal from a number
t.insert1(struct('id', 5, 'u', uint8(1:16), 'd', '2020-02-29', 'dt', '2020-02-29 23:59:59.5', 'dec', 7.25));
r = t.restrict(struct('id', 5)).fetch1('u', 'd', 'dec');
check_equal(r, '01020304-0506-0708-090a-0b0c0d0e0f10', 'uuid from bytes');
[d, dt, dec] = t.restrict(struct('id', 5)).fetch1('d', 'dt', 'dec', 'temporal', 'text');
check_equal({d, dt, dec}, {'2020-02-29', '2020-02-29 23:59:59.500000', '7.25'}, 'text forms');
end

function t_columns(ctx)
t = types_table(ctx, 'ColTypes');
want = expected_rows();
% Columns: integers with NULL as cells ({..., []}), floats with NaN, text/bytes/uuid/json as cells.
cols = struct();
cols.id = int32([1; 2; 3; 4]);
ints = {'i8', 'i16', 'i32', 'i64', 'b'};
for k = 1:numel(ints)
    cols.(ints{k}) = {want.(ints{k})}';
end
cols.f32 = [want(1:3).f32, single(NaN)]';
cols.f64 = [want(1:3).f64, NaN]';
cols.d = [want(1:3).d, NaN]';
cols.dt = [want(1:3).dt, NaN]';
txt = {'dec', 'c', 'vc', 'e', 'by', 'js', 'u'};
for k = 1:numel(txt)
    cols.(txt{k}) = {want.(txt{k})}';
end
check_equal(t.insert(cols, 'format', 'columns'), 4, 'columnar insert count');
compare_rows(t.fetch('order_by', 'id'), want, 'columnar insert');
% columns out
[c, v] = t.fetch('format', 'columns', 'order_by', 'id');
check_equal(c.i8, int8([-128; 127; -5; 0]), 'int8 column (NULL -> 0)');
check_equal(v.i8, [true; true; true; false], 'int8 validity');
check_equal(c.i64, [intmin('int64'); intmax('int64'); (int64(-9007199254740992) - 1); 0], 'int64 column');
check_equal(c.f32, [want(1:3).f32, single(NaN)]', 'float32 column');
check_equal(c.b, [false; true; true; false], 'bool column');
check_equal(v.b, [true; true; true; false], 'bool validity');
check_equal(c.dec, {want.dec}', 'decimal column');
check_equal(c.by, {want.by}', 'bytes column');
check_equal(c.u, {want.u}', 'uuid column');
check_equal(c.d, [want(1:3).d, NaN]', 'date column');
check_true(all(abs(c.dt(1:3) - [want(1:3).dt]') < 1e-9) && isnan(c.dt(4)), 'datetime column');
check_equal(v.js, [true; true; true; false], 'json validity');
% numeric columns of every class
t2 = t.restrict('id > 100');
c2 = struct('id', int32([101; 102]), 'i8', uint8([1; 127]), 'i16', int8([-1; 2]), 'i32', uint16([0; 65535]), ...
            'i64', uint64([0; intmax('int64')]), 'f32', [1; 2], 'b', [true; false], 'dec', {{'1.5'; '3'}});
t.insert(c2, 'format', 'columns');
[c, v] = t2.fetch('id', 'i8', 'i16', 'i32', 'i64', 'b', 'dec', 'format', 'columns', 'order_by', 'id');
check_equal(c.i8, int8([1; 127]), 'uint8 column into int8');
check_equal(c.i32, int32([0; 65535]), 'uint16 column into int32');
check_equal(c.i64, [int64(0); intmax('int64')], 'uint64 column into int64');
check_equal(c.b, [true; false], 'logical column');
check_equal(c.dec, {'1.50'; '3.00'}, 'decimal from text and number');
check_equal(v.dec, [true; true], 'decimal validity');
end

function t_temporal(ctx)
conn = test_conn(ctx);
t = conn.schema(sname(ctx, 'tm')).declare('Ev', 'Manual', sprintf('id : int32\n---\nd = null : date\nts = null : datetime(6)\nts0 = null : datetime'));
t.insert1(struct('id', 1, 'd', '1999-12-31', 'ts', '2024-05-01 12:30:15.123456', 'ts0', '2024-05-01 12:30:15.6'));
[d, ts, ts0] = t.fetch1('d', 'ts', 'ts0', 'temporal', 'text');
check_equal({d, ts, ts0}, {'1999-12-31', '2024-05-01 12:30:15.123456', '2024-05-01 12:30:16'}, 'text (datetime rounds to its precision)');
[d, ts] = t.fetch1('d', 'ts', 'temporal', 'raw');
check_equal(d, int32(10956), 'raw date: days since 1970-01-01');
check_equal(ts, int64(1714566615123456), 'raw datetime: microseconds since 1970-01-01');
% raw values go back in: int32/int64 for date/datetime attributes are days/microseconds
t.insert1(struct('id', 2, 'd', int32(10956), 'ts', int64(1714566615123456)));
[d2, ts2] = t.restrict(struct('id', 2)).fetch1('d', 'ts', 'temporal', 'text');
check_equal({d2, ts2}, {'1999-12-31', '2024-05-01 12:30:15.123456'}, 'raw insert');
% datenum: dates exact, datetimes to ~10 µs
[dn, tn] = t.restrict(struct('id', 1)).fetch1('d', 'ts');
check_equal(dn, datenum(1999, 12, 31), 'date datenum');
check_true(abs(tn - datenum(2024, 5, 1, 12, 30, 15.123456)) < 2e-10, 'datetime datenum');
% columns: raw and text forms
c = t.fetch('format', 'columns', 'temporal', 'raw', 'order_by', 'id');
check_equal(c.ts, int64([1714566615123456; 1714566615123456]), 'raw column');
c = t.fetch('format', 'columns', 'temporal', 'text', 'order_by', 'id');
check_equal(c.ts0, {'2024-05-01 12:30:16'; []}, 'text column with NULL');
check_equal(dj_mex('datetime_format', int64(0)), '1970-01-01 00:00:00', 'datetime_format');
check_equal(dj_mex('datetime_parse', '1970-01-02'), int64(86400000000), 'datetime_parse');
check_equal(dj_mex('date_from_ymd', 1970, 1, 11), int32(10), 'date_from_ymd');
check_equal(dj_mex('date_format', datenum(2000, 1, 1)), '2000-01-01', 'date_format of datenum');
end

function t_unicode(ctx)
conn = test_conn(ctx);
t = conn.schema(sname(ctx, 'uni')).declare('Txt', 'Manual', sprintf('id : int32\n---\ns : varchar(8)\nc = null : char(3)'));
words = {'héllo', 'Grüße', '日本語', 'Ωμέγα', 'a😀b', 'tab	x'};
for k = 1:numel(words)
    t.insert1(struct('id', k, 's', words{k}, 'c', 'é'));
end
got = t.fetch('order_by', 'id');
check_equal({got.s}, words, 'unicode round trip');
% varchar(8) counts characters, not bytes: 8 CJK characters fit
t.insert1(struct('id', 99, 's', '一二三四五六七八'));
check_equal(t.restrict(struct('id', 99)).fetch1('s'), '一二三四五六七八', 'length in characters');
check_error(@() t.insert1(struct('id', 100, 's', '一二三四五六七八九')), 'DataJoint:Type', 'nine characters');
c = t.restrict('id < 10').fetch('format', 'columns', 'order_by', 'id');
check_equal(c.s, words', 'unicode column');
t.insert(struct('id', int32([200; 201]), 's', {{'ß'; 'ü'}}), 'format', 'columns');
check_equal(t.restrict('id >= 200').fetch('s', 'format', 'columns', 'order_by', 'id').s, {'ß'; 'ü'}, 'unicode columnar insert');
end

function t_ranges(ctx)
conn = test_conn(ctx);
t = conn.schema(sname(ctx, 'rng')).declare('R', 'Manual', sprintf('id : int32\n---\ni8 = null : int8\nf32 = null : float32\nb = null : bool\ne = null : enum(''x'',''y'')'));
check_error(@() t.insert1(struct('id', 1, 'i8', 128)), 'DataJoint:Type', 'int8 overflow');
check_error(@() t.insert1(struct('id', 1, 'i8', int16(-129))), 'DataJoint:Type', 'int8 underflow');
check_error(@() t.insert1(struct('id', 1, 'i8', 1.5)), 'DataJoint:Type', 'fractional into int');
check_error(@() t.insert1(struct('id', 1, 'f32', 1e39)), 'DataJoint:Type', 'float32 overflow');
check_error(@() t.insert1(struct('id', 1, 'b', 2)), 'DataJoint:Type', 'bool 2');
check_error(@() t.insert1(struct('id', 1, 'e', 'z')), 'DataJoint:Type', 'enum member');
check_error(@() t.insert1(struct('id', 1, 'i8', [1 2])), 'DataJoint:Type', 'array into scalar');
check_error(@() t.insert1(struct('id', 1, 'i8', {{1}})), 'DataJoint:Type', 'cell value');
check_error(@() t.insert1(struct('id', NaN)), 'DataJoint:Type', 'NULL key');
check_error(@() t.insert(struct('id', int32([1; 2]), 'i8', int16([1; 300])), 'format', 'columns'), 'DataJoint:Type', 'column range');
check_equal(t.count(), 0, 'nothing inserted');
if strcmp(test_backend(), 'mysql')
    % MySQL/MariaDB cannot hold infinities: a type error, nothing written
    check_error(@() t.insert1(struct('id', 1, 'i8', 1, 'f32', Inf, 'b', 1, 'e', 'y')), 'DataJoint:Type', 'Inf on MySQL');
    check_error(@() t.insert(struct('id', int32(1), 'f32', single(-Inf)), 'format', 'columns'), 'DataJoint:Type', '-Inf column on MySQL');
    check_equal(t.count(), 0, 'no infinity stored');
    finite = single(2.5);
else
    finite = single(Inf);
end
t.insert1(struct('id', 1, 'i8', 1, 'f32', finite, 'b', 1, 'e', 'y'));
[i8, f32, b] = t.fetch1('i8', 'f32', 'b');
check_equal({i8, f32, b}, {int8(1), finite, true}, 'double 1 into int8/bool; Inf (not on MySQL)');
end

function t_uint64(ctx)
% Native `bigint unsigned` (older MySQL pipelines) holds the whole uint64 range; MATLAB uint64
% values go in through rows and columns and come back as uint64. PostgreSQL has no unsigned
% integers: the declaration is a definition error there.
conn = test_conn(ctx);
lab = conn.schema(sname(ctx, 'u64'));
def = sprintf('id : int32\n---\nx = null : bigint unsigned');
if strcmp(test_backend(), 'postgresql')
    e = check_error(@() lab.declare('Unsigned', 'Manual', def), 'DataJoint:Definition', 'bigint unsigned on PostgreSQL');
    check_true(~isempty(strfind(e.message, 'unsigned')), ['the message names the type: ' e.message]);
    check_true(isempty(lab.tables()), 'no table declared');
    return
end
t = lab.declare('Unsigned', 'Manual', def);
h = t.heading();
check_equal(h(2).type, 'bigint unsigned', 'declared type');
mx = intmax('uint64');
check_equal(t.insert(struct('id', {1, 2, 3}, 'x', {mx, uint64(0), 12345})), 3, 'struct rows');
check_equal(t.insert(struct('id', int32([4; 5; 6]), 'x', uint64([mx; 2^63; 7])), 'format', 'columns'), 3, 'uint64 column');
check_equal(t.insert(struct('id', int32([7; 8; 9]), 'x', {{mx; []; uint64(7)}}), 'format', 'columns'), 3, 'cell column with NULL');
s = t.fetch('order_by', 'id');
check_equal(s(1).x, mx, 'uint64 max through a struct row');
check_equal(s(2).x, uint64(0), 'zero');
check_equal(s(3).x, uint64(12345), 'a double into bigint unsigned');
check_equal(s(8).x, [], 'NULL');
[c, v] = t.fetch('format', 'columns', 'order_by', 'id');
check_equal(c.x, [mx; 0; 12345; mx; uint64(2^63); 7; mx; 0; 7], 'uint64 column out (NULL -> 0)');
check_equal(v.x, [true(7, 1); false; true], 'validity');
check_equal(t.restrict(struct('x', mx)).count(), 3, 'key restriction with intmax(''uint64'')');
check_equal(t.restrict('x = 18446744073709551615').count(), 3, 'SQL restriction');
check_error(@() t.insert1(struct('id', 20, 'x', -1)), 'DataJoint:Type', 'negative value');
check_error(@() t.insert(struct('id', int32(21), 'x', int64(-1)), 'format', 'columns'), 'DataJoint:Type', 'negative column');
check_equal(t.count(), 9, 'nothing else written');
% into signed attributes, uint64 values are range-checked
s2 = conn.schema(sname(ctx, 'u64')).declare('Signed', 'Manual', sprintf('id : int32\n---\nv : int64'));
s2.insert(struct('id', int32([1; 2]), 'v', uint64([0; intmax('int64')])), 'format', 'columns');
check_equal(s2.fetch('format', 'columns', 'order_by', 'id').v, [int64(0); intmax('int64')], 'uint64 column into int64');
check_error(@() s2.insert(struct('id', int32(3), 'v', mx), 'format', 'columns'), 'DataJoint:Type', 'uint64 max into int64 (column)');
check_error(@() s2.insert1(struct('id', 3, 'v', mx)), 'DataJoint:Type', 'uint64 max into int64 (row)');
check_equal(h(2).kind, 'uint64', 'heading kind (dj_kind_name(DJ_KIND_UINT64))');
end
