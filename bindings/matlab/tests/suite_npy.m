function tests = suite_npy()
% <npy@> arrays: every MATLAB numeric/logical class, scalars, 0-d, vectors, 1-d, 3-D and empty
% arrays through struct rows and columns; NpyRef metadata, load, map, readRows, localFile.
tests = {
    'npy_every_class_and_shape', @t_dtypes
    'npy_file_is_numpy_ijk', @t_file_layout
    'npy_ref_metadata_load_map', @t_refs
    'npy_complex_nulls_copy', @t_complex_nulls
    'npy_read_rows_local_file', @t_rows_local
    };
end

function classes = mclasses()
classes = {'logical', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'single', 'double'};
end

function A = make(cls, dims)
% Distinct, non-trivial values of class CLS, including the class's extremes.
n = prod(dims);
base = 0:n - 1;
switch cls
    case 'logical'
        A = mod(base, 3) == 0;
    case {'int8', 'int16', 'int32', 'int64'}
        A = cast(base .* (-1) .^ base, cls);
        if n >= 3
            A(2) = intmin(cls);
            A(3) = intmax(cls);
        end
    case {'uint8', 'uint16', 'uint32', 'uint64'}
        A = cast(base, cls);
        if n >= 2
            A(2) = intmax(cls);
        end
    otherwise
        A = cast(base / 4 - 2.5, cls);
        if n >= 4
            A(2) = Inf;
            A(3) = -realmax(cls);
            A(4) = NaN;
        end
end
A = reshape(A, dims);
end

function [values, expect, shapes] = cases_for(cls)
% The value to insert, the array load must return, and numpy's shape.
x = make(cls, [1 1]);
v5 = make(cls, [1 5]);
values = {x, dj.npy(x, []), v5, make(cls, [5 1]), dj.npy(v5, 5), make(cls, [2 3 4]), make(cls, [0 3]), make(cls, [3 1 2])};
expect = {x, x, v5, make(cls, [5 1]), reshape(v5, 5, 1), make(cls, [2 3 4]), make(cls, [0 3]), make(cls, [3 1 2])};
shapes = {[1 1], zeros(1, 0), [1 5], [5 1], 5, [2 3 4], [0 3], [3 1 2]};
end

function t_dtypes(ctx)
conn = test_conn(ctx);
lab = conn.schema(sname(ctx, 'npy'));
tr = lab.declare('ByRow', 'Manual', sprintf('id : int32\n---\narr = null : <npy@>'));
tc = lab.declare('ByCol', 'Manual', sprintf('id : int32\n---\narr = null : <npy@>'));
classes = mclasses();
numpy = {'bool', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'float32', 'float64'};
id = 0;
rows = struct('id', {}, 'arr', {});
ids = zeros(0, 1, 'int32');
arrs = {};
exp = {};
shp = {};
cls = {};
for c = 1:numel(classes)
    [values, expect, shapes] = cases_for(classes{c});
    for k = 1:numel(values)
        id = id + 1;
        rows(end + 1, 1) = struct('id', id, 'arr', values{k}); %#ok<AGROW>
        ids(end + 1, 1) = id; %#ok<AGROW>
        arrs{end + 1, 1} = values{k}; %#ok<AGROW>
        exp{end + 1} = expect{k}; %#ok<AGROW>
        shp{end + 1} = shapes{k}; %#ok<AGROW>
        cls{end + 1} = numpy{c}; %#ok<AGROW>
    end
end
check_equal(tr.insert(rows), id, 'row insert');
check_equal(tc.insert(struct('id', ids, 'arr', {arrs}), 'format', 'columns'), id, 'columnar insert');
for t = {tr, tc}
    s = t{1}.fetch('order_by', 'id');
    c = t{1}.fetch('format', 'columns', 'order_by', 'id');
    for i = 1:id
        what = sprintf('%s id %d (%s, shape [%s])', t{1}.name(), i, cls{i}, num2str(shp{i}));
        r = s(i).arr;
        check_true(isa(r, 'dj.NpyRef'), [what ' is a dj.NpyRef']);
        check_equal(r.shape(), shp{i}, [what ' shape']);
        check_equal(r.dtype(), cls{i}, [what ' dtype']);
        check_equal(r.numElements(), numel(exp{i}), [what ' size']);
        check_equal(r.load(), exp{i}, [what ' load']);
        check_equal(r.map(), exp{i}, [what ' map']);
        check_equal(c.arr{i}.load(), exp{i}, [what ' columns-form ref']);
    end
end
end

