classdef ObjectWriter < dj.Handle
    % dj.ObjectWriter  A stream writing one new file of a staged insert (dj.StagedInsert.open,
    % openKey). close() finishes the file (before the commit); deleting an unclosed writer
    % abandons it.
    %
    %   w = st.open('data', '.raw');
    %   for k = 1:n
    %       w.write(frame(k));            % any real numeric/logical array: its bytes
    %   end
    %   w.close();

    methods
        function obj = ObjectWriter(varargin)
            obj = obj@dj.Handle(varargin{:});
        end

        function write(obj, data)
            % Append DATA: the raw bytes of a real numeric or logical array (column-major,
            % little-endian; uint8 for plain bytes), or the UTF-8 bytes of a char array.
            dj_mex('writer_write', obj.id, data);
        end

        function n = close(obj)
            % Finish the file (completes a multipart upload); returns its size in bytes.
            n = dj_mex('writer_close', obj.id);
        end
    end
end
