// The one source of meshdns_test_pch (cmake/precompiled.cmake): CMake builds
// a target's precompiled header only for a target with something to compile.
