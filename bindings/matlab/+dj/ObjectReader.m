classdef ObjectReader < dj.Handle
    % dj.ObjectReader  Sequential reads of one stored file (dj.ObjectRef.open).
    %
    %   rd = r.open();
    %   while true
    %       b = rd.read(2^20);          % up to 1 MiB as a uint8 row; 1×0 at the end
    %       if isempty(b), break; end
    %   end

    properties (Dependent)
        size   % size of the file in bytes
    end

    methods
        function obj = ObjectReader(varargin)
            obj = obj@dj.Handle(varargin{:});
        end

        function b = read(obj, n)
            % Up to N bytes as a 1×N uint8 row (1×0 at the end of the file).
            b = dj_mex('reader_read', obj.id, n);
        end

        function n = get.size(obj)
            n = dj_mex('reader_size', obj.id);
        end
    end
end
