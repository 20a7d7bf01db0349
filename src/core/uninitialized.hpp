// A vector whose resize() leaves new elements uninitialised: for large
// buffers that are overwritten right away (file reads, sample series), the
// zero fill would be a full extra pass over memory.
#pragma once

#include <sys/mman.h>

#include <cstdlib>
#include <memory>
#include <new>
#include <vector>

namespace fluxrecon {

template <class T>
struct DefaultInitAllocator : std::allocator<T> {
  template <class U>
  struct rebind {
    using other = DefaultInitAllocator<U>;
  };
  DefaultInitAllocator() = default;
  template <class U>
  DefaultInitAllocator(const DefaultInitAllocator<U>&) noexcept {}
  // Large buffers are 2 MiB aligned and asked to use transparent huge pages:
  // first touch then takes one fault per 2 MiB instead of per 4 KiB, which
  // dominated the kernel time of prepare at ORCA025 size.
  T* allocate(std::size_t n) {
    const std::size_t bytes = n * sizeof(T);
    if (bytes < kHugeThreshold) return std::allocator<T>::allocate(n);
    const std::size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
    void* p = std::aligned_alloc(kHugePage, rounded);
    if (!p) throw std::bad_alloc();
    ::madvise(p, rounded, MADV_HUGEPAGE);
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t n) noexcept {
    if (n * sizeof(T) < kHugeThreshold) return std::allocator<T>::deallocate(p, n);
    std::free(p);
  }
  static constexpr std::size_t kHugePage = std::size_t(2) << 20;
  static constexpr std::size_t kHugeThreshold = std::size_t(32) << 20;

  template <class U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;  // default-init: no zeroing for arithmetic types
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

template <class T>
using UninitializedVector = std::vector<T, DefaultInitAllocator<T>>;

}  // namespace fluxrecon
