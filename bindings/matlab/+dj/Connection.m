classdef Connection < dj.Handle
    % dj.Connection  A connection to a DataJoint database (libdatajoint).
    %
    %   conn = dj.Connection.duckdb('/data/lab.duckdb');     % embedded DuckDB file (':memory:' too)
    %   conn = dj.Connection.connect('', '{"database.path": "lab.duckdb"}');
    %   conn = dj.Connection.connect('datajoint.json');       % e.g. a PostgreSQL/MySQL server:
    %          % {"database": {"backend": "postgresql", "host": "db.lab", "user": "alice"}}
    %          % password from DJ_PASS or .secrets/database.password next to the file
    %   lab  = conn.schema('lab');                           % created if missing
    %   conn.close();                                        % releases the database at once
    %
    % The object holds a uint64 handle id of the dj_mex registry; delete(conn) (or clearing the
    % last variable that refers to it) frees the handle. Schemas, tables and results keep the
    % database alive on their own, so objects may be cleared in any order.

    methods
        function obj = Connection(varargin)
            % dj.Connection(id) wraps a connection handle id returned by dj_mex (advanced use);
            % use dj.Connection.duckdb or dj.Connection.connect instead.
            obj = obj@dj.Handle(varargin{:});
        end

        function close(obj)
            % Close the database now; later operations on it fail with DataJoint:Closed.
            dj_mex('conn_close', obj.id);
        end

        function name = backend(obj)
            % 'duckdb', 'postgresql' or 'mysql'.
            name = dj_mex('conn_backend', obj.id);
        end

        function names = schemas(obj)
            % Names of the database's schemas (cell array of char).
            names = dj_mex('conn_list_schemas', obj.id);
        end

        function s = schema(obj, name, create)
            % schema(name) opens schema NAME, creating it if missing; schema(name, false) fails
            % with DataJoint:NotFound instead.
            if nargin < 3
                create = true;
            end
            s = dj.Schema(dj_mex('schema_open', obj.id, name, logical(create)));
        end

        function st = storeStats(obj, store)
            % Object-store traffic since the connection opened: struct(requests, bytes_read,
            % bytes_written). STORE '' (default) is the default store.
            if nargin < 2
                store = '';
            end
            st = dj_mex('conn_store_stats', obj.id, store);
        end
    end

    methods (Static)
        function c = duckdb(path)
            % dj.Connection.duckdb(path): open or create an embedded DuckDB file (':memory:' or
            % no argument for an in-memory database).
            if nargin < 1
                path = ':memory:';
            end
            c = dj.Connection(dj_mex('connect_duckdb', path));
        end

        function c = connect(configPath, overrides)
            % dj.Connection.connect(configPath, overrides) reads settings like DataJoint Python:
            % OVERRIDES (a JSON object as char, or a struct that is JSON-encoded), environment
            % variables (DJ_BACKEND, DJ_HOST, DJ_USER, DJ_PASS, DJ_DATABASE_PATH, ...), then
            % datajoint.json (CONFIGPATH, or searched upward from the current folder when
            % CONFIGPATH is ''), then secret files (.secrets/database.password next to it).
            % database.backend: 'duckdb' (default), 'postgresql' or 'mysql', e.g.
            %   dj.Connection.connect('', struct('database', struct('backend', 'postgresql', ...
            %                                    'host', 'db.lab', 'user', 'alice')))
            if nargin < 1
                configPath = '';
            end
            if nargin < 2
                overrides = '';
            end
            if isstruct(overrides)
                overrides = jsonencode(overrides);   % MATLAB R2016b+ and Octave 7+
            end
            c = dj.Connection(dj_mex('connect', configPath, overrides));
        end
    end
end
