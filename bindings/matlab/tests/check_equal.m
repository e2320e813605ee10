function check_equal(actual, expected, label)
% check_equal(actual, expected, label)  Equal values (NaN == NaN), class and size.
if nargin < 3
    label = 'value';
end
if ~strcmp(class(actual), class(expected))
    error('Test:Mismatch', '%s: class %s, expected %s', label, class(actual), class(expected));
end
if ~isequal(size(actual), size(expected))
    error('Test:Mismatch', '%s: size [%s], expected [%s]', label, num2str(size(actual)), num2str(size(expected)));
end
if ~isequaln(actual, expected)
    error('Test:Mismatch', '%s: got %s, expected %s', label, show(actual), show(expected));
end
end

function s = show(v)
if ischar(v)
    s = ['''' v ''''];
elseif isnumeric(v) || islogical(v)
    if numel(v) > 12
        s = sprintf('<%s %s>', class(v), mat2str(size(v)));
    else
        s = mat2str(double(v));
        if isinteger(v) && numel(v) == 1
            s = sprintf('%d', v);
        end
    end
else
    s = ['<' class(v) '>'];
end
end
