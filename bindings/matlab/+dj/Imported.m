classdef Imported < dj.AutoPopulate
    % dj.Imported  Base class of imported tables (tier Imported, SQL name prefix '_'): rows made
    % by make(self, key) from data outside the database. The same as dj.Computed otherwise;
    % see dj.AutoPopulate.

    methods
        function self = Imported(varargin)
            self = self@dj.AutoPopulate(varargin{:});
        end
    end
end
