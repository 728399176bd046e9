// zlib (Debian: zlib1g-dev), used to inflate gzipped IDX files.
#include <zlib.h>
