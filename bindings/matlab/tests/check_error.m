function err = check_error(fn, id, label)
% check_error(fn, id, label)  fn() must raise an error with identifier ID.
if nargin < 3
    label = func2str(fn);
end
try
    fn();
catch err
    if ~strcmp(err.identifier, id)
        error('Test:Mismatch', '%s: error %s (%s), expected %s', label, err.identifier, err.message, id);
    end
    return
end
error('Test:Mismatch', '%s: no error, expected %s', label, id);
end
