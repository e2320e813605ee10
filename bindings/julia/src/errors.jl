# Errors: DataJointError and the @dj_check / @dj_value macros.
#
# libdatajoint reports failures through a return code (dj_status) and a thread-local last
# error whose message is valid only until the next dj_* call on the same OS thread. Two
# things can come between a failing call and the read of its message in Julia:
#   * a task switch, after which the task may resume on another thread: the macros below
#     contain no yield point between the ccall and the read;
#   * a finalizer of this package (dj_*_free / dj_array_view_release) run by a garbage
#     collection that an allocation on this thread triggers: the macros disable finalizers on
#     this thread (GC.enable_finalizers) from before the ccall until the message is copied.

"""
    DataJointError(code, name, msg) <: Exception

An error reported by libdatajoint, or by this package for the same kinds of mistakes.

- `code::Int32`: the `dj_status`, a negative `DJ_E_*` constant of [`LibDataJoint`](@ref),
  e.g. `LibDataJoint.DJ_E_DUPLICATE`;
- `name::String`: its short name from `dj_status_name`, e.g. `"Duplicate"`;
- `msg::String`: the message (the last error message of the failing call).

Autopopulate (ABI 0.6) adds two codes: `NotAllowed` (`DJ_E_NOT_ALLOWED`: an insert into a
`:computed` or `:imported` table outside its `make` without `allow_direct_insert = true`, or a
`populate!` inside a `make`) and `MakeFailed` (`DJ_E_MAKE_FAILED`: a `make` threw and
`populate!` stopped; the message names the key and gives `"ExceptionType: message"`).
"""
struct DataJointError <: Exception
    code::Int32
    name::String
    msg::String
end

"""
    DataJointError(code, msg)

An error with the name of `code` from `dj_status_name` (used for errors this package detects
itself, with the code the C library would report).
"""
DataJointError(code::Integer, msg::AbstractString) = DataJointError(Int32(code), status_name(code), String(msg))

function Base.showerror(io::IO, e::DataJointError)
    print(io, "DataJointError: ", e.name, " (", e.code, "): ", e.msg)
end

"""
    status_name(code) -> String

The short name of a `dj_status` code ("OK", "NotFound", "Duplicate", …; "Unknown" for codes
the library does not know).
"""
function status_name(code::Integer)
    c = code isa Int32 ? code : (typemin(Int32) <= code <= typemax(Int32) ? Int32(code) : Int32(-12345))
    p = Lib.dj_status_name(c)   # static storage, never NULL
    return p == C_NULL ? "Unknown" : unsafe_string(p)
end

# The error of the call that just returned `status`: copy the thread-local message first (any
# further dj_* call may invalidate it), then look up the name.
function _last_error(status::Integer)
    p = Lib.dj_last_error_message()
    msg = p == C_NULL ? "" : unsafe_string(p)
    code = Int32(status)
    name = status_name(code)
    return DataJointError(code, name, isempty(msg) ? name : msg)
end

"""
    @dj_check ccall_expression

Evaluate a call returning a `dj_status`; throw a [`DataJointError`](@ref) with the code and
the thread's last error message unless it is `DJ_OK`. Returns the status.
"""
macro dj_check(ex)
    quote
        let err = nothing, status = Int32(0)
            GC.enable_finalizers(false)
            try
                status = Int32($(esc(ex)))
                if status != Lib.DJ_OK
                    err = _last_error(status)
                end
            finally
                GC.enable_finalizers(true)
            end
            err === nothing || throw(err)
            status
        end
    end
end

"""
    @dj_value getter_expression

Evaluate an "infallible" getter (`dj_table_name`, `dj_result_ncols`, …): these return NULL or 0
on failure and set the last error, which they clear on success. Throws a
[`DataJointError`](@ref) if the last error code is set after the call; returns the value.
"""
macro dj_value(ex)
    quote
        let err = nothing, value = nothing
            GC.enable_finalizers(false)
            try
                value = $(esc(ex))
                code = Lib.dj_last_error_code()
                if code != Lib.DJ_OK
                    err = _last_error(code)
                end
            finally
                GC.enable_finalizers(true)
            end
            err === nothing || throw(err)
            value
        end
    end
end

_invalid_arg(msg::AbstractString) = DataJointError(Lib.DJ_E_INVALID_ARG, msg)
_type_error(msg::AbstractString) = DataJointError(Lib.DJ_E_TYPE, msg)

# A String for a `const char*` argument: NUL characters would silently cut it short in C.
function _cstr(s::AbstractString, what::AbstractString="string")
    t = String(s)
    if Base.containsnul(t)
        throw(_invalid_arg("$what $(repr(t)) contains a NUL character"))
    end
    return t
end
_cstr(s::Symbol, what::AbstractString="string") = _cstr(String(s), what)

# A 1-based index as the 0-based size_t of the C API.
function _index0(i::Integer, what::AbstractString="index")
    i >= 1 || throw(_invalid_arg("$what $i: Julia indices start at 1"))
    return Csize_t(i - 1)
end
