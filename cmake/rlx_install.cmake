include(CMakePackageConfigHelpers)
install(DIRECTORY include/rlx DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT rlxTargets NAMESPACE rlx:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/rlx)
configure_package_config_file(cmake/rlxConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/rlxConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/rlx)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/rlxConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/rlxConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/rlxConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/rlx)
