function v = npy(A, shape)
% dj.npy(A, shape)  An <npy@> value with an explicit numpy shape.
%
%   t.insert1(struct('id', 1, 'arr', dj.npy(5, [])))        % a 0-d array
%   t.insert1(struct('id', 2, 'arr', dj.npy(1:10, 10)))     % a 1-d array of 10 elements
%
% A's elements, taken in MATLAB (column-major) order, fill SHAPE in Fortran order, i.e. like
% reshape(A, shape) — but SHAPE may have 0 or 1 dimensions, which MATLAB arrays cannot.
% prod(shape) must equal numel(A).
v = struct('data', {A}, 'shape', {double(shape(:)')});
end
