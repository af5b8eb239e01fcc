# qs_add_qtest(NAME SOURCES... LIBS ... [GUI]): one QTest executable per class under test,
# registered with ctest. GUI tests run headless (QT_QPA_PLATFORM=offscreen).
function(qs_add_qtest name)
    cmake_parse_arguments(ARG "GUI" "" "SOURCES;LIBS" ${ARGN})
    add_executable(${name} ${ARG_SOURCES})
    target_link_libraries(${name} PRIVATE Qt6::Test qs_testsupport ${ARG_LIBS})
    qs_set_warnings(${name})
    add_test(NAME ${name} COMMAND ${name})
    set(env "QS_SOURCE_DIR=${PROJECT_SOURCE_DIR}" "QS_BINARY_DIR=${PROJECT_BINARY_DIR}")
    if(ARG_GUI)
        list(APPEND env "QT_QPA_PLATFORM=offscreen")
    endif()
    set_tests_properties(${name} PROPERTIES ENVIRONMENT "${env}" TIMEOUT 300)
endfunction()
