classdef NpyRef < dj.Handle
    % dj.NpyRef  A lazy reference to an <npy@> array in an object store (no I/O until loaded).
    %
    %   r = t.fetch1('trace');          % a dj.NpyRef
    %   r.shape()                       % numpy shape, e.g. [1000 32]  (metadata only)
    %   r.dtype()                       % numpy dtype name, e.g. 'float32'
    %   A = r.load();                   % the array: A(i+1,j+1,...) == numpy's a[i,j,...]
    %   A = r.map();                    % MATLAB: memmapfile of the local file; Octave: see map
    %   B = r.readRows(11, 20);         % rows 11..20 (1-based, inclusive) along the first axis
    %
    % Dimension rule (the same on insert and on load): MATLAB arrays are column-major and are
    % stored in Fortran order with the MATLAB dims as the numpy shape, so numpy sees the same
    % (i,j,k) elements: a 2x3x4 MATLAB array is a numpy (2,3,4) array with a[i,j,k] ==
    % A(i+1,j+1,k+1). MATLAB has no 0-d or 1-d arrays: a scalar is stored as shape (1,1), a row
    % vector as (1,N), a column vector as (N,1), and trailing singleton dims beyond the second
    % are dropped by MATLAB itself (a 2x3x1 array is (2,3)). Use dj.npy(A, shape) to store a 0-d
    % (shape []) or 1-d (shape N) array. On load, a 0-d array becomes 1x1 and a 1-d array of N
    % elements an N x 1 column; C-order files are rearranged so the (i,j,k) rule holds.
    %
    % Types: logical, int8..int64, uint8..uint64, single, double (complex too) map to numpy
    % bool, int8..uint64, float32, float64 (complex64/128). float16 loads as single; numpy
    % S<n>/U<n> arrays load as cell arrays of char.


    methods
        function obj = NpyRef(varargin)
            obj = obj@dj.Handle(varargin{:});
        end

        function s = shape(obj)
            % numpy shape as a row vector (zeros(1,0) for a 0-d array); no I/O.
            s = dj_mex('npy_shape', obj.id);
        end

        function [name, code, itemsize, cls] = dtype(obj)
            % numpy dtype name ('float32', '<U10'), DJ_DTYPE_* code, bytes per element, and the
            % MATLAB class load returns; no I/O.
            [name, code, itemsize, cls] = dj_mex('npy_dtype', obj.id);
        end

        function n = numElements(obj)
            % Number of elements; no I/O.
            n = dj_mex('npy_size', obj.id);
        end

        function n = nbytes(obj)
            % Bytes of array data (element count x itemsize); no I/O.
            n = dj_mex('npy_nbytes', obj.id);
        end

        function p = path(obj)
            % The object's path relative to its store.
            p = dj_mex('npy_path', obj.id);
        end

        function s = store(obj)
            s = dj_mex('npy_store', obj.id);
        end

        function tf = isLoaded(obj)
            tf = dj_mex('npy_is_loaded', obj.id);
        end

        function A = load(obj)
            % Read the whole array (dj_npyref_load, cached on the reference) and copy it into a
            % MATLAB array (MEX functions cannot hand foreign memory to MATLAB or Octave).
            A = dj_mex('npy_load', obj.id);
        end

        function [A, m] = map(obj)
            % MATLAB: memory-map the local .npy file with memmapfile (dj_npyref_local_file gives
            % the path, data offset and order; a remote store's object is downloaded to the cache
            % first). M is the memmapfile object for lazy partial reads (m.Data.x(1:10,:)); A is
            % the whole array (F-order files directly, C-order files permuted). Big-endian,
            % complex, float16, text or empty arrays fall back to load.
            % Octave has no memmapfile: map maps the file inside the MEX (dj_npyref_map) and
            % copies it into an Octave array (no cache is kept on the reference); M is [].
            m = [];
            if dj.isOctave()
                A = dj_mex('npy_map', obj.id);
                return
            end
            info = dj_mex('npy_local_file', obj.id);
            nd = numel(info.shape);
            if info.big_endian || prod(info.shape) == 0 || ...
                    any(strcmp(info.dtype, {'complex64', 'complex128', 'float16'})) || strcmp(info.class, 'cell')
                A = obj.load();
                return
            end
            if nd == 0
                dims = [1 1];
            elseif nd == 1
                dims = [info.shape 1];
            else
                dims = info.shape;
            end
            fmt = info.class;
            if strcmp(fmt, 'logical')
                fmt = 'uint8';
            end
            if info.fortran_order || nd <= 1
                m = memmapfile(info.path, 'Offset', info.offset, 'Format', {fmt, dims, 'x'}, 'Repeat', 1);
                A = m.Data.x;
            else
                m = memmapfile(info.path, 'Offset', info.offset, 'Format', {fmt, fliplr(dims), 'x'}, 'Repeat', 1);
                A = permute(m.Data.x, numel(dims):-1:1);
            end
            if strcmp(info.class, 'logical')
                A = A ~= 0;
            end
        end

        function A = readRows(obj, first, last)
            % Rows FIRST..LAST (1-based, inclusive) along the first axis of a C-order array, read
            % with ranged requests (dj_npyref_read_rows) without downloading the whole object.
            A = dj_mex('npy_read_rows', obj.id, first - 1, last);
        end

        function info = localFile(obj)
            % struct(path, offset, fortran_order, big_endian, shape, dtype, itemsize, class): a
            % local file holding the .npy object (the store's file for file stores, else the
            % download-cache copy), e.g. for memmapfile or fread.
            info = dj_mex('npy_local_file', obj.id);
        end
    end
end
