classdef ObjectRef < dj.Handle
    % dj.ObjectRef  A lazy reference to an <object@> or <filepath@> value: a file or a folder in
    % an object store. The metadata comes from the row (no I/O); files, exists, read, open and
    % download ask the store.
    %
    %   r = t.fetch1('data');             % a dj.ObjectRef
    %   r.path, r.store, r.ext            % '_schema/lab/rec/rec_id=1/data_x8Kq2a9Z.dat', 'main', '.dat'
    %   r.size, r.isDir, r.itemCount      % bytes, folder?, files of a folder (r.timestamp too)
    %   f = r.files();                    % N×1 struct array (name, size): a folder's files
    %   b = r.read();                     % the whole file as a 1×N uint8 row
    %   b = r.read('', 1000, 10);         % 10 bytes at byte offset 1000 (0-based, as fseek)
    %   b = r.read('sub/a.bin');          % a file of a folder
    %   r.download('/tmp/copy');          % the file, or the folder with its files
    %   p = r.localPath();                % file stores: the object's own path on disk ('' otherwise)

    properties (Dependent)
        path        % the object's path relative to its store
        store       % the store's name
        ext         % extension recorded at insert ('.dat'), '' if none
        timestamp   % ISO-8601 UTC time of the write, '' if not recorded
        size        % total bytes (a folder's files summed); [] when unknown (a <filepath@> folder)
        isDir       % true for a folder
        itemCount   % number of files of a folder; [] when not recorded (a file, a <filepath@> folder)
    end

    methods
        function obj = ObjectRef(varargin)
            obj = obj@dj.Handle(varargin{:});
        end

        % The properties are read from the row through the MEX file (no I/O); they are
        % Dependent so that size(r), numel(r) keep their meaning and fetching makes no calls.
        function p = get.path(obj)
            p = dj_mex('objref_path', obj.id);
        end

        function s = get.store(obj)
            s = dj_mex('objref_store', obj.id);
        end

        function e = get.ext(obj)
            e = dj_mex('objref_ext', obj.id);
        end

        function t = get.timestamp(obj)
            t = dj_mex('objref_timestamp', obj.id);
        end

        function n = get.size(obj)
            i = dj_mex('objref_info', obj.id);
            n = i.size;
        end

        function tf = get.isDir(obj)
            i = dj_mex('objref_info', obj.id);
            tf = i.is_dir;
        end

        function n = get.itemCount(obj)
            i = dj_mex('objref_info', obj.id);
            n = i.item_count;
        end

        function i = info(obj)
            % struct(path, store, ext, timestamp, size, is_dir, item_count), no I/O.
            i = dj_mex('objref_info', obj.id);
            i = struct('path', obj.path, 'store', obj.store, 'ext', obj.ext, ...
                       'timestamp', obj.timestamp, 'size', i.size, 'is_dir', i.is_dir, ...
                       'item_count', i.item_count);
        end

        function f = files(obj)
            % N×1 struct array (name, size) of a folder's files (relative paths, sorted), from
            % one listing; a file gives one entry with name ''.
            f = dj_mex('objref_files', obj.id);
        end

        function tf = exists(obj, sub)
            % exists(): the object is in the store; exists(sub): the folder has the file SUB.
            if nargin < 2
                sub = '';
            end
            tf = dj_mex('objref_exists', obj.id, sub);
        end

        function b = read(obj, sub, offset, len)
            % read(sub, offset, len): LEN bytes (default Inf: to the end) at byte OFFSET
            % (0-based, default 0) of the file, or of the file SUB of a folder (default ''), as a
            % 1×N uint8 row (shorter at the end of the file). A finite LEN is one ranged read.
            if nargin < 2
                sub = '';
            end
            if nargin < 3
                offset = 0;
            end
            if nargin < 4
                len = Inf;
            end
            b = dj_mex('objref_read', obj.id, sub, offset, len);
        end

        function rd = open(obj, sub, offset)
            % A dj.ObjectReader reading the file (or SUB of a folder) sequentially from byte
            % OFFSET (0-based).
            if nargin < 2
                sub = '';
            end
            if nargin < 3
                offset = 0;
            end
            rd = dj.ObjectReader(dj_mex('objref_open', obj.id, sub, offset));
        end

        function n = download(obj, dest)
            % Copy the file, or the folder with its files, to the local path DEST; returns bytes.
            n = dj_mex('objref_download', obj.id, dest);
        end

        function p = localPath(obj)
            % For a local (file) store: the object's own file or folder on disk (open it with
            % h5read, fopen, ...); '' for other stores.
            p = dj_mex('objref_local_path', obj.id);
        end
    end
end
