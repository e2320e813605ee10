classdef Schema < dj.Handle
    % dj.Schema  A database schema: declares and opens tables.
    %
    %   lab = conn.schema('lab');
    %   subject = lab.declare('Subject', 'Manual', sprintf('subject_id : int32\n---\nname : varchar(64)'));
    %   trial = lab.declarePart(session, 'Trial', sprintf('-> master\ntrial : int16'));
    %   same = lab.table('Subject');          % open by class name or SQL name


    methods
        function obj = Schema(varargin)
            obj = obj@dj.Handle(varargin{:});
        end

        function n = name(obj)
            n = dj_mex('schema_name', obj.id);
        end

        function names = tables(obj)
            % SQL names of the schema's tables, sorted (cell array of char).
            names = dj_mex('schema_list_tables', obj.id);
        end

        function drop(obj)
            % Drop the schema and all its tables.
            dj_mex('schema_drop', obj.id);
        end

        function t = declare(obj, className, tier, definition)
            % declare(className, tier, definition): TIER is 'Manual', 'Lookup', 'Imported' or
            % 'Computed' (the SQL name prefix: none, #, _, __). Declaring an existing table opens it.
            t = dj.Table(dj_mex('table_declare', obj.id, className, tier, definition), obj);
        end

        function t = declarePart(obj, master, partClass, definition)
            % declarePart(master, partClass, definition): a part table of MASTER (a dj.Table);
            % in the definition, '-> master' references the master.
            t = dj.Table(dj_mex('table_declare_part', obj.id, master.id, partClass, definition), obj);
        end

        function t = table(obj, name)
            % table(name): open an existing table by class name ('Session', 'Master.Part') or SQL name.
            t = dj.Table(dj_mex('table_open', obj.id, name), obj);
        end
    end
end
