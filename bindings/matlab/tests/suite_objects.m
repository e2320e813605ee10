function tests = suite_objects()
% <object@> files, folders and bytes; dj.ObjectRef metadata, files, ranged reads, streams and
% downloads; <filepath@> references; staged inserts (function-handle and explicit forms, puts,
% streams, localDir, progress, errors, abort by clear/delete); gc of orphaned objects.
tests = {
    'objects_file_folder_bytes', @t_insert_kinds
    'objects_ref_reads_download', @t_ref_reads
    'objects_filepath', @t_filepath
    'objects_staged_function_handle', @t_staged_fn
    'objects_staged_explicit', @t_staged_explicit
    'objects_staged_progress', @t_staged_progress
    'objects_staged_abort_by_clear', @t_staged_clear
    'objects_progress_handles', @t_progress_handles
    'objects_gc', @t_gc
    };
end

% ------------------------------------------------------------------ helpers

function t = objects_table(ctx, conn)
t = conn.schema(sname(ctx, 'obj')).declare('Recording', 'Manual', ...
    sprintf('rec_id : int32\n---\ndata = null : <object@>   # a file or folder\nnote = '''' : varchar(40)'));
end

function write_file(p, bytes)
d = fileparts(p);
if ~exist(d, 'dir')
    mkdir(d);
end
fid = fopen(p, 'w');
fwrite(fid, bytes, 'uint8');
fclose(fid);
end

function b = read_file(p)
fid = fopen(p, 'r');
b = fread(fid, Inf, 'uint8=>uint8')';
fclose(fid);
if isempty(b)
    b = zeros(1, 0, 'uint8');
end
end

function f = list_files(root)
% Relative paths of every file under ROOT, sorted (a 1×N cell).
f = {};
if ~exist(root, 'dir')
    return
end
stack = {''};
while ~isempty(stack)
    rel = stack{end};
    stack(end) = [];
    entries = dir(fullfile(root, rel));
    for k = 1:numel(entries)
        n = entries(k).name;
        if strcmp(n, '.') || strcmp(n, '..')
            continue
        end
        if isempty(rel)
            r = n;
        else
            r = [rel '/' n];
        end
        if entries(k).isdir
            stack{end + 1} = r; %#ok<AGROW>
        else
            f{end + 1} = r; %#ok<AGROW>
        end
    end
end
f = sort(f);
end

function d = store_dir(ctx)
d = fullfile(ctx.dir, 'db_store');   % the "main" store of test_conn(ctx)
end

function names = make_folder(dir, n)
% A local folder of N files in two levels; returns their relative paths (sorted).
names = {};
for i = 0:n - 1
    if mod(i, 2) == 0
        rel = sprintf('f%04d.bin', i);
    else
        rel = sprintf('sub/d%d/f%04d.bin', mod(i, 5), i);
    end
    write_file(fullfile(dir, rel), folder_bytes(i));
    names{end + 1} = rel; %#ok<AGROW>
end
names = sort(names);
end

function b = folder_bytes(i)
b = uint8(mod((0:mod(i, 97)) * 7 + i, 256));
end

function i = index_of(rel)
% The i of make_folder's file REL.
i = sscanf(rel(end - 7:end - 4), '%d');
end

function record(m, n)
% Append N to the containers.Map M (a handle: a progress function can collect into it).
m(m.Count + 1) = n;
end

function v = map_values(m)
v = cell2mat(values(m, num2cell(1:m.Count)));
end

% ------------------------------------------------------------------ tests

function t_insert_kinds(ctx)
conn = test_conn(ctx);
t = objects_table(ctx, conn);
src = fullfile(ctx.dir, 'src');
file = fullfile(src, 'trace.dat');
payload = uint8(mod(0:299999, 251));
write_file(file, payload);
folder = fullfile(src, 'session');
names = make_folder(folder, 12);
rows = struct('rec_id', {1, 2, 3, 4, 5, 6}, ...
              'data', {file, folder, uint8('raw bytes'), {'.bin', uint8([1 2 3])}, [], uint8(7)});
check_equal(t.insert(rows), 6, 'insert');
s = t.fetch('order_by', 'rec_id');
r = s(1).data;
check_true(isa(r, 'dj.ObjectRef'), 'a file is fetched as a dj.ObjectRef');
prefix = ['_schema/' sname(ctx, 'obj') '/recording/rec_id=1/data_'];
check_true(strncmp(r.path, prefix, numel(prefix)), ['path ' r.path]);
check_true(~isempty(regexp(r.path, '\.dat$', 'once')), 'path keeps the extension');
check_equal(r.store, 'main', 'store');
check_equal(r.ext, '.dat', 'ext');
check_equal(r.size, 300000, 'size');
check_equal(r.isDir, false, 'isDir');
check_equal(r.itemCount, [], 'itemCount of a file');
check_true(~isempty(regexp(r.timestamp, '^\d{4}-\d\d-\d\dT.*\+00:00$', 'once')), ['timestamp ' r.timestamp]);
check_equal(r.read(), payload, 'whole file');
% folder
d = s(2).data;
check_equal(d.isDir, true, 'folder isDir');
check_equal(d.itemCount, 12, 'folder itemCount');
total = 0;
for k = 1:numel(names)
    total = total + numel(folder_bytes(index_of(names{k})));
end
check_equal(d.size, total, 'folder size');
check_equal(d.ext, '', 'a folder has no ext');
f = d.files();
check_equal(size(f), [12 1], 'files()');
check_equal({f.name}, names, 'file names');
for k = 1:numel(names)
    check_equal(f(k).size, numel(folder_bytes(index_of(names{k}))), ['size of ' names{k}]);
    check_equal(d.read(names{k}), folder_bytes(index_of(names{k})), ['read ' names{k}]);
end
% bytes, (ext, bytes), NULL, one byte
check_equal(s(3).data.read(), uint8('raw bytes'), 'bytes');
check_equal(s(3).data.ext, '', 'bytes have no ext');
check_equal(s(4).data.read(), uint8([1 2 3]), '(ext, bytes)');
check_equal(s(4).data.ext, '.bin', 'ext of (ext, bytes)');
check_true(~isempty(regexp(s(4).data.path, '\.bin$', 'once')), 'path of (ext, bytes)');
check_equal(s(5).data, [], 'NULL');
check_equal(s(6).data.read(), uint8(7), 'one byte');
% columns: a cell of paths, a cell of bytes (one kind per column); ObjectRefs in a cell, [] for NULL
check_equal(t.insert(struct('rec_id', int32([10; 12]), 'data', {{file; []}}), 'format', 'columns'), 2, ...
            'columnar insert of paths');
check_equal(t.insert(struct('rec_id', int32(11), 'data', {{uint8([4 5])}}), 'format', 'columns'), 1, ...
            'columnar insert of bytes');
check_error(@() t.insert(struct('rec_id', int32(13), 'data', {{{'.x', uint8(1)}}}), 'format', 'columns'), ...
            'DataJoint:Type', '(ext, bytes) in columns');
c = t.restrict('rec_id >= 10').fetch('format', 'columns', 'order_by', 'rec_id');
check_true(iscell(c.data) && isa(c.data{1}, 'dj.ObjectRef'), 'columns form: cell of refs');
check_equal(c.data{1}.read('', 299990, Inf), payload(299991:end), 'columns: file');
check_equal(c.data{2}.read(), uint8([4 5]), 'columns: bytes');
check_equal(c.data{3}, [], 'columns: NULL');
check_equal(t.restrict(struct('rec_id', 1)).fetch1('data').size, 300000, 'fetch1');
% bad values: an error naming the attribute, nothing inserted
n = t.count();
before = list_files(store_dir(ctx));
check_error(@() t.insert1(struct('rec_id', 20, 'data', fullfile(src, 'missing.dat'))), 'DataJoint:Type', 'missing path');
check_error(@() t.insert1(struct('rec_id', 21, 'data', 2.5)), 'DataJoint:Type', 'a number');
check_error(@() t.insert1(struct('rec_id', 22, 'data', {{1, 2}})), 'DataJoint:Type', 'a bad cell');
check_error(@() t.insert1(struct('rec_id', 23, 'data', {{'.x', 'text'}})), 'DataJoint:Type', 'ext + char');
check_error(@() t.insert(struct('rec_id', {30, 1}, 'data', {folder, file})), 'DataJoint:Duplicate', 'duplicate');
check_equal(t.count(), n, 'no rows from failed inserts');
check_equal(list_files(store_dir(ctx)), before, 'no files from failed inserts');
% deleting rows deletes their files and folders
lp = r.localPath();
check_true(exist(lp, 'file') == 2, 'local file');
t.restrict('rec_id <= 2').del();
check_true(exist(lp, 'file') == 0, 'deleting the row removed the file');
t.del();
check_equal(list_files(fullfile(store_dir(ctx), '_schema')), {}, 'every object removed with its row');
end

function t_ref_reads(ctx)
conn = test_conn(ctx);
t = objects_table(ctx, conn);
src = fullfile(ctx.dir, 'src');
file = fullfile(src, 'trace.dat');
payload = uint8(mod(0:99999, 253));
write_file(file, payload);
folder = fullfile(src, 'session');
names = make_folder(folder, 6);
t.insert(struct('rec_id', {1, 2}, 'data', {file, folder}));
r = t.restrict(struct('rec_id', 1)).fetch1('data');
% ranged reads: 0-based offsets, short at the end, empty past it
check_equal(r.read('', 1000, 10), payload(1001:1010), 'read 10 at 1000');
check_equal(r.read('', 0, 1), payload(1), 'first byte');
check_equal(r.read('', 99995, 100), payload(99996:end), 'short at the end');
check_equal(r.read('', 100000, 5), zeros(1, 0, 'uint8'), 'nothing past the end');
check_equal(r.read('', 0, 0), zeros(1, 0, 'uint8'), 'len 0');
check_equal(r.read('', 50000), payload(50001:end), 'from an offset to the end');
check_equal(r.read('', 10, 2^27), payload(11:end), 'a large len (sized first)');
check_error(@() r.read('', -1, 1), 'DataJoint:InvalidArgument', 'negative offset');
% files, exists
f = r.files();
check_equal(numel(f), 1, 'a file lists as one entry');
check_equal(f.name, '', 'its name is empty');
check_equal(f.size, 100000, 'its size');
check_true(r.exists(), 'exists');
% a stream
rd = r.open('', 99000);
check_equal(rd.size, 100000, 'reader size');
parts = {};
while true
    b = rd.read(300);
    if isempty(b)
        break
    end
    parts{end + 1} = b; %#ok<AGROW>
end
check_equal([parts{:}], payload(99001:end), 'streamed tail');
clear rd
% download, local path
dest = fullfile(ctx.dir, 'dl', 'copy.dat');
check_equal(r.download(dest), 100000, 'download bytes');
check_equal(read_file(dest), payload, 'downloaded file');
check_equal(read_file(r.localPath()), payload, 'localPath is the stored file');
i = r.info();
check_equal({i.ext, i.size, i.is_dir}, {'.dat', 100000, false}, 'info');
% a folder
d = t.restrict(struct('rec_id', 2)).fetch1('data');
check_true(d.exists(names{end}), 'exists(sub)');
check_true(~d.exists('nope.bin'), 'a missing file');
b3 = folder_bytes(index_of(names{3}));   % f0004.bin: 5 bytes
check_equal(d.read(names{3}, 1, 3), b3(2:4), 'ranged read of a folder file');
check_error(@() d.read(), 'DataJoint:InvalidArgument', 'reading a folder as a file');
check_error(@() d.read('../x'), 'DataJoint:InvalidArgument', 'a path out of the folder');
dd = fullfile(ctx.dir, 'dl', 'session');
d.download(dd);
check_equal(list_files(dd), names, 'downloaded folder');
for k = 1:numel(names)
    check_equal(read_file(fullfile(dd, names{k})), folder_bytes(index_of(names{k})), ['downloaded ' names{k}]);
end
check_true(exist(d.localPath(), 'dir') == 7, 'localPath of a folder');
end

function t_filepath(ctx)
conn = test_conn(ctx);
t = conn.schema(sname(ctx, 'obj')).declare('Raw', 'Manual', sprintf('raw_id : int32\n---\nsrc : <filepath@>'));
root = store_dir(ctx);
write_file(fullfile(root, 'raw', 'session1', 'a.txt'), uint8('hello'));
write_file(fullfile(root, 'raw', 'session1', 'b', 'c.txt'), uint8('hi'));
t.insert(struct('raw_id', {1, 2}, 'src', {'raw/session1/a.txt', 'raw/session1'}));
s = t.fetch('order_by', 'raw_id');
a = s(1).src;
check_true(isa(a, 'dj.ObjectRef'), 'a filepath is a dj.ObjectRef');
check_equal(a.path, 'raw/session1/a.txt', 'path');
check_equal({a.size, a.isDir}, {5, false}, 'file metadata');
check_equal(a.read(), uint8('hello'), 'read');
d = s(2).src;
check_equal({d.size, d.isDir}, {[], true}, 'folder metadata (no size)');
f = d.files();
check_equal({f.name}, {'a.txt', 'b/c.txt'}, 'folder files');
check_equal([f.size], [5 2], 'folder file sizes');
check_equal(d.read('b/c.txt'), uint8('hi'), 'read a folder file');
check_error(@() t.insert1(struct('raw_id', 10, 'src', '../etc/passwd')), 'DataJoint:InvalidArgument', 'traversal');
check_error(@() t.insert1(struct('raw_id', 11, 'src', '/etc/passwd')), 'DataJoint:InvalidArgument', 'absolute');
check_error(@() t.insert1(struct('raw_id', 12, 'src', 'raw/nope.txt')), 'DataJoint:NotFound', 'missing');
check_equal(t.count(), 2, 'rows');
t.del();
check_equal(list_files(fullfile(root, 'raw')), {'session1/a.txt', 'session1/b/c.txt'}, 'deletes keep the user''s files');
end

function write_ok(st, payload)
st.set(struct('rec_id', 1));
w = st.open('data', '.raw');
for k = 0:9
    w.write(payload(k * 1000 + 1:(k + 1) * 1000));
end
check_equal(w.close(), 10000, 'writer size');
st.set(struct('note', 'streamed'));
end

function write_then_fail(st)
st.set(struct('rec_id', 2));
for k = 1:5
    st.put('data', sprintf('chunk/%d', k), uint8(1:100));
end
error('Test:Boom', 'failed while writing');
end

function t_staged_fn(ctx)
conn = test_conn(ctx);
t = objects_table(ctx, conn);
payload = uint8(mod(0:9999, 241));
t.stagedInsert1(@(st) write_ok(st, payload));
r = t.restrict(struct('rec_id', 1)).fetch1('data');
check_equal({r.size, r.isDir, r.ext}, {10000, false, '.raw'}, 'staged file metadata');
check_equal(r.read(), payload, 'staged file bytes');
check_equal(t.restrict(struct('rec_id', 1)).fetch1('note'), 'streamed', 'other attributes');
files = list_files(store_dir(ctx));
err = check_error(@() t.stagedInsert1(@write_then_fail), 'Test:Boom', 'the error is rethrown');
check_true(~isempty(strfind(err.message, 'failed while writing')), 'its message');
check_equal(t.count(), 1, 'no row from the failed staged insert');
check_equal(list_files(store_dir(ctx)), files, 'its files were removed');
% a function that commits itself; one that aborts; the staged insert returned on request
t.stagedInsert1(@(st) commit_self(st, 3));
check_equal(t.count(), 2, 'committed by the function');
t.stagedInsert1(@(st) abort_self(st, 4));
check_equal(t.count(), 2, 'aborted by the function');
st = t.stagedInsert1(@(st) st.set(struct('rec_id', 5, 'data', uint8([9 9]))));
check_true(st.isFinished(), 'returned finished');
check_equal(t.restrict(struct('rec_id', 5)).fetch1('data').read(), uint8([9 9]), 'a value set directly');
% a duplicate key at the commit: the error, and nothing stays
check_error(@() t.stagedInsert1(@(st) put_one(st, 1)), 'DataJoint:Duplicate', 'duplicate at commit');
check_equal(t.count(), 3, 'rows after the duplicate');
check_equal(numel(list_files(store_dir(ctx))), numel(files) + 2, 'files after the duplicate');
check_error(@() t.stagedInsert1(42), 'DataJoint:InvalidArgument', 'not a function');
end

function commit_self(st, id)
put_one(st, id);
st.commit();
end

function abort_self(st, id)
put_one(st, id);
st.abort();
end

function put_one(st, id)
st.set(struct('rec_id', id));
st.put('data', 'a.bin', uint8([1 2 3]));
end

function t_staged_explicit(ctx)
conn = test_conn(ctx);
t = objects_table(ctx, conn);
st = t.stagedInsert1();
check_true(isa(st, 'dj.StagedInsert'), 'a dj.StagedInsert');
check_error(@() st.put('data', 'x.bin', uint8(1)), 'DataJoint:InvalidArgument', 'a field before the key');
st.set(struct('rec_id', 1));
check_error(@() st.open('note', ''), 'DataJoint:Type', 'a field that is not <object@>');
check_error(@() st.open('nope', ''), 'DataJoint:UnknownAttribute', 'an unknown field');
bad = {'../x', '/abs', 'a//b', 'a/./b', ''};
for k = 1:numel(bad)
    check_error(@() st.put('data', bad{k}, uint8(1)), 'DataJoint:InvalidArgument', ['key ' bad{k}]);
end
keys = {};
for i = 0:19
    key = sprintf('c/%d/%d', floor(i / 10), mod(i, 10));
    st.put('data', key, uint8(sprintf('chunk %d', i)));
    keys{end + 1} = key; %#ok<AGROW>
end
st.put('data', '.zarray', '{}');   % char: its UTF-8 bytes
keys{end + 1} = '.zarray';
w = st.openKey('data', 'meta/attrs.json');
w.write('{"a": 1}');
w.close();
keys{end + 1} = 'meta/attrs.json';
keys = sort(keys);
check_error(@() st.open('data', '.bin'), 'DataJoint:InvalidArgument', 'a file after a folder');
check_error(@() st.set(struct('rec_id', 2)), 'DataJoint:InvalidArgument', 'the key cannot change');
st.set(struct('note', 'zarr'));
check_true(~st.isFinished(), 'not finished yet');
st.commit();
check_true(st.isFinished(), 'finished');
check_error(@() st.commit(), 'DataJoint:InvalidArgument', 'a second commit');
r = t.restrict(struct('rec_id', 1)).fetch1('data');
check_equal({r.isDir, r.itemCount}, {true, 22}, 'folder metadata');
f = r.files();
check_equal({f.name}, keys, 'the folder''s files');
check_equal(r.read('c/1/5'), uint8('chunk 15'), 'a chunk');
check_equal(r.read('.zarray'), uint8('{}'), 'char data');
clear st w
% a stream of doubles: their bytes
st = t.stagedInsert1();
st.set(struct('rec_id', 2));
w = st.open('data', '.f64');
A = magic(4);
w.write(A);
w.write(single([1 2]));
check_equal(w.close(), 8 * 16 + 8, 'bytes of a double and a single array');
check_error(@() w.write(uint8(1)), 'DataJoint:InvalidArgument', 'write after close');
check_error(@() w.write({1}), 'DataJoint:Type', 'a cell is not bytes');
st.commit();
b = t.restrict(struct('rec_id', 2)).fetch1('data').read();
check_equal(reshape(typecast(b(1:128), 'double'), 4, 4), A, 'doubles read back');
check_equal(typecast(b(129:end), 'single'), single([1 2]), 'singles read back');
% a real folder on disk (file store), written with fwrite
st = t.stagedInsert1();
st.set(struct('rec_id', 3));
d = st.localDir('data');
check_true(exist(d, 'dir') == 7, 'localDir exists');
write_file(fullfile(d, 'g', 'a.h5'), ones(1, 1000, 'uint8'));
write_file(fullfile(d, 'b.txt'), uint8('xy'));
st.commit();
r = t.restrict(struct('rec_id', 3)).fetch1('data');
check_equal({r.size, r.itemCount, r.isDir}, {1002, 2, true}, 'localDir measured at commit');
check_equal(r.read('g/a.h5', 998, 10), uint8([1 1]), 'a file written into localDir');
% no field written: the row is inserted with the field NULL
st = t.stagedInsert1();
st.set(struct('rec_id', 4));
st.commit();
check_equal(t.restrict(struct('rec_id', 4)).fetch1('data'), [], 'a field not written is NULL');
check_equal(t.count(), 4, 'rows');
end

function t_staged_progress(ctx)
conn = test_conn(ctx);
t = objects_table(ctx, conn);
seen = containers.Map('KeyType', 'double', 'ValueType', 'double');
st = t.stagedInsert1();
st.set(struct('rec_id', 1));
st.onProgress(@(n) record(seen, n));
w = st.open('data', '.bin');
for k = 1:5
    w.write(uint8(k * ones(1, 1000)));
end
w.close();
check_equal(map_values(seen), [1000 2000 3000 4000 5000], 'totals after each write');
check_equal(st.bytesWritten(), 5000, 'bytesWritten');
st.commit();
check_equal(t.restrict(struct('rec_id', 1)).fetch1('data').size, 5000, 'committed');
% set after the writer was opened; puts report too; [] removes it
seen2 = containers.Map('KeyType', 'double', 'ValueType', 'double');
st = t.stagedInsert1();
st.set(struct('rec_id', 2));
w = st.openKey('data', 'a.bin');
st.onProgress(@(n) record(seen2, n));
w.write(uint8(1:10));
w.close();
st.put('data', 'b.bin', uint8(1:5));
st.onProgress([]);
st.put('data', 'c.bin', uint8(1:5));
check_equal(map_values(seen2), [10 15], 'a writer opened before onProgress, a put, none after []');
check_equal(st.bytesWritten(), 20, 'bytesWritten counts every write');
st.commit();
% the function handle form
seen3 = containers.Map('KeyType', 'double', 'ValueType', 'double');
t.stagedInsert1(@(st) progress_puts(st, 3, seen3));
check_equal(map_values(seen3), [100 200 300], 'progress in the function-handle form');
% an error in the progress function: the writes go on, the commit aborts and raises it
files = list_files(store_dir(ctx));
st = t.stagedInsert1();
st.set(struct('rec_id', 4));
st.onProgress(@(n) error('Test:Progress', 'boom at %d', n));
st.put('data', 'a.bin', uint8(1:10));
st.put('data', 'b.bin', uint8(1:10));
err = check_error(@() st.commit(), 'Test:Progress', 'the progress error at commit');
check_true(~isempty(strfind(err.message, 'boom at 10')), ['the first error: ' err.message]);
check_true(st.isFinished(), 'finished');
check_equal(t.count(), 3, 'no row');
check_equal(list_files(store_dir(ctx)), files, 'no files');
% dj functions cannot be called from a progress function (an error, no crash)
st = t.stagedInsert1();
st.set(struct('rec_id', 5));
st.onProgress(@(n) conn.schemas());
st.put('data', 'a.bin', uint8(1:10));
check_error(@() st.commit(), 'DataJoint:InvalidArgument', 'a dj call inside the progress function');
check_equal(t.count(), 3, 'no row');
% in the function-handle form the error comes out of stagedInsert1
check_error(@() t.stagedInsert1(@(st) progress_fails(st)), 'Test:Progress', 'function-handle form');
check_equal(t.count(), 3, 'still no row');
check_error(@() st.onProgress(42), 'DataJoint:InvalidArgument', 'not a function');
end

function progress_puts(st, n, m)
st.set(struct('rec_id', 3));
st.onProgress(@(b) record(m, b));
for k = 1:n
    st.put('data', sprintf('%d.bin', k), zeros(1, 100, 'uint8'));
end
end

function progress_fails(st)
st.set(struct('rec_id', 6));
st.onProgress(@(n) error('Test:Progress', 'no'));
st.put('data', 'a.bin', uint8(1));
end

function t_staged_clear(ctx)
conn = test_conn(ctx);
t = objects_table(ctx, conn);
files = list_files(store_dir(ctx));
live = dj.handleCount();
% clear: the uncommitted staged insert is aborted
st = t.stagedInsert1();
st.set(struct('rec_id', 1));
for k = 1:20
    st.put('data', sprintf('k%d', k), ones(1, 1000, 'uint8'));
end
check_true(numel(list_files(store_dir(ctx))) == numel(files) + 20, 'files written');
clear st
check_equal(list_files(store_dir(ctx)), files, 'clear removed what it wrote');
check_equal(dj.handleCount(), live, 'its handle was freed');
% delete() (what onCleanup does), with an open writer
st = t.stagedInsert1();
st.set(struct('rec_id', 2));
w = st.open('data', '.bin');
w.write(ones(1, 5000, 'uint8'));
id = st.id;
delete(st);
check_true(~dj_mex('is_live', id), 'delete freed the handle');
w.write(uint8(1:3));     % a writer outliving its staged insert: no crash
clear w st
check_equal(list_files(store_dir(ctx)), files, 'delete removed what it wrote');
% onCleanup in a function that fails halfway
try
    write_with_cleanup(t);
catch err
    check_equal(err.identifier, 'Test:Halfway', 'the error');
end
check_equal(list_files(store_dir(ctx)), files, 'onCleanup removed what it wrote');
check_equal(t.count(), 0, 'no rows');
check_equal(dj.handleCount(), live, 'no handles left');
% abort by hand
st = t.stagedInsert1();
st.set(struct('rec_id', 3));
st.put('data', 'a', uint8(1));
st.abort();
check_error(@() st.put('data', 'b', uint8(1)), 'DataJoint:InvalidArgument', 'put after abort');
check_equal(list_files(store_dir(ctx)), files, 'abort removed what it wrote');
end

function t_progress_handles(ctx)
% dj objects held by a progress function: freed with it; deleting one from inside the function
% is deferred until the write returns; dj.reset frees everything.
conn = test_conn(ctx);
t = objects_table(ctx, conn);
t.insert1(struct('rec_id', 7, 'data', uint8(1:3)));
r = t.fetch1('data');
n0 = dj.handleCount();
st = t.stagedInsert1();
st.onProgress(@(n) disp(r.path));
clear r
check_equal(dj.handleCount(), n0 + 1, 'the ref lives on in the progress function');
clear st
check_equal(dj.handleCount(), n0 - 1, 'freed with the staged insert');
r = t.fetch1('data');
st = t.stagedInsert1();
st.set(struct('rec_id', 8));
st.onProgress(@(n) delete(r));
n1 = dj.handleCount();
st.put('data', 'a', uint8(1));
check_true(~dj_mex('is_live', r.id), 'deleted from inside the progress function');
check_equal(dj.handleCount(), n1 - 1, 'its handle was freed after the write');
st.commit();
check_equal(t.count(), 2, 'committed');
clear st r
r = t.restrict(struct('rec_id', 7)).fetch1('data');
st = t.stagedInsert1();
st.onProgress(@(n) disp(r.path));
clear r
check_equal(dj.reset(), 5, 'reset: connection, schema, table, staged insert, ref');
check_equal(dj.handleCount(), 0, 'nothing left');
end

function write_with_cleanup(t)
st = t.stagedInsert1();
c = onCleanup(@() delete(st)); %#ok<NASGU>
st.set(struct('rec_id', 9));
st.put('data', 'a.bin', uint8(1:100));
error('Test:Halfway', 'halfway');
end

function t_gc(ctx)
conn = test_conn(ctx);
lab = conn.schema(sname(ctx, 'obj'));
t = objects_table(ctx, conn);
src = fullfile(ctx.dir, 'src', 'f');
make_folder(src, 4);
t.insert1(struct('rec_id', 1, 'data', src));
st = t.stagedInsert1();
st.set(struct('rec_id', 2));
st.put('data', 'kept.bin', uint8(1:10));
st.commit();
clear st
kept = list_files(store_dir(ctx));
% orphans, as a writer killed before its commit leaves them (its files, no row)
orphan = fullfile(store_dir(ctx), '_schema', sname(ctx, 'obj'), 'recording', 'rec_id=9', 'data_XXXXXXXX');
for k = 0:4
    write_file(fullfile(orphan, sprintf('%d', k)), ones(1, 100, 'uint8'));
end
write_file([orphan '.manifest.json'], uint8('{}'));
write_file(fullfile(store_dir(ctx), 'elsewhere', 'file.txt'), uint8('x'));   % not the schema's
young = lab.gc();
check_equal({young.deleted, young.young, young.dry_run}, {0, 6, false}, 'default grace keeps young orphans');
dry = lab.gc('dry_run', true, 'grace', 0);
check_equal({dry.orphaned_schema, dry.orphaned_hash, dry.orphaned_bytes, dry.deleted, dry.dry_run}, ...
            {6, 0, 502, 0, true}, 'dry run');
check_true(dry.references >= 2 && dry.schema_objects >= 6 + 5, 'dry run counts');
check_equal(numel(list_files(orphan)), 5, 'a dry run deletes nothing');
fields = {'hash_objects', 'schema_objects', 'references', 'orphaned_hash', 'orphaned_schema', ...
          'orphaned_bytes', 'young', 'deleted', 'bytes_freed', 'requests', 'dry_run'};
check_equal(fieldnames(dry)', fields, 'stats fields');
done = lab.gc('store', 'main', 'grace', 0);
check_equal({done.deleted, done.bytes_freed}, {6, 502}, 'gc deleted the orphans');
left = list_files(store_dir(ctx));
check_equal(left(~strcmp(left, 'elsewhere/file.txt')), kept, 'referenced objects stay');
check_true(any(strcmp(left, 'elsewhere/file.txt')), 'other files stay');
again = lab.gc('grace', 0);
check_equal(again.deleted, 0, 'nothing more');
check_equal(numel(t.restrict(struct('rec_id', 1)).fetch1('data').files()), 4, 'objects still readable');
check_error(@() lab.gc('nope', 1), 'DataJoint:InvalidArgument', 'unknown option');
check_error(@() lab.gc('grace', -1), 'DataJoint:InvalidArgument', 'negative grace');
try
    lab.gc('store', 'no_such_store');
    error('Test:Mismatch', 'gc of an unknown store did not fail');
catch err
    check_true(strncmp(err.identifier, 'DataJoint:', 10), ['unknown store: ' err.identifier]);
end
end
