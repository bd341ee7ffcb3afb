/* kern_ukr_tiles: a path's two micro-kernels from kern_ukr_body.h, the wide
 * tile (UKR_MR_WIDE rows, two vectors per row) as ukr and the narrow one
 * (UKR_MR_NARROW rows, one vector) as ukr_narrow. A path's file defines
 * kern_ukr_body.h's vector macros and these two row counts, then includes
 * this. */
#define UKR_NAME ukr
#define UKR_MR UKR_MR_WIDE
#define UKR_NW 2
#include "kern_ukr_body.h"
#undef UKR_NAME
#undef UKR_MR
#undef UKR_NW
#define UKR_NAME ukr_narrow
#define UKR_MR UKR_MR_NARROW
#define UKR_NW 1
#include "kern_ukr_body.h"
#undef UKR_NAME
#undef UKR_MR
#undef UKR_NW
