# Warnings for every part; C2W_WERROR (on by default, always on in CI) makes them errors.
option(C2W_WERROR "Treat warnings as errors" ON)
add_compile_options(-Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wimplicit-fallthrough)
if(C2W_WERROR)
  add_compile_options(-Werror)
endif()
