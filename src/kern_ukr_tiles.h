/* kern_ukr_tiles: a path's micro-kernels from kern_ukr_body.h, the wide
 * tile (UKR_MR_WIDE rows, two vectors per row) as ukr, the narrow one
 * (UKR_MR_NARROW rows, one vector) as ukr_narrow, the wide tile's half
 * (UKR_MR_WIDE rows, one vector) as ukr_half, and the row edges of both
 * (1 to UKR_MR_WIDE - 1 rows) in ukr_edges[rows] and ukr_half_edges[rows]. A
 * path's file defines kern_ukr_body.h's vector macros and these two row
 * counts, then includes this. */
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
#define UKR_NAME ukr_half
#define UKR_MR UKR_MR_WIDE
#include "kern_ukr_body.h"
#undef UKR_NAME
#undef UKR_MR
#undef UKR_NW
#define UKR_NW 2
#define UKR_NAME ukr_e1
#define UKR_MR 1
#include "kern_ukr_body.h"
#undef UKR_NAME
#undef UKR_MR
#define UKR_NAME ukr_e2
#define UKR_MR 2
#include "kern_ukr_body.h"
#undef UKR_NAME
#undef UKR_MR
#define UKR_NAME ukr_e3
#define UKR_MR 3
#include "kern_ukr_body.h"
#undef UKR_NAME
#undef UKR_MR
#define UKR_NAME ukr_e4
#define UKR_MR 4
#include "kern_ukr_body.h"
#undef UKR_NAME
#undef UKR_MR
#define UKR_NAME ukr_e5
#define UKR_MR 5
#include "kern_ukr_body.h"
#undef UKR_NAME
#undef UKR_MR
#if UKR_MR_WIDE > 6
#define UKR_NAME ukr_e6
#define UKR_MR 6
#include "kern_ukr_body.h"
#undef UKR_NAME
#undef UKR_MR
#endif
#if UKR_MR_WIDE > 7
#define UKR_NAME ukr_e7
#define UKR_MR 7
#include "kern_ukr_body.h"
#undef UKR_NAME
#undef UKR_MR
#endif
#undef UKR_NW
#define UKR_NW 1
#define UKR_NAME ukr_half_e1
#define UKR_MR 1
#include "kern_ukr_body.h"
#undef UKR_NAME
#undef UKR_MR
#define UKR_NAME ukr_half_e2
#define UKR_MR 2
#include "kern_ukr_body.h"
#undef UKR_NAME
#undef UKR_MR
#define UKR_NAME ukr_half_e3
#define UKR_MR 3
#include "kern_ukr_body.h"
#undef UKR_NAME
#undef UKR_MR
#define UKR_NAME ukr_half_e4
#define UKR_MR 4
#include "kern_ukr_body.h"
#undef UKR_NAME
#undef UKR_MR
#define UKR_NAME ukr_half_e5
#define UKR_MR 5
#include "kern_ukr_body.h"
#undef UKR_NAME
#undef UKR_MR
#if UKR_MR_WIDE > 6
#define UKR_NAME ukr_half_e6
#define UKR_MR 6
#include "kern_ukr_body.h"
#undef UKR_NAME
#undef UKR_MR
#endif
#if UKR_MR_WIDE > 7
#define UKR_NAME ukr_half_e7
#define UKR_MR 7
#include "kern_ukr_body.h"
#undef UKR_NAME
#undef UKR_MR
#endif
#undef UKR_NW
_Static_assert(UKR_MR_WIDE == 6 || UKR_MR_WIDE == 8, "ukr_edges covers wide tiles of 6 or 8 rows");
static const rd_kern_ukr_fn ukr_edges[RD_KERN_MR_MAX] = {0, ukr_e1, ukr_e2, ukr_e3, ukr_e4, ukr_e5,
#if UKR_MR_WIDE > 6
                                                         ukr_e6, ukr_e7
#endif
};
static const rd_kern_ukr_fn ukr_half_edges[RD_KERN_MR_MAX] = {0, ukr_half_e1, ukr_half_e2, ukr_half_e3, ukr_half_e4,
                                                              ukr_half_e5,
#if UKR_MR_WIDE > 6
                                                              ukr_half_e6, ukr_half_e7
#endif
};
