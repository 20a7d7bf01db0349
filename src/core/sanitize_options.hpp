// Included by exactly one file of each executable (main.cpp, tests/test_main.cpp).
#pragma once
// Default sanitizer options for builds with FLUXRECON_SANITIZE=address-undefined:
// Open MPI and HDF5 hold global allocations until exit that LeakSanitizer
// reports as leaks, so leak detection is off; every other check stays on.
#if defined(FLUXRECON_SANITIZE_ADDRESS)
extern "C" const char* __asan_default_options() { return "detect_leaks=0"; }
extern "C" const char* __ubsan_default_options() { return "print_stacktrace=1:halt_on_error=1"; }
#endif
