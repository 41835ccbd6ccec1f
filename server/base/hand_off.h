#ifndef OSM_SERVER_BASE_HAND_OFF_H_
#define OSM_SERVER_BASE_HAND_OFF_H_

// ThreadSanitizer's annotations, from its runtime in a -fsanitize=thread
// build. Weak: null in any other build, where the functions below do
// nothing. (The tsan preset compiles with -U__SANITIZE_THREAD__, so a macro
// cannot tell the builds apart.)
extern "C" void __tsan_acquire(void* addr) __attribute__((weak));
extern "C" void __tsan_release(void* addr) __attribute__((weak));

namespace osm {

// An ordering that a library guarantees where ThreadSanitizer cannot see it.
// Debian's gRPC is not built with TSan: its atomics, absl::Mutex and futex
// waits are invisible, so that what one thread does before handing an
// object to gRPC (ServerUnaryReactor::Finish) and what another does after
// gRPC hands it back (OnDone) look like a race. HandOffSent(key) on the
// first thread, after its last access, and HandOffReceived(key) on the
// second, before its first, state the library's guarantee; any access
// outside that order is still reported. Each use says which guarantee.
inline void HandOffSent(const void* key) {
  if (__tsan_release != nullptr) __tsan_release(const_cast<void*>(key));
}
inline void HandOffReceived(const void* key) {
  if (__tsan_acquire != nullptr) __tsan_acquire(const_cast<void*>(key));
}

}  // namespace osm

#endif  // OSM_SERVER_BASE_HAND_OFF_H_
