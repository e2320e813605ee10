classdef Computed < dj.AutoPopulate
    % dj.Computed  Base class of computed tables (tier Computed, SQL name prefix '__'): subclass
    % it, give it a definition and a make(self, key) method, and populate it. See
    % dj.AutoPopulate for the constructor and an example.
    %
    %   classdef Analysis < dj.Computed
    %       properties (Constant)
    %           definition = sprintf('-> Session\n---\nmean_value : float64')
    %       end
    %       methods
    %           function self = Analysis(schema), self = self@dj.Computed(schema); end
    %           function make(self, key), self.insert(setfield(key, 'mean_value', 1)); end
    %       end
    %   end
    %   populate(Analysis(lab))

    methods
        function self = Computed(varargin)
            self = self@dj.AutoPopulate(varargin{:});
        end
    end
end
