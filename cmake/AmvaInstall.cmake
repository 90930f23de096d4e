include(CMakePackageConfigHelpers)

get_property(AMVA_AREA_TARGETS GLOBAL PROPERTY AMVA_AREAS)
install(TARGETS amva ${AMVA_AREA_TARGETS} EXPORT amvaTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/amva DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY model_cards/ DESTINATION ${CMAKE_INSTALL_DATADIR}/amva/model_cards)
file(GLOB AMVA_FIGURE_SCRIPT_FILES ${PROJECT_SOURCE_DIR}/share/amva/*.py)  # plots.py and the modules it imports
install(FILES ${AMVA_FIGURE_SCRIPT_FILES} share/amva/report_template.html DESTINATION ${CMAKE_INSTALL_DATADIR}/amva)
if(TARGET amva_cli)
  install(TARGETS amva_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

set(AMVA_CONFIG_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/amva)
install(EXPORT amvaTargets NAMESPACE amva:: DESTINATION ${AMVA_CONFIG_DIR})
configure_package_config_file(cmake/amvaConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/amvaConfig.cmake INSTALL_DESTINATION ${AMVA_CONFIG_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/amvaConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/amvaConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/amvaConfigVersion.cmake
        DESTINATION ${AMVA_CONFIG_DIR})
