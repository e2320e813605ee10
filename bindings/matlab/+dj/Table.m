classdef Table < dj.Handle
    % dj.Table  A table, or a restricted view of one (restrictions stack with AND).
    %
    %   t.insert(struct('id', {1, 2}, 'name', {'a', 'b'}))          % struct array: one row per element
    %   t.insert(struct('id', int32([3;4]), 'name', {{'c'; 'd'}}), 'format', 'columns')  % columnar
    %   t.insert1(struct('id', 5, 'name', 'e'), 'skip_duplicates', true)
    %   s = t.restrict('id > 1').fetch();                        % N×1 struct array
    %   [c, valid] = t.fetch('format', 'columns');               % struct of columns (+ validity)
    %   [name, id] = t.restrict(struct('id', 2)).fetch1('name', 'id');
    %   n = t.restrict(struct('id', {1, 2})).del();              % a struct array is an OR of keys
    %
    % Value conversion (see bindings/matlab/README.md): integers come back as int8..int64
    % (native bigint unsigned as uint64), float32 as single, float64 as double, bool as logical, text/decimal/json/uuid as char,
    % bytes as a uint8 row, date and datetime as datenum doubles (option 'temporal': 'text'
    % gives exact ISO text, 'raw' int32 days / int64 microseconds since 1970-01-01), NULL as []
    % (struct form) or NaN / false / 0 with a validity output (columns form), <npy@>
    % values as dj.NpyRef objects and <object@> / <filepath@> values as dj.ObjectRef objects.
    % An <object@> value to insert is a file or folder path (char), uint8 bytes, or
    % {extension, uint8 bytes} (struct rows); a <filepath@> value is a path in the store.

    properties (SetAccess = private)
        schema = []      % the dj.Schema it was declared/opened through (for declarePart)
    end

    methods
        function obj = Table(varargin)
            obj = obj@dj.Handle(varargin{1:min(nargin, 1)});
            if nargin > 1
                obj.schema = varargin{2};
            end
        end

        % ------------------------------------------------------------ description
        function n = name(obj)
            % SQL name, e.g. 'session', '#lookup', '_imported', '__computed', 'master__part'.
            n = dj_mex('table_name', obj.id);
        end

        function c = comment(obj)
            c = dj_mex('table_comment', obj.id);
        end

        function h = heading(obj)
            % N×1 struct array: name, type (declared, e.g. 'decimal(10,2)'), kind, comment,
            % default ([] if none), in_key, nullable, is_npy.
            h = dj_mex('table_heading', obj.id);
        end

        function k = primaryKey(obj)
            h = obj.heading();
            k = {h([h.in_key]).name};
        end

        function t = declarePart(obj, partClass, definition)
            % A part table of this table (needs the schema it came from).
            if isempty(obj.schema)
                error('DataJoint:InvalidArgument', 'this table was not made through a dj.Schema');
            end
            t = obj.schema.declarePart(obj, partClass, definition);
        end

        function drop(obj)
            dj_mex('table_drop', obj.id);
        end

        % ------------------------------------------------------------ restrictions
        function t = restrict(obj, cond)
            % restrict(cond): COND is an SQL condition (char, used verbatim), a key struct
            % (equality on the names it shares with the table), or a struct array of keys (OR;
            % an empty struct array matches nothing).
            t = dj.Table(dj_mex('table_restrict', obj.id, dj.Table.keyArg(cond)), obj.schema);
        end

        function t = exclude(obj, cond)
            % exclude(cond): the rows that do NOT match COND (SQL, key struct, or any of a struct array of keys).
            t = dj.Table(dj_mex('table_exclude', obj.id, dj.Table.keyArg(cond)), obj.schema);
        end

        function t = and(obj, cond)
            % t & cond is t.restrict(cond).
            t = obj.restrict(cond);
        end

        function t = minus(obj, cond)
            % t - cond is t.exclude(cond).
            t = obj.exclude(cond);
        end

        % ------------------------------------------------------------ insert
        function n = insert(obj, data, varargin)
            % insert(rows, ...) with ROWS a struct array (one element per row); [] is NULL
            % (except in <blob> attributes, which store any MATLAB value, [] included).
            % insert(cols, 'format', 'columns', ...) with COLS a 1×1 struct of columns:
            % numeric/logical vectors (NaN = NULL for floats), cell arrays of char (text,
            % decimal, json, uuid, date/datetime text), cells of uint8 (bytes), of arrays
            % (<npy@>) or of any values (<blob>, one per row); [] in a cell is NULL (not in
            % <blob> columns). A MATLAB table is inserted as columns.
            % Options: 'skip_duplicates', 'ignore_extra_fields', 'replace' (logical).
            % One call is one transaction. Returns the number of rows written.
            [opts, fmt] = dj.Table.insertArgs(varargin{:});
            if isa(data, 'table')          % MATLAB only (Octave has no table class)
                data = table2struct(data, 'ToScalar', true);
                fmt = 'columns';
            end
            if ~isstruct(data)
                error('DataJoint:InvalidArgument', 'insert takes a struct array of rows or a struct of columns');
            end
            data = obj.prepare(data, strcmp(fmt, 'columns'));
            if strcmp(fmt, 'columns')
                n = dj_mex('table_insert_columns', obj.id, data, opts);
            else
                n = dj_mex('table_insert_rows', obj.id, data, opts);
            end
        end

        function n = insert1(obj, row, varargin)
            % insert1(row, ...): insert one row (a 1×1 struct).
            if ~isstruct(row) || numel(row) ~= 1
                error('DataJoint:InvalidArgument', 'insert1 takes a 1x1 struct');
            end
            n = obj.insert(row, varargin{:});
        end

        % ------------------------------------------------------------ fetch
        function [data, valid] = fetch(obj, varargin)
            % fetch(attr1, attr2, ..., 'order_by', 'id DESC', 'limit', 10, 'offset', 0,
            %       'format', 'struct'|'columns', 'temporal', 'datenum'|'text'|'raw')
            % Attribute names select columns ('KEY' = the primary key); none means all.
            % 'struct' (default): N×1 struct array, NULL = [].
            % 'columns': 1×1 struct of N×1 columns; VALID is a struct of logical N×1 vectors
            % (true = not NULL). Floats and datenums hold NaN for NULL, integers 0, bool false,
            % cells [].
            opts = dj.Table.fetchArgs(varargin{:});
            [data, npy, valid, objs] = dj_mex('table_fetch', obj.id, opts);
            data = dj.Table.wrapRefs(data, npy, opts, objs);
        end

        function varargout = fetch1(obj, varargin)
            % s = fetch1(): the one matching row as a 1×1 struct (DataJoint:NotFound if none,
            % DataJoint:NotUnique if several). [a, b] = fetch1('a', 'b'): the values themselves.
            opts = dj.Table.fetchArgs(varargin{:});
            [data, npy, ~, objs] = dj_mex('table_fetch1', obj.id, opts);
            data = dj.Table.wrapRefs(data, npy, opts, objs);
            if isfield(opts, 'attributes') && ~any(strcmp(opts.attributes, 'KEY'))
                n = max(1, nargout);
                varargout = cell(1, n);
                for k = 1:n
                    varargout{k} = data.(opts.attributes{k});
                end
            else
                varargout = {data};
            end
        end

        function [data, valid] = keys(obj, varargin)
            % The primary keys of the matching rows (options as fetch).
            opts = dj.Table.fetchArgs(varargin{:});
            [data, npy, valid, objs] = dj_mex('table_keys', obj.id, opts);
            data = dj.Table.wrapRefs(data, npy, opts, objs);
        end

        function n = count(obj)
            % Number of matching rows.
            n = dj_mex('table_count', obj.id);
        end

        function n = del(obj)
            % Delete the matching rows (one transaction); returns how many. Named del because
            % delete is the MATLAB destructor. Their <npy@> and <object@> files go too.
            n = dj_mex('table_delete', obj.id);
        end

        % ------------------------------------------------------------ staged insert
        function varargout = stagedInsert1(obj, fn)
            % stagedInsert1(@(st) ...): begin a staged insert of one row, call the function
            % with its dj.StagedInsert, and commit when it returns (unless it committed or
            % aborted itself); if it raises an error, abort (remove everything written) and
            % rethrow. st = stagedInsert1(): the dj.StagedInsert itself — commit it yourself;
            % clearing it uncommitted aborts it. See dj.StagedInsert.
            st = dj.StagedInsert(dj_mex('staged_begin', obj.id), obj);
            if nargin < 2
                varargout = {st};
                return
            end
            if ~isa(fn, 'function_handle')
                error('DataJoint:InvalidArgument', 'stagedInsert1 takes a function handle (or nothing)');
            end
            try
                fn(st);
            catch err
                try
                    st.abort();
                catch
                end
                rethrow(err);
            end
            if ~st.isFinished()
                st.commit();
            end
            varargout = cell(1, nargout);
            if nargout > 0
                varargout{1} = st;
            end
        end
    end

    methods (Access = private)
        function data = prepare(obj, data, columns)
            % MATLAB string arrays -> char/cellstr; dj.NpyRef values (from another fetch) -> arrays.
            fields = fieldnames(data);
            h = [];
            for f = 1:numel(fields)
                name = fields{f};
                if numel(data) >= 1 && exist('isstring', 'builtin') && isstring(data(1).(name))   % MATLAB only
                    for i = 1:numel(data)
                        v = data(i).(name);
                        if isscalar(v), data(i).(name) = char(v); else, data(i).(name) = cellstr(v); end
                    end
                end
            end
            for f = 1:numel(fields)
                name = fields{f};
                if isempty(h)
                    h = obj.heading();
                end
                k = find(strcmp({h.name}, name), 1);
                if isempty(k) || ~h(k).is_npy
                    continue
                end
                for i = 1:numel(data)
                    v = data(i).(name);
                    if isa(v, 'dj.NpyRef')
                        data(i).(name) = v.load();
                    elseif columns && iscell(v)
                        for j = 1:numel(v)
                            if isa(v{j}, 'dj.NpyRef')
                                v{j} = v{j}.load();
                            end
                        end
                        data(i).(name) = v;
                    end
                end
            end
        end
    end

    methods (Static, Hidden)
        function c = keyArg(c)
            if isa(c, 'table')   % MATLAB only
                c = table2struct(c);
            end
            if ~(ischar(c) || isstruct(c))
                error('DataJoint:InvalidArgument', 'a restriction is an SQL condition (char) or a struct (array) of keys');
            end
        end

        function [opts, fmt] = insertArgs(varargin)
            opts = struct('skip_duplicates', false, 'ignore_extra_fields', false, 'replace', false);
            fmt = 'rows';
            if mod(numel(varargin), 2) ~= 0
                error('DataJoint:InvalidArgument', 'insert options are name-value pairs');
            end
            for i = 1:2:numel(varargin)
                key = lower(varargin{i});
                val = varargin{i + 1};
                switch key
                    case {'skip_duplicates', 'ignore_extra_fields', 'replace'}
                        opts.(key) = logical(val);
                    case 'format'
                        if ~any(strcmp(val, {'rows', 'struct', 'columns'}))
                            error('DataJoint:InvalidArgument', 'format must be ''rows'' or ''columns''');
                        end
                        fmt = val;
                    otherwise
                        error('DataJoint:InvalidArgument', 'unknown insert option ''%s''', key);
                end
            end
        end

        function opts = fetchArgs(varargin)
            opts = struct();
            attrs = {};
            names = {'order_by', 'limit', 'offset', 'format', 'temporal', 'attributes'};
            i = 1;
            while i <= numel(varargin)
                a = varargin{i};
                if ischar(a) && any(strcmpi(a, names)) && i < numel(varargin)
                    key = lower(a);
                    val = varargin{i + 1};
                    if strcmp(key, 'attributes')
                        attrs = [attrs, reshape(cellstr(val), 1, [])]; %#ok<AGROW>
                    else
                        opts.(key) = val;
                    end
                    i = i + 2;
                elseif ischar(a)
                    attrs{end + 1} = a; %#ok<AGROW>
                    i = i + 1;
                elseif iscellstr(a)
                    attrs = [attrs, reshape(a, 1, [])]; %#ok<AGROW>
                    i = i + 1;
                else
                    error('DataJoint:InvalidArgument', 'fetch arguments are attribute names and name-value options');
                end
            end
            if ~isempty(attrs)
                opts.attributes = attrs;
            end
        end

        function data = wrapRefs(data, npy, opts, objs)
            % Replace NpyRef / ObjectRef ids by dj.NpyRef / dj.ObjectRef objects (they free
            % their handles when cleared).
            if nargin < 4
                objs = {};
            end
            columns = isfield(opts, 'format') && strcmp(opts.format, 'columns');
            fields = [reshape(npy, 1, []), reshape(objs, 1, [])];
            for k = 1:numel(fields)
                f = fields{k};
                if k <= numel(npy)
                    make = @dj.NpyRef;
                else
                    make = @dj.ObjectRef;
                end
                if columns
                    ids = data.(f);
                    c = cell(numel(ids), 1);
                    for i = 1:numel(ids)
                        if ids(i) ~= 0
                            c{i} = make(ids(i));
                        end
                    end
                    data.(f) = c;
                else
                    for i = 1:numel(data)
                        v = data(i).(f);
                        if ~isempty(v)
                            data(i).(f) = make(v);
                        end
                    end
                end
            end
        end
    end
end