function t_file_layout(ctx)
% The stored file itself: a MATLAB 2x3x4 array is numpy (2,3,4) in Fortran order, so numpy's
% a[i,j,k] is A(i+1,j+1,k+1); a C-order reader sees the same elements.
conn = test_conn(ctx);
t = conn.schema(sname(ctx, 'npy')).declare('Arr', 'Manual', sprintf('id : int32\n---\narr : <npy@>'));
[i, j, k] = ndgrid(0:1, 0:2, 0:3);
A = int32(100 * i + 10 * j + k);
t.insert1(struct('id', 1, 'arr', A));
r = t.fetch1('arr');
info = r.localFile();
fid = fopen(info.path, 'r');
bytes = fread(fid, Inf, 'uint8=>uint8')';
fclose(fid);
check_equal(char(bytes(1:6)), [char(147) 'NUMPY'], 'magic');
hlen = double(bytes(9)) + 256 * double(bytes(10));
header = char(bytes(11:10 + hlen));
check_true(~isempty(strfind(header, '''descr'': ''<i4''')), ['descr in ' header]);
check_true(~isempty(strfind(header, '''fortran_order'': True')), ['fortran_order in ' header]);
check_true(~isempty(strfind(header, '''shape'': (2, 3, 4)')), ['shape in ' header]);
check_equal(info.offset, 10 + hlen, 'data offset');
check_true(info.fortran_order, 'fortran flag');
check_true(~info.big_endian, 'little endian');
data = typecast(bytes(info.offset + 1:end), 'int32');
% numpy a[i,j,k] of a Fortran-order (2,3,4) array is data(1 + i + 2*j + 6*k)
for ii = 0:1
    for jj = 0:2
        for kk = 0:3
            check_equal(data(1 + ii + 2 * jj + 6 * kk), int32(100 * ii + 10 * jj + kk), ...
                        sprintf('a[%d,%d,%d]', ii, jj, kk));
        end
    end
end
check_equal(r.load(), A, 'load');
end

function t_refs(ctx)
conn = test_conn(ctx);
t = conn.schema(sname(ctx, 'npy')).declare('Arr', 'Manual', sprintf('id : int32\n---\narr : <npy@>'));
A = single(reshape(1:24, 4, 6));
t.insert1(struct('id', 1, 'arr', A));
r = t.fetch1('arr');
check_equal(r.store(), 'main', 'store');
check_true(~isempty(strfind(r.path(), '.npy')), 'path');
check_equal(r.nbytes(), 96, 'nbytes');
[name, code, itemsize, cls] = r.dtype();
check_equal({name, code, itemsize, cls}, {'float32', 11, 4, 'single'}, 'dtype details');
check_true(~r.isLoaded(), 'not loaded before load');
check_equal(r.map(), A, 'map');
check_equal(r.load(), A, 'load');
check_true(r.isLoaded(), 'loaded after load');
st = conn.storeStats();
check_true(st.bytes_written >= 96 && st.requests >= 1, 'store stats');
check_equal(conn.storeStats('main'), conn.storeStats(), 'named store');
% dj.NpyRef values from a fetch can be inserted elsewhere (loaded first)
t2 = conn.schema(sname(ctx, 'npy')).declare('Copy', 'Manual', sprintf('id : int32\n---\narr : <npy@>'));
s = t.fetch();
t2.insert(s);
check_equal(t2.fetch1('arr').load(), A, 'copied through a dj.NpyRef');
end

function t_complex_nulls(ctx)
conn = test_conn(ctx);
t = conn.schema(sname(ctx, 'npy')).declare('Arr', 'Manual', sprintf('id : int32\n---\narr = null : <npy@>'));
Z = complex(reshape(1:6, 2, 3), -reshape(1:6, 2, 3));
t.insert(struct('id', {1, 2, 3, 4}, 'arr', {Z, single(Z), [], complex([1 2], [0 0])}));
s = t.fetch('order_by', 'id');
check_equal(s(1).arr.dtype(), 'complex128', 'complex128');
check_equal(s(1).arr.load(), Z, 'complex double');
check_equal(s(2).arr.load(), single(Z), 'complex single');
check_equal(s(3).arr, [], 'NULL array');
check_equal(s(4).arr.dtype(), 'complex128', 'complex with zero imaginary part stays complex');
check_true(~isreal(s(4).arr.load()) || isequal(s(4).arr.load(), [1 2]), 'complex value');
c = t.fetch('format', 'columns', 'order_by', 'id');
check_equal(c.arr{3}, [], 'NULL in columns form');
t.insert(struct('id', int32([5; 6]), 'arr', {{[]; uint8(7)}}), 'format', 'columns');
check_equal(t.restrict(struct('id', 5)).fetch1('arr'), [], 'columnar NULL');
check_error(@() t.insert1(struct('id', 9, 'arr', 'text')), 'DataJoint:Type', 'char array');
check_error(@() t.insert1(struct('id', 9, 'arr', {{1}})), 'DataJoint:Type', 'cell array');
check_error(@() t.insert1(struct('id', 9, 'arr', dj.npy(1:6, [4 2]))), 'DataJoint:Type', 'bad explicit shape');
end

function t_rows_local(ctx)
conn = test_conn(ctx);
t = conn.schema(sname(ctx, 'npy')).declare('Arr', 'Manual', sprintf('id : int32\n---\narr : <npy@>'));
v = int16(1:10) * 3;
t.insert(struct('id', {1, 2}, 'arr', {dj.npy(v, 10), int16(magic(4))}));
s = t.fetch('order_by', 'id');
check_equal(s(1).arr.readRows(2, 4), int16([6; 9; 12]), 'readRows of a 1-d array');
check_equal(s(1).arr.readRows(1, 10), v', 'readRows all');
info = s(1).arr.localFile();
check_true(exist(info.path, 'file') == 2, 'local file exists');
check_equal(info.shape, 10, 'local file shape');
check_equal(info.class, 'int16', 'local file class');
fid = fopen(info.path, 'r');
fseek(fid, info.offset, 'bof');
raw = fread(fid, Inf, 'int16=>int16');
fclose(fid);
check_equal(raw, v', 'fread at the data offset');
% read_rows needs a C-order array; a MATLAB 2-D array is stored in Fortran order
err = check_error_any(@() s(2).arr.readRows(1, 2));
check_true(strncmp(err.identifier, 'DataJoint:', 10), ['readRows of an F-order array: ' err.identifier]);
end

function err = check_error_any(fn)
try
    fn();
catch err
    return
end
error('Test:Mismatch', 'no error');
end
