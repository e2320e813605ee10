function tests = suite_blob()
% <blob> values: MATLAB values round trip (equal value and class) through in-table <blob> and
% <blob@> attributes, by rows and by columns, as mym would store them.
tests = {
    'blob_round_trip_rows', @t_rows
    'blob_round_trip_columns', @t_columns
    'blob_pack_unpack', @t_pack
    'blob_python_values', @t_python
    'blob_matlab_golden', @t_matlab_golden
    };
end

function vals = samples()
A = reshape(1:24, 2, 3, 4) / 3;
s = struct('a', {1, 'two'; [1 2 3], 4}, 'b', {struct('x', int16([1 2])), []; 'c', true});  % 2x2 struct array
s(2, 2).a = {'a cell', 2};
vals = {
    A
    uint8([1 2 3; 250 251 252])
    [1+2i, 3-4i; -5i, 6]
    single(1.5 - 2i)
    logical([1 0 1; 0 1 1])
    ['abc'; 'def']
    'a char row'
    s
    struct('nested', struct('deeper', {1, 2}), 'm', magic(3))
    {1, 'text'; int32(7), {[], {true}}}
    []
    zeros(0, 3)
    int64([-9007199254740993 9007199254740993])
    reshape(uint16(1:8), 1, 2, 2, 2)
    pi
    };
end

function t_rows(ctx)
conn = test_conn(ctx);
lab = conn.schema(sname(ctx, 'blob'));
t = lab.declare('BlobRow', 'Manual', sprintf('id : int32\n---\nv : <blob>\nw = null : <blob@>'));
vals = samples();
for k = 1:numel(vals)
    t.insert1(struct('id', k, 'v', {vals{k}}, 'w', {vals{k}}));
end
r = t.fetch('order_by', 'id');
check_equal(numel(r), numel(vals), 'rows');
for k = 1:numel(vals)
    check_equal(r(k).v, vals{k}, sprintf('in-table value %d', k));
    check_equal(r(k).w, vals{k}, sprintf('stored value %d', k));
end
check_equal(t.restrict('id = 1').fetch1('v'), vals{1}, 'fetch1');
% a NULL stored blob is []
t.insert1(struct('id', 100, 'v', 5));
check_equal(t.restrict('id = 100').fetch1('w'), [], 'NULL');
end

function t_columns(ctx)
conn = test_conn(ctx);
lab = conn.schema(sname(ctx, 'blob'));
t = lab.declare('BlobCol', 'Manual', sprintf('id : int32\n---\nv : <blob>\nw : <blob@>'));
vals = samples();
ids = int32(1:numel(vals))';
t.insert(struct('id', ids, 'v', {vals}, 'w', {vals(end:-1:1)}), 'format', 'columns');
c = t.fetch('format', 'columns', 'order_by', 'id');
check_equal(size(c.v), [numel(vals) 1], 'column shape');
for k = 1:numel(vals)
    check_equal(c.v{k}, vals{k}, sprintf('column value %d', k));
    check_equal(c.w{k}, vals{numel(vals) + 1 - k}, sprintf('stored column value %d', k));
end
check_error(@() t.insert(struct('id', int32(99), 'v', 1, 'w', 2), 'format', 'columns'), 'DataJoint:Type');
end

function t_pack(~)
vals = samples();
for k = 1:numel(vals)
    b = dj_mex('blob_pack', vals{k});
    check_equal(class(b), 'uint8', 'packed bytes');
    check_equal(dj_mex('blob_unpack', b), vals{k}, sprintf('unpacked value %d', k));
end
end

