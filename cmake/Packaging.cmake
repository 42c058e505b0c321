# CPack: `cpack -G DEB` in the build directory makes ballast_<version>_<arch>.deb.
# Layout (checked by tests/deploy/check_package.sh):
#   /usr/sbin/ballastd
#   /lib/systemd/system/ballastd.service
#   /etc/ballast/ballastd.json                (config/default.json; a conffile)
#   /usr/share/ballast/ballast.schema.json, /usr/share/ballast/examples/*.json
#   /usr/share/ballast/dashboards/*.json      (if dashboards/ holds any)
# ballastd's own install() rule is in apps/CMakeLists.txt (sbin, under the /usr prefix).

install(FILES deploy/systemd/ballastd.service DESTINATION /lib/systemd/system)
install(FILES config/default.json DESTINATION /etc/ballast RENAME ballastd.json)
install(FILES config/ballast.schema.json DESTINATION share/ballast)
install(DIRECTORY config/examples/ DESTINATION share/ballast/examples FILES_MATCHING PATTERN "*.json")
# Globbed at configure time: re-run cmake after adding a dashboard.
file(GLOB BALLAST_DASHBOARDS CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/dashboards/*.json")
if(BALLAST_DASHBOARDS)
  install(FILES ${BALLAST_DASHBOARDS} DESTINATION share/ballast/dashboards)
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ballast)
set(CPACK_PACKAGE_VENDOR ballast)
set(CPACK_PACKAGE_CONTACT "ballast maintainers <ballast@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "host agent that keeps Linux machines stable under resource pressure")
set(CPACK_PACKAGE_DESCRIPTION
  "ballastd watches cgroups and processes with eBPF, runs resource policies on them, changes
cgroup v2 knobs on their behalf and always puts them back, and exports everything to
Prometheus. Includes a systemd unit (ballastd.service), the default config in
/etc/ballast/ballastd.json, its JSON schema and examples in /usr/share/ballast.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
# The build type keeps debug info (RelWithDebInfo); the package ships a stripped ballastd.
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://localhost/ballast")
# Depends from dpkg-shlibdeps on the packaged ballastd (libbpf1, libcaf-*, libprometheus-cpp-*,
# libstdc++6, ...), so it follows whatever the build linked.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# /etc/ballast/ballastd.json is the operator's: dpkg keeps their edits on upgrade.
set(BALLAST_DEB_CONFFILES "${CMAKE_CURRENT_BINARY_DIR}/deb/conffiles")
file(WRITE "${BALLAST_DEB_CONFFILES}" "/etc/ballast/ballastd.json\n")
# postinst creates the control group (members may change what the agent does).
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA "${BALLAST_DEB_CONFFILES};${PROJECT_SOURCE_DIR}/deploy/debian/postinst")
# Only the runtime: no tests or benchmarks end up in the package (they have no install rules).
include(CPack)
