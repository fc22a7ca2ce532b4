// libfrugal's own translation unit: the C API lives in the frugal_core archive, linked whole.
#include "frugal.h"
