# Compiler flags shared by every rlx target (applied through rlx_set_target_options).
add_library(rlx_compile_options INTERFACE)
target_compile_options(rlx_compile_options INTERFACE
  # -Wundef: a feature macro tested in a file that never defined it (RLX_AVX2 without simd.h)
  # silently compiled the scalar fallback of SiLU for a session.
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wno-unused-parameter -Wundef>
  # nvcc takes host-compiler warnings through -Xcompiler.
  $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra,-Wno-unused-parameter>
  # Paths in __FILE__ relative to the source tree: reproducible objects, ccache hits across clones.
  $<$<COMPILE_LANGUAGE:CXX,C>:-ffile-prefix-map=${PROJECT_SOURCE_DIR}/=>)
if(RLX_NATIVE)
  target_compile_options(rlx_compile_options INTERFACE $<$<COMPILE_LANGUAGE:CXX,C>:-march=native>)
else()
  target_compile_options(rlx_compile_options INTERFACE $<$<COMPILE_LANGUAGE:CXX,C>:-mavx2 -mfma -mf16c>)
endif()
if(RLX_SANITIZE)
  target_compile_options(rlx_compile_options INTERFACE
    $<$<COMPILE_LANGUAGE:CXX,C>:-fsanitize=address,undefined -fno-omit-frame-pointer
    -fno-sanitize-recover=undefined>)
  target_link_options(rlx_compile_options INTERFACE -fsanitize=address,undefined)
endif()
if(RLX_FUZZ)
  target_compile_options(rlx_compile_options INTERFACE
    $<$<COMPILE_LANGUAGE:CXX,C>:-fsanitize=fuzzer-no-link,address,undefined
    -fno-omit-frame-pointer>)
  target_link_options(rlx_compile_options INTERFACE -fsanitize=address,undefined)
endif()
install(TARGETS rlx_compile_options EXPORT rlxTargets)

# rlx_layer(NAME DEPS ... PRIVATE_DEPS ...) declares one layer library from every .cpp file
# below the calling directory, with the shared options.
function(rlx_layer name)
  cmake_parse_arguments(ARG "" "" "DEPS;PRIVATE_DEPS" ${ARGN})
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp
       ${CMAKE_CURRENT_SOURCE_DIR}/*.cu)
  if(NOT sources)  # a layer still being written: keep the target so dependents configure
    set(sources ${CMAKE_CURRENT_BINARY_DIR}/${name}_empty.cpp)
    file(WRITE ${sources} "// ${name} has no sources yet\n")
  endif()
  add_library(${name} STATIC ${sources})
  target_include_directories(${name} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PUBLIC ${ARG_DEPS} PRIVATE rlx_compile_options ${ARG_PRIVATE_DEPS})
  set_target_properties(${name} PROPERTIES EXPORT_NAME ${name})
endfunction()
