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

        function s = gc(obj, varargin)
            % gc('dry_run', true, 'store', 'main', 'grace', 3600): remove the stored objects that
            % no row of the schema references (orphans of failed or killed writers, of DataJoint
            % Python's deletes) in every store its attributes use, or in 'store' only. Nothing
            % modified within 'grace' seconds (default 3600) is removed; 'dry_run' only counts.
            % Returns struct(hash_objects, schema_objects, references, orphaned_hash,
            % orphaned_schema, orphaned_bytes, young, deleted, bytes_freed, requests, dry_run).
            if mod(numel(varargin), 2) ~= 0
                error('DataJoint:InvalidArgument', 'gc options are name-value pairs');
            end
            opts = struct();
            for i = 1:2:numel(varargin)
                key = lower(varargin{i});
                if ~any(strcmp(key, {'dry_run', 'store', 'grace'}))
                    error('DataJoint:InvalidArgument', 'unknown gc option ''%s'' (dry_run, store, grace)', key);
                end
                opts.(key) = varargin{i + 1};
            end
            s = dj_mex('schema_gc', obj.id, opts);
        end

        function t = table(obj, name)
            % table(name): open an existing table by class name ('Session', 'Master.Part') or SQL name.
            t = dj.Table(dj_mex('table_open', obj.id, name), obj);
        end
    end
end
