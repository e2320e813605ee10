# Tests of DataJoint.jl against a built libdatajoint.
#
#   DATAJOINT_LIBRARY=/path/to/libdatajoint.so julia --project=bindings/julia -e 'using Pkg; Pkg.test()'
#   DATAJOINT_LIBRARY=... julia --project=bindings/julia bindings/julia/test/runtests.jl npy   # one file
#
# The scenarios mirror the C++ binding's tests (bindings/cpp/tests). Arguments (or
# Pkg.test(test_args = [...])) select test files by name: "types", "queries", "algebra",
# "errors", "lifetime", "npy", "objects", "populate", "lowlevel".

using Test
using Dates
using UUIDs
using DataJoint
using DataJoint: LibDataJoint
const Lib = LibDataJoint

include("common.jl")

const TEST_FILES = ["test_types.jl", "test_queries.jl", "test_algebra.jl", "test_errors.jl",
                    "test_lifetime.jl", "test_npy.jl", "test_objects.jl", "test_populate.jl",
                    "test_lowlevel.jl"]

selected = isempty(ARGS) ? TEST_FILES :
           filter(f -> any(a -> occursin(a, f), ARGS), TEST_FILES)
isempty(selected) && error("no test file matches $(ARGS); files: $(TEST_FILES)")

@testset "DataJoint.jl" begin
    @testset "library" begin
        @test DataJoint.abi_version() >> 16 == Lib.DJ_ABI_VERSION_MAJOR
        @test DataJoint.abi_version() & 0xffff == Lib.DJ_ABI_VERSION_MINOR
        @test !isempty(DataJoint.version())
        lib = get(ENV, "DATAJOINT_LIBRARY", nothing)
        if lib !== nothing && !DataJoint.Preferences.has_preference(DataJoint, "libdatajoint")
            # A stale precompile cache would call another library than the one asked for.
            @test DataJoint.library_path() == lib
        end
    end
    for f in selected
        @testset "$f" begin
            include(f)
        end
    end
end