function t_python(~)
% dj0 blobs written by DataJoint Python 2.3.5 (datajoint.blob.pack) map to MATLAB values.
v = @(hex) dj_mex('blob_unpack', uint8(hex2dec(reshape(hex, 2, [])')'));
check_equal(v('646a300005050000000000000068656c6c6f'), 'hello', 'str');
check_equal(v(['646a300002030000000000000004000000000000000a0100010c0000000000000005030000000000000074776f09' ...
               '000000000000000d0000000000000c40']), {1, 'two', 3.5}, 'list');
check_equal(v('646a300001020000000000000002000000000000000b010100000000000000ff'), {true, []}, 'tuple');
check_equal(v(['646a30000402000000000000000a000000000000000501000000000000006104000000000000000a0100010a00' ...
               '000000000000050100000000000000620a0000000000000005010000000000000078']), struct('a', 1, 'b', 'x'), 'dict');
m = v(['646a30000402000000000000001400000000000000050b000000000000006e6f742061206669656c640400000000' ...
       '0000000a0100010a000000000000000501000000000000006204000000000000000a010002']);
check_true(isa(m, 'containers.Map'), 'dict with non-field keys is a containers.Map');
check_equal(m('not a field'), 1, 'map value');
check_equal(m('b'), 2, 'map value b');
check_equal(v('646a3000ff'), [], 'None');
check_equal(v('646a30000a010007'), 7, 'int');
check_equal(v('646a30000a08000000000000000010'), int64(2)^60, 'int beyond 2^53');
check_equal(v('646a30000d0000000000000440'), 2.5, 'float');
check_equal(v('646a30000b01'), true, 'bool');
check_equal(v('646a3000747ad83401807a8d7c10000000'), '2024-05-06 07:08:09.123456', 'datetime');
check_equal(v('646a30006406000000000000002d31322e3530'), '-12.50', 'decimal');
check_equal(v('646a30007512345678123456781234567812345678'), '12345678-1234-5678-1234-567812345678', 'uuid');
end

function t_matlab_golden(~)
% Blobs written by datajoint-matlab through mym (dumped by the reference's
% tests/integration/test_blob_matlab.py; also core/src/blob/testdata/matlab_mym.hex) read back
% equal to the MATLAB expressions that produced them, and repack to the same bytes.
v = @(hex) uint8(hex2dec(reshape(hex, 2, [])')');
b1 = v(['6D596D004102000000000000000100000000000000100000000000000004000000000000006300680061007200' ...
       '61006300740065007200200073007400720069006E006700']);
b2 = v(['6D596D0041020000000000000001000000000000000C000000000000000600000000000000000000000000F03F' ...
       '00000000000030400000000000003F4000000000000047400000000000804E4000000000000053400000000000' ...
       'C056400000000000805A400000000000405E4000000000000061400000000000E062400000000000C06440']);
b3 = v(['6D596D00430200000000000000010000000000000002000000000000002F000000000000004102000000000000' ...
       '0001000000000000000700000000000000040000000000000073007400720069006E00670031002F0000000000' ...
       '000041020000000000000001000000000000000700000000000000040000000000000073007400720069006E00' ...
       '67003200']);
b4 = v(['6D596D005302000000000000000100000000000000020000000000000002000000610062002900000000000000' ...
       '410200000000000000010000000000000001000000000000000600000000000000000000000000F03F90000000' ...
       '000000005302000000000000000100000000000000010000000000000001000000630069000000000000004102' ...
       '000000000000000300000000000000030000000000000006000000000000000000000000002040000000000000' ...
       '08400000000000001040000000000000F03F000000000000144000000000000022400000000000001840000000' ...
       '0000001C4000000000000000402900000000000000410200000000000000010000000000000001000000000000' ...
       '000600000000000000000000000000004010010000000000005302000000000000000100000000000000010000' ...
       '0000000000010000004300E9000000000000004102000000000000000500000000000000050000000000000006' ...
       '000000000000000000000000003140000000000000374000000000000010400000000000002440000000000000' ...
       '264000000000000038400000000000001440000000000000184000000000000028400000000000003240000000' ...
       '000000F03F0000000000001C400000000000002A40000000000000334000000000000039400000000000002040' ...
       '0000000000002C400000000000003440000000000000354000000000000000400000000000002E400000000000' ...
       '003040000000000000364000000000000008400000000000002240']);
b5 = v(['6D596D004103000000000000000200000000000000030000000000000004000000000000000600000000000000' ...
       '000000000000F03F00000000000000400000000000000840000000000000104000000000000014400000000000' ...
       '0018400000000000001C4000000000000020400000000000002240000000000000244000000000000026400000' ...
       '0000000028400000000000002A400000000000002C400000000000002E40000000000000304000000000000031' ...
       '400000000000003240000000000000334000000000000034400000000000003540000000000000364000000000' ...
       '000037400000000000003840']);
b6 = v(['6D596D004103000000000000000200000000000000030000000000000004000000000000000900000000000000' ...
       '0102030405060708090A0B0C0D0E0F101112131415161718']);
b7 = v(['6D596D004103000000000000000200000000000000030000000000000004000000000000000600000001000000' ...
       '0000000000C0724000000000000028C000000000000038C0000000000000000000000000000038C00000000000' ...
       '00000000000000000052C000000000000000000000000000000000000000000000000000000000000000000000' ...
       '00000000000000000000000052C000000000000000000000000000000000000000000000000000000000000000' ...
       '00000000000000000000000000000052C000000000000000000000000000000000000000000000000000000000' ...
       '00000000000000000000000000000000000000000000000000000000AA4C58E87AB62B400000000000000000AA' ...
       '4C58E87AB62BC00000000000000080000000000000524000000000000000000000000000000000000000000000' ...
       '000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000' ...
       '00000000000000000000000080000000000000008000000000000052C000000000000000800000000000000080' ...
       '000000000000008000000000000000800000000000000080']);
check_equal(dj_mex('blob_unpack', b1), 'character string', 'matlab blob 1');
check_equal(dj_mex('blob_unpack', b2), 1:15:180, 'matlab blob 2');
check_equal(dj_mex('blob_unpack', b3), {'string1', 'string2'}, 'matlab blob 3');
check_equal(dj_mex('blob_unpack', b4), struct('a', {1, 2}, 'b', {struct('c', magic(3)), struct('C', magic(5))}), 'matlab blob 4');
check_equal(dj_mex('blob_unpack', b5), reshape(1:24, [2, 3, 4]), 'matlab blob 5');
check_equal(dj_mex('blob_unpack', b6), reshape(uint8(1:24), [2, 3, 4]), 'matlab blob 6');
x = dj_mex('blob_unpack', b7);
ref = fftn(reshape(1:24, [2, 3, 4]));
check_equal(size(x), [2 3 4], 'matlab blob 7 size');
check_true(~isreal(x) && strcmp(class(x), 'double'), 'matlab blob 7 is complex double');
check_true(max(abs(x(:) - ref(:))) < 1e-9, 'matlab blob 7 equals fftn(reshape(1:24, [2,3,4]))');
for k = 1:6
    b = eval(sprintf('b%d', k));
    check_equal(dj_mex('blob_pack', dj_mex('blob_unpack', b)), b, sprintf('matlab blob %d repacks identically', k));
end
end
