classdef StagedInsert < dj.Handle
    % dj.StagedInsert  A staged insert of one row (dj.Table.stagedInsert1): set the primary key,
    % write the row's <object@> fields straight into their store paths, then commit. Deleting
    % the object (clear, the end of a function, an error) aborts it unless it was committed:
    % everything it wrote is removed.
    %
    %   t.stagedInsert1(@(st) write(st));      % commits when write returns, aborts on an error
    %
    %   st = t.stagedInsert1();
    %   st.set(struct('rec_id', 1));           % the primary key first
    %   st.onProgress(@(n) fprintf('%d bytes\n', n));
    %   w = st.open('data', '.raw');           % one file data_<token>.raw
    %   w.write(uint8(frame)); w.close();
    %   st.put('zarr', '.zarray', json);       % or files of a folder, key by key
    %   d = st.localDir('h5');                 % or a real folder (file stores) to write into
    %   st.commit();                           % measures the fields and inserts the row

    properties (SetAccess = private)
        table = []       % the dj.Table it inserts into
    end

    methods
        function obj = StagedInsert(id, table)
            obj = obj@dj.Handle(id);
            if nargin > 1
                obj.table = table;
            end
        end

        function set(obj, values)
            % set(struct): attribute values of the row; the whole primary key before any field
            % is written (the fields' paths contain it). Values convert as for insert.
            dj_mex('staged_set', obj.id, values);
        end

        function w = open(obj, field, ext)
            % A dj.ObjectWriter for the <object@> FIELD as one file {field}_{token}{ext}
            % (EXT like '.raw', default none). Close it before the commit.
            if nargin < 3
                ext = '';
            end
            w = dj.ObjectWriter(dj_mex('staged_open', obj.id, field, ext));
        end

        function w = openKey(obj, field, key)
            % A dj.ObjectWriter for the file KEY (a relative path, e.g. 'c/0.0') of FIELD's folder.
            w = dj.ObjectWriter(dj_mex('staged_open_key', obj.id, field, key));
        end

        function put(obj, field, key, data)
            % Write the file KEY (a relative path) of FIELD's folder in one piece: DATA is uint8
            % bytes (or any real numeric array: its bytes; char: UTF-8).
            dj_mex('staged_put', obj.id, field, key, data);
        end

        function d = localDir(obj, field)
            % For a local (file) store: FIELD's folder on disk (created), to write files into
            % with fwrite, h5create, ...; they are measured at the commit. DataJoint:Unsupported
            % for other stores.
            d = dj_mex('staged_local_dir', obj.id, field);
        end

        function onProgress(obj, fn)
            % onProgress(fn): call fn(bytes) with the total bytes written so far after each
            % write / put (on MATLAB's thread). An error in fn is kept: the commit then aborts
            % and raises it. onProgress([]) removes it. fn must not call dj functions.
            if isempty(fn)
                dj_mex('staged_set_progress', obj.id, []);
                return
            end
            if ~isa(fn, 'function_handle')
                error('DataJoint:InvalidArgument', 'onProgress takes a function handle');
            end
            dj_mex('staged_set_progress', obj.id, @(n) dj.StagedInsert.runProgress(fn, n));
        end

        function n = bytesWritten(obj)
            % Total bytes written so far (streams and puts; not files written into localDir).
            n = dj_mex('staged_bytes_written', obj.id);
        end

        function commit(obj)
            % Measure every written field from the store and insert the row. On any error
            % (a duplicate key, say) everything written is removed and the error raised.
            dj_mex('staged_commit', obj.id);
        end

        function abort(obj)
            % Remove everything written; the staged insert is finished.
            dj_mex('staged_abort', obj.id);
        end

        function tf = isFinished(obj)
            % True once committed or aborted (successfully or not).
            tf = dj_mex('staged_is_finished', obj.id);
        end
    end

    methods (Static, Hidden)
        function err = runProgress(fn, n)
            % Called by dj_mex during a write: runs the user's function and returns [] or the
            % error it raised (an error must not unwind through the library).
            err = [];
            try
                fn(n);
            catch e
                err = struct('identifier', e.identifier, 'message', e.message);
            end
        end
    end
end
