classdef AutoPopulate < dj.Table
    % dj.AutoPopulate  What dj.Computed and dj.Imported have in common: a table whose rows are
    % made by its make method, for each key of its key source, by populate. Subclass
    % dj.Computed or dj.Imported (not this class):
    %
    %   classdef Analysis < dj.Computed
    %       properties (Constant)
    %           definition = sprintf('-> Session\n---\nmean_value : float64')
    %       end
    %       methods
    %           function self = Analysis(schema)
    %               self = self@dj.Computed(schema);   % declares (or opens) 'Analysis'
    %           end
    %           function make(self, key)
    %               v = fetch1(Trace(schema) & key, 'value');   % any query
    %               self.insert(struct('session_id', key.session_id, 'mean_value', mean(v)));
    %           end
    %       end
    %   end
    %
    %   a = Analysis(lab);              % lab = conn.schema('lab')
    %   [n, errors] = populate(a, 'suppress_errors', true, 'reserve_jobs', true);
    %   [remaining, total] = progress(a);
    %
    % Constructor: Subclass(schema) declares the table in SCHEMA with the subclass's name
    % (without its package) and its tier, from the subclass's `definition` property (declaring
    % an existing table opens it); without a `definition` property it opens the existing
    % table. Subclass(schema, definition) gives the definition directly (e.g. from the
    % subclass's constructor: self = self@dj.Computed(schema, def)).
    %
    % make(self, key) (or the older makeTuples(self, key)) runs in a transaction: every insert
    % into the table (self.insert(...), insert(self, ...)) and into its part tables commits
    % when make returns, and is rolled back (stored objects too) if it raises an error. KEY is a
    % 1x1 struct of the key-source attributes. Override keySource(self) to populate from other
    % keys (a dj.Query or dj.Table whose primary key the table has). Everything else is
    % dj.Table's: populate, progress, jobs, refreshJobs, jobProgress, ignoreJob, fetch, ...

    methods
        function self = AutoPopulate(schema, definition)
            self = self@dj.Table();
            if nargin == 0
                return
            end
            if ~isa(schema, 'dj.Schema')
                error('DataJoint:InvalidArgument', '%s(schema[, definition]): the first argument must be a dj.Schema', ...
                      class(self));
            end
            if nargin < 2
                if isprop(self, 'definition')
                    definition = self.definition;
                else
                    definition = '';
                end
            end
            definition = dj.Expression.text(definition);
            if ~ischar(definition)
                error('DataJoint:InvalidArgument', '%s: the definition must be char', class(self));
            end
            cls = class(self);
            k = find(cls == '.', 1, 'last');
            if ~isempty(k)
                cls = cls(k + 1:end);
            end
            tier = 'Computed';
            if isa(self, 'dj.Imported')
                tier = 'Imported';
            end
            if isempty(definition)
                self.id = dj_mex('table_open', schema.id, cls);
            else
                self.id = dj_mex('table_declare', schema.id, cls, tier, definition);
            end
            self.schema = schema;
        end

        function make(self, key)
            % make(self, key): compute and insert the rows of KEY. Subclasses define it (or the
            % older makeTuples(self, key), which this default calls).
            self.makeTuples(key);
        end

        function makeTuples(self, key) %#ok<INUSD>
            error('DataJoint:InvalidArgument', '%s defines neither make(self, key) nor makeTuples(self, key)', ...
                  class(self));
        end
    end

    methods (Hidden)
        function t = autoTarget(self)
            % This table with its (possibly overridden) keySource.
            t = self.withKeySource(self.keySource());
        end

        function fn = defaultMake(self)
            fn = @(t, key) self.make(key);
        end
    end
end
