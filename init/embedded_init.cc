#include "init/embedded_init.h"

#include "base/embed.h"

C2W_EMBED(c2w_embedded_init, C2W_INIT_PATH);

namespace c2w::init {

std::string_view embedded_init() {
  return C2W_EMBEDDED(c2w_embedded_init);
}

}  // namespace c2w::init
