// Checksums that outputs record of their inputs (a cache of its model file,
// the report of every file it read): 64-bit FNV-1a, written "fnv1a64:<16 hex>".
// (Complete-output seals use their own word-wise variant: core/atomic_file.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace fluxrecon {

inline constexpr std::uint64_t kFnv1a64Offset = 14695981039346656037ull;
inline constexpr std::uint64_t kFnv1a64Prime = 1099511628211ull;

// FNV-1a of `n` bytes, continuing from `h`.
std::uint64_t fnv1a64(const void* data, std::size_t n, std::uint64_t h = kFnv1a64Offset);
// "fnv1a64:" and the 16 hex digits of `h`.
std::string fnv1a64_label(std::uint64_t h);
// The labelled checksum of a file's bytes (rank-local); an Error naming the
// file when it cannot be read.
std::string file_checksum(const std::string& path);
// The labelled checksum of a text.
std::string text_checksum(const std::string& text);

}  // namespace fluxrecon
