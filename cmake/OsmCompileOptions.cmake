# Compile options shared by every target of the project's own code.
# Generated protobuf code gets the sanitizer flags but not the warnings.

if(OSM_SANITIZE)
  add_compile_options(-fsanitize=${OSM_SANITIZE} -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${OSM_SANITIZE})
  if(OSM_SANITIZE MATCHES "undefined")
    add_compile_options(-fno-sanitize-recover=undefined)
  endif()
  if(OSM_SANITIZE MATCHES "thread")
    # Under -fsanitize=thread, protobuf's headers add fields to an internal
    # type that Debian's (uninstrumented) libprotobuf lacks: keep the layouts
    # equal. That also hid TSan from libstdc++, whose shared_ptr then drops
    # its last reference after one 64-bit load of both counts, which TSan
    # cannot pair with the other thread's 32-bit decrement (a false race on
    # every shared_ptr released last on another thread): _GLIBCXX_TSAN
    # restores the plain decrement, and changes no layout. -Wno-tsan: GCC
    # warns about a fence inside Abseil's headers.
    add_compile_options(-U__SANITIZE_THREAD__ -D_GLIBCXX_TSAN=1 -Wno-tsan)
  endif()
endif()

function(osm_target_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
    -Wcast-align -Wunused -Woverloaded-virtual
    -Wimplicit-fallthrough -Wformat=2)
  # Clang checks the thread-safety annotations (ABSL_GUARDED_BY and
  # friends); GCC ignores them. The thread-safety preset builds with it.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    target_compile_options(${target} PRIVATE -Wthread-safety)
  endif()
  if(OSM_WARNINGS_AS_ERRORS)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
