# Install rules and the exported CMake package, so that an outside project
# can do find_package(herd CONFIG REQUIRED) + target_link_libraries(app herd::herd).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(HERD_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/herd CACHE STRING
    "Where herdConfig.cmake goes, relative to the prefix")

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/herd
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT herd_development)

set(_herd_export_targets herd)
get_target_property(_herd_type herd TYPE)
# A shared libherd gets a soname; before 1.0 every minor release may break the ABI.
set_target_properties(herd PROPERTIES VERSION ${PROJECT_VERSION}
                      SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
# A static herd carries its private llhttp as a link dependency, so the bundled
# archive (exported as herd::llhttp_static) must be installed with it. A shared
# herd already contains it.
if(HERD_BUNDLED_LLHTTP AND _herd_type STREQUAL "STATIC_LIBRARY")
  list(APPEND _herd_export_targets herd_llhttp)
  # Its exported include dir must exist, though no public herd header needs it.
  install(FILES ${HERD_LLHTTP_INCLUDE_DIR}/llhttp.h
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/herd/third_party COMPONENT herd_development)
endif()

install(TARGETS ${_herd_export_targets} EXPORT herdTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT herd_development
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT herd_runtime
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT herd_runtime)

# Tools are executables, not part of the export; they find a shared libherd
# next door through a relative rpath.
foreach(_tool herd-sim herd-cli)
  if(TARGET ${_tool})
    set_target_properties(${_tool} PROPERTIES INSTALL_RPATH "$ORIGIN/../${CMAKE_INSTALL_LIBDIR}")
    install(TARGETS ${_tool} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT herd_runtime)
  endif()
endforeach()

install(EXPORT herdTargets NAMESPACE herd:: DESTINATION ${HERD_INSTALL_CMAKEDIR}
        COMPONENT herd_development)

# herdConfig.cmake re-finds llhttp only when herd linked an external package.
if(HERD_BUNDLED_LLHTTP)
  set(HERD_CONFIG_EXTERNAL_LLHTTP OFF)
else()
  set(HERD_CONFIG_EXTERNAL_LLHTTP ON)
endif()
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/herdConfig.cmake.in
  ${PROJECT_BINARY_DIR}/herdConfig.cmake INSTALL_DESTINATION ${HERD_INSTALL_CMAKEDIR})
# Semantic versioning: any 1.x satisfies a request for 1.0, but before 1.0 a
# minor release may break the API, so 0.2 does not satisfy a request for 0.1.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(_herd_compat SameMinorVersion)
else()
  set(_herd_compat SameMajorVersion)
endif()
write_basic_package_version_file(${PROJECT_BINARY_DIR}/herdConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY ${_herd_compat})
install(FILES ${PROJECT_BINARY_DIR}/herdConfig.cmake ${PROJECT_BINARY_DIR}/herdConfigVersion.cmake
        DESTINATION ${HERD_INSTALL_CMAKEDIR} COMPONENT herd_development)
