function out = build_mex(varargin)
% dj.build_mex  Compile the dj_mex gateway against the static libdatajoint.a.
%
%   dj.build_mex()                                  % defaults below
%   dj.build_mex('lib_dir', '/path/with/libdatajoint.a', 'out_dir', pwd, 'verbose', true)
%
% The Rust library is linked statically into the MEX file, so users need no library search
% path (LD_LIBRARY_PATH, rpath) at run time. The archive is linked whole
% (-Wl,--whole-archive ... --no-whole-archive; -force_load on macOS): a plain static link keeps
% only the archive members it sees referenced and drops the static initialisers with which the
% bundled DuckDB registers its built-in functions (queries then fail at run time). Then
% -lpthread -ldl -lm -lstdc++ (Rust std and DuckDB's C++). Only mexFunction is exported.
%
% Options (name-value):
%   lib_dir      folder of libdatajoint.a: $DJ_LIB_DIR, else $CARGO_TARGET_DIR/release, else
%                ~/.cache/datajoint-rs/target/release, else <repo>/target/release
%   include_dir  folder of datajoint.h (default <repo>/include)
%   out_dir      where dj_mex.<ext> goes (default bindings/matlab, next to +dj)
%   verbose      print the compiler command (default false)
%
% GNU Octave: mkoctfile --mex, output extension .mex (Octave does not load .mexa64).
% MATLAB:     mex -R2017b, output extension mexext() (.mexa64 on Linux, .mexmaca64 on Apple
%             silicon); Windows is not supported by this function yet.
here = fileparts(mfilename('fullpath'));          % .../bindings/matlab/+dj
matlab_dir = fileparts(here);                      % .../bindings/matlab
repo = fileparts(fileparts(matlab_dir));           % repository root
opts = struct('lib_dir', '', 'include_dir', fullfile(repo, 'include'), 'out_dir', matlab_dir, 'verbose', false);
for i = 1:2:numel(varargin)
    opts.(lower(varargin{i})) = varargin{i + 1};
end
if isempty(opts.lib_dir)
    opts.lib_dir = default_lib_dir(repo);
end
lib = fullfile(opts.lib_dir, 'libdatajoint.a');
if ~exist(lib, 'file')
    error('DataJoint:Build', '%s not found (cargo build --release -p datajoint-ffi, or pass ''lib_dir'')', lib);
end
header = fullfile(opts.include_dir, 'datajoint.h');
if ~exist(header, 'file')
    error('DataJoint:Build', '%s not found (pass ''include_dir'')', header);
end
src = fullfile(matlab_dir, 'src', 'dj_mex.cpp');
if ismac()
    whole = ['-Wl,-force_load,' lib];
    deps = {'-lpthread', '-ldl', '-lm', '-lc++'};
    hide = {};
else
    whole = ['-Wl,--whole-archive,' lib ',--no-whole-archive'];
    deps = {'-lpthread', '-ldl', '-lm', '-lstdc++'};
    % export only mexFunction; drop unreferenced sections; strip (the .mex shrinks ~2x)
    hide = {'-Wl,--exclude-libs,ALL', '-Wl,--gc-sections', '-s'};
end

if dj.isOctave()
    target = fullfile(opts.out_dir, 'dj_mex.mex');
    args = [{'--mex', '-std=c++17', ['-I' opts.include_dir], src, whole}, deps, hide, {'-o', target}];
    if opts.verbose
        fprintf('mkoctfile %s\n', strjoin(args, ' '));
    end
    [output, status] = mkoctfile(args{:});
    if status ~= 0
        error('DataJoint:Build', 'mkoctfile failed (%d):\n%s', status, output);
    end
else
    target = fullfile(opts.out_dir, ['dj_mex.' mexext()]);
    ldflags = ['LDFLAGS=$LDFLAGS ' whole ' ' strjoin(hide(1:min(2, end)), ' ')];
    args = [{'-R2017b', ['-I' opts.include_dir], 'CXXFLAGS=$CXXFLAGS -std=c++17', src, ldflags}, deps, ...
            {'-outdir', opts.out_dir, '-output', 'dj_mex'}];
    if opts.verbose
        args = [{'-v'}, args];
    end
    mex(args{:});
end
clear('dj_mex');   % a rebuilt MEX file is picked up at the next call (when no handle is live)
if nargout > 0
    out = target;
else
    fprintf('built %s\n', target);
end
end

function d = default_lib_dir(repo)
d = getenv('DJ_LIB_DIR');
if ~isempty(d)
    return
end
t = getenv('CARGO_TARGET_DIR');
if ~isempty(t) && exist(fullfile(t, 'release', 'libdatajoint.a'), 'file')
    d = fullfile(t, 'release');
    return
end
home = getenv('HOME');
c = fullfile(home, '.cache', 'datajoint-rs', 'target', 'release');
if exist(fullfile(c, 'libdatajoint.a'), 'file')
    d = c;
    return
end
d = fullfile(repo, 'target', 'release');
end
